// Routes of the wearables module at the custodian: batches from the
// patient's app, early-warning rules, alerts (a list and a server-sent-events
// stream) and readings as FHIR Observations (docs/api.md, "Wearables").
#include <spdlog/spdlog.h>

#include "api/fhir.h"
#include "api/http_util.h"
#include "api/server.h"
#include "apps/wearables/wearables.h"
#include "crypto/merkle.h"
#include "offchain/wearables.h"

namespace cc::api {
namespace {

constexpr const char* kKey = "([0-9a-f]{64})";
constexpr int kMaxStreams = 8;  // SSE streams hold a server thread each

std::optional<PublicKey> KeyParam(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? PublicKey::FromHex(req.get_param_value(name)) : std::nullopt;
}

}  // namespace

void Server::WearablesRoutes() {
  http_->Post("/v1/wearables/batches", On(&Server::PostWearableBatch));
  http_->Post("/v1/wearables/erasure", On(&Server::EraseWearableData));
  http_->Get("/v1/wearables/rules", On(&Server::GetWearableRules));
  http_->Put("/v1/wearables/rules", On(&Server::PutWearableRules));
  http_->Get("/v1/wearables/alerts", On(&Server::GetWearableAlerts));
  http_->Get("/v1/wearables/alerts/stream", On(&Server::StreamWearableAlerts));
  http_->Get(std::string("/v1/wearables/devices/") + kKey + "/readings", On(&Server::GetWearableReadings));
}

// Whose alerts or readings a request is about: ?patient= (default: the
// caller), allowed for the patient and the providers they named.
Result<PublicKey> Server::WearablePatient(const httplib::Request& req, const Principal& caller) const {
  PublicKey patient = caller.key;
  if (req.has_param("patient")) {
    auto p = KeyParam(req, "patient");
    if (!p) return Status::Invalid("'patient' must be a key (64 hex digits)");
    patient = *p;
  }
  Resource r{patient, {}, ""};
  if (wearables_->MayReadAlerts(caller.key, patient)) r.readers = {caller.key.hex()};
  CC_RETURN_IF_ERROR(Authorize(caller, Operation::kReadWearableData, r));
  return patient;
}

void Server::PostWearableBatch(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  auto batch = wearables_->Ingest(caller.key, body);
  if (!batch.ok()) return ReplyError(res, batch.status());
  auto tx = admission_->SubmitAsNode(wearables::kModule, "anchor", batch->anchor);
  if (!tx.ok()) return ReplyError(res, tx.status());
  metrics_->Counter("carechain_wearable_readings_total", "") += batch->readings;
  if (WantsCommitWait(req)) WaitCommitted(*tx);
  nlohmann::json out = TxStatus(*tx, /*with_tx=*/false);
  out["readings"] = batch->readings;
  out["alerts"] = nlohmann::json::array();
  for (const auto& a : batch->alerts) out["alerts"].push_back(a.ToJson());
  ReplyJson(res, out, out["status"] == "committed" ? 200 : 202);
}

// The patient's erasure request: their wearable data here is destroyed, then
// the node confirms it on chain (wearables `erase`).
void Server::EraseWearableData(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  if (!wearables_->Keeps(caller.key))
    return ReplyError(res, Status::NotFound("none of your devices keeps its readings at " + wearables_->org()));
  auto n = wearables_->Erase(caller.key);
  if (!n.ok()) return ReplyError(res, n.status());
  spdlog::info("wearables: erased {} documents at a patient's request", *n);
  auto tx = admission_->SubmitAsNode(wearables::kModule, "erase", {{"patient", caller.key.hex()}});
  if (!tx.ok()) return ReplyError(res, tx.status());
  if (WantsCommitWait(req)) WaitCommitted(*tx);
  nlohmann::json out = TxStatus(*tx, /*with_tx=*/false);
  out["documents"] = *n;
  ReplyJson(res, out, out["status"] == "committed" ? 200 : 202);
}

void Server::GetWearableRules(const httplib::Request&, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto r = wearables_->Rules(caller.key);
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

void Server::PutWearableRules(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (Status s = wearables_->SetRules(caller.key, body); !s.ok()) return ReplyError(res, s);
  ReplyJson(res, *wearables_->Rules(caller.key));
}

// ?patient=&after=&limit=
void Server::GetWearableAlerts(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto patient = WearablePatient(req, caller);
  if (!Refuse(res, patient.status(), "policy")) return;
  QueryParams params;
  for (const auto& [k, v] : req.params) params[k] = v;
  auto r = wearables_->Alerts(*patient, req.get_param_value("after"), LimitParam(params, 100));
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

// Server-sent events: each new alert as `event: alert` with its JSON; a
// comment line every 15 s keeps proxies from closing the stream.
void Server::StreamWearableAlerts(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto patient = WearablePatient(req, caller);
  if (!Refuse(res, patient.status(), "policy")) return;
  // Start after the newest alert there is now.
  std::string after;
  for (;;) {
    auto page = wearables_->Alerts(*patient, after, 1000);
    if (!page.ok()) return ReplyError(res, page.status());
    if (page->contains("last")) after = (*page)["last"];
    if (!page->contains("next_after")) break;
  }
  if (++streams_ > kMaxStreams) {
    --streams_;
    return ReplyError(res, 503, "busy", "too many alert streams are open on this node; poll /v1/wearables/alerts");
  }
  auto seen = std::make_shared<uint64_t>(wearables_->WaitForAlerts(patient->hex(), UINT64_MAX, 0));
  auto cursor = std::make_shared<std::string>(after);
  auto idle = std::make_shared<int>(0);
  const PublicKey who = *patient;
  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, who, seen, cursor, idle](size_t, httplib::DataSink& sink) {
        // Wait a second at a time, so that a stopping server is not held up.
        if (stopping_) return false;
        const uint64_t now = wearables_->WaitForAlerts(who.hex(), *seen, 1000);
        if (now == *seen) {
          if (++*idle < 15) return true;
          *idle = 0;
          return sink.write(": keep-alive\n\n", 14);
        }
        *idle = 0;
        *seen = now;
        auto page = wearables_->Alerts(who, *cursor, 1000);
        if (!page.ok()) return false;
        for (const auto& a : (*page)["alerts"]) {
          const std::string ev = "event: alert\ndata: " + a.dump() + "\n\n";
          if (!sink.write(ev.data(), ev.size())) return false;
        }
        if (page->contains("last")) *cursor = (*page)["last"];
        return true;
      },
      [this](bool) { --streams_; });
}

// ?seq=N[&format=fhir][&index=I]: batch N's readings (or reading I with its
// Merkle path to the anchored root).
void Server::GetWearableReadings(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!wearables_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  const PublicKey device = *PublicKey::FromHex(req.matches[1].str());
  auto d = wearables::ReadDevice(chain_->store(), device);
  if (!d) return ReplyError(res, Status::NotFound("no such device"));
  const PublicKey patient = *PublicKey::FromHex((*d)["patient"].get<std::string>());
  Resource r{patient, {}, ""};
  if (wearables_->MayReadAlerts(caller.key, patient)) r.readers = {caller.key.hex()};
  if (!Refuse(res, Authorize(caller, Operation::kReadWearableData, r), "policy")) return;
  const std::string seq_s = req.get_param_value("seq");
  if (seq_s.empty() || seq_s.size() > 9 || seq_s.find_first_not_of("0123456789") != std::string::npos)
    return ReplyError(res, Status::Invalid("give seq=<batch number>"));
  const uint64_t seq = std::stoull(seq_s);
  auto anchor = wearables::ReadAnchor(chain_->store(), device, seq);
  if (!anchor) return ReplyError(res, Status::NotFound("batch " + seq_s + " of this device is not on chain"));
  auto readings = wearables_->Batch(device, seq, (*anchor)["root"]);
  if (!readings.ok()) return ReplyError(res, readings.status());
  const auto& metrics = wearables::Metrics();
  if (req.has_param("index")) {
    const std::string i_s = req.get_param_value("index");
    if (i_s.empty() || i_s.size() > 5 || i_s.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(i_s) >= readings->size())
      return ReplyError(res, Status::Invalid("index must be 0.." + std::to_string(readings->size() - 1)));
    const size_t i = std::stoull(i_s);
    std::vector<Hash256> leaves;
    for (const auto& x : *readings) leaves.push_back(wearables::ReadingLeaf(device, x));
    nlohmann::json path = nlohmann::json::array();
    for (const auto& h : merkle::Proof(leaves, i)) path.push_back(h.hex());
    const auto& x = (*readings)[i];
    return ReplyJson(res, {{"device", device.hex()}, {"seq", seq}, {"index", i}, {"count", readings->size()},
                           {"reading", {{"t", x.t}, {"metric", metrics[x.metric].name}, {"milli", x.milli}}},
                           {"path", path}, {"root", (*anchor)["root"]}, {"anchor_tx", (*anchor)["tx"]},
                           {"height", (*anchor)["height"]}});
  }
  const bool fhir = req.get_param_value("format") == "fhir";
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < readings->size(); ++i) {
    const auto& x = (*readings)[i];
    const double v = static_cast<double>(x.milli) / 1000;
    if (fhir) {
      out.push_back(fhir::Observation(device.hex().substr(0, 16) + "-" + seq_s + "-" + std::to_string(i), patient.hex(),
                                      device.hex(), x.t, metrics[x.metric].name, v));
    } else {
      out.push_back({{"t", x.t}, {"metric", metrics[x.metric].name}, {"value", v}});
    }
  }
  if (fhir) return ReplyJson(res, fhir::Bundle(std::move(out)));
  ReplyJson(res, {{"device", device.hex()}, {"seq", seq}, {"root", (*anchor)["root"]}, {"readings", out}});
}

}  // namespace cc::api

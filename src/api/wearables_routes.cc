// Routes of the wearables module at the custodian: batches from the
// patient's app, early-warning rules, alerts (a list and a server-sent-events
// stream) and readings as FHIR Observations (docs/api.md, "Wearables").
#include <spdlog/spdlog.h>

#include "api/fhir.h"
#include "api/http_util.h"
#include "api/routes.h"
#include "apps/wearables/wearables.h"
#include "crypto/merkle.h"
#include "offchain/wearables.h"

namespace cc::api {
namespace {

constexpr const char* kKey = "([0-9a-f]{64})";
constexpr int kMaxStreams = 1000;  // alert streams open at once (each holds a connection, no thread)

std::optional<PublicKey> KeyParam(const http::Request& req, const char* name) {
  return req.HasParam(name) ? PublicKey::FromHex(req.Param(name)) : std::nullopt;
}

// Whose alerts or readings a request is about: ?patient= (default: the
// caller), allowed for the patient and the providers they named.
Result<PublicKey> WearablePatient(const Context& cx, const http::Request& req, const Principal& caller) {
  PublicKey patient = caller.key;
  if (req.HasParam("patient")) {
    auto p = KeyParam(req, "patient");
    if (!p) return Status::Invalid("'patient' must be a key (64 hex digits)");
    patient = *p;
  }
  Resource r{patient, {}, ""};
  if (cx.wearables->MayReadAlerts(caller.key, patient)) r.readers = {caller.key.hex()};
  CC_RETURN_IF_ERROR(Authorize(caller, Operation::kReadWearableData, r));
  return patient;
}

void PostWearableBatch(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  auto batch = cx.wearables->Ingest(caller.key, body);
  if (!batch.ok()) return ReplyError(res, batch.status());
  auto tx = cx.admission->SubmitAsNode(wearables::kModule, "anchor", batch->anchor);
  if (!tx.ok()) return ReplyError(res, tx.status());
  cx.metrics->Counter("carechain_wearable_readings_total", "") += batch->readings;
  nlohmann::json out = {{"readings", batch->readings}, {"alerts", nlohmann::json::array()}};
  for (const auto& a : batch->alerts) out["alerts"].push_back(a.ToJson());
  cx.ReplyTxStatus(req, res, *tx, std::move(out));
}

// The patient's erasure request: their wearable data here is destroyed, then
// the node confirms it on chain (wearables `erase`).
void EraseWearableData(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  if (Status empty = RequireEmptyBody(req); !empty.ok()) return ReplyError(res, empty);
  if (!cx.wearables->Keeps(caller.key))
    return ReplyError(res, Status::NotFound("none of your devices keeps its readings at " + cx.wearables->org()));
  auto n = cx.wearables->Erase(caller.key);
  if (!n.ok()) return ReplyError(res, n.status());
  spdlog::info("wearables: erased {} documents at a patient's request", *n);
  auto tx = cx.admission->SubmitAsNode(wearables::kModule, "erase", {{"patient", caller.key.hex()}});
  if (!tx.ok()) return ReplyError(res, tx.status());
  cx.ReplyTxStatus(req, res, *tx, {{"documents", *n}});
}

void GetWearableRules(Context& cx, const http::Request&, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto r = cx.wearables->Rules(caller.key);
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

void PutWearableRules(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kSendWearableData, {caller.key, caller, ""}), "policy")) return;
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (Status s = cx.wearables->SetRules(caller.key, body); !s.ok()) return ReplyError(res, s);
  ReplyJson(res, *cx.wearables->Rules(caller.key));
}

// ?patient=&after=&limit=
void GetWearableAlerts(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto patient = WearablePatient(cx, req, caller);
  if (!cx.Refuse(res, patient.status(), "policy")) return;
  QueryParams params(req.params.begin(), req.params.end());
  auto r = cx.wearables->Alerts(*patient, req.Param("after"), LimitParam(params, 100));
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

// Server-sent events: each new alert as `event: alert` with its JSON; a
// comment line every 15 s keeps proxies from closing the stream.
void StreamWearableAlerts(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto patient = WearablePatient(cx, req, caller);
  if (!cx.Refuse(res, patient.status(), "policy")) return;
  // Start after the newest alert there is now.
  std::string after;
  for (;;) {
    auto page = cx.wearables->Alerts(*patient, after, 1000);
    if (!page.ok()) return ReplyError(res, page.status());
    if (page->contains("last")) after = (*page)["last"];
    if (!page->contains("next_after")) break;
  }
  if (++cx.streams > kMaxStreams) {
    --cx.streams;
    return ReplyError(res, 503, "busy", "too many alert streams are open on this node; poll /v1/wearables/alerts");
  }
  // Parked between events: the server polls the stream on each wake-up and
  // every second, and `next` never blocks.
  struct State {
    uint64_t seen;
    std::string cursor;
    std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();
  };
  auto st = std::make_shared<State>(State{cx.wearables->WaitForAlerts(patient->hex(), UINT64_MAX, 0), after});
  const PublicKey who = *patient;
  res.SetHeader("Cache-Control", "no-store");
  Context* c = &cx;
  res.StartStream("text/event-stream",
                  {[c, who, st](std::string* out, bool stopping) {
                     if (stopping || c->stopping) return false;
                     const uint64_t now = c->wearables->WaitForAlerts(who.hex(), st->seen, 0);
                     const auto t = std::chrono::steady_clock::now();
                     if (now == st->seen) {
                       if (t - st->last_sent >= std::chrono::seconds(15)) {
                         *out = ": keep-alive\n\n";
                         st->last_sent = t;
                       }
                       return true;
                     }
                     st->seen = now;
                     auto page = c->wearables->Alerts(who, st->cursor, 1000);
                     if (!page.ok()) return false;
                     for (const auto& a : (*page)["alerts"]) *out += "event: alert\ndata: " + a.dump() + "\n\n";
                     if (page->contains("last")) st->cursor = (*page)["last"];
                     st->last_sent = t;
                     return true;
                   },
                   [c] { --c->streams; }});
}

// ?seq=N[&format=fhir][&index=I]: batch N's readings (or reading I with its
// Merkle path to the anchored root).
void GetWearableReadings(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.wearables) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  const PublicKey device = *PublicKey::FromHex(req.matches[1]);
  auto d = wearables::ReadDevice(cx.chain->store(), device);
  if (!d) return ReplyError(res, Status::NotFound("no such device"));
  const PublicKey patient = *PublicKey::FromHex((*d)["patient"].get<std::string>());
  Resource r{patient, {}, ""};
  if (cx.wearables->MayReadAlerts(caller.key, patient)) r.readers = {caller.key.hex()};
  if (!cx.Refuse(res, Authorize(caller, Operation::kReadWearableData, r), "policy")) return;
  const std::string seq_s = req.Param("seq");
  if (seq_s.empty() || seq_s.size() > 9 || seq_s.find_first_not_of("0123456789") != std::string::npos)
    return ReplyError(res, Status::Invalid("give seq=<batch number>"));
  const uint64_t seq = std::stoull(seq_s);
  auto anchor = wearables::ReadAnchor(cx.chain->store(), device, seq);
  if (!anchor) return ReplyError(res, Status::NotFound("batch " + seq_s + " of this device is not on chain"));
  auto readings = cx.wearables->Batch(device, seq, (*anchor)["root"]);
  if (!readings.ok()) return ReplyError(res, readings.status());
  const auto& metrics = wearables::Metrics();
  if (req.HasParam("index")) {
    const std::string i_s = req.Param("index");
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
  const bool fhir = req.Param("format") == "fhir";
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

}  // namespace

void AddWearablesRoutes(Routes& r) {
  r.Post("/v1/wearables/batches", PostWearableBatch);
  r.Post("/v1/wearables/erasure", EraseWearableData);
  r.Get("/v1/wearables/rules", GetWearableRules);
  r.Put("/v1/wearables/rules", PutWearableRules);
  r.Get("/v1/wearables/alerts", GetWearableAlerts);
  r.Get("/v1/wearables/alerts/stream", StreamWearableAlerts);
  r.Get(std::string("/v1/wearables/devices/") + kKey + "/readings", GetWearableReadings);
}

}  // namespace cc::api

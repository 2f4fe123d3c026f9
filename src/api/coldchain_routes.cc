// Routes of the coldchain module: loggers' reading batches (kept off chain,
// anchored on chain), a shipment's temperature curve and a reading's proof
// (docs/api.md, "Cold chain").
#include <spdlog/spdlog.h>

#include "api/http_util.h"
#include "api/routes.h"
#include "apps/coldchain/coldchain.h"
#include "crypto/merkle.h"

namespace cc::api {
namespace {

constexpr const char* kShipmentId = "([0-9a-f]{16})";

// Where a batch lives in the off-chain store: by shipment, logger, sequence
// number and root, so a batch that never made it on chain cannot shadow the
// one that did.
std::string BatchKey(std::string_view ship, std::string_view device, uint64_t seq, std::string_view root) {
  return "coldchain/" + std::string(ship) + "/" + std::string(device) + "/" + ZeroPadded(seq, 8) + "/" +
         std::string(root);
}

Result<std::vector<coldchain::Reading>> ParseReadings(const nlohmann::json& list) {
  if (!list.is_array() || list.empty() || list.size() > coldchain::kMaxReadingsPerBatch)
    return Status::Invalid("'readings' must be a list of 1 to " + std::to_string(coldchain::kMaxReadingsPerBatch) +
                           " readings");
  std::vector<coldchain::Reading> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& r = list[i];
    if (!r.is_object() || r.size() != 2 || !r.contains("t") || !r["t"].is_number_unsigned() || !r.contains("c") ||
        !r["c"].is_number_integer() || r["c"].get<int64_t>() < coldchain::kMinCentiC ||
        r["c"].get<int64_t>() > coldchain::kMaxCentiC)
      return Status::Invalid("readings[" + std::to_string(i) +
                             "] must be {\"t\": ms since the epoch, \"c\": hundredths of a degree Celsius in "
                             "-10000..10000}");
    out.push_back({r["t"].get<uint64_t>(), static_cast<int32_t>(r["c"].get<int64_t>())});
  }
  return out;
}

nlohmann::json ReadingsJson(const std::vector<coldchain::Reading>& readings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : readings) out.push_back({r.t, r.c});
  return out;
}

std::vector<coldchain::Reading> ReadingsOf(const std::string& doc) {
  std::vector<coldchain::Reading> out;
  for (const auto& p : nlohmann::json::parse(doc)) out.push_back({p[0].get<uint64_t>(), p[1].get<int32_t>()});
  return out;
}

// Empty if the logger's summary is what its readings say; else the first
// field that differs. The Arrhenius sum may differ by one per reading (a
// logger's own exp() may round the other way).
std::string Mismatch(const coldchain::Summary& claimed, const coldchain::Summary& actual) {
  if (claimed.root != actual.root) return "root";
  if (claimed.count != actual.count) return "count";
  if (claimed.first != actual.first || claimed.last != actual.last) return "first/last";
  if (claimed.min != actual.min || claimed.max != actual.max) return "min/max";
  if (claimed.runs != actual.runs) return "runs";
  const uint64_t d = claimed.arrhenius > actual.arrhenius ? claimed.arrhenius - actual.arrhenius
                                                          : actual.arrhenius - claimed.arrhenius;
  if (d > actual.count) return "arrhenius";
  return "";
}

// At most `max_points` of `points`, keeping each bucket's coldest and
// warmest reading in time order, so excursions survive the thinning.
std::vector<coldchain::Reading> Thin(const std::vector<coldchain::Reading>& points, size_t max_points) {
  if (points.size() <= max_points) return points;
  const size_t buckets = std::max<size_t>(1, max_points / 2);
  std::vector<coldchain::Reading> out;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * points.size() / buckets, hi = (b + 1) * points.size() / buckets;
    if (lo >= hi) continue;
    size_t mn = lo, mx = lo;
    for (size_t i = lo; i < hi; ++i) {
      if (points[i].c < points[mn].c) mn = i;
      if (points[i].c > points[mx].c) mx = i;
    }
    out.push_back(points[std::min(mn, mx)]);
    if (mn != mx) out.push_back(points[std::max(mn, mx)]);
  }
  return out;
}

}  // namespace

Status MayReadShipment(const Context& cx, const Principal& caller, const std::string& id, nlohmann::json* ship) {
  auto s = coldchain::ReadShipment(cx.chain->store(), id);
  Resource r;
  if (s) r.parties = {(*s)["from"], (*s)["carrier"], (*s)["to"]};
  CC_RETURN_IF_ERROR(Authorize(caller, Operation::kReadShipment, r));
  if (!s) return Status::NotFound("no shipment " + id);
  *ship = std::move(*s);
  return Status::Ok();
}

namespace {

// Body: {"tx": the logger's signed anchor transaction (JSON), "readings":
// [{"t", "c"}, ...]}. The readings must be what the anchor summarises; they
// are stored before the anchor is admitted (a crash in between leaves a
// batch without an anchor, which the logger sends again).
void PostReadings(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kSubmit), "policy")) return;
  if (!cx.documents) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || body.size() != 2 || !body.contains("tx") || !body.contains("readings"))
    return ReplyError(res, Status::Invalid("body must be {\"tx\": the signed anchor transaction, \"readings\": [...]}"));
  auto tx = Transaction::FromJson(body["tx"]);
  if (!tx.ok()) return ReplyError(res, tx.status());
  const TxBody& b = (*tx)->body();
  if (b.module != coldchain::kModule || b.action != "anchor")
    return ReplyError(res, Status::Invalid("'tx' must be a coldchain anchor transaction"));
  auto payload = nlohmann::json::parse(b.payload, nullptr, false);
  const Module* m = cx.chain->executor().modules().Find(coldchain::kModule);
  if (Status s = m->Check("anchor", payload); !s.ok()) return ReplyError(res, s);
  const std::string id = payload["shipment"];
  auto ship = coldchain::ReadShipment(cx.chain->store(), id);
  if (!ship) return ReplyError(res, Status::NotFound("no shipment " + id));
  auto readings = ParseReadings(body["readings"]);
  if (!readings.ok()) return ReplyError(res, readings.status());
  auto actual = coldchain::Summarize(id, *readings, (*ship)["low"], (*ship)["high"], (*ship)["dh_r"]);
  if (!actual.ok()) return ReplyError(res, actual.status());
  if (std::string f = Mismatch(coldchain::SummaryOf(payload), *actual); !f.empty())
    return ReplyError(res, Status::Invalid("the readings do not match the anchor's '" + f + "'"));
  Status stored = cx.documents->PutDocument(BatchKey(id, b.actor.hex(), payload["seq"], actual->root.hex()),
                                          ReadingsJson(*readings).dump());
  if (!stored.ok()) return ReplyError(res, stored);
  if (Status s = cx.admission->Admit(*tx); !s.ok()) return ReplyError(res, s);
  cx.metrics->Counter("carechain_coldchain_readings_total", "") += readings->size();
  cx.ReplyTxStatus(req, res, (*tx)->id());
}

// ?device=<hex> (default: every logger), ?max_points=N (default 5000 per logger).
void ShipmentCurve(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  const std::string id = req.matches[1];
  nlohmann::json ship;
  if (!cx.Refuse(res, MayReadShipment(cx, caller, id, &ship), "policy")) return;
  size_t max_points = 5000;
  if (req.HasParam("max_points")) {
    const std::string v = req.Param("max_points");
    max_points = std::strtoull(v.c_str(), nullptr, 10);
    if (max_points < 2 || max_points > 100000 || v.find_first_not_of("0123456789") != std::string::npos)
      return ReplyError(res, Status::Invalid("max_points must be 2..100000"));
  }
  const Module* m = cx.chain->executor().modules().Find(coldchain::kModule);
  auto view = m->Query("shipments/" + id, {}, cx.chain->store());
  if (!view.ok()) return ReplyError(res, view.status());
  nlohmann::json loggers = nlohmann::json::array();
  for (const auto& lg : (*view)["loggers"]) {
    const std::string dev = lg["device"];
    if (req.HasParam("device") && req.Param("device") != dev) continue;
    std::vector<coldchain::Reading> points;
    nlohmann::json missing = nlohmann::json::array();
    const auto key = *PublicKey::FromHex(dev);
    for (uint64_t seq = 1; seq <= lg["batches"].get<uint64_t>(); ++seq) {
      auto anchor = coldchain::ReadAnchor(cx.chain->store(), id, key, seq);
      auto doc = cx.documents ? cx.documents->GetDocument(BatchKey(id, dev, seq, (*anchor)["root"].get<std::string>()))
                            : Result<std::string>(Status::NotFound("no store"));
      if (!doc.ok()) {
        missing.push_back(seq);  // received by another node
        continue;
      }
      auto batch = ReadingsOf(*doc);
      points.insert(points.end(), batch.begin(), batch.end());
    }
    nlohmann::json out = lg;
    out["readings"] = points.size();
    out["points"] = ReadingsJson(Thin(points, max_points));
    out["missing_batches"] = missing;
    loggers.push_back(std::move(out));
  }
  (*view)["loggers"] = loggers;
  ReplyJson(res, *view);
}

// ?device=<hex>&seq=N&index=I: reading I of batch N with its Merkle path to
// the root the logger signed, and the anchor transaction (its inclusion in
// a block is proved by GET /v1/transactions/<tx>/proof).
void ReadingProof(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  const std::string id = req.matches[1];
  nlohmann::json ship;
  if (!cx.Refuse(res, MayReadShipment(cx, caller, id, &ship), "policy")) return;
  auto device = PublicKey::FromHex(req.Param("device"));
  const std::string seq_s = req.Param("seq"), index_s = req.Param("index");
  auto number = [](const std::string& s) { return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos; };
  if (!device || !number(seq_s) || !number(index_s))
    return ReplyError(res, Status::Invalid("give device=<logger key, 64 hex digits>, seq=<batch> and index=<reading>"));
  const uint64_t seq = std::stoull(seq_s), index = std::stoull(index_s);
  auto anchor = coldchain::ReadAnchor(cx.chain->store(), id, *device, seq);
  if (!anchor) return ReplyError(res, Status::NotFound("no batch " + seq_s + " of this logger on chain"));
  if (!cx.documents) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  const std::string root = (*anchor)["root"];
  auto doc = cx.documents->GetDocument(BatchKey(id, device->hex(), seq, root));
  if (!doc.ok()) return ReplyError(res, Status::NotFound("this node does not hold the batch (another node received it)"));
  auto readings = ReadingsOf(*doc);
  if (index >= readings.size()) return ReplyError(res, Status::NotFound("the batch has " + std::to_string(readings.size()) + " readings"));
  std::vector<Hash256> leaves;
  leaves.reserve(readings.size());
  for (const auto& r : readings) leaves.push_back(coldchain::ReadingLeaf(id, r));
  nlohmann::json path = nlohmann::json::array();
  for (const auto& h : merkle::Proof(leaves, index)) path.push_back(h.hex());
  auto tx_id = TxId::FromHex((*anchor)["tx"].get<std::string>());
  nlohmann::json out = {{"shipment", id},
                        {"device", device->hex()},
                        {"seq", seq},
                        {"index", index},
                        {"count", readings.size()},
                        {"reading", {{"t", readings[index].t}, {"c", readings[index].c}}},
                        {"path", path},
                        {"root", root},
                        {"anchor", cx.TxStatus(*tx_id, /*with_tx=*/true)}};
  ReplyJson(res, out);
}

}  // namespace

void AddColdchainRoutes(Routes& r) {
  r.Post("/v1/coldchain/batches", PostReadings);
  r.Get(std::string("/v1/coldchain/shipments/") + kShipmentId + "/curve", ShipmentCurve);
  r.Get(std::string("/v1/coldchain/shipments/") + kShipmentId + "/readings", ReadingProof);
}

}  // namespace cc::api

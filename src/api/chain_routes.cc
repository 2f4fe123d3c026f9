// The ledger's own routes: health, info, metrics, transactions, blocks,
// checkpoints, proofs, nonces, raw state and module queries (docs/api.md).
#include <algorithm>

#include "api/http_util.h"
#include "api/routes.h"
#include "codec/varint.h"
#include "ledger/proof.h"

namespace cc::api {
namespace {

constexpr const char* kHex64 = "([0-9a-fA-F]{64})";

void Health(Context& cx, const http::Request&, http::Response& res) {
  const uint64_t height = cx.chain->head().height;
  if (cx.orderer->healthy()) return ReplyJson(res, {{"status", "ok"}, {"height", height}});
  nlohmann::json d = cx.orderer->Describe();
  if (d.value("diverged", false)) {
    return ReplyJson(res, {{"status", "diverged"}, {"height", height},
                           {"message", d.value("alarm", "this node's chain differs from the network's")}}, 503);
  }
  ReplyJson(res, {{"status", "failed"}, {"height", height},
                  {"message", "ordering stopped after a failed commit; see the log"}}, 503);
}

void GetMetrics(Context& cx, const http::Request&, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kReadMetrics), "policy")) return;
  cx.metrics->SetGauge("carechain_block_height", static_cast<double>(cx.chain->head().height));
  cx.metrics->SetGauge("carechain_mempool_size", static_cast<double>(cx.orderer->PendingCount()));
  nlohmann::json d = cx.orderer->Describe();
  if (d["ordering"] == "etcd") {
    cx.metrics->SetGauge("carechain_is_proposer", d.value("proposer", false) ? 1 : 0);
    cx.metrics->SetGauge("carechain_divergence_alarm", d.value("diverged", false) ? 1 : 0);
    cx.metrics->SetGauge("carechain_certified_height", d.value("last_certified", 0.0));
  }
  res.SetContent(cx.metrics->Render(), "text/plain; version=0.0.4");
}

void GetInfo(Context& cx, const http::Request&, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kInfo), "policy")) return;
  ReplyJson(res, cx.Info());
}

void Submit(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kSubmit), "policy")) return;
  Result<TxPtr> tx = Status::Invalid("empty body");
  std::string type = req.Header("content-type");
  if (type.starts_with("application/octet-stream")) {
    tx = Transaction::Decode(req.body);
  } else if (type.empty() || type.starts_with("application/json")) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded()) return ReplyError(res, Status::Invalid("body is not valid JSON"));
    tx = Transaction::FromJson(j);
  } else {
    return ReplyError(res, 415, "unsupported_media_type", "send application/json or application/octet-stream");
  }
  if (!tx.ok()) return ReplyError(res, tx.status());
  Status s = cx.admission->Admit(*tx);
  if (!s.ok()) return ReplyError(res, s);
  cx.ReplyTxStatus(req, res, (*tx)->id());
}

// Body: a sequence of (varint length, encoded transaction). Each is admitted
// on its own; the reply lists every id with "pending" or its error.
void SubmitBatch(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kSubmit), "policy")) return;
  codec::Reader r(req.body);
  nlohmann::json results = nlohmann::json::array();
  size_t accepted = 0;
  while (r.remaining() > 0) {
    std::string_view raw;
    Status s = r.Bytes("batch.tx", kMaxEncodedTxBytes, &raw);
    if (!s.ok()) {
      results.push_back({{"error", {{"code", CodeName(s.code())}, {"message", s.message()}}}});
      break;  // framing is lost
    }
    auto tx = Transaction::Decode(raw);
    if (tx.ok()) s = cx.admission->Admit(*tx); else s = tx.status();
    if (s.ok()) {
      accepted++;
      results.push_back({{"id", (*tx)->id().hex()}, {"status", "pending"}});
    } else {
      nlohmann::json e = {{"error", {{"code", CodeName(s.code())}, {"message", s.message()}}}};
      if (tx.ok()) e["id"] = (*tx)->id().hex();
      results.push_back(std::move(e));
    }
  }
  ReplyJson(res, {{"accepted", accepted}, {"results", std::move(results)}}, accepted ? 202 : 400);
}

void GetTx(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  TxId id = *TxId::FromHex(req.matches[1]);
  nlohmann::json st = cx.TxStatus(id, /*with_tx=*/true);
  // Chain readers see every transaction; others only their own, and learn
  // nothing about the existence of the rest.
  if (!Authorize(caller, Operation::kReadChain).ok()) {
    std::optional<PublicKey> signer;
    if (st.contains("tx")) signer = PublicKey::FromHex(st["tx"]["actor"].get<std::string>());
    if (!signer || !Authorize(caller, Operation::kReadOwnTx, {signer, {}, ""}).ok()) {
      return ReplyError(res, Status::NotFound("no transaction " + id.hex() + " that this key may read"));
    }
  }
  if (st["status"] == "corrupt") return ReplyError(res, Status::Corruption(st["message"]));
  if (st["status"] == "unknown") return ReplyError(res, Status::NotFound("no transaction " + id.hex()));
  ReplyJson(res, st);
}

void ReplyBlock(Context& cx, const http::Request& req, http::Response& res, uint64_t height) {
  const uint64_t head = cx.chain->head().height;
  if (height > head) {
    return ReplyError(res, Status::NotFound("no block " + req.matches[1] + "; the head is at " + std::to_string(head)));
  }
  if (req.Param("format") == "binary") {
    auto raw = cx.chain->store().GetBlockRaw(height);
    if (!raw.ok()) return ReplyError(res, raw.status());
    return res.SetContent(std::move(*raw), "application/octet-stream");
  }
  auto block = cx.chain->store().GetBlock(height);
  if (!block.ok()) return ReplyError(res, block.status());
  ReplyJson(res, (*block)->ToJson(req.Param("txs") == "full"));
}

void GetBlock(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kReadChain), "policy")) return;
  const std::string& which = req.matches[1];
  const uint64_t height = which == "latest" ? cx.chain->head().height : std::strtoull(which.c_str(), nullptr, 10);
  if (height > cx.chain->head().height && req.HasParam("wait_ms")) {
    // Long poll: followers and load drivers wait for the next block, parked.
    const uint64_t wait = std::min<uint64_t>(std::strtoull(req.Param("wait_ms").c_str(), nullptr, 10),
                                             cx.options.max_wait_ms);
    const http::Request* q = &req;  // the server keeps the request until the reply is written
    return res.Defer(std::chrono::steady_clock::now() + std::chrono::milliseconds(wait),
                     [&cx, q, height](http::Response& r, bool final) {
                       if (!final && !cx.stopping && cx.chain->head().height < height) return false;
                       ReplyBlock(cx, *q, r, height);
                       return true;
                     });
  }
  ReplyBlock(cx, req, res, height);
}

void GetCheckpoint(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kReadChain), "policy")) return;
  auto info = cx.orderer->CheckpointInfo(std::strtoull(req.matches[1].c_str(), nullptr, 10));
  if (!info.ok()) return ReplyError(res, info.status());
  ReplyJson(res, *info);
}

void GetProof(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  TxId id = *TxId::FromHex(req.matches[1]);
  auto loc = cx.chain->store().FindTx(id);
  if (!loc) return ReplyError(res, Status::NotFound("transaction " + id.hex() + " is not committed"));
  auto block = cx.chain->store().GetBlock(loc->height);
  if (!block.ok()) return ReplyError(res, block.status());
  if (loc->index >= (*block)->txs().size() || (*block)->txs()[loc->index]->id() != id) {
    return ReplyError(res, Status::Corruption("the transaction index points at another transaction"));
  }
  const PublicKey signer = (*block)->txs()[loc->index]->body().actor;
  if (!Authorize(caller, Operation::kReadOwnTx, {signer, {}, ""}).ok()) {
    return ReplyError(res, Status::NotFound("transaction " + id.hex() + " is not committed"));
  }
  ReplyJson(res, MakeProof(**block, loc->index));
}

void GetNonce(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  PublicKey k = *PublicKey::FromHex(req.matches[1]);
  if (!cx.Refuse(res, Authorize(c, Operation::kReadNonce, {k, {}, ""}), "policy")) return;
  ReplyJson(res, {{"actor", k.hex()}, {"next_nonce", cx.orderer->NextNonce(k)}});
}

void GetState(Context& cx, const http::Request& req, http::Response& res, const Principal& c) {
  if (!cx.Refuse(res, Authorize(c, Operation::kReadState), "policy")) return;
  const std::string& module = req.matches[1];
  if (!cx.chain->executor().modules().Find(module) && module != "ledger") {
    return ReplyError(res, Status::NotFound("no module '" + module + "'"));
  }
  std::string prefix = module + "/" + req.Param("prefix");
  std::string start = req.HasParam("after") ? module + "/" + req.Param("after") + std::string(1, '\0') : "";
  size_t limit = std::clamp<size_t>(std::strtoull(req.Param("limit", "100").c_str(), nullptr, 10), 1, 1000);
  nlohmann::json entries = nlohmann::json::array();
  std::string last;
  cx.chain->store().Scan(prefix, start, [&](std::string_view k, std::string_view v) {
    nlohmann::json value = nlohmann::json::parse(v, nullptr, false);
    if (value.is_discarded()) value = {{"hex", ToHex(AsBytes(v))}};
    last = std::string(k.substr(module.size() + 1));
    entries.push_back({{"key", last}, {"value", std::move(value)}});
    return entries.size() < limit;
  });
  nlohmann::json out = {{"module", module}, {"entries", std::move(entries)}};
  if (out["entries"].size() == limit) out["next_after"] = last;
  ReplyJson(res, out);
}

void ModuleQuery(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  const Module* m = cx.chain->executor().modules().Find(req.matches[1]);
  if (!m) return ReplyError(res, Status::NotFound("no module '" + req.matches[1] + "'"));
  QueryParams params(req.params.begin(), req.params.end());
  const std::string& path = req.matches[2];
  Status allowed = AuthorizeQuery(cx, m->name(), path, &params, caller);
  if (!allowed.ok() && allowed.code() != Code::kPermissionDenied) return ReplyError(res, allowed);
  if (!cx.Refuse(res, allowed, "policy")) return;
  auto r = m->Query(path, params, cx.chain->store());
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

}  // namespace

void AddChainRoutes(Routes& r) {
  r.Public("GET", "/healthz", Health);
  r.Get("/metrics", GetMetrics);
  r.Get("/v1/info", GetInfo);
  r.Post("/v1/transactions", Submit);
  r.Post("/v1/transactions/batch", SubmitBatch);
  r.Get(std::string("/v1/transactions/") + kHex64, GetTx);
  r.Get(R"(/v1/blocks/(latest|\d{1,19}))", GetBlock);
  r.Get(R"(/v1/checkpoints/(\d{1,19}))", GetCheckpoint);
  r.Get(std::string("/v1/proofs/") + kHex64, GetProof);
  r.Get(std::string("/v1/actors/") + kHex64 + "/nonce", GetNonce);
  r.Get(R"(/v1/state/([a-z0-9_]{1,32}))", GetState);
  r.Get(R"(/v1/modules/([a-z0-9_]{1,32})/(.+))", ModuleQuery);
}

}  // namespace cc::api

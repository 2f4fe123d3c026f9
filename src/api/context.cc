#include "api/context.h"

#include "api/http_util.h"

namespace cc::api {

Context::Context(Chain* chain, Orderer* orderer, admission::Admission* admission, Metrics* metrics,
                 ApiOptions options, OffchainServices offchain)
    : chain(chain),
      orderer(orderer),
      admission(admission),
      metrics(metrics),
      options(std::move(options)),
      gatekeeper(offchain.gatekeeper),
      documents(offchain.documents),
      wearables(offchain.wearables),
      review_texts(offchain.review_texts),
      research(wearables ? std::make_unique<offchain::ResearchDesk>(wearables, Clock::System()) : nullptr),
      authenticator(Clock::System(), AuthenticatorOptions::Sized(this->options.signature_window_s,
                                                                 this->options.max_registered_nonces,
                                                                 this->options.max_unregistered_nonces)),
      per_actor(Clock::System(), this->options.requests_per_s_per_actor,
                this->options.requests_per_s_per_actor + this->options.actor_burst),
      per_address(Clock::System(), this->options.requests_per_s_per_address,
                  2 * this->options.requests_per_s_per_address),
      pack_checks(Clock::System(), this->options.pack_checks_per_s_per_address,
                  2 * this->options.pack_checks_per_s_per_address) {
  chain->OnCommit([this](const BlockPtr& b) { OnCommit(b); });
}

Context::~Context() = default;

bool Context::Refuse(http::Response& res, const Status& s, std::string_view reason) const {
  if (s.ok()) return true;
  metrics->Counter("carechain_http_refused_total", "reason=\"" + std::string(reason) + "\"")++;
  ReplyError(res, s);
  return false;
}

void Context::OnCommit(const BlockPtr& block) {
  metrics->Counter("carechain_blocks_committed_total")++;
  metrics->Counter("carechain_tx_committed_total") += block->txs().size();
}

nlohmann::json Context::TxStatus(const TxId& id, bool with_tx) const {
  auto loc = chain->store().FindTx(id);
  if (!loc) {
    return {{"id", id.hex()}, {"status", orderer->IsPending(id) ? "pending" : "unknown"}};
  }
  nlohmann::json j = {{"id", id.hex()}, {"status", "committed"}, {"height", loc->height}, {"index", loc->index}};
  auto block = chain->store().GetBlock(loc->height);
  if (block.ok() && (loc->index >= (*block)->txs().size() || (*block)->txs()[loc->index]->id() != id)) {
    return {{"id", id.hex()}, {"status", "corrupt"},
            {"message", "the transaction index points at another transaction; run carechain verify"}};
  }
  if (block.ok()) {
    const TxResult& r = (*block)->results()[loc->index];
    j["block_hash"] = (*block)->hash().hex();
    j["block_time_ms"] = (*block)->header().time_ms;
    j["result"] = {{"code", TxCodeName(r.code)}, {"detail", r.detail}};
    if (with_tx) j["tx"] = (*block)->txs()[loc->index]->ToJson();
  }
  return j;
}

bool Context::Settled(const TxId& id) const {
  return stopping || chain->store().FindTx(id).has_value() || !orderer->IsPending(id);
}

void Context::AfterCommit(const http::Request& req, http::Response& res, const TxId& id,
                          std::function<void(http::Response&)> reply) {
  if (!WantsCommitWait(req) || Settled(id)) return reply(res);
  res.Defer(std::chrono::steady_clock::now() + std::chrono::milliseconds(options.max_wait_ms),
            [this, id, reply = std::move(reply)](http::Response& r, bool final) {
              if (!final && !Settled(id)) return false;
              reply(r);
              return true;
            });
}

void Context::ReplyTxStatus(const http::Request& req, http::Response& res, const TxId& id, nlohmann::json extra) {
  AfterCommit(req, res, id, [this, id, extra = std::move(extra)](http::Response& r) {
    nlohmann::json st = TxStatus(id, /*with_tx=*/false);
    st.update(extra);
    ReplyJson(r, st, st["status"] == "committed" ? 200 : 202);
  });
}

nlohmann::json Context::Info() const {
  ChainHead h = chain->head();
  const Genesis& g = chain->executor().genesis();
  nlohmann::json ordering = orderer->Describe();
  nlohmann::json j = {{"chain_id", g.chain_id},   {"genesis_hash", g.hash.hex()}, {"height", h.height},
                      {"head_hash", h.hash.hex()}, {"state_root", h.digest.Root().hex()},
                      {"node_key", chain->node_key().hex()}, {"ordering", ordering["ordering"]},
                      {"max_tx_bytes", g.params.max_tx_bytes}, {"version", "0.1.0"}};
  if (ordering.size() > 1) j["cluster"] = std::move(ordering);
  return j;
}

}  // namespace cc::api

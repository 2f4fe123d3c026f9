#include "admission/admission.h"

#include <string>

#include "codec/canonical_json.h"
#include "ledger/executor.h"
#include "ledger/module.h"

namespace cc::admission {

Admission::Admission(Chain* chain, Orderer* orderer, Metrics* metrics, Clock* clock)
    : chain_(chain),
      orderer_(orderer),
      metrics_(metrics),
      clock_(clock),
      // Created now: a scraper sees a zero, not a gap.
      admitted_(metrics->Counter("carechain_tx_admitted_total")) {
  chain_->OnCommit([this](const BlockPtr& b) { OnCommit(b); });
}

Status Admission::Admit(const TxPtr& tx) {
  Status s = chain_->executor().CheckTx(*tx);
  // The cheap refusals before the signature check (a node forwarding what
  // the proposer has, or a client retrying what committed).
  if (s.ok() && orderer_->IsPending(tx->id())) s = Status::Exists("transaction " + tx->id().hex() + " is already pending");
  if (s.ok() && Executor::LastNonce(chain_->store(), tx->body().actor) >= tx->body().nonce) {
    s = Status::Precondition("nonce " + std::to_string(tx->body().nonce) + " was already used");
  }
  if (s.ok() && !tx->VerifySignature()) s = Status::Invalid("bad signature");
  if (s.ok()) {
    const ActorAuthority* auth = chain_->executor().modules().authority();
    if (auth && !auth->IsActive(chain_->store(), tx->body().actor)) {
      s = Status::Denied("actor " + tx->body().actor.hex() + " is not registered or is revoked");
    }
  }
  if (s.ok()) {
    // Recorded before the hand-over: the block may commit before Submit returns.
    const uint64_t now = clock_->MonotonicUs();
    bool inserted;
    {
      std::lock_guard<std::mutex> lock(latency_mu_);
      // Bounded: entries of dropped transactions are never erased otherwise.
      if (admitted_us_.size() > kMaxTracked) admitted_us_.clear();
      inserted = admitted_us_.emplace(tx->id(), now).second;
    }
    s = orderer_->Submit(tx);
    if (!s.ok() && inserted) {
      std::lock_guard<std::mutex> lock(latency_mu_);
      admitted_us_.erase(tx->id());
    }
  }
  if (s.ok()) {
    admitted_++;
  } else {
    metrics_->Counter("carechain_tx_refused_total", "reason=\"" + std::string(CodeName(s.code())) + "\"")++;
  }
  return s;
}

Result<TxId> Admission::SubmitAsNode(std::string_view module, std::string_view action,
                                     const nlohmann::json& payload) {
  CC_ASSIGN_OR_RETURN(std::string canonical, codec::ToCanonicalJson(payload));
  // From the nonce to the hand-over: another node transaction taking the
  // same nonce, or the next one overtaking this one, would be refused.
  std::lock_guard<std::mutex> lock(node_mu_);
  TxBody b;
  b.chain_id = chain_->executor().genesis().chain_id;
  b.nonce = orderer_->NextNonce(chain_->node_key());
  b.module = std::string(module);
  b.action = std::string(action);
  b.payload = std::move(canonical);
  TxPtr tx = chain_->SignAsNode(std::move(b));
  CC_RETURN_IF_ERROR(Admit(tx));
  return tx->id();
}

void Admission::OnCommit(const BlockPtr& block) {
  const uint64_t now = clock_->MonotonicUs();
  std::lock_guard<std::mutex> lock(latency_mu_);
  for (const auto& tx : block->txs()) {
    auto it = admitted_us_.find(tx->id());
    if (it == admitted_us_.end()) continue;
    metrics_->commit_latency().Observe(static_cast<double>(now - it->second) / 1e6);
    admitted_us_.erase(it);
  }
}

}  // namespace cc::admission

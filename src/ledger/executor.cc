#include "ledger/executor.h"

#include "codec/canonical_json.h"
#include "codec/varint.h"

namespace cc {

std::string Executor::NonceKey(const PublicKey& actor) { return "ledger/nonce/" + actor.hex(); }

uint64_t Executor::LastNonce(const StateReader& state, const PublicKey& actor) {
  auto v = state.Get(NonceKey(actor));
  if (!v || v->size() != 8) return 0;
  return ReadBigEndian64(reinterpret_cast<const uint8_t*>(v->data()));
}

Status Executor::CheckTx(const Transaction& tx) const {
  const TxBody& b = tx.body();
  if (tx.encoded().size() > genesis_->params.max_tx_bytes) {
    return Status::TooLarge("transaction is " + std::to_string(tx.encoded().size()) +
                            " bytes, limit " + std::to_string(genesis_->params.max_tx_bytes));
  }
  if (b.chain_id != genesis_->chain_id) {
    return Status::Invalid("wrong chain id '" + b.chain_id + "', this network is '" +
                           genesis_->chain_id + "'");
  }
  if (b.nonce == 0) return Status::Invalid("nonce starts at 1");
  const Module* m = modules_->Find(b.module);
  if (!m) return Status::Invalid("unknown module '" + b.module + "'");
  CC_ASSIGN_OR_RETURN(nlohmann::json payload, codec::ParseCanonicalJson(b.payload));
  Status s = m->Check(b.action, payload);
  if (!s.ok()) return Status(s.code(), b.module + "." + b.action + ": " + s.message());
  return Status::Ok();
}

Hash256 Executor::ChangesHash(const WriteSet& writes) {
  Hasher h;
  h.Update(std::string_view("carechain:changes:v1"));
  for (const auto& [k, v] : writes) {
    codec::Writer w;
    w.Bytes(k).U8(v ? 1 : 0);
    if (v) w.Bytes(*v);
    h.Update(w.data());
  }
  return h.Finish();
}

StateDigest Executor::Advance(const StateReader& base, const StateDigest& before,
                              const WriteSet& writes) const {
  StateDigest d = before;
  for (const auto& [k, v] : writes) {
    if (auto old = base.Get(k)) d.Remove(k, *old);
    if (v) d.Add(k, *v);
  }
  return d;
}

Result<BlockExecution> Executor::ExecuteBlock(const StateReader& base, const StateDigest& before,
                                              uint64_t height, uint64_t time_ms,
                                              const std::vector<TxPtr>& txs,
                                              size_t* bad_index, bool prechecked) const {
  Overlay block_state(&base);
  BlockExecution out;
  out.results.reserve(txs.size());
  const ActorAuthority* authority = modules_->authority();
  for (size_t i = 0; i < txs.size(); ++i) {
    const Transaction& tx = *txs[i];
    Status st = prechecked ? Status::Ok() : CheckTx(tx);
    if (!st.ok()) {
      if (bad_index) *bad_index = i;
      return Status::Invalid("tx " + std::to_string(i) + ": " + st.message());
    }
    uint64_t last = LastNonce(block_state, tx.body().actor);
    if (tx.body().nonce != last + 1) {
      if (bad_index) *bad_index = i;
      return Status::Invalid("tx " + std::to_string(i) + ": nonce " +
                             std::to_string(tx.body().nonce) + ", expected " +
                             std::to_string(last + 1));
    }
    std::string nonce;
    AppendBigEndian64(&nonce, tx.body().nonce);
    block_state.Put(NonceKey(tx.body().actor), std::move(nonce));

    if (authority && !authority->IsActive(block_state, tx.body().actor)) {
      out.results.push_back(TxResult::Reject(TxCode::kRevokedActor, "actor is not registered or revoked"));
      continue;
    }
    // Canonical: checked above or at admission.
    nlohmann::json payload = nlohmann::json::parse(tx.body().payload, nullptr, false);
    TxContext ctx{tx, payload, height, time_ms};
    Overlay tx_state(&block_state);
    TxResult r = modules_->Find(tx.body().module)->Execute(ctx, tx_state);
    if (r.detail.size() > kMaxResultDetail) {
      // Cut on a UTF-8 character boundary: the detail is shown as JSON text.
      size_t n = kMaxResultDetail;
      while (n > 0 && (static_cast<uint8_t>(r.detail[n]) & 0xC0) == 0x80) --n;
      r.detail.resize(n);
    }
    if (r.ok()) block_state.Absorb(std::move(tx_state));
    out.results.push_back(std::move(r));
  }
  out.writes = block_state.writes();
  out.changes_hash = ChangesHash(out.writes);
  out.digest = Advance(base, before, out.writes);
  return out;
}

Result<BlockExecution> Executor::ExecuteGenesis(const StateReader& empty) const {
  Overlay state(&empty);
  for (const auto& m : modules_->modules()) {
    Status s = m->InitGenesis(genesis_->doc, state);
    if (!s.ok()) return Status(s.code(), "genesis: " + std::string(m->name()) + ": " + s.message());
  }
  BlockExecution out;
  out.writes = state.writes();
  out.changes_hash = ChangesHash(out.writes);
  out.digest = Advance(empty, StateDigest(), out.writes);
  return out;
}

BlockHeader Executor::GenesisHeader(const BlockExecution& e) const {
  BlockHeader h;
  h.chain_id = genesis_->chain_id;
  h.height = 0;
  h.time_ms = genesis_->time_ms;
  h.tx_root = genesis_->hash;
  h.changes_hash = e.changes_hash;
  h.state_root = e.digest.Root();
  h.tx_count = 0;
  return h;
}

}  // namespace cc

// Admission: the checks a transaction passes before it is handed to the
// orderer, for every way one enters the node: a client's submission through
// the API, a module route's (cold-chain readings), and the node's own
// node-signed transactions (the gatekeeper's access log and erasure
// receipts, wearables anchors and erasures, review-text erasure receipts).
//
// Admit() refuses, in this order (the cheap refusals first, so that
// duplicates and replays cost no signature check):
//   1. Executor::CheckTx: size, chain id, nonce >= 1, module, canonical
//      payload, the module's schema                  its own code
//   2. the id is already pending at the orderer      kAlreadyExists
//   3. the nonce is not above the actor's committed
//      last nonce                                    kFailedPrecondition
//   4. the Ed25519 signature                         kInvalidArgument
//   5. the signer is not a registered, active actor
//      or node key (ActorAuthority::IsActive on the
//      committed state)                              kPermissionDenied
//   6. Orderer::Submit (the mempool: exact next nonce counting in-flight
//      transactions, duplicates, capacity; closed or failed ordering) its code
// and counts carechain_tx_admitted_total, or
// carechain_tx_refused_total{reason="<code name>"} (util/status.h CodeName).
//
// Commit latency: the admission time of each admitted transaction is kept
// until a block commits it, which observes carechain_commit_latency_seconds
// (Metrics::commit_latency). A transaction that never commits (dropped) is
// forgotten when more than kMaxTracked are kept: the map is cleared.
//
// Thread safety: every method may be called from any thread at once. The
// signature check runs on the caller's thread (the API's pool threads), so
// admission uses every core that submits. SubmitAsNode() calls run one at a
// time (node_mu_), so the node key's nonces reach the orderer in order.
//
// Lifetime: `chain`, `orderer`, `metrics` and `clock` must outlive the
// Admission. The constructor registers a Chain::OnCommit listener, which a
// Chain cannot remove: construct the Admission before the orderer starts
// and destroy it only after the orderer stopped committing.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "ledger/block.h"
#include "ledger/chain.h"
#include "ledger/transaction.h"
#include "ordering/orderer.h"
#include "util/env.h"
#include "util/metrics.h"
#include "util/status.h"

namespace cc::admission {

class Admission {
 public:
  // Admission times kept for the commit-latency histogram at most.
  static constexpr size_t kMaxTracked = 2'000'000;

  Admission(Chain* chain, Orderer* orderer, Metrics* metrics, Clock* clock = Clock::System());
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Checks `tx` (above) and hands it to the orderer. OK once the orderer
  // queued it; otherwise the first refusal, and nothing was queued.
  [[nodiscard]] Status Admit(const TxPtr& tx);

  // Makes a transaction of the node itself: canonical JSON of `payload`
  // (kInvalidArgument if it has none, e.g. a fraction), signed with the node
  // key under the node's next nonce (Orderer::NextNonce, which counts its
  // in-flight transactions), then Admit(). Returns its id once queued.
  [[nodiscard]] Result<TxId> SubmitAsNode(std::string_view module, std::string_view action,
                                          const nlohmann::json& payload);

 private:
  // Chain::OnCommit listener (on the committing thread): observes the commit
  // latency of the block's transactions this node admitted.
  void OnCommit(const BlockPtr& block);

  Chain* const chain_;
  Orderer* const orderer_;
  Metrics* const metrics_;
  Clock* const clock_;
  std::atomic<uint64_t>& admitted_;  // carechain_tx_admitted_total

  std::mutex node_mu_;  // held while a node transaction takes its nonce and is admitted

  std::mutex latency_mu_;
  std::unordered_map<TxId, uint64_t, DigestHash> admitted_us_;  // id -> MonotonicUs; GUARDED_BY(latency_mu_)
};

}  // namespace cc::admission

// Transactions waiting for a block, in arrival order, with per-actor nonce
// bookkeeping so that an actor can have many transactions in flight.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ledger/state.h"
#include "ledger/transaction.h"
#include "util/status.h"

namespace cc {

class Mempool {
 public:
  // `committed` is the committed state (for actors' last nonces).
  Mempool(const StateReader* committed, size_t capacity)
      : committed_(committed), capacity_(capacity) {}

  // Adds a transaction that passed the stateless checks and the signature
  // check. Fails with kAlreadyExists for a duplicate, kFailedPrecondition if
  // the nonce is not the actor's next one, kUnavailable when full or closed.
  Status Add(TxPtr tx);

  // Removes and returns up to `max` transactions, oldest first. They stay
  // "in flight" (pending for queries, counted for nonces) until Done().
  std::vector<TxPtr> Take(size_t max);

  // The orderer is finished with `txs`: committed (nonces now in state) or
  // dropped (the actor's later in-flight transactions then fail their nonce
  // check, and its next nonce is the dropped one's again).
  void Done(const std::vector<TxPtr>& txs, bool committed);

  // Puts transactions taken by Take() back at the front, in their order
  // (a proposer that lost its turn). They stay counted as in flight; the
  // queue may then exceed its capacity until they are taken again.
  void Requeue(const std::vector<TxPtr>& txs);

  // `block_txs` were committed in a block another node proposed: those
  // queued here leave the queue as committed; queued transactions of the
  // same actors with a nonce now used leave it as dropped (returned).
  std::vector<TxPtr> Committed(const std::vector<TxPtr>& block_txs);

  // Removes queued transactions that can never commit (done, not committed).
  void Drop(const std::vector<TxPtr>& txs);

  // A copy of the queue, oldest first.
  std::vector<TxPtr> Snapshot() const;

  // Waits until at least `n` are queued, the deadline passes or Close().
  // Returns the number queued.
  size_t WaitFor(size_t n, std::chrono::steady_clock::time_point deadline);
  // Waits until something is queued or Close(). Returns the number queued.
  size_t WaitAny();
  void Close();

  // The nonce the actor's next transaction must carry, counting in-flight ones.
  uint64_t NextNonce(const PublicKey& actor) const;

  size_t size() const;
  bool Contains(const TxId& id) const;

 private:
  // Done() for one transaction. REQUIRES: mu_ held.
  void DoneLocked(const TxPtr& tx, bool committed);

  struct ActorEntry {
    uint64_t last_nonce = 0;  // highest nonce accepted
    uint64_t in_flight = 0;   // accepted, not yet Done()
  };

  const StateReader* committed_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TxPtr> queue_;                                         // GUARDED_BY(mu_)
  std::unordered_map<PublicKey, ActorEntry, PublicKeyHash> actors_;  // GUARDED_BY(mu_)
  std::unordered_set<TxId, DigestHash> ids_;                         // GUARDED_BY(mu_)
  bool closed_ = false;                                              // GUARDED_BY(mu_)
};

}  // namespace cc

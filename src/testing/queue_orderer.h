// An Orderer for unit tests: a real Mempool (nonce order, duplicates,
// capacity) that cuts no blocks by itself. The test takes what was queued
// and commits it when it wants (ChainFixture::Propose), then calls Done().
#pragma once

#include <atomic>
#include <limits>

#include "ledger/chain.h"
#include "ordering/mempool.h"
#include "ordering/orderer.h"

namespace cc::testing {

class QueueOrderer : public Orderer {
 public:
  explicit QueueOrderer(Chain* chain, size_t capacity = 100000) : mempool_(&chain->store(), capacity) {}

  Status Start() override { return Status::Ok(); }
  void Stop() override { mempool_.Close(); }
  Status Submit(TxPtr tx) override {
    if (refuse) return Status::Unavailable("the test's orderer refuses transactions");
    Status s = mempool_.Add(std::move(tx));
    if (s.ok()) submitted++;
    return s;
  }
  bool IsPending(const TxId& id) const override { return mempool_.Contains(id); }
  size_t PendingCount() const override { return mempool_.size(); }
  uint64_t NextNonce(const PublicKey& actor) const override { return mempool_.NextNonce(actor); }
  bool healthy() const override { return true; }
  nlohmann::json Describe() const override { return {{"ordering", "test"}}; }

  // Everything queued, oldest first; in flight (pending) until Done().
  std::vector<TxPtr> Take() { return mempool_.Take(std::numeric_limits<size_t>::max()); }
  void Done(const std::vector<TxPtr>& txs, bool committed) { mempool_.Done(txs, committed); }

  std::atomic<bool> refuse{false};   // Submit() answers kUnavailable
  std::atomic<size_t> submitted{0};  // transactions queued so far

 private:
  Mempool mempool_;
};

}  // namespace cc::testing

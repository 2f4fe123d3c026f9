// The solo orderer: one node cuts a block when `max_block_txs` transactions
// are waiting or `block_interval_ms` after the first one arrived, whichever
// comes first, and commits it.
//
// Thread safety: Submit() is thread-safe; one internal thread cuts blocks.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "ledger/chain.h"
#include "ordering/mempool.h"
#include "ordering/orderer.h"

namespace cc {

struct SoloOptions {
  size_t max_block_txs = 2000;
  uint64_t block_interval_ms = 10;
  size_t mempool_capacity = 200000;
};

class SoloOrderer : public Orderer {
 public:
  SoloOrderer(Chain* chain, SoloOptions options);
  ~SoloOrderer() override;

  Status Start() override;
  void Stop() override;
  Status Submit(TxPtr tx) override { return mempool_.Add(std::move(tx)); }
  bool IsPending(const TxId& id) const override { return mempool_.Contains(id); }
  size_t PendingCount() const override { return mempool_.size(); }
  uint64_t NextNonce(const PublicKey& actor) const override { return mempool_.NextNonce(actor); }
  bool healthy() const override { return !failed_; }
  nlohmann::json Describe() const override { return {{"ordering", "solo"}}; }

  // Called for a transaction the orderer had to drop (it could not be in a block).
  void OnDrop(std::function<void(const TxPtr&, const Status&)> fn) { on_drop_ = std::move(fn); }

 private:
  void Run();
  void CutBlock(std::vector<TxPtr> txs);

  Chain* chain_;
  const SoloOptions options_;
  Mempool mempool_;
  std::function<void(const TxPtr&, const Status&)> on_drop_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace cc

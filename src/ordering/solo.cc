#include "ordering/solo.h"

#include <spdlog/spdlog.h>

namespace cc {

SoloOrderer::SoloOrderer(Chain* chain, SoloOptions options)
    : chain_(chain), options_(options), mempool_(&chain->store(), options.mempool_capacity) {}

SoloOrderer::~SoloOrderer() { Stop(); }

Status SoloOrderer::Start() {
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void SoloOrderer::Stop() {
  stop_ = true;
  mempool_.Close();
  if (thread_.joinable()) thread_.join();
}

void SoloOrderer::Run() {
  const size_t max_txs =
      std::min<size_t>(options_.max_block_txs, chain_->executor().genesis().params.max_block_txs);
  while (!stop_) {
    if (mempool_.WaitAny() == 0) continue;  // closed
    // The first transaction is here; give the block until the interval ends
    // to fill up.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(options_.block_interval_ms);
    mempool_.WaitFor(max_txs, deadline);
    if (stop_) break;
    CutBlock(mempool_.Take(max_txs));
  }
}

void SoloOrderer::CutBlock(std::vector<TxPtr> txs) {
  while (!txs.empty()) {
    size_t bad = txs.size();
    auto block = chain_->Propose(txs, &bad);
    if (block.ok()) {
      mempool_.Done(txs, /*committed=*/true);
      return;
    }
    if (bad >= txs.size()) {
      // Not a transaction's fault: the store failed. Stop ordering rather
      // than guess; the node's health check reports it.
      spdlog::critical("block commit failed, ordering stopped: {}", block.status().ToString());
      mempool_.Done(txs, /*committed=*/false);
      failed_ = true;
      stop_ = true;
      mempool_.Close();
      return;
    }
    spdlog::warn("dropping transaction {}: {}", txs[bad]->id().hex(), block.status().message());
    if (on_drop_) on_drop_(txs[bad], block.status());
    mempool_.Done({txs[bad]}, /*committed=*/false);
    txs.erase(txs.begin() + static_cast<long>(bad));
  }
}

}  // namespace cc

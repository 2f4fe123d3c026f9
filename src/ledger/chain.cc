#include "ledger/chain.h"

#include "ledger/verifier.h"

namespace cc {

Status Chain::Open() {
  const Genesis& genesis = executor_->genesis();
  auto stored = store_->GetMeta("genesis");
  if (stored && *stored != genesis.canonical) {
    return Status::Precondition("the data folder holds another network's chain (genesis differs)");
  }
  auto head = store_->Head();
  if (!head && store_->GetBlockRaw(0).ok()) {
    return Status::Corruption("the store holds blocks but no head (an interrupted re-sync?); "
                              "start with --resync");
  }
  if (!head) {
    if (!stored) CC_RETURN_IF_ERROR(store_->PutMeta("genesis", genesis.canonical));
    MemState empty;
    CC_ASSIGN_OR_RETURN(BlockExecution e, executor_->ExecuteGenesis(empty));
    BlockPtr b0 = Block::Make(executor_->GenesisHeader(e), Signature{}, {}, {});
    CC_RETURN_IF_ERROR(Commit(b0, e));
    return Status::Ok();
  }
  CC_ASSIGN_OR_RETURN(BlockPtr last, store_->GetBlock(head->height));
  std::lock_guard<std::mutex> lock(mu_);
  head_ = *head;
  head_time_ms_ = last->header().time_ms;
  return Status::Ok();
}

Result<BlockPtr> Chain::Propose(const std::vector<TxPtr>& txs, size_t* bad_index) {
  CC_ASSIGN_OR_RETURN(Built built, Build(txs, bad_index));
  CC_RETURN_IF_ERROR(Commit(built.block, built.execution));
  return built.block;
}

Result<Chain::Built> Chain::Build(const std::vector<TxPtr>& txs, size_t* bad_index) {
  ChainHead prev;
  uint64_t prev_time;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prev = head_;
    prev_time = head_time_ms_;
  }
  const uint64_t height = prev.height + 1;
  const uint64_t time_ms = std::max(clock_->NowMs(), prev_time);  // block times never go back
  auto e = executor_->ExecuteBlock(cache_, prev.digest, height, time_ms, txs, bad_index,
                                   /*prechecked=*/true);
  if (!e.ok()) return Status::Precondition(e.status().message());
  BlockHeader h;
  h.chain_id = executor_->genesis().chain_id;
  h.height = height;
  h.prev_hash = prev.hash;
  h.time_ms = time_ms;
  h.tx_root = Block::ComputeTxRoot(txs, e->results);
  h.changes_hash = e->changes_hash;
  h.state_root = e->digest.Root();
  h.tx_count = txs.size();
  h.proposer = node_key_.public_key();
  Signature sig = node_key_.Sign(AsBytes(Block::SigningMessage(h.Hash())));
  std::vector<TxResult> results = e->results;
  BlockPtr block = Block::Make(std::move(h), sig, txs, std::move(results));
  return Built{std::move(block), std::move(*e)};
}

Status Chain::Commit(const Built& built) {
  const BlockHeader& h = built.block->header();
  ChainHead now = head();
  if (h.height != now.height + 1 || h.prev_hash != now.hash)
    return Status::Precondition("the head moved since block " + std::to_string(h.height) + " was built");
  return Commit(built.block, built.execution);
}

Status Chain::Apply(const BlockPtr& block) {
  ChainHead prev;
  uint64_t prev_time;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prev = head_;
    prev_time = head_time_ms_;
  }
  const Block& b = *block;
  const uint64_t height = prev.height + 1;
  CC_RETURN_IF_ERROR(CheckBlock(b, height, prev.hash, prev_time, *executor_, cache_));
  if (auto bad = FirstBadSignature(b.txs(), /*threads=*/2)) {
    return Status::Corruption("block " + std::to_string(height) + ": transaction " +
                              b.txs()[*bad]->id().hex() + " has a bad signature");
  }
  auto e = executor_->ExecuteBlock(cache_, prev.digest, height, b.header().time_ms, b.txs());
  if (!e.ok()) {
    return Status::Corruption("block " + std::to_string(height) +
                              " does not execute: " + e.status().message());
  }
  CC_RETURN_IF_ERROR(CheckExecution(b, *e));
  return Commit(block, *e);
}

Status Chain::Commit(const BlockPtr& block, const BlockExecution& e) {
  CC_RETURN_IF_ERROR(store_->CommitBlock(block, e.writes, e.digest));
  cache_.Apply(e.writes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = {block->header().height, block->hash(), e.digest};
    head_time_ms_ = block->header().time_ms;
  }
  cv_.notify_all();
  for (const auto& fn : write_listeners_) fn(block, e.writes);
  for (const auto& fn : listeners_) fn(block);
  return Status::Ok();
}

ChainHead Chain::head() const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_;
}

uint64_t Chain::WaitForHeight(uint64_t height, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return shutdown_ || head_.height >= height; });
  return head_.height;
}

void Chain::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

}  // namespace cc

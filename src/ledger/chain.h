// The node's chain: the store, the executor and the node's own key, with the
// committed head cached and commit notifications for waiters.
//
// Thread safety: Propose(), Build(), Commit() and Apply() change or read
// the head as one step and must be called from one thread at a time (the
// orderer serialises them); everything else is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "ledger/executor.h"
#include "ledger/store.h"
#include "util/env.h"

namespace cc {

class Chain {
 public:
  Chain(ChainStore* store, const Executor* executor, SecretKey node_key, Clock* clock)
      : store_(store),
        executor_(executor),
        node_key_(std::move(node_key)),
        clock_(clock),
        cache_(store, /*capacity=*/1 << 20) {}

  // Commits the genesis block into an empty store, or checks that the store
  // was made from the same genesis document.
  Status Open();

  // Executes `txs` as the next block, signs it with the node key and commits
  // it. If a transaction cannot be in a block (wrong nonce), returns
  // kFailedPrecondition and sets *bad_index; nothing is committed then.
  Result<BlockPtr> Propose(const std::vector<TxPtr>& txs, size_t* bad_index);

  // Propose() in two steps, for an orderer that must have the block agreed
  // (etcd) before committing it: Build() executes and signs without
  // committing; Commit() commits if the head has not moved since.
  struct Built {
    BlockPtr block;
    BlockExecution execution;
  };
  Result<Built> Build(const std::vector<TxPtr>& txs, size_t* bad_index);
  Status Commit(const Built& built);

  // Validates a block another node proposed as the next one (hash link,
  // time, proposer and its signature, every transaction's signature, and a
  // re-execution that must reproduce its results, changes_hash and
  // state_root) and commits it. kCorruption names what did not match;
  // nothing is committed then.
  Status Apply(const BlockPtr& block);

  ChainHead head() const;
  // Waits until the head is at least `height` or the timeout passes;
  // returns the head height.
  uint64_t WaitForHeight(uint64_t height, std::chrono::milliseconds timeout) const;

  // Wakes every WaitForHeight() caller and makes later calls return at once.
  void Shutdown();

  // Called after each commit, on the committing thread.
  void OnCommit(std::function<void(const BlockPtr&)> fn) { listeners_.push_back(std::move(fn)); }
  // Called after each commit with the block's state writes, before the
  // OnCommit listeners (in-memory indexes of the state follow it this way).
  void OnCommitWrites(std::function<void(const BlockPtr&, const WriteSet&)> fn) {
    write_listeners_.push_back(std::move(fn));
  }

  ChainStore& store() { return *store_; }
  const ChainStore& store() const { return *store_; }
  const Executor& executor() const { return *executor_; }
  const PublicKey node_key() const { return node_key_.public_key(); }
  // Signs a transaction of the node itself (a custodian's access log,
  // erasure receipts). Sets body.actor to the node key.
  TxPtr SignAsNode(TxBody body) const {
    body.actor = node_key_.public_key();
    return Transaction::Sign(std::move(body), node_key_);
  }

 private:
  Status Commit(const BlockPtr& block, const BlockExecution& e);

  ChainStore* store_;
  const Executor* executor_;
  SecretKey node_key_;
  Clock* clock_;
  std::vector<std::function<void(const BlockPtr&)>> listeners_;
  std::vector<std::function<void(const BlockPtr&, const WriteSet&)>> write_listeners_;
  CachedReader cache_;  // the committed state; used by Propose() only

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  ChainHead head_;          // GUARDED_BY(mu_)
  uint64_t head_time_ms_ = 0;  // GUARDED_BY(mu_)
  bool shutdown_ = false;      // GUARDED_BY(mu_)
};

}  // namespace cc

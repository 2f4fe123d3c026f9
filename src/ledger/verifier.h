// Re-checks a stored chain: every hash link, Merkle root, signature, and the
// state. Used by the node at start-up (quick mode) and by `carechain verify`
// (full mode).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ledger/executor.h"
#include "ledger/store.h"

namespace cc {

struct VerifyOptions {
  // Check every transaction's signature (in parallel).
  bool signatures = true;
  // Re-execute every block from genesis and compare results, changes_hash
  // and state_root, then compare the re-computed state with the store's
  // entry by entry.
  bool reexecute = true;
  int threads = 2;
};

struct VerifyReport {
  uint64_t blocks = 0;
  uint64_t transactions = 0;
  ChainHead head;
  // On failure: the first height found bad (nullopt for state-store-only
  // damage, where every block checked out) and what was wrong.
  bool ok = true;
  std::optional<uint64_t> bad_height;
  std::string error;
};

// Quick mode (signatures=false, reexecute=false) still checks every block's
// encoding, hash link, tx_root and proposer signature, and the state store
// against the head's state digest.
VerifyReport VerifyChain(const ChainStore& store, const Executor& executor,
                         const VerifyOptions& options);

// Rebuilds the state by re-executing blocks 0..last_good from the store,
// after ChainStore::ResetTo(last_good) (which drops later blocks). Safe to
// repeat after a crash: the store's resync marker stays until it completes.
// Fails at the first block that does not re-execute to its recorded hashes.
Status ReplayChain(ChainStore& store, const Executor& executor, uint64_t last_good);

// Checks block `b` as block `height` after the block `prev` of time
// `prev_time`: height, time, size, chain id, hash link, tx_root, and that
// its proposer is a node of the network (in `state`, before the block) and
// signed it. Does not check transaction signatures or re-execute.
Status CheckBlock(const Block& b, uint64_t height, const BlockHash& prev, uint64_t prev_time,
                  const Executor& ex, const StateReader& state);

// Compares a re-execution of `b` with what `b` records: each result,
// changes_hash and state_root.
Status CheckExecution(const Block& b, const BlockExecution& e);

// Verifies the signatures of `txs` with `threads` threads; returns the index
// of the first bad one.
std::optional<size_t> FirstBadSignature(const std::vector<TxPtr>& txs, int threads);

}  // namespace cc

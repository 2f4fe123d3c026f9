#include "ledger/verifier.h"

#include <atomic>
#include <thread>

namespace cc {
namespace {

VerifyReport Fail(VerifyReport r, std::optional<uint64_t> height, std::string error) {
  r.ok = false;
  r.bad_height = height;
  r.error = height ? "block " + std::to_string(*height) + ": " + error : std::move(error);
  return r;
}

// The first key whose entry differs between the store and `expected`.
std::optional<std::string> FirstDifference(const StateReader& store, const MemState& expected) {
  std::optional<std::string> diff;
  auto it = expected.entries().begin();
  store.Scan("", "", [&](std::string_view k, std::string_view v) {
    if (it != expected.entries().end() && it->first < k) {
      diff = it->first;  // missing from the store
    } else if (it == expected.entries().end() || it->first != k || it->second != v) {
      diff = std::string(k);
    } else {
      ++it;
    }
    return !diff;
  });
  if (!diff && it != expected.entries().end()) diff = it->first;
  return diff;
}

}  // namespace

// Checks block `b` at `height` against its predecessor's hash.
Status CheckBlock(const Block& b, uint64_t height, const BlockHash& prev, uint64_t prev_time,
                       const Executor& ex, const StateReader& state) {
  const BlockHeader& h = b.header();
  if (h.height != height) return Status::Corruption("stored under the wrong height");
  if (h.time_ms < prev_time) return Status::Corruption("block time goes back");
  if (h.tx_count > ex.genesis().params.max_block_txs)
    return Status::Corruption("more transactions than params.max_block_txs");
  if (h.chain_id != ex.genesis().chain_id) return Status::Corruption("wrong chain id");
  if (h.prev_hash != prev) return Status::Corruption("prev_hash does not match the previous block");
  if (Block::ComputeTxRoot(b.txs(), b.results()) != h.tx_root)
    return Status::Corruption("tx_root does not match its transactions");
  if (!b.VerifyProposerSignature()) return Status::Corruption("bad proposer signature");
  const ActorAuthority* auth = ex.modules().authority();
  if (auth && !auth->IsProposer(state, h.proposer))
    return Status::Corruption("proposer " + h.proposer.hex() + " is not a node of the network");
  return Status::Ok();
}

Status CheckExecution(const Block& b, const BlockExecution& e) {
  for (size_t i = 0; i < b.results().size(); ++i) {
    if (e.results[i] != b.results()[i]) {
      return Status::Corruption("transaction " + std::to_string(i) + " (" + b.txs()[i]->id().hex() +
                                ") re-executes to a different result");
    }
  }
  if (e.changes_hash != b.header().changes_hash)
    return Status::Corruption("changes_hash differs from the re-executed block");
  if (e.digest.Root() != b.header().state_root)
    return Status::Corruption("state_root differs from the re-executed state");
  return Status::Ok();
}


std::optional<size_t> FirstBadSignature(const std::vector<TxPtr>& txs, int threads) {
  std::atomic<size_t> first_bad{txs.size()};
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (;;) {
      size_t i = next.fetch_add(64);
      if (i >= txs.size()) return;
      size_t end = std::min(txs.size(), i + 64);
      for (; i < end; ++i) {
        if (!txs[i]->VerifySignature()) {
          size_t cur = first_bad.load();
          while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {}
        }
      }
    }
  };
  if (threads <= 1 || txs.size() < 128) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  if (first_bad.load() == txs.size()) return std::nullopt;
  return first_bad.load();
}

VerifyReport VerifyChain(const ChainStore& store, const Executor& ex, const VerifyOptions& opt) {
  VerifyReport rep;
  auto read = store.ReadHead();
  if (!read.ok()) return Fail(rep, std::nullopt, read.status().message());
  auto head = *read;
  if (!head) return Fail(rep, std::nullopt, "store holds no chain (no genesis block)");
  rep.head = *head;

  MemState replay;
  StateDigest digest;
  // Genesis: re-derive block 0 from the genesis document.
  auto g = ex.ExecuteGenesis(replay);
  if (!g.ok()) return Fail(rep, 0, g.status().message());
  auto b0 = store.GetBlock(0);
  if (!b0.ok()) return Fail(rep, 0, b0.status().message());
  BlockHeader expect0 = ex.GenesisHeader(*g);
  if ((*b0)->header().Encode() != expect0.Encode())
    return Fail(rep, 0, "genesis block does not match the genesis document");
  replay.Apply(g->writes);
  digest = g->digest;
  BlockHash prev = (*b0)->hash();
  uint64_t prev_time = (*b0)->header().time_ms;
  BlockHash last_hash = prev;
  Hash256 last_state_root = (*b0)->header().state_root;
  rep.blocks = 1;

  for (uint64_t height = 1; height <= head->height; ++height) {
    auto b = store.GetBlock(height);
    if (!b.ok()) return Fail(rep, height, b.status().message());
    const Block& blk = **b;
    Status s = CheckBlock(blk, height, prev, prev_time, ex,
                               opt.reexecute ? static_cast<const StateReader&>(replay) : store);
    if (!s.ok()) return Fail(rep, height, s.message());
    if (opt.signatures) {
      if (auto bad = FirstBadSignature(blk.txs(), opt.threads)) {
        return Fail(rep, height, "transaction " + std::to_string(*bad) + " (" +
                                     blk.txs()[*bad]->id().hex() + ") has a bad signature");
      }
    }
    if (opt.reexecute) {
      auto e = ex.ExecuteBlock(replay, digest, height, blk.header().time_ms, blk.txs());
      if (!e.ok()) return Fail(rep, height, "does not re-execute: " + e.status().message());
      if (Status c = CheckExecution(blk, *e); !c.ok()) return Fail(rep, height, c.message());
      replay.Apply(e->writes);
      digest = e->digest;
    }
    if (opt.reexecute) {  // full mode: the tx index must point at each transaction
      for (size_t i = 0; i < blk.txs().size(); ++i) {
        auto loc = store.FindTx(blk.txs()[i]->id());
        if (!loc || loc->height != height || loc->index != i) {
          return Fail(rep, height, "transaction index entry of transaction " + std::to_string(i) +
                                       " (" + blk.txs()[i]->id().hex() + ") is missing or wrong");
        }
      }
    }
    rep.transactions += blk.txs().size();
    rep.blocks++;
    prev = blk.hash();
    prev_time = blk.header().time_ms;
    last_hash = prev;
    last_state_root = blk.header().state_root;
  }
  if (last_hash != head->hash) return Fail(rep, std::nullopt, "the head record names another block hash");
  if (store.GetBlockRaw(head->height + 1).ok())
    return Fail(rep, std::nullopt, "the store holds blocks above the head record");

  // The state store against the chain.
  StateDigest scanned;
  store.Scan("", "", [&](std::string_view k, std::string_view v) {
    scanned.Add(k, v);
    return true;
  });
  if (scanned.Root() != last_state_root || !(scanned == head->digest)) {
    std::string what = "state store does not match the chain's state_root at height " +
                       std::to_string(head->height);
    if (opt.reexecute) {
      if (auto key = FirstDifference(store, replay)) what += " (first differing key: " + *key + ")";
    }
    return Fail(rep, std::nullopt, what);
  }
  return rep;
}

Status ReplayChain(ChainStore& store, const Executor& ex, uint64_t last_good) {
  // Starting from an empty state makes an interrupted replay safe to repeat.
  CC_RETURN_IF_ERROR(store.ResetTo(last_good));
  auto g = ex.ExecuteGenesis(store);
  if (!g.ok()) return g.status();
  auto b0 = store.GetBlock(0);
  if (!b0.ok()) return b0.status();
  CC_RETURN_IF_ERROR(store.CommitBlock(*b0, g->writes, g->digest));
  StateDigest digest = g->digest;
  BlockHash prev = (*b0)->hash();
  uint64_t prev_time = (*b0)->header().time_ms;
  for (uint64_t h = 1; h <= last_good; ++h) {
    CC_ASSIGN_OR_RETURN(BlockPtr b, store.GetBlock(h));
    Status shape = CheckBlock(*b, h, prev, prev_time, ex, store);
    if (!shape.ok()) return Status::Corruption("block " + std::to_string(h) + ": " + shape.message());
    prev = b->hash();
    prev_time = b->header().time_ms;
    auto e = ex.ExecuteBlock(store, digest, h, b->header().time_ms, b->txs());
    if (!e.ok()) return Status::Corruption("block " + std::to_string(h) + ": " + e.status().message());
    if (Status c = CheckExecution(*b, *e); !c.ok())
      return Status::Corruption("block " + std::to_string(h) + ": " + c.message());
    CC_RETURN_IF_ERROR(store.CommitBlock(b, e->writes, e->digest));
    digest = e->digest;
  }
  return store.ClearResyncTarget();
}

}  // namespace cc

// The chain and state store on RocksDB. The only file that includes RocksDB.
//
// Column families:
//   default  meta: "genesis" -> genesis document, "head" -> ChainHead
//   blocks   big-endian u64 height -> block encoding
//   txs      TxId -> varint height | varint index
//   state    state key -> value
// CommitBlock writes a block, its tx index entries, its state writes and the
// new head in one WriteBatch with a synced WAL write: after a crash the store
// holds either all of it or none of it.
//
// Thread safety: all methods may be called concurrently; CommitBlock calls
// must be serialised by the caller (the orderer's single commit thread).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "crypto/state_digest.h"
#include "ledger/block.h"
#include "ledger/state.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace cc {

struct ChainHead {
  uint64_t height = 0;
  BlockHash hash;
  StateDigest digest;
};

struct TxLocation {
  uint64_t height = 0;
  uint64_t index = 0;
};

class ChainStore : public StateReader {
 public:
  ~ChainStore() override;
  // Opens (creating if missing) the store in `dir`.
  static Result<std::unique_ptr<ChainStore>> Open(const std::string& dir);

  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix, std::string_view start,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  // nullopt before the genesis block is committed. Aborts if the head
  // record is damaged: nodes call ReadHead() once at start-up.
  std::optional<ChainHead> Head() const;
  // Like Head(), but a damaged head record is kCorruption.
  Result<std::optional<ChainHead>> ReadHead() const;
  // The highest height h such that blocks 0..h are all stored.
  uint64_t LastContiguousBlock() const;
  Status CommitBlock(const BlockPtr& block, const WriteSet& writes, const StateDigest& digest);

  Result<BlockPtr> GetBlock(uint64_t height) const;
  Result<std::string> GetBlockRaw(uint64_t height) const;
  std::optional<TxLocation> FindTx(const TxId& id) const;

  Status PutMeta(std::string_view key, std::string_view value);
  std::optional<std::string> GetMeta(std::string_view key) const;

  // Drops the whole state and tx index and every block above `keep_height`
  // (re-sync) and records meta "resync_to"; the caller then re-applies
  // blocks with ReplayChain, which removes the marker when done.
  Status ResetTo(uint64_t keep_height);
  // The height an interrupted re-sync was replaying to, if any.
  std::optional<uint64_t> ResyncTarget() const;
  Status ClearResyncTarget();
  // Removes state, tx index, blocks and head: back to an empty store.
  Status Wipe();

 private:
  ChainStore() = default;
  static std::string HeightKey(uint64_t h);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* blocks_ = nullptr;
  rocksdb::ColumnFamilyHandle* txs_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace cc

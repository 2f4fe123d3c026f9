#include "ledger/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>

#include "codec/varint.h"

namespace cc {
namespace {

rocksdb::Slice S(std::string_view s) { return {s.data(), s.size()}; }
std::string_view V(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// A read error on the committed state is fatal: see state.h.
[[noreturn]] void FatalRead(const rocksdb::Status& s, std::string_view what) {
  std::fprintf(stderr, "FATAL: state store read failed (%.*s): %s\n", int(what.size()), what.data(),
               s.ToString().c_str());
  std::abort();
}

std::string EncodeHead(const ChainHead& h) {
  codec::Writer w;
  w.Varint(h.height).Fixed(h.hash.view()).Bytes(h.digest.Serialize());
  return w.Take();
}

Status DecodeHead(std::string_view in, ChainHead* h) {
  codec::Reader r(in);
  std::string_view hash, digest;
  CC_RETURN_IF_ERROR(r.Varint("head.height", &h->height));
  CC_RETURN_IF_ERROR(r.Fixed("head.hash", 32, &hash));
  CC_RETURN_IF_ERROR(r.Bytes("head.digest", 64, &digest));
  CC_RETURN_IF_ERROR(r.Finish());
  h->hash = BlockHash::FromView(AsBytes(hash));
  if (!StateDigest::Parse(digest, &h->digest)) return Status::Corruption("bad head digest");
  return Status::Ok();
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(what);
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

}  // namespace

ChainStore::~ChainStore() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
}

std::string ChainStore::HeightKey(uint64_t h) {
  std::string k;
  AppendBigEndian64(&k, h);
  return k;
}

Result<std::unique_ptr<ChainStore>> ChainStore::Open(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  opts.IncreaseParallelism(2);
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf(opts);
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Most point reads during execution look for keys that are absent (new
  // records) or in the memtable: a memtable Bloom filter answers both fast.
  cf.memtable_whole_key_filtering = true;
  cf.memtable_prefix_bloom_size_ratio = 0.05;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf}, {"blocks", cf}, {"txs", cf}, {"state", cf}};
  auto store = std::unique_ptr<ChainStore>(new ChainStore());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, cfs, &store->handles_, &db);
  if (!s.ok()) return FromRocks(s, "cannot open store " + dir);
  store->db_.reset(db);
  store->meta_ = store->handles_[0];
  store->blocks_ = store->handles_[1];
  store->txs_ = store->handles_[2];
  store->state_ = store->handles_[3];
  return store;
}

std::optional<std::string> ChainStore::Get(std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), state_, S(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) FatalRead(s, key);
  return v;
}

void ChainStore::Scan(std::string_view prefix, std::string_view start,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), state_));
  for (it->Seek(S(start.empty() ? prefix : start)); it->Valid(); it->Next()) {
    std::string_view k = V(it->key());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, V(it->value()))) break;
  }
  if (!it->status().ok()) FatalRead(it->status(), prefix);
}

Result<std::optional<ChainHead>> ChainStore::ReadHead() const {
  auto v = GetMeta("head");
  if (!v) return std::optional<ChainHead>();
  ChainHead h;
  Status s = DecodeHead(*v, &h);
  if (!s.ok()) return Status::Corruption("the store's head record does not decode: " + s.message());
  return std::optional<ChainHead>(h);
}

uint64_t ChainStore::LastContiguousBlock() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), blocks_));
  uint64_t expect = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8 ||
        ReadBigEndian64(reinterpret_cast<const uint8_t*>(it->key().data())) != expect) break;
    ++expect;
  }
  return expect == 0 ? 0 : expect - 1;
}

std::optional<ChainHead> ChainStore::Head() const {
  auto v = GetMeta("head");
  if (!v) return std::nullopt;
  ChainHead h;
  Status s = DecodeHead(*v, &h);
  if (!s.ok()) {
    std::fprintf(stderr, "FATAL: store head record is corrupt: %s\n", s.ToString().c_str());
    std::abort();
  }
  return h;
}

Status ChainStore::CommitBlock(const BlockPtr& block, const WriteSet& writes,
                               const StateDigest& digest) {
  rocksdb::WriteBatch batch;
  const uint64_t height = block->header().height;
  batch.Put(blocks_, HeightKey(height), S(block->encoded()));
  for (size_t i = 0; i < block->txs().size(); ++i) {
    codec::Writer loc;
    loc.Varint(height).Varint(i);
    batch.Put(txs_, S(AsChars(block->txs()[i]->id().view())), S(loc.data()));
  }
  for (const auto& [k, v] : writes) {
    if (v) batch.Put(state_, S(k), S(*v)); else batch.Delete(state_, S(k));
  }
  batch.Put(meta_, "head", EncodeHead({height, block->hash(), digest}));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "commit of block " + std::to_string(height));
}

Result<std::string> ChainStore::GetBlockRaw(uint64_t height) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), blocks_, HeightKey(height), &v);
  if (s.IsNotFound()) return Status::NotFound("block " + std::to_string(height) + " is not in the store");
  if (!s.ok()) return FromRocks(s, "block " + std::to_string(height));
  return v;
}

Result<BlockPtr> ChainStore::GetBlock(uint64_t height) const {
  CC_ASSIGN_OR_RETURN(std::string raw, GetBlockRaw(height));
  auto b = Block::Decode(raw);
  if (!b.ok()) {
    return Status::Corruption("block " + std::to_string(height) + " does not decode: " +
                              b.status().message());
  }
  return b;
}

std::optional<TxLocation> ChainStore::FindTx(const TxId& id) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), txs_, S(AsChars(id.view())), &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) FatalRead(s, "tx index");
  codec::Reader r(v);
  TxLocation loc;
  if (!r.Varint("loc.height", &loc.height).ok() || !r.Varint("loc.index", &loc.index).ok()) {
    return std::nullopt;
  }
  return loc;
}

Status ChainStore::PutMeta(std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Put(wo, meta_, S(key), S(value)), "meta " + std::string(key));
}

std::optional<std::string> ChainStore::GetMeta(std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, S(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) FatalRead(s, key);
  return v;
}

Status ChainStore::ResetTo(uint64_t keep_height) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(state_, "", std::string(64, '\xff'));
  batch.DeleteRange(txs_, "", std::string(64, '\xff'));
  batch.DeleteRange(blocks_, HeightKey(keep_height + 1), std::string(9, '\xff'));
  batch.Delete(meta_, "head");
  // Until ReplayChain clears it, the marker tells a restarted node that a
  // re-sync was interrupted and where it was going.
  batch.Put(meta_, "resync_to", HeightKey(keep_height));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "reset of the store");
}

std::optional<uint64_t> ChainStore::ResyncTarget() const {
  auto v = GetMeta("resync_to");
  if (!v || v->size() != 8) return std::nullopt;
  return ReadBigEndian64(reinterpret_cast<const uint8_t*>(v->data()));
}

Status ChainStore::ClearResyncTarget() {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Delete(wo, meta_, "resync_to"), "meta resync_to");
}

Status ChainStore::Wipe() {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(state_, "", std::string(64, '\xff'));
  batch.DeleteRange(txs_, "", std::string(64, '\xff'));
  batch.DeleteRange(blocks_, "", std::string(9, '\xff'));
  batch.Delete(meta_, "head");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "wipe of the store");
}

}  // namespace cc

#include "ledger/store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;
using testing::TempDir;

BlockPtr MakeBlock(uint64_t height, std::vector<TxPtr> txs, const BlockHash& prev = {}) {
  std::vector<TxResult> results(txs.size());
  BlockHeader h;
  h.chain_id = testing::kChainId;
  h.height = height;
  h.prev_hash = prev;
  h.time_ms = 1000 + height;
  h.tx_root = Block::ComputeTxRoot(txs, results);
  h.tx_count = txs.size();
  h.proposer = Key(1).public_key();
  Signature sig = Key(1).Sign(AsBytes(Block::SigningMessage(h.Hash())));
  return Block::Make(h, sig, std::move(txs), std::move(results));
}

std::unique_ptr<ChainStore> OpenStore(const std::string& dir) {
  auto s = ChainStore::Open(dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(ChainStore, EmptyStore) {
  TempDir dir;
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->Head().has_value());
  EXPECT_EQ(store->GetBlock(0).status().code(), Code::kNotFound);
  EXPECT_EQ(store->GetBlockRaw(3).status().code(), Code::kNotFound);
  EXPECT_FALSE(store->Get("anything").has_value());
  EXPECT_FALSE(store->FindTx(TxId{}).has_value());
  EXPECT_FALSE(store->GetMeta("genesis").has_value());
  EXPECT_FALSE(store->ResyncTarget().has_value());
}

TEST(ChainStore, CommitBlockWritesEverythingAtOnce) {
  TempDir dir;
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  std::vector<TxPtr> txs = {MakeTx(Key(2), 1, "m", "a", {{"i", 1}}), MakeTx(Key(3), 1, "m", "a", {{"i", 2}})};
  BlockPtr b0 = MakeBlock(0, {});
  StateDigest d0;
  d0.Add("k/1", "v1");
  ASSERT_TRUE(store->CommitBlock(b0, {{"k/1", std::string("v1")}, {"k/2", std::nullopt}}, d0).ok());
  BlockPtr b1 = MakeBlock(1, txs, b0->hash());
  StateDigest d1 = d0;
  d1.Remove("k/1", "v1");
  d1.Add("k/2", "v2");
  ASSERT_TRUE(store->CommitBlock(b1, {{"k/1", std::nullopt}, {"k/2", std::string("v2")}}, d1).ok());

  auto head = store->Head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->height, 1u);
  EXPECT_EQ(head->hash, b1->hash());
  EXPECT_EQ(head->digest, d1);
  EXPECT_FALSE(store->Get("k/1").has_value());
  EXPECT_EQ(store->Get("k/2"), "v2");
  auto raw = store->GetBlockRaw(1);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, b1->encoded());
  auto back = store->GetBlock(1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->hash(), b1->hash());
  auto loc = store->FindTx(txs[1]->id());
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->height, 1u);
  EXPECT_EQ(loc->index, 1u);
  EXPECT_FALSE(store->FindTx(MakeTx(Key(4), 1, "m", "a", {})->id()).has_value());
}

TEST(ChainStore, ScanIsOrderedAndBoundedByPrefix) {
  TempDir dir;
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CommitBlock(MakeBlock(0, {}),
                                 {{"a/2", std::string("2")}, {"a/1", std::string("1")}, {"a/3", std::string("3")},
                                  {"b/1", std::string("b")}, {"a", std::string("bare")}},
                                 StateDigest())
                  .ok());
  std::vector<std::string> keys;
  store->Scan("a/", "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  keys.clear();
  store->Scan("a/", "a/2", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a/2", "a/3"}));
  keys.clear();
  store->Scan("", "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return keys.size() < 2;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a/1"}));
}

TEST(ChainStore, ReopenKeepsEverything) {
  TempDir dir;
  BlockPtr b0 = MakeBlock(0, {});
  StateDigest d;
  d.Add("x", "y");
  {
    auto store = OpenStore(dir.file("db"));
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->PutMeta("genesis", "{}").ok());
    ASSERT_TRUE(store->CommitBlock(b0, {{"x", std::string("y")}}, d).ok());
  }
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  auto head = store->Head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->hash, b0->hash());
  EXPECT_EQ(head->digest, d);
  EXPECT_EQ(store->Get("x"), "y");
  EXPECT_EQ(store->GetMeta("genesis"), "{}");
}

TEST(ChainStore, ResetToDropsStateTxIndexAndLaterBlocks) {
  TempDir dir;
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  BlockHash prev;
  std::vector<TxPtr> all;
  for (uint64_t h = 0; h <= 4; ++h) {
    std::vector<TxPtr> txs;
    if (h > 0) txs.push_back(MakeTx(Key(2), h, "m", "a", {}));
    all.insert(all.end(), txs.begin(), txs.end());
    BlockPtr b = MakeBlock(h, txs, prev);
    prev = b->hash();
    ASSERT_TRUE(store->CommitBlock(b, {{"s/" + std::to_string(h), std::string("v")}}, StateDigest()).ok());
  }
  ASSERT_TRUE(store->ResetTo(2).ok());
  EXPECT_FALSE(store->Head().has_value());
  EXPECT_EQ(store->ResyncTarget(), 2u);
  for (uint64_t h = 0; h <= 2; ++h) EXPECT_TRUE(store->GetBlock(h).ok()) << h;
  for (uint64_t h = 3; h <= 4; ++h) EXPECT_EQ(store->GetBlock(h).status().code(), Code::kNotFound) << h;
  for (const auto& t : all) EXPECT_FALSE(store->FindTx(t->id()).has_value());
  size_t entries = 0;
  store->Scan("", "", [&](std::string_view, std::string_view) {
    ++entries;
    return true;
  });
  EXPECT_EQ(entries, 0u);
  ASSERT_TRUE(store->ClearResyncTarget().ok());
  EXPECT_FALSE(store->ResyncTarget().has_value());
}

TEST(ChainStore, WipeEmptiesTheStore) {
  TempDir dir;
  auto store = OpenStore(dir.file("db"));
  ASSERT_TRUE(store);
  TxPtr t = MakeTx(Key(2), 1, "m", "a", {});
  ASSERT_TRUE(store->CommitBlock(MakeBlock(0, {t}), {{"k", std::string("v")}}, StateDigest()).ok());
  ASSERT_TRUE(store->Wipe().ok());
  EXPECT_FALSE(store->Head().has_value());
  EXPECT_FALSE(store->GetBlock(0).ok());
  EXPECT_FALSE(store->Get("k").has_value());
  EXPECT_FALSE(store->FindTx(t->id()).has_value());
}

TEST(ChainStore, OpenFailsOnAFile) {
  TempDir dir;
  std::ofstream(dir.file("not-a-dir")) << "x";
  auto s = ChainStore::Open(dir.file("not-a-dir"));
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace cc

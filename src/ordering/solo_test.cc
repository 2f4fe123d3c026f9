#include "ordering/solo.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace cc {
namespace {

using testing::ChainFixture;
using testing::Key;

constexpr auto kLongWait = std::chrono::seconds(30);

// Patient registrations by the doctor, nonces 1..n.
std::vector<TxPtr> Registrations(ChainFixture& f, int n, int first_key = 100) {
  std::vector<TxPtr> txs;
  for (int i = 0; i < n; ++i) {
    txs.push_back(f.Tx(f.net.keys.doctor, "register_actor",
                       {{"key", Key(static_cast<uint8_t>(first_key + i)).public_key().hex()},
                        {"org", "st-marien-hospital"},
                        {"role", "patient"}}));
  }
  return txs;
}

// Waits (on commits, not on time) until `tx` is in a block.
bool WaitCommitted(ChainFixture& f, const TxPtr& tx) {
  while (!f.store->FindTx(tx->id())) {
    uint64_t h = f.chain->head().height;
    if (f.chain->WaitForHeight(h + 1, kLongWait) == h) return false;
  }
  return true;
}

// Every transaction of `txs` is committed, in this order, across blocks 1..head.
void ExpectCommittedInOrder(ChainFixture& f, const std::vector<TxPtr>& txs) {
  std::vector<TxId> committed;
  for (uint64_t h = 1; h <= f.chain->head().height; ++h) {
    BlockPtr b = f.store->GetBlock(h).value();
    for (size_t i = 0; i < b->txs().size(); ++i) {
      committed.push_back(b->txs()[i]->id());
      EXPECT_TRUE(b->results()[i].ok()) << b->results()[i].detail;
    }
  }
  ASSERT_EQ(committed.size(), txs.size());
  for (size_t i = 0; i < txs.size(); ++i) EXPECT_EQ(committed[i], txs[i]->id()) << i;
}

TEST(SoloOrderer, CutsBlocksAtMaxBlockTxs) {
  ChainFixture f;
  // An interval long enough that only the size can cut a block.
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/5, /*block_interval_ms=*/60000, /*mempool_capacity=*/1000});
  auto txs = Registrations(f, 15);
  for (const auto& t : txs) ASSERT_TRUE(solo.Submit(t).ok());
  EXPECT_EQ(solo.PendingCount(), 15u);
  ASSERT_TRUE(solo.Start().ok());
  ASSERT_EQ(f.chain->WaitForHeight(3, kLongWait), 3u);
  solo.Stop();
  for (uint64_t h = 1; h <= 3; ++h) EXPECT_EQ(f.store->GetBlock(h).value()->txs().size(), 5u) << h;
  ExpectCommittedInOrder(f, txs);
  EXPECT_EQ(solo.PendingCount(), 0u);
  for (const auto& t : txs) EXPECT_FALSE(solo.IsPending(t->id()));
}

TEST(SoloOrderer, GenesisLimitCapsTheBlockSize) {
  testing::Keys keys;
  ChainFixture f(testing::GenesisDoc(keys, {{"max_block_txs", 4}}));
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/1000, /*block_interval_ms=*/60000, 1000});
  auto txs = Registrations(f, 8);
  for (const auto& t : txs) ASSERT_TRUE(solo.Submit(t).ok());
  ASSERT_TRUE(solo.Start().ok());
  ASSERT_EQ(f.chain->WaitForHeight(2, kLongWait), 2u);
  solo.Stop();
  EXPECT_EQ(f.store->GetBlock(1).value()->txs().size(), 4u);
  EXPECT_EQ(f.store->GetBlock(2).value()->txs().size(), 4u);
  ExpectCommittedInOrder(f, txs);
}

TEST(SoloOrderer, CutsAPartialBlockAtTheInterval) {
  ChainFixture f;
  // Far more room than transactions: only the interval can cut.
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/1000, /*block_interval_ms=*/20, 1000});
  ASSERT_TRUE(solo.Start().ok());
  auto txs = Registrations(f, 3);
  for (const auto& t : txs) ASSERT_TRUE(solo.Submit(t).ok());
  ASSERT_TRUE(WaitCommitted(f, txs.back()));
  solo.Stop();
  ExpectCommittedInOrder(f, txs);
  EXPECT_LE(f.chain->head().height, 3u);
  for (uint64_t h = 1; h <= f.chain->head().height; ++h) {
    EXPECT_LT(f.store->GetBlock(h).value()->txs().size(), 1000u);
  }
}

TEST(SoloOrderer, ManyTransactionsFromManyActorsAllCommitInOrder) {
  ChainFixture f;
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/7, /*block_interval_ms=*/5, 1000});
  ASSERT_TRUE(solo.Start().ok());
  std::vector<TxPtr> txs;
  // Two actors interleaved, each in nonce order.
  for (int i = 0; i < 20; ++i) {
    const SecretKey& who = i % 2 ? f.net.keys.doctor : f.net.keys.hospital_admin;
    txs.push_back(f.Tx(who, "register_actor",
                       {{"key", Key(static_cast<uint8_t>(150 + i)).public_key().hex()},
                        {"org", "st-marien-hospital"},
                        {"role", "patient"}}));
    ASSERT_TRUE(solo.Submit(txs.back()).ok()) << i;
  }
  ASSERT_TRUE(WaitCommitted(f, txs.back()));
  ASSERT_TRUE(WaitCommitted(f, txs[txs.size() - 2]));
  solo.Stop();
  ExpectCommittedInOrder(f, txs);
  for (uint64_t h = 1; h <= f.chain->head().height; ++h) {
    EXPECT_LE(f.store->GetBlock(h).value()->txs().size(), 7u);
  }
}

TEST(SoloOrderer, NonceBookkeepingFollowsCommits) {
  ChainFixture f;
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/10, /*block_interval_ms=*/5, 1000});
  const PublicKey doctor = f.net.keys.doctor.public_key();
  EXPECT_EQ(solo.NextNonce(doctor), 1u);
  auto txs = Registrations(f, 3);
  for (const auto& t : txs) ASSERT_TRUE(solo.Submit(t).ok());
  EXPECT_EQ(solo.NextNonce(doctor), 4u);
  // A replay of a pending transaction and a nonce gap are refused.
  EXPECT_EQ(solo.Submit(txs[0]).code(), Code::kAlreadyExists);
  EXPECT_EQ(solo.Submit(testing::RegisterTx(f.net.keys.doctor, 9, Key(9).public_key(), "st-marien-hospital",
                                            "patient")).code(),
            Code::kFailedPrecondition);
  ASSERT_TRUE(solo.Start().ok());
  ASSERT_TRUE(WaitCommitted(f, txs.back()));
  solo.Stop();
  EXPECT_EQ(solo.NextNonce(doctor), 4u);
  EXPECT_EQ(Executor::LastNonce(*f.store, doctor), 3u);
}

TEST(SoloOrderer, ATransactionThatCannotBeInABlockIsDropped) {
  ChainFixture f;
  SoloOrderer solo(f.chain.get(), {/*max_block_txs=*/10, /*block_interval_ms=*/5, 1000});
  std::vector<std::pair<TxId, Status>> dropped;
  solo.OnDrop([&](const TxPtr& t, const Status& s) { dropped.emplace_back(t->id(), s); });
  // The mempool accepts nonce 1 of the admin...
  TxPtr queued = testing::RegisterTx(f.net.keys.hospital_admin, 1, Key(90).public_key(), "st-marien-hospital",
                                     "patient");
  ASSERT_TRUE(solo.Submit(queued).ok());
  // ...but another path commits a nonce-1 transaction of the admin first.
  TxPtr other = testing::RegisterTx(f.net.keys.hospital_admin, 1, Key(91).public_key(), "st-marien-hospital",
                                    "patient");
  ASSERT_TRUE(f.Propose({other}));
  // A good transaction of another actor goes in the same cut.
  TxPtr good = testing::RegisterTx(f.net.keys.doctor, 1, Key(92).public_key(), "st-marien-hospital", "patient");
  ASSERT_TRUE(solo.Submit(good).ok());
  ASSERT_TRUE(solo.Start().ok());
  ASSERT_TRUE(WaitCommitted(f, good));
  solo.Stop();
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].first, queued->id());
  EXPECT_EQ(dropped[0].second.code(), Code::kFailedPrecondition);
  EXPECT_FALSE(f.store->FindTx(queued->id()).has_value());
  EXPECT_FALSE(solo.IsPending(queued->id()));
  EXPECT_TRUE(solo.healthy());
  // The admin continues from the committed nonce.
  EXPECT_EQ(solo.NextNonce(f.net.keys.hospital_admin.public_key()), 2u);
}

TEST(SoloOrderer, StopRefusesNewTransactions) {
  ChainFixture f;
  SoloOrderer solo(f.chain.get(), {10, 5, 1000});
  ASSERT_TRUE(solo.Start().ok());
  solo.Stop();
  solo.Stop();  // idempotent
  auto txs = Registrations(f, 1);
  EXPECT_EQ(solo.Submit(txs[0]).code(), Code::kUnavailable);
  EXPECT_TRUE(solo.healthy());
}

TEST(SoloOrderer, MempoolCapacityIsEnforced) {
  ChainFixture f;
  SoloOrderer solo(f.chain.get(), {10, 60000, /*mempool_capacity=*/2});
  auto txs = Registrations(f, 3);
  EXPECT_TRUE(solo.Submit(txs[0]).ok());
  EXPECT_TRUE(solo.Submit(txs[1]).ok());
  EXPECT_EQ(solo.Submit(txs[2]).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace cc

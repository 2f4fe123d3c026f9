#include "ledger/chain.h"

#include <gtest/gtest.h>

#include <thread>

#include "apps/identity/identity.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::ChainFixture;
using testing::Key;
using testing::RegisterTx;

constexpr const char* kHospital = "st-marien-hospital";

TEST(Chain, OpenOnAnEmptyStoreCommitsGenesis) {
  ChainFixture f;
  ChainHead head = f.chain->head();
  EXPECT_EQ(head.height, 0u);
  auto b0 = f.store->GetBlock(0);
  ASSERT_TRUE(b0.ok());
  EXPECT_EQ((*b0)->hash(), head.hash);
  EXPECT_EQ((*b0)->header().tx_root, f.net.genesis.hash);
  EXPECT_EQ((*b0)->header().time_ms, f.net.genesis.time_ms);
  EXPECT_EQ((*b0)->header().state_root, head.digest.Root());
  EXPECT_EQ(f.store->GetMeta("genesis"), f.net.genesis.canonical);
  EXPECT_EQ(f.store->Head()->hash, head.hash);
  // The genesis state is in the store.
  EXPECT_TRUE(identity::LookupActor(*f.store, f.net.keys.doctor.public_key()).has_value());
}

TEST(Chain, ProposeCommitsLinkedSignedBlocks) {
  ChainFixture f;
  BlockHash prev = f.chain->head().hash;
  for (int b = 1; b <= 3; ++b) {
    TxPtr tx = f.Tx(f.net.keys.doctor, "register_actor",
                    {{"key", Key(static_cast<uint8_t>(60 + b)).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
    BlockPtr block = f.Propose({tx});
    ASSERT_TRUE(block);
    EXPECT_EQ(block->header().height, static_cast<uint64_t>(b));
    EXPECT_EQ(block->header().prev_hash, prev);
    EXPECT_EQ(block->header().proposer, f.net.keys.node.public_key());
    EXPECT_EQ(block->header().chain_id, testing::kChainId);
    EXPECT_TRUE(block->VerifyProposerSignature());
    EXPECT_EQ(block->results()[0].code, TxCode::kOk);
    EXPECT_EQ(f.chain->head().height, static_cast<uint64_t>(b));
    EXPECT_EQ(f.chain->head().hash, block->hash());
    EXPECT_EQ(f.chain->head().digest.Root(), block->header().state_root);
    auto loc = f.store->FindTx(tx->id());
    ASSERT_TRUE(loc);
    EXPECT_EQ(loc->height, static_cast<uint64_t>(b));
    prev = block->hash();
  }
  EXPECT_TRUE(identity::LookupActor(*f.store, Key(63).public_key()).has_value());
}

TEST(Chain, EmptyBlocksAreAllowed) {
  ChainFixture f;
  BlockPtr b = f.Propose({});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->header().tx_count, 0u);
  EXPECT_EQ(b->header().state_root, f.store->GetBlock(0).value()->header().state_root);
}

TEST(Chain, BlockTimeNeverGoesBack) {
  ChainFixture f;
  f.clock.Advance(10000);
  BlockPtr b1 = f.Propose({});
  ManualClock earlier(1000);  // far in the past
  Chain behind(f.store.get(), f.net.executor.get(), f.net.keys.node, &earlier);
  f.chain.reset();
  ASSERT_TRUE(behind.Open().ok());
  size_t bad = 0;
  auto b2 = behind.Propose({}, &bad);
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ((*b2)->header().time_ms, b1->header().time_ms);
}

TEST(Chain, WrongNonceIsRefusedAndNothingCommitted) {
  ChainFixture f;
  const SecretKey& admin = f.net.keys.hospital_admin;
  std::vector<TxPtr> txs = {RegisterTx(admin, 1, Key(70).public_key(), kHospital, "patient"),
                            RegisterTx(admin, 3, Key(71).public_key(), kHospital, "patient")};
  size_t bad = 99;
  auto r = f.chain->Propose(txs, &bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(f.chain->head().height, 0u);
  EXPECT_FALSE(f.store->GetBlock(1).ok());
  EXPECT_FALSE(f.store->FindTx(txs[0]->id()).has_value());
  EXPECT_EQ(Executor::LastNonce(*f.store, admin.public_key()), 0u);
  // Without the bad one the block commits.
  auto ok = f.chain->Propose({txs[0]}, &bad);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(f.chain->head().height, 1u);
}

TEST(Chain, RestartResumesAtTheSameHead) {
  ChainFixture f;
  f.AddBlocks(3, 2);
  ChainHead before = f.chain->head();
  ASSERT_EQ(before.height, 3u);
  f.Reopen();
  ChainHead after = f.chain->head();
  EXPECT_EQ(after.height, before.height);
  EXPECT_EQ(after.hash, before.hash);
  EXPECT_EQ(after.digest, before.digest);
  // And continues from there.
  f.nonces.clear();
  f.AddBlocks(1, 1);
  EXPECT_EQ(f.chain->head().height, 4u);
  EXPECT_EQ(f.store->GetBlock(4).value()->header().prev_hash, before.hash);
}

TEST(Chain, OpenRefusesAnotherNetworksStore) {
  ChainFixture f;
  f.chain.reset();
  testing::Keys keys;
  nlohmann::json other = testing::GenesisDoc(keys);
  other["chain_id"] = "another-network";
  testing::Network net(other);
  Chain c(f.store.get(), net.executor.get(), keys.node, &f.clock);
  Status s = c.Open();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("genesis"), std::string::npos);
}

TEST(Chain, OpenRefusesBlocksWithoutAHead) {
  ChainFixture f;
  f.AddBlocks(2, 1);
  f.chain.reset();
  ASSERT_TRUE(f.store->ResetTo(1).ok());  // an interrupted re-sync
  Chain c(f.store.get(), f.net.executor.get(), f.net.keys.node, &f.clock);
  Status s = c.Open();
  EXPECT_EQ(s.code(), Code::kCorruption);
}

TEST(Chain, OnCommitListenersSeeEveryBlock) {
  ChainFixture f;
  std::vector<uint64_t> seen;
  f.chain->OnCommit([&](const BlockPtr& b) { seen.push_back(b->header().height); });
  f.AddBlocks(3, 1);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(Chain, WaitForHeight) {
  ChainFixture f;
  // Already there: returns at once.
  EXPECT_EQ(f.chain->WaitForHeight(0, std::chrono::hours(1)), 0u);
  // Not reached: returns the current height after the timeout.
  EXPECT_EQ(f.chain->WaitForHeight(5, std::chrono::milliseconds(1)), 0u);
  // Woken by a commit on another thread.
  std::thread committer([&] { f.AddBlocks(2, 1); });
  uint64_t h = f.chain->WaitForHeight(2, std::chrono::seconds(30));
  committer.join();
  EXPECT_EQ(h, 2u);
}

}  // namespace
}  // namespace cc

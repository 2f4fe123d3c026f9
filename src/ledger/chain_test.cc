#include "ledger/chain.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "apps/identity/identity.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::ChainFixture;
using testing::Key;
using testing::MakeTx;
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

// ---------------------------------------------------------------------------
// Build/Commit and Apply: two nodes, each with its own store.

// Node B: run by the pharmacy (node A is the hospital's, testing::Keys().node).
SecretKey NodeB() { return Key(9); }

nlohmann::json TwoNodeDoc() {
  nlohmann::json d = testing::GenesisDoc(testing::Keys());
  d["orgs"][1]["nodes"] = nlohmann::json::array({NodeB().public_key().hex()});
  return d;
}

// Chain A (node key A) and chain B (node key B) over their own stores, from
// the same genesis.
struct TwoChains {
  TwoChains() : a(TwoNodeDoc()), b(TwoNodeDoc()) {
    b.chain = std::make_unique<Chain>(b.store.get(), b.net.executor.get(), NodeB(), &b.clock);
    Status s = b.chain->Open();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  // A registration of a new patient by the hospital's doctor, with A's
  // next nonce for the doctor.
  TxPtr Registration(uint8_t patient) {
    return a.Tx(a.net.keys.doctor, "register_actor",
                {{"key", Key(patient).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  }

  ChainFixture a;
  ChainFixture b;
};

// A copy of `block` after `edit` changed its header, transactions or
// results, with tx_count and tx_root made to match and the header signed
// by `key`: only the checks past the signature can catch the edit.
using BlockEdit = std::function<void(BlockHeader&, std::vector<TxPtr>&, std::vector<TxResult>&)>;
BlockPtr Remake(const BlockPtr& block, const SecretKey& key, const BlockEdit& edit) {
  BlockHeader h = block->header();
  std::vector<TxPtr> txs = block->txs();
  std::vector<TxResult> results = block->results();
  edit(h, txs, results);
  h.tx_count = txs.size();
  h.tx_root = Block::ComputeTxRoot(txs, results);
  Signature sig = key.Sign(AsBytes(Block::SigningMessage(h.Hash())));
  return Block::Make(std::move(h), sig, std::move(txs), std::move(results));
}

// `f.chain` refuses `bad` as corrupt, naming `what`, and commits nothing.
void ExpectRefused(ChainFixture& f, const BlockPtr& bad, const std::string& what) {
  ChainHead before = f.chain->head();
  Status s = f.chain->Apply(bad);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  ChainHead after = f.chain->head();
  EXPECT_EQ(after.height, before.height);
  EXPECT_EQ(after.hash, before.hash);
  EXPECT_EQ(after.digest, before.digest);
  EXPECT_EQ(f.store->Head()->hash, before.hash);
  EXPECT_FALSE(f.store->GetBlock(before.height + 1).ok());
  for (const auto& tx : bad->txs()) EXPECT_FALSE(f.store->FindTx(tx->id()).has_value());
}

TEST(Chain, ApplyReproducesABlockAnotherNodeBuilt) {
  TwoChains t;
  std::vector<uint64_t> applied;
  t.b.chain->OnCommit([&](const BlockPtr& blk) { applied.push_back(blk->header().height); });
  // Two blocks by A: registrations, and a transaction of an unknown key
  // (kept in the block with a rejection).
  t.a.clock.Advance(1000);
  auto built1 = t.a.chain->Build({t.Registration(61), t.Registration(62)}, nullptr);
  ASSERT_TRUE(built1.ok()) << built1.status().ToString();
  ASSERT_TRUE(t.a.chain->Commit(*built1).ok());
  TxPtr stranger = MakeTx(t.a.net.keys.outsider, 1, "identity", "register_actor",
                          {{"key", Key(63).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  BlockPtr block2 = t.a.Propose({t.Registration(64), stranger});
  ASSERT_TRUE(block2);
  EXPECT_NE(block2->results()[1].code, TxCode::kOk);

  ASSERT_TRUE(t.b.chain->Apply(built1->block).ok());
  Status s = t.b.chain->Apply(block2);
  ASSERT_TRUE(s.ok()) << s.ToString();

  ChainHead ha = t.a.chain->head(), hb = t.b.chain->head();
  EXPECT_EQ(hb.height, 2u);
  EXPECT_EQ(hb.hash, ha.hash);
  EXPECT_EQ(hb.digest.Root(), ha.digest.Root());
  EXPECT_EQ(hb.digest, ha.digest);
  EXPECT_EQ(t.b.store->Head()->hash, ha.hash);
  EXPECT_EQ(applied, (std::vector<uint64_t>{1, 2}));
  // B's store holds A's blocks and their effects.
  EXPECT_EQ(t.b.store->GetBlock(2).value()->encoded(), block2->encoded());
  auto loc = t.b.store->FindTx(stranger->id());
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->height, 2u);
  EXPECT_TRUE(identity::LookupActor(*t.b.store, Key(62).public_key()).has_value());
  EXPECT_FALSE(identity::LookupActor(*t.b.store, Key(63).public_key()).has_value());

  // And the other way round: B proposes, A applies.
  BlockPtr block3 = t.b.Propose({t.b.Tx(t.b.net.keys.doctor, "register_actor",
                                         {{"key", Key(65).public_key().hex()}, {"org", kHospital}, {"role", "patient"}})});
  ASSERT_TRUE(block3);
  EXPECT_EQ(block3->header().proposer, NodeB().public_key());
  s = t.a.chain->Apply(block3);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(t.a.chain->head().hash, t.b.chain->head().hash);
  EXPECT_EQ(t.a.chain->head().digest, t.b.chain->head().digest);
}

TEST(Chain, BuildDoesNotCommit) {
  ChainFixture f;
  std::vector<uint64_t> committed;
  f.chain->OnCommit([&](const BlockPtr& b) { committed.push_back(b->header().height); });
  ChainHead before = f.chain->head();
  TxPtr tx = f.Tx(f.net.keys.doctor, "register_actor",
                  {{"key", Key(66).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  f.clock.Advance(1000);
  auto built = f.chain->Build({tx}, nullptr);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const BlockPtr& block = built->block;
  EXPECT_EQ(block->header().height, 1u);
  EXPECT_EQ(block->header().prev_hash, before.hash);
  EXPECT_TRUE(block->VerifyProposerSignature());
  EXPECT_EQ(block->header().state_root, built->execution.digest.Root());
  // Nothing moved yet.
  EXPECT_EQ(f.chain->head().height, 0u);
  EXPECT_EQ(f.chain->head().hash, before.hash);
  EXPECT_EQ(f.store->Head()->hash, before.hash);
  EXPECT_FALSE(f.store->GetBlock(1).ok());
  EXPECT_FALSE(f.store->FindTx(tx->id()).has_value());
  EXPECT_FALSE(identity::LookupActor(*f.store, Key(66).public_key()).has_value());
  EXPECT_TRUE(committed.empty());
  // Building again from the same head gives the same block.
  auto again = f.chain->Build({tx}, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->block->hash(), block->hash());

  ASSERT_TRUE(f.chain->Commit(*built).ok());
  EXPECT_EQ(f.chain->head().height, 1u);
  EXPECT_EQ(f.chain->head().hash, block->hash());
  EXPECT_EQ(f.chain->head().digest.Root(), block->header().state_root);
  EXPECT_TRUE(f.store->FindTx(tx->id()).has_value());
  EXPECT_TRUE(identity::LookupActor(*f.store, Key(66).public_key()).has_value());
  EXPECT_EQ(committed, (std::vector<uint64_t>{1}));
}

TEST(Chain, BuildRefusesAWrongNonceWithoutCommitting) {
  ChainFixture f;
  const SecretKey& admin = f.net.keys.hospital_admin;
  std::vector<TxPtr> txs = {RegisterTx(admin, 1, Key(70).public_key(), kHospital, "patient"),
                            RegisterTx(admin, 1, Key(71).public_key(), kHospital, "patient")};
  size_t bad = 99;
  auto built = f.chain->Build(txs, &bad);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(f.chain->head().height, 0u);
}

TEST(Chain, CommitRefusesABuiltBlockAfterTheHeadMoved) {
  ChainFixture f;
  TxPtr tx = f.Tx(f.net.keys.doctor, "register_actor",
                  {{"key", Key(67).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  auto stale = f.chain->Build({tx}, nullptr);
  ASSERT_TRUE(stale.ok());
  BlockPtr other = f.Propose({});  // another block takes height 1
  ASSERT_TRUE(other);
  Status s = f.chain->Commit(*stale);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(f.chain->head().height, 1u);
  EXPECT_EQ(f.chain->head().hash, other->hash());
  EXPECT_EQ(f.store->GetBlock(1).value()->hash(), other->hash());
  EXPECT_FALSE(f.store->GetBlock(2).ok());
  EXPECT_FALSE(f.store->FindTx(tx->id()).has_value());
  EXPECT_FALSE(identity::LookupActor(*f.store, Key(67).public_key()).has_value());
  // Committing twice is refused too: the head is the block itself then.
  auto fresh = f.chain->Build({tx}, nullptr);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(f.chain->Commit(*fresh).ok());
  EXPECT_EQ(f.chain->Commit(*fresh).code(), Code::kFailedPrecondition);
  EXPECT_EQ(f.chain->head().height, 2u);
}

TEST(Chain, CommitRefusesABuiltBlockAfterApplyingAnotherNodesBlock) {
  TwoChains t;
  auto mine = t.b.chain->Build({}, nullptr);  // B's candidate for height 1
  ASSERT_TRUE(mine.ok());
  BlockPtr theirs = t.a.Propose({t.Registration(68)});  // A won height 1
  ASSERT_TRUE(theirs);
  ASSERT_TRUE(t.b.chain->Apply(theirs).ok());
  EXPECT_EQ(t.b.chain->Commit(*mine).code(), Code::kFailedPrecondition);
  EXPECT_EQ(t.b.chain->head().hash, theirs->hash());
}

// Apply refusals. Each builds a good block on A, spoils one thing, and
// checks that B refuses it and still accepts the good block afterwards.
class ChainApply : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.a.clock.Advance(1000);
    auto built = t_.a.chain->Build({t_.Registration(80), t_.Registration(81)}, nullptr);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    built_ = *built;
    good_ = built_.block;
  }
  // B refused something: the good block must still apply cleanly.
  void ExpectGoodBlockStillApplies() {
    Status s = t_.b.chain->Apply(good_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(t_.b.chain->head().hash, good_->hash());
    EXPECT_EQ(t_.b.chain->head().digest.Root(), good_->header().state_root);
  }
  const SecretKey& ProposerKey() const { return t_.a.net.keys.node; }

  TwoChains t_;
  Chain::Built built_;  // by A, not committed there
  BlockPtr good_;
};

TEST_F(ChainApply, RemakingWithoutAnEditIsAccepted) {
  // The helper itself: an unedited re-signed block is the same block.
  BlockPtr same = Remake(good_, ProposerKey(), [](auto&, auto&, auto&) {});
  EXPECT_EQ(same->hash(), good_->hash());
  Status s = t_.b.chain->Apply(same);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(t_.b.chain->head().hash, good_->hash());
}

TEST_F(ChainApply, RefusesAWrongHeight) {
  for (uint64_t height : {0ull, 2ull}) {
    BlockPtr bad = Remake(good_, ProposerKey(), [&](BlockHeader& h, auto&, auto&) { h.height = height; });
    SCOPED_TRACE(height);
    ExpectRefused(t_.b, bad, "height");
  }
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesABlockThatSkipsAHeight) {
  // A commits the good block and builds on it; B gets block 2 first.
  ASSERT_TRUE(t_.a.chain->Commit(built_).ok());
  BlockPtr block2 = t_.a.Propose({t_.Registration(82)});
  ASSERT_TRUE(block2);
  ExpectRefused(t_.b, block2, "height");
  ExpectGoodBlockStillApplies();
  ASSERT_TRUE(t_.b.chain->Apply(block2).ok());
  EXPECT_EQ(t_.b.chain->head().hash, t_.a.chain->head().hash);
}

TEST_F(ChainApply, RefusesAWrongPrevHash) {
  BlockPtr bad = Remake(good_, ProposerKey(), [](BlockHeader& h, auto&, auto&) {
    h.prev_hash = BlockHash::From(Blake2b256("not the genesis block"));
  });
  ExpectRefused(t_.b, bad, "prev_hash");
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesAProposerThatIsNotAGenesisNode) {
  // An outsider, and an admin (an actor of the network, but not a node).
  for (const SecretKey* key : {&t_.a.net.keys.outsider, &t_.a.net.keys.hospital_admin}) {
    BlockPtr bad = Remake(good_, *key, [&](BlockHeader& h, auto&, auto&) { h.proposer = key->public_key(); });
    ASSERT_TRUE(bad->VerifyProposerSignature());  // well signed, by the wrong key
    ExpectRefused(t_.b, bad, "not a node");
  }
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesAProposerSignatureByAnotherNode) {
  // Names node B as proposer but is signed by node A.
  BlockPtr bad = Remake(good_, ProposerKey(), [](BlockHeader& h, auto&, auto&) { h.proposer = NodeB().public_key(); });
  ExpectRefused(t_.b, bad, "proposer signature");
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesATamperedTransactionResult) {
  BlockPtr bad = Remake(good_, ProposerKey(), [](auto&, auto&, std::vector<TxResult>& results) {
    results[1] = TxResult::Reject(TxCode::kUnauthorized, "tampered");
  });
  ASSERT_TRUE(bad->VerifyProposerSignature());
  ExpectRefused(t_.b, bad, "different result");
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesATamperedStateRoot) {
  BlockPtr bad = Remake(good_, ProposerKey(), [](BlockHeader& h, auto&, auto&) {
    h.state_root = Blake2b256("another state");
  });
  ExpectRefused(t_.b, bad, "state_root");
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesATamperedChangesHash) {
  BlockPtr bad = Remake(good_, ProposerKey(), [](BlockHeader& h, auto&, auto&) {
    h.changes_hash = Blake2b256("other changes");
  });
  ExpectRefused(t_.b, bad, "changes_hash");
  ExpectGoodBlockStillApplies();
}

TEST_F(ChainApply, RefusesATransactionWithABadSignature) {
  BlockPtr bad = Remake(good_, ProposerKey(), [](auto&, std::vector<TxPtr>& txs, auto&) {
    // Another patient's key under the original signature.
    TxBody body = txs[0]->body();
    TxPtr other = MakeTx(Key(2), 1, "identity", "register_actor",
                         {{"key", Key(83).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
    body.payload = other->body().payload;
    txs[0] = Transaction::FromParts(body, txs[0]->signature());
  });
  ASSERT_FALSE(bad->txs()[0]->VerifySignature());
  ExpectRefused(t_.b, bad, "bad signature");
  EXPECT_FALSE(identity::LookupActor(*t_.b.store, Key(83).public_key()).has_value());
  ExpectGoodBlockStillApplies();
}

}  // namespace
}  // namespace cc

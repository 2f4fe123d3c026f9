#include "ledger/verifier.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "apps/identity/identity.h"
#include "codec/varint.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::ChainFixture;
using testing::Key;

VerifyOptions Full() { return VerifyOptions{}; }
VerifyOptions Quick() {
  VerifyOptions o;
  o.signatures = false;
  o.reexecute = false;
  return o;
}

std::string HeightKey(uint64_t h) {
  std::string k;
  AppendBigEndian64(&k, h);
  return k;
}

// Writes (or deletes, if `value` is nullopt) one raw entry of the closed
// store in `dir`, behind ChainStore's back, as a disk fault or an attacker would.
void RawWrite(const std::string& dir, const std::string& cf, const std::string& key,
              const std::optional<std::string>& value) {
  rocksdb::Options opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {"blocks", {}}, {"txs", {}}, {"state", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, cfs, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  rocksdb::ColumnFamilyHandle* h = nullptr;
  for (size_t i = 0; i < cfs.size(); ++i) {
    if (cfs[i].name == cf) h = handles[i];
  }
  ASSERT_NE(h, nullptr) << cf;
  s = value ? db->Put(rocksdb::WriteOptions(), h, key, *value) : db->Delete(rocksdb::WriteOptions(), h, key);
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (auto* handle : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  EXPECT_TRUE(db->Close().ok());
  delete db;
}

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.AddBlocks(/*n=*/5, /*per_block=*/3);
    ASSERT_EQ(f_.chain->head().height, 5u);
  }

  // Closes the chain and store, runs `edit` on the raw store, re-opens the store.
  void Tamper(const std::function<void(const std::string& dir)>& edit) {
    f_.chain.reset();
    f_.store.reset();
    edit(f_.dir.file("chain"));
    auto s = ChainStore::Open(f_.dir.file("chain"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    f_.store = std::move(*s);
  }

  VerifyReport Verify(const VerifyOptions& o) { return VerifyChain(*f_.store, *f_.net.executor, o); }

  // A block like stored block `h`, with a header edit, re-signed by `signer`.
  BlockPtr Resigned(uint64_t h, const std::function<void(BlockHeader&)>& edit, const SecretKey& signer) {
    BlockPtr b = f_.store->GetBlock(h).value();
    BlockHeader hdr = b->header();
    edit(hdr);
    hdr.proposer = signer.public_key();
    Signature sig = signer.Sign(AsBytes(Block::SigningMessage(hdr.Hash())));
    return Block::Make(hdr, sig, b->txs(), b->results());
  }

  ChainFixture f_;
};

TEST_F(VerifierTest, AGoodChainPassesFullAndQuick) {
  for (const auto& opt : {Full(), Quick()}) {
    VerifyReport r = Verify(opt);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.blocks, 6u);
    EXPECT_EQ(r.transactions, 15u);
    EXPECT_EQ(r.head.height, 5u);
    EXPECT_FALSE(r.bad_height.has_value());
  }
  VerifyOptions one_thread;
  one_thread.threads = 1;
  EXPECT_TRUE(Verify(one_thread).ok);
}

TEST_F(VerifierTest, AnEmptyStoreFails) {
  testing::TempDir dir;
  auto s = ChainStore::Open(dir.file("empty"));
  ASSERT_TRUE(s.ok());
  VerifyReport r = VerifyChain(**s, *f_.net.executor, Full());
  EXPECT_FALSE(r.ok);
}

TEST_F(VerifierTest, AFlippedByteInAStoredBlockNamesItsHeight) {
  std::string raw = f_.store->GetBlockRaw(3).value();
  raw[raw.size() - 10] ^= 0x01;  // inside the last transaction's signature
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(3), raw); });
  for (const auto& opt : {Full(), Quick()}) {
    VerifyReport r = Verify(opt);
    EXPECT_FALSE(r.ok);
    ASSERT_TRUE(r.bad_height.has_value()) << r.error;
    EXPECT_EQ(*r.bad_height, 3u) << r.error;
    EXPECT_NE(r.error.find("block 3"), std::string::npos) << r.error;
  }
}

TEST_F(VerifierTest, AnUndecodableBlockNamesItsHeight) {
  std::string raw = f_.store->GetBlockRaw(2).value();
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(2), raw.substr(0, raw.size() / 2)); });
  VerifyReport r = Verify(Quick());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 2u) << r.error;
  EXPECT_NE(r.error.find("decode"), std::string::npos) << r.error;
}

TEST_F(VerifierTest, AMissingBlockNamesItsHeight) {
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(4), std::nullopt); });
  VerifyReport r = Verify(Quick());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 4u) << r.error;
}

TEST_F(VerifierTest, AnEditedHeaderBreaksTheProposerSignature) {
  BlockPtr b = f_.store->GetBlock(2).value();
  BlockHeader h = b->header();
  h.time_ms += 1;
  BlockPtr edited = Block::Make(h, b->signature(), b->txs(), b->results());
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(2), edited->encoded()); });
  VerifyReport r = Verify(Quick());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 2u);
  EXPECT_NE(r.error.find("signature"), std::string::npos) << r.error;
}

TEST_F(VerifierTest, AResignedBlockBreaksTheHashLinkOrReexecution) {
  // The node's own key re-signs block 2 with another state_root: block 2's
  // own checks pass in quick mode, block 3's link does not; full mode
  // catches block 2 itself.
  BlockPtr forged = Resigned(2, [](BlockHeader& h) { h.state_root.bytes[0] ^= 1; }, f_.net.keys.node);
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(2), forged->encoded()); });
  VerifyReport quick = Verify(Quick());
  EXPECT_FALSE(quick.ok);
  EXPECT_EQ(quick.bad_height, 3u) << quick.error;
  EXPECT_NE(quick.error.find("prev_hash"), std::string::npos) << quick.error;
  VerifyReport full = Verify(Full());
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.bad_height, 2u) << full.error;
  EXPECT_NE(full.error.find("state_root"), std::string::npos) << full.error;
}

TEST_F(VerifierTest, AChangedResultIsCaughtByReexecution) {
  // Block 5 (the head, so no later link breaks) claims its first
  // transaction failed; tx_root and signature are made consistent.
  BlockPtr b = f_.store->GetBlock(5).value();
  auto results = b->results();
  results[0] = TxResult::Reject(TxCode::kUnauthorized, "forged");
  BlockHeader h = b->header();
  h.tx_root = Block::ComputeTxRoot(b->txs(), results);
  Signature sig = f_.net.keys.node.Sign(AsBytes(Block::SigningMessage(h.Hash())));
  BlockPtr forged = Block::Make(h, sig, b->txs(), results);
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(5), forged->encoded()); });
  // The head record still names the original hash.
  VerifyReport quick = Verify(Quick());
  EXPECT_FALSE(quick.ok);
  EXPECT_NE(quick.error.find("head"), std::string::npos) << quick.error;
  VerifyReport full = Verify(Full());
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.bad_height, 5u);
  EXPECT_NE(full.error.find("different result"), std::string::npos) << full.error;
}

TEST_F(VerifierTest, AProposerOutsideTheNetworkIsRefused) {
  BlockPtr forged = Resigned(5, [](BlockHeader&) {}, Key(200));
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(5), forged->encoded()); });
  VerifyReport r = Verify(Full());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 5u);
  EXPECT_NE(r.error.find("not a node"), std::string::npos) << r.error;
}

TEST_F(VerifierTest, ABlockTimeGoingBackIsRefused) {
  BlockPtr prev = f_.store->GetBlock(4).value();
  BlockPtr forged = Resigned(5, [&](BlockHeader& h) { h.time_ms = prev->header().time_ms - 1; }, f_.net.keys.node);
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(5), forged->encoded()); });
  VerifyReport r = Verify(Quick());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 5u);
  EXPECT_NE(r.error.find("time"), std::string::npos) << r.error;
}

TEST_F(VerifierTest, AForgedTransactionSignatureIsFoundInFullMode) {
  // Replace transaction 1 of block 4 by a copy with another signature and
  // make the block self-consistent again (as a malicious proposer would).
  BlockPtr b = f_.store->GetBlock(4).value();
  auto txs = b->txs();
  txs[1] = Transaction::FromParts(txs[1]->body(), Key(201).Sign(AsBytes(std::string_view("x"))));
  BlockHeader h = b->header();
  h.tx_root = Block::ComputeTxRoot(txs, b->results());
  Signature sig = f_.net.keys.node.Sign(AsBytes(Block::SigningMessage(h.Hash())));
  BlockPtr forged = Block::Make(h, sig, txs, b->results());
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(4), forged->encoded()); });
  VerifyOptions sigs_only;
  sigs_only.reexecute = false;
  VerifyReport r = Verify(sigs_only);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_height, 4u);
  EXPECT_NE(r.error.find("transaction 1"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("bad signature"), std::string::npos) << r.error;
}

TEST_F(VerifierTest, AChangedStateEntryIsNamed) {
  const std::string key = identity::ActorKey(f_.net.keys.doctor.public_key());
  Tamper([&](const std::string& dir) { RawWrite(dir, "state", key, std::string(R"({"role":"admin"})")); });
  for (const auto& opt : {Full(), Quick()}) {
    VerifyReport r = Verify(opt);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.bad_height.has_value()) << r.error;  // every block checked out
    EXPECT_NE(r.error.find("state store"), std::string::npos) << r.error;
  }
  VerifyReport full = Verify(Full());
  EXPECT_NE(full.error.find(key), std::string::npos) << full.error;
}

TEST_F(VerifierTest, AnExtraOrMissingStateEntryIsNamed) {
  Tamper([&](const std::string& dir) { RawWrite(dir, "state", "identity/zzz", std::string("x")); });
  VerifyReport extra = Verify(Full());
  EXPECT_FALSE(extra.ok);
  EXPECT_NE(extra.error.find("identity/zzz"), std::string::npos) << extra.error;
  Tamper([&](const std::string& dir) { RawWrite(dir, "state", "identity/zzz", std::nullopt); });
  EXPECT_TRUE(Verify(Full()).ok);
  const std::string key = "identity/org/apotheke-am-markt";
  Tamper([&](const std::string& dir) { RawWrite(dir, "state", key, std::nullopt); });
  VerifyReport missing = Verify(Full());
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find(key), std::string::npos) << missing.error;
}

TEST_F(VerifierTest, ReplayRebuildsAnIdenticalState) {
  ChainHead before = *f_.store->Head();
  std::map<std::string, std::string> state_before;
  f_.store->Scan("", "", [&](std::string_view k, std::string_view v) {
    state_before.emplace(k, v);
    return true;
  });
  // Damage the state, then rebuild it from the blocks.
  const std::string key = identity::ActorKey(f_.net.keys.doctor.public_key());
  Tamper([&](const std::string& dir) { RawWrite(dir, "state", key, std::string("garbage")); });
  ASSERT_FALSE(Verify(Quick()).ok);
  ASSERT_TRUE(f_.store->ResetTo(before.height).ok());
  EXPECT_EQ(f_.store->ResyncTarget(), before.height);
  Status s = ReplayChain(*f_.store, *f_.net.executor, before.height);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(f_.store->ResyncTarget().has_value());
  ChainHead after = *f_.store->Head();
  EXPECT_EQ(after.height, before.height);
  EXPECT_EQ(after.hash, before.hash);
  EXPECT_EQ(after.digest, before.digest);
  std::map<std::string, std::string> state_after;
  f_.store->Scan("", "", [&](std::string_view k, std::string_view v) {
    state_after.emplace(k, v);
    return true;
  });
  EXPECT_EQ(state_after, state_before);
  EXPECT_TRUE(Verify(Full()).ok);
  // The tx index is rebuilt too.
  BlockPtr b3 = f_.store->GetBlock(3).value();
  auto loc = f_.store->FindTx(b3->txs()[2]->id());
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->height, 3u);
  EXPECT_EQ(loc->index, 2u);
}

TEST_F(VerifierTest, ReplayToAnEarlierHeightDropsLaterBlocks) {
  ChainHead h3;
  {
    // The head as it was at height 3: re-derive by replaying a copy.
    BlockPtr b3 = f_.store->GetBlock(3).value();
    h3.hash = b3->hash();
  }
  ASSERT_TRUE(f_.store->ResetTo(3).ok());
  ASSERT_TRUE(ReplayChain(*f_.store, *f_.net.executor, 3).ok());
  auto head = f_.store->Head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->height, 3u);
  EXPECT_EQ(head->hash, h3.hash);
  EXPECT_FALSE(f_.store->GetBlock(4).ok());
  EXPECT_TRUE(Verify(Full()).ok);
  EXPECT_EQ(Verify(Full()).transactions, 9u);
}

TEST_F(VerifierTest, ReplayStopsAtABadBlock) {
  BlockPtr forged = Resigned(2, [](BlockHeader& h) { h.changes_hash.bytes[0] ^= 1; }, f_.net.keys.node);
  Tamper([&](const std::string& dir) { RawWrite(dir, "blocks", HeightKey(2), forged->encoded()); });
  Status s = ReplayChain(*f_.store, *f_.net.executor, 5);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("block 2"), std::string::npos) << s.message();
}

TEST(FirstBadSignature, FindsTheFirstBadOneWithManyThreads) {
  std::vector<TxPtr> txs;
  for (int i = 0; i < 300; ++i) {
    txs.push_back(testing::MakeTx(Key(static_cast<uint8_t>(i % 7)), static_cast<uint64_t>(i + 1), "m", "a", {}));
  }
  EXPECT_FALSE(FirstBadSignature(txs, 2).has_value());
  EXPECT_FALSE(FirstBadSignature(txs, 1).has_value());
  auto bad = [](const TxPtr& t) { return Transaction::FromParts(t->body(), Signature{}); };
  txs[250] = bad(txs[250]);
  txs[77] = bad(txs[77]);
  txs[200] = bad(txs[200]);
  for (int threads : {1, 2, 4}) {
    auto r = FirstBadSignature(txs, threads);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 77u) << threads;
  }
  EXPECT_FALSE(FirstBadSignature({}, 2).has_value());
}

}  // namespace
}  // namespace cc

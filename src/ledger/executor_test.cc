#include "ledger/executor.h"

#include <gtest/gtest.h>

#include "apps/identity/identity.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;
using testing::MemLedger;
using testing::RegisterTx;

constexpr const char* kHospital = "st-marien-hospital";

// The digest of a whole state, computed from scratch.
StateDigest DigestOf(const MemState& s) {
  StateDigest d;
  for (const auto& [k, v] : s.entries()) d.Add(k, v);
  return d;
}

TEST(Executor, GenesisStateAndHeader) {
  testing::Network net;
  MemState empty;
  auto g = net.executor->ExecuteGenesis(empty);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->results.empty());
  EXPECT_TRUE(g->writes.count("identity/org/st-marien-hospital"));
  EXPECT_TRUE(g->writes.count("identity/actor/" + net.keys.doctor.public_key().hex()));
  EXPECT_TRUE(g->writes.count("identity/node/" + net.keys.node.public_key().hex()));
  MemState s;
  s.Apply(g->writes);
  EXPECT_EQ(g->digest, DigestOf(s));
  EXPECT_EQ(g->changes_hash, Executor::ChangesHash(g->writes));

  BlockHeader h = net.executor->GenesisHeader(*g);
  EXPECT_EQ(h.height, 0u);
  EXPECT_EQ(h.chain_id, testing::kChainId);
  EXPECT_EQ(h.time_ms, 1700000000000ull);
  EXPECT_EQ(h.tx_root, net.genesis.hash);
  EXPECT_EQ(h.state_root, g->digest.Root());
  EXPECT_EQ(h.changes_hash, g->changes_hash);
  EXPECT_TRUE(h.prev_hash.IsZero());
  EXPECT_EQ(h.tx_count, 0u);
}

TEST(Executor, NoncesAreConsumedAndStored) {
  MemLedger l;
  const PublicKey admin = l.net.keys.hospital_admin.public_key();
  EXPECT_EQ(Executor::LastNonce(l.state, admin), 0u);
  auto e = l.Run({l.Tx(l.net.keys.hospital_admin, "register_actor",
                       {{"key", Key(60).public_key().hex()}, {"org", kHospital}, {"role", "patient"}}),
                  l.Tx(l.net.keys.hospital_admin, "register_actor",
                       {{"key", Key(61).public_key().hex()}, {"org", kHospital}, {"role", "patient"}})});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->results.size(), 2u);
  EXPECT_TRUE(e->results[0].ok());
  EXPECT_TRUE(e->results[1].ok());
  EXPECT_EQ(Executor::LastNonce(l.state, admin), 2u);
  auto raw = l.state.Get(Executor::NonceKey(admin));
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, std::string("\0\0\0\0\0\0\0\x02", 8));  // big-endian u64
  EXPECT_EQ(Executor::NonceKey(admin), "ledger/nonce/" + admin.hex());
}

TEST(Executor, WrongNonceMakesTheBlockFailWithItsIndex) {
  MemLedger l;
  const SecretKey& admin = l.net.keys.hospital_admin;
  auto reg = [&](uint64_t nonce, uint8_t who) {
    return RegisterTx(admin, nonce, Key(who).public_key(), kHospital, "patient");
  };
  const auto before = l.state.entries();
  size_t bad = 99;
  // A gap.
  auto e = l.Run({reg(1, 60), reg(3, 61)}, &bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(bad, 1u);
  EXPECT_NE(e.status().message().find("expected 2"), std::string::npos) << e.status().message();
  // A repeat inside one block.
  bad = 99;
  EXPECT_FALSE(l.Run({reg(1, 60), reg(2, 61), reg(2, 62)}, &bad).ok());
  EXPECT_EQ(bad, 2u);
  // Starting past 1.
  bad = 99;
  EXPECT_FALSE(l.Run({reg(2, 60)}, &bad).ok());
  EXPECT_EQ(bad, 0u);
  // Nonce 0 is never valid (CheckTx).
  bad = 99;
  EXPECT_FALSE(l.Run({reg(0, 60)}, &bad).ok());
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(l.state.entries(), before);  // nothing applied
  EXPECT_EQ(l.height, 0u);
  // Replaying a committed nonce.
  ASSERT_TRUE(l.Run({reg(1, 60)}).ok());
  bad = 99;
  EXPECT_FALSE(l.Run({reg(1, 63)}, &bad).ok());
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(l.Run({reg(2, 63)}).ok());
}

TEST(Executor, RejectedTransactionsWriteOnlyTheirNonce) {
  MemLedger l;
  auto e = l.Run({l.Tx(l.net.keys.pharmacist, "register_actor",
                       {{"key", Key(64).public_key().hex()}, {"org", kHospital}, {"role", "patient"}})});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->results[0].code, TxCode::kUnauthorized);
  ASSERT_EQ(e->writes.size(), 1u);
  EXPECT_EQ(e->writes.begin()->first, Executor::NonceKey(l.net.keys.pharmacist.public_key()));
}

TEST(Executor, DigestTracksTheStateAcrossBlocks) {
  MemLedger l;
  for (int b = 0; b < 4; ++b) {
    std::vector<TxPtr> txs;
    for (int i = 0; i < 3; ++i) {
      txs.push_back(l.Tx(l.net.keys.doctor, "register_actor",
                         {{"key", Key(static_cast<uint8_t>(100 + b * 3 + i)).public_key().hex()},
                          {"org", kHospital},
                          {"role", "patient"}}));
    }
    auto e = l.Run(txs);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(l.digest, DigestOf(l.state)) << "block " << b;
  }
  // A revocation overwrites a value: the old one is removed from the digest.
  ASSERT_TRUE(l.Run({l.Tx(l.net.keys.hospital_admin, "revoke_actor",
                          {{"key", Key(100).public_key().hex()}})}).ok());
  EXPECT_EQ(l.digest, DigestOf(l.state));
}

TEST(Executor, ExecutionIsDeterministic) {
  MemLedger l;
  std::vector<TxPtr> txs;
  for (int i = 0; i < 6; ++i) {
    txs.push_back(l.Tx(i % 2 ? l.net.keys.hospital_admin : l.net.keys.pharmacist, "register_actor",
                       {{"key", Key(static_cast<uint8_t>(120 + i)).public_key().hex()},
                        {"org", kHospital},
                        {"role", "provider"}}));
  }
  txs.push_back(l.Tx(l.net.keys.patient, "rotate_key", {{"new_key", Key(130).public_key().hex()}}));
  auto a = l.net.executor->ExecuteBlock(l.state, l.digest, 1, 5, txs);
  auto b = l.net.executor->ExecuteBlock(l.state, l.digest, 1, 5, txs);
  // A second, independent network from the same genesis.
  MemLedger other;
  auto c = other.net.executor->ExecuteBlock(other.state, other.digest, 1, 5, txs);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (const auto* x : {&*b, &*c}) {
    EXPECT_EQ(x->results, a->results);
    EXPECT_EQ(x->writes, a->writes);
    EXPECT_EQ(x->changes_hash, a->changes_hash);
    EXPECT_EQ(x->digest, a->digest);
  }
  // Results alternate: the pharmacist may not register hospital providers.
  EXPECT_EQ(a->results[0].code, TxCode::kUnauthorized);
  EXPECT_EQ(a->results[1].code, TxCode::kOk);
  // The block's height is recorded, so executing at another height differs.
  auto d = l.net.executor->ExecuteBlock(l.state, l.digest, 2, 5, txs);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->changes_hash, a->changes_hash);
}

TEST(Executor, ChangesHashCoversKeysValuesAndDeletions) {
  WriteSet a = {{"k1", std::string("v1")}, {"k2", std::nullopt}};
  WriteSet b = {{"k1", std::string("v1")}, {"k2", std::string("")}};
  WriteSet c = {{"k1", std::string("v2")}, {"k2", std::nullopt}};
  WriteSet d = {{"k1", std::string("v1")}};
  EXPECT_NE(Executor::ChangesHash(a), Executor::ChangesHash(b));  // deletion vs empty value
  EXPECT_NE(Executor::ChangesHash(a), Executor::ChangesHash(c));
  EXPECT_NE(Executor::ChangesHash(a), Executor::ChangesHash(d));
  EXPECT_EQ(Executor::ChangesHash(a), Executor::ChangesHash(WriteSet(a)));
  // Length-prefixed: moving bytes between key and value changes the hash.
  EXPECT_NE(Executor::ChangesHash({{"ab", std::string("c")}}), Executor::ChangesHash({{"a", std::string("bc")}}));
}

class CheckTxTest : public ::testing::Test {
 protected:
  Status Check(const TxPtr& tx) const { return net_.executor->CheckTx(*tx); }
  TxPtr Valid(const std::string& chain = testing::kChainId) const {
    return MakeTx(net_.keys.doctor, 1, "identity", "rotate_key", {{"new_key", Key(70).public_key().hex()}}, chain);
  }
  testing::Network net_;
};

TEST_F(CheckTxTest, AcceptsAValidTransaction) { EXPECT_TRUE(Check(Valid()).ok()); }

TEST_F(CheckTxTest, WrongChainId) {
  Status s = Check(Valid("other-chain"));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("chain id"), std::string::npos);
}

TEST_F(CheckTxTest, UnknownModuleOrAction) {
  Status s = Check(MakeTx(net_.keys.doctor, 1, "nosuchmodule", "add", {{"x", 1}}));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown module"), std::string::npos);
  s = Check(MakeTx(net_.keys.doctor, 1, "identity", "delete_everything", nlohmann::json::object()));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown action"), std::string::npos);
}

TEST_F(CheckTxTest, SchemaErrors) {
  const std::string key = Key(70).public_key().hex();
  auto check = [&](const nlohmann::json& payload, const std::string& what) {
    Status s = Check(MakeTx(net_.keys.doctor, 1, "identity", "register_actor", payload));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << payload.dump();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("identity.register_actor"), std::string::npos) << s.message();
  };
  check({{"key", key}, {"org", kHospital}, {"role", "patient"}, {"note", "x"}}, "unknown field");
  check({{"key", key}, {"org", kHospital}}, "missing field");
  check({{"key", "xyz"}, {"org", kHospital}, {"role", "patient"}}, "hex");
  check({{"key", key}, {"org", kHospital}, {"role", "wizard"}}, "one of");
}

TEST_F(CheckTxTest, NonCanonicalPayload) {
  TxBody b;
  b.chain_id = testing::kChainId;
  b.actor = net_.keys.doctor.public_key();
  b.nonce = 1;
  b.module = "identity";
  b.action = "rotate_key";
  b.payload = "{ \"new_key\": \"" + Key(70).public_key().hex() + "\" }";
  Status s = Check(Transaction::Sign(b, net_.keys.doctor));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  b.payload = "not json";
  EXPECT_EQ(Check(Transaction::Sign(b, net_.keys.doctor)).code(), Code::kInvalidArgument);
}

TEST_F(CheckTxTest, NonceZero) {
  TxPtr tx = MakeTx(net_.keys.doctor, 0, "identity", "rotate_key", {{"new_key", Key(70).public_key().hex()}});
  EXPECT_EQ(Check(tx).code(), Code::kInvalidArgument);
}

TEST(CheckTxSize, OversizeTransactionIsTooLarge) {
  testing::Keys keys;
  testing::Network net(testing::GenesisDoc(keys, {{"max_tx_bytes", 512}}));
  ASSERT_EQ(net.genesis.params.max_tx_bytes, 512u);
  // A small valid transaction passes; padding the (still valid) reason over 512 bytes fails.
  TxPtr small = MakeTx(keys.doctor, 1, "identity", "revoke_actor", {{"key", keys.doctor.public_key().hex()}});
  EXPECT_TRUE(net.executor->CheckTx(*small).ok());
  TxPtr big = MakeTx(keys.doctor, 1, "identity", "revoke_actor",
                     {{"key", keys.doctor.public_key().hex()}, {"reason", std::string(200, 'r')}});
  TxPtr bigger = MakeTx(keys.doctor, 1, "identity", "revoke_actor",
                        {{"key", keys.doctor.public_key().hex()}, {"reason", std::string(200, 'r')},
                         {"padding", std::string(300, 'p')}});
  ASSERT_GT(bigger->encoded().size(), 512u);
  Status s = net.executor->CheckTx(*bigger);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_NE(s.message().find("limit 512"), std::string::npos);
  if (big->encoded().size() <= 512) {
    EXPECT_TRUE(net.executor->CheckTx(*big).ok());
  }
}

TEST(CheckTxSize, ExecuteBlockRefusesWhatCheckTxRefuses) {
  MemLedger l;
  TxPtr wrong_chain = MakeTx(l.net.keys.doctor, 1, "identity", "rotate_key",
                             {{"new_key", Key(71).public_key().hex()}}, "other");
  size_t bad = 99;
  auto e = l.net.executor->ExecuteBlock(l.state, l.digest, 1, 1, {wrong_chain}, &bad);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(bad, 0u);
}

// A module that rejects with a caller-chosen detail, for the executor's own rules.
class EchoModule : public Module {
 public:
  std::string_view name() const override { return "echo"; }
  Status Check(std::string_view, const nlohmann::json&) const override { return Status::Ok(); }
  TxResult Execute(const TxContext& ctx, Overlay& state) const override {
    state.Put("echo/" + std::to_string(ctx.tx.body().nonce), "written");
    if (ctx.payload.contains("fail")) {
      return TxResult::Reject(TxCode::kFailedPrecondition, ctx.payload["fail"].get<std::string>());
    }
    return TxResult::Ok();
  }
};

TEST(Executor, FailedTransactionWritesAreDiscardedAndLongDetailsTruncated) {
  testing::Keys keys;
  Genesis g = *Genesis::Parse(testing::GenesisDoc(keys).dump());
  ModuleRegistry modules;
  modules.Add(std::make_unique<EchoModule>());  // no authority: every key may act
  Executor ex(&modules, &g);
  MemState s;
  auto e = ex.ExecuteBlock(s, StateDigest(), 1, 1,
                           {MakeTx(keys.outsider, 1, "echo", "x", {{"fail", std::string(1000, 'd')}}),
                            MakeTx(keys.outsider, 2, "echo", "x", nlohmann::json::object())});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->results[0].code, TxCode::kFailedPrecondition);
  EXPECT_EQ(e->results[0].detail.size(), kMaxResultDetail);
  EXPECT_TRUE(e->results[1].ok());
  EXPECT_FALSE(e->writes.count("echo/1"));
  EXPECT_TRUE(e->writes.count("echo/2"));
}

TEST(Executor, TruncatedDetailStaysValidUtf8) {
  // A detail cut in the middle of a multi-byte character would make the
  // block's JSON view (and every API reply that shows it) fail to serialise.
  testing::Keys keys;
  Genesis g = *Genesis::Parse(testing::GenesisDoc(keys).dump());
  ModuleRegistry modules;
  modules.Add(std::make_unique<EchoModule>());
  Executor ex(&modules, &g);
  MemState s;
  std::string detail(kMaxResultDetail - 1, 'a');
  detail += "\xc3\xa9\xc3\xa9";  // "éé": the first straddles the limit
  TxPtr tx = MakeTx(keys.outsider, 1, "echo", "x", {{"fail", detail}});
  auto e = ex.ExecuteBlock(s, StateDigest(), 1, 1, {tx});
  ASSERT_TRUE(e.ok());
  const std::string& got = e->results[0].detail;
  EXPECT_LE(got.size(), kMaxResultDetail);
  EXPECT_EQ(got, std::string(kMaxResultDetail - 1, 'a'));
  nlohmann::json j = {{"detail", got}};
  EXPECT_NO_THROW(j.dump());
}

}  // namespace
}  // namespace cc

#include "admission/admission.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "testing/queue_orderer.h"
#include "testing/test_util.h"

namespace cc::admission {
namespace {

using testing::Key;
using testing::MakeTx;

constexpr const char* kHospital = "st-marien-hospital";

class AdmissionTest : public ::testing::Test {
 protected:
  // A registration of a new patient by the doctor, with the next nonce.
  TxPtr NewTx() {
    return f_.Tx(k().doctor, "register_actor",
                 {{"key", Key(static_cast<uint8_t>(next_key_++)).public_key().hex()},
                  {"org", kHospital},
                  {"role", "patient"}});
  }

  // Commits what was queued, plus `extra`, as the next block.
  BlockPtr Commit(const std::vector<TxPtr>& extra = {}) {
    std::vector<TxPtr> txs = orderer_.Take();
    const std::vector<TxPtr> taken = txs;
    txs.insert(txs.end(), extra.begin(), extra.end());
    BlockPtr b = f_.Propose(txs);
    orderer_.Done(taken, /*committed=*/b != nullptr);
    return b;
  }

  uint64_t Refused(const std::string& reason) {
    return metrics_.Counter("carechain_tx_refused_total", "reason=\"" + reason + "\"").load();
  }
  uint64_t Admitted() { return metrics_.Counter("carechain_tx_admitted_total").load(); }

  // Expects `s` to be a refusal with `code` whose message holds `part`.
  static void ExpectRefused(const Status& s, Code code, const std::string& part) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(part), std::string::npos) << s.ToString();
  }

  const testing::Keys& k() { return f_.net.keys; }

  testing::ChainFixture f_;
  testing::QueueOrderer orderer_{f_.chain.get()};
  Metrics metrics_;
  ManualClock clock_{1};  // the admission's latency clock, apart from the chain's
  Admission admission_{f_.chain.get(), &orderer_, &metrics_, &clock_};
  int next_key_ = 100;
};

TEST_F(AdmissionTest, AnAcceptedTransactionReachesTheOrdererAndCommits) {
  EXPECT_EQ(Admitted(), 0u);
  EXPECT_NE(metrics_.Render().find("carechain_tx_admitted_total 0"), std::string::npos);
  TxPtr tx = NewTx();
  ASSERT_TRUE(admission_.Admit(tx).ok());
  EXPECT_TRUE(orderer_.IsPending(tx->id()));
  EXPECT_EQ(orderer_.submitted.load(), 1u);
  EXPECT_EQ(Admitted(), 1u);
  BlockPtr b = Commit();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->txs().size(), 1u);
  EXPECT_EQ(b->txs()[0]->id(), tx->id());
  EXPECT_TRUE(b->results()[0].ok()) << b->results()[0].detail;
}

TEST_F(AdmissionTest, ACheckTxFailureIsRefusedBeforeAnythingElse) {
  // Wrong chain id, and a signature that does not verify: CheckTx answers.
  TxBody body = MakeTx(k().doctor, 1, "identity", "register_actor", {})->body();
  body.chain_id = "another-network";
  TxPtr foreign = Transaction::FromParts(body, MakeTx(k().patient, 1, "identity", "x", {})->signature());
  ExpectRefused(admission_.Admit(foreign), Code::kInvalidArgument, "wrong chain id");
  // A payload the module's schema refuses.
  ExpectRefused(admission_.Admit(MakeTx(k().doctor, 1, "identity", "register_actor", {{"org", kHospital}})),
                Code::kInvalidArgument, "identity.register_actor");
  ExpectRefused(admission_.Admit(MakeTx(k().doctor, 1, "nosuchmodule", "x", {})), Code::kInvalidArgument,
                "unknown module");
  EXPECT_EQ(Refused("invalid_argument"), 3u);
  EXPECT_EQ(Admitted(), 0u);
  EXPECT_EQ(orderer_.submitted.load(), 0u);
}

TEST_F(AdmissionTest, ABadSignatureIsRefused) {
  TxPtr good = NewTx();
  TxPtr forged = Transaction::FromParts(good->body(), NewTx()->signature());
  ExpectRefused(admission_.Admit(forged), Code::kInvalidArgument, "bad signature");
  EXPECT_FALSE(orderer_.IsPending(forged->id()));
  EXPECT_EQ(Refused("invalid_argument"), 1u);
  // The genuine one still goes through.
  EXPECT_TRUE(admission_.Admit(good).ok());
}

TEST_F(AdmissionTest, AReusedNonceIsRefusedBeforeTheSignatureCheck) {
  TxPtr first = NewTx();
  ASSERT_TRUE(admission_.Admit(first).ok());
  ASSERT_TRUE(Commit());
  // Nonce 1 again, another payload: the committed state has it.
  TxPtr again = MakeTx(k().doctor, 1, "identity", "register_actor",
                       {{"key", Key(200).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  ExpectRefused(admission_.Admit(again), Code::kFailedPrecondition, "nonce 1 was already used");
  // ... and with a signature that does not verify, the same refusal: no
  // signature is checked for a replay.
  TxPtr forged = Transaction::FromParts(again->body(), first->signature());
  ExpectRefused(admission_.Admit(forged), Code::kFailedPrecondition, "already used");
  EXPECT_EQ(Refused("failed_precondition"), 2u);
  EXPECT_EQ(Refused("invalid_argument"), 0u);
}

TEST_F(AdmissionTest, APendingTransactionIsRefusedAsAlreadyPending) {
  TxPtr tx = NewTx();
  ASSERT_TRUE(admission_.Admit(tx).ok());
  ExpectRefused(admission_.Admit(tx), Code::kAlreadyExists, "already pending");
  EXPECT_EQ(orderer_.submitted.load(), 1u);
  EXPECT_EQ(Refused("already_exists"), 1u);
  EXPECT_EQ(Admitted(), 1u);
}

TEST_F(AdmissionTest, AnUnknownActorIsRefused) {
  TxPtr tx = MakeTx(k().outsider, 1, "identity", "register_actor",
                    {{"key", Key(200).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  ExpectRefused(admission_.Admit(tx), Code::kPermissionDenied, "not registered or is revoked");
  EXPECT_FALSE(orderer_.IsPending(tx->id()));
  EXPECT_EQ(Refused("permission_denied"), 1u);
}

TEST_F(AdmissionTest, ARevokedActorIsRefused) {
  TxPtr before = NewTx();
  ASSERT_TRUE(admission_.Admit(before).ok());
  ASSERT_TRUE(Commit());
  TxPtr revoke = f_.Tx(k().hospital_admin, "revoke_actor", {{"key", k().doctor.public_key().hex()}});
  ASSERT_TRUE(admission_.Admit(revoke).ok());
  BlockPtr b = Commit();
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->results()[0].ok()) << b->results()[0].detail;
  ExpectRefused(admission_.Admit(NewTx()), Code::kPermissionDenied, k().doctor.public_key().hex());
  EXPECT_EQ(Refused("permission_denied"), 1u);
}

TEST_F(AdmissionTest, TheOrderersRefusalIsPassedOnAndNothingIsKept) {
  // Out of order: the orderer's mempool wants nonce 1 first.
  TxPtr one = NewTx();
  TxPtr two = NewTx();
  ExpectRefused(admission_.Admit(two), Code::kFailedPrecondition, "out of order");
  orderer_.refuse = true;
  ExpectRefused(admission_.Admit(one), Code::kUnavailable, "refuses");
  EXPECT_EQ(Refused("unavailable"), 1u);
  EXPECT_EQ(Refused("failed_precondition"), 1u);
  orderer_.refuse = false;
  ASSERT_TRUE(admission_.Admit(one).ok());
  ASSERT_TRUE(admission_.Admit(two).ok());
  EXPECT_EQ(Admitted(), 2u);
}

TEST_F(AdmissionTest, NodeSubmissionsGetConsecutiveNoncesUnderConcurrency) {
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto id = admission_.SubmitAsNode("wearables", "erase", {{"patient", k().patient.public_key().hex()}});
        EXPECT_TRUE(id.ok()) << id.status().ToString();
        ok += id.ok();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ok.load(), kThreads * kEach);
  std::vector<TxPtr> txs = orderer_.Take();
  ASSERT_EQ(txs.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(txs[i]->body().actor, k().node.public_key());
    EXPECT_EQ(txs[i]->body().nonce, i + 1);  // in queue order
    EXPECT_TRUE(txs[i]->VerifySignature());
  }
  // The chain takes them in that order (a wrong nonce would refuse the block).
  BlockPtr b = f_.Propose(txs);
  ASSERT_TRUE(b);
  orderer_.Done(txs, /*committed=*/true);
  // The next one continues from the committed state.
  auto next = admission_.SubmitAsNode("wearables", "erase", {{"patient", k().patient.public_key().hex()}});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(orderer_.Take().at(0)->body().nonce, static_cast<uint64_t>(kThreads * kEach + 1));
}

TEST_F(AdmissionTest, ANodeSubmissionIsCheckedLikeAnyOther) {
  auto bad = admission_.SubmitAsNode("wearables", "erase", {{"patient", "not a key"}});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument) << bad.status().ToString();
  EXPECT_EQ(admission_.SubmitAsNode("wearables", "erase", {{"x", 0.5}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Refused("invalid_argument"), 1u);  // the fraction never became a transaction
  orderer_.refuse = true;
  EXPECT_EQ(admission_.SubmitAsNode("wearables", "erase", {{"patient", k().patient.public_key().hex()}})
                .status()
                .code(),
            Code::kUnavailable);
  orderer_.refuse = false;
  // No nonce was used up by the refusals.
  auto ok = admission_.SubmitAsNode("wearables", "erase", {{"patient", k().patient.public_key().hex()}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(orderer_.Take().at(0)->body().nonce, 1u);
}

TEST_F(AdmissionTest, CommitLatencyIsObservedOncePerAdmittedTransaction) {
  TxPtr mine = NewTx();
  ASSERT_TRUE(admission_.Admit(mine).ok());
  clock_.Advance(7);
  // Committed with a transaction this node did not admit.
  TxPtr other = f_.Tx(k().hospital_admin, "register_actor",
                      {{"key", Key(201).public_key().hex()}, {"org", kHospital}, {"role", "patient"}});
  BlockPtr b = Commit({other});
  ASSERT_TRUE(b);
  ASSERT_EQ(b->txs().size(), 2u);
  const std::string m = metrics_.Render();
  EXPECT_NE(m.find("carechain_commit_latency_seconds_count 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("carechain_commit_latency_seconds_sum 0.007\n"), std::string::npos) << m;
  EXPECT_NE(m.find("carechain_commit_latency_seconds_bucket{le=\"0.005\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("carechain_commit_latency_seconds_bucket{le=\"0.01\"} 1\n"), std::string::npos) << m;
  // A refused transaction leaves nothing to observe.
  orderer_.refuse = true;
  TxPtr refused = NewTx();
  EXPECT_FALSE(admission_.Admit(refused).ok());
  orderer_.refuse = false;
  ASSERT_TRUE(Commit({refused}));
  EXPECT_NE(metrics_.Render().find("carechain_commit_latency_seconds_count 1\n"), std::string::npos);
}

}  // namespace
}  // namespace cc::admission

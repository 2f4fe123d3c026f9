#include "offchain/wearables.h"

#include <gtest/gtest.h>

#include "crypto/merkle.h"
#include "testing/test_util.h"

namespace cc::offchain {
namespace {

using testing::Key;

constexpr uint64_t kT0 = 1'790'000'000'000ull;
constexpr uint64_t kMin = 60'000;

class WearableCustodianTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore(dir_.file("records.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    Restart();
    const nlohmann::json reg = {{"device", watch_.public_key().hex()}, {"kind", "smart_watch"},
                                {"custodian", "st-marien-hospital"}};
    ASSERT_EQ(ledger_.RunOne(ledger_.Tx(k().patient, "register_device", reg, "wearables")), TxCode::kOk);
  }
  void Restart() {
    custodian_ = std::make_unique<WearableCustodian>(store_.get(), &ledger_.state,
                                                     AeadKey::FromBytes(std::string(32, 'm')).value(),
                                                     "st-marien-hospital");
  }
  const testing::Keys& k() const { return ledger_.net.keys; }

  // Batch `seq`: one heart-rate reading a minute from `start`, signed by the watch.
  nlohmann::json Body(uint64_t seq, uint64_t start, const std::vector<double>& hr) const {
    nlohmann::json readings = nlohmann::json::array();
    std::vector<Hash256> leaves;
    for (size_t i = 0; i < hr.size(); ++i) {
      const uint64_t t = start + i * kMin;
      readings.push_back({{"t", t}, {"metric", "heart_rate"}, {"value", hr[i]}});
      leaves.push_back(wearables::ReadingLeaf(watch_.public_key(), {t, 0, std::llround(hr[i] * 1000)}));
    }
    const Hash256 root = merkle::Root(leaves);
    const std::string msg = wearables::BatchMessage(watch_.public_key().hex(), seq, hr.size(), start,
                                                    start + (hr.size() - 1) * kMin, root);
    return {{"device", watch_.public_key().hex()}, {"seq", seq}, {"readings", readings},
            {"device_sig", watch_.Sign(AsBytes(msg)).hex()}};
  }
  void Anchor(const nlohmann::json& anchor) {
    ASSERT_EQ(ledger_.RunOne(ledger_.Tx(k().node, "anchor", anchor, "wearables")), TxCode::kOk);
  }

  testing::TempDir dir_;
  testing::MemLedger ledger_;
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<WearableCustodian> custodian_;
  SecretKey watch_ = Key(50);
};

TEST_F(WearableCustodianTest, StoresSealedEvaluatesRulesAndGivesTheAnchor) {
  ASSERT_TRUE(custodian_
                  ->SetRules(k().patient.public_key(),
                             nlohmann::json::parse(R"({"rules":[{"id":"tachy","metric":"heart_rate","above":100,
                                                   "for_s":300}],"notify":[")" +
                                                   k().doctor.public_key().hex() + R"("]})"))
                  .ok());
  std::vector<double> hr = {70, 72, 105, 110, 112, 115, 118, 120, 90};
  auto b = custodian_->Ingest(k().patient.public_key(), Body(1, kT0, hr));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->readings, 9u);
  ASSERT_EQ(b->alerts.size(), 1u);  // above 100 from minute 2, for 5 minutes at minute 7
  EXPECT_EQ(b->alerts[0].at, kT0 + 7 * kMin);
  EXPECT_EQ(b->anchor["count"], 9);
  Anchor(b->anchor);  // the module accepts what the custodian hands back

  // Nothing personal is in the store in clear.
  auto raw = store_->ListDocuments("wearables/", "", 100);
  ASSERT_TRUE(raw.ok());
  EXPECT_GE(raw->size(), 4u);  // key, rules, alert, batch
  for (const auto& [key, bytes] : *raw) {
    EXPECT_EQ(bytes.find("heart_rate"), std::string::npos) << key;
    EXPECT_EQ(bytes.find("tachy"), std::string::npos) << key;
  }
  // The patient and the provider they named read the alert; others do not.
  auto alerts = custodian_->Alerts(k().patient.public_key(), "", 10);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ((*alerts)["alerts"].size(), 1u);
  EXPECT_EQ((*alerts)["alerts"][0]["rule"], "tachy");
  EXPECT_EQ((*alerts)["alerts"][0]["device"], watch_.public_key().hex());
  EXPECT_TRUE(custodian_->MayReadAlerts(k().doctor.public_key(), k().patient.public_key()));
  EXPECT_FALSE(custodian_->MayReadAlerts(k().pharmacist.public_key(), k().patient.public_key()));
  // The readings come back from the store as they were signed.
  auto batch = custodian_->Batch(watch_.public_key(), 1, b->anchor["root"]);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 9u);
  EXPECT_EQ((*batch)[3].milli, 110000);
  // After a restart the store still answers (the key is sealed under the master key).
  Restart();
  EXPECT_EQ((*custodian_->Alerts(k().patient.public_key(), "", 10))["alerts"].size(), 1u);
}

TEST_F(WearableCustodianTest, ARetryIsStoredAndEvaluatedOnce) {
  ASSERT_TRUE(custodian_->SetRules(k().patient.public_key(),
                                   {{"rules", {{{"id", "low"}, {"metric", "heart_rate"}, {"below", 40}}}}})
                  .ok());
  auto body = Body(1, kT0, {38, 37});
  auto first = custodian_->Ingest(k().patient.public_key(), body);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->alerts.size(), 1u);
  auto again = custodian_->Ingest(k().patient.public_key(), body);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->alerts.empty());
  EXPECT_EQ(again->anchor, first->anchor);
  // A different batch under the same number is refused.
  auto other = custodian_->Ingest(k().patient.public_key(), Body(1, kT0, {60, 61}));
  EXPECT_EQ(other.status().code(), Code::kAlreadyExists);
  EXPECT_EQ((*custodian_->Alerts(k().patient.public_key(), "", 10))["alerts"].size(), 1u);
}

TEST_F(WearableCustodianTest, RefusesWhatIsNotThePatientsOrNotSigned) {
  auto body = Body(1, kT0, {70, 71});
  EXPECT_EQ(custodian_->Ingest(k().doctor.public_key(), body).status().code(), Code::kPermissionDenied);
  auto forged = body;
  forged["readings"][1]["value"] = 150;  // not what the watch signed
  auto r = custodian_->Ingest(k().patient.public_key(), forged);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("signature"), std::string::npos);
  const uint64_t future = Clock::System()->NowMs() + 2 * kDayMs;
  auto ahead = custodian_->Ingest(k().patient.public_key(), Body(1, future, {70}));
  EXPECT_NE(ahead.status().message().find("future"), std::string::npos) << ahead.status().ToString();
  auto odd = body;
  odd["readings"][0].erase("value");
  odd["readings"][0]["v"] = 70;  // three members, one of them unknown
  EXPECT_NE(custodian_->Ingest(k().patient.public_key(), odd).status().message().find("readings[0]: must be"),
            std::string::npos);
  auto bad = body;
  bad["readings"][0]["metric"] = "blood_sugar";
  EXPECT_NE(custodian_->Ingest(k().patient.public_key(), bad).status().message().find("unknown metric"),
            std::string::npos);
  bad = body;
  bad["readings"][0]["value"] = 999;
  EXPECT_FALSE(custodian_->Ingest(k().patient.public_key(), bad).ok());
  bad = body;
  std::swap(bad["readings"][0], bad["readings"][1]);
  EXPECT_NE(custodian_->Ingest(k().patient.public_key(), bad).status().message().find("time order"),
            std::string::npos);
  WearableCustodian elsewhere(store_.get(), &ledger_.state, AeadKey::FromBytes(std::string(32, 'm')).value(),
                              "apotheke-am-markt");
  EXPECT_EQ(elsewhere.Ingest(k().patient.public_key(), body).status().code(), Code::kFailedPrecondition);
  auto none = store_->ListDocuments("wearables/batch/", "", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // Rules are checked too.
  EXPECT_FALSE(custodian_->SetRules(k().patient.public_key(), {{"rules", {{{"id", "x"}, {"metric", "spo2"}}}}}).ok());
  EXPECT_FALSE(custodian_->SetRules(k().patient.public_key(),
                                    {{"rules", nlohmann::json::array()}, {"notify", {k().pharmacist.public_key().hex()}}})
                   .ok());
}

TEST_F(WearableCustodianTest, ARunInProgressCarriesOverARestart) {
  ASSERT_TRUE(custodian_->SetRules(k().patient.public_key(), {{"rules", {{{"id", "tachy"}, {"metric", "heart_rate"},
                                                                          {"above", 100}, {"for_s", 300u}}}}})
                  .ok());
  auto first = custodian_->Ingest(k().patient.public_key(), Body(1, kT0, {105, 105, 105, 105}));  // minutes 0..3
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->alerts.empty());
  Anchor(first->anchor);
  Restart();
  // Minutes 4..6: five minutes above since minute 0 at minute 5.
  auto second = custodian_->Ingest(k().patient.public_key(), Body(2, kT0 + 4 * kMin, {106, 106, 106}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->alerts.size(), 1u);
  EXPECT_EQ(second->alerts[0].since, kT0);
  EXPECT_EQ(second->alerts[0].at, kT0 + 5 * kMin);
  // New rules start afresh.
  ASSERT_TRUE(custodian_->SetRules(k().patient.public_key(), {{"rules", {{{"id", "tachy"}, {"metric", "heart_rate"},
                                                                          {"above", 100}, {"for_s", 240u}}}}})
                  .ok());
  Anchor(second->anchor);
  auto third = custodian_->Ingest(k().patient.public_key(), Body(3, kT0 + 7 * kMin, {107, 107}));
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->alerts.empty());
}

TEST_F(WearableCustodianTest, ErasureShredsEverythingOfThePatientAndNothingElse) {
  ASSERT_TRUE(custodian_->SetRules(k().patient.public_key(),
                                   {{"rules", {{{"id", "low"}, {"metric", "heart_rate"}, {"below", 40}}}}})
                  .ok());
  auto b = custodian_->Ingest(k().patient.public_key(), Body(1, kT0, {38, 37, 70}));
  ASSERT_TRUE(b.ok());
  const uint64_t day = kT0 / kDayMs;
  EXPECT_EQ(custodian_->DaySummaries(k().patient.public_key(), 0, day, day)->count, 0u);  // not anchored yet
  Anchor(b->anchor);
  ASSERT_TRUE(store_->PutDocument("coldchain/other", "not the patient's").ok());
  EXPECT_EQ(custodian_->DaySummaries(k().patient.public_key(), 0, day, day)->count, 3u);

  auto n = custodian_->Erase(k().patient.public_key());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 6u);  // key, rules, runs, alert, batch, one day summary
  auto left = store_->ListDocuments("wearables/", "", 100);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_EQ(*store_->GetDocument("coldchain/other"), "not the patient's");
  EXPECT_EQ(custodian_->Batch(watch_.public_key(), 1, b->anchor["root"]).status().code(), Code::kNotFound);
  EXPECT_TRUE((*custodian_->Alerts(k().patient.public_key(), "", 10))["alerts"].empty());
  EXPECT_TRUE((*custodian_->Rules(k().patient.public_key()))["rules"].empty());
  EXPECT_EQ(custodian_->DaySummaries(k().patient.public_key(), 0, day, day)->count, 0u);
  EXPECT_TRUE(custodian_->PatientReadings(k().patient.public_key(), 0)->empty());

  // The node confirms it on chain: the device shows when, and how many batches.
  ASSERT_EQ(ledger_.RunOne(ledger_.Tx(k().node, "erase", {{"patient", k().patient.public_key().hex()}}, "wearables")),
            TxCode::kOk);
  auto d = wearables::ReadDevice(ledger_.state, watch_.public_key());
  EXPECT_EQ((*d)["erased_batches"], 1);
  EXPECT_GT((*d)["erased_at"].get<uint64_t>(), 0u);
  // Only a node, and only of a custodian of the patient's devices.
  std::string why;
  EXPECT_EQ(ledger_.RunOne(ledger_.Tx(k().patient, "erase", {{"patient", k().patient.public_key().hex()}}, "wearables"),
                           &why),
            TxCode::kUnauthorized);
  EXPECT_EQ(ledger_.RunOne(ledger_.Tx(k().node, "erase", {{"patient", k().doctor.public_key().hex()}}, "wearables")),
            TxCode::kNotFound);

  // Later readings start afresh under a new key.
  auto again = custodian_->Ingest(k().patient.public_key(), Body(2, kT0 + 3600'000, {71, 72}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(custodian_->Batch(watch_.public_key(), 2, again->anchor["root"])->size(), 2u);
}

}  // namespace
}  // namespace cc::offchain

#include "apps/reviews/reviews.h"

#include <gtest/gtest.h>

#include "apps/token/token.h"
#include "testing/test_util.h"
#include "util/date.h"

namespace cc::reviews {
namespace {

using testing::Key;

nlohmann::json Genesis(uint64_t supply = 1'000'000, nlohmann::json reviews = {{"platform", "st-marien-hospital"}}) {
  nlohmann::json doc = testing::GenesisDoc(testing::Keys());
  doc["token"] = {{"symbol", "CARE"}, {"supply", supply}, {"treasury", "st-marien-hospital"}};
  if (!reviews.is_null()) doc["reviews"] = std::move(reviews);
  return doc;
}

constexpr uint64_t kDay = kDayMs;

class ReviewsTest : public ::testing::Test {
 protected:
  explicit ReviewsTest(nlohmann::json genesis = Genesis()) : ledger_(std::move(genesis)) {
    // A second patient, registered by the pharmacy (not by the hospital).
    EXPECT_EQ(ledger_.RunOne(testing::RegisterTx(k().pharmacy_admin, 1, other_.public_key(), "apotheke-am-markt",
                                                 "patient")),
              TxCode::kOk);
  }
  const testing::Keys& k() const { return ledger_.net.keys; }
  std::string Hex(const SecretKey& s) const { return s.public_key().hex(); }
  std::string Today() const { return FormatDay((ledger_.time_ms + ledger_.height + 1) / kDay); }

  TxCode Run(const SecretKey& signer, const std::string& action, const nlohmann::json& p, std::string* why = nullptr) {
    return ledger_.RunOne(ledger_.Tx(signer, action, p, "reviews"), why);
  }
  // Attests a visit today and returns its id ("" if refused).
  std::string Attest(const SecretKey& provider, const SecretKey& patient, std::string* why = nullptr) {
    TxPtr tx = ledger_.Tx(provider, "attest", {{"patient", Hex(patient)}, {"date", Today()}}, "reviews");
    if (ledger_.RunOne(tx, why) != TxCode::kOk) return "";
    return tx->id().hex().substr(0, 32);
  }
  nlohmann::json Query(const std::string& path, QueryParams params = {}) const {
    auto r = mod_.Query(path, params, ledger_.state);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nlohmann::json();
  }
  uint64_t Tokens(const std::string& account) const { return token::Balance(ledger_.state, account); }

  SecretKey other_ = Key(40);
  testing::MemLedger ledger_;
  ReviewsModule mod_;
};

TEST_F(ReviewsTest, AnAttestedVisitIsReviewedOnceByItsPatientWhoIsRewarded) {
  std::string why;
  const std::string visit = Attest(k().doctor, k().patient, &why);
  ASSERT_FALSE(visit.empty()) << why;
  nlohmann::json v = Query("visits/" + visit);
  EXPECT_EQ(v["provider"], "st-marien-hospital");
  EXPECT_EQ(v["patient"], Hex(k().patient));
  EXPECT_FALSE(v.contains("review"));

  const std::string ref(32, 'a'), hash(64, 'b');
  ASSERT_EQ(Run(k().patient, "review",
                {{"visit", visit},
                 {"overall", 4u},
                 {"aspects", {{{"aspect", "communication"}, {"rating", 5u}}, {{"aspect", "waiting_time"}, {"rating", 2u}}}},
                 {"text_ref", ref},
                 {"text_hash", hash}},
                &why),
            TxCode::kOk)
      << why;
  nlohmann::json r = Query("reviews/" + visit);
  EXPECT_EQ(r["provider"], "st-marien-hospital");
  EXPECT_EQ(r["verified_visit"]["date"], Today());
  EXPECT_EQ(r["vouched_by_provider"], true);  // the hospital registered this patient
  EXPECT_EQ(r["ratings"]["overall"], 4);
  EXPECT_EQ(r["ratings"]["aspects"]["waiting_time"], 2);
  EXPECT_EQ(r["text"], nlohmann::json({{"custodian", "st-marien-hospital"}, {"ref", ref}, {"hash", hash}}));
  EXPECT_EQ(r["rewards"]["treasury"], 10);
  EXPECT_FALSE(r.dump().find(Hex(k().patient)) != std::string::npos) << "a review names no patient";
  EXPECT_EQ(Tokens(Hex(k().patient)), 10u);
  EXPECT_EQ(Tokens("org:st-marien-hospital"), 999'990u);
  EXPECT_EQ(Query("visits/" + visit)["review"], visit);

  // The abuse cases: a second review of the same visit, a review by another
  // patient, a review of a visit that was never attested.
  EXPECT_EQ(Run(k().patient, "review", {{"visit", visit}, {"overall", 5u}}, &why), TxCode::kAlreadyExists) << why;
  const std::string visit2 = Attest(k().doctor, other_);
  ASSERT_FALSE(visit2.empty());
  EXPECT_EQ(Run(k().patient, "review", {{"visit", visit2}, {"overall", 1u}}, &why), TxCode::kUnauthorized);
  EXPECT_EQ(why, "only the visit's patient reviews it");
  EXPECT_EQ(Run(k().patient, "review", {{"visit", std::string(32, 'c')}, {"overall", 5u}}), TxCode::kNotFound);
  EXPECT_EQ(Tokens(Hex(k().patient)), 10u) << "refused reviews pay nothing";

  nlohmann::json agg = Query("providers/st-marien-hospital");
  EXPECT_EQ(agg["reviews"], 1);
  EXPECT_EQ(agg["overall"]["count"], 1);
  EXPECT_EQ(agg["overall"]["mean"], 4.0);
  EXPECT_EQ(agg["overall"]["distribution"]["4"], 1);
  EXPECT_EQ(agg["aspects"]["communication"]["mean"], 5.0);
  EXPECT_EQ(agg["vouched_by_provider"], 1);
}

TEST_F(ReviewsTest, AggregatesFollowEveryReviewAndCorrection) {
  // Three patients review the hospital.
  SecretKey third = Key(41);
  ASSERT_EQ(ledger_.RunOne(testing::RegisterTx(k().pharmacy_admin, 2, third.public_key(), "apotheke-am-markt", "patient")),
            TxCode::kOk);
  const std::string a = Attest(k().doctor, k().patient), b = Attest(k().doctor, other_), c = Attest(k().doctor, third);
  ASSERT_EQ(Run(k().patient, "review", {{"visit", a}, {"overall", 5u}}), TxCode::kOk);
  ASSERT_EQ(Run(other_, "review", {{"visit", b}, {"overall", 2u}, {"aspects", {{{"aspect", "facilities"}, {"rating", 3u}}}}}),
            TxCode::kOk);
  ASSERT_EQ(Run(third, "review", {{"visit", c}, {"overall", 2u}}), TxCode::kOk);
  nlohmann::json agg = Query("providers/st-marien-hospital");
  EXPECT_EQ(agg["overall"]["count"], 3);
  EXPECT_EQ(agg["overall"]["mean"], 3.0);
  EXPECT_EQ(agg["overall"]["distribution"], nlohmann::json({{"1", 0}, {"2", 2}, {"3", 0}, {"4", 0}, {"5", 1}}));
  EXPECT_EQ(agg["vouched_by_provider"], 1);

  // A correction replaces the ratings counted, and shows with the original.
  std::string why;
  ASSERT_EQ(Run(other_, "correct", {{"review", b}, {"overall", 4u}}, &why), TxCode::kOk) << why;
  agg = Query("providers/st-marien-hospital");
  EXPECT_EQ(agg["overall"]["count"], 3);
  EXPECT_EQ(agg["overall"]["mean"], 3.67);
  EXPECT_EQ(agg["overall"]["distribution"]["4"], 1);
  EXPECT_EQ(agg["aspects"]["facilities"]["count"], 0) << "the correction rated no aspect";
  nlohmann::json r = Query("reviews/" + b);
  EXPECT_EQ(r["ratings"]["overall"], 2);
  EXPECT_EQ(r["current"]["overall"], 4);
  ASSERT_EQ(r["corrections"].size(), 1u);
  EXPECT_EQ(r["corrections"][0]["ratings"]["overall"], 4);
  // Only the review's patient corrects it; the provider can neither edit nor delete.
  EXPECT_EQ(Run(k().patient, "correct", {{"review", b}, {"overall", 1u}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().doctor, "correct", {{"review", b}, {"overall", 1u}}), TxCode::kUnauthorized);
  EXPECT_FALSE(mod_.Check("delete", {{"review", b}}).ok());
  // A correction may carry a text alone; ten at most.
  for (int i = 1; i < 10; ++i)
    ASSERT_EQ(Run(other_, "correct", {{"review", b}, {"text_ref", std::string(32, 'd')}, {"text_hash", std::string(64, 'e')}}),
              TxCode::kOk);
  EXPECT_EQ(Run(other_, "correct", {{"review", b}, {"overall", 3u}}, &why), TxCode::kFailedPrecondition);
  EXPECT_EQ(Query("providers/st-marien-hospital")["overall"]["mean"], 3.67);

  // The listing pages through the reviews, oldest first.
  nlohmann::json page = Query("providers/st-marien-hospital/reviews", {{"limit", "2"}});
  ASSERT_EQ(page["page"].size(), 2u);
  EXPECT_EQ(page["page"][0]["review"], a);
  EXPECT_EQ(page["next_after"], 2);
  page = Query("providers/st-marien-hospital/reviews", {{"after", "2"}});
  ASSERT_EQ(page["page"].size(), 1u);
  EXPECT_EQ(page["page"][0]["review"], c);
  EXPECT_FALSE(page.contains("next_after"));
  EXPECT_EQ(Query("providers")["providers"].size(), 1u);
  EXPECT_EQ(Query("providers/apotheke-am-markt")["reviews"], 0);
}

TEST_F(ReviewsTest, AProviderInvitesAPatientOnceIn30DaysAndNeverItself) {
  std::string why;
  ASSERT_FALSE(Attest(k().doctor, k().patient).empty());
  // Bulk attestations to the same patient are refused...
  EXPECT_TRUE(Attest(k().doctor, k().patient, &why).empty());
  EXPECT_NE(why.find("the next invitation is possible from"), std::string::npos) << why;
  ledger_.time_ms += 29 * kDay;
  EXPECT_TRUE(Attest(k().doctor, k().patient).empty());
  // ... until 30 days have passed.
  ledger_.time_ms += kDay;
  EXPECT_FALSE(Attest(k().doctor, k().patient, &why).empty()) << why;
  // Another provider of another organisation invites independently.
  SecretKey gp = Key(42);
  ASSERT_EQ(ledger_.RunOne(testing::RegisterTx(k().pharmacy_admin, 2, gp.public_key(), "apotheke-am-markt", "provider")),
            TxCode::kOk);
  EXPECT_FALSE(Attest(gp, k().patient).empty());

  // Not to itself, not to staff, not by non-providers, not to strangers.
  EXPECT_TRUE(Attest(k().doctor, k().doctor, &why).empty());
  EXPECT_EQ(why, "a provider attests visits of patients, not to itself or staff");
  EXPECT_TRUE(Attest(k().doctor, k().pharmacist).empty());
  EXPECT_TRUE(Attest(k().hospital_admin, other_, &why).empty());
  EXPECT_EQ(why, "visits are attested by providers");
  EXPECT_TRUE(Attest(k().patient, other_).empty());
  EXPECT_TRUE(Attest(k().doctor, k().outsider).empty());
  // Dates: not in the future, not beyond the review window.
  const uint64_t today = (ledger_.time_ms + ledger_.height + 1) / kDay;
  EXPECT_EQ(Run(k().doctor, "attest", {{"patient", Hex(other_)}, {"date", FormatDay(today + 1)}}, &why),
            TxCode::kInvalidPayload);
  EXPECT_EQ(why, "the visit's date is in the future");
  EXPECT_EQ(Run(k().doctor, "attest", {{"patient", Hex(other_)}, {"date", FormatDay(today - 91)}}),
            TxCode::kInvalidPayload);
  EXPECT_FALSE(mod_.Check("attest", {{"patient", Hex(other_)}, {"date", "2026-02-30"}}).ok());
  EXPECT_EQ(Run(k().doctor, "attest", {{"patient", Hex(other_)}, {"date", FormatDay(today - 90)}}), TxCode::kOk);
}

TEST_F(ReviewsTest, AReviewRightExpiresAndAspectsAreTheNetworks) {
  const std::string visit = Attest(k().doctor, k().patient);
  std::string why;
  EXPECT_EQ(Run(k().patient, "review", {{"visit", visit}, {"overall", 3u}, {"aspects", {{{"aspect", "parking"}, {"rating", 3u}}}}},
                &why),
            TxCode::kInvalidPayload);
  EXPECT_EQ(why, "'parking' is not an aspect rated here");
  EXPECT_FALSE(mod_.Check("review", {{"visit", visit}, {"overall", 6u}}).ok());
  EXPECT_FALSE(mod_.Check("review", {{"visit", visit}, {"overall", 0u}}).ok());
  EXPECT_FALSE(mod_.Check("review", {{"visit", visit}, {"overall", 3u}, {"text_ref", std::string(32, 'a')}}).ok());
  EXPECT_FALSE(mod_.Check("review", {{"visit", visit},
                                     {"overall", 3u},
                                     {"aspects", {{{"aspect", "treatment"}, {"rating", 3u}}, {{"aspect", "treatment"}, {"rating", 4u}}}}})
                   .ok());
  EXPECT_FALSE(mod_.Check("correct", {{"review", visit}}).ok());
  EXPECT_FALSE(mod_.Check("correct", {{"review", visit}, {"aspects", {{{"aspect", "treatment"}, {"rating", 3u}}}}}).ok());
  ledger_.time_ms += 91 * kDay;
  EXPECT_EQ(Run(k().patient, "review", {{"visit", visit}, {"overall", 3u}}, &why), TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("has expired"), std::string::npos);
}

TEST_F(ReviewsTest, ProvidersRewardReviewsWithoutLearningTheirAuthor) {
  const std::string visit = Attest(k().doctor, other_);
  ASSERT_EQ(Run(other_, "review", {{"visit", visit}, {"overall", 5u}}), TxCode::kOk);
  std::string why;
  ASSERT_EQ(Run(k().hospital_admin, "reward", {{"review", visit}, {"amount", 25u}}, &why), TxCode::kOk) << why;
  EXPECT_EQ(Tokens(Hex(other_)), 35u);
  EXPECT_EQ(Query("reviews/" + visit)["rewards"], nlohmann::json({{"treasury", 10}, {"provider", 25}}));
  // Only the reviewed provider's admins, and only what it holds.
  EXPECT_EQ(Run(k().pharmacy_admin, "reward", {{"review", visit}, {"amount", 1u}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().doctor, "reward", {{"review", visit}, {"amount", 1u}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().hospital_admin, "reward", {{"review", visit}, {"amount", 2'000'000u}}, &why),
            TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("the balance of org:st-marien-hospital is"), std::string::npos) << why;
  EXPECT_EQ(Tokens(Hex(other_)), 35u);
  EXPECT_EQ(Run(k().hospital_admin, "reward", {{"review", std::string(32, 'f')}, {"amount", 1u}}), TxCode::kNotFound);
}

TEST_F(ReviewsTest, TheNodeOfThePlatformConfirmsTheErasureOfTexts) {
  const std::string visit = Attest(k().doctor, k().patient);
  ASSERT_EQ(Run(k().patient, "review",
                {{"visit", visit}, {"overall", 2u}, {"text_ref", std::string(32, 'a')}, {"text_hash", std::string(64, 'b')}}),
            TxCode::kOk);
  ASSERT_EQ(Run(k().patient, "correct", {{"review", visit}, {"text_ref", std::string(32, 'c')}, {"text_hash", std::string(64, 'd')}}),
            TxCode::kOk);
  std::string why;
  EXPECT_EQ(Run(k().hospital_admin, "text_erased", {{"patient", Hex(k().patient)}}, &why), TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().node, "text_erased", {{"patient", Hex(k().patient)}}, &why), TxCode::kOk) << why;
  nlohmann::json r = Query("reviews/" + visit);
  EXPECT_TRUE(r["text"].contains("erased_at"));
  EXPECT_TRUE(r["corrections"][0]["text"].contains("erased_at"));
  EXPECT_EQ(r["ratings"]["overall"], 2) << "the ratings and the review stay";
  EXPECT_EQ(Query("providers/st-marien-hospital")["reviews"], 1);
  // Nothing left to erase.
  EXPECT_EQ(Run(k().node, "text_erased", {{"patient", Hex(k().patient)}}), TxCode::kNotFound);
}

class ReviewsWithoutPlatformTest : public ReviewsTest {
 protected:
  ReviewsWithoutPlatformTest() : ReviewsTest(Genesis(/*supply=*/5, /*reviews=*/nullptr)) {}
};

TEST_F(ReviewsWithoutPlatformTest, DefaultsApplyTextsAreRefusedAndAnEmptyTreasuryPaysNothing) {
  nlohmann::json meta = Query("meta");
  EXPECT_EQ(meta["platform"], "");
  EXPECT_EQ(meta["reward"], 10);
  std::string why;
  const std::string visit = Attest(k().doctor, k().patient);
  EXPECT_EQ(Run(k().patient, "review",
                {{"visit", visit}, {"overall", 2u}, {"text_ref", std::string(32, 'a')}, {"text_hash", std::string(64, 'b')}},
                &why),
            TxCode::kFailedPrecondition);
  EXPECT_EQ(why, "this network names no review platform to keep texts");
  // 5 tokens in the treasury, a reward of 10: the review counts, unpaid.
  ASSERT_EQ(Run(k().patient, "review", {{"visit", visit}, {"overall", 2u}}, &why), TxCode::kOk) << why;
  EXPECT_EQ(Query("reviews/" + visit)["rewards"]["treasury"], 0);
  EXPECT_EQ(Tokens(Hex(k().patient)), 0u);
}

TEST(ReviewsGenesisTest, ParametersAreChecked) {
  ReviewsModule mod;
  auto init = [&](nlohmann::json reviews) {
    testing::MemLedger ledger;
    Overlay overlay(&ledger.state);
    nlohmann::json doc = Genesis();
    doc["reviews"] = std::move(reviews);
    return mod.InitGenesis(doc, overlay);
  };
  EXPECT_TRUE(init({{"platform", "st-marien-hospital"}, {"reward", 5u}, {"aspects", {"empathy"}}}).ok());
  EXPECT_FALSE(init({{"platform", "nowhere"}}).ok());
  EXPECT_FALSE(init({{"rewards", 5u}}).ok());
  EXPECT_FALSE(init({{"reward", -1}}).ok());
  EXPECT_FALSE(init({{"aspects", {"Bad Aspect"}}}).ok());
  EXPECT_FALSE(init({{"aspects", nlohmann::json::array()}}).ok());
  EXPECT_FALSE(init({{"reinvite_days", 0u}}).ok());
  EXPECT_FALSE(init({{"window_days", 3651u}}).ok());
  EXPECT_TRUE(init({{"window_days", 3650u}}).ok());
}

}  // namespace
}  // namespace cc::reviews

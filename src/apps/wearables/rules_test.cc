#include "apps/wearables/rules.h"

#include <gtest/gtest.h>

namespace cc::wearables {
namespace {

constexpr uint64_t kT0 = 1'790'000'000'000ull;
constexpr uint64_t kMin = 60'000;

Rule Parse(const char* text) {
  auto r = Rule::FromJson(nlohmann::json::parse(text));
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Rule{};
}

// One reading a minute from `start`.
std::vector<Sample> Minutes(uint64_t start, const std::vector<double>& values) {
  std::vector<Sample> out;
  for (size_t i = 0; i < values.size(); ++i) out.push_back({start + i * kMin, values[i]});
  return out;
}

TEST(Rule, ParsesTheThreeKindsAndRoundTrips) {
  for (const char* text : {R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":600})",
                           R"({"id":"spo2","metric":"spo2","below":90})",
                           R"({"id":"hr-trend","metric":"heart_rate","baseline":"above","k":3,"window_days":7})"}) {
    Rule r = Parse(text);
    auto again = Rule::FromJson(r.ToJson());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->ToJson(), r.ToJson()) << text;
  }
  Rule r = Parse(R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":600})");
  EXPECT_TRUE(r.above);
  EXPECT_EQ(*r.value, 100);
  EXPECT_EQ(r.for_ms, 600'000u);
}

TEST(Rule, RefusesWhatItCannotMean) {
  const std::pair<const char*, const char*> bad[] = {
      {R"({"id":"a","metric":"heart_rate"})", "exactly one of"},
      {R"({"id":"a","metric":"heart_rate","above":100,"below":50})", "exactly one of"},
      {R"({"id":"a","metric":"blood_sugar","above":10})", "'metric' must be one of heart_rate"},
      {R"({"id":"a","metric":"spo2","below":120})", "'below' must be a number in 50..100 %"},
      {R"({"id":"A!","metric":"spo2","below":90})", "'id'"},
      {R"({"id":"a","metric":"spo2","below":90,"k":2})", "belong to a baseline rule"},
      {R"({"id":"a","metric":"spo2","baseline":"sideways"})", "'baseline' must be"},
      {R"({"id":"a","metric":"spo2","below":90,"for_s":-5})", "'for_s' must be an integer"},
      {R"({"id":"a","metric":"spo2","below":90,"colour":"red"})", "unknown field 'colour'"},
      {R"([1,2])", "JSON object"},
  };
  for (const auto& [text, words] : bad) {
    auto r = Rule::FromJson(nlohmann::json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(words), std::string::npos) << text << " -> " << r.status().message();
  }
}

TEST(Evaluator, AThresholdAlertsOncePerEpisode) {
  Evaluator e({Parse(R"({"id":"spo2","metric":"spo2","below":90})")});
  auto alerts = e.Feed("spo2", Minutes(kT0, {97, 89, 88, 87, 95, 86, 96}));
  ASSERT_EQ(alerts.size(), 2u);  // minute 1 (not again at 2, 3) and minute 5
  EXPECT_EQ(alerts[0].at, kT0 + kMin);
  EXPECT_EQ(alerts[0].value, 89);
  EXPECT_EQ(alerts[0].rule, "spo2");
  EXPECT_EQ(alerts[0].message, "spo2 below 90 %");
  EXPECT_EQ(alerts[1].at, kT0 + 5 * kMin);
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0, {150})).empty());  // another metric
}

TEST(Evaluator, ASustainedConditionMustLastItsTimeWithoutGaps) {
  Evaluator e({Parse(R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":600})")});
  // 10 minutes above (minutes 0..9 last 9 min), a dip, then 11 readings above: alert at the 11th.
  std::vector<double> v(10, 110);
  v.push_back(95);
  v.insert(v.end(), 11, 120);
  auto alerts = e.Feed("heart_rate", Minutes(kT0, v));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].since, kT0 + 11 * kMin);
  EXPECT_EQ(alerts[0].at, kT0 + 21 * kMin);
  EXPECT_EQ(alerts[0].message, "heart_rate above 100 /min for 10 min");
  // A gap longer than 5 minutes breaks a run too.
  Evaluator gap({Parse(R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":600})")});
  auto split = Minutes(kT0, std::vector<double>(6, 110));
  auto later = Minutes(kT0 + 12 * kMin, std::vector<double>(6, 110));
  split.insert(split.end(), later.begin(), later.end());
  EXPECT_TRUE(gap.Feed("heart_rate", split).empty());
}

TEST(Evaluator, RunsContinueAcrossBatchesAsInOne) {
  const char* rule = R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":300})";
  std::vector<double> v = {90, 105, 106, 107, 108, 109, 110, 111, 80, 101, 102, 103, 104, 105, 106};
  Evaluator whole({Parse(rule)});
  auto all = whole.Feed("heart_rate", Minutes(kT0, v));
  Evaluator parts({Parse(rule)});
  std::vector<Alert> pieces;
  for (size_t at = 0; at < v.size(); at += 4) {
    std::vector<double> part(v.begin() + at, v.begin() + std::min(v.size(), at + 4));
    for (auto& a : parts.Feed("heart_rate", Minutes(kT0 + at * kMin, part))) pieces.push_back(a);
  }
  ASSERT_EQ(all.size(), 2u);
  ASSERT_EQ(pieces.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(pieces[i].ToJson(), all[i].ToJson());
}

TEST(Evaluator, ABaselineRuleJudgesAgainstThePatientsOwnHistory) {
  Evaluator e({Parse(R"({"id":"trend","metric":"heart_rate","baseline":"above","k":3,"min_points":60})")});
  // Too little history: no judgement, even of an extreme value.
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0, std::vector<double>(30, 60))).empty());
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0 + 30 * kMin, {200})).empty());
  // A day of 58..62 /min: median 60, MAD 1 (the 200 above is one outlier).
  std::vector<double> day;
  for (int i = 0; i < 1440; ++i) day.push_back(58 + i % 5);
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0 + kMin * 31, day)).empty());
  const uint64_t next = kT0 + kMin * (31 + 1440);
  auto alerts = e.Feed("heart_rate", Minutes(next, {62, 63, 64, 70}));
  ASSERT_EQ(alerts.size(), 1u);  // bound 60 + 3·1 = 63: 64 crosses it
  EXPECT_EQ(alerts[0].at, next + 2 * kMin);
  EXPECT_EQ(alerts[0].bound, 63);
  EXPECT_EQ(alerts[0].message, "heart_rate above 63 /min (baseline 60 ± 3·1)");
}

TEST(Evaluator, AFlatHistoryStillNeedsARealStep) {
  Evaluator e({Parse(R"({"id":"cold","metric":"skin_temperature","baseline":"below","k":2,"min_points":10})")});
  EXPECT_TRUE(e.Feed("skin_temperature", Minutes(kT0, std::vector<double>(20, 33))).empty());
  // MAD 0: the spread is taken as 1 unit, so 32.5 is no alarm and 30.9 is.
  EXPECT_TRUE(e.Feed("skin_temperature", Minutes(kT0 + 20 * kMin, {32.5})).empty());
  auto alerts = e.Feed("skin_temperature", Minutes(kT0 + 21 * kMin, {30.9}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].bound, 31);
}

TEST(Evaluator, TheBaselineForgetsWhatIsOlderThanItsWindow) {
  Evaluator e({Parse(R"({"id":"t","metric":"heart_rate","baseline":"above","k":3,"window_days":1,"min_points":60})")});
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0, std::vector<double>(120, 60))).empty());
  // Two days later the old readings no longer count: not enough history.
  EXPECT_TRUE(e.Feed("heart_rate", Minutes(kT0 + 2 * 86'400'000ull, {150})).empty());
}

}  // namespace
}  // namespace cc::wearables

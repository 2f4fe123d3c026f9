#include "apps/wearables/rules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

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

constexpr uint64_t kDay = 86'400'000ull;

// A patient's rules over a stored history, as at the custodian: what was
// fed is summarised by day after it is evaluated.
class Patient {
 public:
  explicit Patient(std::vector<Rule> rules)
      : e_(std::move(rules), [this](uint8_t metric, uint64_t first, uint64_t last) -> Result<DaySummary> {
          ++history_reads;
          DaySummary s;
          for (uint64_t d = first; d <= last; ++d) {
            if (auto it = days_.find({metric, d}); it != days_.end()) s.Merge(it->second);
          }
          return s;
        }) {}
  explicit Patient(const char* rule) : Patient(std::vector<Rule>{Parse(rule)}) {}

  std::vector<Alert> Feed(std::string_view metric, const std::vector<Sample>& samples) {
    auto alerts = e_.Feed(metric, samples);
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    const Metric* m = FindMetric(metric);
    for (const Sample& s : samples)
      days_[{static_cast<uint8_t>(m - Metrics().data()), s.t / kDay}].Add(std::llround(s.value * 1000), m->step_milli);
    return alerts.ok() ? *alerts : std::vector<Alert>{};
  }
  Evaluator& evaluator() { return e_; }
  int history_reads = 0;

 private:
  std::map<std::pair<uint8_t, uint64_t>, DaySummary> days_;
  Evaluator e_;
};

TEST(Evaluator, AThresholdAlertsOncePerEpisode) {
  Patient p(R"({"id":"spo2","metric":"spo2","below":90})");
  auto alerts = p.Feed("spo2", Minutes(kT0, {97, 89, 88, 87, 95, 86, 96}));
  ASSERT_EQ(alerts.size(), 2u);  // minute 1 (not again at 2, 3) and minute 5
  EXPECT_EQ(alerts[0].at, kT0 + kMin);
  EXPECT_EQ(alerts[0].value, 89);
  EXPECT_EQ(alerts[0].rule, "spo2");
  EXPECT_EQ(alerts[0].message, "spo2 below 90 %");
  EXPECT_EQ(alerts[1].at, kT0 + 5 * kMin);
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(kT0, {150})).empty());  // another metric
}

TEST(Evaluator, ASustainedConditionMustLastItsTimeWithoutGaps) {
  const char* rule = R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":600})";
  Patient p(rule);
  // 10 minutes above (minutes 0..9 last 9 min), a dip, then 11 readings above: alert at the 11th.
  std::vector<double> v(10, 110);
  v.push_back(95);
  v.insert(v.end(), 11, 120);
  auto alerts = p.Feed("heart_rate", Minutes(kT0, v));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].since, kT0 + 11 * kMin);
  EXPECT_EQ(alerts[0].at, kT0 + 21 * kMin);
  EXPECT_EQ(alerts[0].message, "heart_rate above 100 /min for 10 min");
  // A gap longer than 5 minutes breaks a run too.
  Patient gap(rule);
  auto split = Minutes(kT0, std::vector<double>(6, 110));
  auto later = Minutes(kT0 + 12 * kMin, std::vector<double>(6, 110));
  split.insert(split.end(), later.begin(), later.end());
  EXPECT_TRUE(gap.Feed("heart_rate", split).empty());
}

TEST(Evaluator, RunsContinueAcrossBatchesAndRestarts) {
  const char* rule = R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":300})";
  std::vector<double> v = {90, 105, 106, 107, 108, 109, 110, 111, 80, 101, 102, 103, 104, 105, 106};
  Patient whole(rule);
  auto all = whole.Feed("heart_rate", Minutes(kT0, v));
  ASSERT_EQ(all.size(), 2u);
  // In batches of four, each on a fresh evaluator restored from the last
  // one's saved runs (a node restart between every two batches).
  nlohmann::json saved;
  std::vector<Alert> pieces;
  for (size_t at = 0; at < v.size(); at += 4) {
    Patient parts(rule);
    parts.evaluator().RestoreRuns(saved);
    std::vector<double> part(v.begin() + at, v.begin() + std::min(v.size(), at + 4));
    for (auto& a : parts.Feed("heart_rate", Minutes(kT0 + at * kMin, part))) pieces.push_back(a);
    saved = parts.evaluator().SaveRuns();
  }
  ASSERT_EQ(pieces.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(pieces[i].ToJson(), all[i].ToJson());
  // Runs saved under other rules do not carry over.
  Patient other(R"({"id":"tachy","metric":"heart_rate","above":100,"for_s":240})");
  Patient same(rule);
  same.Feed("heart_rate", Minutes(kT0, {105, 106, 107}));
  other.evaluator().RestoreRuns(same.evaluator().SaveRuns());
  EXPECT_EQ(other.evaluator().SaveRuns()["runs"], nlohmann::json::object());
}

TEST(Evaluator, ABaselineRuleJudgesAgainstThePatientsPreviousDays) {
  Patient p(R"({"id":"trend","metric":"heart_rate","baseline":"above","k":3,"min_points":60})");
  const uint64_t day0 = kT0 / kDay * kDay;
  // Too little history: no judgement, even of an extreme value.
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(day0, std::vector<double>(30, 60))).empty());
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(day0 + kDay, {200})).empty());
  // A day of 58..62 /min: median 60, MAD 1. Today's readings never count
  // for today: the same day still has no baseline.
  std::vector<double> day;
  for (int i = 0; i < 1400; ++i) day.push_back(58 + i % 5);
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(day0 + 2 * kDay, day)).empty());
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(day0 + 2 * kDay + 1400 * kMin, {150})).empty());
  // The next day: the window (7 days) holds 1 + 30 + 1401 readings.
  const uint64_t next = day0 + 3 * kDay;
  auto alerts = p.Feed("heart_rate", Minutes(next, {62, 63, 64, 70}));
  ASSERT_EQ(alerts.size(), 1u);  // bound 60 + 3·1 = 63: 64 crosses it
  EXPECT_EQ(alerts[0].at, next + 2 * kMin);
  EXPECT_EQ(alerts[0].bound, 63);
  EXPECT_EQ(alerts[0].message, "heart_rate above 63 /min (baseline 60 ± 3·1)");
  // The baseline is read once a day, not once a batch.
  const int reads = p.history_reads;
  for (int i = 0; i < 10; ++i) p.Feed("heart_rate", Minutes(next + (10 + i) * kMin, {61}));
  EXPECT_EQ(p.history_reads, reads);
}

TEST(Evaluator, AFlatHistoryStillNeedsARealStep) {
  Patient p(R"({"id":"cold","metric":"skin_temperature","baseline":"below","k":2,"min_points":10})");
  EXPECT_TRUE(p.Feed("skin_temperature", Minutes(kT0, std::vector<double>(20, 33))).empty());
  // MAD 0: the spread is taken as 1 unit, so 32.5 is no alarm and 30.9 is.
  const uint64_t next = (kT0 / kDay + 1) * kDay;
  EXPECT_TRUE(p.Feed("skin_temperature", Minutes(next, {32.5})).empty());
  auto alerts = p.Feed("skin_temperature", Minutes(next + kMin, {30.9}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].bound, 31);
}

TEST(Evaluator, TheBaselineForgetsWhatIsOlderThanItsWindow) {
  Patient p(R"({"id":"t","metric":"heart_rate","baseline":"above","k":3,"window_days":1,"min_points":60})");
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(kT0, std::vector<double>(120, 60))).empty());
  // Two days later the old readings no longer count: not enough history.
  EXPECT_TRUE(p.Feed("heart_rate", Minutes(kT0 + 2 * kDay, {150})).empty());
}

TEST(Evaluator, MedianAndMadOfAHistogramMatchTheReadings) {
  DaySummary s;
  const std::vector<double> v = {60, 61, 61, 62, 64, 70, 75, 90};  // median 63, deviations 0..27: MAD 2.5
  for (double x : v) s.Add(std::llround(x * 1000), 1000);
  auto [median, mad] = MedianAndMad(s, 1000);
  EXPECT_EQ(median, 63);
  EXPECT_EQ(mad, 2.5);  // |x - 63| = 3 2 2 1 1 7 12 27 -> 1 1 2 2 3 7 12 27
  s.Add(100'000, 1000);
  std::tie(median, mad) = MedianAndMad(s, 1000);
  EXPECT_EQ(median, 64);
  EXPECT_EQ(mad, 4);  // |x - 64| -> 0 2 3 3 4 6 11 26 36
}

}  // namespace
}  // namespace cc::wearables

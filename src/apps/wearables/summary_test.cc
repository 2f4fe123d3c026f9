#include "apps/wearables/summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "apps/wearables/rules.h"

namespace cc::wearables {
namespace {

constexpr uint64_t kT0 = 1'790'000'000'000ull;  // 2026-09-21T...Z

TEST(DaySummary, SplitsByMetricAndUtcDayAndCountsExactly) {
  const uint64_t day = kT0 / kDayMs;
  const uint64_t midnight = (day + 1) * kDayMs;
  std::vector<Reading> rs = {{midnight - 60'000, 0, 72'000}, {midnight - 60'000, 1, 97'500},
                             {midnight, 0, 80'000},          {midnight + 60'000, 0, 81'400}};
  auto days = SummarizeDays(rs);
  ASSERT_EQ(days.size(), 3u);
  const DaySummary& hr1 = days.at({0, day});
  EXPECT_EQ(hr1.count, 1u);
  EXPECT_EQ(hr1.sum_milli, 72'000);
  const DaySummary& hr2 = days.at({0, day + 1});
  EXPECT_EQ(hr2.count, 2u);
  EXPECT_EQ(hr2.sum_milli, 161'400);
  // Heart rate is kept to 1 /min: 81.4 falls in the bin of 81.
  EXPECT_EQ(hr2.bins, (std::map<int64_t, uint64_t>{{80, 1}, {81, 1}}));
  // SpO2 to 0.1 %.
  EXPECT_EQ(days.at({1, day}).bins, (std::map<int64_t, uint64_t>{{975, 1}}));
}

TEST(DaySummary, RoundTripsAndRefusesDamagedBytes) {
  std::mt19937 rng(7);
  DaySummary s;
  for (int i = 0; i < 1000; ++i) s.Add(40'000 + static_cast<int64_t>(rng() % 120) * 1000, 1000);
  s.Add(-3'500, 1000);  // negative values floor (a metric of differences could have them)
  const std::string bytes = s.Encode();
  auto back = DaySummary::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->bins.begin()->first, -4);
  EXPECT_LT(bytes.size(), 400u);  // ~120 bins of two small varints
  EXPECT_FALSE(DaySummary::Decode(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DaySummary::Decode(bytes + "x").ok());
  std::string wrong_count = bytes;
  wrong_count[0] ^= 1;  // the count no longer matches the bins
  EXPECT_FALSE(DaySummary::Decode(wrong_count).ok());
}

TEST(DaySummary, MergedSummariesGiveTheMedianOfAllReadings) {
  std::mt19937 rng(11);
  std::vector<int64_t> all;
  DaySummary merged;
  for (int part = 0; part < 5; ++part) {
    DaySummary s;
    for (int i = 0; i < 301 + part; ++i) {
      const int64_t v = (50 + static_cast<int64_t>(rng() % 90)) * 1000;
      s.Add(v, 1000);
      all.push_back(v);
    }
    merged.Merge(*DaySummary::Decode(s.Encode()));
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(merged.count, all.size());
  for (uint64_t rank : {uint64_t{0}, all.size() / 2, all.size() - 1})
    EXPECT_EQ(ValueAtRank(merged.bins, 1000, rank), all[rank]) << rank;
  int64_t sum = 0;
  for (int64_t v : all) sum += v;
  EXPECT_EQ(merged.sum_milli, sum);
}

}  // namespace
}  // namespace cc::wearables

#include "api/limits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace cc::api {
namespace {

TEST(RateLimiter, AllowsTheBurstThenTheRate) {
  ManualClock clock(1000);
  RateLimiter limiter(&clock, /*rate_per_s=*/10, /*burst=*/5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("a")) << i;
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));  // keys are independent
  clock.Advance(100);               // 0.1 s at 10/s: one token
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  clock.Advance(10'000);  // refills to the burst, not beyond
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("a")) << i;
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiter, ZeroRateDisablesIt) {
  ManualClock clock(0);
  RateLimiter limiter(&clock, 0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Allow("x"));
}

// A shard that reaches its cap drops its full buckets (they carry no
// information: a new key starts full) and keeps the drained ones, so a key
// that spent its tokens stays limited. The keys are enough for every shard
// to reach the cap: about 32,768 old keys and then 49,152 new ones each,
// against kMaxKeysPerShard = 65,536.
TEST(RateLimiter, ManyKeysStayBounded) {
  ManualClock clock(0);
  RateLimiter limiter(&clock, /*rate_per_s=*/1, /*burst=*/1);
  const size_t cap = RateLimiter::kShards * RateLimiter::kMaxKeysPerShard;
  // Old keys, drained at t = 0 and full again 2 s later.
  const size_t old_keys = cap / 2;
  for (size_t i = 0; i < old_keys; ++i) ASSERT_TRUE(limiter.Allow("old" + std::to_string(i)));
  EXPECT_EQ(limiter.KeyCount(), old_keys);
  clock.Advance(2000);
  // A key drained now.
  ASSERT_TRUE(limiter.Allow("hot"));
  ASSERT_FALSE(limiter.Allow("hot"));
  // New keys, drained as they come: each shard reaches the cap, drops its
  // old keys and keeps "hot" and the new ones.
  const size_t new_keys = cap / 4 * 3;
  size_t most = 0;
  for (size_t i = 0; i < new_keys; ++i) {
    ASSERT_TRUE(limiter.Allow("new" + std::to_string(i)));
    if (i % 4096 == 0) most = std::max(most, limiter.KeyCount());
  }
  EXPECT_EQ(limiter.KeyCount(), new_keys + 1) << "every old key evicted, every drained key kept";
  EXPECT_LE(most, cap) << "the table grew past the cap while full buckets could be dropped";
  EXPECT_FALSE(limiter.Allow("hot")) << "a drained key was evicted: it would get a full bucket";
  EXPECT_FALSE(limiter.Allow("new0"));
  // An evicted key starts afresh with a full bucket, as it would have had.
  EXPECT_TRUE(limiter.Allow("old0"));
  EXPECT_FALSE(limiter.Allow("old0"));
}

}  // namespace
}  // namespace cc::api

#include "api/limits.h"

#include <gtest/gtest.h>

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

TEST(RateLimiter, ManyKeysStayBounded) {
  ManualClock clock(0);
  RateLimiter limiter(&clock, 1, 1);
  for (int i = 0; i < 300000; ++i) ASSERT_TRUE(limiter.Allow("k" + std::to_string(i)));
  // A key seen before and emptied is still limited if it was kept.
  EXPECT_TRUE(limiter.Allow("fresh"));
  EXPECT_FALSE(limiter.Allow("fresh"));
}

TEST(ConnectionLimiter, CountsPerAddress) {
  ConnectionLimiter limiter(2);
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  EXPECT_FALSE(limiter.Acquire("10.0.0.1"));
  EXPECT_TRUE(limiter.Acquire("10.0.0.2"));
  limiter.Release("10.0.0.1");
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  limiter.Release("unknown");  // harmless
}

}  // namespace
}  // namespace cc::api

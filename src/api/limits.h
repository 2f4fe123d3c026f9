// Abuse limits: token-bucket request rates per key (actor or address).
// Connections are capped by the HTTP server (api/http/server.h).
//
// Thread safety: all methods are thread-safe (sharded locks).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/env.h"

namespace cc::api {

class RateLimiter {
 public:
  // Each key may make `rate_per_s` requests per second on average and up to
  // `burst` at once. rate_per_s == 0 disables the limiter.
  RateLimiter(Clock* clock, double rate_per_s, double burst)
      : clock_(clock), rate_(rate_per_s), burst_(burst) {}

  // Takes one token for `key`; false if it has none left.
  bool Allow(const std::string& key);

  // A shard holding kMaxKeysPerShard keys drops its full buckets before it
  // takes a new key.
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxKeysPerShard = 65536;
  // The keys that hold a bucket now, over all shards (for tests).
  size_t KeyCount();

 private:
  struct Bucket {
    double tokens;
    uint64_t last_us;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // GUARDED_BY(mu)
  };
  Clock* clock_;
  const double rate_;
  const double burst_;
  std::array<Shard, kShards> shards_;
};

}  // namespace cc::api

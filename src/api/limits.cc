#include "api/limits.h"

#include <algorithm>
#include <functional>

namespace cc::api {

bool RateLimiter::Allow(const std::string& key) {
  if (rate_ <= 0) return true;
  Shard& shard = shards_[std::hash<std::string>()(key) % kShards];
  const uint64_t now = clock_->MonotonicUs();
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    // Full buckets carry no information: when the table is large, drop them.
    if (shard.buckets.size() >= kMaxKeysPerShard) {
      std::erase_if(shard.buckets, [&](const auto& kv) {
        return kv.second.tokens + rate_ * static_cast<double>(now - kv.second.last_us) / 1e6 >= burst_;
      });
    }
    it = shard.buckets.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + rate_ * static_cast<double>(now - b.last_us) / 1e6);
  b.last_us = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

size_t RateLimiter::KeyCount() {
  size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.buckets.size();
  }
  return n;
}

}  // namespace cc::api

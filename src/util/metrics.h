// Counters, gauges and latency histograms in Prometheus text format.
//
// Thread safety: all methods are thread-safe. Counter() takes a lock to find
// or create the counter; callers on hot paths keep the returned reference.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cc {

class Histogram {
 public:
  // Bucket upper bounds in seconds.
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void Observe(double seconds);
  std::string Render(const std::string& name, const std::string& help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

class Metrics {
 public:
  // Returns the counter `name{labels}`, creating it on first use. The
  // reference stays valid for the Metrics' lifetime.
  std::atomic<uint64_t>& Counter(const std::string& name, const std::string& labels = "");
  void SetGauge(const std::string& name, double value);
  Histogram& commit_latency() { return commit_latency_; }
  Histogram& request_latency() { return request_latency_; }

  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> counters_;  // GUARDED_BY(mu_)
  std::map<std::string, double> gauges_;                                     // GUARDED_BY(mu_)
  Histogram commit_latency_;
  Histogram request_latency_;
};

}  // namespace cc

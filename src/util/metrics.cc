#include "util/metrics.h"

#include <sstream>

namespace cc {

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Histogram::Render(const std::string& name, const std::string& help) const {
  std::ostringstream out;
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out << name << "_bucket{le=\"" << kBounds[i] << "\"} " << cumulative << "\n";
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  out << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
  out << name << "_sum " << static_cast<double>(sum_us_.load()) / 1e6 << "\n";
  out << name << "_count " << count_.load() << "\n";
  return out.str();
}

std::atomic<uint64_t>& Metrics::Counter(const std::string& name, const std::string& labels) {
  std::string key = labels.empty() ? name : name + "{" + labels + "}";
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = counters_[key];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

void Metrics::SetGauge(const std::string& name, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_[name] = value;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string last_family;
    for (const auto& [key, value] : counters_) {
      std::string family = key.substr(0, key.find('{'));
      if (family != last_family) out << "# TYPE " << family << " counter\n";
      last_family = family;
      out << key << " " << value->load(std::memory_order_relaxed) << "\n";
    }
    for (const auto& [name, value] : gauges_) {
      out << "# TYPE " << name << " gauge\n" << name << " " << value << "\n";
    }
  }
  out << commit_latency_.Render("carechain_commit_latency_seconds",
                                "Time from a transaction's admission to its block's commit.");
  out << request_latency_.Render("carechain_http_request_seconds", "HTTP request handling time.");
  return out.str();
}

}  // namespace cc

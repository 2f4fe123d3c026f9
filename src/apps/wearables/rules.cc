#include "apps/wearables/rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "crypto/hash.h"

namespace cc::wearables {
namespace {

bool IsRuleId(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
         });
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Duration(uint64_t ms) {
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + " h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + " min";
  return std::to_string(ms / 1000) + " s";
}

}  // namespace

const std::vector<Metric>& Metrics() {
  static const std::vector<Metric> m = {
      {"heart_rate", "8867-4", "Heart rate", "/min", 20, 300, 1000, 10000},
      {"spo2", "2708-6", "Oxygen saturation in Arterial blood", "%", 50, 100, 100, 1000},
      {"steps", "55423-8", "Number of steps", "{steps}", 0, 100000, 1000, 10000},
      {"skin_temperature", "39106-0", "Temperature of Skin", "Cel", 20, 45, 10, 100},
      {"sleep", "93832-4", "Sleep duration", "min", 0, 1440, 1000, 30000},
  };
  return m;
}

const Metric* FindMetric(std::string_view name) {
  for (const auto& m : Metrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Result<Rule> Rule::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("a rule is a JSON object");
  static const char* const kKnown[] = {"id", "metric", "above", "below", "baseline", "k", "window_days",
                                       "min_points", "for_s", "max_gap_s"};
  for (const auto& [key, _] : j.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      return Status::Invalid("rule: unknown field '" + key + "'");
  }
  Rule r;
  if (!j.contains("id") || !j["id"].is_string() || !IsRuleId(j["id"]))
    return Status::Invalid("rule: 'id' must be 1 to 64 of [a-z0-9._-]");
  r.id = j["id"];
  if (!j.contains("metric") || !j["metric"].is_string() || !FindMetric(j["metric"].get<std::string>())) {
    std::string names;
    for (const auto& m : Metrics()) names += (names.empty() ? "" : ", ") + std::string(m.name);
    return Status::Invalid("rule: 'metric' must be one of " + names);
  }
  r.metric = j["metric"];
  const int bounds = j.contains("above") + j.contains("below") + j.contains("baseline");
  if (bounds != 1) return Status::Invalid("rule: give exactly one of 'above', 'below' or 'baseline'");
  const Metric* m = FindMetric(r.metric);
  for (const char* side : {"above", "below"}) {
    if (!j.contains(side)) continue;
    if (!j[side].is_number() || j[side].get<double>() < m->min || j[side].get<double>() > m->max)
      return Status::Invalid(std::string("rule: '") + side + "' must be a number in " + Number(m->min) + ".." +
                             Number(m->max) + " " + std::string(m->unit));
    r.above = std::string(side) == "above";
    r.value = j[side].get<double>();
  }
  if (j.contains("baseline")) {
    if (j["baseline"] != "above" && j["baseline"] != "below")
      return Status::Invalid("rule: 'baseline' must be \"above\" or \"below\"");
    r.above = j["baseline"] == "above";
  } else if (j.contains("k") || j.contains("window_days") || j.contains("min_points")) {
    return Status::Invalid("rule: 'k', 'window_days' and 'min_points' belong to a baseline rule");
  }
  auto uint_field = [&](const char* name, uint64_t lo, uint64_t hi, uint64_t* out) -> Status {
    if (!j.contains(name)) return Status::Ok();
    if (!j[name].is_number_unsigned() || j[name].get<uint64_t>() < lo || j[name].get<uint64_t>() > hi)
      return Status::Invalid(std::string("rule: '") + name + "' must be an integer in " + std::to_string(lo) + ".." +
                             std::to_string(hi));
    *out = j[name].get<uint64_t>();
    return Status::Ok();
  };
  uint64_t days = 7, min_points = r.min_points, for_s = 0, gap_s = 300;
  CC_RETURN_IF_ERROR(uint_field("window_days", 1, 90, &days));
  CC_RETURN_IF_ERROR(uint_field("min_points", 10, 1'000'000, &min_points));
  CC_RETURN_IF_ERROR(uint_field("for_s", 0, 7 * 86400, &for_s));
  CC_RETURN_IF_ERROR(uint_field("max_gap_s", 1, 86400, &gap_s));
  if (j.contains("k")) {
    if (!j["k"].is_number() || j["k"].get<double>() <= 0 || j["k"].get<double>() > 20)
      return Status::Invalid("rule: 'k' must be a number in (0, 20]");
    r.k = j["k"];
  }
  r.window_ms = days * 86'400'000ull;
  r.min_points = min_points;
  r.for_ms = for_s * 1000;
  r.max_gap_ms = gap_s * 1000;
  return r;
}

nlohmann::json Rule::ToJson() const {
  nlohmann::json j = {{"id", id}, {"metric", metric}};
  if (value) {
    j[above ? "above" : "below"] = *value;
  } else {
    j["baseline"] = above ? "above" : "below";
    j["k"] = k;
    j["window_days"] = window_ms / 86'400'000ull;
    j["min_points"] = min_points;
  }
  if (for_ms) j["for_s"] = for_ms / 1000;
  j["max_gap_s"] = max_gap_ms / 1000;
  return j;
}

nlohmann::json Alert::ToJson() const {
  return {{"rule", rule}, {"metric", metric}, {"since", since}, {"at", at},
          {"value", value}, {"bound", bound},  {"message", message}};
}

std::pair<double, double> MedianAndMad(const DaySummary& s, int64_t step_milli) {
  const uint64_t n = s.count;
  auto at = [&](uint64_t rank) { return static_cast<double>(ValueAtRank(s.bins, step_milli, rank)) / 1000; };
  const double median = n % 2 ? at(n / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  // The deviations' histogram, in value order.
  std::vector<std::pair<double, uint64_t>> dev;
  dev.reserve(s.bins.size());
  for (const auto& [b, c] : s.bins)
    dev.emplace_back(std::fabs(static_cast<double>(b * step_milli) / 1000 - median), c);
  std::sort(dev.begin(), dev.end());
  auto dev_at = [&](uint64_t rank) {
    uint64_t seen = 0;
    for (const auto& [d, c] : dev) {
      seen += c;
      if (rank < seen) return d;
    }
    return dev.back().first;
  };
  const double mad = n % 2 ? dev_at(n / 2) : (dev_at(n / 2 - 1) + dev_at(n / 2)) / 2;
  return {median, mad};
}

Evaluator::Evaluator(std::vector<Rule> rules, History history)
    : rules_(std::move(rules)), history_(std::move(history)), runs_(rules_.size()), baselines_(rules_.size()) {
  nlohmann::json all = nlohmann::json::array();
  for (const Rule& r : rules_) all.push_back(r.ToJson());
  fingerprint_ = Blake2b256(all.dump()).hex().substr(0, 16);
}

Result<Evaluator::Baseline> Evaluator::BaselineOf(size_t rule, uint8_t metric, uint64_t day) {
  auto& [cached_day, cached] = baselines_[rule];
  if (cached_day == day + 1) return cached;  // one baseline per rule and day
  const Rule& r = rules_[rule];
  const uint64_t days = r.window_ms / 86'400'000ull;
  Baseline b;
  if (day >= days) {
    CC_ASSIGN_OR_RETURN(DaySummary s, history_(metric, day - days, day - 1));
    if (s.count >= r.min_points) {
      std::tie(b.median, b.mad) = MedianAndMad(s, Metrics()[metric].step_milli);
      b.ready = true;
    }
  }
  cached_day = day + 1;
  cached = b;
  return b;
}

Result<std::vector<Alert>> Evaluator::Feed(std::string_view metric, const std::vector<Sample>& samples) {
  std::vector<Alert> out;
  if (samples.empty()) return out;
  const Metric* m = FindMetric(metric);
  const auto index = static_cast<uint8_t>(m - Metrics().data());
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (r.metric != metric) continue;
    Run& run = runs_[i];
    Baseline b;
    uint64_t day = UINT64_MAX;
    for (const Sample& s : samples) {
      // A baseline is the patient's history before the reading's day, so a
      // batch never moves its own yardstick. A MAD of 0 (a flat history)
      // still needs a step of one unit.
      if (!r.value && s.t / 86'400'000ull != day) {
        day = s.t / 86'400'000ull;
        CC_ASSIGN_OR_RETURN(b, BaselineOf(i, index, day));
      }
      if (!r.value && !b.ready) {
        run = {};
        continue;
      }
      const double spread = std::max(b.mad, 1.0);
      const double bound = r.value ? *r.value : (r.above ? b.median + r.k * spread : b.median - r.k * spread);
      const bool holds = r.above ? s.value > bound : s.value < bound;
      if (!holds || (run.on && s.t > run.last && s.t - run.last > r.max_gap_ms)) run = {};
      if (!holds) continue;
      if (!run.on) run = {s.t, s.t, true, false};
      run.last = s.t;
      if (!run.fired && s.t - run.since >= r.for_ms) {
        run.fired = true;
        std::string msg = std::string(metric) + (r.above ? " above " : " below ") + Number(bound) + " " +
                          std::string(m->unit);
        if (!r.value) msg += " (baseline " + Number(b.median) + " ± " + Number(r.k) + "·" + Number(spread) + ")";
        if (r.for_ms) msg += " for " + Duration(r.for_ms);
        out.push_back({r.id, std::string(metric), run.since, s.t, s.value, bound, std::move(msg)});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) { return a.at < b.at; });
  return out;
}

nlohmann::json Evaluator::SaveRuns() const {
  nlohmann::json runs = nlohmann::json::object();
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Run& r = runs_[i];
    if (r.on) runs[rules_[i].id] = {r.since, r.last, r.on, r.fired};
  }
  return {{"rules", fingerprint_}, {"runs", runs}};
}

void Evaluator::RestoreRuns(const nlohmann::json& saved) {
  if (!saved.is_object() || saved.value("rules", "") != fingerprint_ || !saved.contains("runs")) return;
  for (size_t i = 0; i < rules_.size(); ++i) {
    auto it = saved["runs"].find(rules_[i].id);
    if (it == saved["runs"].end() || !it->is_array() || it->size() != 4) continue;
    runs_[i] = {(*it)[0].get<uint64_t>(), (*it)[1].get<uint64_t>(), (*it)[2].get<bool>(), (*it)[3].get<bool>()};
  }
}

}  // namespace cc::wearables

// Personal early-warning rules on a patient's own wearable readings
// (docs/modules/wearables.md). The custodian evaluates them as readings
// arrive; an alert goes to the patient (and the provider they chose).
//
// A rule compares one metric with a bound, either a fixed value or the
// patient's own baseline (the median of the metric over the `window_days`
// whole UTC days before the reading's day, ± k·MAD, from the stored day
// summaries), and may require the condition to hold for a while:
//
//   {"id":"tachy","metric":"heart_rate","above":100,"for_s":600}
//       resting heart rate > 100 /min for 10 minutes
//   {"id":"spo2","metric":"spo2","below":90}
//       one SpO2 reading below 90 %
//   {"id":"hr-trend","metric":"heart_rate","baseline":"above","k":3,"window_days":7,"for_s":1800}
//       heart rate above the 7-day median + 3·MAD for 30 minutes
//
// A condition holds over a run of readings without a gap longer than
// `max_gap_s` (default 300 s). An alert is raised once per episode: when
// the run has lasted `for_s`; the next one only after the condition has
// cleared. Evaluation depends only on the readings fed, in order, and the
// stored history: the same readings give the same alerts on every node, and
// after a restart once the runs are restored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/wearables/summary.h"
#include "util/status.h"

namespace cc::wearables {

// The metrics a wearable reports (FHIR vital-signs profile where it has one).
struct Metric {
  std::string_view name;     // "heart_rate"
  std::string_view loinc;    // "8867-4"
  std::string_view display;  // "Heart rate"
  std::string_view unit;     // UCUM: "/min"
  double min, max;           // plausible range; readings outside are refused
  int64_t step_milli;        // the resolution aggregates keep (summary.h), in thousandths
  int64_t bin_milli;         // an aggregate histogram's default bin width
};
const std::vector<Metric>& Metrics();
const Metric* FindMetric(std::string_view name);

struct Sample {
  uint64_t t = 0;  // ms since the epoch
  double value = 0;
};

struct Rule {
  std::string id;      // [a-z0-9._-]{1,64}
  std::string metric;  // a Metrics() name
  bool above = true;   // the condition: value above (or below) the bound
  std::optional<double> value;  // a fixed bound; else the baseline
  double k = 3;                 // baseline: median ± k·MAD
  uint64_t window_ms = 7 * 86'400'000ull;
  size_t min_points = 60;  // baseline: readings it needs before it judges
  uint64_t for_ms = 0;     // how long the condition must hold (0: one reading)
  uint64_t max_gap_ms = 300'000;

  // Parses and checks the JSON form above; kInvalidArgument names the field.
  static Result<Rule> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
};

struct Alert {
  std::string rule;
  std::string metric;
  uint64_t since = 0;  // the first reading of the episode
  uint64_t at = 0;     // the reading that raised the alert
  double value = 0;    // its value
  double bound = 0;    // the bound it crossed (the baseline's at the time)
  std::string message;  // "heart_rate above 100 /min for 10 min"
  nlohmann::json ToJson() const;
};

// Where a baseline comes from: the patient's merged day summaries of
// `metric` (an index into Metrics()) from `first_day` to `last_day` (days
// since the epoch, inclusive). At the custodian: those of the batches
// stored before the one being evaluated.
using History = std::function<Result<DaySummary>(uint8_t metric, uint64_t first_day, uint64_t last_day)>;

// One patient's rules and what they remember between batches: each rule's
// current run, and each baseline of the day.
class Evaluator {
 public:
  Evaluator(std::vector<Rule> rules, History history);

  // Feeds one metric's readings (in time order, after those fed before);
  // returns the alerts they raise, in time order. Fails only if the
  // history cannot be read.
  Result<std::vector<Alert>> Feed(std::string_view metric, const std::vector<Sample>& samples);

  // The runs in progress, to carry them over a restart: {"rules": fingerprint,
  // "runs": {rule id: [since, last, on, fired]}}. Restore ignores state of
  // other rules (the fingerprint differs once rules change).
  nlohmann::json SaveRuns() const;
  void RestoreRuns(const nlohmann::json& saved);

  const std::vector<Rule>& rules() const { return rules_; }

 private:
  struct Run {
    uint64_t since = 0, last = 0;
    bool on = false, fired = false;
  };
  struct Baseline {
    double median = 0, mad = 0;
    bool ready = false;
  };
  Result<Baseline> BaselineOf(size_t rule, uint8_t metric, uint64_t day);

  std::vector<Rule> rules_;
  History history_;
  std::vector<Run> runs_;                                     // by rule
  std::vector<std::pair<uint64_t, Baseline>> baselines_;     // by rule: (day + 1, baseline); 0 = none yet
  std::string fingerprint_;
};

// The median and the median absolute deviation of a histogram's readings
// (a DaySummary at `step_milli`), in the metric's unit.
std::pair<double, double> MedianAndMad(const DaySummary& s, int64_t step_milli);

}  // namespace cc::wearables

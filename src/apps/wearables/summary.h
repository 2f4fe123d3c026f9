// Day summaries of a patient's wearable readings: what the aggregate
// queries for research read instead of the readings (docs/modules/wearables.md#research-data).
//
// A summary counts one metric's readings of one UTC day, adds their values
// exactly (thousandths) and keeps a histogram at the metric's resolution
// (Metric::step_milli: 1 /min for heart rate, 0.1 % for SpO2, ...). From
// merged summaries an aggregate takes the count and the mean exactly, and
// the median and any coarser histogram to that resolution: exact for
// readings a device reports at the metric's resolution, as they do.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apps/wearables/wearables.h"
#include "util/date.h"
#include "util/status.h"

namespace cc::wearables {

struct DaySummary {
  uint64_t count = 0;
  int64_t sum_milli = 0;
  std::map<int64_t, uint64_t> bins;  // floor(value / step) -> readings

  void Add(int64_t milli, int64_t step_milli);
  void Merge(const DaySummary& other);
  // Compact binary form (varints), sealed by the custodian.
  std::string Encode() const;
  static Result<DaySummary> Decode(std::string_view bytes);
  bool operator==(const DaySummary&) const = default;
};

// a / b rounded down (towards minus infinity): the bin of a value.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The summaries of `readings` by (metric index, day since the epoch).
std::map<std::pair<uint8_t, uint64_t>, DaySummary> SummarizeDays(const std::vector<Reading>& readings);

// The reading at rank `rank` (0-based, in value order) of a histogram with
// `count` readings, as a value in thousandths (the bin's lower edge).
int64_t ValueAtRank(const std::map<int64_t, uint64_t>& bins, int64_t step_milli, uint64_t rank);

}  // namespace cc::wearables

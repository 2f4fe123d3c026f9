// Research data with consent (docs/modules/wearables.md#research-data):
// what a study's researchers get from the wearable readings this custodian
// keeps, for the patients who gave the study a research consent
// (research::ActiveConsents) naming the metric.
//
//   Aggregate: count, mean, median and a histogram of one metric over whole
//   UTC days, answered only when at least the study's k patients contribute
//   (else kPermissionDenied, without saying how many); every histogram bin
//   is widened until k patients fall into it. Read from the day summaries
//   (wearables::DaySummary), not the readings.
//   Export: the readings themselves, per patient under a pseudonym of the
//   study (no keys, no device, no custodian) with every time shifted by the
//   patient's whole number of days (1 to 182, either way; the same within a
//   study, other in another study). A window selects on the shifted times:
//   the true dates are neither shown nor selectable.
//
// Every answer adds one access entry per patient whose data it used to the
// custodian's outbox before it is returned (records log_access, `data`
// "wearables", purpose "research"), which the patient sees in their access
// log. The caller's right to ask (a researcher of the study's organisation)
// is the API policy's decision, made before these are called.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "offchain/wearables.h"
#include "util/env.h"

namespace cc::offchain {

inline constexpr uint64_t kMaxAggregateDays = 366;
inline constexpr size_t kMaxExportRows = 50000;
inline constexpr int64_t kMaxShiftDays = 182;

struct AggregateQuery {
  std::string metric;           // a wearables::Metrics() name
  uint64_t first_day = 0;       // days since 1970-01-01 (UTC), inclusive
  uint64_t last_day = 0;        // inclusive; at most kMaxAggregateDays after first_day
  std::optional<double> bin;    // histogram bin width in the metric's unit (default Metric::bin_milli)
};

struct ExportQuery {
  std::string metric;
  std::optional<uint64_t> from, to;  // shifted ms since the epoch; to exclusive
  std::string after;                 // the `next_after` of the previous page
  size_t limit = 10000;              // readings per page, 1..kMaxExportRows
};

class ResearchDesk {
 public:
  ResearchDesk(WearableCustodian* wearables, Clock* clock);

  // Errors: kNotFound (no study), kInvalidArgument (metric, days, bin),
  // kPermissionDenied (fewer than k contributing patients).
  Result<nlohmann::json> Aggregate(const PublicKey& researcher, const std::string& study, const AggregateQuery& q);
  // {study, metric, unit, loinc, participants: [{pseudonym, readings: [[t, value], ...]}], next_after?}
  Result<nlohmann::json> Export(const PublicKey& researcher, const std::string& study, const ExportQuery& q);

  // "p-" and 16 hex digits, keyed with the custodian's master key.
  std::string Pseudonym(const std::string& study, const PublicKey& patient) const;
  int64_t ShiftDays(const std::string& study, const PublicKey& patient) const;

 private:
  struct Participant {
    PublicKey patient;
    std::string consent;  // the consent's transaction id
  };
  // The patients consenting to `study` now for `metric` whose data is kept here.
  std::vector<Participant> Participants(const std::string& study, const std::string& metric) const;
  // One access entry per patient, durably in the outbox.
  Status Log(const std::vector<const Participant*>& used, const PublicKey& researcher, const std::string& study,
             const std::string& what);

  WearableCustodian* wearables_;
  Clock* clock_;
};

}  // namespace cc::offchain

#include "offchain/research_data.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "apps/research/research.h"
#include "crypto/keys.h"
#include "util/bytes.h"
#include "util/date.h"

namespace cc::offchain {
namespace {

std::string Unit(double milli) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", milli / 1000);
  return buf;
}

// A histogram bin of the answer: coarse bins merged until k patients fall in.
struct Bin {
  int64_t from = 0, to = 0;  // thousandths; to exclusive
  uint64_t readings = 0;
  std::vector<uint32_t> patients;  // sorted indices
  void Absorb(const Bin& o) {
    from = std::min(from, o.from);
    to = std::max(to, o.to);
    readings += o.readings;
    std::vector<uint32_t> u;
    std::set_union(patients.begin(), patients.end(), o.patients.begin(), o.patients.end(), std::back_inserter(u));
    patients = std::move(u);
  }
};

}  // namespace

ResearchDesk::ResearchDesk(WearableCustodian* wearables, Clock* clock) : wearables_(wearables), clock_(clock) {}

std::string ResearchDesk::Pseudonym(const std::string& study, const PublicKey& patient) const {
  const Hash256 h = wearables_->Keyed("carechain/research/pseudonym\n" + study + "\n" + patient.hex());
  return "p-" + h.hex().substr(0, 16);
}

int64_t ResearchDesk::ShiftDays(const std::string& study, const PublicKey& patient) const {
  const Hash256 h = wearables_->Keyed("carechain/research/shift\n" + study + "\n" + patient.hex());
  const auto days = static_cast<int64_t>(1 + ReadBigEndian64(h.bytes.data()) % kMaxShiftDays);
  return (h.bytes[8] & 1) ? days : -days;
}

std::vector<ResearchDesk::Participant> ResearchDesk::Participants(const std::string& study,
                                                                  const std::string& metric) const {
  std::vector<Participant> out;
  for (auto& c : research::ActiveConsents(*wearables_->state(), study, clock_->NowMs())) {
    if (std::find(c.categories.begin(), c.categories.end(), metric) == c.categories.end()) continue;
    const PublicKey patient = *PublicKey::FromHex(c.patient);
    if (wearables_->Keeps(patient)) out.push_back({patient, c.tx});
  }
  return out;
}

Status ResearchDesk::Log(const std::vector<const Participant*>& used, const PublicKey& researcher,
                         const std::string& study, const std::string& what) {
  std::vector<OutboxEntry> entries;
  const uint64_t now = clock_->NowMs();
  for (const Participant* p : used) {
    nlohmann::json e = {{"id", RandomHex(16)},       {"patient", p->patient.hex()}, {"data", "wearables"},
                        {"study", study},            {"what", what},                {"reader", researcher.hex()},
                        {"purpose", "research"},     {"at", now},                   {"outcome", "allowed"},
                        {"emergency", false},        {"consent", p->consent}};
    entries.push_back({e["id"], "access", e.dump()});
  }
  return entries.empty() ? Status::Ok() : wearables_->store()->AddOutbox(entries);
}

Result<nlohmann::json> ResearchDesk::Aggregate(const PublicKey& researcher, const std::string& study,
                                               const AggregateQuery& q) {
  const wearables::Metric* m = wearables::FindMetric(q.metric);
  if (!m) return Status::Invalid("unknown metric '" + q.metric + "'");
  const auto metric = static_cast<uint8_t>(m - wearables::Metrics().data());
  if (q.last_day < q.first_day || q.last_day - q.first_day >= kMaxAggregateDays)
    return Status::Invalid("the window runs from 'from' to 'to' (inclusive), at most 366 days");
  auto st = research::ReadStudy(*wearables_->state(), study);
  if (!st) return Status::NotFound("no study '" + study + "'");
  const uint64_t k = (*st)["k"];
  int64_t bin = m->bin_milli;
  if (q.bin) {
    const double b = *q.bin * 1000;
    if (!(b >= 1 && b <= 1e12)) return Status::Invalid("'bin' must be a positive width in " + std::string(m->unit));
    bin = std::llround(b);
    if (bin % m->step_milli != 0)
      return Status::Invalid("'bin' must be a multiple of " + Unit(static_cast<double>(m->step_milli)) + " " +
                             std::string(m->unit) + ", the resolution " + std::string(m->name) + " is kept at");
  }
  const std::string window = FormatDay(q.first_day) + ".." + FormatDay(q.last_day);

  std::vector<Participant> participants = Participants(study, q.metric);
  std::vector<const Participant*> used;
  wearables::DaySummary total;
  std::map<int64_t, Bin> coarse;
  for (const Participant& p : participants) {
    CC_ASSIGN_OR_RETURN(auto s, wearables_->DaySummaries(p.patient, metric, q.first_day, q.last_day));
    if (s.count == 0) continue;
    const auto index = static_cast<uint32_t>(used.size());
    used.push_back(&p);
    total.Merge(s);
    for (const auto& [fine, n] : s.bins) {
      const int64_t c = wearables::FloorDiv(fine * m->step_milli, bin);
      Bin& b = coarse[c];
      b.from = c * bin;
      b.to = b.from + bin;
      b.readings += n;
      if (b.patients.empty() || b.patients.back() != index) b.patients.push_back(index);
    }
  }
  if (used.size() < k)
    return Status::Denied("fewer than " + std::to_string(k) + " patients (the study's k) who consented to " +
                          std::string(m->name) + " have readings here from " + window +
                          ": no aggregate is given over so few");

  // Every reported bin holds k patients or more: small bins are merged into
  // their neighbours (the last group into the one before).
  std::vector<Bin> bins;
  Bin group;
  bool open = false;
  for (auto& [_, b] : coarse) {
    if (!open) {
      group = std::move(b);
      open = true;
    } else {
      group.Absorb(b);
    }
    if (group.patients.size() >= k) {
      bins.push_back(std::move(group));
      open = false;
    }
  }
  if (open) bins.back().Absorb(group);  // bins is not empty: all patients together are k or more

  auto value = [&](uint64_t rank) { return wearables::ValueAtRank(total.bins, m->step_milli, rank); };
  const uint64_t n = total.count;
  const double median = n % 2 ? value(n / 2) / 1000.0 : (value(n / 2 - 1) + value(n / 2)) / 2000.0;
  nlohmann::json hist = nlohmann::json::array();
  for (const Bin& b : bins)
    hist.push_back({{"from", b.from / 1000.0}, {"to", b.to / 1000.0}, {"readings", b.readings},
                    {"patients", b.patients.size()}});
  CC_RETURN_IF_ERROR(Log(used, researcher, study, "aggregate " + std::string(m->name) + " " + window));
  return nlohmann::json{{"study", study},
                        {"metric", m->name},
                        {"unit", m->unit},
                        {"loinc", m->loinc},
                        {"from", FormatDay(q.first_day)},
                        {"to", FormatDay(q.last_day)},
                        {"k", k},
                        {"patients", used.size()},
                        {"readings", n},
                        {"mean", static_cast<double>(total.sum_milli) / static_cast<double>(n) / 1000.0},
                        {"median", median},
                        {"resolution", static_cast<double>(m->step_milli) / 1000.0},
                        {"histogram", {{"bin", bin / 1000.0}, {"bins", hist}}}};
}

Result<nlohmann::json> ResearchDesk::Export(const PublicKey& researcher, const std::string& study,
                                            const ExportQuery& q) {
  const wearables::Metric* m = wearables::FindMetric(q.metric);
  if (!m) return Status::Invalid("unknown metric '" + q.metric + "'");
  const auto metric = static_cast<uint8_t>(m - wearables::Metrics().data());
  if (q.limit == 0 || q.limit > kMaxExportRows) return Status::Invalid("'limit' must be 1 to 50000 readings");
  if (q.from && q.to && *q.to <= *q.from) return Status::Invalid("'to' must be after 'from'");
  if (!research::ReadStudy(*wearables_->state(), study)) return Status::NotFound("no study '" + study + "'");
  // The cursor: a pseudonym and how many of its readings were given.
  std::string after_p;
  uint64_t after_n = 0;
  if (!q.after.empty()) {
    const size_t slash = q.after.find('/');
    if (slash != 18 || !q.after.starts_with("p-") || slash + 1 >= q.after.size() ||
        q.after.find_first_not_of("0123456789", slash + 1) != std::string::npos || q.after.size() > slash + 11)
      return Status::Invalid("'after' must be the 'next_after' of the previous page");
    after_p = q.after.substr(0, slash);
    after_n = std::stoull(q.after.substr(slash + 1));
  }

  std::vector<Participant> participants = Participants(study, q.metric);
  std::vector<std::pair<std::string, const Participant*>> order;
  for (const Participant& p : participants) order.emplace_back(Pseudonym(study, p.patient), &p);
  std::sort(order.begin(), order.end());

  nlohmann::json out_list = nlohmann::json::array();
  std::vector<const Participant*> used;
  size_t budget = q.limit;
  std::string next;
  for (size_t i = 0; i < order.size() && next.empty(); ++i) {
    const auto& [pseudonym, p] = order[i];
    if (pseudonym < after_p) continue;
    const uint64_t skip = pseudonym == after_p ? after_n : 0;
    CC_ASSIGN_OR_RETURN(auto readings, wearables_->PatientReadings(p->patient, metric));
    const int64_t shift = ShiftDays(study, p->patient) * static_cast<int64_t>(kDayMs);
    nlohmann::json rows = nlohmann::json::array();
    uint64_t seen = 0;
    bool more = false;
    for (const auto& r : readings) {
      const auto t = static_cast<uint64_t>(static_cast<int64_t>(r.t) + shift);
      if ((q.from && t < *q.from) || (q.to && t >= *q.to)) continue;
      if (seen++ < skip) continue;
      if (budget == 0) {
        more = true;
        break;
      }
      rows.push_back({t, static_cast<double>(r.milli) / 1000.0});
      --budget;
    }
    if (!rows.empty()) {
      out_list.push_back({{"pseudonym", pseudonym}, {"readings", std::move(rows)}});
      used.push_back(p);
    }
    if (more || (budget == 0 && i + 1 < order.size()))
      next = pseudonym + "/" + std::to_string(more ? seen - 1 : seen);
  }
  CC_RETURN_IF_ERROR(Log(used, researcher, study, "export " + std::string(m->name)));
  nlohmann::json out = {{"study", study},
                        {"metric", m->name},
                        {"unit", m->unit},
                        {"loinc", m->loinc},
                        {"date_shift", "per patient, whole days"},
                        {"participants", std::move(out_list)}};
  if (!next.empty()) out["next_after"] = next;
  return out;
}

}  // namespace cc::offchain

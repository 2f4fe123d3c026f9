#include "apps/records/consent.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "apps/records/keys.h"

namespace cc::records {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Why the closest grant did not match, most specific first.
enum class Miss { kNone = 0, kScope = 1, kPurpose = 2, kTime = 3, kRevoked = 4 };

}  // namespace

Decision Decide(const StateReader& state, const AccessRequest& q) {
  Decision d;
  auto rec = state.Get(RecordKey(q.record));
  if (!rec) {
    d.verdict = Verdict::kUnknownRecord;
    d.reason = "no such record";
    return d;
  }
  auto j = nlohmann::json::parse(*rec, nullptr, false);
  if (!j.is_object()) {
    d.verdict = Verdict::kUnknownRecord;
    d.reason = "record pointer is unreadable";
    return d;
  }
  d.patient = j.value("patient", "");
  d.category = j.value("category", "");
  if (j.value("status", "") == "erased") {
    d.verdict = Verdict::kErased;
    d.reason = "the record was erased at the patient's request";
    return d;
  }
  if (q.reader.hex() == d.patient) {
    d.verdict = Verdict::kAllowed;
    d.own = true;
    return d;
  }
  Miss closest = Miss::kNone;
  std::string emergency_cid;
  auto consider = [&](std::string_view grantee) {
    const std::string prefix = GrantPrefix(d.patient, grantee);
    state.Scan(prefix, "", [&](std::string_view key, std::string_view value) {
      auto g = DecodeGrant(value);
      if (!g.ok()) return true;  // the executor wrote it; skip rather than guess
      std::string_view cid = key.substr(prefix.size());
      if (g->revoked) {
        closest = std::max(closest, Miss::kRevoked);
        return true;
      }
      if (q.now_ms < g->from_ms || q.now_ms >= g->until_ms) {
        closest = std::max(closest, Miss::kTime);
        return true;
      }
      if (g->emergency) {
        if (emergency_cid.empty()) emergency_cid = cid;
        return true;
      }
      if (g->purpose != q.purpose) {
        closest = std::max(closest, Miss::kPurpose);
        return true;
      }
      if (!Contains(g->records, q.record) && !Contains(g->categories, d.category)) {
        closest = std::max(closest, Miss::kScope);
        return true;
      }
      d.verdict = Verdict::kAllowed;
      d.consent = cid;
      return false;
    });
  };
  consider(q.reader.hex());
  if (!d.allowed() && !q.reader_org.empty()) consider(std::string(kOrgGrantee) + std::string(q.reader_org));
  if (d.allowed()) return d;
  if (!emergency_cid.empty()) {
    d.verdict = Verdict::kAllowed;
    d.emergency = true;
    d.consent = emergency_cid;
    return d;
  }
  switch (closest) {
    case Miss::kRevoked: d.reason = "the patient revoked the consent"; break;
    case Miss::kTime: d.reason = "the consent is expired or not yet valid"; break;
    case Miss::kPurpose: d.reason = "no consent for this purpose"; break;
    case Miss::kScope: d.reason = "no consent covers this record or its category"; break;
    case Miss::kNone: d.reason = "no consent of the patient names this reader or its organisation"; break;
  }
  return d;
}

}  // namespace cc::records

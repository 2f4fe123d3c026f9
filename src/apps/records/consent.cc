#include "apps/records/consent.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace cc::records {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Why the closest grant did not match, most specific first.
enum class Miss { kNone = 0, kScope = 1, kPurpose = 2, kTime = 3, kRevoked = 4 };

}  // namespace

std::optional<RecordInfo> ParseRecordInfo(std::string_view value) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return RecordInfo{j.value("patient", ""), j.value("category", ""), j.value("custodian", ""),
                    j.value("content_hash", ""), j.value("status", "") == "erased"};
}

std::optional<RecordInfo> StateConsentView::Record(std::string_view rid) const {
  auto v = state_->Get(RecordKey(rid));
  if (!v) return std::nullopt;
  return ParseRecordInfo(*v);
}

void StateConsentView::Grants(std::string_view patient, std::string_view grantee, const GrantFn& fn) const {
  const std::string prefix = GrantPrefix(patient, grantee);
  state_->Scan(prefix, "", [&](std::string_view key, std::string_view value) {
    auto g = DecodeGrant(value);
    if (!g.ok()) return true;  // the executor wrote it; skip rather than guess
    return fn(key.substr(prefix.size()), *g);
  });
}

Decision Decide(const ConsentView& view, const AccessRequest& q) {
  Decision d;
  d.record = view.Record(q.record);
  if (!d.record) {
    d.verdict = Verdict::kUnknownRecord;
    d.reason = "no such record";
    return d;
  }
  const RecordInfo& rec = *d.record;
  if (rec.erased) {
    d.verdict = Verdict::kErased;
    d.reason = "the record was erased at the patient's request";
    return d;
  }
  const std::string reader = q.reader.hex();
  if (reader == rec.patient) {
    d.verdict = Verdict::kAllowed;
    d.own = true;
    return d;
  }
  Miss closest = Miss::kNone;
  std::string emergency_cid;
  auto consider = [&](std::string_view grantee) {
    view.Grants(rec.patient, grantee, [&](std::string_view cid, const Grant& g) {
      if (g.revoked) {
        closest = std::max(closest, Miss::kRevoked);
        return true;
      }
      if (q.now_ms < g.from_ms || q.now_ms >= g.until_ms) {
        closest = std::max(closest, Miss::kTime);
        return true;
      }
      if (g.emergency) {
        if (emergency_cid.empty()) emergency_cid = cid;
        return true;
      }
      if (g.purpose != q.purpose) {
        closest = std::max(closest, Miss::kPurpose);
        return true;
      }
      if (!Contains(g.records, q.record) && !Contains(g.categories, rec.category)) {
        closest = std::max(closest, Miss::kScope);
        return true;
      }
      d.verdict = Verdict::kAllowed;
      d.consent = cid;
      return false;
    });
  };
  consider(reader);
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

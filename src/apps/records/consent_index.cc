#include "apps/records/consent_index.h"

#include <algorithm>
#include <mutex>

namespace cc::records {
namespace {

constexpr std::string_view kRecordPrefix = "records/record/";
constexpr std::string_view kGrantPrefix = "records/grant/";

}  // namespace

void ConsentIndex::Load(const StateReader& state) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  records_.clear();
  grants_.clear();
  grant_count_ = 0;
  for (std::string_view prefix : {kRecordPrefix, kGrantPrefix}) {
    state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
      Put(k, v);
      return true;
    });
  }
}

void ConsentIndex::Apply(const WriteSet& writes) {
  // Most blocks touch no record or grant: look before locking.
  auto first = writes.lower_bound(std::string_view("records/"));
  if (first == writes.end() || !first->first.starts_with("records/")) return;
  std::unique_lock<std::shared_mutex> lock(mu_);
  for (auto it = first; it != writes.end() && it->first.starts_with("records/"); ++it) {
    if (it->second) {
      Put(it->first, std::string_view(*it->second));
    } else {
      Put(it->first, std::nullopt);
    }
  }
}

void ConsentIndex::Put(std::string_view key, std::optional<std::string_view> value) {
  if (key.starts_with(kRecordPrefix)) {
    std::string rid(key.substr(kRecordPrefix.size()));
    std::optional<RecordInfo> info = value ? ParseRecordInfo(*value) : std::nullopt;
    if (info) {
      records_[rid] = std::move(*info);
    } else {
      records_.erase(rid);
    }
    return;
  }
  if (!key.starts_with(kGrantPrefix)) return;
  // records/grant/<patient>/<grantee>/<cid>
  std::string_view rest = key.substr(kGrantPrefix.size());
  size_t last = rest.rfind('/');
  if (last == std::string_view::npos) return;
  std::string pair(rest.substr(0, last));
  std::string cid(rest.substr(last + 1));
  auto& list = grants_[pair];
  auto pos = std::lower_bound(list.begin(), list.end(), cid, [](const Entry& e, const std::string& c) { return e.cid < c; });
  const bool present = pos != list.end() && pos->cid == cid;
  auto grant = value ? DecodeGrant(*value) : Result<Grant>(Status::NotFound("deleted"));
  if (grant.ok()) {
    if (present) {
      pos->grant = std::move(*grant);
    } else {
      list.insert(pos, Entry{std::move(cid), std::move(*grant)});
      ++grant_count_;
    }
  } else if (present) {
    list.erase(pos);
    --grant_count_;
    if (list.empty()) grants_.erase(pair);
  }
}

std::optional<RecordInfo> ConsentIndex::Record(std::string_view rid) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = records_.find(std::string(rid));
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void ConsentIndex::Grants(std::string_view patient, std::string_view grantee, const GrantFn& fn) const {
  std::string pair;
  pair.reserve(patient.size() + 1 + grantee.size());
  pair.append(patient).append("/").append(grantee);
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = grants_.find(pair);
  if (it == grants_.end()) return;
  for (const Entry& e : it->second) {
    if (!fn(e.cid, e.grant)) return;
  }
}

size_t ConsentIndex::records() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return records_.size();
}

size_t ConsentIndex::grants() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return grant_count_;
}

}  // namespace cc::records

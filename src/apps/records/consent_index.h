// An in-memory copy of what the consent decision reads (record pointers and
// grants), so that a decision costs two hash lookups and a walk over the
// patient's few grants to the reader instead of a store read, two prefix
// scans and a JSON parse (docs/benchmarks.md, "Records and consent").
//
// Load() fills it from the committed state at start; Apply() keeps it
// current with each committed block's writes (Chain::OnCommitWrites). It
// answers exactly as the state would (a test and the benchmark check it).
//
// Thread safety: Apply() and Load() take the lock exclusively, lookups
// shared; any thread may call any method.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/records/consent.h"
#include "ledger/state.h"

namespace cc::records {

class ConsentIndex : public ConsentView {
 public:
  // Replaces the contents with every record pointer and grant of `state`.
  void Load(const StateReader& state);
  // REQUIRES: `writes` were just committed on top of what was loaded.
  void Apply(const WriteSet& writes);

  std::optional<RecordInfo> Record(std::string_view rid) const override;
  void Grants(std::string_view patient, std::string_view grantee, const GrantFn& fn) const override;

  size_t records() const;
  size_t grants() const;

 private:
  void Put(std::string_view key, std::optional<std::string_view> value);  // REQUIRES: mu_ held

  struct Entry {
    std::string cid;
    Grant grant;
  };
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, RecordInfo> records_;                // rid -> pointer; GUARDED_BY(mu_)
  std::unordered_map<std::string, std::vector<Entry>> grants_;        // "<patient>/<grantee>" -> grants in cid order; GUARDED_BY(mu_)
  size_t grant_count_ = 0;                                             // GUARDED_BY(mu_)
};

}  // namespace cc::records

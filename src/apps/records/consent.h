// The consent decision: may `reader` read record `rid` for `purpose` now?
// Used by the custodian's gatekeeper on every fetch.
//
// Rules (docs/modules/records.md):
//   - an unknown record is kUnknownRecord, an erased one kErased;
//   - the record's patient may always read it;
//   - otherwise an active grant of the patient must name the reader's key or
//     the reader's organisation, be valid now (from <= now < until), be for
//     the requested purpose, and cover the record (its id, or its category);
//   - an emergency grant (made by the emergency_access action) covers every
//     record of the patient for any purpose, and the read is flagged.
// A plain consent is preferred to an emergency grant when both match, so a
// read is flagged only when nothing else allowed it.
//
// The decision reads through a ConsentView: the state itself
// (StateConsentView: a point read and prefix scans of the store per
// decision) or the in-memory ConsentIndex (consent_index.h) the gatekeeper
// keeps current from committed blocks.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "apps/records/keys.h"
#include "crypto/keys.h"
#include "ledger/state.h"

namespace cc::records {

// What the decision and the gatekeeper need of a record pointer.
struct RecordInfo {
  std::string patient;  // key hex
  std::string category;
  std::string custodian;
  std::string content_hash;
  bool erased = false;
  bool operator==(const RecordInfo&) const = default;
};

class ConsentView {
 public:
  virtual ~ConsentView() = default;
  virtual std::optional<RecordInfo> Record(std::string_view rid) const = 0;
  // Calls fn(cid, grant) for each grant of `patient` to `grantee` (a key hex
  // or "org:<id>"), in cid order, until fn returns false.
  using GrantFn = std::function<bool(std::string_view cid, const Grant& grant)>;
  virtual void Grants(std::string_view patient, std::string_view grantee, const GrantFn& fn) const = 0;
};

// Reads the state on every call.
class StateConsentView : public ConsentView {
 public:
  explicit StateConsentView(const StateReader* state) : state_(state) {}
  std::optional<RecordInfo> Record(std::string_view rid) const override;
  void Grants(std::string_view patient, std::string_view grantee, const GrantFn& fn) const override;

 private:
  const StateReader* state_;
};

// Parses a record pointer's state value; nullopt if unreadable.
std::optional<RecordInfo> ParseRecordInfo(std::string_view value);

struct AccessRequest {
  PublicKey reader;
  std::string_view reader_org;  // "" if the reader has none
  std::string_view record;      // record id (32 hex digits)
  std::string_view purpose;
  uint64_t now_ms = 0;
};

enum class Verdict { kAllowed, kDenied, kUnknownRecord, kErased };

struct Decision {
  Verdict verdict = Verdict::kDenied;
  bool emergency = false;
  bool own = false;          // the patient reads their own record
  std::string consent;       // the grant that allowed it (cid), if any
  std::string reason;        // why not (no personal data)
  std::optional<RecordInfo> record;  // the pointer, once known
  bool allowed() const { return verdict == Verdict::kAllowed; }
};

Decision Decide(const ConsentView& view, const AccessRequest& request);
inline Decision Decide(const StateReader& state, const AccessRequest& request) {
  return Decide(StateConsentView(&state), request);
}

}  // namespace cc::records

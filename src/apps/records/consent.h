// The consent decision: may `reader` read record `rid` for `purpose` now?
// Used by the custodian's gatekeeper on every fetch; pure over a state view.
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
#pragma once

#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "ledger/state.h"

namespace cc::records {

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
  std::string patient;       // the record's patient (hex), once known
  std::string category;      // the record's category, once known
  bool allowed() const { return verdict == Verdict::kAllowed; }
};

Decision Decide(const StateReader& state, const AccessRequest& request);

}  // namespace cc::records

// State keys and value encodings of the records module (docs/modules/records.md).
//
//   records/record/<rid>                         record pointer, JSON
//   records/consent/<cid>                        consent as granted (+ status), JSON
//   records/grant/<patient>/<grantee>/<cid>      grant, binary (below), kept when revoked;
//                                                grantee = actor key hex | "org:" org id
//   records/patient/<patient>/record/<rid>       ""   (a patient's records)
//   records/patient/<patient>/consent/<cid>      ""   (a patient's consents)
//   records/patient/<patient>/access/<at>-<eid>  access entry, JSON; at = 16 hex digits of
//                                                the read's time (ms), eid = entry id
// rid and eid are 32 hex digits, cid the granting transaction's id (64 hex).
//
// Grant value (the consent decision's hot path reads only this):
//   u8 version (=1) | varint from_ms | varint until_ms | bytes purpose | u8 flags (bit 0:
//   emergency, bit 1: revoked) | varint n | n x fixed16 record id | varint m | m x bytes category
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/status.h"

namespace cc::records {

inline constexpr std::string_view kModule = "records";
inline constexpr std::string_view kOrgGrantee = "org:";

std::string RecordKey(std::string_view rid);
std::string ConsentKey(std::string_view cid);
// The prefix of every grant of `patient` to `grantee` (key hex or "org:<id>").
std::string GrantPrefix(std::string_view patient_hex, std::string_view grantee);
std::string PatientPrefix(std::string_view patient_hex, std::string_view kind);  // ".../<kind>/"
std::string AccessKey(std::string_view patient_hex, uint64_t at_ms, std::string_view eid);

struct Grant {
  uint64_t from_ms = 0;
  uint64_t until_ms = 0;
  std::string purpose;
  bool emergency = false;
  bool revoked = false;
  std::vector<std::string> records;     // record ids (hex)
  std::vector<std::string> categories;  // "*" = every category (emergency access)
  bool operator==(const Grant&) const = default;
};

std::string EncodeGrant(const Grant& g);
Result<Grant> DecodeGrant(std::string_view v);

}  // namespace cc::records

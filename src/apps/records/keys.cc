#include "apps/records/keys.h"

#include <cstdio>

#include "codec/varint.h"
#include "util/bytes.h"

namespace cc::records {

std::string RecordKey(std::string_view rid) { return "records/record/" + std::string(rid); }
std::string ConsentKey(std::string_view cid) { return "records/consent/" + std::string(cid); }

std::string GrantPrefix(std::string_view patient_hex, std::string_view grantee) {
  std::string k = "records/grant/";
  k.append(patient_hex).append("/").append(grantee).append("/");
  return k;
}

std::string PatientPrefix(std::string_view patient_hex, std::string_view kind) {
  std::string k = "records/patient/";
  k.append(patient_hex).append("/").append(kind).append("/");
  return k;
}

std::string AccessKey(std::string_view patient_hex, uint64_t at_ms, std::string_view eid) {
  char at[17];
  std::snprintf(at, sizeof at, "%016llx", static_cast<unsigned long long>(at_ms));
  return PatientPrefix(patient_hex, "access") + at + "-" + std::string(eid);
}

std::string EncodeGrant(const Grant& g) {
  codec::Writer w;
  w.U8(1).Varint(g.from_ms).Varint(g.until_ms).Bytes(g.purpose).U8((g.emergency ? 1 : 0) | (g.revoked ? 2 : 0));
  w.Varint(g.records.size());
  for (const auto& r : g.records) w.Fixed(*FromHex(r));  // REQUIRES: 32 hex digits (schema-checked)
  w.Varint(g.categories.size());
  for (const auto& c : g.categories) w.Bytes(c);
  return w.Take();
}

Result<Grant> DecodeGrant(std::string_view v) {
  codec::Reader r(v);
  Grant g;
  uint8_t version = 0, flags = 0;
  uint64_t n = 0;
  std::string_view s;
  CC_RETURN_IF_ERROR(r.U8("grant.version", &version));
  if (version != 1) return Status::Corruption("grant version " + std::to_string(version));
  CC_RETURN_IF_ERROR(r.Varint("grant.from", &g.from_ms));
  CC_RETURN_IF_ERROR(r.Varint("grant.until", &g.until_ms));
  CC_RETURN_IF_ERROR(r.Bytes("grant.purpose", 64, &s));
  g.purpose = s;
  CC_RETURN_IF_ERROR(r.U8("grant.flags", &flags));
  if (flags > 3) return Status::Invalid("grant.flags: unknown bits");
  g.emergency = flags & 1;
  g.revoked = flags & 2;
  CC_RETURN_IF_ERROR(r.Varint("grant.records", &n));
  if (n > r.remaining() / 16) return Status::Invalid("grant.records: count past the end");
  for (uint64_t i = 0; i < n; ++i) {
    CC_RETURN_IF_ERROR(r.Fixed("grant.record", 16, &s));
    g.records.push_back(ToHex(AsBytes(s)));
  }
  CC_RETURN_IF_ERROR(r.Varint("grant.categories", &n));
  if (n > r.remaining()) return Status::Invalid("grant.categories: count past the end");
  for (uint64_t i = 0; i < n; ++i) {
    CC_RETURN_IF_ERROR(r.Bytes("grant.category", 64, &s));
    g.categories.emplace_back(s);
  }
  CC_RETURN_IF_ERROR(r.Finish());
  return g;
}

}  // namespace cc::records

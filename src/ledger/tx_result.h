// The outcome of executing one transaction. A rejected transaction is data,
// kept in its block with the reason (Fabric's validation codes; Bitcoin's
// consensus/validation.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cc {

enum class TxCode : uint8_t {
  kOk = 0,
  kInvalidPayload = 1,     // payload violates the action's rules
  kUnauthorized = 2,       // actor lacks the role or relationship
  kNotFound = 3,           // the object acted on does not exist
  kAlreadyExists = 4,      // the object to create exists
  kFailedPrecondition = 5, // state forbids the action now
  kRevokedActor = 6,       // the signing key is not (or no longer) active
};
inline constexpr uint8_t kMaxTxCode = 6;

std::string_view TxCodeName(TxCode code);

struct TxResult {
  TxCode code = TxCode::kOk;
  std::string detail;  // short English reason, no personal data

  bool ok() const { return code == TxCode::kOk; }
  static TxResult Ok() { return {}; }
  static TxResult Reject(TxCode c, std::string d) { return {c, std::move(d)}; }
  bool operator==(const TxResult&) const = default;
};

}  // namespace cc

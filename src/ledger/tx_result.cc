#include "ledger/tx_result.h"

namespace cc {

std::string_view TxCodeName(TxCode code) {
  switch (code) {
    case TxCode::kOk: return "ok";
    case TxCode::kInvalidPayload: return "invalid_payload";
    case TxCode::kUnauthorized: return "unauthorized";
    case TxCode::kNotFound: return "not_found";
    case TxCode::kAlreadyExists: return "already_exists";
    case TxCode::kFailedPrecondition: return "failed_precondition";
    case TxCode::kRevokedActor: return "revoked_actor";
  }
  return "unknown";
}

}  // namespace cc

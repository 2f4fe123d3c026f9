#include "codec/canonical_json.h"

namespace cc::codec {
namespace {

Status CheckValue(const nlohmann::json& v, int depth) {
  if (depth > 32) return Status::Invalid("payload nests deeper than 32 levels");
  switch (v.type()) {
    case nlohmann::json::value_t::number_float:
      return Status::Invalid("payload numbers must be integers");
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      return Status::Invalid("payload holds a value JSON cannot express");
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object:
      for (const auto& item : v) CC_RETURN_IF_ERROR(CheckValue(item, depth + 1));
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

}  // namespace

Result<std::string> ToCanonicalJson(const nlohmann::json& value) {
  if (!value.is_object()) return Status::Invalid("payload must be a JSON object");
  CC_RETURN_IF_ERROR(CheckValue(value, 0));
  try {
    return value.dump();
  } catch (const nlohmann::json::exception&) {
    return Status::Invalid("payload holds invalid UTF-8");
  }
}

Result<nlohmann::json> ParseCanonicalJson(std::string_view text) {
  nlohmann::json v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return Status::Invalid("payload is not valid JSON");
  CC_ASSIGN_OR_RETURN(std::string canonical, ToCanonicalJson(v));
  if (canonical != text) return Status::Invalid("payload is not in canonical JSON form");
  return v;
}

}  // namespace cc::codec

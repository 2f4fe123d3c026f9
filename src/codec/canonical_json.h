// Canonical JSON for transaction payloads.
//
// A payload is a JSON object in exactly one textual form: UTF-8, no
// insignificant whitespace, object keys sorted by their bytes and unique,
// integers only (no fractions or exponents, no -0), and the shortest string
// escapes (\" \\ \b \f \n \r \t, other control characters as \u00xx). This is
// the form nlohmann::json::dump() produces for such values, so checking a
// payload is parse + dump + compare.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace cc::codec {

// Parses `text`, which must be the canonical form of a JSON object.
Result<nlohmann::json> ParseCanonicalJson(std::string_view text);

// Returns the canonical form of `value`, or an error if it holds a
// non-integer number or is not an object.
Result<std::string> ToCanonicalJson(const nlohmann::json& value);

}  // namespace cc::codec

// GS1 identifiers of a medicine pack (EU FMD / GS1 General Specifications):
// the code printed on a pack carries Application Identifiers (01) GTIN, (21)
// serial number, (10) batch/lot and (17) expiry date, as
//
//   - a human-readable element string:  (01)09506000134352(17)261231(10)A1B2(21)XYZ123
//   - the scanned element string: AIs without brackets, a variable-length
//     field ended by FNC1, transmitted as GS (0x1d), optionally after the
//     symbology identifier "]d2" (Data Matrix), "]Q3" (QR) or "]C1" (GS1-128):
//     "]d2" "0109506000134352" "17261231" "10A1B2" GS "21XYZ123"
//   - a GS1 Digital Link URI:
//     https://id.gs1.org/01/09506000134352/10/A1B2/21/XYZ123?17=261231
//
// Parse() accepts all three and checks the GTIN's check digit, the
// character set and lengths of each AI and the date; every error names what
// is wrong. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace cc::supply {

inline constexpr size_t kMaxSerialLen = 20;  // AI (21): up to 20 characters
inline constexpr size_t kMaxBatchLen = 20;   // AI (10): up to 20 characters

struct PackCode {
  std::string gtin;    // 14 digits, check digit valid
  std::string serial;  // AI (21)
  std::string batch;   // AI (10), may be empty when the code has none
  std::string expiry;  // AI (17) YYMMDD, may be empty; DD 00 = end of month

  bool operator==(const PackCode&) const = default;
};

// The GS1 check digit for the first 13 digits of a GTIN-14 (mod 10, weights
// 3 and 1 from the right). REQUIRES: 13 decimal digits.
char GtinCheckDigit(std::string_view first13);

// A GTIN-8/12/13/14 as 14 digits (left-padded with zeros), if its digits
// and check digit are right.
Result<std::string> NormalizeGtin(std::string_view gtin);

// Whether every character is in GS1's AI encodable character set 82.
bool IsCset82(std::string_view s);
// Whether `s` is one or more decimal digits.
bool AllDigits(std::string_view s);
// RFC 3986 percent-encoding of everything but the unreserved characters
// (for Digital Link path segments and query values).
std::string PercentEncode(std::string_view s);

Result<PackCode> Parse(std::string_view code);

// "(01)…(17)…(10)…(21)…" (fields that are empty are left out).
std::string ToHumanReadable(const PackCode& c);
// The element string a 2D code carries, with "]Q3"-less GS separators:
// fixed-length AIs first, GS after every variable-length field but the last.
std::string ToElementString(const PackCode& c);
// https://id.gs1.org/01/<gtin>/10/<batch>/21/<serial>?17=<expiry>
std::string ToDigitalLink(const PackCode& c, std::string_view base = "https://id.gs1.org");

// Days since 1970-01-01 of the end of the expiry day (YYMMDD, 20YY; DD 00 =
// the month's last day), or an error for an impossible date.
Result<int64_t> ExpiryDay(std::string_view yymmdd);

}  // namespace cc::supply

// Lists of medicine packs for `carechain supply commission --file`: CSV with
// the columns gtin,serial,batch,expiry (docs/modules/supply.md).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apps/supply/gs1.h"
#include "util/status.h"

namespace cc::cli {

// Splits one CSV line. A field may be quoted ("a,b", and "" for a quote
// inside one), since GS1's character set 82 holds both ',' and '"'.
Result<std::vector<std::string>> CsvFields(std::string_view line);

// The packs listed in `text`: one a line (LF or CRLF; blank lines skipped),
// the columns in the order gtin,serial,batch,expiry, or in any order under a
// first line naming them. Each pack is checked as supply::Parse checks a
// code (GTIN-8/12/13 are padded to 14 digits). An error names the line as
// "<name>:<line>: <reason>".
Result<std::vector<supply::PackCode>> ParsePacksCsv(std::string_view text, const std::string& name);

}  // namespace cc::cli

// `carechain records ...`: records, consent, the gatekeeper and erasure
// (docs/modules/records.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "util/status.h"

namespace cc::cli {

// Adds the `records` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddRecordsCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

// Parses a point in time for --until/--from: "+30d", "+12h", "+90m", "+45s",
// an ISO date "2026-12-31" (midnight UTC), "2026-12-31T18:00:00Z", or
// milliseconds since the epoch. Relative times count from `now_ms`.
Result<uint64_t> ParseTime(const std::string& text, uint64_t now_ms);

}  // namespace cc::cli

// `carechain coldchain ...`: temperature-controlled shipments
// (docs/modules/coldchain.md).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/coldchain/coldchain.h"
#include "util/status.h"

namespace cc::cli {

// Adds the `coldchain` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddColdchainCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

// "5", "-18.5", "8.125" -> hundredths of a degree (rounded half away from
// zero); kInvalidArgument for anything else or beyond ±100 °C.
Result<int32_t> ParseCentiC(const std::string& text);
// A logger's readings from CSV lines "time,celsius" (time: ms since the
// epoch or 2026-11-26T10:00:00Z); an optional header line; '#' comments.
Result<std::vector<coldchain::Reading>> ParseReadingsCsv(const std::string& text);
// Checks a reading proof (GET /v1/coldchain/shipments/<id>/readings) with
// no node: the Merkle path leads from the reading to the root, and the
// anchor transaction is the logger's, signed, for that batch and root.
Status VerifyReadingProof(const nlohmann::json& proof);

}  // namespace cc::cli

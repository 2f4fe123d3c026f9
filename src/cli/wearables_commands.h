// `carechain wearables ...`: a patient's wearables, early-warning rules and
// alerts (docs/modules/wearables.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cc::cli {

// Adds the `wearables` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddWearablesCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

}  // namespace cc::cli

// `carechain supply ...`: medicine packs (docs/modules/supply.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cc::cli {

// Adds the `supply` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddSupplyCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

}  // namespace cc::cli

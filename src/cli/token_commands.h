// `carechain token ...`: balances, histories and transfers of the network's
// token (docs/modules/token.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cc::cli {

// Adds the `token` command group. `node`, `ca_file` and `key` are the shared
// connection options; `rc` receives the exit code.
void AddTokenCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

}  // namespace cc::cli

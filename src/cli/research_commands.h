// `carechain research ...`: the study registry (docs/modules/research.md).
// Protocol and results documents never leave the machine: the commands hash
// them here and send only the hashes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cc::cli {

// Adds the `research` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddResearchCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key,
                         int* rc);

}  // namespace cc::cli

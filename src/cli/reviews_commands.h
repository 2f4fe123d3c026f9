// `carechain reviews ...`: attested visits, reviews, corrections, rewards
// and the providers' ratings (docs/modules/reviews.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cc::cli {

// Adds the `reviews` command group. `node`, `ca_file` and `key` are the
// shared connection options; `rc` receives the exit code.
void AddReviewsCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc);

}  // namespace cc::cli

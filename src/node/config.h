// The node's TOML configuration (docs/operations.md lists every key).
#pragma once

#include <string>

#include "api/server.h"
#include "ordering/solo.h"
#include "util/status.h"

namespace cc::node {

struct Config {
  std::string data_dir;   // RocksDB store lives in <data_dir>/chain
  std::string key_file;   // the node's Ed25519 key (proposer signatures)
  std::string genesis;    // genesis document
  api::ApiOptions api;
  std::string ordering = "solo";
  SoloOptions solo;
  std::string log_level = "info";

  // Parses a config file; relative paths are taken from the file's folder.
  static Result<Config> Load(const std::string& path);
  static Result<Config> Parse(const std::string& text, const std::string& base_dir);
};

}  // namespace cc::node

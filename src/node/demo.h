// A demo consortium for `./run` and the tour in README.md: two
// organisations, their admins, a node key and a few actors, all keys in one
// folder.
#pragma once

#include <string>

#include "util/status.h"

namespace cc::node {

struct DemoOptions {
  std::string dir;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string chain_id = "carechain-demo";
};

// Creates <dir>/genesis.json, <dir>/node.toml and <dir>/keys/*.key. Fails if
// <dir>/node.toml exists.
Status CreateDemo(const DemoOptions& options);

}  // namespace cc::node

// A demo consortium for `./run` and the tour in README.md: two
// organisations, their admins, a node key and a few actors, all keys in one
// folder.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace cc::node {

struct DemoOptions {
  std::string dir;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string chain_id = "carechain-demo";
  // More than one: a consortium cluster ordered through etcd. Node i (from
  // 1) belongs to the hospital, the pharmacy, the practice, then the
  // institute, listens on port + i - 1 and keeps its data in node-i-data.
  int nodes = 1;
  std::vector<std::string> etcd_endpoints;  // required when nodes > 1
};

// Creates <dir>/genesis.json, <dir>/keys/*.key and <dir>/node.toml (one
// node) or <dir>/node-1.toml ... (a cluster). Fails if a config exists.
Status CreateDemo(const DemoOptions& options);

}  // namespace cc::node

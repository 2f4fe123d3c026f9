// node::Config::Parse on arbitrary TOML text: the node's configuration file.
//
// Properties: no crash and no escaping exception; an accepted configuration
// has the required paths, resolved under the base folder when relative, and
// every number within its documented bounds.
#include <cstdint>

#include "fuzz_check.h"
#include "node/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  auto c = node::Config::Parse(std::string(fuzz::AsText(data, size)), "/fuzz/base");
  if (!c.ok()) return 0;
  FUZZ_CHECK(!c->data_dir.empty() && !c->key_file.empty() && !c->genesis.empty(),
             "required paths set");
  FUZZ_CHECK(
      c->data_dir.starts_with("/") && c->key_file.starts_with("/") && c->genesis.starts_with("/"),
      "paths are absolute after resolution");
  FUZZ_CHECK(c->api.port >= 0 && c->api.port <= 65535, "api.port in [0, 65535]");
  FUZZ_CHECK(c->api.threads >= 1 && c->api.threads <= 1024, "api.threads in [1, 1024]");
  FUZZ_CHECK(c->api.max_body_bytes >= 1024, "api.max_body_bytes at least 1024");
  FUZZ_CHECK(c->api.max_wait_ms <= 600000, "api.max_wait_ms at most 600000");
  FUZZ_CHECK(c->ordering == "solo", "the only ordering backend");
  FUZZ_CHECK(c->solo.max_block_txs >= 1 && c->solo.max_block_txs <= 50000,
             "max_block_txs in bounds");
  FUZZ_CHECK(c->solo.block_interval_ms >= 1 && c->solo.block_interval_ms <= 60000,
             "block_interval_ms in bounds");
  FUZZ_CHECK(c->solo.mempool_capacity >= 1, "mempool_capacity positive");
  return 0;
}

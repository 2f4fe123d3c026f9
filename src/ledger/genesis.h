// The genesis document: the consortium's organisations, their admin and node
// keys, initial actors and the network's parameters (docs/formats.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "util/status.h"

namespace cc {

struct NetworkParams {
  uint64_t max_tx_bytes = 64 * 1024;
  uint64_t max_block_txs = 5000;
};

struct Genesis {
  std::string chain_id;
  uint64_t time_ms = 0;
  NetworkParams params;
  nlohmann::json doc;     // the whole document, for modules' InitGenesis
  std::string canonical;  // canonical JSON text
  Hash256 hash;           // BLAKE2b-256(canonical)

  static Result<Genesis> Parse(const std::string& text);
  static Result<Genesis> Load(const std::string& path);

  // The node keys the document names (orgs[].nodes), in document order,
  // with the id of the organisation running each; entries that are not 64
  // hex digits are skipped (identity's genesis check refuses such a
  // document anyway).
  std::vector<std::pair<PublicKey, std::string>> NodeOrgs() const;
  std::vector<PublicKey> NodeKeys() const;
};

}  // namespace cc

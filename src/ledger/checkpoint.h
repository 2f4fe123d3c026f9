// Checkpoints (DESIGN.md §2): a node's signed statement that after block
// `height` its chain ends in `block_hash` and its state hashes to
// `state_root`. A height is certified once nodes of a quorum of the
// organisations (more than half of those running nodes) signed the same
// pair; a node finding itself outside such a quorum has diverged.
//
// Signed message: "carechain:checkpoint:v1" || bytes chain_id ||
//   fixed64 height (big-endian) || fixed32 block_hash || fixed32 state_root
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "ledger/genesis.h"
#include "util/status.h"

namespace cc {

struct Checkpoint {
  uint64_t height = 0;
  BlockHash block_hash;
  Hash256 state_root;
  PublicKey node;
  Signature signature;

  static Checkpoint Sign(const std::string& chain_id, uint64_t height, const BlockHash& block_hash,
                         const Hash256& state_root, const SecretKey& key);
  bool Verify(const std::string& chain_id) const;
  bool SameAs(const Checkpoint& o) const {
    return height == o.height && block_hash == o.block_hash && state_root == o.state_root;
  }
  nlohmann::json ToJson() const;
  static Result<Checkpoint> FromJson(const nlohmann::json& j);
};

// What the network says about one height.
struct CheckpointTally {
  uint64_t height = 0;
  size_t quorum = 0;  // organisations needed
  // The pair a quorum of organisations signed, if any.
  std::optional<Checkpoint> certified;
  std::vector<Checkpoint> signatures;  // valid ones from node keys of the genesis
  // Organisations whose nodes signed different pairs: they count for none.
  std::vector<std::string> split_orgs;
};

// Counts `signatures` (all for one height; invalid ones and keys that are not
// genesis nodes are left out) by organisation, each organisation backing at
// most one pair, so at most one pair is certified.
CheckpointTally TallyCheckpoints(const Genesis& genesis, uint64_t height,
                                 const std::vector<Checkpoint>& signatures);

}  // namespace cc

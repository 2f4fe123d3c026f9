// Inclusion proofs: a transaction, its result, its Merkle path and the
// signed header of its block. A light client checks one offline, without
// trusting the node that produced it (docs/api.md gives the JSON form).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "ledger/block.h"

namespace cc {

// REQUIRES: index < block.txs().size().
nlohmann::json MakeProof(const Block& block, size_t index);

struct VerifiedProof {
  TxId tx_id;
  TxResult result;
  BlockHeader header;
  BlockHash block_hash;
};

// Checks the proof's internal consistency: the transaction decodes to the
// stated id, the Merkle path leads to the header's tx_root, the header hashes
// to the block hash and carries a valid proposer signature. If
// `trusted_proposers` is non-empty the proposer must be one of them.
Result<VerifiedProof> VerifyProof(const nlohmann::json& proof,
                                  const std::vector<PublicKey>& trusted_proposers);

}  // namespace cc

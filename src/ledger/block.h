// Blocks: a signed header, then the transactions with their results.
//
// Header encoding (docs/formats.md):
//   u8 version (=1) | bytes chain_id | varint height | fixed32 prev_hash |
//   varint time_ms | fixed32 tx_root | fixed32 changes_hash |
//   fixed32 state_root | varint tx_count | fixed32 proposer
// Block encoding: header | fixed64 proposer signature |
//   tx_count x (bytes tx | u8 result code | bytes result detail)
//
// BlockHash = BLAKE2b-256(header). The proposer signs
// "carechain:block:v1" || BlockHash. tx_root is the Merkle root over leaves
// txid || u8 code || bytes detail, so an inclusion proof also proves the
// result. changes_hash commits to the block's state writes, state_root to the
// whole state after the block (crypto/state_digest.h).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "ledger/transaction.h"
#include "ledger/tx_result.h"

namespace cc {

inline constexpr uint8_t kBlockVersion = 1;
inline constexpr size_t kMaxBlockTxs = 100000;
inline constexpr size_t kMaxResultDetail = 256;

struct BlockHeader {
  std::string chain_id;
  uint64_t height = 0;
  BlockHash prev_hash;
  uint64_t time_ms = 0;
  Hash256 tx_root;
  Hash256 changes_hash;
  Hash256 state_root;
  uint64_t tx_count = 0;
  PublicKey proposer;

  std::string Encode() const;
  BlockHash Hash() const;
  nlohmann::json ToJson() const;
  static Result<BlockHeader> FromJson(const nlohmann::json& j);
};

// The Merkle leaf of transaction `id` with result `r`.
std::string TxLeafData(const TxId& id, const TxResult& r);

class Block;
using BlockPtr = std::shared_ptr<const Block>;

class Block {
 public:
  // Builds and signs a block. REQUIRES: txs.size() == results.size(),
  // header.tx_count == txs.size(), header.tx_root == ComputeTxRoot(...).
  static BlockPtr Make(BlockHeader header, const Signature& sig, std::vector<TxPtr> txs,
                       std::vector<TxResult> results);
  static Result<BlockPtr> Decode(std::string_view encoded);

  static Hash256 ComputeTxRoot(const std::vector<TxPtr>& txs, const std::vector<TxResult>& results);
  static std::string SigningMessage(const BlockHash& hash);

  const BlockHeader& header() const { return header_; }
  const BlockHash& hash() const { return hash_; }
  const Signature& signature() const { return sig_; }
  const std::vector<TxPtr>& txs() const { return txs_; }
  const std::vector<TxResult>& results() const { return results_; }
  const std::string& encoded() const { return encoded_; }

  bool VerifyProposerSignature() const;
  nlohmann::json ToJson(bool with_txs) const;

 private:
  Block() = default;
  BlockHeader header_;
  BlockHash hash_;
  Signature sig_;
  std::vector<TxPtr> txs_;
  std::vector<TxResult> results_;
  std::string encoded_;
};

}  // namespace cc

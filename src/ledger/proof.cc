#include "ledger/proof.h"

#include <algorithm>

#include "crypto/merkle.h"

namespace cc {

nlohmann::json MakeProof(const Block& block, size_t index) {
  std::vector<Hash256> leaves;
  leaves.reserve(block.txs().size());
  for (size_t i = 0; i < block.txs().size(); ++i) {
    leaves.push_back(merkle::LeafHash(AsBytes(TxLeafData(block.txs()[i]->id(), block.results()[i]))));
  }
  nlohmann::json path = nlohmann::json::array();
  for (const auto& h : merkle::Proof(std::move(leaves), index)) path.push_back(h.hex());
  const TxPtr& tx = block.txs()[index];
  const TxResult& r = block.results()[index];
  return {{"version", 1},
          {"tx_id", tx->id().hex()},
          {"tx", ToHex(AsBytes(tx->encoded()))},
          {"result", {{"code", static_cast<int>(r.code)}, {"name", TxCodeName(r.code)}, {"detail", r.detail}}},
          {"index", index},
          {"count", block.txs().size()},
          {"path", std::move(path)},
          {"header", block.header().ToJson()},
          {"block_hash", block.hash().hex()},
          {"signature", block.signature().hex()}};
}

Result<VerifiedProof> VerifyProof(const nlohmann::json& p, const std::vector<PublicKey>& trusted) {
  if (!p.is_object()) return Status::Invalid("proof must be a JSON object");
  try {
    VerifiedProof out;
    auto raw = FromHex(p.at("tx").get<std::string>());
    if (!raw) return Status::Invalid("proof.tx is not hex");
    CC_ASSIGN_OR_RETURN(TxPtr tx, Transaction::Decode(AsChars(*raw)));
    if (tx->id().hex() != p.at("tx_id").get<std::string>())
      return Status::Invalid("proof.tx does not hash to proof.tx_id");
    if (!tx->VerifySignature()) return Status::Invalid("the transaction's signature is invalid");
    const auto& res = p.at("result");
    // Checked before get<>: converting a JSON float out of range is undefined.
    if (!res.at("code").is_number_integer()) return Status::Invalid("unknown result code");
    int64_t code = res.at("code").get<int64_t>();
    if (code < 0 || code > kMaxTxCode) return Status::Invalid("unknown result code");
    out.result = {static_cast<TxCode>(code), res.at("detail").get<std::string>()};
    if (!p.at("index").is_number_unsigned() || !p.at("count").is_number_unsigned())
      return Status::Invalid("proof.index and proof.count must be unsigned integers");
    uint64_t index = p.at("index").get<uint64_t>();
    uint64_t count = p.at("count").get<uint64_t>();
    std::vector<Hash256> path;
    for (const auto& h : p.at("path")) {
      auto d = Hash256::FromHex(h.get<std::string>());
      if (!d) return Status::Invalid("proof.path holds a value that is not a 32-byte hash");
      path.push_back(*d);
    }
    Hash256 leaf = merkle::LeafHash(AsBytes(TxLeafData(tx->id(), out.result)));
    CC_ASSIGN_OR_RETURN(Hash256 root, merkle::RootFromProof(leaf, index, count, path));
    CC_ASSIGN_OR_RETURN(out.header, BlockHeader::FromJson(p.at("header")));
    if (root != out.header.tx_root) return Status::Invalid("Merkle path does not lead to the header's tx_root");
    if (count != out.header.tx_count) return Status::Invalid("proof.count differs from the header's tx_count");
    if (tx->body().chain_id != out.header.chain_id) return Status::Invalid("transaction is for another chain");
    out.block_hash = out.header.Hash();
    if (out.block_hash.hex() != p.at("block_hash").get<std::string>())
      return Status::Invalid("header does not hash to proof.block_hash");
    auto sig = Signature::FromHex(p.at("signature").get<std::string>());
    if (!sig || !Verify(out.header.proposer, AsBytes(Block::SigningMessage(out.block_hash)), *sig))
      return Status::Invalid("the block's proposer signature is invalid");
    if (!trusted.empty() &&
        std::find(trusted.begin(), trusted.end(), out.header.proposer) == trusted.end())
      return Status::Invalid("the block's proposer " + out.header.proposer.hex() + " is not a trusted node");
    out.tx_id = tx->id();
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(std::string("malformed proof: ") + e.what());
  }
}

}  // namespace cc

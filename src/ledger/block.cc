#include "ledger/block.h"

#include "codec/varint.h"
#include "crypto/merkle.h"

namespace cc {
namespace {

constexpr std::string_view kBlockDomain = "carechain:block:v1";

Status DecodeHeader(codec::Reader& r, BlockHeader* h) {
  uint8_t version;
  CC_RETURN_IF_ERROR(r.U8("block.version", &version));
  if (version != kBlockVersion) {
    return Status::Invalid("unsupported block version " + std::to_string(version));
  }
  std::string_view chain, prev, tx_root, changes, state, proposer;
  CC_RETURN_IF_ERROR(r.Bytes("block.chain_id", kMaxChainIdLen, &chain));
  CC_RETURN_IF_ERROR(r.Varint("block.height", &h->height));
  CC_RETURN_IF_ERROR(r.Fixed("block.prev_hash", 32, &prev));
  CC_RETURN_IF_ERROR(r.Varint("block.time_ms", &h->time_ms));
  CC_RETURN_IF_ERROR(r.Fixed("block.tx_root", 32, &tx_root));
  CC_RETURN_IF_ERROR(r.Fixed("block.changes_hash", 32, &changes));
  CC_RETURN_IF_ERROR(r.Fixed("block.state_root", 32, &state));
  CC_RETURN_IF_ERROR(r.Varint("block.tx_count", &h->tx_count));
  CC_RETURN_IF_ERROR(r.Fixed("block.proposer", 32, &proposer));
  if (h->tx_count > kMaxBlockTxs) return Status::TooLarge("block has too many transactions");
  h->chain_id = chain;
  h->prev_hash = BlockHash::FromView(AsBytes(prev));
  h->tx_root = Hash256::FromView(AsBytes(tx_root));
  h->changes_hash = Hash256::FromView(AsBytes(changes));
  h->state_root = Hash256::FromView(AsBytes(state));
  h->proposer = PublicKey::FromView(AsBytes(proposer));
  return Status::Ok();
}

template <typename D>
Status HashField(const nlohmann::json& j, const char* k, D* out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) return Status::Invalid(std::string("missing ") + k);
  auto d = D::FromHex(it->template get<std::string>());
  if (!d) return Status::Invalid(std::string(k) + " must be 64 hex digits");
  *out = *d;
  return Status::Ok();
}

Status UIntField(const nlohmann::json& j, const char* k, uint64_t* out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number_unsigned()) return Status::Invalid(std::string("missing ") + k);
  *out = it->get<uint64_t>();
  return Status::Ok();
}

}  // namespace

std::string BlockHeader::Encode() const {
  codec::Writer w;
  w.U8(kBlockVersion).Bytes(chain_id).Varint(height).Fixed(prev_hash.view()).Varint(time_ms)
      .Fixed(tx_root.view()).Fixed(changes_hash.view()).Fixed(state_root.view()).Varint(tx_count)
      .Fixed(proposer.view());
  return w.Take();
}

BlockHash BlockHeader::Hash() const { return BlockHash::From(Blake2b256(Encode())); }

nlohmann::json BlockHeader::ToJson() const {
  return {{"chain_id", chain_id},         {"height", height},
          {"prev_hash", prev_hash.hex()}, {"time_ms", time_ms},
          {"tx_root", tx_root.hex()},     {"changes_hash", changes_hash.hex()},
          {"state_root", state_root.hex()}, {"tx_count", tx_count},
          {"proposer", proposer.hex()}};
}

Result<BlockHeader> BlockHeader::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("header must be an object");
  BlockHeader h;
  auto chain = j.find("chain_id");
  if (chain == j.end() || !chain->is_string()) return Status::Invalid("missing chain_id");
  h.chain_id = chain->get<std::string>();
  CC_RETURN_IF_ERROR(UIntField(j, "height", &h.height));
  CC_RETURN_IF_ERROR(HashField(j, "prev_hash", &h.prev_hash));
  CC_RETURN_IF_ERROR(UIntField(j, "time_ms", &h.time_ms));
  CC_RETURN_IF_ERROR(HashField(j, "tx_root", &h.tx_root));
  CC_RETURN_IF_ERROR(HashField(j, "changes_hash", &h.changes_hash));
  CC_RETURN_IF_ERROR(HashField(j, "state_root", &h.state_root));
  CC_RETURN_IF_ERROR(UIntField(j, "tx_count", &h.tx_count));
  auto p = j.find("proposer");
  if (p == j.end() || !p->is_string() || !PublicKey::FromHex(p->get<std::string>()))
    return Status::Invalid("proposer must be 64 hex digits");
  h.proposer = *PublicKey::FromHex(p->get<std::string>());
  return h;
}

std::string TxLeafData(const TxId& id, const TxResult& r) {
  codec::Writer w;
  w.Fixed(id.view()).U8(static_cast<uint8_t>(r.code)).Bytes(r.detail);
  return w.Take();
}

Hash256 Block::ComputeTxRoot(const std::vector<TxPtr>& txs, const std::vector<TxResult>& results) {
  std::vector<Hash256> leaves;
  leaves.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    leaves.push_back(merkle::LeafHash(AsBytes(TxLeafData(txs[i]->id(), results[i]))));
  }
  return merkle::Root(std::move(leaves));
}

std::string Block::SigningMessage(const BlockHash& hash) {
  std::string m(kBlockDomain);
  m.append(AsChars(hash.view()));
  return m;
}

BlockPtr Block::Make(BlockHeader header, const Signature& sig, std::vector<TxPtr> txs,
                     std::vector<TxResult> results) {
  assert(txs.size() == results.size() && header.tx_count == txs.size());
  auto b = std::shared_ptr<Block>(new Block());
  std::string hdr = header.Encode();
  b->hash_ = BlockHash::From(Blake2b256(hdr));
  codec::Writer w;
  w.Fixed(AsBytes(hdr)).Fixed(sig.view());
  for (size_t i = 0; i < txs.size(); ++i) {
    w.Bytes(txs[i]->encoded()).U8(static_cast<uint8_t>(results[i].code)).Bytes(results[i].detail);
  }
  b->encoded_ = w.Take();
  b->header_ = std::move(header);
  b->sig_ = sig;
  b->txs_ = std::move(txs);
  b->results_ = std::move(results);
  return b;
}

Result<BlockPtr> Block::Decode(std::string_view encoded) {
  codec::Reader r(encoded);
  auto b = std::shared_ptr<Block>(new Block());
  CC_RETURN_IF_ERROR(DecodeHeader(r, &b->header_));
  b->hash_ = BlockHash::From(Blake2b256(encoded.substr(0, r.position())));
  std::string_view sig;
  CC_RETURN_IF_ERROR(r.Fixed("block.signature", Signature::kSize, &sig));
  b->sig_ = Signature::FromView(AsBytes(sig));
  // Each transaction takes at least ~100 bytes, so a count larger than the
  // input is refused before anything is reserved.
  if (b->header_.tx_count > r.remaining()) return Status::Invalid("block tx_count exceeds its size");
  b->txs_.reserve(b->header_.tx_count);
  b->results_.reserve(b->header_.tx_count);
  for (uint64_t i = 0; i < b->header_.tx_count; ++i) {
    std::string_view tx_bytes, detail;
    uint8_t code;
    CC_RETURN_IF_ERROR(r.Bytes("block.tx", kMaxEncodedTxBytes, &tx_bytes));
    CC_RETURN_IF_ERROR(r.U8("block.result_code", &code));
    CC_RETURN_IF_ERROR(r.Bytes("block.result_detail", kMaxResultDetail, &detail));
    if (code > kMaxTxCode) return Status::Invalid("unknown result code " + std::to_string(code));
    CC_ASSIGN_OR_RETURN(TxPtr tx, Transaction::Decode(tx_bytes));
    b->txs_.push_back(std::move(tx));
    b->results_.push_back({static_cast<TxCode>(code), std::string(detail)});
  }
  CC_RETURN_IF_ERROR(r.Finish());
  b->encoded_ = encoded;
  return BlockPtr(std::move(b));
}

bool Block::VerifyProposerSignature() const {
  return Verify(header_.proposer, AsBytes(SigningMessage(hash_)), sig_);
}

nlohmann::json Block::ToJson(bool with_txs) const {
  nlohmann::json j = {{"hash", hash_.hex()}, {"header", header_.ToJson()}, {"signature", sig_.hex()}};
  if (with_txs) {
    nlohmann::json txs = nlohmann::json::array();
    for (size_t i = 0; i < txs_.size(); ++i) {
      nlohmann::json t = txs_[i]->ToJson();
      t["result"] = {{"code", TxCodeName(results_[i].code)}, {"detail", results_[i].detail}};
      txs.push_back(std::move(t));
    }
    j["transactions"] = std::move(txs);
  } else {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& t : txs_) ids.push_back(t->id().hex());
    j["tx_ids"] = std::move(ids);
  }
  return j;
}

}  // namespace cc

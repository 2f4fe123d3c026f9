#include "ledger/block.h"

#include <gtest/gtest.h>

#include "codec/varint.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;

std::vector<TxPtr> SomeTxs(size_t n) {
  std::vector<TxPtr> txs;
  for (size_t i = 0; i < n; ++i) {
    txs.push_back(MakeTx(Key(40), i + 1, "identity", "rotate_key",
                         {{"new_key", Key(static_cast<uint8_t>(100 + i)).public_key().hex()}}));
  }
  return txs;
}

std::vector<TxResult> SomeResults(size_t n) {
  std::vector<TxResult> r;
  for (size_t i = 0; i < n; ++i) {
    if (i % 3 == 1) r.push_back(TxResult::Reject(TxCode::kUnauthorized, "not allowed #" + std::to_string(i)));
    else r.push_back(TxResult::Ok());
  }
  return r;
}

BlockHeader HeaderFor(const std::vector<TxPtr>& txs, const std::vector<TxResult>& results,
                      const SecretKey& proposer) {
  BlockHeader h;
  h.chain_id = testing::kChainId;
  h.height = 7;
  h.prev_hash = BlockHash::From(Blake2b256(std::string_view("prev")));
  h.time_ms = 1700000000123ull;
  h.tx_root = Block::ComputeTxRoot(txs, results);
  h.changes_hash = Blake2b256(std::string_view("changes"));
  h.state_root = Blake2b256(std::string_view("state"));
  h.tx_count = txs.size();
  h.proposer = proposer.public_key();
  return h;
}

BlockPtr SignedBlock(size_t n, const SecretKey& proposer = Key(1)) {
  auto txs = SomeTxs(n);
  auto results = SomeResults(n);
  BlockHeader h = HeaderFor(txs, results, proposer);
  Signature sig = proposer.Sign(AsBytes(Block::SigningMessage(h.Hash())));
  return Block::Make(h, sig, txs, results);
}

TEST(Block, EncodeDecodeRoundTrip) {
  for (size_t n : {0u, 1u, 2u, 7u}) {
    BlockPtr b = SignedBlock(n);
    EXPECT_TRUE(b->VerifyProposerSignature());
    auto d = Block::Decode(b->encoded());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    const Block& back = **d;
    EXPECT_EQ(back.hash(), b->hash());
    EXPECT_EQ(back.encoded(), b->encoded());
    EXPECT_EQ(back.header().Encode(), b->header().Encode());
    EXPECT_EQ(back.signature(), b->signature());
    ASSERT_EQ(back.txs().size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(back.txs()[i]->id(), b->txs()[i]->id());
      EXPECT_EQ(back.results()[i], b->results()[i]);
    }
    EXPECT_TRUE(back.VerifyProposerSignature());
    EXPECT_EQ(Block::ComputeTxRoot(back.txs(), back.results()), back.header().tx_root);
  }
}

TEST(Block, HashIsTheHashOfTheHeader) {
  BlockPtr b = SignedBlock(3);
  EXPECT_EQ(b->hash(), BlockHash::From(Blake2b256(b->header().Encode())));
  EXPECT_EQ(b->hash(), b->header().Hash());
  // The encoding begins with the header, then the signature.
  const std::string hdr = b->header().Encode();
  EXPECT_EQ(b->encoded().substr(0, hdr.size()), hdr);
  EXPECT_EQ(b->encoded().substr(hdr.size(), 64), std::string(AsChars(b->signature().view())));
}

TEST(Block, TamperingAnyHeaderFieldChangesTheHashAndBreaksTheSignature) {
  BlockPtr b = SignedBlock(4);
  const BlockHeader& h0 = b->header();
  std::vector<std::pair<const char*, std::function<void(BlockHeader&)>>> edits = {
      {"chain_id", [](BlockHeader& h) { h.chain_id += "!"; }},
      {"height", [](BlockHeader& h) { h.height++; }},
      {"prev_hash", [](BlockHeader& h) { h.prev_hash.bytes[0] ^= 1; }},
      {"time_ms", [](BlockHeader& h) { h.time_ms++; }},
      {"tx_root", [](BlockHeader& h) { h.tx_root.bytes[31] ^= 0x80; }},
      {"changes_hash", [](BlockHeader& h) { h.changes_hash.bytes[5] ^= 1; }},
      {"state_root", [](BlockHeader& h) { h.state_root.bytes[9] ^= 1; }},
      {"tx_count", [](BlockHeader& h) { h.tx_count++; }},
      {"proposer", [](BlockHeader& h) { h.proposer = Key(2).public_key(); }},
  };
  for (const auto& [name, edit] : edits) {
    BlockHeader h = h0;
    edit(h);
    EXPECT_NE(h.Hash(), b->hash()) << name;
    EXPECT_NE(h.Encode(), h0.Encode()) << name;
    EXPECT_FALSE(Verify(h.proposer, AsBytes(Block::SigningMessage(h.Hash())), b->signature())) << name;
  }
}

TEST(Block, FlippedBytesInTheStoredHeaderAreDetected) {
  BlockPtr b = SignedBlock(2);
  const size_t hdr = b->header().Encode().size();
  for (size_t i = 0; i < hdr; ++i) {
    std::string enc = b->encoded();
    enc[i] ^= 0x01;
    auto d = Block::Decode(enc);
    if (!d.ok()) continue;  // structure broken: refused outright
    bool detected = !(*d)->VerifyProposerSignature() || (*d)->hash() != b->hash();
    EXPECT_TRUE(detected) << "byte " << i;
    EXPECT_NE((*d)->hash(), b->hash()) << "byte " << i;
  }
  // The signature itself.
  for (size_t i = hdr; i < hdr + 64; i += 9) {
    std::string enc = b->encoded();
    enc[i] ^= 0x10;
    auto d = Block::Decode(enc);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE((*d)->VerifyProposerSignature()) << "signature byte " << i - hdr;
  }
}

TEST(Block, TxRootDetectsChangedResults) {
  auto txs = SomeTxs(5);
  auto results = SomeResults(5);
  Hash256 root = Block::ComputeTxRoot(txs, results);
  for (size_t i = 0; i < 5; ++i) {
    auto r = results;
    r[i].code = r[i].ok() ? TxCode::kNotFound : TxCode::kOk;
    EXPECT_NE(Block::ComputeTxRoot(txs, r), root) << "code of " << i;
    r = results;
    r[i].detail += ".";
    EXPECT_NE(Block::ComputeTxRoot(txs, r), root) << "detail of " << i;
  }
  // Order and membership matter.
  auto swapped = txs;
  std::swap(swapped[0], swapped[1]);
  auto swapped_results = results;
  std::swap(swapped_results[0], swapped_results[1]);
  EXPECT_NE(Block::ComputeTxRoot(swapped, swapped_results), root);
  auto fewer = txs;
  fewer.pop_back();
  auto fewer_results = results;
  fewer_results.pop_back();
  EXPECT_NE(Block::ComputeTxRoot(fewer, fewer_results), root);
}

TEST(Block, TxLeafDataBindsCodeAndDetail) {
  TxId id = TxId::From(Blake2b256(std::string_view("t")));
  // Code and detail length prefix keep leaves unambiguous.
  EXPECT_NE(TxLeafData(id, TxResult::Reject(TxCode::kNotFound, "")),
            TxLeafData(id, TxResult::Reject(TxCode::kAlreadyExists, "")));
  EXPECT_NE(TxLeafData(id, TxResult::Reject(TxCode::kNotFound, "a")),
            TxLeafData(id, TxResult::Reject(TxCode::kNotFound, "b")));
  EXPECT_EQ(TxLeafData(id, TxResult::Ok()).size(), 32u + 1 + 1);
}

TEST(Block, ChangingAStoredResultBreaksTheTxRoot) {
  BlockPtr b = SignedBlock(4);
  // Rebuild the encoding with result 1 changed to OK, keeping the header.
  std::string enc = b->header().Encode();
  enc += AsChars(b->signature().view());
  for (size_t i = 0; i < b->txs().size(); ++i) {
    codec::Writer w;
    TxResult r = b->results()[i];
    if (i == 1) r = TxResult::Ok();
    w.Bytes(b->txs()[i]->encoded()).U8(static_cast<uint8_t>(r.code)).Bytes(r.detail);
    enc += w.data();
  }
  auto d = Block::Decode(enc);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE((*d)->VerifyProposerSignature());  // the header is untouched...
  EXPECT_NE(Block::ComputeTxRoot((*d)->txs(), (*d)->results()), (*d)->header().tx_root);  // ...but
}

TEST(Block, DecodeRejectsMalformedEncodings) {
  BlockPtr b = SignedBlock(3);
  const std::string& enc = b->encoded();
  for (size_t n = 0; n < enc.size(); n += (n < 200 ? 1 : 13)) {
    EXPECT_FALSE(Block::Decode(enc.substr(0, n)).ok()) << "prefix " << n;
  }
  EXPECT_FALSE(Block::Decode(enc + "x").ok());
  std::string wrong_version = enc;
  wrong_version[0] = 2;
  EXPECT_FALSE(Block::Decode(wrong_version).ok());
  // An unknown result code (one past the last) in the last transaction.
  BlockPtr one = SignedBlock(1);
  std::string bad_code = one->encoded();
  // Layout of the tail: ... | u8 code | varint detail length (0) : result 0 is OK with no detail.
  ASSERT_EQ(bad_code.substr(bad_code.size() - 2), std::string("\0\0", 2));
  bad_code[bad_code.size() - 2] = static_cast<char>(kMaxTxCode + 1);
  auto r = Block::Decode(bad_code);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("result code"), std::string::npos);
  bad_code[bad_code.size() - 2] = static_cast<char>(kMaxTxCode);
  EXPECT_TRUE(Block::Decode(bad_code).ok());
}

TEST(Block, DecodeRejectsTxCountsTheInputCannotHold) {
  auto hdr_with_count = [](uint64_t count) {
    BlockHeader h;
    h.chain_id = "c";
    h.tx_count = count;
    std::string enc = h.Encode();
    enc += std::string(64, '\0');
    return enc;
  };
  auto r = Block::Decode(hdr_with_count(1000));  // nothing follows the signature
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  auto too_many = Block::Decode(hdr_with_count(kMaxBlockTxs + 1));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Code::kTooLarge);
  EXPECT_FALSE(Block::Decode(hdr_with_count(~0ull)).ok());
  EXPECT_TRUE(Block::Decode(hdr_with_count(0)).ok());
}

TEST(Block, DecodeRejectsADetailOverTheLimit) {
  auto txs = SomeTxs(1);
  std::vector<TxResult> results = {TxResult::Reject(TxCode::kNotFound, std::string(kMaxResultDetail + 1, 'd'))};
  BlockHeader h = HeaderFor(txs, results, Key(1));
  BlockPtr b = Block::Make(h, Signature{}, txs, results);
  EXPECT_EQ(Block::Decode(b->encoded()).status().code(), Code::kTooLarge);
  results[0].detail.resize(kMaxResultDetail);
  h = HeaderFor(txs, results, Key(1));
  EXPECT_TRUE(Block::Decode(Block::Make(h, Signature{}, txs, results)->encoded()).ok());
}

TEST(Block, HeaderJsonRoundTrip) {
  BlockPtr b = SignedBlock(2);
  nlohmann::json j = b->header().ToJson();
  auto back = BlockHeader::FromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Encode(), b->header().Encode());
  EXPECT_EQ(back->Hash(), b->hash());
  for (const char* field : {"chain_id", "height", "prev_hash", "time_ms", "tx_root", "changes_hash",
                            "state_root", "tx_count", "proposer"}) {
    nlohmann::json missing = j;
    missing.erase(field);
    EXPECT_FALSE(BlockHeader::FromJson(missing).ok()) << field;
  }
  nlohmann::json bad = j;
  bad["height"] = -1;
  EXPECT_FALSE(BlockHeader::FromJson(bad).ok());
  bad = j;
  bad["height"] = 7.0;
  EXPECT_FALSE(BlockHeader::FromJson(bad).ok());
  bad = j;
  bad["tx_root"] = std::string(63, 'a');
  EXPECT_FALSE(BlockHeader::FromJson(bad).ok());
  bad = j;
  bad["proposer"] = "xyz";
  EXPECT_FALSE(BlockHeader::FromJson(bad).ok());
  EXPECT_FALSE(BlockHeader::FromJson(nlohmann::json::array()).ok());
}

TEST(Block, JsonViewListsIdsOrFullTransactions) {
  BlockPtr b = SignedBlock(3);
  nlohmann::json brief = b->ToJson(false);
  EXPECT_EQ(brief["hash"], b->hash().hex());
  ASSERT_EQ(brief["tx_ids"].size(), 3u);
  EXPECT_EQ(brief["tx_ids"][2], b->txs()[2]->id().hex());
  EXPECT_FALSE(brief.contains("transactions"));
  nlohmann::json full = b->ToJson(true);
  ASSERT_EQ(full["transactions"].size(), 3u);
  EXPECT_EQ(full["transactions"][1]["result"]["code"], "unauthorized");
  EXPECT_EQ(full["transactions"][0]["result"]["code"], "ok");
  EXPECT_EQ(full["transactions"][1]["id"], b->txs()[1]->id().hex());
}

}  // namespace
}  // namespace cc

#include "ledger/proof.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;

class ProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < 7; ++i) {
      txs_.push_back(MakeTx(Key(static_cast<uint8_t>(50 + i)), 1, "identity", "rotate_key",
                            {{"new_key", Key(static_cast<uint8_t>(150 + i)).public_key().hex()}}));
      results_.push_back(i == 3 ? TxResult::Reject(TxCode::kAlreadyExists, "new key is already registered")
                                : TxResult::Ok());
    }
    block_ = Build(txs_, results_, proposer_);
  }

  static BlockPtr Build(const std::vector<TxPtr>& txs, const std::vector<TxResult>& results,
                        const SecretKey& proposer) {
    BlockHeader h;
    h.chain_id = testing::kChainId;
    h.height = 12;
    h.prev_hash = BlockHash::From(Blake2b256(std::string_view("11")));
    h.time_ms = 1700000000000ull;
    h.tx_root = Block::ComputeTxRoot(txs, results);
    h.changes_hash = Blake2b256(std::string_view("c"));
    h.state_root = Blake2b256(std::string_view("s"));
    h.tx_count = txs.size();
    h.proposer = proposer.public_key();
    return Block::Make(h, proposer.Sign(AsBytes(Block::SigningMessage(h.Hash()))), txs, results);
  }

  // Expects `proof` to be refused, with a message containing `what` if given.
  void ExpectRefused(const nlohmann::json& proof, const std::string& what = "",
                     const std::vector<PublicKey>& trusted = {}) {
    auto r = VerifyProof(proof, trusted);
    ASSERT_FALSE(r.ok()) << proof.dump();
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    if (!what.empty()) {
      EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
    }
  }

  SecretKey proposer_ = Key(1);
  std::vector<TxPtr> txs_;
  std::vector<TxResult> results_;
  BlockPtr block_;
};

TEST_F(ProofTest, EveryTransactionsProofVerifies) {
  for (size_t i = 0; i < txs_.size(); ++i) {
    nlohmann::json p = MakeProof(*block_, i);
    EXPECT_EQ(p["index"], i);
    EXPECT_EQ(p["count"], 7);
    auto r = VerifyProof(p, {});
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->tx_id, txs_[i]->id());
    EXPECT_EQ(r->result, results_[i]);
    EXPECT_EQ(r->block_hash, block_->hash());
    EXPECT_EQ(r->header.height, 12u);
    // Survives a trip through text.
    auto again = VerifyProof(nlohmann::json::parse(p.dump()), {proposer_.public_key()});
    EXPECT_TRUE(again.ok()) << again.status().ToString();
  }
}

TEST_F(ProofTest, SingleTransactionBlock) {
  BlockPtr one = Build({txs_[0]}, {results_[0]}, proposer_);
  nlohmann::json p = MakeProof(*one, 0);
  EXPECT_TRUE(p["path"].empty());
  EXPECT_TRUE(VerifyProof(p, {}).ok());
}

TEST_F(ProofTest, TrustedProposerCheck) {
  nlohmann::json p = MakeProof(*block_, 2);
  EXPECT_TRUE(VerifyProof(p, {proposer_.public_key()}).ok());
  EXPECT_TRUE(VerifyProof(p, {Key(9).public_key(), proposer_.public_key()}).ok());
  ExpectRefused(p, "not a trusted node", {Key(9).public_key()});
  // A block signed by an untrusted key is refused even though it is self-consistent.
  BlockPtr rogue = Build(txs_, results_, Key(9));
  nlohmann::json rp = MakeProof(*rogue, 2);
  EXPECT_TRUE(VerifyProof(rp, {}).ok());
  ExpectRefused(rp, "not a trusted node", {proposer_.public_key()});
}

TEST_F(ProofTest, TamperedTransactionFails) {
  nlohmann::json p = MakeProof(*block_, 4);
  // Another transaction of the same block under this proof.
  nlohmann::json q = p;
  q["tx"] = ToHex(AsBytes(txs_[5]->encoded()));
  ExpectRefused(q, "tx_id");
  q["tx_id"] = txs_[5]->id().hex();
  ExpectRefused(q);  // the Merkle path is for index 4
  // Not hex, not a transaction.
  q = p;
  q["tx"] = "zz";
  ExpectRefused(q, "not hex");
  q["tx"] = "00";
  ExpectRefused(q);
  // tx_id of another transaction.
  q = p;
  q["tx_id"] = txs_[0]->id().hex();
  ExpectRefused(q, "tx_id");
}

TEST_F(ProofTest, ForgedSignatureInsideTheTransactionFails) {
  // A block may carry a transaction whose signature is bad only if the
  // proposer misbehaved; the proof still refuses it.
  TxBody body = txs_[0]->body();
  TxPtr forged = Transaction::FromParts(body, Key(99).Sign(AsBytes(std::string_view("x"))));
  auto txs = txs_;
  txs[0] = forged;
  BlockPtr b = Build(txs, results_, proposer_);
  ExpectRefused(MakeProof(*b, 0), "signature");
  EXPECT_TRUE(VerifyProof(MakeProof(*b, 1), {}).ok());
}

TEST_F(ProofTest, TamperedResultFails) {
  nlohmann::json p = MakeProof(*block_, 3);
  ASSERT_EQ(p["result"]["code"], static_cast<int>(TxCode::kAlreadyExists));
  nlohmann::json q = p;
  q["result"]["code"] = 0;  // claim it succeeded
  ExpectRefused(q, "tx_root");
  q = p;
  q["result"]["detail"] = "fine";
  ExpectRefused(q, "tx_root");
  q = p;
  q["result"]["code"] = kMaxTxCode + 1;
  ExpectRefused(q, "result code");
  q["result"]["code"] = -1;
  ExpectRefused(q, "result code");
}

TEST_F(ProofTest, TamperedIndexCountOrPathFails) {
  for (size_t i = 0; i < txs_.size(); ++i) {
    nlohmann::json p = MakeProof(*block_, i);
    for (size_t j = 0; j < 9; ++j) {
      if (j == i) continue;
      nlohmann::json q = p;
      q["index"] = j;
      ExpectRefused(q);
    }
    for (uint64_t c : {1ull, 6ull, 8ull, 9ull, 100ull}) {
      nlohmann::json q = p;
      q["count"] = c;
      ExpectRefused(q);
    }
    nlohmann::json q = p;
    q["path"].push_back(txs_[0]->id().hex());
    ExpectRefused(q, "too long");
    if (!p["path"].empty()) {
      q = p;
      q["path"].erase(q["path"].size() - 1);
      ExpectRefused(q, "too short");
      q = p;
      std::string h = q["path"][0];
      h[0] = h[0] == '0' ? '1' : '0';
      q["path"][0] = h;
      ExpectRefused(q, "tx_root");
      q = p;
      q["path"][0] = "abcd";
      ExpectRefused(q, "32-byte");
    }
  }
}

TEST_F(ProofTest, CountMustMatchTheHeader) {
  // Leaf 0 of 7 and leaf 0 of 8 share a path shape: only the header's
  // tx_count tells them apart.
  nlohmann::json p = MakeProof(*block_, 0);
  nlohmann::json q = p;
  q["count"] = 8u;
  ExpectRefused(q, "tx_count");
}

TEST_F(ProofTest, TamperedHeaderOrBlockHashFails) {
  const nlohmann::json p = MakeProof(*block_, 1);
  auto refused = [&](const char* field, nlohmann::json value, const std::string& what) {
    nlohmann::json q = p;
    q["header"][field] = value;
    ExpectRefused(q, what);
  };
  refused("height", 13u, "block_hash");  // unsigned, as parsed from text
  refused("time_ms", 1700000000001ull, "block_hash");
  refused("prev_hash", block_->hash().hex(), "block_hash");
  refused("changes_hash", std::string(64, '0'), "block_hash");
  refused("state_root", std::string(64, '0'), "block_hash");
  refused("tx_root", std::string(64, '0'), "tx_root");
  refused("tx_count", 8u, "tx_count");
  refused("chain_id", "other-chain", "another chain");
  refused("proposer", Key(9).public_key().hex(), "block_hash");
  refused("height", "13", "");

  // A re-hashed header with a matching block_hash still needs the proposer's signature.
  nlohmann::json q = p;
  q["header"]["height"] = 13u;
  auto h = BlockHeader::FromJson(q["header"]);
  ASSERT_TRUE(h.ok());
  q["block_hash"] = h->Hash().hex();
  ExpectRefused(q, "proposer signature");
  // ...and a signature by another key over it does not help.
  q["header"]["proposer"] = Key(9).public_key().hex();
  h = BlockHeader::FromJson(q["header"]);
  q["block_hash"] = h->Hash().hex();
  ExpectRefused(q, "proposer signature");
  q["signature"] = Key(9).Sign(AsBytes(Block::SigningMessage(h->Hash()))).hex();
  EXPECT_TRUE(VerifyProof(q, {}).ok());  // self-consistent forgery: only trust stops it
  ExpectRefused(q, "trusted", {proposer_.public_key()});

  nlohmann::json s = p;
  s["block_hash"] = std::string(64, 'a');
  ExpectRefused(s, "block_hash");
  s = p;
  std::string sig = s["signature"];
  sig[10] = sig[10] == 'a' ? 'b' : 'a';
  s["signature"] = sig;
  ExpectRefused(s, "proposer signature");
  s["signature"] = "short";
  ExpectRefused(s, "proposer signature");
}

TEST_F(ProofTest, MalformedProofsAreRefusedNotThrown) {
  const nlohmann::json p = MakeProof(*block_, 0);
  ExpectRefused(nlohmann::json::array());
  ExpectRefused(nlohmann::json("proof"));
  for (const char* field : {"tx", "tx_id", "result", "index", "count", "path", "header", "block_hash", "signature"}) {
    nlohmann::json q = p;
    q.erase(field);
    ExpectRefused(q);
  }
  for (const char* field : {"tx", "tx_id", "index", "count", "path", "block_hash", "signature"}) {
    nlohmann::json q = p;
    q[field] = nlohmann::json::object({{"x", 1}});
    ExpectRefused(q);
  }
  nlohmann::json q = p;
  q["result"] = "ok";
  ExpectRefused(q);
  q = p;
  q["path"] = {1, 2};
  ExpectRefused(q);
  q = p;
  q["index"] = -1;
  ExpectRefused(q);
}

}  // namespace
}  // namespace cc

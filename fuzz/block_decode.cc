// Block::Decode on arbitrary bytes: what a node reads back from its store and
// what a future sync protocol would receive from peers.
//
// Properties: a decoded block re-encodes to exactly the input, its hash is
// the hash of its header's encoding, and Block::Make from the decoded parts
// gives the same bytes and hash. An inclusion proof made from the block
// verifies exactly when the block is consistent (tx_root matches, proposer
// signature valid) and so is the transaction (signature, chain id).
#include <cstdint>

#include "fuzz_check.h"
#include "ledger/block.h"
#include "ledger/proof.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  const std::string_view in = fuzz::AsText(data, size);

  auto decoded = Block::Decode(in);
  if (!decoded.ok()) return 0;
  const Block& b = **decoded;
  FUZZ_CHECK(b.encoded() == in, "decode then encode gives back the input");
  const std::string header = b.header().Encode();
  FUZZ_CHECK(in.substr(0, header.size()) == header, "the header re-encodes to its input bytes");
  FUZZ_CHECK(b.hash() == b.header().Hash(), "the block hash is the hash of the header");
  FUZZ_CHECK(b.txs().size() == b.header().tx_count && b.results().size() == b.txs().size(),
             "tx_count transactions, one result each");

  BlockPtr remade = Block::Make(b.header(), b.signature(), b.txs(), b.results());
  FUZZ_CHECK(remade->encoded() == in && remade->hash() == b.hash(),
             "Make from the decoded parts gives the same bytes and hash");

  for (size_t i = 0; i < b.txs().size(); ++i) {
    FUZZ_CHECK(Transaction::Decode(b.txs()[i]->encoded()).ok(),
               "a block's transaction decodes alone");
    FUZZ_CHECK(b.results()[i].detail.size() <= kMaxResultDetail, "result detail within its limit");
  }
  (void)b.ToJson(/*with_txs=*/false);
  (void)b.ToJson(/*with_txs=*/true);

  // Proofs for the first few transactions (MakeProof is linear in the block).
  const bool block_ok = b.VerifyProposerSignature() &&
                        Block::ComputeTxRoot(b.txs(), b.results()) == b.header().tx_root;
  for (size_t i = 0; i < b.txs().size() && i < 4; ++i) {
    const TxPtr& tx = b.txs()[i];
    const bool consistent =
        block_ok && tx->VerifySignature() && tx->body().chain_id == b.header().chain_id;
    auto v = VerifyProof(MakeProof(b, i), {b.header().proposer});
    FUZZ_CHECK(v.ok() == consistent,
               "a proof verifies iff its block and transaction are consistent");
    if (v.ok()) {
      FUZZ_CHECK(
          v->tx_id == b.txs()[i]->id() && v->block_hash == b.hash() && v->result == b.results()[i],
          "a verified proof states the block's transaction, result and hash");
    }
  }
  return 0;
}

// VerifyProof on arbitrary JSON text: what `carechain verify-proof` and light
// clients check offline, from a file or a node they do not trust.
//
// Properties: no crash, no exception escapes, and a proof that verifies
// states a transaction that decodes to the stated id with a valid signature,
// for the stated header, whose proposer is the trusted one when one is given.
#include <cstdint>

#include "fuzz_check.h"
#include "ledger/proof.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  nlohmann::json j =
      nlohmann::json::parse(fuzz::AsText(data, size), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;

  auto v = VerifyProof(j, /*trusted_proposers=*/{});
  if (!v.ok()) return 0;
  FUZZ_CHECK(v->block_hash == v->header.Hash(), "the block hash is the header's hash");
  FUZZ_CHECK(v->result.code <= static_cast<TxCode>(kMaxTxCode), "a known result code");
  auto tx = Transaction::Decode(AsChars(*FromHex(j["tx"].get<std::string>())));
  FUZZ_CHECK(tx.ok() && (*tx)->id() == v->tx_id && (*tx)->VerifySignature(),
             "the proven transaction decodes to the proven id and is signed");
  FUZZ_CHECK((*tx)->body().chain_id == v->header.chain_id,
             "the transaction is for the header's chain");

  // The same proof against its own proposer passes, against another fails.
  FUZZ_CHECK(VerifyProof(j, {v->header.proposer}).ok(), "the proposer trusts itself");
  PublicKey other = v->header.proposer;
  other.bytes[0] ^= 1;
  FUZZ_CHECK(!VerifyProof(j, {other}).ok(), "an untrusted proposer is refused");
  return 0;
}

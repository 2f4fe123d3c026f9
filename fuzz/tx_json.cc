// Transaction::FromJson on arbitrary JSON text: what POST /v1/tx accepts as
// application/json (the body is parsed first, as the API does).
//
// Properties: an accepted transaction has a canonical payload and names
// within their limits; its encoding decodes to the same id; its JSON form
// is accepted again and gives the same id.
#include <cstdint>

#include "codec/canonical_json.h"
#include "fuzz_check.h"
#include "ledger/transaction.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  nlohmann::json j =
      nlohmann::json::parse(fuzz::AsText(data, size), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;

  auto from_json = Transaction::FromJson(j);
  if (!from_json.ok()) return 0;
  const TxPtr& tx = *from_json;
  FUZZ_CHECK(codec::ParseCanonicalJson(tx->body().payload).ok(), "the payload is canonical");
  FUZZ_CHECK(tx->body().chain_id.size() <= kMaxChainIdLen, "chain_id within its limit");
  FUZZ_CHECK(tx->body().module.size() <= kMaxNameLen && tx->body().action.size() <= kMaxNameLen,
             "names within their limit");
  (void)tx->VerifySignature();

  if (tx->encoded().size() <= kMaxEncodedTxBytes) {
    auto decoded = Transaction::Decode(tx->encoded());
    FUZZ_CHECK(decoded.ok() && (*decoded)->id() == tx->id(), "the encoding decodes to the same id");
  }

  auto again = Transaction::FromJson(tx->ToJson());
  FUZZ_CHECK(again.ok() && (*again)->id() == tx->id(), "the JSON form round-trips to the same id");
  nlohmann::json reparsed = nlohmann::json::parse(tx->ToJson().dump(), nullptr, false);
  auto from_text = Transaction::FromJson(reparsed);
  FUZZ_CHECK(from_text.ok() && (*from_text)->id() == tx->id(),
             "the JSON text round-trips to the same id");
  return 0;
}

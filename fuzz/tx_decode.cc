// Transaction::Decode on arbitrary bytes: what POST /v1/tx and /v1/tx/batch
// accept as application/octet-stream, and what every block carries.
//
// Properties: a decoded transaction re-encodes to exactly the input (the
// encoding is canonical) and its id is the hash of the input; building it
// again from its parts gives the same bytes and id. When the payload is
// canonical JSON, the JSON form round-trips to the same id, both as a value
// and as text. Admission (Executor::CheckTx) must not crash on it.
#include <cstdint>

#include "apps/registry.h"
#include "codec/canonical_json.h"
#include "fuzz_check.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/transaction.h"

namespace {

struct Admission {
  cc::ModuleRegistry modules;
  cc::Genesis genesis;
  std::unique_ptr<cc::Executor> executor;

  Admission() {
    cc::apps::RegisterAll(&modules);
    // The chain id make_seeds uses, so seeded transactions reach the modules.
    auto g = cc::Genesis::Parse(R"({"chain_id":"fuzz-chain","time_ms":1})");
    FUZZ_CHECK(g.ok(), "the fixed genesis parses");
    genesis = std::move(g).value();
    executor = std::make_unique<cc::Executor>(&modules, &genesis);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  static const Admission* admission = new Admission();
  const std::string_view in = fuzz::AsText(data, size);

  auto decoded = Transaction::Decode(in);
  if (!decoded.ok()) return 0;
  const TxPtr& tx = *decoded;
  FUZZ_CHECK(tx->encoded() == in, "decode then encode gives back the input");
  FUZZ_CHECK(tx->id() == TxId::From(Blake2b256(in)), "the id is the hash of the encoding");
  FUZZ_CHECK(tx->body().chain_id.size() <= kMaxChainIdLen, "chain_id within its limit");
  FUZZ_CHECK(tx->body().module.size() <= kMaxNameLen && tx->body().action.size() <= kMaxNameLen,
             "names within their limit");

  TxPtr rebuilt = Transaction::FromParts(tx->body(), tx->signature());
  FUZZ_CHECK(rebuilt->encoded() == in && rebuilt->id() == tx->id(),
             "FromParts(body, signature) gives the same bytes and id");
  auto again = Transaction::Decode(tx->encoded());
  FUZZ_CHECK(again.ok() && (*again)->id() == tx->id(), "the encoding decodes again to the same id");

  const bool sig_ok = tx->VerifySignature();
  FUZZ_CHECK(rebuilt->VerifySignature() == sig_ok, "signature check is deterministic");
  admission->executor->CheckTx(*tx).IgnoreError();  // must only not crash

  nlohmann::json j = tx->ToJson();  // shown by the API for any stored transaction
  if (!codec::ParseCanonicalJson(tx->body().payload).ok()) return 0;

  auto from_value = Transaction::FromJson(j);
  FUZZ_CHECK(from_value.ok(), "the JSON form of a canonical transaction is accepted");
  FUZZ_CHECK((*from_value)->encoded() == in && (*from_value)->id() == tx->id(),
             "JSON value round trip keeps the bytes and id");

  // As text, the way a client submits it. chain_id, module and action are
  // bytes; only valid UTF-8 can be written as JSON text.
  std::string text;
  try {
    text = j.dump();
  } catch (const nlohmann::json::type_error&) {
    return 0;
  }
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!parsed.is_discarded(), "dumped JSON parses");
  auto from_text = Transaction::FromJson(parsed);
  FUZZ_CHECK(from_text.ok() && (*from_text)->id() == tx->id(), "JSON text round trip keeps the id");
  return 0;
}

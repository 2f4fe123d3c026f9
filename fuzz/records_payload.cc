// The records module on arbitrary payloads, and the grant decoder on
// arbitrary bytes.
//
// Input: byte 0 picks the action and byte 1 the signer (node, patient,
// provider, stranger); the rest is JSON text. A payload that parses is made
// canonical and executed as a transaction in a block over a fixed state (a
// patient with a published record, a grant and a provider's open access
// request, which a `request` of "@" names). Properties: Check and Execute
// never crash or throw; a payload Check refuses is refused by CheckTx too; a
// committed grant decodes and re-encodes to the same bytes; the consent
// decision answers for every record and reader; an open request and its
// pending marker go together, and a granted one names its consent.
// Raw bytes also go to DecodeGrant: whatever decodes re-encodes to the input.
#include <cstdint>

#include "apps/records/consent.h"
#include "apps/records/keys.h"
#include "apps/records/records.h"
#include "apps/registry.h"
#include "codec/canonical_json.h"
#include "fuzz_check.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"

namespace {

using cc::SecretKey;
using cc::fuzz::Seed;

struct World {
  cc::ModuleRegistry modules;
  cc::Genesis genesis;
  std::unique_ptr<cc::Executor> executor;
  cc::MemState state;
  SecretKey keys[4] = {Seed(1), Seed(2), Seed(3), Seed(4)};  // node, patient, provider, stranger
  const std::string record = std::string(32, 'a');
  std::string request;  // the provider's open access request

  cc::TxPtr Tx(int who, uint64_t nonce, const std::string& action, const std::string& payload) {
    cc::TxBody b;
    b.chain_id = "fuzz-chain";
    b.actor = keys[who].public_key();
    b.nonce = nonce;
    b.module = "records";
    b.action = action;
    b.payload = payload;
    return cc::Transaction::Sign(std::move(b), keys[who]);
  }

  World() {
    cc::apps::RegisterAll(&modules);
    nlohmann::json doc = {
        {"chain_id", "fuzz-chain"},
        {"time_ms", 1},
        {"orgs", {{{"id", "hospital"}, {"admins", {Seed(9).public_key().hex()}}, {"nodes", {keys[0].public_key().hex()}}}}},
        {"actors", {{{"key", keys[1].public_key().hex()}, {"org", "hospital"}, {"role", "patient"}},
                    {{"key", keys[2].public_key().hex()}, {"org", "hospital"}, {"role", "provider"}}}}};
    auto g = cc::Genesis::Parse(doc.dump());
    FUZZ_CHECK(g.ok(), "the fixed genesis parses");
    genesis = std::move(g).value();
    executor = std::make_unique<cc::Executor>(&modules, &genesis);
    auto g0 = executor->ExecuteGenesis(state);
    FUZZ_CHECK(g0.ok(), "genesis executes");
    state.Apply(g0->writes);
    nlohmann::json pub = {{"record", record}, {"patient", keys[1].public_key().hex()},
                          {"resource_type", "DiagnosticReport"}, {"category", "imaging"},
                          {"content_hash", std::string(64, 'c')}};
    nlohmann::json grant = {{"grantee", keys[2].public_key().hex()}, {"categories", {"imaging"}},
                            {"purpose", "treatment"}, {"until", 1000000u}};
    nlohmann::json ask = {{"patient", keys[1].public_key().hex()}, {"categories", {"imaging", "lab"}},
                          {"purpose", "treatment"}, {"reason", "follow-up"}};
    cc::TxPtr asked = Tx(2, 1, "request_access", *cc::codec::ToCanonicalJson(ask));
    request = asked->id().hex().substr(0, 32);
    auto b = executor->ExecuteBlock(state, g0->digest, 1, 10,
                                    {Tx(0, 1, "publish", *cc::codec::ToCanonicalJson(pub)),
                                     Tx(1, 1, "grant", *cc::codec::ToCanonicalJson(grant)), asked},
                                    nullptr);
    FUZZ_CHECK(b.ok() && b->results[0].ok() && b->results[1].ok() && b->results[2].ok(), "the fixed state builds");
    state.Apply(b->writes);
  }
};

const char* const kActions[] = {"publish", "grant",   "revoke",         "emergency_access", "log_access",
                                "erase",   "decline", "request_access", "nope"};
constexpr size_t kNumActions = sizeof(kActions) / sizeof(kActions[0]);

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  // The grant decoder on the raw input.
  auto g = cc::records::DecodeGrant(cc::fuzz::AsText(data, size));
  if (g.ok()) FUZZ_CHECK(cc::records::EncodeGrant(*g) == cc::fuzz::AsText(data, size), "grant re-encodes");
  if (size < 2) return 0;
  const std::string action = kActions[data[0] % kNumActions];
  const int who = data[1] % 4;
  auto j = nlohmann::json::parse(cc::fuzz::AsText(data + 2, size - 2), nullptr, false);
  if (j.is_discarded()) return 0;
  if (j.is_object() && j.contains("request") && j["request"] == "@") j["request"] = w.request;
  auto canonical = cc::codec::ToCanonicalJson(j);
  if (!canonical.ok()) return 0;
  const cc::Module* m = w.modules.Find("records");
  cc::Status check = m->Check(action, j);
  const uint64_t nonce = cc::Executor::LastNonce(w.state, w.keys[who].public_key()) + 1;
  cc::TxPtr tx = w.Tx(who, nonce, action, *canonical);
  cc::Status admitted = w.executor->CheckTx(*tx);
  FUZZ_CHECK(check.ok() || !admitted.ok(), "CheckTx refuses what the module's Check refuses");
  if (!admitted.ok()) return 0;
  auto b = w.executor->ExecuteBlock(w.state, {}, 2, 20, {tx}, nullptr);
  FUZZ_CHECK(b.ok(), "an admitted transaction executes");
  cc::MemState after = w.state;
  after.Apply(b->writes);
  for (const auto& [k, v] : b->writes) {
    if (k.starts_with("records/grant/") && v) {
      auto grant = cc::records::DecodeGrant(*v);
      FUZZ_CHECK(grant.ok() && cc::records::EncodeGrant(*grant) == *v, "a written grant round-trips");
    }
  }
  after.Scan("records/request/", "", [&](std::string_view, std::string_view v) {
    const auto q = nlohmann::json::parse(v);
    const std::string status = q["status"];
    auto marker = after.Get("records/pending/" + q["patient"].get<std::string>() + "/" + q["provider"].get<std::string>());
    FUZZ_CHECK(status == "pending" || status == "granted" || status == "declined", "a request's status is known");
    FUZZ_CHECK((status == "pending") == (marker && *marker == q["request"]), "an open request has its pending marker");
    FUZZ_CHECK(status != "granted" || after.Get(cc::records::ConsentKey(q["consent"].get<std::string>())),
               "a granted request names its consent");
    return true;
  });
  for (int reader = 0; reader < 4; ++reader) {
    auto d = cc::records::Decide(after, {w.keys[reader].public_key(), "hospital", w.record, "treatment", 15});
    FUZZ_CHECK(d.allowed() || !d.reason.empty(), "a refusal has a reason");
  }
  return 0;
}

// The coldchain module on arbitrary batches and payloads.
//
// Input: byte 0 picks the mode.
//  - even: the rest is a logger's batch, 12 bytes a reading (8 for the time
//    step, 4 for the temperature). Properties: Summarize either refuses or
//    gives a summary whose anchor payload the module's Check accepts, which
//    round-trips through SummaryOf, whose root is the Merkle root of the
//    readings' leaves, and which commits as the logger's first batch of a
//    fixed shipment.
//  - odd: the rest is JSON text, given to Check and (when Check accepts)
//    executed as the logger's transaction for byte 1's action. Properties:
//    nothing crashes or throws; CheckTx refuses what Check refuses.
#include <cstdint>

#include "apps/coldchain/coldchain.h"
#include "apps/registry.h"
#include "codec/canonical_json.h"
#include "crypto/merkle.h"
#include "fuzz_check.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"

namespace {

using cc::SecretKey;

constexpr const char* kShip = "00000000000000f1";
constexpr int32_t kLow = 200, kHigh = 800;

using cc::fuzz::Seed;

struct World {
  cc::ModuleRegistry modules;
  cc::Genesis genesis;
  std::unique_ptr<cc::Executor> executor;
  cc::MemState state;
  SecretKey maker = Seed(1), logger = Seed(2);

  cc::TxPtr Tx(const SecretKey& key, uint64_t nonce, const std::string& module, const std::string& action,
               const std::string& payload) {
    cc::TxBody b;
    b.chain_id = "fuzz-chain";
    b.actor = key.public_key();
    b.nonce = nonce;
    b.module = module;
    b.action = action;
    b.payload = payload;
    return cc::Transaction::Sign(std::move(b), key);
  }

  World() {
    cc::apps::RegisterAll(&modules);
    auto org = [](const char* id, uint8_t admin) {
      return nlohmann::json{{"id", id}, {"admins", {Seed(admin).public_key().hex()}}, {"nodes", nlohmann::json::array()}};
    };
    nlohmann::json doc = {{"chain_id", "fuzz-chain"},
                          {"time_ms", 1},
                          {"orgs", {org("pharma", 9), org("carrier", 10), org("wholesaler", 11)}},
                          {"actors", {{{"key", maker.public_key().hex()}, {"org", "pharma"}, {"role", "manufacturer"}},
                                      {{"key", logger.public_key().hex()}, {"org", "carrier"}, {"role", "device"}}}}};
    doc["orgs"][0]["gs1_prefixes"] = {"9506000"};
    auto g = cc::Genesis::Parse(doc.dump());
    FUZZ_CHECK(g.ok(), "the fixed genesis parses");
    genesis = std::move(g).value();
    executor = std::make_unique<cc::Executor>(&modules, &genesis);
    auto g0 = executor->ExecuteGenesis(state);
    FUZZ_CHECK(g0.ok(), "genesis executes");
    state.Apply(g0->writes);
    nlohmann::json packs = {{"packs", {{{"gtin", "09506000134352"}, {"serial", "S1"}, {"batch", "B"}, {"expiry", "301231"}}}}};
    nlohmann::json ship = {{"shipment", kShip}, {"carrier", "carrier"}, {"to", "wholesaler"}, {"route", "r"},
                           {"packs", {{{"gtin", "09506000134352"}, {"serial", "S1"}}}},
                           {"devices", {logger.public_key().hex()}}, {"low", kLow}, {"high", kHigh},
                           {"max_excursion_s", 600u}};
    auto b = executor->ExecuteBlock(state, g0->digest, 1, 10,
                                    {Tx(maker, 1, "supply", "commission", *cc::codec::ToCanonicalJson(packs)),
                                     Tx(maker, 2, "coldchain", "create", *cc::codec::ToCanonicalJson(ship))},
                                    nullptr);
    FUZZ_CHECK(b.ok() && b->results[0].ok() && b->results[1].ok(), "the fixed state builds");
    state.Apply(b->writes);
  }

  bool Commits(const std::string& action, const std::string& canonical) {
    cc::TxPtr tx = Tx(logger, 1, "coldchain", action, canonical);
    if (!executor->CheckTx(*tx).ok()) return false;
    auto b = executor->ExecuteBlock(state, {}, 2, 20, {tx}, nullptr);
    FUZZ_CHECK(b.ok(), "an admitted transaction executes");
    return b->results[0].ok();
  }
};

const char* const kActions[] = {"create", "anchor", "arrive", "decide"};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  if (size < 2) return 0;
  const cc::Module* m = w.modules.Find("coldchain");
  if (data[0] % 2 == 0) {
    std::vector<cc::coldchain::Reading> readings;
    uint64_t t = 1'790'000'000'000;
    for (size_t i = 1; i + 12 <= size; i += 12) {
      uint64_t step = 0;
      uint32_t raw = 0;
      for (int k = 0; k < 8; ++k) step = step << 8 | data[i + k];
      for (int k = 8; k < 12; ++k) raw = raw << 8 | data[i + k];
      t += step % 4'000'000;  // 0 repeats a time: Summarize must refuse
      readings.push_back({t, static_cast<int32_t>(raw % 20201) - 10100});  // a little beyond ±100 °C too
    }
    auto s = cc::coldchain::Summarize(kShip, readings, kLow, kHigh, cc::coldchain::kDefaultDhR);
    if (!s.ok()) return 0;
    std::vector<cc::Hash256> leaves;
    for (const auto& r : readings) leaves.push_back(cc::coldchain::ReadingLeaf(kShip, r));
    FUZZ_CHECK(s->root == cc::merkle::Root(leaves), "the summary's root is the readings' Merkle root");
    nlohmann::json p = cc::coldchain::AnchorPayload(kShip, 1, *s);
    FUZZ_CHECK(m->Check("anchor", p).ok(), "Check accepts an honest summary");
    FUZZ_CHECK(cc::coldchain::SummaryOf(p) == *s, "the anchor payload round-trips");
    FUZZ_CHECK(w.Commits("anchor", *cc::codec::ToCanonicalJson(p)), "an honest first batch commits");
    return 0;
  }
  const std::string action = kActions[data[1] % 4];
  auto j = nlohmann::json::parse(cc::fuzz::AsText(data + 2, size - 2), nullptr, false);
  if (j.is_discarded()) return 0;
  auto canonical = cc::codec::ToCanonicalJson(j);
  if (!canonical.ok()) return 0;
  cc::Status check = m->Check(action, j);
  cc::TxPtr tx = w.Tx(w.logger, 1, "coldchain", action, *canonical);
  cc::Status admitted = w.executor->CheckTx(*tx);
  FUZZ_CHECK(check.ok() || !admitted.ok(), "CheckTx refuses what the module's Check refuses");
  if (admitted.ok()) (void)w.Commits(action, *canonical);
  return 0;
}

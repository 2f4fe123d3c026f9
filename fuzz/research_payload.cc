// The research, wearables, token and reviews modules on arbitrary payloads.
//
// Input: byte 0 picks the module and action, byte 1 the signer (node,
// patient, researcher, stranger, the treasury's admin, a provider); the
// rest is JSON text. A payload that parses is made canonical and executed as
// a transaction in a block over a fixed state (a registered study, a patient
// with a device and a consent, a reviewed visit and an open one). A `visit`
// or `review` of "@" names the reviewed visit, "@2" the open one.
// Properties: Check and Execute never crash or throw; a payload Check
// refuses is refused by CheckTx too; every consent in force afterwards
// names known metrics, sorted and without repeats, and ends after the
// block; a device record stays readable; the token's balances always add up
// to its supply; every provider's aggregate counts each review once, with
// ratings 1 to 5.
#include <algorithm>
#include <cstdint>

#include "apps/registry.h"
#include "apps/research/research.h"
#include "apps/reviews/reviews.h"
#include "apps/wearables/rules.h"
#include "apps/wearables/wearables.h"
#include "codec/canonical_json.h"
#include "fuzz_check.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"

namespace {

using cc::SecretKey;
using cc::fuzz::Seed;

struct Action {
  const char* module;
  const char* action;
};
const Action kActions[] = {{"research", "consent"},          {"research", "withdraw"},
                           {"research", "register"},         {"research", "amend"},
                           {"wearables", "register_device"}, {"wearables", "revoke_device"},
                           {"wearables", "anchor"},          {"wearables", "erase"},
                           {"token", "transfer"},            {"reviews", "attest"},
                           {"reviews", "review"},            {"reviews", "correct"},
                           {"reviews", "reward"},            {"reviews", "text_erased"}};
constexpr size_t kNumActions = sizeof(kActions) / sizeof(kActions[0]);
constexpr uint64_t kSupply = 1'000'000;

struct World {
  cc::ModuleRegistry modules;
  cc::Genesis genesis;
  std::unique_ptr<cc::Executor> executor;
  cc::MemState state;
  // node, patient, researcher, stranger, admin, provider
  SecretKey keys[6] = {Seed(1), Seed(2), Seed(3), Seed(4), Seed(9), Seed(6)};
  SecretKey device = Seed(5);
  SecretKey uni_provider = Seed(7);
  std::string reviewed, open;  // the visits' ids

  cc::TxPtr Tx(int who, uint64_t nonce, const Action& a, const std::string& payload) {
    cc::TxBody b;
    b.chain_id = "fuzz-chain";
    b.actor = keys[who].public_key();
    b.nonce = nonce;
    b.module = a.module;
    b.action = a.action;
    b.payload = payload;
    return cc::Transaction::Sign(std::move(b), keys[who]);
  }

  World() {
    cc::apps::RegisterAll(&modules);
    nlohmann::json doc = {
        {"chain_id", "fuzz-chain"},
        {"time_ms", 1},
        {"orgs", {{{"id", "hospital"}, {"admins", {Seed(9).public_key().hex()}}, {"nodes", {keys[0].public_key().hex()}}},
                  {{"id", "uni"}, {"admins", {Seed(10).public_key().hex()}}, {"nodes", nlohmann::json::array()}}}},
        {"actors", {{{"key", keys[1].public_key().hex()}, {"org", "hospital"}, {"role", "patient"}},
                    {{"key", keys[2].public_key().hex()}, {"org", "uni"}, {"role", "researcher"}},
                    {{"key", keys[5].public_key().hex()}, {"org", "hospital"}, {"role", "provider"}},
                    {{"key", uni_provider.public_key().hex()}, {"org", "uni"}, {"role", "provider"}}}},
        {"token", {{"symbol", "CARE"}, {"supply", kSupply}, {"treasury", "hospital"}}},
        {"reviews", {{"platform", "hospital"}, {"reward", 10u}}}};
    auto g = cc::Genesis::Parse(doc.dump());
    FUZZ_CHECK(g.ok(), "the fixed genesis parses");
    genesis = std::move(g).value();
    executor = std::make_unique<cc::Executor>(&modules, &genesis);
    auto g0 = executor->ExecuteGenesis(state);
    FUZZ_CHECK(g0.ok(), "genesis executes");
    state.Apply(g0->writes);
    nlohmann::json study = {{"study", "s1"}, {"title", "t"}, {"protocol_hash", std::string(64, 'a')},
                            {"primary", {{{"title", "o"}}}}};
    nlohmann::json dev = {{"device", device.public_key().hex()}, {"kind", "smart_watch"}, {"custodian", "hospital"}};
    nlohmann::json consent = {{"study", "s1"}, {"categories", {"spo2", "heart_rate"}}, {"until", 1000000u}};
    nlohmann::json visit = {{"patient", keys[1].public_key().hex()}, {"date", "1970-01-01"}};
    cc::TxPtr attest = Tx(5, 1, kActions[9], *cc::codec::ToCanonicalJson(visit));
    cc::TxPtr attest2 = cc::Transaction::Sign(
        {"fuzz-chain", uni_provider.public_key(), 1, "reviews", "attest", *cc::codec::ToCanonicalJson(visit)},
        uni_provider);
    reviewed = attest->id().hex().substr(0, 32);
    open = attest2->id().hex().substr(0, 32);
    nlohmann::json review = {{"visit", reviewed}, {"overall", 3u}, {"aspects", {{{"aspect", "treatment"}, {"rating", 4u}}}},
                             {"text_ref", std::string(32, 'a')}, {"text_hash", std::string(64, 'b')}};
    auto b = executor->ExecuteBlock(
        state, g0->digest, 1, 10,
        {Tx(2, 1, kActions[2], *cc::codec::ToCanonicalJson(study)),
         Tx(1, 1, kActions[4], *cc::codec::ToCanonicalJson(dev)),
         Tx(1, 2, kActions[0], *cc::codec::ToCanonicalJson(consent)), attest, attest2,
         Tx(1, 3, kActions[10], *cc::codec::ToCanonicalJson(review))},
        nullptr);
    FUZZ_CHECK(b.ok() && std::all_of(b->results.begin(), b->results.end(), [](const auto& r) { return r.ok(); }),
               "the fixed state builds");
    state.Apply(b->writes);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  if (size < 2) return 0;
  const Action& a = kActions[data[0] % kNumActions];
  const int who = data[1] % 6;
  auto j = nlohmann::json::parse(cc::fuzz::AsText(data + 2, size - 2), nullptr, false);
  if (j.is_discarded()) return 0;
  for (const char* field : {"visit", "review"}) {
    if (!j.is_object() || !j.contains(field)) continue;
    if (j[field] == "@") j[field] = w.reviewed;
    if (j[field] == "@2") j[field] = w.open;
  }
  auto canonical = cc::codec::ToCanonicalJson(j);
  if (!canonical.ok()) return 0;
  const cc::Module* m = w.modules.Find(a.module);
  cc::Status check = m->Check(a.action, j);
  const uint64_t nonce = cc::Executor::LastNonce(w.state, w.keys[who].public_key()) + 1;
  cc::TxPtr tx = w.Tx(who, nonce, a, *canonical);
  cc::Status admitted = w.executor->CheckTx(*tx);
  FUZZ_CHECK(check.ok() || !admitted.ok(), "CheckTx refuses what the module's Check refuses");
  if (!admitted.ok()) return 0;
  auto b = w.executor->ExecuteBlock(w.state, {}, 2, 20, {tx}, nullptr);
  FUZZ_CHECK(b.ok(), "an admitted transaction executes");
  cc::MemState after = w.state;
  after.Apply(b->writes);
  for (const auto& c : cc::research::ActiveConsents(after, "s1", 20)) {
    FUZZ_CHECK(!c.categories.empty() && std::is_sorted(c.categories.begin(), c.categories.end()) &&
                   std::adjacent_find(c.categories.begin(), c.categories.end()) == c.categories.end(),
               "a consent's categories are sorted and unique");
    for (const auto& cat : c.categories) FUZZ_CHECK(cc::wearables::FindMetric(cat), "a consent names known metrics");
    FUZZ_CHECK(c.until > 20, "a consent in force ends after the block");
  }
  uint64_t total = 0;
  after.Scan("token/account/", "", [&](std::string_view, std::string_view v) {
    total += nlohmann::json::parse(v)["balance"].get<uint64_t>();
    return true;
  });
  FUZZ_CHECK(total == kSupply, "the token's balances add up to its supply");
  after.Scan("reviews/provider/", "", [&](std::string_view, std::string_view v) {
    const auto agg = nlohmann::json::parse(v);
    const uint64_t reviews = agg["reviews"];
    size_t listed = 0;
    after.Scan("reviews/list/" + agg["provider"].get<std::string>() + "/", "", [&](std::string_view, std::string_view id) {
      FUZZ_CHECK(cc::reviews::ReadReview(after, id).has_value(), "a listed review exists");
      ++listed;
      return true;
    });
    FUZZ_CHECK(listed == reviews, "a provider's listing holds each review once");
    auto tallies = agg["aspects"];
    tallies["overall"] = agg["overall"];
    for (const auto& [name, t] : tallies.items()) {
      const uint64_t count = t["count"], sum = t["sum"];
      uint64_t dist = 0, weighted = 0;
      for (uint64_t i = 0; i < 5; ++i) {
        dist += t["distribution"][i].get<uint64_t>();
        weighted += (i + 1) * t["distribution"][i].get<uint64_t>();
      }
      FUZZ_CHECK(dist == count && weighted == sum, "a tally's distribution matches its count and sum");
      FUZZ_CHECK(name != "overall" ? count <= reviews : count == reviews, "every review is counted once overall");
    }
    return true;
  });
  auto d = cc::wearables::ReadDevice(after, w.device.public_key());
  FUZZ_CHECK(d && d->contains("batches") && d->contains("status"), "the device stays readable");
  return 0;
}

// A checkpoint as a node reads it from etcd (ordering/etcd_orderer.cc): JSON
// text parsed, Checkpoint::FromJson, the signature checked, then counted by
// TallyCheckpoints with a fixed three-organisation genesis.
//
// Properties: a parsed checkpoint prints to JSON that parses back to the
// same checkpoint; an arbitrary input never verifies under a key it was not
// signed with (inputs cannot forge the fixed test key's signature); the
// tally never certifies without a quorum of valid signatures.
#include <cstdint>

#include "fuzz_check.h"
#include "ledger/checkpoint.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  static const Genesis* genesis = [] {
    nlohmann::json doc = {{"chain_id", "fuzz"}, {"orgs", nlohmann::json::array()}};
    for (int i = 0; i < 3; ++i) {
      SecretKey k = SecretKey::FromSeed(AsBytes(std::string(32, static_cast<char>('a' + i))));
      doc["orgs"].push_back({{"id", "org" + std::to_string(i)}, {"nodes", {k.public_key().hex()}}});
    }
    auto* g = new Genesis();
    g->doc = doc;
    g->chain_id = "fuzz";
    return g;
  }();

  auto j = nlohmann::json::parse(fuzz::AsText(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  auto cp = Checkpoint::FromJson(j);
  if (!cp.ok()) return 0;
  auto again = Checkpoint::FromJson(cp->ToJson());
  FUZZ_CHECK(again.ok() && again->SameAs(*cp) && again->node == cp->node &&
                 again->signature == cp->signature,
             "ToJson parses back to the same checkpoint");
  CheckpointTally t = TallyCheckpoints(*genesis, cp->height, {*cp, *cp, *cp});
  FUZZ_CHECK(!t.certified, "one node's signature, even repeated, certifies nothing");
  FUZZ_CHECK(t.signatures.size() <= 3, "the tally keeps only the signatures given");
  return 0;
}

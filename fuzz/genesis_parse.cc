// Genesis::Parse on arbitrary text, then the modules' InitGenesis on the
// parsed document: what `carechain node` and `carechain verify` do with the
// genesis file before the first block.
//
// Properties: a parsed genesis has a chain id of 1..64 bytes and parameters
// within their bounds, its canonical text parses again to the same genesis
// (same hash), and building the genesis state does not crash whatever the
// document holds.
#include <cstdint>

#include "apps/registry.h"
#include "fuzz_check.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cc::crypto::Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  static const ModuleRegistry* modules = [] {
    auto* r = new ModuleRegistry();
    apps::RegisterAll(r);
    return r;
  }();

  auto g = Genesis::Parse(std::string(fuzz::AsText(data, size)));
  if (!g.ok()) return 0;
  FUZZ_CHECK(!g->chain_id.empty() && g->chain_id.size() <= kMaxChainIdLen,
             "chain id of 1..64 bytes");
  FUZZ_CHECK(g->params.max_tx_bytes >= 512 && g->params.max_tx_bytes <= kMaxEncodedTxBytes,
             "max_tx_bytes within its bounds");
  FUZZ_CHECK(g->params.max_block_txs >= 1 && g->params.max_block_txs <= 50000,
             "max_block_txs within its bounds");
  FUZZ_CHECK(g->hash == Blake2b256(g->canonical), "the hash is the canonical text's");

  auto again = Genesis::Parse(g->canonical);
  FUZZ_CHECK(again.ok() && again->canonical == g->canonical && again->hash == g->hash &&
                 again->chain_id == g->chain_id && again->time_ms == g->time_ms,
             "the canonical text parses to the same genesis");

  Executor executor(modules, &*g);
  MemState empty;
  auto state = executor.ExecuteGenesis(empty);
  if (state.ok()) (void)executor.GenesisHeader(*state).Hash();
  return 0;
}

// Micro-benchmarks of the hot pieces: sign, verify (1 and 2 threads), hash,
// encode/decode, Merkle root. Run: build/bench/carechain_bench
#include <benchmark/benchmark.h>

#include "api/http_signature.h"
#include "apps/coldchain/coldchain.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "ledger/block.h"
#include "ledger/transaction.h"

namespace cc {
namespace {

TxPtr SampleTx(const SecretKey& k, uint64_t nonce) {
  TxBody b;
  b.chain_id = "bench";
  b.actor = k.public_key();
  b.nonce = nonce;
  b.module = "identity";
  b.action = "register_actor";
  b.payload = R"({"key":")" + std::string(64, 'a') + R"(","org":"st-marien-hospital","role":"patient"})";
  return Transaction::Sign(std::move(b), k);
}

void BM_Sign(benchmark::State& state) {
  crypto::Init();
  SecretKey k = SecretKey::Generate();
  std::string msg(200, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(k.Sign(AsBytes(msg)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign);

// With ->Threads(2) the reported items_per_second is the sum over threads:
// the 2-core verification limit that DESIGN.md §8 compares throughput to.
void BM_Verify(benchmark::State& state) {
  crypto::Init();
  SecretKey k = SecretKey::Generate();
  TxPtr tx = SampleTx(k, 1);
  for (auto _ : state) benchmark::DoNotOptimize(tx->VerifySignature());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify)->Threads(1)->Threads(2)->UseRealTime();

void BM_Blake2b256_1KiB(benchmark::State& state) {
  std::string data(1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Blake2b256(data));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_Blake2b256_1KiB);

void BM_TxDecode(benchmark::State& state) {
  crypto::Init();
  SecretKey k = SecretKey::Generate();
  TxPtr tx = SampleTx(k, 1);
  for (auto _ : state) {
    auto d = Transaction::Decode(tx->encoded());
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TxDecode);

void BM_MerkleRoot(benchmark::State& state) {
  std::vector<Hash256> leaves(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < leaves.size(); ++i) leaves[i] = Blake2b256(std::to_string(i));
  for (auto _ : state) benchmark::DoNotOptimize(merkle::Root(leaves));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MerkleRoot)->Arg(2000);

// What the node does per logger batch before admitting its anchor: each
// reading's leaf and Arrhenius factor, the runs and the Merkle root.
void BM_ColdchainSummarize(benchmark::State& state) {
  std::vector<coldchain::Reading> readings;
  for (int64_t i = 0; i < state.range(0); ++i)
    readings.push_back({1'790'000'000'000ull + static_cast<uint64_t>(i) * 60'000, static_cast<int32_t>(300 + (i * 37) % 700)});
  for (auto _ : state) {
    auto s = coldchain::Summarize("00000000000000c1", readings, 200, 800, coldchain::kDefaultDhR);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ColdchainSummarize)->Arg(10000);

// Server-side cost of authenticating one signed request (RFC 9421): digest,
// parse, Ed25519 verify, replay cache. Sign is the client's cost.
void BM_AuthenticateRequest(benchmark::State& state) {
  crypto::Init();
  SecretKey k = SecretKey::Generate();
  api::RequestAuthenticator auth(Clock::System(), 3600);
  auth.SetAuthorities({"127.0.0.1:8080"});
  const std::string body(200, 'x');
  std::vector<api::SignedHeaders> signed_requests;
  const uint64_t now = Clock::System()->NowMs() / 1000;
  for (int i = 0; i < 4096; ++i) {
    signed_requests.push_back(api::SignRequest(k, "POST", "127.0.0.1:8080", "/v1/transactions", "wait=commit", body, now,
                                               "bench-nonce-" + std::to_string(i) + "-" + std::to_string(now)));
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& h = signed_requests[i++ % signed_requests.size()];
    api::RequestView view{"POST", "/v1/transactions", "wait=commit", body, [&](std::string_view name) {
                            if (name == "signature-input") return h.signature_input;
                            if (name == "signature") return h.signature;
                            if (name == "content-digest") return h.content_digest;
                            return std::string();
                          }};
    // Replays after 4096: still full cost. A registered key (the resolver is
    // the node's state lookup, not measured here).
    benchmark::DoNotOptimize(auth.Authenticate(view, "127.0.0.1:8080", [](const PublicKey&) { return true; }));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthenticateRequest);

}  // namespace
}  // namespace cc

BENCHMARK_MAIN();

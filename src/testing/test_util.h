// Shared helpers for the unit tests (header-only; compiled only into
// unit_tests through the *_test.cc files that include it).
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/registry.h"
#include "codec/canonical_json.h"
#include "crypto/keys.h"
#include "ledger/chain.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/store.h"
#include "ledger/transaction.h"
#include "util/env.h"

namespace cc::testing {

// A fresh, empty folder under the system's temp folder, removed with
// everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<uint64_t> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "carechain-test-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter++) + "-" +
                       std::to_string(Clock::System()->MonotonicUs());
    if (info) name += std::string("-") + info->name();
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A deterministic key: seed = 32 copies of `n`.
inline SecretKey Key(uint8_t n) {
  Bytes seed(32, n);
  return SecretKey::FromSeed(seed);
}

inline constexpr const char* kChainId = "carechain-test";

// The keys of the test consortium (same shape as node/demo.cc).
struct Keys {
  SecretKey node = Key(1);
  SecretKey hospital_admin = Key(2);
  SecretKey pharmacy_admin = Key(3);
  SecretKey doctor = Key(4);       // provider at the hospital
  SecretKey pharmacist = Key(5);   // pharmacist at the pharmacy
  SecretKey patient = Key(6);      // patient at the hospital
  SecretKey outsider = Key(7);     // never registered
};

inline nlohmann::json GenesisDoc(const Keys& k, nlohmann::json params = {{"max_tx_bytes", 65536},
                                                                       {"max_block_txs", 5000}}) {
  return {{"chain_id", kChainId},
          {"time_ms", 1700000000000ull},
          {"params", params},
          {"orgs",
           {{{"id", "st-marien-hospital"},
             {"name", "St. Marien Hospital"},
             {"admins", {k.hospital_admin.public_key().hex()}},
             {"nodes", {k.node.public_key().hex()}}},
            {{"id", "apotheke-am-markt"},
             {"name", "Apotheke am Markt"},
             {"admins", {k.pharmacy_admin.public_key().hex()}},
             {"nodes", nlohmann::json::array()}}}},
          {"actors",
           {{{"key", k.doctor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
            {{"key", k.pharmacist.public_key().hex()}, {"org", "apotheke-am-markt"}, {"role", "pharmacist"}},
            {{"key", k.patient.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}}}}};
}

// Signs a transaction of `key` with the given fields.
inline TxPtr MakeTx(const SecretKey& key, uint64_t nonce, const std::string& module,
                    const std::string& action, const nlohmann::json& payload,
                    const std::string& chain_id = kChainId) {
  TxBody b;
  b.chain_id = chain_id;
  b.actor = key.public_key();
  b.nonce = nonce;
  b.module = module;
  b.action = action;
  // `{}` as an argument is JSON null: take it as the empty object.
  auto canonical = codec::ToCanonicalJson(payload.is_null() ? nlohmann::json::object() : payload);
  EXPECT_TRUE(canonical.ok()) << canonical.status().ToString();
  b.payload = canonical.ok() ? *canonical : "{}";
  return Transaction::Sign(std::move(b), key);
}

inline TxPtr RegisterTx(const SecretKey& signer, uint64_t nonce, const PublicKey& key,
                        const std::string& org, const std::string& role) {
  return MakeTx(signer, nonce, "identity", "register_actor",
                {{"key", key.hex()}, {"org", org}, {"role", role}});
}

// Genesis + modules + executor, no storage.
struct Network {
  explicit Network(nlohmann::json doc) {
    crypto::Init();
    auto g = Genesis::Parse(doc.dump());
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    if (g.ok()) genesis = std::move(*g);
    apps::RegisterAll(&modules);
    executor = std::make_unique<Executor>(&modules, &genesis);
  }
  Network() : Network(GenesisDoc(Keys())) {}

  Keys keys;
  Genesis genesis;
  ModuleRegistry modules;
  std::unique_ptr<Executor> executor;
};

// A Network whose state lives in memory: execute blocks, apply them.
struct MemLedger {
  explicit MemLedger(nlohmann::json doc) : net(std::move(doc)) {
    auto g = net.executor->ExecuteGenesis(state);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    if (g.ok()) {
      state.Apply(g->writes);
      digest = g->digest;
    }
  }
  MemLedger() : MemLedger(GenesisDoc(Keys())) {}

  // A transaction of `key` carrying the actor's next nonce (counted here).
  TxPtr Tx(const SecretKey& key, const std::string& action, const nlohmann::json& payload,
           const std::string& module = "identity") {
    uint64_t& n = nonces[key.public_key()];
    if (n == 0) n = Executor::LastNonce(state, key.public_key());
    return MakeTx(key, ++n, module, action, payload);
  }

  // Executes `txs` as the next block and applies its writes.
  Result<BlockExecution> Run(const std::vector<TxPtr>& txs, size_t* bad_index = nullptr) {
    auto e = net.executor->ExecuteBlock(state, digest, height + 1, time_ms + height + 1, txs, bad_index);
    if (e.ok()) {
      state.Apply(e->writes);
      digest = e->digest;
      ++height;
    } else {
      nonces.clear();  // re-read from the state
    }
    return e;
  }

  // Runs one transaction and returns its result code.
  TxCode RunOne(const TxPtr& tx, std::string* detail = nullptr) {
    auto e = Run({tx});
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return TxCode::kInvalidPayload;
    if (detail) *detail = e->results[0].detail;
    return e->results[0].code;
  }

  Network net;
  MemState state;
  StateDigest digest;
  uint64_t height = 0;
  uint64_t time_ms = 1700000000000ull;  // the next block's time is time_ms + its height
  std::map<PublicKey, uint64_t> nonces;
};

// A Network with a RocksDB store in a temp folder and a Chain on it.
struct ChainFixture {
  explicit ChainFixture(nlohmann::json doc) : net(std::move(doc)), clock(1700000001000ull) {
    Reopen();
  }
  ChainFixture() : ChainFixture(GenesisDoc(Keys())) {}

  // Closes and re-opens the store and the chain (a restart).
  void Reopen() {
    chain.reset();
    store.reset();
    auto s = ChainStore::Open(dir.file("chain"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(*s);
    chain = std::make_unique<Chain>(store.get(), net.executor.get(), net.keys.node, &clock);
    Status st = chain->Open();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // A transaction of `key` carrying the actor's next nonce (counted here).
  TxPtr Tx(const SecretKey& key, const std::string& action, const nlohmann::json& payload,
           const std::string& module = "identity") {
    uint64_t& n = nonces[key.public_key()];
    if (n == 0) n = Executor::LastNonce(*store, key.public_key());
    return MakeTx(key, ++n, module, action, payload);
  }

  // `n` blocks of `per_block` patient registrations by the hospital's doctor.
  void AddBlocks(int n, int per_block) {
    for (int b = 0; b < n; ++b) {
      std::vector<TxPtr> txs;
      for (int i = 0; i < per_block; ++i) {
        SecretKey p = Key(static_cast<uint8_t>(next_key++));
        txs.push_back(Tx(net.keys.doctor, "register_actor",
                         {{"key", p.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}}));
      }
      Propose(txs);
    }
  }

  BlockPtr Propose(const std::vector<TxPtr>& txs) {
    size_t bad = txs.size();
    clock.Advance(1000);
    auto b = chain->Propose(txs, &bad);
    EXPECT_TRUE(b.ok()) << b.status().ToString() << " bad=" << bad;
    return b.ok() ? *b : nullptr;
  }

  TempDir dir;  // destroyed last
  Network net;
  ManualClock clock;
  std::unique_ptr<ChainStore> store;
  std::unique_ptr<Chain> chain;
  std::map<PublicKey, uint64_t> nonces;
  int next_key = 100;  // seeds of keys AddBlocks registers
};

}  // namespace cc::testing

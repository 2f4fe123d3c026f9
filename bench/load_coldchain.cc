// The cold-chain benchmark (docs/benchmarks.md, "Cold chain: readings
// anchored"): loggers send signed batches of temperature readings to
// POST /v1/coldchain/batches; the node checks each batch against its
// summary, stores it off chain (SQLite) and anchors it. Reported: readings
// anchored per second (committed), batches per second, latency per batch.
//
//   carechain_load coldchain-init --dir D [--loggers 8]
//   carechain node --config D/node.toml &
//   carechain_load coldchain-ingest --dir D --node URL [--batch 1000] [--seconds 20]
//
// Each logger has its own shipment and connection and sends its batches one
// after the other (a logger's batch n+1 is numbered after batch n).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "apps/coldchain/coldchain.h"
#include "codec/canonical_json.h"
#include "crypto/keyfile.h"
#include "ledger/transaction.h"
#include "load.h"
#include "util/env.h"

namespace cc::bench {
namespace {

constexpr uint64_t kMakerKey = 3000, kLoggerKeys = 3100;
constexpr const char* kGtin = "09506002000006";

std::string ShipmentId(int logger) {
  char b[20];
  std::snprintf(b, sizeof b, "%016x", 0xc01d0000 + logger);
  return b;
}

struct InitOpts {
  std::string dir;
  int loggers = 8;
  int interval_ms = 20;
  std::string log_level = "warn";
};

// A genesis with a manufacturer (prefix 9506002), a carrier with the
// loggers, a receiver; the node at the carrier keeps the batches.
int ColdInit(const InitOpts& o) {
  crypto::Init();
  SecretKey node = SecretKey::Generate();
  nlohmann::json actors = nlohmann::json::array();
  actors.push_back({{"key", ActorKey(kMakerKey).public_key().hex()}, {"org", "bench-mfr"}, {"role", "manufacturer"}});
  for (int i = 0; i < o.loggers; ++i)
    actors.push_back({{"key", ActorKey(kLoggerKeys + i).public_key().hex()}, {"org", "bench-carrier"}, {"role", "device"}});
  auto org = [](const char* id, uint64_t admin) {
    return nlohmann::json{{"id", id}, {"name", id}, {"admins", {ActorKey(admin).public_key().hex()}},
                          {"nodes", nlohmann::json::array()}};
  };
  nlohmann::json orgs = {org("bench-carrier", 3002), org("bench-mfr", 3003), org("bench-recv", 3004)};
  orgs[0]["nodes"] = {node.public_key().hex()};
  orgs[1]["gs1_prefixes"] = {"9506002"};
  nlohmann::json genesis = {{"chain_id", "carechain-coldchain-load"},
                            {"time_ms", Clock::System()->NowMs()},
                            {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 50000}}},
                            {"orgs", orgs},
                            {"actors", actors}};
  Status s = WriteSoloNodeDir(o.dir, node, genesis, o.interval_ms, o.log_level);
  if (s.ok()) s = WriteFileAtomic(o.dir + "/coldchain.json", nlohmann::json{{"loggers", o.loggers}}.dump(), 0644, true);
  if (!s.ok()) return Fail(s.ToString());
  std::printf("%s\n", nlohmann::json{{"dir", o.dir}, {"loggers", o.loggers}}.dump().c_str());
  return 0;
}

struct IngestOpts {
  std::string dir, node;
  size_t batch = 1000;
  double seconds = 20;
};

// One transaction of `key`, committed (?wait=commit); the reply.
Result<nlohmann::json> Commit(httplib::Client& c, const std::string& authority, const SecretKey& key, uint64_t nonce, const std::string& module,
                              const std::string& action, const nlohmann::json& payload) {
  TxBody b{"carechain-coldchain-load", key.public_key(), nonce, module, action, *codec::ToCanonicalJson(payload)};
  const std::string body = Transaction::Sign(std::move(b), key)->ToJson().dump();
  const std::string target = "/v1/transactions?wait=commit";
  auto r = c.Post(target, Signed(key, "POST", authority, target, body), body, "application/json");
  if (!r || r->status != 200) return Status::Internal("commit " + action + ": " + (r ? r->body : "no reply"));
  auto j = nlohmann::json::parse(r->body);
  if (j["result"]["code"] != "ok") return Status::Internal(action + ": " + j.dump());
  return j;
}

int ColdIngest(const IngestOpts& o) {
  crypto::Init();
  auto text = ReadFile(o.dir + "/coldchain.json");
  if (!text.ok()) return Fail(text.status().ToString());
  const int loggers = nlohmann::json::parse(*text)["loggers"];
  if (o.batch < 1 || o.batch > coldchain::kMaxReadingsPerBatch) return Fail("--batch: 1 to 10000 readings");
  // The shipments: one pack each, one logger each, 2..8 °C.
  httplib::Client setup(o.node);
  const SecretKey maker = ActorKey(kMakerKey);
  nlohmann::json packs = nlohmann::json::array();
  for (int i = 0; i < loggers; ++i)
    packs.push_back({{"gtin", kGtin}, {"serial", "S" + std::to_string(i)}, {"batch", "B1"}, {"expiry", "301231"}});
  uint64_t nonce = 1;
  if (auto r = Commit(setup, Authority(o.node), maker, nonce++, "supply", "commission", {{"packs", packs}}); !r.ok())
    return Fail(r.status().ToString());
  for (int i = 0; i < loggers; ++i) {
    nlohmann::json ship = {{"shipment", ShipmentId(i)}, {"carrier", "bench-carrier"}, {"to", "bench-recv"},
                           {"route", "bench"}, {"packs", {{{"gtin", kGtin}, {"serial", "S" + std::to_string(i)}}}},
                           {"devices", {ActorKey(kLoggerKeys + i).public_key().hex()}},
                           {"low", 200}, {"high", 800}, {"max_excursion_s", 3600}};
    if (auto r = Commit(setup, Authority(o.node), maker, nonce++, "coldchain", "create", ship); !r.ok()) return Fail(r.status().ToString());
  }

  // Each logger sends its batches one after the other, each waiting for its commit.
  DriveResult d = Drive(o.node, loggers, o.seconds, [&](int i) -> DriveStep {
    auto seq = std::make_shared<uint64_t>(1);
    auto t = std::make_shared<uint64_t>(1'790'000'000'000ull);
    return [&o, i, seq, t](httplib::Client& c) -> Result<double> {
      const SecretKey key = ActorKey(kLoggerKeys + i);
      const std::string id = ShipmentId(i);
      std::vector<coldchain::Reading> r;
      nlohmann::json list = nlohmann::json::array();
      for (size_t k = 0; k < o.batch; ++k, *t += 60'000) {
        const int32_t centi = 300 + static_cast<int32_t>((*t / 60'000 + i) % 400);  // 3.00..6.99 °C
        r.push_back({*t, centi});
        list.push_back({{"t", *t}, {"c", centi}});
      }
      auto s = coldchain::Summarize(id, r, 200, 800, coldchain::kDefaultDhR);
      TxBody b{"carechain-coldchain-load", key.public_key(), *seq, "coldchain", "anchor",
               *codec::ToCanonicalJson(coldchain::AnchorPayload(id, *seq, *s))};
      ++*seq;  // the logger's nonce and batch number go together
      const std::string body =
          nlohmann::json{{"tx", Transaction::Sign(std::move(b), key)->ToJson()}, {"readings", list}}.dump();
      const std::string target = "/v1/coldchain/batches?wait=commit";
      const auto t0 = Clk::now();
      auto res = c.Post(target, Signed(key, "POST", Authority(o.node), target, body), body, "application/json");
      if (!res || res->status != 200 || nlohmann::json::parse(res->body)["result"]["code"] != "ok")
        return Status::Internal("batch failed: " + (res ? res->body : std::string("no reply")));
      return std::chrono::duration<double>(Clk::now() - t0).count();
    };
  });
  const uint64_t readings = d.steps * o.batch;
  nlohmann::json out = {{"loggers", loggers},
                        {"readings_per_batch", o.batch},
                        {"seconds", d.seconds},
                        {"batches", d.steps},
                        {"readings", readings},
                        {"readings_per_s", static_cast<double>(readings) / d.seconds},
                        {"batches_per_s", static_cast<double>(d.steps) / d.seconds},
                        {"commit_latency_ms_per_batch", LatencyMs(&d.latencies)},
                        {"errors", d.errors}};
  std::printf("%s\n", out.dump(1).c_str());
  return d.errors == 0 ? 0 : 1;
}

}  // namespace

std::function<std::optional<int>()> AddColdchainCommands(CLI::App& app) {
  auto init_o = std::make_shared<InitOpts>();
  auto ingest_o = std::make_shared<IngestOpts>();
  auto* init = app.add_subcommand("coldchain-init", "Create a node folder for the cold-chain benchmark");
  init->add_option("--dir", init_o->dir)->required();
  init->add_option("--loggers", init_o->loggers, "Loggers (one shipment and connection each)")->check(CLI::Range(1, 256));
  init->add_option("--interval-ms", init_o->interval_ms, "Block interval of the node");
  init->add_option("--log-level", init_o->log_level, "The node's log level");
  auto* ingest = app.add_subcommand("coldchain-ingest", "Send signed reading batches; report readings anchored per second");
  ingest->add_option("--dir", ingest_o->dir, "The folder of coldchain-init")->required();
  ingest->add_option("--node", ingest_o->node, "API URL")->required();
  ingest->add_option("--batch", ingest_o->batch, "Readings per batch (1..10000)");
  ingest->add_option("--seconds", ingest_o->seconds);
  return [init_o, ingest_o, init, ingest]() -> std::optional<int> {
    if (init->parsed()) return ColdInit(*init_o);
    if (ingest->parsed()) return ColdIngest(*ingest_o);
    return std::nullopt;
  };
}

}  // namespace cc::bench

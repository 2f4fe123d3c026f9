// The wearables benchmark (docs/benchmarks.md, "Wearables: readings
// ingested"): patients' apps send device-signed batches of readings to
// their custodian (POST /v1/wearables/batches); the node checks the device's
// signature over the batch's Merkle root, seals and stores the readings,
// evaluates the patient's early-warning rules and anchors the batch.
// Reported: readings ingested (anchor committed) per second, and the same
// with rules on (two rules per patient: a sustained threshold and a
// baseline) to show what rule evaluation costs.
//
//   carechain_load wearables-init --dir D [--patients 8]
//   carechain node --config D/node.toml &
//   carechain_load wearables-ingest --dir D --node URL [--batch 1000] [--seconds 20] [--rules]
#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "apps/wearables/wearables.h"
#include "codec/canonical_json.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "ledger/transaction.h"
#include "load.h"
#include "util/env.h"

namespace cc::bench {
namespace {

constexpr uint64_t kPatientKeys = 4000, kDeviceKeys = 4500;
constexpr const char* kChain = "carechain-wearables-load";
constexpr const char* kCustodian = "bench-clinic";

struct InitOpts {
  std::string dir;
  int patients = 8;
  int interval_ms = 20;
  std::string log_level = "warn";
};

int WearInit(const InitOpts& o) {
  crypto::Init();
  SecretKey node = SecretKey::Generate();
  nlohmann::json actors = nlohmann::json::array();
  for (int i = 0; i < o.patients; ++i)
    actors.push_back({{"key", ActorKey(kPatientKeys + i).public_key().hex()}, {"org", kCustodian}, {"role", "patient"}});
  nlohmann::json genesis = {
      {"chain_id", kChain},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 50000}}},
      {"orgs", {{{"id", kCustodian}, {"name", kCustodian}, {"admins", {ActorKey(4999).public_key().hex()}},
                 {"nodes", {node.public_key().hex()}}}}},
      {"actors", actors}};
  Status s = WriteSoloNodeDir(o.dir, node, genesis, o.interval_ms, o.log_level);
  if (s.ok()) s = WriteFileAtomic(o.dir + "/wearables.json", nlohmann::json{{"patients", o.patients}}.dump(), 0644, true);
  if (!s.ok()) return Fail(s.ToString());
  std::printf("%s\n", nlohmann::json{{"dir", o.dir}, {"patients", o.patients}}.dump().c_str());
  return 0;
}

struct IngestOpts {
  std::string dir, node;
  size_t batch = 1000;
  double seconds = 20;
  bool rules = false;
};

// A signed request's reply, or an error naming `what`.
Result<nlohmann::json> Send(httplib::Client& c, const std::string& authority, const SecretKey& key, const std::string& method,
                            const std::string& target, const std::string& body, const std::string& what) {
  auto h = Signed(key, method, authority, target, body);
  auto r = method == "PUT" ? c.Put(target, h, body, "application/json") : c.Post(target, h, body, "application/json");
  if (!r || (r->status != 200 && r->status != 202)) return Status::Internal(what + ": " + (r ? r->body : "no reply"));
  return nlohmann::json::parse(r->body);
}

int WearIngest(const IngestOpts& o) {
  crypto::Init();
  auto text = ReadFile(o.dir + "/wearables.json");
  if (!text.ok()) return Fail(text.status().ToString());
  const int patients = nlohmann::json::parse(*text)["patients"];
  if (o.batch < 1 || o.batch > wearables::kMaxReadingsPerBatch) return Fail("--batch: 1 to 10000 readings");
  // Each patient registers a watch (and sets rules).
  httplib::Client setup(o.node);
  for (int i = 0; i < patients; ++i) {
    const SecretKey patient = ActorKey(kPatientKeys + i);
    nlohmann::json p = {{"device", ActorKey(kDeviceKeys + i).public_key().hex()}, {"kind", "smart_watch"},
                        {"custodian", kCustodian}};
    TxBody b{kChain, patient.public_key(), 1, "wearables", "register_device", *codec::ToCanonicalJson(p)};
    auto r = Send(setup, Authority(o.node), patient, "POST", "/v1/transactions?wait=commit",
                  Transaction::Sign(std::move(b), patient)->ToJson().dump(), "register_device");
    if (!r.ok() || (*r)["result"]["code"] != "ok") return Fail(r.ok() ? r->dump() : r.status().ToString());
    if (o.rules) {
      nlohmann::json rules = {{"rules",
                               {{{"id", "tachy"}, {"metric", "heart_rate"}, {"above", 150}, {"for_s", 600}},
                                {{"id", "trend"}, {"metric", "heart_rate"}, {"baseline", "above"}, {"k", 4}}}}};
      if (auto x = Send(setup, Authority(o.node), patient, "PUT", "/v1/wearables/rules", rules.dump(), "rules"); !x.ok())
        return Fail(x.status().ToString());
    }
  }
  // Each patient's app sends its watch's batches one after the other, each waiting for its commit.
  std::atomic<uint64_t> alerts{0};
  DriveResult d = Drive(o.node, patients, o.seconds, [&](int i) -> DriveStep {
    auto seq = std::make_shared<uint64_t>(1);
    auto t = std::make_shared<uint64_t>(1'790'000'000'000ull);
    return [&o, &alerts, i, seq, t](httplib::Client& c) -> Result<double> {
      const SecretKey patient = ActorKey(kPatientKeys + i), device = ActorKey(kDeviceKeys + i);
      nlohmann::json list = nlohmann::json::array();
      std::vector<Hash256> leaves;
      const uint64_t first = *t;
      for (size_t k = 0; k < o.batch; ++k, *t += 1000) {  // a heart-rate reading a second, 60..99 /min
        const int64_t hr = 60 + static_cast<int64_t>((*t / 1000 + static_cast<uint64_t>(i)) % 40);
        list.push_back({{"t", *t}, {"metric", "heart_rate"}, {"value", hr}});
        leaves.push_back(wearables::ReadingLeaf(device.public_key(), {*t, 0, hr * 1000}));
      }
      const Hash256 root = merkle::Root(std::move(leaves));
      const std::string msg = wearables::BatchMessage(device.public_key().hex(), *seq, o.batch, first, *t - 1000, root);
      const std::string body = nlohmann::json{{"device", device.public_key().hex()}, {"seq", (*seq)++}, {"readings", list},
                                              {"device_sig", device.Sign(AsBytes(msg)).hex()}}
                                   .dump();
      const auto t0 = Clk::now();
      auto r = Send(c, Authority(o.node), patient, "POST", "/v1/wearables/batches?wait=commit", body, "batch");
      if (!r.ok()) return r.status();
      if ((*r)["status"] != "committed" || (*r)["result"]["code"] != "ok") return Status::Internal("batch failed: " + r->dump());
      alerts += (*r)["alerts"].size();
      return std::chrono::duration<double>(Clk::now() - t0).count();
    };
  });
  const uint64_t readings = d.steps * o.batch;
  nlohmann::json out = {{"patients", patients},
                        {"rules", o.rules},
                        {"readings_per_batch", o.batch},
                        {"seconds", d.seconds},
                        {"batches", d.steps},
                        {"readings", readings},
                        {"readings_per_s", static_cast<double>(readings) / d.seconds},
                        {"alerts", alerts.load()},
                        {"commit_latency_ms_per_batch", LatencyMs(&d.latencies)},
                        {"errors", d.errors}};
  std::printf("%s\n", out.dump(1).c_str());
  return d.errors == 0 ? 0 : 1;
}

}  // namespace

std::function<std::optional<int>()> AddWearablesCommands(CLI::App& app) {
  auto init_o = std::make_shared<InitOpts>();
  auto ingest_o = std::make_shared<IngestOpts>();
  auto* init = app.add_subcommand("wearables-init", "Create a node folder for the wearables benchmark");
  init->add_option("--dir", init_o->dir)->required();
  init->add_option("--patients", init_o->patients, "Patients (one watch and connection each)")->check(CLI::Range(1, 256));
  init->add_option("--interval-ms", init_o->interval_ms, "Block interval of the node");
  init->add_option("--log-level", init_o->log_level, "The node's log level");
  auto* ingest = app.add_subcommand("wearables-ingest", "Send device-signed batches; report readings ingested per second");
  ingest->add_option("--dir", ingest_o->dir, "The folder of wearables-init")->required();
  ingest->add_option("--node", ingest_o->node, "API URL")->required();
  ingest->add_option("--batch", ingest_o->batch, "Readings per batch (1..10000)");
  ingest->add_option("--seconds", ingest_o->seconds);
  ingest->add_flag("--rules", ingest_o->rules, "Give each patient two early-warning rules");
  return [init_o, ingest_o, init, ingest]() -> std::optional<int> {
    if (init->parsed()) return WearInit(*init_o);
    if (ingest->parsed()) return WearIngest(*ingest_o);
    return std::nullopt;
  };
}

}  // namespace cc::bench

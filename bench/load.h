// Shared by the load driver's files: load.cc (one node; `run` against one or
// several nodes), load_cluster.cc (the 3-node etcd cluster: its
// configuration, finding and killing the proposer, raw etcd puts) and
// load_supply.cc (the supply module: commissioning and pack verification).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "util/status.h"

namespace CLI {
class App;
}

namespace cc::bench {

using Clk = std::chrono::steady_clock;

// Actor i of init's genesis (a deterministic key: run re-derives them).
SecretKey ActorKey(uint64_t i);
// Ed25519 verifications per second of one transaction's signature on
// `threads` threads over `seconds`: the machine's limit DESIGN.md §8 states
// targets against.
double VerifyRate(int threads, double seconds);
// A TOML basic string.
std::string TomlString(const std::string& v);
// {"p50", "p90", "p99", "max"} in ms of latencies in seconds (sorts them).
nlohmann::json LatencyMs(std::vector<double>* seconds);
// RFC 9421 headers for one request (every API request is signed) to the
// node at `authority` (Authority(url)), Host included.
httplib::Headers Signed(const SecretKey& key, const std::string& method, const std::string& authority,
                        const std::string& target, const std::string& body = "");
// The Host (and signed @authority) of a node URL: "http://127.0.0.1:8080" -> "127.0.0.1:8080".
std::string Authority(const std::string& url);
// Prints "error: <what>" on stderr; returns the exit status 1.
int Fail(const std::string& what);
// A folder for one solo node on 127.0.0.1: keys/node.key (`node`),
// genesis.json and node.toml with the per-key and per-address limits off
// (the driver is one address with few keys), 16 MiB bodies, the block
// interval, the log level and a SQLite off-chain store.
Status WriteSoloNodeDir(const std::string& dir, const SecretKey& node, const nlohmann::json& genesis,
                        int interval_ms, const std::string& log_level);
// A closed-loop run: `conns` threads, each with its own keep-alive client
// to `node` and its own step (`make_step(i)`), each calling its step until
// `seconds` have passed or a step fails (the first failures are printed).
// A step returns the seconds of the part it times (e.g. one request).
using DriveStep = std::function<Result<double>(httplib::Client&)>;
struct DriveResult {
  uint64_t steps = 0, errors = 0;
  double seconds = 0;
  std::vector<double> latencies;  // seconds, one per successful step
};
DriveResult Drive(const std::string& node, int conns, double seconds, const std::function<DriveStep(int)>& make_step);
// "a,b,c" -> {"a", "b", "c"} (empty parts dropped).
std::vector<std::string> SplitList(const std::string& s);

struct InitOptions {
  std::string dir;
  int actors = 256;
  int interval_ms = 10;
  int max_block_txs = 5000;
  uint64_t max_tx_bytes = 65536;    // genesis params.max_tx_bytes (the network default)
  std::string offchain = "sqlite";  // the custodian's record store: sqlite, postgres or none
  std::string postgres;             // its conninfo (offchain = postgres)
  // A cluster (load_cluster.cc): nodes > 1 writes node-1.toml.. with the
  // etcd ordering backend.
  int nodes = 1;
  std::vector<std::string> etcd;  // endpoints
  int port = 0;                   // node i listens on port + i - 1 (0: any free port)
  int lease_ttl_s = 2;
  std::string log_level = "info";
};

// ---- load_cluster.cc ----

// init --nodes N: genesis with org bench-org (the actors' org, node 1) and
// bench-org-2.. (one node each), keys/node-i.key, node-i.toml.
Status MakeClusterDir(const InitOptions& o);

// The index in `urls` of the node whose GET /v1/info says it is the etcd
// proposer, and its node key (hex); waits up to `timeout` for exactly one.
Result<std::pair<size_t, std::string>> FindProposer(const std::vector<std::string>& urls,
                                                    const SecretKey& reader,
                                                    std::chrono::milliseconds timeout);

// The node's transaction counters from GET /metrics (carechain_tx_*:
// admitted, refused by reason, committed), {} if it does not answer.
nlohmann::json TxCounters(const std::string& url, const SecretKey& reader);

// Samples the CPU time (user + system) of processes every 100 ms, so that
// the cores each used over a window of the run can be told afterwards.
class CpuSampler {
 public:
  // 0: this process, "driver"; -1: the machine's busy time, "machine".
  explicit CpuSampler(std::vector<int> pids);
  ~CpuSampler();
  // {"<pid>": cores used between the samples nearest `from` and `to`}.
  nlohmann::json Cores(Clk::time_point from, Clk::time_point to) const;

 private:
  const std::vector<int> pids_;
  mutable std::mutex mu_;
  std::vector<std::pair<Clk::time_point, std::vector<long>>> samples_;  // GUARDED_BY(mu_)
  bool stop_ = false;                                                  // GUARDED_BY(mu_)
  std::thread thread_;
};

struct EtcdPutOptions {
  std::vector<std::string> endpoints;
  std::vector<int> threads = {1, 8};
  double seconds = 5;          // per thread count
  size_t value_bytes = 0;      // 0: the mean size of the blocks under blocks_prefix
  std::string blocks_prefix;   // e.g. /carechain/carechain-load/blocks/
  std::string prefix = "/carechain-bench/put/";
};
// Raw etcd write throughput over the project's gRPC client: `threads`
// writers each doing one-key transactions (put if absent, as the proposer
// writes a block) of `value_bytes`. Prints one JSON object.
int EtcdPut(const EtcdPutOptions& o);

// ---- load_supply.cc ----

// The keys of supply-init's genesis, as ActorKey(i): bench-mfr's admin (a
// chain reader) and bench-pharmacy's admin (kSupplyAdminKey + 1), the
// manufacturers (kSupplyManufacturerKeys + i, bench-mfr) and the pharmacists
// (kSupplyPharmacistKeys + i, bench-pharmacy).
inline constexpr uint64_t kSupplyAdminKey = 0;
inline constexpr uint64_t kSupplyManufacturerKeys = 1000;
inline constexpr uint64_t kSupplyPharmacistKeys = 2000;

// Adds the subcommands supply-init, supply-commission and supply-verify to
// `app`. After parsing, the returned function runs the one parsed and
// returns its exit status (nullopt if none of them was parsed).
std::function<std::optional<int>()> AddSupplyCommands(CLI::App& app);

// ---- load_coldchain.cc ----

// coldchain-init and coldchain-ingest (loggers' reading batches), as AddSupplyCommands.
std::function<std::optional<int>()> AddColdchainCommands(CLI::App& app);

// ---- load_wearables.cc ----

// wearables-init and wearables-ingest (device-signed batches at the custodian).
std::function<std::optional<int>()> AddWearablesCommands(CLI::App& app);

// ---- load_research.cc ----

// research-init, research-load and research-query (aggregate queries over
// consenting patients' wearable data).
std::function<std::optional<int>()> AddResearchCommands(CLI::App& app);

}  // namespace cc::bench

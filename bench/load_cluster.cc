// The load driver's cluster parts (bench/cluster.sh runs them): the network
// of `init --nodes N` (etcd ordering), finding the proposer for the
// fail-over measurement, and raw etcd write throughput (`etcd-put`), the
// ceiling the cluster's committed tx/s is compared with.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/signing_client.h"
#include "crypto/keyfile.h"
#include "ledger/block.h"
#include "load.h"
#include "ordering/etcd_client.h"
#include "util/env.h"

namespace cc::bench {

Status MakeClusterDir(const InitOptions& o) {
  crypto::Init();
  std::filesystem::create_directories(o.dir + "/keys");
  // Node i runs at organisation i: the checkpoints' quorum counts
  // organisations. bench-org holds the actors and node 1.
  nlohmann::json orgs = nlohmann::json::array();
  for (int i = 1; i <= o.nodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    SecretKey node = SecretKey::Generate();
    CC_RETURN_IF_ERROR(WriteKeyFile(o.dir + "/keys/" + name + ".key", node, true));
    nlohmann::json admins = nlohmann::json::array();
    if (i == 1) {
      for (int a = 0; a < o.actors; ++a) admins.push_back(ActorKey(a).public_key().hex());
    } else {
      SecretKey admin = SecretKey::Generate();
      CC_RETURN_IF_ERROR(WriteKeyFile(o.dir + "/keys/org-" + std::to_string(i) + "-admin.key", admin, true));
      admins.push_back(admin.public_key().hex());
    }
    orgs.push_back({{"id", i == 1 ? std::string("bench-org") : "bench-org-" + std::to_string(i)},
                    {"name", "Load driver " + std::to_string(i)},
                    {"admins", admins},
                    {"nodes", {node.public_key().hex()}}});
  }
  nlohmann::json genesis = {{"chain_id", "carechain-load"},
                            {"time_ms", Clock::System()->NowMs()},
                            {"params", {{"max_tx_bytes", o.max_tx_bytes}, {"max_block_txs", 50000}}},
                            {"orgs", orgs}};
  CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/genesis.json", genesis.dump(1), 0644, true));
  std::string endpoints;
  for (const auto& e : o.etcd) endpoints += (endpoints.empty() ? "" : ", ") + TomlString(e);
  for (int i = 1; i <= o.nodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    const int port = o.port == 0 ? 0 : o.port + i - 1;
    std::string toml =
        "[node]\ndata_dir = \"" + name + "-data\"\nkey_file = \"keys/" + name + ".key\"\n"
        "genesis = \"genesis.json\"\n"
        "[api]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nthreads = 32\n"
        // The driver and the nodes' forwarding all come from 127.0.0.1, with
        // few keys: no rate limits, room for every connection.
        "requests_per_s_per_actor = 0\nrequests_per_s_per_address = 0\n"
        "max_connections_per_address = 1024\n"
        "[ordering]\nbackend = \"etcd\"\nmax_block_txs = " + std::to_string(o.max_block_txs) +
        "\nblock_interval_ms = " + std::to_string(o.interval_ms) +
        "\nmempool_capacity = 1000000\nlease_ttl_s = " + std::to_string(o.lease_ttl_s) + "\n" +
        // etcd and the peers on this machine over plain HTTP: a benchmark only.
        "allow_plaintext = true\n" +
        // Port 0: the node announces the address it is bound to.
        (port != 0 ? "advertise_url = \"http://127.0.0.1:" + std::to_string(port) + "\"\n" : "") +
        "[etcd]\nendpoints = [" + endpoints + "]\n"
        "[log]\nlevel = " + TomlString(o.log_level) + "\n"
        "[offchain]\nengine = " + TomlString(o.offchain) + "\n" +
        (o.offchain == "postgres" ? "postgres = " + TomlString(o.postgres) + "\n" : "");
    CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/" + name + ".toml", toml, 0644, true));
  }
  return Status::Ok();
}

Result<std::pair<size_t, std::string>> FindProposer(const std::vector<std::string>& urls,
                                                    const SecretKey& reader,
                                                    std::chrono::milliseconds timeout) {
  std::vector<http::Client> clients;
  http::ClientOptions options = NoRetries(std::chrono::seconds(2));
  options.connect_timeout = std::chrono::seconds(1);
  for (const auto& u : urls) clients.push_back(api::SigningClient(u, reader, options));
  const auto deadline = Clk::now() + timeout;
  std::string seen;
  do {
    std::vector<std::pair<size_t, std::string>> proposers;
    seen.clear();
    for (size_t i = 0; i < urls.size(); ++i) {
      auto r = clients[i].Get("/v1/info");
      if (!r.ok() || r->status != 200) continue;
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      if (!j.is_object()) continue;
      const bool p = j.contains("cluster") && j["cluster"].value("proposer", false);
      seen += urls[i] + (p ? " proposer; " : " follower; ");
      if (p) proposers.emplace_back(i, j.value("node_key", ""));
    }
    if (proposers.size() == 1) return proposers[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clk::now() < deadline);
  return Status::Unavailable("no single proposer among the nodes (" + seen + ")");
}

nlohmann::json TxCounters(const std::string& url, const SecretKey& reader) {
  http::Client c = api::SigningClient(url, reader, NoRetries(std::chrono::seconds(5)));
  auto r = c.Get("/metrics");
  nlohmann::json out = nlohmann::json::object();
  if (!r.ok() || r->status != 200) return out;
  size_t pos = 0;
  while (pos < r->body.size()) {
    size_t end = r->body.find('\n', pos);
    if (end == std::string::npos) end = r->body.size();
    const std::string line = r->body.substr(pos, end - pos);
    pos = end + 1;
    const size_t space = line.rfind(' ');
    if (!line.starts_with("carechain_tx_") || space == std::string::npos) continue;
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

namespace {

// utime + stime of `pid` (0: this process; -1: every process, the machine's
// busy time) in clock ticks; -1 if it is gone.
long CpuTicks(int pid) {
  if (pid == -1) {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return in ? user + nice + system + irq + softirq + steal : -1;
  }
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));  // from field 3, the state
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return utime + stime;
}

}  // namespace

CpuSampler::CpuSampler(std::vector<int> pids) : pids_(std::move(pids)) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      std::vector<long> ticks;
      for (int pid : pids_) ticks.push_back(CpuTicks(pid));
      const auto now = Clk::now();
      lock.lock();
      samples_.emplace_back(now, std::move(ticks));
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock.lock();
    }
  });
}

CpuSampler::~CpuSampler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  thread_.join();
}

nlohmann::json CpuSampler::Cores(Clk::time_point from, Clk::time_point to) const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  if (samples_.size() < 2) return out;
  auto nearest = [&](Clk::time_point t) {
    size_t best = 0;
    for (size_t i = 1; i < samples_.size(); ++i) {
      if (std::chrono::abs(samples_[i].first - t) < std::chrono::abs(samples_[best].first - t)) best = i;
    }
    return best;
  };
  const size_t a = nearest(from), b = nearest(to);
  const double secs = std::chrono::duration<double>(samples_[b].first - samples_[a].first).count();
  if (b <= a || secs <= 0) return out;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (size_t i = 0; i < pids_.size(); ++i) {
    // A process killed in the window: up to its last sample.
    long end = samples_[b].second[i];
    for (size_t k = b; end < 0 && k > a; --k) end = samples_[k - 1].second[i];
    const long start = samples_[a].second[i];
    if (start < 0 || end < 0) continue;
    const std::string name = pids_[i] == 0 ? "driver" : pids_[i] == -1 ? "machine" : std::to_string(pids_[i]);
    out[name] = static_cast<double>(end - start) / hz / secs;
  }
  return out;
}

namespace {

// The number, mean size and mean transaction count of the blocks under `prefix`.
struct BlockSizes {
  uint64_t count = 0, bytes = 0, txs = 0;
};

Result<BlockSizes> MeasureBlocks(etcd::Client* client, const std::string& prefix) {
  BlockSizes b;
  const std::string end = etcd::PrefixEnd(prefix);
  std::string from = prefix;
  for (;;) {
    CC_ASSIGN_OR_RETURN(etcd::RangeResult r, client->Range(from, end, 16));
    for (const auto& kv : r.kvs) {
      CC_ASSIGN_OR_RETURN(BlockPtr block, Block::Decode(kv.value));
      b.count++;
      b.bytes += kv.value.size();
      b.txs += block->txs().size();
    }
    if (!r.more || r.kvs.empty()) return b;
    from = r.kvs.back().key + std::string(1, '\0');
  }
}

}  // namespace

int EtcdPut(const EtcdPutOptions& o) {
  crypto::Init();
  etcd::Options eo;
  eo.endpoints = o.endpoints;
  auto client = etcd::Client::Connect(eo);
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  };
  if (!client.ok()) return fail(client.status());
  nlohmann::json out = {{"endpoints", o.endpoints}};
  size_t value_bytes = o.value_bytes;
  double block_txs = 0;
  if (!o.blocks_prefix.empty()) {
    auto b = MeasureBlocks(client->get(), o.blocks_prefix);
    if (!b.ok()) return fail(b.status());
    if (b->count > 0) {
      block_txs = static_cast<double>(b->txs) / static_cast<double>(b->count);
      out["blocks"] = {{"prefix", o.blocks_prefix},
                       {"count", b->count},
                       {"mean_bytes", b->bytes / b->count},
                       {"mean_txs", block_txs}};
      if (value_bytes == 0) value_bytes = b->bytes / b->count;
    }
  }
  if (value_bytes == 0) return fail(Status::Invalid("no blocks under --blocks-prefix: give --value-bytes"));
  out["value_bytes"] = value_bytes;
  Bytes random(value_bytes);
  RandomBytes(random.data(), random.size());
  const std::string value(reinterpret_cast<const char*>(random.data()), random.size());

  nlohmann::json runs = nlohmann::json::array();
  bool ok = true;
  for (int threads : o.threads) {
    std::atomic<uint64_t> puts{0}, errors{0};
    std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
    const auto start = Clk::now();
    const auto end = start + std::chrono::duration_cast<Clk::duration>(std::chrono::duration<double>(o.seconds));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (uint64_t i = 0; Clk::now() < end; ++i) {
          const std::string key = o.prefix + std::to_string(threads) + "/" + std::to_string(t) + "/" + std::to_string(i);
          const auto t0 = Clk::now();
          // The proposer's write: one transaction, put only if absent.
          auto wrote = (*client)->CreateIfAbsent(key, value, nullptr);
          if (wrote.ok() && *wrote) {
            lat[static_cast<size_t>(t)].push_back(std::chrono::duration<double>(Clk::now() - t0).count());
            puts++;
          } else if (errors++ < 3) {
            std::fprintf(stderr, "put: %s\n", wrote.ok() ? "key existed" : wrote.status().message().c_str());
          }
        }
      });
    }
    for (auto& t : pool) t.join();
    const double secs = std::chrono::duration<double>(Clk::now() - start).count();
    std::vector<double> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    const double rate = static_cast<double>(puts) / secs;
    nlohmann::json r = {{"threads", threads},
                        {"puts", puts.load()},
                        {"errors", errors.load()},
                        {"seconds", secs},
                        {"puts_per_s", rate},
                        {"mb_per_s", rate * static_cast<double>(value_bytes) / 1e6},
                        {"latency_ms", LatencyMs(&all)}};
    if (block_txs > 0) r["ceiling_tx_per_s"] = rate * block_txs;  // blocks of the mean size
    runs.push_back(std::move(r));
    ok = ok && errors == 0;
    // Free the space again: delete the keys and compact the history away
    // (no node may be watching an older revision: run it with the nodes down).
    Status s = (*client)->DeleteRange(o.prefix, etcd::PrefixEnd(o.prefix));
    auto head = (*client)->Range(o.prefix, "");
    if (s.ok() && head.ok()) s = (*client)->Compact(head->revision);
    if (!s.ok()) std::fprintf(stderr, "warning: cleaning up %s: %s\n", o.prefix.c_str(), s.message().c_str());
  }
  out["runs"] = std::move(runs);
  std::printf("%s\n", out.dump(2).c_str());
  return ok ? 0 : 1;
}

}  // namespace cc::bench

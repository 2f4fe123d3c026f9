// carechain_load: a load driver for a running node (LevelDB's db_bench in
// spirit). It pre-signs identity transactions for many actors, submits them
// over the HTTP API in batches on several keep-alive connections, follows the
// chain with long polls, and reports committed tx/s and commit latency.
// In the same run it measures the machine's Ed25519 verify rate (1 and 2
// threads), the limit DESIGN.md §8 states the target against.
//
//   carechain_load init --dir D [--actors 256] [--interval-ms 10]
//   carechain node --config D/node.toml &
//   carechain_load run --node http://127.0.0.1:PORT [--txs 200000]
//                      [--conns 4] [--batch 500] [--rate 0 (max)] [--workload identity|token]
//
// A consortium cluster (etcd ordering; load_cluster.cc, bench/cluster.sh):
//   carechain_load init --dir D --nodes 3 --etcd EPS     node-1.toml..node-3.toml
//   carechain_load run --node URL1,URL2,URL3 [--kill-proposer-after S --pids P1,P2,P3]
//   carechain_load etcd-put --etcd EPS [--value-bytes N | --blocks-prefix P]
// run spreads the connections over the nodes (each actor always to the same
// node) and follows the blocks on every node.
//
// `fetch` measures the custodian's gatekeeper: records stored through
// POST /v1/records, one consent, then signed GET /v1/records/<rid>/content
// (consent decision, decrypt, access logging) on keep-alive connections.
//   carechain_load fetch --carechain build/src/carechain --dir D
//                        [--postgres "host=... port=... dbname=... user=..."]
//   carechain_load fetch --node http://127.0.0.1:PORT     (a node made by init)
//
// The supply module (load_supply.cc, bench/supply.sh): supply-init,
// supply-commission and supply-verify.
// Research aggregates over wearable data (load_research.cc): research-init,
// research-load and research-query.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

#include "api/http_signature.h"
#include "codec/canonical_json.h"
#include "codec/varint.h"
#include "crypto/keyfile.h"
#include "ledger/transaction.h"
#include "load.h"
#include "util/env.h"

namespace cc::bench {

SecretKey ActorKey(uint64_t i) {
  std::array<uint8_t, 32> seed{};
  std::string tag = "carechain-load-actor-" + std::to_string(i);
  Hash256 h = Blake2b256(tag);
  std::copy(h.bytes.begin(), h.bytes.end(), seed.begin());
  return SecretKey::FromSeed(seed);
}

std::string TomlString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// pN is the value at index floor(N/100 * count) of the sorted list.
nlohmann::json LatencyMs(std::vector<double>* seconds) {
  std::sort(seconds->begin(), seconds->end());
  auto pct = [&](double p) {
    if (seconds->empty()) return 0.0;
    return (*seconds)[std::min(seconds->size() - 1, static_cast<size_t>(p * seconds->size()))] *
           1000;
  };
  return {{"p50", pct(0.50)}, {"p90", pct(0.90)}, {"p99", pct(0.99)}, {"max", pct(1.0)}};
}

httplib::Headers Signed(const SecretKey& key, const std::string& method, const std::string& authority,
                        const std::string& target, const std::string& body) {
  auto h = api::SignTarget(key, method, authority, target, body);
  return {h.begin(), h.end()};
}

std::string Authority(const std::string& url) { return api::AuthorityOf(url); }

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  return 1;
}

Status WriteSoloNodeDir(const std::string& dir, const SecretKey& node, const nlohmann::json& genesis,
                        int interval_ms, const std::string& log_level) {
  std::filesystem::create_directories(dir + "/keys");
  CC_RETURN_IF_ERROR(WriteKeyFile(dir + "/keys/node.key", node, true));
  CC_RETURN_IF_ERROR(WriteFileAtomic(dir + "/genesis.json", genesis.dump(1), 0644, true));
  const std::string toml =
      "[node]\ndata_dir = \"node-data\"\nkey_file = \"keys/node.key\"\ngenesis = \"genesis.json\"\n"
      "[api]\nhost = \"127.0.0.1\"\nport = 0\nthreads = 32\nmax_body_bytes = 16777216\n"
      "requests_per_s_per_actor = 0\nrequests_per_s_per_address = 0\nmax_concurrent_requests_per_address = 1024\n"
      "[ordering]\nbackend = \"solo\"\nmax_block_txs = 5000\nblock_interval_ms = " + std::to_string(interval_ms) +
      "\n[log]\nlevel = " + TomlString(log_level) + "\n[offchain]\nengine = \"sqlite\"\n";
  return WriteFileAtomic(dir + "/node.toml", toml, 0644, true);
}

DriveResult Drive(const std::string& node, int conns, double seconds, const std::function<DriveStep(int)>& make_step) {
  DriveResult out;
  std::atomic<uint64_t> steps{0}, errors{0};
  std::mutex mu;
  const auto start = Clk::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int i = 0; i < conns; ++i) {
    pool.emplace_back([&, i] {
      httplib::Client c(node);
      c.set_keep_alive(true);
      c.set_read_timeout(60, 0);
      DriveStep step = make_step(i);
      std::vector<double> mine;
      while (Clk::now() < end) {
        Result<double> r = step(c);
        if (!r.ok()) {
          if (errors++ < 3) std::fprintf(stderr, "connection %d: %s\n", i, r.status().ToString().c_str());
          break;
        }
        mine.push_back(*r);
        ++steps;
      }
      std::lock_guard<std::mutex> lock(mu);
      out.latencies.insert(out.latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : pool) th.join();
  out.seconds = std::chrono::duration<double>(Clk::now() - start).count();
  out.steps = steps.load();
  out.errors = errors.load();
  return out;
}

double VerifyRate(int threads, double seconds) {
  SecretKey k = SecretKey::Generate();
  TxBody b{"x", k.public_key(), 1, "identity", "register_actor", R"({"a":1})"};
  TxPtr tx = Transaction::Sign(b, k);
  std::atomic<uint64_t> total{0};
  auto end = Clk::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      uint64_t n = 0;
      while (Clk::now() < end) {
        for (int i = 0; i < 100; ++i) n += tx->VerifySignature();
      }
      total += n;
    });
  }
  for (auto& t : pool) t.join();
  return static_cast<double>(total.load()) / seconds;
}

namespace {

constexpr uint64_t kTokenSupply = 1'000'000'000'000'000ull;

Status MakeNodeDir(const InitOptions& o) {
  crypto::Init();
  std::filesystem::create_directories(o.dir + "/keys");
  SecretKey node = SecretKey::Generate();
  CC_RETURN_IF_ERROR(WriteKeyFile(o.dir + "/keys/node.key", node, true));
  nlohmann::json admins = nlohmann::json::array();
  for (int i = 0; i < o.actors; ++i) admins.push_back(ActorKey(i).public_key().hex());
  nlohmann::json genesis = {
      {"chain_id", "carechain-load"},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", o.max_tx_bytes}, {"max_block_txs", 50000}}},
      {"orgs",
       {{{"id", "bench-org"},
         {"name", "Load driver"},
         {"admins", admins},
         {"nodes", {node.public_key().hex()}}}}},
      // For `run --workload token`: the supply, in bench-org's treasury.
      {"token", {{"symbol", "LOAD"}, {"supply", kTokenSupply}, {"treasury", "bench-org"}}}};
  CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/genesis.json", genesis.dump(1), 0644, true));
  std::string toml =
      "[node]\ndata_dir = \"node-data\"\nkey_file = \"keys/node.key\"\n"
      "genesis = \"genesis.json\"\n[api]\nhost = \"127.0.0.1\"\nport = 0\nthreads = 32\n"
      // The driver is one address and few keys: no rate limits.
      "requests_per_s_per_actor = 0\nrequests_per_s_per_address = 0\n"
      "[ordering]\nbackend = \"solo\"\nmax_block_txs = " +
      std::to_string(o.max_block_txs) + "\nblock_interval_ms = " + std::to_string(o.interval_ms) +
      "\nmempool_capacity = 1000000\n"
      "[log]\nlevel = \"warn\"\n"
      // The custodian's record store (bench-org, the node's org, is the custodian).
      "[offchain]\nengine = " +
      TomlString(o.offchain) + "\n" +
      (o.offchain == "postgres" ? "postgres = " + TomlString(o.postgres) + "\n" : "");
  return WriteFileAtomic(o.dir + "/node.toml", toml, 0644, true);
}

int Init(const InitOptions& o) {
  Status s = o.nodes > 1 ? MakeClusterDir(o) : MakeNodeDir(o);
  if (!s.ok()) { std::fprintf(stderr, "error: %s\n", s.message().c_str()); return 1; }
  std::printf("{\"dir\": \"%s\", \"actors\": %d, \"nodes\": %d}\n", o.dir.c_str(), o.actors, o.nodes);
  return 0;
}

struct RunOptions {
  std::vector<std::string> nodes;  // API URLs; connection c sends to nodes[c % size]
  uint64_t txs = 200000;
  int conns = 4;
  size_t batch = 500;
  double rate = 0;
  int actors = 256;
  double verify_seconds = 2;
  std::string workload = "identity";  // or "token": holder-to-holder transfers
  double kill_after = 0;  // > 0: kill -9 the proposer this long after the first send
  std::vector<int> pids;  // the nodes' processes, in `nodes` order (for kill_after)
  std::vector<int> cpu_pids;  // processes whose CPU use to report (and the driver's)
};

// What the follower of one node saw. Fields but `killed` are guarded by
// Run's mutex.
struct NodeView {
  std::string url;
  std::string node_key;  // hex, from /v1/info
  uint64_t start_height = 0;
  std::atomic<bool> killed{false};
  uint64_t committed = 0, blocks = 0;
  Clk::time_point last_commit{};
  double max_gap = 0;   // seconds between two blocks arriving
  uint64_t block_txs = 0;  // in the blocks seen (the run's and others)
  std::vector<double> latencies;  // submit -> committed on this node, each transaction of the run
  std::string error;
};

// One transaction sent.
struct Sent {
  Clk::time_point at;
  size_t node = 0;          // the node it was sent to
  size_t seen = 0;          // nodes that committed it so far
  Clk::time_point last{};   // when the last of them did
  bool own = false;         // committed on the node it was sent to
};

// The proposer's kill and the first block after it from another proposer.
struct Failover {
  bool armed = false;
  size_t killed = 0;
  std::string killed_key;
  Clk::time_point killed_at{};
  uint64_t killed_ms = 0;  // wall clock
  bool done = false;
  size_t node = 0;         // the surviving node that showed the block first
  uint64_t height = 0, time_ms = 0, txs = 0;
  std::string proposer;
  Clk::time_point at{};
};

int Run(const RunOptions& o) {
  crypto::Init();
  const size_t n = o.nodes.size();
  const int conns = std::max(o.conns, static_cast<int>(n));  // every node gets a connection
  const int actors = o.actors;
  const uint64_t txs = o.txs;
  const SecretKey reader = ActorKey(0);  // an admin of bench-org: may read the chain
  std::vector<NodeView> views(n);
  std::vector<std::unique_ptr<httplib::Client>> info_clients;
  std::string chain_id;
  for (size_t k = 0; k < n; ++k) {
    views[k].url = o.nodes[k];
    info_clients.push_back(std::make_unique<httplib::Client>(o.nodes[k]));
    auto info = info_clients[k]->Get("/v1/info", Signed(reader, "GET", Authority(o.nodes[k]), "/v1/info"));
    if (!info || info->status != 200) {
      std::fprintf(stderr, "error: cannot reach %s\n", o.nodes[k].c_str());
      return 1;
    }
    auto j = nlohmann::json::parse(info->body);
    if (k > 0 && j["chain_id"] != chain_id) {
      std::fprintf(stderr, "error: %s serves another chain\n", o.nodes[k].c_str());
      return 1;
    }
    chain_id = j["chain_id"];
    views[k].start_height = j["height"];
    views[k].node_key = j.value("node_key", "");
  }
  if (o.kill_after > 0 && o.pids.size() != n) {
    std::fprintf(stderr, "error: --kill-proposer-after needs one --pids entry per --node\n");
    return 1;
  }

  double v1 = 0, v2 = 0;
  if (o.verify_seconds > 0) {
    v1 = VerifyRate(1, o.verify_seconds);
    v2 = VerifyRate(2, o.verify_seconds);
  }

  // Pre-sign: actor i registers fresh keys, nonces continuing from the node's.
  // Actor a is sent on connection a % conns, so always to the same node.
  auto node_of_conn = [&](int c) { return static_cast<size_t>(c) % n; };
  std::vector<SecretKey> keys;
  std::vector<uint64_t> next_nonce;
  for (int i = 0; i < actors; ++i) {
    keys.push_back(ActorKey(i));
    std::string target = "/v1/actors/" + keys.back().public_key().hex() + "/nonce";
    auto r = info_clients[node_of_conn(i % conns)]->Get(target, Signed(keys.back(), "GET", Authority(o.nodes[node_of_conn(i % conns)]), target));
    if (!r || r->status != 200) { std::fprintf(stderr, "error: nonce query failed\n"); return 1; }
    next_nonce.push_back(nlohmann::json::parse(r->body)["next_nonce"]);
  }
  std::vector<std::vector<TxPtr>> per_conn(conns);
  {
    auto t0 = Clk::now();
    std::vector<std::vector<TxPtr>> per_actor(actors);
    std::vector<std::thread> signers;
    const int nsign = 2;
    for (int s = 0; s < nsign; ++s) {
      signers.emplace_back([&, s] {
        for (int a = s; a < actors; a += nsign) {
          uint64_t count = txs / actors + (static_cast<uint64_t>(a) < txs % actors ? 1 : 0);
          for (uint64_t j = 0; j < count; ++j) {
            SecretKey fresh = SecretKey::FromSeed(AsBytes(std::string_view(
                reinterpret_cast<const char*>(Blake2b256("k" + std::to_string(a) + "/" +
                                                         std::to_string(next_nonce[a] + j)).bytes.data()), 32)));
            TxBody b;
            b.chain_id = chain_id;
            b.actor = keys[a].public_key();
            b.nonce = next_nonce[a] + j;
            b.module = "identity";
            b.action = "register_actor";
            b.payload = R"({"key":")" + fresh.public_key().hex() + R"(","org":"bench-org","role":"patient"})";
            if (o.workload == "token") {
              // The actor's first transaction pays itself enough from the
              // treasury (it is one of bench-org's admins); the others each
              // give one token to the next actor.
              b.module = "token";
              b.action = "transfer";
              b.payload = j == 0 ? R"({"amount":)" + std::to_string(count) + R"(,"from_org":"bench-org","to":")" +
                                       keys[a].public_key().hex() + R"("})"
                                 : R"({"amount":1,"to":")" + keys[(a + 1) % actors].public_key().hex() + R"("})";
            }
            per_actor[a].push_back(Transaction::Sign(std::move(b), keys[a]));
          }
        }
      });
    }
    for (auto& t : signers) t.join();
    // Interleave each connection's actors so every batch mixes actors.
    for (int c = 0; c < conns; ++c) {
      std::vector<size_t> pos(actors, 0);
      bool more = true;
      while (more) {
        more = false;
        for (int a = c; a < actors; a += conns) {
          if (pos[a] < per_actor[a].size()) {
            per_conn[c].push_back(per_actor[a][pos[a]++]);
            more = true;
          }
        }
      }
    }
    std::fprintf(stderr, "pre-signed %lu transactions in %.1f s\n", static_cast<unsigned long>(txs),
                 std::chrono::duration<double>(Clk::now() - t0).count());
  }

  std::mutex mu;
  std::unordered_map<TxId, Sent, DigestHash> sent;  // GUARDED_BY(mu)
  sent.reserve(txs * 2);
  std::vector<double> latencies;  // submit -> committed on the node it was sent to; GUARDED_BY(mu)
  latencies.reserve(txs);
  // The same, split: sent to the node that proposed the block, or to
  // another (forwarded to the proposer, then applied). GUARDED_BY(mu)
  std::vector<double> direct, forwarded;
  Clk::time_point last_commit{};  // of those; GUARDED_BY(mu)
  Failover fo;                    // GUARDED_BY(mu)
  std::atomic<uint64_t> accepted{0}, refused{0};
  std::atomic<bool> sending_done{false};
  Clk::time_point first_send{};
  // The last block any follower saw: a follower gives up once sending is
  // done and no node has shown a block for 5 s (one node may stall while
  // the others still commit).
  std::atomic<Clk::rep> last_block_any{Clk::now().time_since_epoch().count()};

  // Followers, one per node: long-poll each next block, match its transactions.
  auto follow = [&](size_t k) {
    NodeView& v = views[k];
    httplib::Client c(v.url);
    c.set_read_timeout(30, 0);
    c.set_tcp_nodelay(true);
    uint64_t h = v.start_height + 1;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (v.committed >= txs) return;
      }
      std::string target = "/v1/blocks/" + std::to_string(h) + "?wait_ms=1000";
      auto r = c.Get(target, Signed(reader, "GET", Authority(v.url), target));
      auto now = Clk::now();
      if (v.killed) return;
      if (!r || (r->status != 200 && r->status != 404)) {
        std::string e = r ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200)
                          : httplib::to_string(r.error());
        std::fprintf(stderr, "follower of %s: %s\n", v.url.c_str(), e.c_str());
        std::lock_guard<std::mutex> lock(mu);
        v.error = e;
        return;
      }
      if (r->status == 404) {
        const Clk::time_point last{Clk::duration(last_block_any.load())};
        if (sending_done && now - last > std::chrono::seconds(5)) return;  // nothing more comes
        continue;
      }
      last_block_any = std::max(last_block_any.load(), now.time_since_epoch().count());
      auto j = nlohmann::json::parse(r->body);
      const std::string proposer = j["header"]["proposer"];
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& id : j["tx_ids"]) {
        auto it = sent.find(*TxId::FromHex(id.get<std::string>()));
        if (it == sent.end()) continue;
        Sent& s = it->second;
        const double d = std::chrono::duration<double>(now - s.at).count();
        v.latencies.push_back(d);
        v.committed++;
        s.seen++;
        s.last = now;
        if (s.node == k) {
          s.own = true;
          latencies.push_back(d);
          (proposer == v.node_key ? direct : forwarded).push_back(d);
          last_commit = now;
        }
      }
      if (v.blocks > 0) v.max_gap = std::max(v.max_gap, std::chrono::duration<double>(now - v.last_commit).count());
      v.blocks++;
      v.block_txs += j["tx_ids"].size();
      v.last_commit = now;
      if (fo.armed && !fo.done && proposer != fo.killed_key) {
        fo.done = true;
        fo.node = k;
        fo.height = h;
        fo.time_ms = j["header"]["time_ms"].get<uint64_t>();
        fo.txs = j["tx_ids"].size();
        fo.proposer = proposer;
        fo.at = now;
      }
      h++;
    }
  };
  std::vector<std::thread> followers;
  for (size_t k = 0; k < n; ++k) followers.emplace_back(follow, k);

  std::optional<CpuSampler> cpu;
  if (!o.cpu_pids.empty()) {
    std::vector<int> pids = o.cpu_pids;
    pids.push_back(0);   // the driver
    pids.push_back(-1);  // the whole machine: what else ran meanwhile
    cpu.emplace(std::move(pids));
  }
  first_send = Clk::now();
  // Fail-over: kill -9 the proposer while the load runs (load_cluster.cc finds it).
  std::thread killer;
  if (o.kill_after > 0) {
    killer = std::thread([&] {
      std::this_thread::sleep_until(first_send + std::chrono::duration_cast<Clk::duration>(
                                                     std::chrono::duration<double>(o.kill_after)));
      auto p = FindProposer(o.nodes, reader, std::chrono::seconds(10));
      if (!p.ok()) {
        std::fprintf(stderr, "fail-over: %s\n", p.status().message().c_str());
        return;
      }
      views[p->first].killed = true;
      {
        std::lock_guard<std::mutex> lock(mu);
        fo.armed = true;
        fo.killed = p->first;
        fo.killed_key = p->second;
        fo.killed_ms = Clock::System()->NowMs();
        fo.killed_at = Clk::now();
      }
      kill(o.pids[p->first], SIGKILL);
      std::fprintf(stderr, "fail-over: killed the proposer %s (pid %d)\n", o.nodes[p->first].c_str(),
                   o.pids[p->first]);
    });
  }
  std::vector<std::thread> senders;
  for (int c = 0; c < conns; ++c) {
    senders.emplace_back([&, c] {
      const size_t k = node_of_conn(c);
      httplib::Client client(o.nodes[k]);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // headers and body go out as two writes
      client.set_read_timeout(60, 0);
      const auto& mine = per_conn[c];
      const double per_conn_rate = o.rate / conns;
      auto t0 = Clk::now();
      for (size_t i = 0; i < mine.size(); i += o.batch) {
        if (o.rate > 0) {  // pacing, not synchronisation: hold the offered load at `rate`
          auto due = t0 + std::chrono::duration_cast<Clk::duration>(
                              std::chrono::duration<double>(static_cast<double>(i) / per_conn_rate));
          std::this_thread::sleep_until(due);
        }
        if (views[k].killed) return;
        size_t end = std::min(mine.size(), i + o.batch);
        std::string body;
        for (size_t t = i; t < end; ++t) codec::AppendVarint(&body, mine[t]->encoded().size()), body += mine[t]->encoded();
        auto now = Clk::now();
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t t = i; t < end; ++t) sent.emplace(mine[t]->id(), Sent{now, k});
        }
        auto r = client.Post("/v1/transactions/batch",
                             Signed(keys[c % actors], "POST", Authority(o.nodes[k]), "/v1/transactions/batch", body), body,
                             "application/octet-stream");
        if (!r) {
          if (!views[k].killed) std::fprintf(stderr, "sender %d: %s\n", c, httplib::to_string(r.error()).c_str());
          return;
        }
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        uint64_t ok = j.is_object() ? j.value("accepted", 0ul) : 0;
        accepted += ok;
        refused += (end - i) - ok;
        if (ok != end - i && refused.load() <= 3) std::fprintf(stderr, "refused: %s\n", r->body.substr(0, 300).c_str());
      }
    });
  }
  for (auto& t : senders) t.join();
  auto send_end = Clk::now();
  sending_done = true;
  if (killer.joinable()) killer.join();
  for (auto& t : followers) t.join();

  std::lock_guard<std::mutex> lock(mu);
  const uint64_t committed = latencies.size();
  double secs = std::chrono::duration<double>(last_commit - first_send).count();
  double tps = secs > 0 ? static_cast<double>(committed) / secs : 0;
  nlohmann::json out = {
      {"submitted", txs},
      {"accepted", accepted.load()},
      {"refused", refused.load()},
      {"committed", committed},
      {"offered_rate", o.rate},
      {"send_seconds", std::chrono::duration<double>(send_end - first_send).count()},
      {"seconds", secs},
      {"committed_tx_per_s", tps},
      {"latency_ms", LatencyMs(&latencies)}};
  if (o.verify_seconds > 0) {
    out["verify_per_s"] = {{"threads_1", v1}, {"threads_2", v2}};
    out["ratio_to_2_thread_verify"] = v2 > 0 ? tps / v2 : 0;
  }
  if (cpu) out["cpu_cores"] = cpu->Cores(first_send, last_commit);  // first send to last commit
  bool ok = committed == txs;
  if (n > 1) {
    // Every node's view, the slowest node's latency and what did not commit.
    size_t live = 0;
    nlohmann::json per_node = nlohmann::json::array();
    for (auto& v : views) {
      const double s = std::chrono::duration<double>(v.last_commit - first_send).count();
      per_node.push_back({{"url", v.url},
                          {"committed", v.committed},
                          {"blocks", v.blocks},
                          {"mean_block_txs", v.blocks ? static_cast<double>(v.block_txs) / v.blocks : 0},
                          {"max_block_gap_ms", v.max_gap * 1000},
                          {"seconds", s},
                          {"committed_tx_per_s", s > 0 ? static_cast<double>(v.committed) / s : 0},
                          {"latency_ms", LatencyMs(&v.latencies)}});
      if (v.killed) per_node.back()["killed"] = true;
      else per_node.back()["metrics"] = TxCounters(v.url, reader);
      if (!v.error.empty()) per_node.back()["error"] = v.error;
      if (!v.killed) live++;
      if (!v.killed) ok = ok && v.committed == txs;
    }
    std::vector<double> all_nodes;
    uint64_t lost_on_survivors = 0, lost_on_killed = 0;
    for (const auto& [id, s] : sent) {
      if (s.seen >= live) all_nodes.push_back(std::chrono::duration<double>(s.last - s.at).count());
      if (!s.own) (views[s.node].killed ? lost_on_killed : lost_on_survivors)++;
    }
    out["nodes"] = std::move(per_node);
    out["latency_all_nodes_ms"] = LatencyMs(&all_nodes);
    out["latency_direct_ms"] = LatencyMs(&direct);
    out["latency_forwarded_ms"] = LatencyMs(&forwarded);
    out["direct"] = direct.size();
    out["unsent"] = txs - sent.size();
    out["uncommitted_sent_to_survivors"] = lost_on_survivors;
    out["uncommitted_sent_to_killed"] = lost_on_killed;
  }
  if (o.kill_after > 0) {
    nlohmann::json f = {{"killed", fo.armed ? views[fo.killed].url : ""}, {"new_block", fo.done}};
    if (fo.done) {
      f["seconds"] = std::chrono::duration<double>(fo.at - fo.killed_at).count();
      f["seconds_by_block_time"] = (static_cast<double>(fo.time_ms) - static_cast<double>(fo.killed_ms)) / 1000;
      f["seen_on"] = views[fo.node].url;
      f["height"] = fo.height;
      f["block_txs"] = fo.txs;
      f["new_proposer"] = fo.proposer;
    }
    out["failover"] = std::move(f);
    // Everything a survivor accepted must still commit; the killed node's
    // own pending transactions die with it.
    ok = fo.done && out["uncommitted_sent_to_survivors"] == 0;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return ok ? 0 : 1;
}

// Read throughput: `conns` keep-alive connections GET `path` for `seconds`,
// signed by an admin of bench-org or unsigned. Prints requests/s.
int Reads(const std::string& node_url, const std::string& path, bool sign, int conns, double seconds) {
  crypto::Init();
  const SecretKey reader = ActorKey(0);
  std::atomic<uint64_t> ok{0}, failed{0};
  auto end = Clk::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int c = 0; c < conns; ++c) {
    pool.emplace_back([&] {
      httplib::Client client(node_url);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      while (Clk::now() < end) {
        auto r = sign ? client.Get(path, Signed(reader, "GET", Authority(node_url), path)) : client.Get(path);
        (r && r->status == 200 ? ok : failed)++;
      }
    });
  }
  for (auto& t : pool) t.join();
  nlohmann::json out = {{"path", path}, {"signed", sign}, {"conns", conns}, {"ok", ok.load()},
                        {"failed", failed.load()}, {"requests_per_s", static_cast<double>(ok) / seconds}};
  std::printf("%s\n", out.dump().c_str());
  return failed == 0 ? 0 : 1;
}

// ---- fetch: the custodian's gatekeeper over HTTP ----

struct FetchOptions {
  std::string node_url;
  int records = 1000;
  size_t size = 4096;
  int conns = 4;
  double seconds = 10;
  std::string purpose = "treatment";
  uint64_t max_tx_bytes = 65536;  // genesis of the nodes FetchAll starts
};

// A signed client of one key on one keep-alive connection.
class Api {
 public:
  Api(const std::string& url, SecretKey key) : c_(url), key_(std::move(key)), authority_(Authority(url)) {
    c_.set_keep_alive(true);
    c_.set_tcp_nodelay(true);
    c_.set_read_timeout(60, 0);
  }
  httplib::Result Get(const std::string& target) {
    return c_.Get(target, Signed(key_, "GET", authority_, target));
  }
  httplib::Result Post(const std::string& target, const std::string& body, const char* type) {
    return c_.Post(target, Signed(key_, "POST", authority_, target, body), body, type);
  }
  // The JSON reply of a GET; an error if not 200.
  Result<nlohmann::json> GetJson(const std::string& target) {
    auto r = Get(target);
    if (!r) return Status::Unavailable(target + ": " + httplib::to_string(r.error()));
    if (r->status != 200)
      return Status::Unavailable(target + ": HTTP " + std::to_string(r->status) + " " + r->body);
    return nlohmann::json::parse(r->body);
  }
  uint64_t NextNonce() {
    auto j = GetJson("/v1/actors/" + key_.public_key().hex() + "/nonce");
    return j.ok() ? (*j)["next_nonce"].get<uint64_t>() : 0;
  }
  // Signs a transaction of this key with its next nonce, waits for its
  // commit and checks its result.
  Status Commit(const std::string& chain_id, const std::string& module, const std::string& action,
                const nlohmann::json& payload) {
    TxBody b;
    b.chain_id = chain_id;
    b.actor = key_.public_key();
    b.nonce = NextNonce();
    b.module = module;
    b.action = action;
    CC_ASSIGN_OR_RETURN(b.payload, codec::ToCanonicalJson(payload));
    TxPtr tx = Transaction::Sign(std::move(b), key_);
    auto r = Post("/v1/transactions?wait=commit", tx->encoded(), "application/octet-stream");
    if (!r) return Status::Unavailable(action + ": " + httplib::to_string(r.error()));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_object() || j.value("status", "") != "committed" || j["result"]["code"] != "ok")
      return Status::Invalid(module + "." + action + " not committed ok: " + r->body);
    return Status::Ok();
  }
  const SecretKey& key() const { return key_; }

 private:
  httplib::Client c_;
  SecretKey key_;
  std::string authority_;
};

// Waits until transaction `id` is committed (readable by the chain reader `api`).
Status WaitCommitted(Api& api, const std::string& id) {
  auto deadline = Clk::now() + std::chrono::seconds(60);
  while (Clk::now() < deadline) {
    CC_ASSIGN_OR_RETURN(auto j, api.GetJson("/v1/transactions/" + id));
    if (j.value("status", "") == "committed") {
      if (j["result"]["code"] != "ok")
        return Status::Invalid("transaction " + id + ": " + j["result"].dump());
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Unavailable("transaction " + id + " not committed after 60 s");
}

// The number of the patient's access entries on chain (all pages).
Result<uint64_t> CountAccessLog(Api& patient) {
  uint64_t n = 0;
  std::string after;
  for (;;) {
    const std::string target = "/v1/patients/" + patient.key().public_key().hex() +
                               "/access-log?limit=1000" + (after.empty() ? "" : "&after=" + after);
    CC_ASSIGN_OR_RETURN(auto j, patient.GetJson(target));
    n += j["access"].size();
    if (!j.contains("next_after")) return n;
    after = j["next_after"];
  }
}

// Text content of record `i`: `size` printable bytes, different per record.
std::string RecordContent(int i, size_t size) {
  std::string s = "carechain fetch benchmark, record " + std::to_string(i) + "\n";
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1);
  while (s.size() < size) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += static_cast<char>('a' + x % 26);
    if (s.size() % 64 == 63) s += '\n';
  }
  s.resize(size);
  return s;
}

// Stores `records` records through POST /v1/records as a provider of the
// custodian (bench-org), grants a reader a consent for them, then reads them
// for `seconds` on `conns` connections. Fills `out`; false on a setup error.
bool Fetch(const FetchOptions& o, nlohmann::json* out) {
  Api admin(o.node_url, ActorKey(0));  // a genesis admin of bench-org: registers, reads the chain
  auto info = admin.GetJson("/v1/info");
  if (!info.ok()) {
    std::fprintf(stderr, "error: %s\n", info.status().message().c_str());
    return false;
  }
  const std::string chain_id = (*info)["chain_id"];
  // Fresh keys every run, so that fetch can be repeated against one node.
  Api provider(o.node_url, SecretKey::Generate()), patient(o.node_url, SecretKey::Generate());
  const SecretKey reader = SecretKey::Generate();
  auto fail = [](const std::string& what, const Status& s) {
    std::fprintf(stderr, "error: %s: %s\n", what.c_str(), s.ToString().c_str());
    return false;
  };
  for (const auto& [key, role] :
       {std::pair{&provider.key(), "provider"}, std::pair{&patient.key(), "patient"},
        std::pair{&reader, "provider"}}) {
    Status s =
        admin.Commit(chain_id, "identity", "register_actor",
                     {{"key", key->public_key().hex()}, {"org", "bench-org"}, {"role", role}});
    if (!s.ok()) return fail("register", s);
  }

  // Store the records on `conns` connections, then wait for every pointer.
  auto t0 = Clk::now();
  std::vector<std::string> ids(o.records), txs(o.records);
  std::atomic<int> next{0}, store_errors{0};
  {
    std::vector<std::thread> pool;
    for (int c = 0; c < o.conns; ++c) {
      pool.emplace_back([&] {
        Api p(o.node_url, provider.key());
        for (int i = next++; i < o.records; i = next++) {
          nlohmann::json body = {{"patient", patient.key().public_key().hex()},
                                 {"resource_type", "DiagnosticReport"},
                                 {"category", "imaging"},
                                 {"media_type", "text/plain"},
                                 {"content", RecordContent(i, o.size)}};
          auto r = p.Post("/v1/records", body.dump(), "application/json");
          if (!r || r->status != 201) {
            if (store_errors++ < 3)
              std::fprintf(stderr, "store: %s\n", r ? r->body.c_str() : "no reply");
            continue;
          }
          auto j = nlohmann::json::parse(r->body);
          ids[i] = j["record"];
          txs[i] = j["tx"];
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  if (store_errors > 0)
    return fail("store", Status::Unavailable(std::to_string(store_errors) + " records not stored"));
  const double submit_s = std::chrono::duration<double>(Clk::now() - t0).count();
  for (const auto& tx : txs) {
    Status s = WaitCommitted(admin, tx);
    if (!s.ok()) return fail("publish", s);
  }
  const double store_s = std::chrono::duration<double>(Clk::now() - t0).count();
  std::fprintf(stderr, "stored %d records of %zu bytes in %.2f s (%.2f s to submit)\n", o.records,
               o.size, store_s, submit_s);

  // The patient's consent: the reader may read their imaging for the purpose.
  Status s = patient.Commit(chain_id, "records", "grant",
                            {{"grantee", reader.public_key().hex()},
                             {"categories", {"imaging"}},
                             {"purpose", o.purpose},
                             {"until", Clock::System()->NowMs() + 24ull * 3600 * 1000}});
  if (!s.ok()) return fail("grant", s);

  // Load: each connection reads the records in turn, from its own offset.
  const std::string suffix = "/content?purpose=" + o.purpose;
  std::vector<std::vector<double>> lat(o.conns);
  std::vector<std::map<std::string, uint64_t>> errors(o.conns);
  const auto start = Clk::now();
  const auto end =
      start + std::chrono::duration_cast<Clk::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<Clk::time_point> finished(o.conns);
  {
    std::vector<std::thread> pool;
    for (int c = 0; c < o.conns; ++c) {
      pool.emplace_back([&, c] {
        httplib::Client client(o.node_url);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        client.set_read_timeout(30, 0);
        lat[c].reserve(1 << 20);
        for (size_t i = static_cast<size_t>(c) * o.records / o.conns; Clk::now() < end; ++i) {
          const size_t k = i % o.records;
          const std::string target = "/v1/records/" + ids[k] + suffix;
          auto headers = Signed(reader, "GET", Authority(o.node_url), target);  // the client's cost, outside the latency
          auto t = Clk::now();
          auto r = client.Get(target, headers);
          auto d = std::chrono::duration<double>(Clk::now() - t).count();
          if (!r) {
            errors[c][httplib::to_string(r.error())]++;
          } else if (r->status != 200) {
            errors[c]["HTTP " + std::to_string(r->status)]++;
          } else if (r->body != RecordContent(static_cast<int>(k), o.size)) {
            errors[c]["wrong content"]++;
          } else {
            lat[c].push_back(d);
          }
        }
        finished[c] = Clk::now();
      });
    }
    for (auto& t : pool) t.join();
  }
  const double secs =
      std::chrono::duration<double>(*std::max_element(finished.begin(), finished.end()) - start)
          .count();
  std::vector<double> all;
  nlohmann::json errs = nlohmann::json::object();
  uint64_t nerr = 0;
  for (int c = 0; c < o.conns; ++c) {
    all.insert(all.end(), lat[c].begin(), lat[c].end());
    for (const auto& [k, n] : errors[c]) {
      errs[k] = errs.value(k, uint64_t{0}) + n;
      nerr += n;
    }
  }
  // The access log: every read's entry should reach the chain (batched by
  // the gatekeeper's flusher). Wait until it has, or stops growing for 5 s.
  const auto drain0 = Clk::now();
  uint64_t logged = 0;
  for (auto last_growth = drain0; Clk::now() - last_growth < std::chrono::seconds(5);) {
    auto n = CountAccessLog(patient);
    if (!n.ok()) return fail("access log", n.status());
    if (*n > logged) last_growth = Clk::now();
    logged = *n;
    if (logged >= all.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  *out = {{"records", o.records},
          {"record_bytes", o.size},
          {"store_seconds", store_s},
          {"conns", o.conns},
          {"seconds", secs},
          {"ok", all.size()},
          {"errors", nerr},
          {"error_kinds", errs},
          {"requests_per_s", static_cast<double>(all.size()) / secs},
          {"latency_ms", LatencyMs(&all)},
          {"access_log",
           {{"on_chain", logged},
            {"missing", all.size() > logged ? all.size() - logged : 0},
            {"drain_seconds", std::chrono::duration<double>(Clk::now() - drain0).count()}}}};
  return true;
}

// fetch with --node: one run against a running node made by init.
int FetchNode(const FetchOptions& o, double verify_seconds) {
  crypto::Init();
  nlohmann::json r;
  if (!Fetch(o, &r)) return 1;
  r["node"] = o.node_url;
  if (verify_seconds > 0) {
    const double v2 = VerifyRate(2, verify_seconds);
    r["verify_per_s"] = {{"threads_1", VerifyRate(1, verify_seconds)}, {"threads_2", v2}};
    r["ratio_to_2_thread_verify"] = r["requests_per_s"].get<double>() / v2;
  }
  std::printf("%s\n", r.dump(2).c_str());
  return r["errors"] == 0 && r["access_log"]["missing"] == 0 ? 0 : 1;
}

// Runs argv (argv[0] looked up in PATH); returns its exit status, -1 if it could not start.
int RunCommand(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A node started by the driver: `carechain node --config <dir>/node.toml`,
// its standard output (the "listening" line and the log) in <dir>/node.out,
// its standard error in <dir>/node.log. Stopped (SIGTERM) on destruction.
class NodeProcess {
 public:
  ~NodeProcess() { Stop(); }
  Status Start(const std::string& binary, const std::string& dir) {
    const std::string out = dir + "/node.out", config = dir + "/node.toml";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (dir + "/node.log").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("node"),
                               const_cast<char*>("--config"), const_cast<char*>(config.c_str()),
                               nullptr};
    int rc = posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      return Status::IOError("cannot start " + binary + ": " + std::strerror(rc));
    }
    // Wait for "carechain node listening on http://127.0.0.1:PORT".
    for (auto deadline = Clk::now() + std::chrono::seconds(60); Clk::now() < deadline;) {
      auto text = ReadFile(out);
      const size_t at = text.ok() ? text->find("listening on http://") : std::string::npos;
      if (at != std::string::npos && text->find('\n', at) != std::string::npos) {
        url_ = text->substr(at + 13, text->find('\n', at) - at - 13);
        return Status::Ok();
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop();
    return Status::Unavailable("the node did not start; see " + dir + "/node.log and node.out");
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// fetch with --carechain: for each engine (sqlite; postgres if a conninfo is
// given) makes <dir>/<engine> with init's layout, starts a node on it, runs
// Fetch, stops the node. Prints one JSON object.
int FetchAll(FetchOptions o, const std::string& binary, const std::string& dir,
             const std::string& postgres, double verify_seconds) {
  crypto::Init();
  if (std::filesystem::exists(dir) && !std::filesystem::is_empty(dir)) {
    std::fprintf(stderr, "error: %s is not empty: fetch makes fresh nodes there\n", dir.c_str());
    return 1;
  }
  nlohmann::json result = {{"purpose", o.purpose}};
  if (verify_seconds > 0) {
    result["verify_per_s"] = {{"threads_1", VerifyRate(1, verify_seconds)},
                              {"threads_2", VerifyRate(2, verify_seconds)}};
  }
  std::vector<std::pair<std::string, std::string>> engines = {{"sqlite", ""}};
  if (!postgres.empty()) {
    // A schema of its own, so that runs do not meet each other's rows.
    std::string conninfo = postgres;
    Bytes tag(6);
    RandomBytes(tag.data(), tag.size());
    const std::string schema = "carechain_fetch_" + ToHex(tag);
    if (RunCommand({"psql", postgres, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    "CREATE SCHEMA " + schema}) == 0) {
      conninfo += " options='-csearch_path=" + schema + "'";
    } else {
      std::fprintf(
          stderr,
          "warning: could not create a schema with psql; using the conninfo's default schema\n");
    }
    engines.emplace_back("postgres", conninfo);
  }
  bool ok = true;
  for (const auto& [engine, conninfo] : engines) {
    InitOptions init;
    init.dir = dir + "/" + engine;
    init.actors = 1;
    init.max_tx_bytes = o.max_tx_bytes;
    init.offchain = engine;
    init.postgres = conninfo;
    Status s = MakeNodeDir(init);
    NodeProcess node;
    if (s.ok()) s = node.Start(binary, init.dir);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", engine.c_str(), s.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "%s: node on %s\n", engine.c_str(), node.url().c_str());
    o.node_url = node.url();
    nlohmann::json r;
    if (!Fetch(o, &r)) return 1;
    r["engine"] = engine;
    if (result.contains("verify_per_s") && result["verify_per_s"]["threads_2"].get<double>() > 0)
      r["ratio_to_2_thread_verify"] =
          r["requests_per_s"].get<double>() / result["verify_per_s"]["threads_2"].get<double>();
    ok = ok && r["errors"] == 0 && r["access_log"]["missing"] == 0;
    result[engine] = std::move(r);
  }
  std::printf("%s\n", result.dump(2).c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace cc::bench

int main(int argc, char** argv) {
  CLI::App app{"carechain_load: drive a node with pre-signed transactions"};
  app.require_subcommand(1);
  std::string dir, node = "http://127.0.0.1:8080";
  int actors = 256, interval = 10, max_block = 5000, conns = 4;
  uint64_t txs = 200000;
  size_t batch = 500;
  double rate = 0, verify_seconds = 2;
  auto* init = app.add_subcommand("init", "Create a genesis with many actors and a node config");
  init->add_option("--dir", dir)->required();
  init->add_option("--actors", actors)->check(CLI::Range(1, 100000));
  init->add_option("--interval-ms", interval, "Block interval of the node");
  init->add_option("--max-block-txs", max_block, "Block size of the node");
  cc::bench::InitOptions init_opts;
  init->add_option("--max-tx-bytes", init_opts.max_tx_bytes, "Genesis params.max_tx_bytes")
      ->check(CLI::Range(512, 1 << 20));
  init->add_option("--offchain", init_opts.offchain,
                   "The custodian's record store: sqlite, postgres or none")
      ->check(CLI::IsMember({"sqlite", "postgres", "none"}));
  std::string postgres;
  init->add_option("--postgres", postgres,
                   "libpq conninfo of the record store (with --offchain postgres)");
  std::string etcd;
  init->add_option("--nodes", init_opts.nodes,
                   "Nodes: 1 (solo ordering, node.toml) or a cluster (etcd ordering, node-i.toml)")
      ->check(CLI::Range(1, 16));
  init->add_option("--etcd", etcd, "etcd client endpoints, comma-separated (with --nodes > 1)");
  init->add_option("--port", init_opts.port, "Node i listens on PORT+i-1 (with --nodes > 1; 0: any)")
      ->check(CLI::Range(0, 65535));
  init->add_option("--lease-ttl-s", init_opts.lease_ttl_s, "The proposer's etcd lease (with --nodes > 1)")
      ->check(CLI::Range(1, 60));
  init->add_option("--log-level", init_opts.log_level, "The cluster nodes' log level");
  auto* run = app.add_subcommand("run", "Submit load and report throughput and latency");
  run->add_option("--node", node, "API URL, or several comma-separated (a cluster)");
  run->add_option("--txs", txs);
  run->add_option("--conns", conns)->check(CLI::Range(1, 256));
  run->add_option("--batch", batch)->check(CLI::Range(1, 20000));
  run->add_option("--rate", rate, "Offered tx/s (0 = as fast as possible)");
  run->add_option("--actors", actors, "Actors to use (<= init's)");
  run->add_option("--verify-seconds", verify_seconds, "Seconds per Ed25519 verify measurement (0 = skip)");
  std::string workload = "identity";
  run->add_option("--workload", workload,
                  "identity: actor registrations; token: holder-to-holder token transfers (one node)")
      ->check(CLI::IsMember({"identity", "token"}));
  double kill_after = 0;
  std::string pids;
  run->add_option("--kill-proposer-after", kill_after,
                  "Seconds after the first send to kill -9 the etcd proposer (a cluster; needs --pids)");
  run->add_option("--pids", pids, "The nodes' process ids, comma-separated, in --node order");
  std::string cpu_pids;
  run->add_option("--cpu-pids", cpu_pids,
                  "Process ids whose CPU use (cores, first send to last commit) to report, comma-separated");
  auto* etcd_put = app.add_subcommand("etcd-put", "Measure raw etcd writes over the project's gRPC client");
  cc::bench::EtcdPutOptions put;
  std::string put_threads = "1,8";
  etcd_put->add_option("--etcd", etcd, "etcd client endpoints, comma-separated")->required();
  etcd_put->add_option("--threads", put_threads, "Writer thread counts to measure, comma-separated");
  etcd_put->add_option("--seconds", put.seconds, "Seconds per thread count");
  etcd_put->add_option("--value-bytes", put.value_bytes, "Bytes per value (0: the blocks' mean size)")
      ->check(CLI::Range(0, 4 << 20));
  etcd_put->add_option("--blocks-prefix", put.blocks_prefix,
                       "Key prefix of stored blocks to take the value size from, e.g. "
                       "/carechain/carechain-load/blocks/");
  auto* reads = app.add_subcommand("reads", "Measure read requests/s on keep-alive connections");
  std::string path = "/v1/info";
  bool unsigned_reads = false;
  double seconds = 5;
  reads->add_option("--node", node);
  reads->add_option("--path", path, "Path to GET (default /v1/info)");
  reads->add_flag("--unsigned", unsigned_reads, "Send without request signatures (e.g. /healthz)");
  reads->add_option("--conns", conns)->check(CLI::Range(1, 256));
  reads->add_option("--seconds", seconds);
  auto* fetch = app.add_subcommand("fetch",
                                   "Measure record fetches (consent decision, decrypt, access log) "
                                   "on a node with the records module");
  cc::bench::FetchOptions fo;
  std::string binary;
  fetch->add_option("--carechain", binary,
                    "Path of the carechain binary: start fresh nodes in --dir (else use --node)");
  fetch->add_option("--dir", dir, "Folder for the nodes started (must be empty or absent)");
  fetch->add_option(
      "--postgres", postgres,
      "libpq conninfo: also run against a node with [offchain] engine = \"postgres\"");
  fetch->add_option("--node", node, "A running node made by init (without --carechain)");
  fetch->add_option("--records", fo.records, "Records to store and read")
      ->check(CLI::Range(1, 1000000));
  fetch->add_option("--size", fo.size, "Bytes per record")->check(CLI::Range(1, 1 << 20));
  fetch->add_option("--conns", fo.conns, "Concurrent keep-alive connections")
      ->check(CLI::Range(1, 256));
  fetch->add_option("--seconds", fo.seconds, "Seconds of reads");
  fetch
      ->add_option("--max-tx-bytes", fo.max_tx_bytes,
                   "Genesis params.max_tx_bytes of the nodes started")
      ->check(CLI::Range(512, 1 << 20));
  fetch->add_option("--verify-seconds", verify_seconds,
                    "Seconds per Ed25519 verify measurement (0 = skip)");
  auto supply = cc::bench::AddSupplyCommands(app);
  auto coldchain = cc::bench::AddColdchainCommands(app);
  auto wearables = cc::bench::AddWearablesCommands(app);
  auto research = cc::bench::AddResearchCommands(app);
  CLI11_PARSE(app, argc, argv);
  if (auto rc = supply()) return *rc;
  if (auto rc = coldchain()) return *rc;
  if (auto rc = wearables()) return *rc;
  if (auto rc = research()) return *rc;
  if (reads->parsed()) return cc::bench::Reads(node, path, !unsigned_reads, conns, seconds);
  if (etcd_put->parsed()) {
    put.endpoints = cc::bench::SplitList(etcd);
    put.threads.clear();
    for (const auto& t : cc::bench::SplitList(put_threads)) put.threads.push_back(std::stoi(t));
    return cc::bench::EtcdPut(put);
  }
  if (init->parsed()) {
    init_opts.dir = dir;
    init_opts.actors = actors;
    init_opts.interval_ms = interval;
    init_opts.max_block_txs = max_block;
    init_opts.postgres = postgres;
    init_opts.etcd = cc::bench::SplitList(etcd);
    if (init_opts.nodes > 1 && init_opts.etcd.empty()) {
      std::fprintf(stderr, "error: --nodes %d needs --etcd ENDPOINTS\n", init_opts.nodes);
      return 1;
    }
    if (init_opts.offchain == "postgres" && postgres.empty()) {
      std::fprintf(stderr, "error: --offchain postgres needs --postgres CONNINFO\n");
      return 1;
    }
    return cc::bench::Init(init_opts);
  }
  if (fetch->parsed()) {
    if (!binary.empty()) {
      if (dir.empty()) {
        std::fprintf(stderr, "error: --carechain needs --dir\n");
        return 1;
      }
      return cc::bench::FetchAll(fo, binary, dir, postgres, verify_seconds);
    }
    fo.node_url = node;
    return cc::bench::FetchNode(fo, verify_seconds);
  }
  cc::bench::RunOptions ro;
  ro.nodes = cc::bench::SplitList(node);
  ro.txs = txs;
  ro.conns = conns;
  ro.batch = batch;
  ro.rate = rate;
  ro.actors = actors;
  ro.verify_seconds = verify_seconds;
  ro.workload = workload;
  ro.kill_after = kill_after;
  for (const auto& p : cc::bench::SplitList(pids)) ro.pids.push_back(std::stoi(p));
  for (const auto& p : cc::bench::SplitList(cpu_pids)) ro.cpu_pids.push_back(std::stoi(p));
  if (ro.nodes.empty()) {
    std::fprintf(stderr, "error: --node names no URL\n");
    return 1;
  }
  return cc::bench::Run(ro);
}

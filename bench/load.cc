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
//                      [--conns 4] [--batch 500] [--rate 0 (max)]
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "api/http_signature.h"
#include "codec/varint.h"
#include "crypto/keyfile.h"
#include "ledger/transaction.h"
#include "util/env.h"

namespace cc::bench {
namespace {

using Clk = std::chrono::steady_clock;

SecretKey ActorKey(uint64_t i) {
  std::array<uint8_t, 32> seed{};
  std::string tag = "carechain-load-actor-" + std::to_string(i);
  Hash256 h = Blake2b256(tag);
  std::copy(h.bytes.begin(), h.bytes.end(), seed.begin());
  return SecretKey::FromSeed(seed);
}

int Init(const std::string& dir, int actors, int interval_ms, int max_block_txs) {
  crypto::Init();
  std::filesystem::create_directories(dir + "/keys");
  SecretKey node = SecretKey::Generate();
  Status s = WriteKeyFile(dir + "/keys/node.key", node, true);
  if (!s.ok()) { std::fprintf(stderr, "error: %s\n", s.message().c_str()); return 1; }
  nlohmann::json admins = nlohmann::json::array();
  for (int i = 0; i < actors; ++i) admins.push_back(ActorKey(i).public_key().hex());
  nlohmann::json genesis = {
      {"chain_id", "carechain-load"},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 50000}}},
      {"orgs", {{{"id", "bench-org"}, {"name", "Load driver"}, {"admins", admins},
                 {"nodes", {node.public_key().hex()}}}}}};
  s = WriteFileAtomic(dir + "/genesis.json", genesis.dump(1), 0644, true);
  if (!s.ok()) { std::fprintf(stderr, "error: %s\n", s.message().c_str()); return 1; }
  std::string toml = "[node]\ndata_dir = \"node-data\"\nkey_file = \"keys/node.key\"\n"
                     "genesis = \"genesis.json\"\n[api]\nhost = \"127.0.0.1\"\nport = 0\nthreads = 32\n"
                     // The driver is one address and few keys: no rate limits.
                     "requests_per_s_per_actor = 0\nrequests_per_s_per_address = 0\n"
                     "[ordering]\nbackend = \"solo\"\nmax_block_txs = " + std::to_string(max_block_txs) +
                     "\nblock_interval_ms = " + std::to_string(interval_ms) + "\nmempool_capacity = 1000000\n"
                     "[log]\nlevel = \"warn\"\n";
  s = WriteFileAtomic(dir + "/node.toml", toml, 0644, true);
  if (!s.ok()) { std::fprintf(stderr, "error: %s\n", s.message().c_str()); return 1; }
  std::printf("{\"dir\": \"%s\", \"actors\": %d}\n", dir.c_str(), actors);
  return 0;
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

// RFC 9421 headers for one request (every API request is signed).
httplib::Headers Signed(const SecretKey& key, const std::string& method, const std::string& target,
                        const std::string& body = "") {
  auto h = api::SignTarget(key, method, target, body);
  return {h.begin(), h.end()};
}

int Run(const std::string& node_url, uint64_t txs, int conns,
        size_t batch, double rate, int actors, double verify_seconds) {
  crypto::Init();
  httplib::Client info_client(node_url);
  const SecretKey reader = ActorKey(0);  // an admin of bench-org: may read the chain
  auto info = info_client.Get("/v1/info", Signed(reader, "GET", "/v1/info"));
  if (!info || info->status != 200) {
    std::fprintf(stderr, "error: cannot reach %s\n", node_url.c_str());
    return 1;
  }
  auto info_j = nlohmann::json::parse(info->body);
  const std::string chain_id = info_j["chain_id"];
  const uint64_t start_height = info_j["height"];

  double v1 = 0, v2 = 0;
  if (verify_seconds > 0) {
    v1 = VerifyRate(1, verify_seconds);
    v2 = VerifyRate(2, verify_seconds);
  }

  // Pre-sign: actor i registers fresh keys, nonces continuing from the node's.
  std::vector<SecretKey> keys;
  std::vector<uint64_t> next_nonce;
  for (int i = 0; i < actors; ++i) {
    keys.push_back(ActorKey(i));
    std::string target = "/v1/actors/" + keys.back().public_key().hex() + "/nonce";
    auto r = info_client.Get(target, Signed(keys.back(), "GET", target));
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
  std::unordered_map<TxId, Clk::time_point, DigestHash> sent_at;  // GUARDED_BY(mu)
  sent_at.reserve(txs * 2);
  std::vector<double> latencies;
  latencies.reserve(txs);
  std::atomic<uint64_t> accepted{0}, refused{0};
  std::atomic<bool> sending_done{false};
  Clk::time_point first_send{}, last_commit{};

  // Follower: long-polls each next block and matches its transactions.
  uint64_t committed = 0;
  std::thread follower([&] {
    httplib::Client c(node_url);
    c.set_read_timeout(30, 0);
    c.set_tcp_nodelay(true);
    uint64_t h = start_height + 1;
    auto idle_since = Clk::now();
    while (committed < txs) {
      std::string target = "/v1/blocks/" + std::to_string(h) + "?wait_ms=1000";
      auto r = c.Get(target, Signed(reader, "GET", target));
      auto now = Clk::now();
      if (!r) { std::fprintf(stderr, "follower: %s\n", httplib::to_string(r.error()).c_str()); return; }
      if (r->status == 404) {
        if (sending_done && now - idle_since > std::chrono::seconds(5)) return;  // nothing more comes
        continue;
      }
      idle_since = now;
      auto j = nlohmann::json::parse(r->body);
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& id : j["tx_ids"]) {
        auto it = sent_at.find(*TxId::FromHex(id.get<std::string>()));
        if (it == sent_at.end()) continue;
        latencies.push_back(std::chrono::duration<double>(now - it->second).count());
        sent_at.erase(it);
        committed++;
      }
      last_commit = now;
      h++;
    }
  });

  first_send = Clk::now();
  std::vector<std::thread> senders;
  for (int c = 0; c < conns; ++c) {
    senders.emplace_back([&, c] {
      httplib::Client client(node_url);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // headers and body go out as two writes
      client.set_read_timeout(60, 0);
      const auto& mine = per_conn[c];
      const double per_conn_rate = rate / conns;
      auto t0 = Clk::now();
      for (size_t i = 0; i < mine.size(); i += batch) {
        if (rate > 0) {  // pacing, not synchronisation: hold the offered load at `rate`
          auto due = t0 + std::chrono::duration_cast<Clk::duration>(
                              std::chrono::duration<double>(static_cast<double>(i) / per_conn_rate));
          std::this_thread::sleep_until(due);
        }
        size_t end = std::min(mine.size(), i + batch);
        std::string body;
        for (size_t k = i; k < end; ++k) codec::AppendVarint(&body, mine[k]->encoded().size()), body += mine[k]->encoded();
        auto now = Clk::now();
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t k = i; k < end; ++k) sent_at.emplace(mine[k]->id(), now);
        }
        auto r = client.Post("/v1/transactions/batch",
                             Signed(keys[c % actors], "POST", "/v1/transactions/batch", body), body,
                             "application/octet-stream");
        if (!r) { std::fprintf(stderr, "sender %d: %s\n", c, httplib::to_string(r.error()).c_str()); return; }
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
  follower.join();

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))] * 1000;
  };
  double secs = std::chrono::duration<double>(last_commit - first_send).count();
  double tps = secs > 0 ? static_cast<double>(committed) / secs : 0;
  nlohmann::json out = {
      {"submitted", txs},
      {"accepted", accepted.load()},
      {"refused", refused.load()},
      {"committed", committed},
      {"offered_rate", rate},
      {"send_seconds", std::chrono::duration<double>(send_end - first_send).count()},
      {"seconds", secs},
      {"committed_tx_per_s", tps},
      {"latency_ms", {{"p50", pct(0.50)}, {"p90", pct(0.90)}, {"p99", pct(0.99)}, {"max", pct(1.0)}}}};
  if (verify_seconds > 0) {
    out["verify_per_s"] = {{"threads_1", v1}, {"threads_2", v2}};
    out["ratio_to_2_thread_verify"] = v2 > 0 ? tps / v2 : 0;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return committed == txs ? 0 : 1;
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
        auto r = sign ? client.Get(path, Signed(reader, "GET", path)) : client.Get(path);
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
  auto* run = app.add_subcommand("run", "Submit load and report throughput and latency");
  run->add_option("--node", node);
  run->add_option("--txs", txs);
  run->add_option("--conns", conns)->check(CLI::Range(1, 256));
  run->add_option("--batch", batch)->check(CLI::Range(1, 20000));
  run->add_option("--rate", rate, "Offered tx/s (0 = as fast as possible)");
  run->add_option("--actors", actors, "Actors to use (<= init's)");
  run->add_option("--verify-seconds", verify_seconds, "Seconds per Ed25519 verify measurement (0 = skip)");
  auto* reads = app.add_subcommand("reads", "Measure read requests/s on keep-alive connections");
  std::string path = "/v1/info";
  bool unsigned_reads = false;
  double seconds = 5;
  reads->add_option("--node", node);
  reads->add_option("--path", path, "Path to GET (default /v1/info)");
  reads->add_flag("--unsigned", unsigned_reads, "Send without request signatures (e.g. /healthz)");
  reads->add_option("--conns", conns)->check(CLI::Range(1, 256));
  reads->add_option("--seconds", seconds);
  CLI11_PARSE(app, argc, argv);
  if (reads->parsed()) return cc::bench::Reads(node, path, !unsigned_reads, conns, seconds);
  if (init->parsed()) return cc::bench::Init(dir, actors, interval, max_block);
  return cc::bench::Run(node, txs, conns, batch, rate, actors, verify_seconds);
}

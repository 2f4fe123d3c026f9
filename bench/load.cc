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
//
// `fetch` measures the custodian's gatekeeper: records stored through
// POST /v1/records, one consent, then signed GET /v1/records/<rid>/content
// (consent decision, decrypt, access logging) on keep-alive connections.
//   carechain_load fetch --carechain build/src/carechain --dir D
//                        [--postgres "host=... port=... dbname=... user=..."]
//   carechain_load fetch --node http://127.0.0.1:PORT     (a node made by init)
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
#include <thread>
#include <unordered_map>

#include "api/http_signature.h"
#include "codec/canonical_json.h"
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

// A TOML basic string.
std::string TomlString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct InitOptions {
  std::string dir;
  int actors = 256;
  int interval_ms = 10;
  int max_block_txs = 5000;
  uint64_t max_tx_bytes = 65536;    // genesis params.max_tx_bytes (the network default)
  std::string offchain = "sqlite";  // the custodian's record store: sqlite, postgres or none
  std::string postgres;             // its conninfo (offchain = postgres)
};

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
         {"nodes", {node.public_key().hex()}}}}}};
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
  Status s = MakeNodeDir(o);
  if (!s.ok()) { std::fprintf(stderr, "error: %s\n", s.message().c_str()); return 1; }
  std::printf("{\"dir\": \"%s\", \"actors\": %d}\n", o.dir.c_str(), o.actors);
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

// {"p50", "p90", "p99", "max"} in ms of latencies in seconds (sorts them):
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
      {"latency_ms", LatencyMs(&latencies)}};
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
  Api(const std::string& url, SecretKey key) : c_(url), key_(std::move(key)) {
    c_.set_keep_alive(true);
    c_.set_tcp_nodelay(true);
    c_.set_read_timeout(60, 0);
  }
  httplib::Result Get(const std::string& target) {
    return c_.Get(target, Signed(key_, "GET", target));
  }
  httplib::Result Post(const std::string& target, const std::string& body, const char* type) {
    return c_.Post(target, Signed(key_, "POST", target, body), body, type);
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
          auto headers = Signed(reader, "GET", target);  // the client's cost, outside the latency
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
  CLI11_PARSE(app, argc, argv);
  if (reads->parsed()) return cc::bench::Reads(node, path, !unsigned_reads, conns, seconds);
  if (init->parsed()) {
    init_opts.dir = dir;
    init_opts.actors = actors;
    init_opts.interval_ms = interval;
    init_opts.max_block_txs = max_block;
    init_opts.postgres = postgres;
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
  return cc::bench::Run(node, txs, conns, batch, rate, actors, verify_seconds);
}

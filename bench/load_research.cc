// The research benchmark (docs/benchmarks.md, "Research: aggregate queries
// over wearable data"): a study's researcher asks the custodian for the
// aggregate of its consenting patients' heart rate (GET
// /v1/research/studies/<id>/aggregate), which the node answers from the day
// summaries it stored with each batch, and for a page of the pseudonymised
// export. Reported: the latency of the aggregate over the whole window and
// over one day, and of one export page (min / median / max of --runs).
//
//   carechain_load research-init --dir D [--patients 10000]
//   carechain node --config D/node.toml &
//   carechain_load research-load --dir D --node URL [--days 30] [--conns 8]
//   carechain_load research-query --dir D --node URL [--runs 10]
//
// research-load runs once per folder: each patient registers a watch and
// consents to the study (k = 10), then their app sends a heart-rate reading
// a minute for the `days` whole UTC days that ended before today, in
// device-signed batches of 10,000, each waiting for its commit. The window
// goes into D/research.json, so research-query asks about the same days
// whenever it runs, and checks every answer against what was sent.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <unordered_set>

#include "apps/wearables/summary.h"
#include "apps/wearables/wearables.h"
#include "codec/canonical_json.h"
#include "codec/varint.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "ledger/transaction.h"
#include "load.h"
#include "offchain/research_data.h"
#include "util/date.h"
#include "util/env.h"

namespace cc::bench {
namespace {

// Past init's actors (up to 100,000) and the other drivers' ranges.
constexpr uint64_t kPatientKeys = 1'000'000, kDeviceKeys = 2'000'000;
constexpr uint64_t kClinicAdminKey = 900'000, kUniAdminKey = 900'001, kResearcherKey = 900'002;
constexpr const char* kChain = "carechain-research-load";
constexpr const char* kCustodian = "bench-clinic";
constexpr const char* kUni = "bench-uni";
constexpr const char* kStudy = "bench-hr";
constexpr uint64_t kK = 10;
constexpr uint64_t kMinuteMs = 60'000, kPerDay = 1440;
constexpr size_t kTxsPerPost = 1000;

struct InitOpts {
  std::string dir;
  int patients = 10000;
  int interval_ms = 20;
  std::string log_level = "warn";
};

// The custodian (bench-clinic: the node, its admin, the patients) and the
// university (bench-uni: an admin and the study's researcher).
int ResearchInit(const InitOpts& o) {
  crypto::Init();
  SecretKey node = SecretKey::Generate();
  nlohmann::json actors = nlohmann::json::array();
  for (int i = 0; i < o.patients; ++i)
    actors.push_back(
        {{"key", ActorKey(kPatientKeys + i).public_key().hex()}, {"org", kCustodian}, {"role", "patient"}});
  actors.push_back({{"key", ActorKey(kResearcherKey).public_key().hex()}, {"org", kUni}, {"role", "researcher"}});
  auto org = [](const char* id, uint64_t admin) {
    return nlohmann::json{{"id", id}, {"name", id}, {"admins", {ActorKey(admin).public_key().hex()}},
                          {"nodes", nlohmann::json::array()}};
  };
  nlohmann::json orgs = {org(kCustodian, kClinicAdminKey), org(kUni, kUniAdminKey)};
  orgs[0]["nodes"] = {node.public_key().hex()};
  nlohmann::json genesis = {{"chain_id", kChain},
                            {"time_ms", Clock::System()->NowMs()},
                            {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 50000}}},
                            {"orgs", orgs},
                            {"actors", actors}};
  const nlohmann::json layout = {{"patients", o.patients}, {"study", kStudy}};
  Status s = WriteSoloNodeDir(o.dir, node, genesis, o.interval_ms, o.log_level);
  if (s.ok()) s = WriteFileAtomic(o.dir + "/research.json", layout.dump(1), 0644, true);
  if (!s.ok()) return Fail(s.ToString());
  std::printf("%s\n", nlohmann::json{{"dir", o.dir}, {"patients", o.patients}}.dump().c_str());
  return 0;
}

Result<nlohmann::json> ReadLayout(const std::string& dir) {
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/research.json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Invalid(dir + "/research.json is not JSON: run research-init");
  return j;
}

// Patient p's heart rate at minute `m` (since the epoch), whole /min in
// 58..108: a resting level of the patient's, higher from 07:00 to 23:00 UTC,
// and noise.
int64_t HeartRate(uint64_t p, uint64_t m) {
  uint64_t x = ((p << 32) ^ m) + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  const uint64_t hour = m / 60 % 24;
  return 58 + static_cast<int64_t>(p % 15) + (hour >= 7 && hour < 23 ? 12 : 0) + static_cast<int64_t>(x % 25);
}

TxPtr SignTx(const SecretKey& key, uint64_t nonce, const std::string& module, const std::string& action,
             const nlohmann::json& payload) {
  return Transaction::Sign(TxBody{kChain, key.public_key(), nonce, module, action, *codec::ToCanonicalJson(payload)},
                           key);
}

// The JSON of a signed GET that answered 200.
Result<nlohmann::json> GetJson(httplib::Client& c, const std::string& authority, const SecretKey& key,
                               const std::string& target) {
  auto r = c.Get(target, Signed(key, "GET", authority, target));
  if (!r) return Status::Unavailable(target + ": " + httplib::to_string(r.error()));
  if (r->status != 200) return Status::Unavailable(target + ": HTTP " + std::to_string(r->status) + " " + r->body);
  return nlohmann::json::parse(r->body);
}

// Admits `txs` with POST /v1/transactions/batch (kTxsPerPost a request),
// then follows the blocks from the one after the head (as it was before)
// until each of them is committed; an error if one is refused, or if no
// block comes for 60 s. `reader` (a chain reader) signs the requests.
Status CommitAll(httplib::Client& c, const std::string& authority, const SecretKey& reader,
                 const std::vector<TxPtr>& txs, const char* what) {
  CC_ASSIGN_OR_RETURN(auto info, GetJson(c, authority, reader, "/v1/info"));
  uint64_t h = info["height"].get<uint64_t>() + 1;
  std::unordered_set<std::string> pending;
  for (size_t i = 0; i < txs.size(); i += kTxsPerPost) {
    std::string body;
    for (size_t t = i; t < std::min(txs.size(), i + kTxsPerPost); ++t) {
      codec::AppendVarint(&body, txs[t]->encoded().size()), body += txs[t]->encoded();
      pending.insert(txs[t]->id().hex());
    }
    const std::string target = "/v1/transactions/batch";
    auto r = c.Post(target, Signed(reader, "POST", authority, target, body), body, "application/octet-stream");
    if (!r) return Status::Unavailable(std::string(what) + ": " + httplib::to_string(r.error()));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    const size_t n = std::min(txs.size(), i + kTxsPerPost) - i;
    if (!j.is_object() || j.value("accepted", size_t{0}) != n)
      return Status::Invalid(std::string(what) + ": not all admitted: " + r->body.substr(0, 400));
  }
  for (auto last = Clk::now(); !pending.empty();) {
    const std::string target = "/v1/blocks/" + std::to_string(h) + "?wait_ms=1000&txs=full";
    auto r = c.Get(target, Signed(reader, "GET", authority, target));
    if (!r || (r->status != 200 && r->status != 404))
      return Status::Unavailable(target + ": " + (r ? r->body.substr(0, 200) : httplib::to_string(r.error())));
    if (r->status == 404) {
      if (Clk::now() - last > std::chrono::seconds(60))
        return Status::Unavailable(std::string(what) + ": no block for 60 s, " + std::to_string(pending.size()) +
                                   " transactions not committed");
      continue;
    }
    last = Clk::now();
    const auto block = nlohmann::json::parse(r->body);
    for (const auto& tx : block["transactions"]) {
      if (pending.erase(tx["id"].get<std::string>()) == 0) continue;
      if (tx["result"]["code"] != "ok") return Status::Invalid(std::string(what) + ": " + tx.dump().substr(0, 600));
    }
    h++;
  }
  return Status::Ok();
}

// Batch `seq` (from 1) of patient p's readings from minute `first` to the
// last minute of the window: at most kMaxReadingsPerBatch, signed by the
// device. The body is written directly (not through nlohmann::json): the
// driver shares the machine's cores with the node.
std::string BatchBody(uint64_t p, uint64_t seq, uint64_t first, uint64_t end) {
  const SecretKey device = ActorKey(kDeviceKeys + p);
  const uint64_t from = first + (seq - 1) * wearables::kMaxReadingsPerBatch;
  const uint64_t to = std::min(end, from + wearables::kMaxReadingsPerBatch);
  std::string body = "{\"device\":\"" + device.public_key().hex() + "\",\"seq\":" + std::to_string(seq) +
                     ",\"readings\":[";
  std::vector<Hash256> leaves;
  leaves.reserve(to - from);
  for (uint64_t m = from; m < to; ++m) {
    const int64_t hr = HeartRate(p, m);
    body += (m == from ? "{\"t\":" : ",{\"t\":") + std::to_string(m * kMinuteMs) +
            ",\"metric\":\"heart_rate\",\"value\":" + std::to_string(hr) + "}";
    leaves.push_back(wearables::ReadingLeaf(device.public_key(), {m * kMinuteMs, 0, hr * 1000}));  // 0: heart_rate
  }
  const Hash256 root = merkle::Root(std::move(leaves));
  const std::string msg =
      wearables::BatchMessage(device.public_key().hex(), seq, to - from, from * kMinuteMs, (to - 1) * kMinuteMs, root);
  return body + "],\"device_sig\":\"" + device.Sign(AsBytes(msg)).hex() + "\"}";
}

struct LoadOpts {
  std::string dir, node;
  int days = 30;
  int conns = 8;
};

int ResearchLoad(const LoadOpts& o) {
  crypto::Init();
  auto layout = ReadLayout(o.dir);
  if (!layout.ok()) return Fail(layout.status().ToString());
  if (layout->contains("days")) return Fail(o.dir + " is loaded already: research-load runs once per research-init");
  const uint64_t patients = (*layout)["patients"];
  const SecretKey reader = ActorKey(kClinicAdminKey), researcher = ActorKey(kResearcherKey);
  httplib::Client setup(o.node);
  setup.set_read_timeout(60, 0);
  auto nonce = GetJson(setup, Authority(o.node), researcher, "/v1/actors/" + researcher.public_key().hex() + "/nonce");
  if (!nonce.ok()) return Fail(nonce.status().ToString());
  if ((*nonce)["next_nonce"] != 1)
    return Fail("the node has the study already: research-load runs once per research-init (a fresh folder)");

  // The study, every patient's watch, then their consents (which need the study).
  const auto t_setup = Clk::now();
  const uint64_t now = Clock::System()->NowMs();
  std::vector<TxPtr> txs;
  txs.push_back(SignTx(researcher, 1, "research", "register",
                       {{"study", kStudy},
                        {"title", "Resting heart rate from smart watches (carechain_load)"},
                        {"protocol_hash", ToHex(Sha256("carechain_load research benchmark protocol\n"))},
                        {"primary", {{{"title", "Mean heart rate"}}}},
                        {"k", kK}}));
  for (uint64_t i = 0; i < patients; ++i)
    txs.push_back(SignTx(ActorKey(kPatientKeys + i), 1, "wearables", "register_device",
                         {{"device", ActorKey(kDeviceKeys + i).public_key().hex()}, {"kind", "smart_watch"},
                          {"custodian", kCustodian}}));
  if (Status s = CommitAll(setup, Authority(o.node), reader, txs, "register"); !s.ok()) return Fail(s.ToString());
  txs.clear();
  const uint64_t until = now + 10 * 365 * kDayMs;  // ten years
  for (uint64_t i = 0; i < patients; ++i)
    txs.push_back(SignTx(ActorKey(kPatientKeys + i), 2, "research", "consent",
                         {{"study", kStudy}, {"categories", {"heart_rate"}}, {"until", until}}));
  if (Status s = CommitAll(setup, Authority(o.node), reader, txs, "consent"); !s.ok()) return Fail(s.ToString());
  const double setup_s = std::chrono::duration<double>(Clk::now() - t_setup).count();
  std::fprintf(stderr, "registered %llu watches and consents in %.1f s\n", static_cast<unsigned long long>(patients),
               setup_s);

  // The window: the `days` whole UTC days before today, a reading a minute.
  const uint64_t last_day = now / kDayMs - 1, first_day = last_day + 1 - static_cast<uint64_t>(o.days);
  const uint64_t first = first_day * kPerDay, end = (last_day + 1) * kPerDay;  // minutes
  const uint64_t per_patient = end - first;
  const uint64_t batches = (per_patient + wearables::kMaxReadingsPerBatch - 1) / wearables::kMaxReadingsPerBatch;
  const uint64_t total = patients * per_patient;

  // Each connection takes the next patient and sends their batches one
  // after the other, each waiting for its commit.
  std::atomic<uint64_t> next{0}, sent{0};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;               // GUARDED_BY(mu)
  std::string error;               // GUARDED_BY(mu)
  std::vector<double> latencies;   // seconds per batch; GUARDED_BY(mu)
  const auto start = Clk::now();
  std::thread progress([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; })) {
      const double s = std::chrono::duration<double>(Clk::now() - start).count();
      std::fprintf(stderr, "%llu / %llu readings in %.0f s (%.0f/s)\n", static_cast<unsigned long long>(sent.load()),
                   static_cast<unsigned long long>(total), s, static_cast<double>(sent.load()) / s);
    }
  });
  std::vector<std::thread> pool;
  for (int c = 0; c < o.conns; ++c) {
    pool.emplace_back([&] {
      httplib::Client client(o.node);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(60, 0);
      std::vector<double> mine;
      auto fail = [&](const std::string& what) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.empty()) error = what;
        next = patients;  // the others stop after their current batch
      };
      for (uint64_t p = next++; p < patients; p = next++) {
        const SecretKey patient = ActorKey(kPatientKeys + p);
        for (uint64_t seq = 1; seq <= batches; ++seq) {
          const std::string body = BatchBody(p, seq, first, end);
          const std::string target = "/v1/wearables/batches?wait=commit";
          const auto headers = Signed(patient, "POST", Authority(o.node), target, body);
          const auto t0 = Clk::now();
          auto r = client.Post(target, headers, body, "application/json");
          const double d = std::chrono::duration<double>(Clk::now() - t0).count();
          auto j = r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
          if (!r || r->status != 200 || !j.is_object() || j["status"] != "committed" || j["result"]["code"] != "ok") {
            return fail("patient " + std::to_string(p) + " batch " + std::to_string(seq) + ": " +
                        (r ? r->body.substr(0, 400) : httplib::to_string(r.error())));
          }
          sent += j["readings"].get<uint64_t>();
          mine.push_back(d);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : pool) t.join();
  const double secs = std::chrono::duration<double>(Clk::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  progress.join();
  if (!error.empty()) return Fail(error);

  (*layout)["days"] = o.days;
  (*layout)["from"] = FormatDay(first_day);
  (*layout)["to"] = FormatDay(last_day);
  (*layout)["readings"] = total;
  if (Status s = WriteFileAtomic(o.dir + "/research.json", layout->dump(1), 0644, true); !s.ok())
    return Fail(s.ToString());
  nlohmann::json out = {{"patients", patients},
                        {"days", o.days},
                        {"from", (*layout)["from"]},
                        {"to", (*layout)["to"]},
                        {"conns", o.conns},
                        {"setup_seconds", setup_s},
                        {"batches", latencies.size()},
                        {"readings", sent.load()},
                        {"seconds", secs},
                        {"readings_per_s", static_cast<double>(sent.load()) / secs},
                        {"commit_latency_ms_per_batch", LatencyMs(&latencies)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

struct QueryOpts {
  std::string dir, node;
  int runs = 10;
};

// The sum of the readings sent for days [first_day, last_day], in /min.
uint64_t ExpectedSum(uint64_t patients, uint64_t first_day, uint64_t last_day) {
  uint64_t sum = 0;
  for (uint64_t p = 0; p < patients; ++p) {
    for (uint64_t m = first_day * kPerDay; m < (last_day + 1) * kPerDay; ++m)
      sum += static_cast<uint64_t>(HeartRate(p, m));
  }
  return sum;
}

// One query kind: its target, what it asks for (reported with it), the
// check of its answer, its latencies.
struct Query {
  std::string name, target;
  nlohmann::json info;
  std::function<Status(const nlohmann::json&)> check;
  std::vector<double> seconds;
};

int ResearchQuery(const QueryOpts& o) {
  crypto::Init();
  auto layout = ReadLayout(o.dir);
  if (!layout.ok()) return Fail(layout.status().ToString());
  if (!layout->contains("days")) return Fail(o.dir + ": no readings yet; run research-load first");
  const uint64_t patients = (*layout)["patients"];
  const std::string study = (*layout)["study"], from = (*layout)["from"], to = (*layout)["to"];
  const uint64_t first_day = *ParseDay(from), last_day = *ParseDay(to);

  auto aggregate = [&](const std::string& name, uint64_t d0, uint64_t d1) {
    const uint64_t readings = patients * (d1 - d0 + 1) * kPerDay;
    const double mean = static_cast<double>(ExpectedSum(patients, d0, d1)) / static_cast<double>(readings);
    return Query{name,
                 "/v1/research/studies/" + study + "/aggregate?metric=heart_rate&from=" + FormatDay(d0) +
                     "&to=" + FormatDay(d1),
                 {{"days", d1 - d0 + 1}, {"readings", readings}},
                 [patients, readings, mean](const nlohmann::json& j) {
                   if (j["patients"] != patients || j["readings"] != readings ||
                       std::abs(j["mean"].get<double>() - mean) > 1e-9 * mean)
                     return Status::Invalid("expected " + std::to_string(patients) + " patients, " +
                                            std::to_string(readings) + " readings, mean " + std::to_string(mean) +
                                            "; the node answered " + j.dump().substr(0, 600));
                   return Status::Ok();
                 },
                 {}};
  };
  const uint64_t page = std::min<uint64_t>(10000, (*layout)["readings"].get<uint64_t>());
  std::vector<Query> queries = {
      aggregate("aggregate_window", first_day, last_day), aggregate("aggregate_day", last_day, last_day),
      Query{"export_page",
            "/v1/research/studies/" + study + "/export?metric=heart_rate&limit=10000",
            {{"readings", page}},
            [page](const nlohmann::json& j) {
              uint64_t n = 0;
              for (const auto& p : j["participants"]) n += p["readings"].size();
              if (n != page)
                return Status::Invalid("expected " + std::to_string(page) + " readings in the export page, got " +
                                       std::to_string(n));
              return Status::Ok();
            },
            {}}};

  // Each kind `runs` times, one request at a time on one keep-alive
  // connection. No timeout worth the name: the latency is what is measured.
  const SecretKey researcher = ActorKey(kResearcherKey);
  httplib::Client c(o.node);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(3600, 0);
  for (auto& q : queries) {
    for (int i = 0; i < o.runs; ++i) {
      const auto headers = Signed(researcher, "GET", Authority(o.node), q.target);  // the client's cost, outside the latency
      const auto t0 = Clk::now();
      auto r = c.Get(q.target, headers);
      const double d = std::chrono::duration<double>(Clk::now() - t0).count();
      if (!r) return Fail(q.name + ": " + o.node + ": " + httplib::to_string(r.error()));
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      if (r->status == 403 && j.is_object() && j.value("code", "") == "below_k")
        return Fail(q.name + ": refused with below_k (the study's k is " + std::to_string(kK) + ", this folder has " +
                    std::to_string(patients) + " patients): " + j.value("message", ""));
      if (r->status != 200 || !j.is_object())
        return Fail(q.name + ": HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 400));
      if (Status s = q.check(j); !s.ok()) return Fail(q.name + ": " + s.message());
      q.seconds.push_back(d);
      std::fprintf(stderr, "%s %d/%d: %.1f ms\n", q.name.c_str(), i + 1, o.runs, d * 1000);
    }
  }
  for (auto& q : queries) {
    std::sort(q.seconds.begin(), q.seconds.end());
    const size_t n = q.seconds.size();
    const double median = n % 2 ? q.seconds[n / 2] : (q.seconds[n / 2 - 1] + q.seconds[n / 2]) / 2;
    nlohmann::json out = {{"query", q.name}, {"patients", patients}};
    out.update(q.info);
    out["runs"] = n;
    out["latency_ms"] = {
        {"min", q.seconds.front() * 1000}, {"median", median * 1000}, {"max", q.seconds.back() * 1000}};
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}

}  // namespace

std::function<std::optional<int>()> AddResearchCommands(CLI::App& app) {
  auto init_o = std::make_shared<InitOpts>();
  auto load_o = std::make_shared<LoadOpts>();
  auto query_o = std::make_shared<QueryOpts>();
  auto* init = app.add_subcommand("research-init", "Create a node folder for the research aggregate benchmark");
  init->add_option("--dir", init_o->dir)->required();
  init->add_option("--patients", init_o->patients, "Patients (genesis actors, one watch each)")
      ->check(CLI::Range(1, 100000));
  init->add_option("--interval-ms", init_o->interval_ms, "Block interval of the node");
  init->add_option("--log-level", init_o->log_level, "The node's log level");
  auto* load = app.add_subcommand("research-load", "Register watches, the study and consents; send the readings");
  load->add_option("--dir", load_o->dir, "The folder of research-init")->required();
  load->add_option("--node", load_o->node, "API URL")->required();
  load->add_option("--days", load_o->days, "Whole UTC days of readings, ending yesterday")->check(CLI::Range(1, 366));
  load->add_option("--conns", load_o->conns, "Keep-alive connections sending batches")->check(CLI::Range(1, 256));
  auto* query = app.add_subcommand("research-query", "Time aggregate queries and an export page; check the answers");
  query->add_option("--dir", query_o->dir, "The folder of research-load")->required();
  query->add_option("--node", query_o->node, "API URL")->required();
  query->add_option("--runs", query_o->runs, "Requests of each kind")->check(CLI::Range(1, 10000));
  return [init_o, load_o, query_o, init, load, query]() -> std::optional<int> {
    if (init->parsed()) return ResearchInit(*init_o);
    if (load->parsed()) return ResearchLoad(*load_o);
    if (query->parsed()) return ResearchQuery(*query_o);
    return std::nullopt;
  };
}

}  // namespace cc::bench

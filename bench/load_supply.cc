// The supply-chain benchmark (bench/supply.sh; docs/benchmarks.md, "Supply:
// pack verification and commissioning"): a node whose genesis gives a
// manufacturer a GS1 company prefix, commissioning of many packs in
// transactions of up to supply::kMaxPacksPerTx, and pack verification over
// HTTP on keep-alive connections, every verdict checked.
//
//   carechain_load supply-init --dir D
//   carechain node --config D/node.toml &
//   carechain_load supply-commission --dir D --node URL [--packs 1000000]
//   carechain_load supply-verify --dir D --node URL [--path signed|public|packs]
//                                [--conns 4] [--seconds 20]
//
// The layout of the packs is a function of the numbers in D/supply.json
// (init) and D/commissioned.json (commission), so that verify knows each
// pack's verdict: transaction t commissions packs [t·per_tx, (t+1)·per_tx)
// of product t mod products, batch "L<t>"; of transaction 0 the first
// `dispensed` packs are moved to the pharmacy and dispensed, transaction 1's
// batch is recalled, transaction 2's batch was commissioned already expired.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"
#include "codec/canonical_json.h"
#include "codec/varint.h"
#include "crypto/keyfile.h"
#include "ledger/transaction.h"
#include "load.h"
#include "util/env.h"

namespace cc::bench {
namespace {

constexpr const char* kMfrOrg = "bench-mfr";
constexpr const char* kPharmacyOrg = "bench-pharmacy";
// Transactions of the layout with a special verdict (see the file comment).
constexpr uint64_t kDispensedTx = 0, kRecalledTx = 1, kExpiredTx = 2, kSpecialTxs = 3;

// Verdicts in the order of their index in the counters.
const std::vector<std::string_view> kVerdicts = {supply::kAuthentic,      supply::kDispensed,
                                                 supply::kRecalled,       supply::kExpired,
                                                 supply::kUnknownProduct, supply::kUnknownSerial};
enum Verdict : uint8_t {
  kAuthentic,
  kDispensed,
  kRecalled,
  kExpired,
  kUnknownProduct,
  kUnknownSerial
};

// ---- the layout ----

struct Layout {
  std::string chain_id;
  std::string prefix;     // GS1 company prefix of bench-mfr
  uint64_t products = 0;  // GTINs used
  int manufacturers = 0, pharmacists = 0;
  // After commissioning:
  uint64_t packs = 0, per_tx = 0, dispensed = 0;
  std::string expiry, expired_expiry;  // YYMMDD

  uint64_t txs() const { return (packs + per_tx - 1) / per_tx; }
  // GTIN-14 of product p: indicator 0, the prefix, the item reference, the check digit.
  std::string Gtin(uint64_t p) const {
    const size_t ref_digits = 12 - prefix.size();
    char ref[16];
    std::snprintf(ref, sizeof ref, "%0*llu", static_cast<int>(ref_digits),
                  static_cast<unsigned long long>(p));
    std::string g = "0" + prefix + ref;
    return g + supply::GtinCheckDigit(g);
  }
  uint64_t MaxProducts() const {
    uint64_t n = 1;
    for (size_t i = prefix.size(); i < 12; ++i) n *= 10;
    return n;
  }
  static std::string Batch(uint64_t tx) {
    char b[24];
    std::snprintf(b, sizeof b, "L%06llu", static_cast<unsigned long long>(tx));
    return b;
  }
  // Serial of pack i: a bijection of i written in 13 base-36 digits (upper
  // case), so serials are unique and look random, as the FMD asks.
  static std::string Serial(uint64_t i) {
    uint64_t x = i + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    std::string s(13, '0');
    for (int k = 12; k >= 0; --k, x /= 36) s[k] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[x % 36];
    return s;
  }
  supply::PackCode Code(uint64_t i) const {
    const uint64_t t = i / per_tx;
    return {Gtin(t % products), Serial(i), Batch(t), t == kExpiredTx ? expired_expiry : expiry};
  }
  Verdict Expected(uint64_t i) const {
    const uint64_t t = i / per_tx;
    if (t == kDispensedTx && i < dispensed) return kDispensed;
    if (t == kRecalledTx) return kRecalled;
    if (t == kExpiredTx) return kExpired;
    return kAuthentic;
  }
};

Result<Layout> ReadLayout(const std::string& dir, bool commissioned) {
  Layout l;
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/supply.json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Invalid(dir + "/supply.json is not JSON: run supply-init");
  l.chain_id = j["chain_id"];
  l.prefix = j["prefix"];
  l.products = j["products"];
  l.manufacturers = j["manufacturers"];
  l.pharmacists = j["pharmacists"];
  if (!commissioned) return l;
  auto c = ReadFile(dir + "/commissioned.json");
  if (!c.ok()) return Status::NotFound(dir + "/commissioned.json: run supply-commission first");
  j = nlohmann::json::parse(*c, nullptr, false);
  if (!j.is_object()) return Status::Invalid(dir + "/commissioned.json is not JSON");
  l.packs = j["packs"];
  l.per_tx = j["per_tx"];
  l.dispensed = j["dispensed"];
  l.expiry = j["expiry"];
  l.expired_expiry = j["expired_expiry"];
  return l;
}

// YYMMDD of the day `days` after today (negative: before).
std::string ExpiryIn(int days) {
  using namespace std::chrono;
  const sys_days today =
      floor<std::chrono::days>(system_clock::time_point(milliseconds(Clock::System()->NowMs())));
  const year_month_day d{today + std::chrono::days(days)};
  char s[8];
  std::snprintf(s, sizeof s, "%02d%02u%02u", static_cast<int>(d.year()) % 100,
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return s;
}

// ---- HTTP ----

// A signed client of one key on one keep-alive connection.
class Api {
 public:
  Api(const std::string& url, SecretKey key) : c_(url), key_(std::move(key)), authority_(Authority(url)) {
    c_.set_keep_alive(true);
    c_.set_tcp_nodelay(true);
    c_.set_read_timeout(60, 0);
  }
  // The JSON reply of a GET; an error if it is not 200.
  Result<nlohmann::json> Get(const std::string& target) {
    auto r = c_.Get(target, Signed(key_, "GET", authority_, target));
    return Json(target, r, 200);
  }
  // Admits `txs` with POST /v1/transactions/batch; an error unless all were.
  Status PostBatch(const std::vector<TxPtr>& txs) {
    std::string body;
    for (const auto& tx : txs)
      codec::AppendVarint(&body, tx->encoded().size()), body += tx->encoded();
    const std::string target = "/v1/transactions/batch";
    auto r = c_.Post(target, Signed(key_, "POST", authority_, target, body), body, "application/octet-stream");
    CC_ASSIGN_OR_RETURN(auto j, Json(target, r, 202));
    if (j.value("accepted", size_t{0}) != txs.size())
      return Status::Invalid("batch of " + std::to_string(txs.size()) +
                             " not all admitted: " + j.dump().substr(0, 400));
    return Status::Ok();
  }
  // Signs module.action with this key and `nonce`, submits it with
  // ?wait=commit and checks that it committed with code ok.
  Status Commit(const std::string& chain_id, uint64_t nonce, const std::string& module,
                const std::string& action, const nlohmann::json& payload) {
    TxBody b{chain_id, key_.public_key(), nonce, module, action, ""};
    CC_ASSIGN_OR_RETURN(b.payload, codec::ToCanonicalJson(payload));
    TxPtr tx = Transaction::Sign(std::move(b), key_);
    const std::string target = "/v1/transactions?wait=commit";
    auto r = c_.Post(target, Signed(key_, "POST", authority_, target, tx->encoded()), tx->encoded(),
                     "application/octet-stream");
    CC_ASSIGN_OR_RETURN(auto j, Json(target, r, 200));
    if (j.value("status", "") != "committed" || j["result"]["code"] != "ok")
      return Status::Invalid(module + "." + action +
                             " not committed ok: " + j.dump().substr(0, 400));
    return Status::Ok();
  }
  Result<uint64_t> NextNonce() {
    CC_ASSIGN_OR_RETURN(auto j, Get("/v1/actors/" + key_.public_key().hex() + "/nonce"));
    return j["next_nonce"].get<uint64_t>();
  }
  // Waits until transaction `id` is committed and checks its result is ok.
  Status WaitOk(const TxId& id, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = Clk::now() + timeout;
    for (;;) {
      auto r = c_.Get("/v1/transactions/" + id.hex(),
                      Signed(key_, "GET", authority_, "/v1/transactions/" + id.hex()));
      if (r && r->status == 200) {
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (j.is_object() && j.value("status", "") == "committed") {
          if (j["result"]["code"] != "ok")
            return Status::Invalid("transaction " + id.hex() + ": " + j["result"].dump());
          return Status::Ok();
        }
      } else if (!r || r->status != 404) {
        return Status::Unavailable("transaction " + id.hex() + ": " +
                                   (r ? r->body : httplib::to_string(r.error())));
      }
      if (Clk::now() > deadline)
        return Status::Unavailable("transaction " + id.hex() + " not committed in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const SecretKey& key() const { return key_; }

 private:
  // The reply's JSON if its status is `want` (for 200 also 202: a ?wait=commit
  // that ended before the commit, which the caller sees in "status").
  static Result<nlohmann::json> Json(const std::string& target, const httplib::Result& r,
                                     int want) {
    if (!r) return Status::Unavailable(target + ": " + httplib::to_string(r.error()));
    if (r->status != want && !(want == 200 && r->status == 202))
      return Status::Unavailable(target + ": HTTP " + std::to_string(r->status) + " " +
                                 r->body.substr(0, 400));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return Status::Invalid(target + ": reply is not JSON");
    return j;
  }

  httplib::Client c_;
  SecretKey key_;
  std::string authority_;
};

TxPtr SignTx(const Layout& l, const SecretKey& key, uint64_t nonce, const std::string& action,
             const nlohmann::json& payload) {
  TxBody b{l.chain_id, key.public_key(),
           nonce,      std::string(supply::kModule),
           action,     *codec::ToCanonicalJson(payload)};
  return Transaction::Sign(std::move(b), key);
}

// ---- supply-init ----

struct InitOpts {
  std::string dir;
  std::string prefix = "9506001";
  uint64_t products = 100;
  int manufacturers = 8, pharmacists = 64;
  int interval_ms = 10;
  int max_block_txs = 16;  // commission transactions of ~100 KB: ~1.5 MB blocks
  uint64_t max_tx_bytes = 256 << 10;
  int api_threads = 64;
  std::string log_level = "warn";
};

int SupplyInit(const InitOpts& o) {
  crypto::Init();
  if (o.prefix.size() < 6 || o.prefix.size() > 11 || !supply::AllDigits(o.prefix)) {
    return Fail(
        "--prefix: a GS1 company prefix of 6 to 11 digits (one digit is left for the item "
        "reference)");
  }
  Layout l;
  l.prefix = o.prefix;
  if (o.products < kSpecialTxs || o.products >= l.MaxProducts()) {
    return Fail("--products: 3 to " + std::to_string(l.MaxProducts() - 1) +
                " for this prefix (one item reference stays unused)");
  }
  std::filesystem::create_directories(o.dir + "/keys");
  SecretKey node = SecretKey::Generate();
  Status s = WriteKeyFile(o.dir + "/keys/node.key", node, true);
  nlohmann::json actors = nlohmann::json::array();
  for (int i = 0; i < o.manufacturers; ++i)
    actors.push_back({{"key", ActorKey(kSupplyManufacturerKeys + i).public_key().hex()},
                      {"org", kMfrOrg},
                      {"role", "manufacturer"}});
  for (int i = 0; i < o.pharmacists; ++i)
    actors.push_back({{"key", ActorKey(kSupplyPharmacistKeys + i).public_key().hex()},
                      {"org", kPharmacyOrg},
                      {"role", "pharmacist"}});
  const std::string chain_id = "carechain-supply-load";
  nlohmann::json genesis = {
      {"chain_id", chain_id},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", o.max_tx_bytes}, {"max_block_txs", 50000}}},
      {"orgs",
       {{{"id", kMfrOrg},
         {"name", "Supply benchmark manufacturer"},
         {"admins", {ActorKey(kSupplyAdminKey).public_key().hex()}},
         {"nodes", {node.public_key().hex()}},
         {"gs1_prefixes", {o.prefix}}},
        {{"id", kPharmacyOrg},
         {"name", "Supply benchmark pharmacy"},
         {"admins", {ActorKey(kSupplyAdminKey + 1).public_key().hex()}}}}},
      {"actors", actors}};
  if (s.ok()) s = WriteFileAtomic(o.dir + "/genesis.json", genesis.dump(1), 0644, true);
  const std::string toml =
      "[node]\ndata_dir = \"node-data\"\nkey_file = \"keys/node.key\"\ngenesis = \"genesis.json\"\n"
      "[api]\nhost = \"127.0.0.1\"\nport = 0\nthreads = " +
      std::to_string(o.api_threads) +
      "\n"
      // The driver is one address with few keys: no per-key or per-address
      // request rates, room for every connection; the public pack check's
      // limit raised to its maximum (still on: its cost is measured).
      "requests_per_s_per_actor = 0\nrequests_per_s_per_address = 0\n"
      "max_concurrent_requests_per_address = 1024\npack_checks_per_s_per_address = 1000000\n"
      "[ordering]\nbackend = \"solo\"\nmax_block_txs = " +
      std::to_string(o.max_block_txs) + "\nblock_interval_ms = " + std::to_string(o.interval_ms) +
      "\nmempool_capacity = 1000000\n"
      "[log]\nlevel = " +
      TomlString(o.log_level) + "\n[offchain]\nengine = \"none\"\n";
  if (s.ok()) s = WriteFileAtomic(o.dir + "/node.toml", toml, 0644, true);
  nlohmann::json layout = {{"chain_id", chain_id},
                           {"prefix", o.prefix},
                           {"products", o.products},
                           {"manufacturers", o.manufacturers},
                           {"pharmacists", o.pharmacists}};
  if (s.ok()) s = WriteFileAtomic(o.dir + "/supply.json", layout.dump(1), 0644, true);
  std::filesystem::remove(o.dir + "/commissioned.json");
  if (!s.ok()) {
    return Fail(s.ToString());
  }
  std::printf("%s\n", layout.dump().c_str());
  return 0;
}

// ---- supply-commission ----

struct CommissionOpts {
  std::string dir, node;
  uint64_t packs = 1'000'000;
  uint64_t per_tx = supply::kMaxPacksPerTx;
  int conns = 4;     // each with its own manufacturer key
  size_t batch = 4;  // transactions per POST
  uint64_t dispensed = 1000;
  std::string cpu_pids;  // node processes whose CPU use to report
};

int SupplyCommission(const CommissionOpts& o) {
  crypto::Init();
  auto lr = ReadLayout(o.dir, /*commissioned=*/false);
  if (!lr.ok()) return Fail(lr.status().ToString());
  Layout l = *lr;
  l.packs = o.packs;
  l.per_tx = o.per_tx;
  l.dispensed = o.dispensed;
  l.expiry = ExpiryIn(3 * 365);
  l.expired_expiry = ExpiryIn(-60);
  if (o.per_tx < 1 || o.per_tx > supply::kMaxPacksPerTx) return Fail("--per-tx: 1 to 1000");
  if (o.packs < kSpecialTxs * o.per_tx)
    return Fail("--packs: at least 3 transactions' worth (dispensed, recalled and expired packs)");
  if (o.dispensed < 1 || o.dispensed > o.per_tx) return Fail("--dispensed: 1 to --per-tx");
  if (o.conns > l.manufacturers) return Fail("--conns: at most the manufacturers of supply-init");
  const uint64_t ntx = l.txs();

  Api admin(o.node, ActorKey(kSupplyAdminKey));  // bench-mfr's admin: reads the chain
  auto info = admin.Get("/v1/info");
  if (!info.ok()) return Fail(info.status().ToString());
  if ((*info)["chain_id"] != l.chain_id) return Fail(o.node + " serves another chain");
  const uint64_t start_height = (*info)["height"];

  // Pre-sign: transaction t on connection t mod conns, by that connection's manufacturer.
  std::vector<SecretKey> keys;
  std::vector<uint64_t> nonce0;
  for (int c = 0; c < o.conns; ++c) {
    keys.push_back(ActorKey(kSupplyManufacturerKeys + c));
    auto n = Api(o.node, keys.back()).NextNonce();
    if (!n.ok()) return Fail(n.status().ToString());
    nonce0.push_back(*n);
  }
  std::vector<TxPtr> txs(ntx);
  const auto t_sign = Clk::now();
  {
    std::vector<std::thread> pool;
    for (int s = 0; s < 2; ++s) {
      pool.emplace_back([&, s] {
        for (uint64_t t = s; t < ntx; t += 2) {
          nlohmann::json packs = nlohmann::json::array();
          for (uint64_t i = t * o.per_tx; i < std::min(o.packs, (t + 1) * o.per_tx); ++i) {
            const supply::PackCode c = l.Code(i);
            packs.push_back(
                {{"gtin", c.gtin}, {"serial", c.serial}, {"batch", c.batch}, {"expiry", c.expiry}});
          }
          const int c = static_cast<int>(t % o.conns);
          txs[t] = SignTx(l, keys[c], nonce0[c] + t / o.conns, "commission",
                          {{"packs", std::move(packs)}});
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  const double sign_s = std::chrono::duration<double>(Clk::now() - t_sign).count();
  uint64_t bytes = 0;
  std::unordered_map<TxId, uint64_t, DigestHash> index;
  for (uint64_t t = 0; t < ntx; ++t) {
    bytes += txs[t]->encoded().size();
    index.emplace(txs[t]->id(), t);
  }
  std::fprintf(stderr,
               "pre-signed %llu commission transactions (%llu packs, %.0f bytes each) in %.1f s\n",
               static_cast<unsigned long long>(ntx), static_cast<unsigned long long>(o.packs),
               static_cast<double>(bytes) / static_cast<double>(ntx), sign_s);

  std::optional<CpuSampler> cpu;
  std::vector<int> pids;
  for (const auto& p : SplitList(o.cpu_pids)) pids.push_back(std::stoi(p));
  if (!pids.empty()) {
    pids.push_back(0);
    pids.push_back(-1);
    cpu.emplace(pids);
  }

  std::mutex mu;
  std::vector<Clk::time_point> sent_at(ntx), committed_at(ntx);  // GUARDED_BY(mu)
  std::vector<bool> committed(ntx, false);                       // GUARDED_BY(mu)
  uint64_t ncommitted = 0, blocks = 0, block_txs = 0;            // GUARDED_BY(mu)
  std::string send_error;                                        // GUARDED_BY(mu)
  std::atomic<bool> sending_done{false};
  const auto first_send = Clk::now();
  std::vector<std::thread> senders;
  for (int c = 0; c < o.conns; ++c) {
    senders.emplace_back([&, c] {
      Api api(o.node, keys[c]);
      std::vector<uint64_t> mine;
      for (uint64_t t = c; t < ntx; t += o.conns) mine.push_back(t);
      for (size_t k = 0; k < mine.size(); k += o.batch) {
        std::vector<TxPtr> batch;
        for (size_t m = k; m < std::min(mine.size(), k + o.batch); ++m)
          batch.push_back(txs[mine[m]]);
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t m = k; m < std::min(mine.size(), k + o.batch); ++m)
            sent_at[mine[m]] = Clk::now();
        }
        Status s = api.PostBatch(batch);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (send_error.empty())
            send_error = "connection " + std::to_string(c) + ": " + s.ToString();
          return;
        }
      }
    });
  }
  // The follower: long-polls each next block and matches its transactions.
  Clk::time_point last_commit{}, send_end{};
  std::string follow_error;
  std::thread follower([&] {
    httplib::Client client(o.node);
    client.set_read_timeout(30, 0);
    client.set_tcp_nodelay(true);
    auto last_block = Clk::now();
    for (uint64_t h = start_height + 1;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (ncommitted == ntx) return;
        if (!send_error.empty() && sending_done) return;
      }
      const std::string target = "/v1/blocks/" + std::to_string(h) + "?wait_ms=1000";
      auto r = client.Get(target, Signed(admin.key(), "GET", Authority(o.node), target));
      const auto now = Clk::now();
      if (!r || (r->status != 200 && r->status != 404)) {
        follow_error = r ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200)
                         : httplib::to_string(r.error());
        return;
      }
      if (r->status == 404) {
        if (sending_done && now - last_block > std::chrono::seconds(60)) {
          follow_error = "no new block for 60 s after sending ended";
          return;
        }
        continue;
      }
      last_block = now;
      auto j = nlohmann::json::parse(r->body);
      std::lock_guard<std::mutex> lock(mu);
      bool ours = false;
      for (const auto& id : j["tx_ids"]) {
        auto it = index.find(*TxId::FromHex(id.get<std::string>()));
        if (it == index.end() || committed[it->second]) continue;
        committed[it->second] = true;
        committed_at[it->second] = now;
        ncommitted++;
        block_txs++;
        ours = true;
        last_commit = now;
      }
      blocks += ours;
      h++;
    }
  });
  for (auto& t : senders) t.join();
  send_end = Clk::now();
  sending_done = true;
  follower.join();
  if (!send_error.empty()) return Fail("commission: " + send_error);
  if (!follow_error.empty()) return Fail("following the blocks: " + follow_error);
  nlohmann::json cores = cpu ? cpu->Cores(first_send, last_commit) : nlohmann::json::object();
  cpu.reset();

  // Every commission must have succeeded (a committed transaction may carry a refusal).
  const auto t_check = Clk::now();
  std::vector<std::unique_ptr<Api>> readers;
  for (int c = 0; c < o.conns; ++c) readers.push_back(std::make_unique<Api>(o.node, keys[c]));
  for (uint64_t t = 0; t < ntx; ++t) {
    Status s = readers[t % o.conns]->WaitOk(txs[t]->id());
    if (!s.ok()) return Fail("commission " + std::to_string(t) + ": " + s.ToString());
  }
  const double check_s = std::chrono::duration<double>(Clk::now() - t_check).count();

  // The verdicts other than authentic: move transaction 0's first packs to
  // the pharmacy and dispense them, recall transaction 1's batch.
  const auto t_setup = Clk::now();
  Api mfr(o.node, keys[kDispensedTx % o.conns]),
      pharmacist(o.node, ActorKey(kSupplyPharmacistKeys));
  auto mfr_nonce = mfr.NextNonce(), ph_nonce = pharmacist.NextNonce();
  if (!mfr_nonce.ok() || !ph_nonce.ok()) return Fail("nonce query failed");
  nlohmann::json moved = nlohmann::json::array();
  for (uint64_t i = 0; i < o.dispensed; ++i) {
    const supply::PackCode c = l.Code(kDispensedTx * o.per_tx + i);
    moved.push_back({{"gtin", c.gtin}, {"serial", c.serial}});
  }
  const std::string transfer = std::string(31, '0') + "1";
  Status s = mfr.Commit(l.chain_id, (*mfr_nonce)++, "supply", "transfer",
                        {{"transfer", transfer}, {"to", kPharmacyOrg}, {"packs", moved}});
  if (s.ok())
    s = pharmacist.Commit(l.chain_id, (*ph_nonce)++, "supply", "accept", {{"transfer", transfer}});
  std::vector<TxPtr> dispense;
  for (const auto& p : moved)
    dispense.push_back(SignTx(l, pharmacist.key(), (*ph_nonce)++, "dispense", p));
  for (size_t k = 0; s.ok() && k < dispense.size(); k += 500)
    s = pharmacist.PostBatch(
        {dispense.begin() + k, dispense.begin() + std::min(dispense.size(), k + 500)});
  for (size_t k = 0; s.ok() && k < dispense.size(); ++k) s = pharmacist.WaitOk(dispense[k]->id());
  const supply::PackCode recalled = l.Code(kRecalledTx * o.per_tx);
  if (s.ok())
    s = mfr.Commit(
        l.chain_id, (*mfr_nonce)++, "supply", "recall",
        {{"gtin", recalled.gtin}, {"batch", recalled.batch}, {"reason", "benchmark recall"}});
  if (!s.ok()) return Fail("setting up the verdicts: " + s.ToString());
  const double setup_s = std::chrono::duration<double>(Clk::now() - t_setup).count();

  nlohmann::json manifest = {{"packs", l.packs},
                             {"per_tx", l.per_tx},
                             {"dispensed", l.dispensed},
                             {"expiry", l.expiry},
                             {"expired_expiry", l.expired_expiry}};
  s = WriteFileAtomic(o.dir + "/commissioned.json", manifest.dump(1), 0644, true);
  if (!s.ok()) return Fail(s.ToString());

  std::vector<double> latencies;
  for (uint64_t t = 0; t < ntx; ++t)
    latencies.push_back(std::chrono::duration<double>(committed_at[t] - sent_at[t]).count());
  const double secs = std::chrono::duration<double>(last_commit - first_send).count();
  nlohmann::json out = {
      {"packs", o.packs},
      {"txs", ntx},
      {"packs_per_tx", o.per_tx},
      {"bytes_per_tx", static_cast<double>(bytes) / static_cast<double>(ntx)},
      {"conns", o.conns},
      {"batch_txs", o.batch},
      {"presign_seconds", sign_s},
      {"send_seconds", std::chrono::duration<double>(send_end - first_send).count()},
      {"seconds", secs},
      {"packs_per_s", static_cast<double>(o.packs) / secs},
      {"tx_per_s", static_cast<double>(ntx) / secs},
      {"mb_per_s", static_cast<double>(bytes) / secs / 1e6},
      {"latency_ms", LatencyMs(&latencies)},
      {"blocks", blocks},
      {"mean_txs_per_block",
       blocks ? static_cast<double>(block_txs) / static_cast<double>(blocks) : 0},
      {"results_checked_seconds", check_s},
      {"setup",
       {{"dispensed", o.dispensed},
        {"recalled_batch", recalled.batch},
        {"expired_batch", Layout::Batch(kExpiredTx)},
        {"seconds", setup_s}}}};
  if (!cores.empty()) out["cpu_cores"] = cores;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

// ---- supply-verify ----

struct VerifyOpts {
  std::string dir, node;
  std::string path =
      "signed";  // signed: GET /v1/modules/supply/check (a pharmacist);
                 // public: GET /v1/packs/check; packs: GET /v1/modules/supply/packs/<gtin>/<serial>
  std::string sign = "ahead";  // signed paths: ahead (pre-signed before the clock starts) or inline
  double seconds = 20;
  int conns = 4;
  double verify_seconds = 2;
  double presign_rate = 0;  // requests/s to pre-sign for; 0: the 2-thread verify rate measured
  // The mix: shares of requests per verdict (the rest: authentic).
  double unknown_serial = 0.05, unknown_product = 0.01, dispensed = 0.02, recalled = 0.01,
         expired = 0.01;
  uint64_t seed = 1;
  std::string cpu_pids;
};

struct Probe {
  std::string target;
  Verdict expected;
};

// Makes random probes of the layout with the mix's shares; the code is
// written in the three GS1 forms in turn.
class ProbeMaker {
 public:
  ProbeMaker(const Layout& l, const VerifyOpts& o, uint64_t seed) : l_(l), o_(o), rng_(seed) {}
  Probe Next() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    auto pick = [&](uint64_t lo, uint64_t hi) {
      return std::uniform_int_distribution<uint64_t>(lo, hi - 1)(rng_);
    };
    supply::PackCode code;
    Verdict v;
    if ((u -= o_.unknown_serial) < 0) {
      // A real product and batch, a serial never commissioned (lower case: commissioned serials
      // have none).
      code = l_.Code(pick(kSpecialTxs * l_.per_tx, l_.packs));
      code.serial = "x" + std::to_string(rng_() >> 16);  // at most 16 characters
      v = kUnknownSerial;
    } else if ((u -= o_.unknown_product) < 0) {
      code = l_.Code(pick(kSpecialTxs * l_.per_tx, l_.packs));
      code.gtin = l_.Gtin(pick(l_.products, l_.MaxProducts()));
      v = kUnknownProduct;
    } else {
      uint64_t i;
      if ((u -= o_.dispensed) < 0) {
        i = pick(kDispensedTx * l_.per_tx, kDispensedTx * l_.per_tx + l_.dispensed);
      } else if ((u -= o_.recalled) < 0) {
        i = pick(kRecalledTx * l_.per_tx, (kRecalledTx + 1) * l_.per_tx);
      } else if ((u -= o_.expired) < 0) {
        i = pick(kExpiredTx * l_.per_tx, (kExpiredTx + 1) * l_.per_tx);
      } else {
        i = pick(kSpecialTxs * l_.per_tx, l_.packs);
      }
      code = l_.Code(i);
      v = l_.Expected(i);
    }
    if (o_.path == "packs") {
      // Unknown products and serials: 404.
      return {"/v1/modules/supply/packs/" + code.gtin + "/" + supply::PercentEncode(code.serial),
              v};
    }
    const int form = static_cast<int>(n_++ % 3);
    const std::string text = form == 0   ? supply::ToElementString(code)
                             : form == 1 ? supply::ToHumanReadable(code)
                                         : supply::ToDigitalLink(code);
    const std::string base =
        o_.path == "public" ? "/v1/packs/check?code=" : "/v1/modules/supply/check?code=";
    return {base + supply::PercentEncode(text), v};
  }

 private:
  const Layout& l_;
  const VerifyOpts& o_;
  std::mt19937_64 rng_;
  uint64_t n_ = 0;
};

// The verdict in a reply body ({"verdict":"…",…}), "" if none.
std::string_view VerdictOf(std::string_view body) {
  constexpr std::string_view kKey = "\"verdict\":\"";
  const size_t at = body.find(kKey);
  if (at == std::string_view::npos) return {};
  const size_t start = at + kKey.size(), end = body.find('"', start);
  return end == std::string_view::npos ? std::string_view() : body.substr(start, end - start);
}

int SupplyVerify(const VerifyOpts& o) {
  crypto::Init();
  auto lr = ReadLayout(o.dir, /*commissioned=*/true);
  if (!lr.ok()) return Fail(lr.status().ToString());
  const Layout l = *lr;
  if (o.path != "signed" && o.path != "public" && o.path != "packs")
    return Fail("--path: signed, public or packs");
  const bool sign = o.path != "public";
  if (sign && o.sign != "ahead" && o.sign != "inline") return Fail("--sign: ahead or inline");
  if (sign && o.conns > l.pharmacists)
    return Fail("--conns: at most the pharmacists of supply-init");
  if (o.unknown_serial + o.unknown_product + o.dispensed + o.recalled + o.expired > 1)
    return Fail("the mix's shares add up to more than 1");
  {
    Api probe(o.node, ActorKey(kSupplyAdminKey));
    auto info = probe.Get("/v1/info");
    if (!info.ok()) return Fail(info.status().ToString());
    if ((*info)["chain_id"] != l.chain_id) return Fail(o.node + " serves another chain");
  }
  double v1 = 0, v2 = 0;
  if (o.verify_seconds > 0) {
    v1 = VerifyRate(1, o.verify_seconds);
    v2 = VerifyRate(2, o.verify_seconds);
  }
  auto key_of = [&](int c) { return ActorKey(kSupplyPharmacistKeys + c % l.pharmacists); };

  // Pre-signed requests, taken in order by all connections: the server can
  // verify no more per second than the machine's 2-thread verify rate, so
  // that many per second of the run are enough.
  struct Presigned {
    std::string target;
    httplib::Headers headers;
    Verdict expected;
  };
  std::vector<Presigned> pool;
  double presign_s = 0;
  const bool ahead = sign && o.sign == "ahead";
  if (ahead) {
    const double rate = o.presign_rate > 0 ? o.presign_rate : v2;
    if (rate <= 0) return Fail("--sign ahead needs --presign-rate or --verify-seconds > 0");
    pool.resize(static_cast<size_t>(rate * o.seconds) + 1);
    const auto t0 = Clk::now();
    std::vector<std::thread> signers;
    for (int s = 0; s < 2; ++s) {
      signers.emplace_back([&, s] {
        ProbeMaker maker(l, o, o.seed * 1000003 + 7919 * s);
        std::vector<SecretKey> keys;
        for (int c = 0; c < o.conns; ++c) keys.push_back(key_of(c));
        for (size_t i = s; i < pool.size(); i += 2) {
          Probe p = maker.Next();
          pool[i].headers = Signed(keys[i % keys.size()], "GET", Authority(o.node), p.target);
          pool[i].target = std::move(p.target);
          pool[i].expected = p.expected;
        }
      });
    }
    for (auto& t : signers) t.join();
    presign_s = std::chrono::duration<double>(Clk::now() - t0).count();
    std::fprintf(stderr, "pre-signed %zu requests in %.1f s\n", pool.size(), presign_s);
  }

  std::optional<CpuSampler> cpu;
  std::vector<int> pids;
  for (const auto& p : SplitList(o.cpu_pids)) pids.push_back(std::stoi(p));
  pids.push_back(0);
  pids.push_back(-1);
  cpu.emplace(pids);

  std::atomic<size_t> next{0};
  std::atomic<bool> exhausted{false};
  std::vector<std::vector<double>> lat(o.conns);
  std::vector<std::map<std::string, uint64_t>> errors(o.conns);
  std::vector<std::array<uint64_t, 6>> asked(o.conns), mismatched(o.conns);
  std::vector<std::string> first_mismatch(o.conns);
  std::vector<Clk::time_point> finished(o.conns);
  // Each connection is opened (GET /healthz) before the clock starts: the
  // figures are of kept-alive connections, as a pharmacy's system holds one.
  std::latch ready(o.conns), go(1);
  std::vector<double> connect_s(o.conns);
  Clk::time_point start, end;
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < o.conns; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client client(o.node);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        client.set_read_timeout(30, 0);
        const auto t_connect = Clk::now();
        auto warm = client.Get("/healthz");
        connect_s[c] = std::chrono::duration<double>(Clk::now() - t_connect).count();
        if (!warm || warm->status != 200) errors[c]["warm-up /healthz failed"]++;
        ready.count_down();
        go.wait();
        ProbeMaker maker(l, o, o.seed * 1000003 + 104729 + c);
        const SecretKey key = key_of(c);
        asked[c].fill(0);
        mismatched[c].fill(0);
        lat[c].reserve(1 << 20);
        while (Clk::now() < end) {
          std::string target;
          httplib::Headers headers;
          Verdict expected;
          if (ahead) {
            const size_t i = next++;
            if (i >= pool.size()) {
              exhausted = true;
              break;
            }
            target = std::move(pool[i].target);
            headers = std::move(pool[i].headers);
            expected = pool[i].expected;
          } else {
            Probe p = maker.Next();
            if (sign)
              headers = Signed(key, "GET", Authority(o.node), p.target);  // the client's cost, outside the latency
            target = std::move(p.target);
            expected = p.expected;
          }
          const auto t = Clk::now();
          auto r = client.Get(target, headers);
          const double d = std::chrono::duration<double>(Clk::now() - t).count();
          if (!r) {
            errors[c][httplib::to_string(r.error())]++;
            continue;
          }
          // The packs path answers 404 for packs the chain does not know.
          const bool unknown = expected == kUnknownSerial || expected == kUnknownProduct;
          const bool not_found_ok = o.path == "packs" && unknown && r->status == 404;
          if (r->status != 200 && !not_found_ok) {
            errors[c]["HTTP " + std::to_string(r->status)]++;
            if (errors[c].size() == 1 && errors[c].begin()->second == 1)
              std::fprintf(stderr, "HTTP %d: %s\n", r->status, r->body.substr(0, 200).c_str());
            continue;
          }
          asked[c][expected]++;
          std::string got;
          if (o.path == "packs" && !not_found_ok) {
            // A pack's history may hold verdicts too: read the record's own.
            auto j = nlohmann::json::parse(r->body, nullptr, false);
            if (j.is_object()) got = j.value("verdict", "");
          } else if (!not_found_ok) {
            got = VerdictOf(r->body);
          }
          if (!not_found_ok && got != kVerdicts[expected]) {
            mismatched[c][expected]++;
            if (first_mismatch[c].empty())
              first_mismatch[c] = target + " expected " + std::string(kVerdicts[expected]) +
                                  ", got " + r->body.substr(0, 200);
          }
          lat[c].push_back(d);
        }
        finished[c] = Clk::now();
      });
    }
    ready.wait();
    start = Clk::now();
    end =
        start + std::chrono::duration_cast<Clk::duration>(std::chrono::duration<double>(o.seconds));
    go.count_down();
    for (auto& t : threads) t.join();
  }
  const auto stop = *std::max_element(finished.begin(), finished.end());
  const double secs = std::chrono::duration<double>(stop - start).count();
  nlohmann::json cores = cpu->Cores(start, stop);
  cpu.reset();

  std::vector<double> all;
  nlohmann::json errs = nlohmann::json::object(), verdicts = nlohmann::json::object(),
                 bad = nlohmann::json::object();
  uint64_t nerr = 0, nbad = 0;
  for (int c = 0; c < o.conns; ++c) {
    all.insert(all.end(), lat[c].begin(), lat[c].end());
    for (const auto& [k, n] : errors[c]) {
      errs[k] = errs.value(k, uint64_t{0}) + n;
      nerr += n;
    }
    for (size_t v = 0; v < kVerdicts.size(); ++v) {
      const std::string name(kVerdicts[v]);
      verdicts[name] = verdicts.value(name, uint64_t{0}) + asked[c][v];
      if (mismatched[c][v]) bad[name] = bad.value(name, uint64_t{0}) + mismatched[c][v];
      nbad += mismatched[c][v];
    }
    if (!first_mismatch[c].empty())
      std::fprintf(stderr, "mismatch: %s\n", first_mismatch[c].c_str());
  }
  const double rate = static_cast<double>(all.size()) / secs;
  nlohmann::json out = {
      {"path", o.path},
      {"target", o.path == "public"  ? "/v1/packs/check"
                 : o.path == "packs" ? "/v1/modules/supply/packs/{gtin}/{serial}"
                                     : "/v1/modules/supply/check"},
      {"signed", sign},
      {"conns", o.conns},
      {"seconds", secs},
      {"packs_on_chain", l.packs},
      {"answered", all.size()},
      {"verifications_per_s", rate},
      {"latency_ms", LatencyMs(&all)},
      {"verdicts", verdicts},
      {"mismatches", nbad},
      {"mismatches_by_expected", bad},
      {"errors", nerr},
      {"error_kinds", errs},
      {"cpu_cores", cores},
      {"connect_ms_max", *std::max_element(connect_s.begin(), connect_s.end()) * 1000}};
  if (sign) {
    out["sign"] = o.sign;
    if (ahead) {
      out["presigned"] = pool.size();
      out["presign_seconds"] = presign_s;
      out["presigned_exhausted"] = exhausted.load();
    }
  }
  if (o.verify_seconds > 0) {
    out["verify_per_s"] = {{"threads_1", v1}, {"threads_2", v2}};
    out["ratio_to_2_thread_verify"] = rate / v2;
  }
  if (const auto node_pids = SplitList(o.cpu_pids);
      !node_pids.empty() && cores.contains(node_pids[0]) && rate > 0)
    out["node_cpu_us_per_verification"] = cores[node_pids[0]].get<double>() * 1e6 / rate;
  std::printf("%s\n", out.dump(2).c_str());
  if (nbad > 0) Fail(std::to_string(nbad) + " verdicts differ from the expected ones");
  if (nerr > 0) Fail(std::to_string(nerr) + " requests failed");
  return nbad == 0 && nerr == 0 && !all.empty() ? 0 : 1;
}

}  // namespace

std::function<std::optional<int>()> AddSupplyCommands(CLI::App& app) {
  struct Opts {
    InitOpts init;
    CommissionOpts commission;
    VerifyOpts verify;
  };
  auto o = std::make_shared<Opts>();
  auto* init = app.add_subcommand("supply-init", "Create a node folder for the supply benchmark");
  init->add_option("--dir", o->init.dir)->required();
  init->add_option("--prefix", o->init.prefix,
                   "bench-mfr's GS1 company prefix (genesis orgs[].gs1_prefixes)");
  init->add_option("--products", o->init.products, "GTINs the packs are spread over");
  init->add_option("--manufacturers", o->init.manufacturers,
                   "Manufacturer keys (one per commissioning connection)")
      ->check(CLI::Range(1, 1000));
  init->add_option("--pharmacists", o->init.pharmacists,
                   "Pharmacist keys (one per verification connection)")
      ->check(CLI::Range(1, 1000));
  init->add_option("--interval-ms", o->init.interval_ms, "Block interval of the node");
  init->add_option("--max-block-txs", o->init.max_block_txs,
                   "Block size of the node, in transactions");
  init->add_option("--max-tx-bytes", o->init.max_tx_bytes, "Genesis params.max_tx_bytes")
      ->check(CLI::Range(512, 1 << 20));
  init->add_option("--api-threads", o->init.api_threads, "api.threads of the node")
      ->check(CLI::Range(1, 1024));
  init->add_option("--log-level", o->init.log_level, "The node's log level");

  auto* com = app.add_subcommand("supply-commission",
                                 "Commission packs in batches and report packs/s committed");
  com->add_option("--dir", o->commission.dir, "The folder of supply-init")->required();
  com->add_option("--node", o->commission.node, "API URL")->required();
  com->add_option("--packs", o->commission.packs)
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  com->add_option("--per-tx", o->commission.per_tx,
                  "Packs per commission transaction (at most 1000)");
  com->add_option("--conns", o->commission.conns, "Connections, each with its own manufacturer key")
      ->check(CLI::Range(1, 256));
  com->add_option("--batch", o->commission.batch, "Transactions per POST /v1/transactions/batch")
      ->check(CLI::Range(1, 1000));
  com->add_option("--dispensed", o->commission.dispensed,
                  "Packs of transaction 0 to move to the pharmacy and dispense");
  com->add_option("--cpu-pids", o->commission.cpu_pids,
                  "Process ids whose CPU use to report, comma-separated");

  auto* ver = app.add_subcommand(
      "supply-verify", "Verify packs over HTTP on keep-alive connections, verdicts checked");
  ver->add_option("--dir", o->verify.dir, "The folder of supply-init and supply-commission")
      ->required();
  ver->add_option("--node", o->verify.node, "API URL")->required();
  ver->add_option(
         "--path", o->verify.path,
         "signed: GET /v1/modules/supply/check as a pharmacist (the FMD path); public: GET "
         "/v1/packs/check, unsigned; packs: GET /v1/modules/supply/packs/<gtin>/<serial>")
      ->check(CLI::IsMember({"signed", "public", "packs"}));
  ver->add_option("--sign", o->verify.sign,
                  "Signed paths: ahead (pre-signed before the clock starts) or inline")
      ->check(CLI::IsMember({"ahead", "inline"}));
  ver->add_option("--seconds", o->verify.seconds);
  ver->add_option("--conns", o->verify.conns)->check(CLI::Range(1, 1000));
  ver->add_option("--verify-seconds", o->verify.verify_seconds,
                  "Seconds per Ed25519 verify measurement (0 = skip)");
  ver->add_option("--presign-rate", o->verify.presign_rate,
                  "With --sign ahead: requests per second of the run to pre-sign (0: the 2-thread "
                  "verify rate)");
  ver->add_option("--unknown-serial", o->verify.unknown_serial,
                  "Share of codes with a serial never commissioned");
  ver->add_option("--unknown-product", o->verify.unknown_product,
                  "Share of codes with a GTIN never commissioned");
  ver->add_option("--dispensed", o->verify.dispensed, "Share of dispensed packs");
  ver->add_option("--recalled", o->verify.recalled, "Share of packs of the recalled batch");
  ver->add_option("--expired", o->verify.expired, "Share of expired packs");
  ver->add_option("--seed", o->verify.seed, "Seed of the random choice of packs");
  ver->add_option("--cpu-pids", o->verify.cpu_pids,
                  "Process ids whose CPU use to report, comma-separated (the first: the node)");
  return [o, init, com, ver]() -> std::optional<int> {
    if (init->parsed()) return SupplyInit(o->init);
    if (com->parsed()) return SupplyCommission(o->commission);
    if (ver->parsed()) return SupplyVerify(o->verify);
    return std::nullopt;
  };
}

}  // namespace cc::bench

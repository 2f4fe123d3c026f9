// carechain_consent_bench: the consent decision (records::Decide) over a
// state of realistic size: 100,000 patients, 300,000 records and 1,000,000
// consents. Target (records issue): >= 200,000 decisions/s on the benchmark
// machine. docs/benchmarks.md, "Records and consent", has the results.
//
//   build-bench/bench/carechain_consent_bench                 # table on stdout
//   build-bench/bench/carechain_consent_bench --benchmark_filter=MemState
//
// The state is made once per process, with the records module's own key and
// value encodings (RecordKey, GrantPrefix, EncodeGrant, ...; record pointers
// and consents as records.cc writes them), and held twice: in a MemState and
// in a ChainStore (RocksDB in a temp folder, loaded through CommitBlock with
// empty blocks of 50,000 writes each, then closed and re-opened so that reads
// go to table files, as on a node after a restart). Build times and the
// query check go to stderr.
//
// Benchmarks, each on Index (records::ConsentIndex loaded from the RocksDB
// store: what a node's gatekeeper decides on), MemState and RocksDB (the
// state read directly), 1 and 2 threads, wall-clock time:
//   BM_ConsentDecision/<store>/<kind>  items_per_second = decisions/s (over all
//                                      threads); allowed = the share allowed
//     kind: actor_grant  allowed by a grant naming the reader's key
//           org_grant    allowed by a grant naming the reader's organisation
//           no_consent   denied: no grant of the patient names reader or org
//           mismatch     denied: a grant names the reader (or its org), but for another
//                        purpose, expired, not yet valid or revoked
//           mix          the four kinds interleaved, a quarter each
//   BM_ConsentPart/[<store>/]<part>    the pieces of one decision (the profile)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "apps/identity/identity.h"
#include "apps/records/consent.h"
#include "apps/records/consent_index.h"
#include "apps/records/keys.h"
#include "ledger/block.h"
#include "ledger/store.h"

namespace cc {
namespace {

using Clk = std::chrono::steady_clock;

constexpr uint64_t kNow = 1767225600000;  // 2026-01-01T00:00:00Z: "now" of every decision
constexpr uint64_t kDay = 24ull * 3600 * 1000;
constexpr int kPatients = 100000;
constexpr int kRecordsPerPatient = 3;
constexpr int kConsentsPerPatient = 10;
constexpr int kOrgs = 200;
constexpr int kGrantees =
    20000;  // providers, researchers, ... of the orgs (actor i is in org i % kOrgs)
constexpr size_t kQueriesPerKind = 50000;
constexpr size_t kWritesPerBlock = 50000;

const std::vector<std::string> kCategories = {"imaging", "lab",     "medication",   "notes",
                                              "vitals",  "allergy", "immunization", "procedure"};
const std::vector<std::string> kResourceTypes = {
    "DiagnosticReport", "Observation",        "MedicationStatement", "DocumentReference",
    "Observation",      "AllergyIntolerance", "Immunization",        "Procedure"};
const std::vector<std::string> kPurposes = {"treatment", "research", "payment", "public_health"};
const std::vector<std::string> kOrgKinds = {"hospital", "praxis",   "labor",
                                            "apotheke", "institut", "kasse"};
const std::vector<std::string> kOrgRoles = {"provider",   "provider",   "provider",
                                            "pharmacist", "researcher", "auditor"};

enum Kind { kActorGrant, kOrgGrant, kNoConsent, kMismatch, kMix, kKinds };
const char* const kKindNames[kKinds] = {"actor_grant", "org_grant", "no_consent", "mismatch",
                                        "mix"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t Below(uint64_t n) { return g_() % n; }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g_) < p; }
  std::string Hex(size_t bytes) {
    Bytes b(bytes);
    for (auto& x : b) x = static_cast<uint8_t>(g_());
    return ToHex(b);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  std::mt19937_64 g_;
};

struct RecordInfo {
  std::string rid;
  std::string category;
};

struct GrantInfo {
  std::string cid;
  bool to_org = false;
  int grantee = 0;  // actor index, or org index if to_org
  records::Grant g;
  bool active() const { return !g.revoked && g.from_ms <= kNow && kNow < g.until_ms; }
};

struct Patient {
  std::string hex;
  std::vector<RecordInfo> records;
  std::vector<GrantInfo> grants;
};

struct Query {
  PublicKey reader;
  std::string org;
  std::string record;
  std::string purpose;
  records::AccessRequest Request() const { return {reader, org, record, purpose, kNow}; }
};

double Since(Clk::time_point t0) { return std::chrono::duration<double>(Clk::now() - t0).count(); }

// The generated state, its MemState and the queries (checked against it).
struct Data {
  std::vector<std::string> orgs;
  std::vector<PublicKey> grantees;
  std::vector<Patient> patients;
  WriteSet writes;
  MemState mem;
  std::vector<Query> queries[kKinds];
  double generate_s = 0, mem_s = 0, queries_s = 0;

  Data() {
    auto t0 = Clk::now();
    Generate();
    generate_s = Since(t0);
    t0 = Clk::now();
    mem.Apply(writes);
    mem_s = Since(t0);
    t0 = Clk::now();
    MakeQueries();
    queries_s = Since(t0);
    std::fprintf(
        stderr,
        "consent fixture: %d patients, %d records, %d consents, %zu state entries; generated in "
        "%.1f s, MemState filled in %.1f s, %zu queries per kind made and checked in %.1f s\n",
        kPatients, kPatients * kRecordsPerPatient, kPatients * kConsentsPerPatient, writes.size(),
        generate_s, mem_s, kQueriesPerKind, queries_s);
  }

  void PutJson(const std::string& key, const nlohmann::json& j) { writes[key] = j.dump(); }

  void Generate() {
    Rng rng(/*seed=*/20261125);
    const std::string node_hex = rng.Hex(32);
    for (int i = 0; i < kOrgs; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "%s-%03d", kOrgKinds[i % kOrgKinds.size()].c_str(), i);
      orgs.emplace_back(id);
    }
    auto actor = [&](const PublicKey& k, const std::string& org, const std::string& role) {
      PutJson(identity::ActorKey(k), {{"org", org},
                                      {"registered_at", 1 + rng.Below(100000)},
                                      {"registered_by", node_hex},
                                      {"role", role},
                                      {"status", "active"}});
    };
    for (int i = 0; i < kGrantees; ++i) {
      grantees.push_back(*PublicKey::FromHex(rng.Hex(32)));
      actor(grantees.back(), orgs[i % kOrgs], kOrgRoles[(i % kOrgs) % kOrgRoles.size()]);
    }
    patients.resize(kPatients);
    for (auto& p : patients) {
      p.hex = rng.Hex(32);
      const std::string& home =
          orgs[kOrgKinds.size() * rng.Below(kOrgs / kOrgKinds.size())];  // a hospital
      actor(*PublicKey::FromHex(p.hex), home, "patient");
      for (int r = 0; r < kRecordsPerPatient; ++r) {
        const size_t c = rng.Below(kCategories.size());
        p.records.push_back({rng.Hex(16), kCategories[c]});
        // As RecordsModule::Publish writes it.
        PutJson(records::RecordKey(p.records.back().rid),
                {{"patient", p.hex},
                 {"custodian", home},
                 {"resource_type", kResourceTypes[c]},
                 {"category", kCategories[c]},
                 {"content_hash", rng.Hex(32)},
                 {"published_at", kNow - rng.Below(1000) * kDay},
                 {"published_by", node_hex},
                 {"status", "active"}});
        writes[records::PatientPrefix(p.hex, "record") + p.records.back().rid] = "";
      }
      for (int j = 0; j < kConsentsPerPatient; ++j) p.grants.push_back(MakeGrant(rng, p));
    }
  }

  GrantInfo MakeGrant(Rng& rng, const Patient& p) {
    GrantInfo gi;
    gi.cid = rng.Hex(32);
    records::Grant& g = gi.g;
    nlohmann::json c;
    if (rng.Chance(0.01)) {
      // An emergency access (24 h), most of them long past.
      gi.grantee = static_cast<int>(rng.Below(kGrantees));
      g.emergency = true;
      g.purpose = "emergency";
      g.categories = {"*"};
      g.from_ms = kNow - rng.Below(700) * kDay - kDay / 2;
      g.until_ms = g.from_ms + kDay;
      c = {{"grantee", grantees[gi.grantee].hex()},
           {"categories", {"*"}},
           {"purpose", "emergency"},
           {"reason", "unconscious on admission"},
           {"emergency", true}};
    } else {
      gi.to_org = rng.Chance(0.4);
      gi.grantee = static_cast<int>(rng.Below(gi.to_org ? kOrgs : kGrantees));
      const double u = rng.Below(1000) / 1000.0;
      g.purpose = kPurposes[u < 0.65 ? 0 : u < 0.80 ? 1 : u < 0.90 ? 2 : 3];
      if (rng.Chance(0.2)) {  // named records
        for (const auto& r : p.records) {
          if (g.records.empty() || rng.Chance(0.3)) g.records.push_back(r.rid);
        }
        std::sort(g.records.begin(), g.records.end());
        c["records"] = g.records;
      } else {  // categories, usually including one the patient has records in
        const size_t n = 1 + rng.Below(3);
        if (rng.Chance(0.7)) g.categories.push_back(rng.Pick(p.records).category);
        while (g.categories.size() < n) {
          const std::string& cat = rng.Pick(kCategories);
          if (std::find(g.categories.begin(), g.categories.end(), cat) == g.categories.end())
            g.categories.push_back(cat);
        }
        std::sort(g.categories.begin(), g.categories.end());
        c["categories"] = g.categories;
      }
      const double t = rng.Below(1000) / 1000.0;
      if (t < 0.12) {  // expired
        g.until_ms = kNow - (1 + rng.Below(365)) * kDay;
        g.from_ms = g.until_ms - (1 + rng.Below(365)) * kDay;
      } else if (t < 0.15) {  // not yet valid
        g.from_ms = kNow + (1 + rng.Below(30)) * kDay;
        g.until_ms = g.from_ms + 365 * kDay;
      } else {
        g.from_ms = kNow - rng.Below(365) * kDay - 3600000;
        g.until_ms = kNow + (1 + rng.Below(730)) * kDay;
      }
      g.revoked = rng.Chance(0.05);
      if (gi.to_org)
        c["grantee_org"] = orgs[gi.grantee];
      else
        c["grantee"] = grantees[gi.grantee].hex();
      c["purpose"] = g.purpose;
      c["emergency"] = false;
    }
    // As RecordsModule::GrantConsent (or Emergency, Revoke) writes it.
    c["patient"] = p.hex;
    c["from"] = g.from_ms;
    c["until"] = g.until_ms;
    c["granted_at"] = g.from_ms;
    c["status"] = g.revoked ? "revoked" : "active";
    if (g.revoked) c["revoked_at"] = std::max(g.from_ms, kNow - kDay);
    PutJson(records::ConsentKey(gi.cid), c);
    writes[records::GrantPrefix(p.hex, Grantee(gi)) + gi.cid] = records::EncodeGrant(g);
    writes[records::PatientPrefix(p.hex, "consent") + gi.cid] = "";
    return gi;
  }

  std::string Grantee(const GrantInfo& gi) const {
    return gi.to_org ? std::string(records::kOrgGrantee) + orgs[gi.grantee]
                     : grantees[gi.grantee].hex();
  }

  // A record of `p` that `g` covers, if any.
  const RecordInfo* Covered(Rng& rng, const Patient& p, const records::Grant& g) const {
    std::vector<const RecordInfo*> ok;
    for (const auto& r : p.records) {
      if (std::count(g.records.begin(), g.records.end(), r.rid) ||
          std::count(g.categories.begin(), g.categories.end(), r.category))
        ok.push_back(&r);
    }
    return ok.empty() ? nullptr : ok[rng.Below(ok.size())];
  }

  // A reader of org `org`: one of its actors.
  int Member(Rng& rng, int org) const {
    return org + kOrgs * static_cast<int>(rng.Below(kGrantees / kOrgs));
  }

  Query ReaderQuery(int actor, const std::string& record, const std::string& purpose) const {
    return {grantees[actor], orgs[actor % kOrgs], record, purpose};
  }

  // Candidate queries of each kind, kept only if Decide on the MemState
  // agrees with the kind (another grant of the same patient may interfere).
  void MakeQueries() {
    Rng rng(/*seed=*/7);
    size_t rejected = 0;
    for (int kind = 0; kind < kMix; ++kind) {
      auto& out = queries[kind];
      while (out.size() < kQueriesPerKind) {
        const Patient& p = patients[rng.Below(patients.size())];
        const GrantInfo& gi = rng.Pick(p.grants);
        std::optional<Query> q;
        std::string want_cid;
        if (kind == kActorGrant || kind == kOrgGrant) {
          if (gi.to_org != (kind == kOrgGrant) || gi.g.emergency || !gi.active()) continue;
          const RecordInfo* r = Covered(rng, p, gi.g);
          if (!r) continue;
          q = ReaderQuery(gi.to_org ? Member(rng, gi.grantee) : gi.grantee, r->rid, gi.g.purpose);
          want_cid = gi.cid;
        } else if (kind == kNoConsent) {
          q = ReaderQuery(static_cast<int>(rng.Below(kGrantees)), rng.Pick(p.records).rid,
                          rng.Pick(kPurposes));
        } else {
          if (gi.g.emergency) continue;
          const RecordInfo* r = Covered(rng, p, gi.g);
          if (!r) continue;
          std::string purpose = gi.g.purpose;
          if (gi.active()) {
            while (purpose == gi.g.purpose) purpose = rng.Pick(kPurposes);
          }
          q = ReaderQuery(gi.to_org ? Member(rng, gi.grantee) : gi.grantee, r->rid, purpose);
        }
        records::Decision d = records::Decide(mem, q->Request());
        bool keep = false;
        if (kind == kActorGrant || kind == kOrgGrant) {
          keep = d.allowed() && !d.emergency && d.consent == want_cid;
        } else {
          const bool no_grant = d.reason.starts_with("no consent of the patient names");
          keep = d.verdict == records::Verdict::kDenied && (kind == kNoConsent) == no_grant;
        }
        if (keep)
          out.push_back(std::move(*q));
        else
          ++rejected;
      }
    }
    for (size_t i = 0; i < kQueriesPerKind; ++i) {
      for (int kind = 0; kind < kMix; ++kind) queries[kMix].push_back(queries[kind][i]);
    }
    std::fprintf(
        stderr,
        "consent fixture: %zu candidate queries rejected (another grant decided otherwise)\n",
        rejected);
  }
};

Data& TheData() {
  static Data d;
  return d;
}

// The same state in a ChainStore in a temp folder (removed at exit).
struct Rocks {
  std::filesystem::path dir;
  std::unique_ptr<ChainStore> store;

  Rocks() {
    Data& d = TheData();
    char tmpl[] = "/tmp/carechain-consent-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) Die("mkdtemp failed");
    dir = tmpl;
    auto t0 = Clk::now();
    Open();
    const SecretKey proposer = SecretKey::FromSeed(Bytes(32, 1));
    BlockHash prev;
    uint64_t height = 0;
    WriteSet chunk;
    auto commit = [&] {
      BlockHeader h;
      h.chain_id = "carechain-consent-bench";
      h.height = height;
      h.prev_hash = prev;
      h.time_ms = kNow - kDay + height;
      h.tx_root = Block::ComputeTxRoot({}, {});
      h.tx_count = 0;
      h.proposer = proposer.public_key();
      BlockPtr b = Block::Make(h, proposer.Sign(AsBytes(Block::SigningMessage(h.Hash()))), {}, {});
      Status s = store->CommitBlock(b, chunk, StateDigest());
      if (!s.ok()) Die(s.ToString());
      prev = b->hash();
      ++height;
      chunk.clear();
    };
    for (const auto& [k, v] : d.writes) {
      chunk.emplace(k, v);
      if (chunk.size() == kWritesPerBlock) commit();
    }
    if (!chunk.empty()) commit();
    const double load_s = Since(t0);
    // Re-open: the WAL is replayed into table files, as on a node after a restart.
    t0 = Clk::now();
    store.reset();
    Open();
    const double reopen_s = Since(t0);
    // Check: the store decides as the MemState does.
    size_t checked = 0;
    for (const auto& qs : d.queries) {
      for (size_t i = 0; i < qs.size(); i += 25) {
        records::Decision a = records::Decide(d.mem, qs[i].Request());
        records::Decision b = records::Decide(*store, qs[i].Request());
        if (a.verdict != b.verdict || a.consent != b.consent || a.reason != b.reason)
          Die("RocksDB and MemState decide differently");
        ++checked;
      }
    }
    std::fprintf(
        stderr,
        "consent fixture: RocksDB in %s loaded in %.1f s (%llu blocks of <= %zu writes, synced), "
        "re-opened in %.1f s, %zu decisions checked against the MemState\n",
        dir.c_str(), load_s, static_cast<unsigned long long>(height), kWritesPerBlock, reopen_s,
        checked);
  }
  ~Rocks() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void Open() {
    auto s = ChainStore::Open((dir / "chain").string());
    if (!s.ok()) Die(s.status().ToString());
    store = std::move(*s);
  }
  [[noreturn]] static void Die(const std::string& why) {
    std::fprintf(stderr, "consent fixture: %s\n", why.c_str());
    std::exit(2);
  }
};

Rocks& TheRocks() {
  static Rocks r;
  return r;
}

enum class Store { kMem, kRocks, kIndex };

const StateReader& StateOf(Store s) {
  if (s == Store::kMem) return TheData().mem;
  return *TheRocks().store;
}

// The node's path: the ConsentIndex, loaded from the RocksDB store as a node
// loads it at start, and checked to decide as the MemState does.
const records::ConsentIndex& TheIndex() {
  static records::ConsentIndex* index = [] {
    const ChainStore& store = *TheRocks().store;  // built first, outside the timing
    auto t0 = std::chrono::steady_clock::now();
    auto* ix = new records::ConsentIndex();
    ix->Load(store);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t checked = 0;
    for (const auto& qs : TheData().queries) {
      for (const auto& q : qs) {
        records::Decision a = records::Decide(TheData().mem, q.Request());
        records::Decision b = records::Decide(*ix, q.Request());
        if (a.verdict != b.verdict || a.consent != b.consent || a.reason != b.reason || a.emergency != b.emergency) {
          std::fprintf(stderr, "consent fixture: the index and the MemState decide differently\n");
          std::exit(2);
        }
        ++checked;
      }
    }
    std::fprintf(stderr, "consent index: %zu records, %zu grants loaded from RocksDB in %.1f s; %zu decisions "
                 "checked against the MemState\n", ix->records(), ix->grants(), secs, checked);
    return ix;
  }();
  return *index;
}

void BM_ConsentDecision(benchmark::State& state, Store store, Kind kind) {
  std::optional<records::StateConsentView> state_view;
  if (store != Store::kIndex) state_view.emplace(&StateOf(store));
  const records::ConsentView& s =
      store == Store::kIndex ? static_cast<const records::ConsentView&>(TheIndex()) : *state_view;
  const std::vector<Query>& qs = TheData().queries[kind];
  // Threads start far apart in the (shuffled by patient) query list.
  size_t i = (static_cast<size_t>(state.thread_index()) * qs.size()) / 2;
  int64_t allowed = 0;
  for (auto _ : state) {
    const Query& q = qs[i];
    if (++i == qs.size()) i = 0;
    records::Decision d = records::Decide(s, q.Request());
    allowed += d.allowed();
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allowed"] = benchmark::Counter(static_cast<double>(allowed) / state.iterations(),
                                                 benchmark::Counter::kAvgThreads);
}

// The pieces of a decision, over the mixed queries:
//   get_pointer    StateReader::Get of the record pointer
//   parse_pointer  nlohmann::json::parse of it (and reading patient, category, status)
//   scan_reader    StateReader::Scan of the grants to the reader's key (the first of
//                  one or two scans a decision makes), decoding each
//   hex_reader     PublicKey::hex() of the reader (Decide does it twice)
enum Part { kGetPointer, kParsePointer, kScanReader, kHexReader };

void BM_ConsentPart(benchmark::State& state, Store store, Part part) {
  const StateReader& s = StateOf(store);
  const std::vector<Query>& qs = TheData().queries[kMix];
  std::vector<std::string> pointers, patients;
  for (size_t k = 0; k < 4096; ++k) {
    pointers.push_back(*s.Get(records::RecordKey(qs[k].record)));
    patients.push_back(nlohmann::json::parse(pointers.back()).value("patient", ""));
  }
  size_t i = (static_cast<size_t>(state.thread_index()) * qs.size()) / 2;
  for (auto _ : state) {
    const Query& q = qs[i];
    const size_t k = i % pointers.size();
    if (++i == qs.size()) i = 0;
    switch (part) {
      case kGetPointer:
        benchmark::DoNotOptimize(s.Get(records::RecordKey(q.record)));
        break;
      case kParsePointer: {
        auto j = nlohmann::json::parse(pointers[k], nullptr, false);
        benchmark::DoNotOptimize(j.value("patient", ""));
        benchmark::DoNotOptimize(j.value("category", ""));
        benchmark::DoNotOptimize(j.value("status", ""));
        break;
      }
      case kScanReader: {
        int n = 0;
        s.Scan(records::GrantPrefix(patients[k], q.reader.hex()), "",
               [&](std::string_view, std::string_view v) {
                 n += records::DecodeGrant(v).ok();
                 return true;
               });
        benchmark::DoNotOptimize(n);
        break;
      }
      case kHexReader:
        benchmark::DoNotOptimize(q.reader.hex());
        break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void Register() {
  for (int kind = 0; kind < kKinds; ++kind) {
    benchmark::RegisterBenchmark(
        (std::string("BM_ConsentDecision/Index/") + kKindNames[kind]).c_str(),
        [kind](benchmark::State& st) { BM_ConsentDecision(st, Store::kIndex, static_cast<Kind>(kind)); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  const std::pair<Store, const char*> stores[] = {{Store::kMem, "MemState"},
                                                  {Store::kRocks, "RocksDB"}};
  for (const auto& [store, sname] : stores) {
    for (int kind = 0; kind < kKinds; ++kind) {
      benchmark::RegisterBenchmark(
          (std::string("BM_ConsentDecision/") + sname + "/" + kKindNames[kind]).c_str(),
          [store = store, kind](benchmark::State& st) {
            BM_ConsentDecision(st, store, static_cast<Kind>(kind));
          })
          ->Threads(1)
          ->Threads(2)
          ->UseRealTime();
    }
    const std::pair<Part, const char*> parts[] = {{kGetPointer, "get_pointer"},
                                                  {kScanReader, "scan_reader"}};
    for (const auto& [part, pname] : parts) {
      benchmark::RegisterBenchmark(
          (std::string("BM_ConsentPart/") + sname + "/" + pname).c_str(),
          [store = store, part = part](benchmark::State& st) { BM_ConsentPart(st, store, part); })
          ->UseRealTime();
    }
  }
  // Store-independent pieces.
  const std::pair<Part, const char*> cpu_parts[] = {{kParsePointer, "parse_pointer"},
                                                    {kHexReader, "hex_reader"}};
  for (const auto& [part, pname] : cpu_parts) {
    benchmark::RegisterBenchmark(
        (std::string("BM_ConsentPart/") + pname).c_str(),
        [part = part](benchmark::State& st) { BM_ConsentPart(st, Store::kMem, part); })
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace cc

int main(int argc, char** argv) {
  cc::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

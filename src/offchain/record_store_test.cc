// Conformance tests of the off-chain record store: one suite, run against
// every engine (Engines/RecordStoreTest.*/sqlite, .../postgres), plus the
// engine-specific erasure checks.
//
// The PostgreSQL instances need a server: set CARECHAIN_TEST_PG to a libpq
// connection string, e.g.
//   export CARECHAIN_TEST_PG="$(scripts/pg-test-cluster start /tmp/ccpg)"
// (./test does). Without it, or when its server cannot be used, they fail:
// a missing dependency is never a skip. To leave them out on purpose:
//   --gtest_filter=-*/postgres:PostgresRecordStoreTest.*
// Each test works in a schema of its own, so test processes may share the
// database.
#include "offchain/record_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "testing/test_util.h"

namespace cc::offchain {

// Defined in postgres_store.cc (the tests do not include libpqxx).
Result<std::vector<std::vector<std::string>>> PostgresQueryForTesting(const std::string& conninfo,
                                                                      const std::string& sql);

namespace {

using ::cc::testing::TempDir;

constexpr const char* kPgEnv = "CARECHAIN_TEST_PG";

// A record or outbox id: 32 lower-case hex digits.
std::string Id(uint64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", 0xcafe0000ull + (n >> 32),
                static_cast<unsigned long long>(n));
  return buf;
}

// `n` bytes from a fixed seed: every byte value, NUL and 0xff included.
std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

StoredRecord Record(uint64_t n, size_t ciphertext_size = 100) {
  return {Id(n), "application/fhir+json", RandomBytes(ciphertext_size, n * 3),
          RandomBytes(72, n * 3 + 1), RandomBytes(32, n * 3 + 2)};
}

OutboxEntry Entry(uint64_t n, const std::string& kind = "access") {
  return {Id(n), kind, R"({"n":)" + std::to_string(n) + R"(,"record":")" + Id(n) + R"("})"};
}

OutboxEntry Receipt(uint64_t record, uint64_t n) {
  return {Id(n), "erasure", R"({"erased":")" + Id(record) + R"("})"};
}

std::vector<std::string> Ids(const std::vector<OutboxEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.id);
  return out;
}

// ---- engines ----------------------------------------------------------------

// Storage for one test; Open() may be called again (after the previous store
// is destroyed) and sees the same data.
class Engine {
 public:
  virtual ~Engine() = default;
  // Why the engine cannot be tested here, or "" if it can (the test then
  // fails with this message).
  virtual std::string Unavailable() const { return ""; }
  virtual Result<std::unique_ptr<RecordStore>> Open() = 0;
};

class SqliteEngine final : public Engine {
 public:
  Result<std::unique_ptr<RecordStore>> Open() override { return OpenSqliteStore(path()); }
  std::string path() const { return dir_.file("records.db"); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

// Works in a fresh schema (search_path in the connection string), dropped at
// the end, so that tests and test processes do not see each other's rows.
class PostgresEngine final : public Engine {
 public:
  PostgresEngine() {
    const char* env = std::getenv(kPgEnv);
    if (!env || !*env) return;
    base_ = env;
    static std::atomic<int> counter{0};
    schema_ = "cc_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    auto r = PostgresQueryForTesting(base_, "CREATE SCHEMA " + schema_);
    if (!r.ok()) {
      setup_error_ = std::string(kPgEnv) + " is set, but its PostgreSQL cannot be used (CREATE SCHEMA " +
                     schema_ + "): " + r.status().ToString();
    }
  }
  ~PostgresEngine() override {
    if (!schema_.empty() && setup_error_.empty()) {
      PostgresQueryForTesting(base_, "DROP SCHEMA " + schema_ + " CASCADE").status().IgnoreError();
    }
  }

  std::string Unavailable() const override {
    if (base_.empty()) {
      return std::string(kPgEnv) + " is not set, so the PostgreSQL store cannot be tested (a failure, not a "
             "skip); to run the PostgreSQL tests: export " + kPgEnv +
             "=\"$(scripts/pg-test-cluster start /tmp/ccpg)\" (and afterwards "
             "scripts/pg-test-cluster stop /tmp/ccpg); to leave them out: "
             "--gtest_filter=-*/postgres:PostgresRecordStoreTest.*";
    }
    return setup_error_;
  }

  Result<std::unique_ptr<RecordStore>> Open() override {
    return OpenPostgresStore(conninfo(), /*pool=*/4);
  }

  // The store's connection string: the test's schema, and an application
  // name that finds its connections in pg_stat_activity.
  std::string conninfo() const {
    const std::string opts = "-c search_path=" + schema_;
    if (base_.rfind("postgres://", 0) == 0 || base_.rfind("postgresql://", 0) == 0) {
      const char sep = base_.find('?') == std::string::npos ? '?' : '&';
      return base_ + sep + "options=-c%20search_path%3D" + schema_ + "&application_name=" + schema_;
    }
    return base_ + " options='" + opts + "' application_name=" + schema_;
  }

  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) const {
    return PostgresQueryForTesting(base_, sql);
  }
  const std::string& schema() const { return schema_; }

 private:
  std::string base_;  // CARECHAIN_TEST_PG
  std::string schema_;
  std::string setup_error_;
};

std::unique_ptr<Engine> MakeEngine(const std::string& name) {
  if (name == "sqlite") return std::make_unique<SqliteEngine>();
  return std::make_unique<PostgresEngine>();
}

// ---- the conformance suite --------------------------------------------------

class RecordStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine_ = MakeEngine(GetParam());
    if (std::string why = engine_->Unavailable(); !why.empty()) FAIL() << why;
    Reopen();
  }

  void Reopen() {
    store_.reset();
    auto s = engine_->Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_EQ(store_->engine(), GetParam());
  }

  std::vector<OutboxEntry> Outbox(size_t limit = 1000) {
    auto l = store_->ListOutbox(limit);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : std::vector<OutboxEntry>{};
  }

  void ExpectRecord(const StoredRecord& want) {
    auto got = store_->Get(want.id);
    ASSERT_TRUE(got.ok()) << want.id << ": " << got.status().ToString();
    EXPECT_TRUE(*got == want) << want.id;
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RecordStore> store_;
};

TEST_P(RecordStoreTest, PutGetRoundTripsBinaryData) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  StoredRecord a{Id(1), "text/plain", std::string("\0\xff\0", 3) + every_byte + "\\x00\\\\",
                 std::string("\xff\0\xfe", 3) + every_byte, std::string(32, '\0')};
  StoredRecord b =
      Record(2, /*ciphertext_size=*/300 * 1024);  // large: out of line (TOAST, overflow pages)
  StoredRecord c = Record(3);
  c.salt = std::string(32, '\xff');
  for (const auto& r : {a, b, c}) ASSERT_TRUE(store_->Put(r).ok()) << r.id;
  ExpectRecord(a);
  ExpectRecord(b);
  ExpectRecord(c);
}

TEST_P(RecordStoreTest, DocumentsAreWrittenOnceAndSurviveAReopen) {
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes.push_back(static_cast<char>(i * 7));
  const std::string key = "coldchain/00000000000000a1/" + std::string(64, 'd') + "/00000001/" + std::string(64, 'r');
  EXPECT_EQ(store_->GetDocument(key).status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->PutDocument(key, bytes).ok());
  EXPECT_TRUE(store_->PutDocument(key, bytes).ok());  // a retry
  Status other = store_->PutDocument(key, "other bytes");
  EXPECT_EQ(other.code(), Code::kAlreadyExists) << other.ToString();
  Reopen();
  auto got = store_->GetDocument(key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, bytes);
  EXPECT_EQ(store_->GetDocument(key + "x").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->ReplaceDocument(key, "replaced").ok());
  ASSERT_TRUE(store_->ReplaceDocument(key + "y", "new").ok());
  Reopen();
  EXPECT_EQ(*store_->GetDocument(key), "replaced");
  EXPECT_EQ(*store_->GetDocument(key + "y"), "new");
}

TEST_P(RecordStoreTest, DocumentsWrittenTogetherAreAllOrNothing) {
  ASSERT_TRUE(store_->PutDocument("d/2", "two").ok());
  ASSERT_TRUE(store_->PutDocument("d/r", "old").ok());
  // One write-once document clashes: none of the writes happens.
  Status s = store_->WriteDocuments({{"d/1", "one"}, {"d/r", "new", true}, {"d/2", "other"}, {"d/3", "three"}});
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(store_->GetDocument("d/1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetDocument("d/3").status().code(), Code::kNotFound);
  EXPECT_EQ(*store_->GetDocument("d/r"), "old");
  // The same bytes again are a retry; a replacement replaces.
  ASSERT_TRUE(store_->WriteDocuments({{"d/1", "one"}, {"d/r", "new", true}, {"d/2", "two"}, {"d/3", "three"}}).ok());
  ASSERT_TRUE(store_->WriteDocuments({{"d/1", "one"}, {"d/3", "three"}, {"d/r", "newer", true}}).ok());
  ASSERT_TRUE(store_->WriteDocuments({}).ok());
  Reopen();
  EXPECT_EQ(*store_->GetDocument("d/1"), "one");
  EXPECT_EQ(*store_->GetDocument("d/2"), "two");
  EXPECT_EQ(*store_->GetDocument("d/3"), "three");
  EXPECT_EQ(*store_->GetDocument("d/r"), "newer");
}

TEST_P(RecordStoreTest, DocumentsAreDeletedByPrefix) {
  for (const char* k : {"w/a/1", "w/a/2", "w/ab", "w/b/1", "v/a/1"}) ASSERT_TRUE(store_->PutDocument(k, k).ok());
  auto n = store_->DeleteDocuments("w/a/");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(*store_->DeleteDocuments("w/a/"), 0u);
  EXPECT_EQ(store_->DeleteDocuments("").status().code(), Code::kInvalidArgument);
  Reopen();
  EXPECT_EQ(store_->GetDocument("w/a/1").status().code(), Code::kNotFound);
  for (const char* k : {"w/ab", "w/b/1", "v/a/1"}) EXPECT_EQ(*store_->GetDocument(k), k);
  // Written again after the deletion: a new document.
  ASSERT_TRUE(store_->PutDocument("w/a/1", "new").ok());
  EXPECT_EQ(*store_->GetDocument("w/a/1"), "new");
}

TEST_P(RecordStoreTest, DocumentsAreListedByPrefixInByteOrderAndPaged) {
  for (const char* k : {"w/a/2", "w/a/10", "w/a/1", "w/b/1", "w/a", "v/a/1", "w/a/\xc3\xa9", "w/a/Z"})
    ASSERT_TRUE(store_->PutDocument(k, std::string("v:") + k).ok()) << k;
  auto keys = [&](std::string_view prefix, std::string_view after, size_t limit) {
    auto l = store_->ListDocuments(prefix, after, limit);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    std::vector<std::string> out;
    for (const auto& [k, v] : *l) {
      EXPECT_EQ(v, "v:" + k);
      out.push_back(k);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(keys("w/a/", "", 100), (V{"w/a/1", "w/a/10", "w/a/2", "w/a/Z", "w/a/\xc3\xa9"}));
  EXPECT_EQ(keys("w/a/", "", 2), (V{"w/a/1", "w/a/10"}));
  EXPECT_EQ(keys("w/a/", "w/a/10", 2), (V{"w/a/2", "w/a/Z"}));
  EXPECT_EQ(keys("w/c/", "", 10), V{});
}

TEST_P(RecordStoreTest, DuplicatePutIsAlreadyExistsAndKeepsTheFirst) {
  StoredRecord first = Record(1);
  ASSERT_TRUE(store_->Put(first).ok());
  StoredRecord second = Record(2);
  second.id = first.id;
  Status st = store_->Put(second);
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  ExpectRecord(first);
}

TEST_P(RecordStoreTest, GetOfUnknownIsNotFound) {
  ASSERT_TRUE(store_->Put(Record(1)).ok());
  auto got = store_->Get(Id(2));
  EXPECT_EQ(got.status().code(), Code::kNotFound) << got.status().ToString();
}

TEST_P(RecordStoreTest, EraseRemovesTheRecordAndQueuesTheReceipt) {
  ASSERT_TRUE(store_->Put(Record(1)).ok());
  ASSERT_TRUE(store_->Put(Record(2)).ok());
  const OutboxEntry receipt = Receipt(1, 100);
  Status st = store_->Erase(Id(1), receipt);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(store_->Get(Id(1)).status().code(), Code::kNotFound);
  ExpectRecord(Record(2));
  EXPECT_EQ(Outbox(), std::vector<OutboxEntry>{receipt});
}

TEST_P(RecordStoreTest, EraseOfUnknownIsNotFoundAndQueuesNothing) {
  Status st = store_->Erase(Id(1), Receipt(1, 100));
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
  EXPECT_TRUE(Outbox().empty());

  // Erasing twice: the second is unknown too.
  ASSERT_TRUE(store_->Put(Record(2)).ok());
  ASSERT_TRUE(store_->Erase(Id(2), Receipt(2, 101)).ok());
  st = store_->Erase(Id(2), Receipt(2, 102));
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
  EXPECT_EQ(Ids(Outbox()), std::vector<std::string>{Id(101)});
}

// The receipt is added in the erasure's transaction: if it cannot be added,
// nothing is erased.
TEST_P(RecordStoreTest, EraseWithATakenReceiptIdChangesNothing) {
  ASSERT_TRUE(store_->Put(Record(1)).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(100)}).ok());
  Status st = store_->Erase(Id(1), Receipt(1, 100));
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  ExpectRecord(Record(1));
  EXPECT_EQ(Outbox(), std::vector<OutboxEntry>{Entry(100)});
}

TEST_P(RecordStoreTest, OutboxIsOldestFirstWithLimitAndRemove) {
  EXPECT_TRUE(Outbox().empty());
  // Ids deliberately not in insertion order: order is by insertion.
  ASSERT_TRUE(store_->AddOutbox({Entry(5), Entry(3)}).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(9, "erasure")}).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(1), Entry(7), Entry(2)}).ok());
  ASSERT_TRUE(store_->AddOutbox({}).ok());

  const std::vector<OutboxEntry> all = {Entry(5), Entry(3), Entry(9, "erasure"),
                                        Entry(1), Entry(7), Entry(2)};
  EXPECT_EQ(Outbox(), all);
  EXPECT_EQ(Outbox(/*limit=*/2), (std::vector<OutboxEntry>{Entry(5), Entry(3)}));
  EXPECT_TRUE(Outbox(/*limit=*/0).empty());
  EXPECT_EQ(Outbox(std::numeric_limits<size_t>::max()), all);

  // Unknown ids are ignored.
  ASSERT_TRUE(store_->RemoveOutbox({Id(3), Id(404), Id(1)}).ok());
  EXPECT_EQ(Ids(Outbox()), (std::vector<std::string>{Id(5), Id(9), Id(7), Id(2)}));
  ASSERT_TRUE(store_->RemoveOutbox({}).ok());
  ASSERT_TRUE(store_->RemoveOutbox({Id(404)}).ok());

  // New entries go after the remaining ones, also after the oldest is removed.
  ASSERT_TRUE(store_->RemoveOutbox({Id(5)}).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(4)}).ok());
  EXPECT_EQ(Ids(Outbox()), (std::vector<std::string>{Id(9), Id(7), Id(2), Id(4)}));

  ASSERT_TRUE(store_->RemoveOutbox({Id(9), Id(7), Id(2), Id(4)}).ok());
  EXPECT_TRUE(Outbox().empty());
}

TEST_P(RecordStoreTest, DuplicateOutboxIdAddsNothingOfTheBatch) {
  ASSERT_TRUE(store_->AddOutbox({Entry(1)}).ok());
  OutboxEntry again = Entry(1, "erasure");
  Status st = store_->AddOutbox({Entry(2), again, Entry(3)});
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Outbox(), std::vector<OutboxEntry>{Entry(1)});

  // A duplicate within one batch.
  st = store_->AddOutbox({Entry(4), Entry(4)});
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Outbox(), std::vector<OutboxEntry>{Entry(1)});

  // The store is still usable afterwards.
  ASSERT_TRUE(store_->AddOutbox({Entry(2)}).ok());
  EXPECT_EQ(Ids(Outbox()), (std::vector<std::string>{Id(1), Id(2)}));
}

// 8 threads put, get, erase and queue at once; one record id is contended.
// Afterwards every thread's records and entries are exactly where they
// should be, each thread's entries in the order it added them.
TEST_P(RecordStoreTest, ConcurrentUseFromEightThreadsStaysConsistent) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 24;
  const StoredRecord contended = Record(999999);
  std::atomic<int> contended_wins{0};
  std::atomic<int> failures{0};
  auto rec = [](int t, int i) { return Record(static_cast<uint64_t>(t) * 1000 + i); };
  auto entry = [](int t, int i) { return Entry(1000000 + static_cast<uint64_t>(t) * 1000 + i); };
  auto receipt = [](int t, int i) {
    return Receipt(static_cast<uint64_t>(t) * 1000 + i,
                   2000000 + static_cast<uint64_t>(t) * 1000 + i);
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const std::string& what, const Status& st) {
        ++failures;
        ADD_FAILURE() << "thread " << t << ": " << what << ": " << st.ToString();
      };
      Status st = store_->Put(contended);
      if (st.ok()) {
        ++contended_wins;
      } else if (st.code() != Code::kAlreadyExists) {
        fail("contended put", st);
      }
      for (int i = 0; i < kPerThread && failures == 0; ++i) {
        const StoredRecord r = rec(t, i);
        if (Status s = store_->Put(r); !s.ok()) fail("put " + r.id, s);
        auto got = store_->Get(r.id);
        if (!got.ok()) {
          fail("get " + r.id, got.status());
        } else if (!(*got == r)) {
          fail("get " + r.id, Status::Corruption("different record"));
        }
        if (Status s = store_->AddOutbox({entry(t, i)}); !s.ok()) fail("add outbox", s);
        if (i % 3 == 0) {
          if (Status s = store_->Erase(r.id, receipt(t, i)); !s.ok()) fail("erase " + r.id, s);
        }
        if (auto l = store_->ListOutbox(/*limit=*/5); !l.ok()) fail("list outbox", l.status());
        if (auto g = store_->Get(contended.id); !g.ok() || !(*g == contended))
          fail("get contended", g.status());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0);
  EXPECT_EQ(contended_wins, 1);

  std::vector<OutboxEntry> outbox = Outbox(/*limit=*/100000);
  std::set<std::string> seen;
  for (const auto& e : outbox) EXPECT_TRUE(seen.insert(e.id).second) << "twice: " << e.id;
  for (int t = 0; t < kThreads; ++t) {
    std::vector<std::string> mine, want;
    for (int i = 0; i < kPerThread; ++i) {
      const StoredRecord r = rec(t, i);
      if (i % 3 == 0) {
        EXPECT_EQ(store_->Get(r.id).status().code(), Code::kNotFound) << r.id;
      } else {
        ExpectRecord(r);
      }
      want.push_back(entry(t, i).id);
      if (i % 3 == 0) want.push_back(receipt(t, i).id);
    }
    for (const auto& e : outbox) {
      if (std::find(want.begin(), want.end(), e.id) != want.end()) mine.push_back(e.id);
    }
    EXPECT_EQ(mine, want) << "thread " << t;
  }
  EXPECT_EQ(outbox.size(), static_cast<size_t>(kThreads * (kPerThread + (kPerThread + 2) / 3)));
}

TEST_P(RecordStoreTest, DataSurvivesReopening) {
  ASSERT_TRUE(store_->Put(Record(1)).ok());
  ASSERT_TRUE(store_->Put(Record(2, /*ciphertext_size=*/64 * 1024)).ok());
  ASSERT_TRUE(store_->Put(Record(3)).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(10), Entry(11)}).ok());
  ASSERT_TRUE(store_->Erase(Id(3), Receipt(3, 12)).ok());
  ASSERT_TRUE(store_->RemoveOutbox({Id(10)}).ok());

  Reopen();
  ExpectRecord(Record(1));
  ExpectRecord(Record(2, /*ciphertext_size=*/64 * 1024));
  EXPECT_EQ(store_->Get(Id(3)).status().code(), Code::kNotFound);
  EXPECT_EQ(Outbox(), (std::vector<OutboxEntry>{Entry(11), Receipt(3, 12)}));

  // Still writable, and ids stay taken across the reopen.
  EXPECT_EQ(store_->Put(Record(1)).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->AddOutbox({Entry(11)}).code(), Code::kAlreadyExists);
  ASSERT_TRUE(store_->AddOutbox({Entry(13)}).ok());
  EXPECT_EQ(Ids(Outbox()), (std::vector<std::string>{Id(11), Id(12), Id(13)}));
}

INSTANTIATE_TEST_SUITE_P(Engines, RecordStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// ---- SQLite: erased bytes are in no file ------------------------------------

// Every file of `dir` (db, -wal, -shm, journals) that contains `needle`.
std::vector<std::string> FilesContaining(const std::filesystem::path& dir,
                                         const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) out.push_back(f.path().filename().string());
  }
  return out;
}

TEST(SqliteRecordStoreTest, ErasedRecordLeavesNoBytesInAnyFile) {
  SqliteEngine engine;
  auto opened = engine.Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<RecordStore> store = std::move(*opened);

  // Distinctive 64-byte markers, one per erased field.
  const std::string ciphertext_marker = RandomBytes(64, 0xc1c1c1);
  const std::string key_marker = RandomBytes(64, 0x4b4b4b);
  const std::string salt_marker = RandomBytes(64, 0x5a5a5a);
  StoredRecord secret{Id(2), "text/plain",
                      RandomBytes(500, 7) + ciphertext_marker + RandomBytes(500, 8), key_marker,
                      salt_marker};
  // Neighbours on the same pages, before and after.
  ASSERT_TRUE(store->Put(Record(1)).ok());
  ASSERT_TRUE(store->Put(secret).ok());
  ASSERT_TRUE(store->Put(Record(3)).ok());
  for (const auto* m : {&ciphertext_marker, &key_marker, &salt_marker}) {
    ASSERT_FALSE(FilesContaining(engine.dir().path(), *m).empty())
        << "the search does not find stored bytes";
  }

  ASSERT_TRUE(store->Erase(secret.id, Receipt(2, 100)).ok());
  for (int pass = 0; pass < 2; ++pass) {
    // Pass 0: the store still open (its -wal and -shm exist); pass 1: closed.
    EXPECT_EQ(FilesContaining(engine.dir().path(), ciphertext_marker), std::vector<std::string>{})
        << "ciphertext, pass " << pass;
    EXPECT_EQ(FilesContaining(engine.dir().path(), key_marker), std::vector<std::string>{})
        << "key, pass " << pass;
    EXPECT_EQ(FilesContaining(engine.dir().path(), salt_marker), std::vector<std::string>{})
        << "salt, pass " << pass;
    store.reset();
  }
}

// ---- PostgreSQL: VACUUM after erasure, connection handling -----------------

class PostgresRecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = engine_.Unavailable(); !why.empty()) FAIL() << why;
    auto s = engine_.Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Row `0` column `0` of `sql` as text.
  std::string Scalar(const std::string& sql) {
    auto r = engine_.Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->empty() || (*r)[0].empty()) return "<none>";
    return (*r)[0][0];
  }

  PostgresEngine engine_;
  std::unique_ptr<RecordStore> store_;
};

// The erasure's VACUUM leaves no dead tuple of the erased rows. Reading the
// heap pages is not needed: n_dead_tup is exact here because the store makes
// the deleting transaction publish its counts before the VACUUM.
//
// A transaction of another process open in the same database during the
// VACUUM (e.g. this suite running in parallel under ctest -j) keeps it from
// removing tuples deleted after that transaction began; then the check is
// repeated after another erasure (and so another VACUUM) of a filler record,
// a few times. A store that never vacuums fails every round.
TEST_F(PostgresRecordStoreTest, EraseLeavesNoDeadTuples) {
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(store_->Put(Record(n, /*ciphertext_size=*/4096)).ok());
  }
  ASSERT_TRUE(store_->Erase(Id(2), Receipt(2, 100)).ok());
  auto stat = [&](const char* column, const char* table) {
    return Scalar(std::string("SELECT ") + column +
                  " FROM pg_stat_user_tables WHERE schemaname = '" + engine_.schema() +
                  "' AND relname = '" + table + "'");
  };
  auto dead = [&] {
    return stat("n_dead_tup", "record_content") + "/" + stat("n_dead_tup", "record_keys");
  };
  std::string last = dead();
  for (uint64_t round = 0; last != "0/0" && round < 10; ++round) {
    ASSERT_TRUE(store_->Put(Record(1000 + round)).ok());
    ASSERT_TRUE(store_->Erase(Id(1000 + round), Receipt(1000 + round, 2000 + round)).ok());
    last = dead();
  }
  EXPECT_EQ(last, "0/0") << "n_dead_tup of record_content/record_keys after erasure";
  for (const char* table : {"record_content", "record_keys"}) {
    EXPECT_NE(stat("last_vacuum", table), "") << table << " was never vacuumed";
  }
}

// Binary values are stored as bytea, byte for byte (not as escaped text).
TEST_F(PostgresRecordStoreTest, BinaryColumnsHoldTheExactBytes) {
  StoredRecord r = Record(1);
  r.ciphertext = std::string("\0\xff\\x", 4);
  ASSERT_TRUE(store_->Put(r).ok());
  EXPECT_EQ(Scalar("SELECT encode(ciphertext, 'hex') || ':' || length(ciphertext) FROM " +
                   engine_.schema() + ".record_content"),
            "00ff5c78:4");
}

// Connections killed by the server are replaced: the next calls succeed.
TEST_F(PostgresRecordStoreTest, ReconnectsAfterTheServerDropsConnections) {
  ASSERT_TRUE(store_->Put(Record(1)).ok());
  const std::string mine =
      "FROM pg_stat_activity WHERE application_name = '" + engine_.schema() + "'";
  EXPECT_EQ(Scalar("SELECT count(pg_terminate_backend(pid)) " + mine), "4");  // the whole pool
  // pg_terminate_backend only signals; wait until the backends are gone.
  for (int i = 0; i < 500 && Scalar("SELECT count(*) " + mine) != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(Scalar("SELECT count(*) " + mine), "0");
  for (int i = 0; i < 8; ++i) {
    auto got = store_->Get(Id(1));
    ASSERT_TRUE(got.ok()) << "call " << i << ": " << got.status().ToString();
    EXPECT_TRUE(*got == Record(1));
  }
  ASSERT_TRUE(store_->Put(Record(2)).ok());
  ASSERT_TRUE(store_->Erase(Id(2), Receipt(2, 100)).ok());
  ASSERT_TRUE(store_->AddOutbox({Entry(101)}).ok());
  // Dead slots are reconnected when next used; sequential calls reuse one.
  EXPECT_NE(Scalar("SELECT count(*) " + mine), "0");
}

// Needs no server: nothing listens on port 1.
TEST(PostgresRecordStoreErrorsTest, ConnectionFailureIsIOErrorWithoutThePassword) {
  auto s = OpenPostgresStore(
      "host=127.0.0.1 port=1 dbname=carechain user=carechain password=hunter2-secret "
      "connect_timeout=5");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kIOError) << s.status().ToString();
  EXPECT_NE(s.status().message().find("port=1"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("hunter2"), std::string::npos) << s.status().message();

  // libpq's parse errors quote the string; they are not passed on.
  s = OpenPostgresStore("host=127.0.0.1 password=hunter2 secret");
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << s.status().ToString();
  EXPECT_EQ(s.status().message().find("hunter2"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << s.status().message();

  EXPECT_EQ(OpenPostgresStore("host=127.0.0.1", /*pool=*/0).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace cc::offchain

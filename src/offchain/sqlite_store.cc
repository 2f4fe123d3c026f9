// The embedded engine of the off-chain store (SQLite).
//
// Why these settings:
//   journal_mode=WAL      readers (gatekeeper fetches) do not block the writer;
//   synchronous=FULL      a committed write (a stored record, an outbox entry)
//                         survives power loss, as the chain's blocks do;
//   secure_delete=ON      deleted rows are overwritten with zeros in the
//                         database file, not just unlinked from the b-tree;
//   after an erasure, wal_checkpoint(TRUNCATE) copies the zeroed pages into
//   the database and truncates the WAL, so no old copy of an erased page
//   stays in the -wal file.
//
// One connection behind a mutex: SQLite serialises writers anyway, and a
// point read by primary key costs a few microseconds. Statements are
// prepared once and reused. The gatekeeper groups concurrent reads' access
// entries into one transaction (one WAL sync for the group).
#include <sqlite3.h>

#include <mutex>
#include <string>
#include <unordered_map>

#include "offchain/record_store.h"

namespace cc::offchain {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS record_content (
  id TEXT PRIMARY KEY, media_type TEXT NOT NULL, ciphertext BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_keys (
  id TEXT PRIMARY KEY, sealed_key BLOB NOT NULL, salt BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, bytes BLOB NOT NULL) WITHOUT ROWID;
)sql";

// A statement of the store's cache, reset (and its bindings cleared) on
// scope exit so the next user finds it fresh.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s), rc_(s ? SQLITE_OK : SQLITE_ERROR) {}
  ~Stmt() {
    if (!s_) return;
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  void Reset() { sqlite3_reset(s_); }
  std::string Column(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

class SqliteStore final : public RecordStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    for (auto& [_, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status Put(const StoredRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    CC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = InsertRecord(r);
    return Finish(s);
  }

  Result<StoredRecord> Get(std::string_view id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(Prepared("SELECT c.media_type, c.ciphertext, k.sealed_key, k.salt FROM record_content c "
           "JOIN record_keys k ON k.id = c.id WHERE c.id = ?1"));
    if (!q.ok()) return Error("prepare get");
    q.Text(1, id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no record " + std::string(id) + " in the off-chain store");
    if (rc != SQLITE_ROW) return Error("get");
    return StoredRecord{std::string(id), q.Column(0), q.Column(1), q.Column(2), q.Column(3)};
  }

  Status PutDocument(std::string_view key, std::string_view bytes) override {
    return WriteDocuments({{std::string(key), std::string(bytes), false}});
  }

  Status ReplaceDocument(std::string_view key, std::string_view bytes) override {
    return WriteDocuments({{std::string(key), std::string(bytes), true}});
  }

  Status WriteDocuments(const std::vector<DocumentWrite>& writes) override {
    std::lock_guard<std::mutex> lock(mu_);
    CC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s;
    for (const auto& w : writes) {
      s = w.replace ? ReplaceRow(w.key, w.bytes) : InsertDocument(w.key, w.bytes);
      if (!s.ok()) break;
    }
    return Finish(s);
  }

  Result<std::string> GetDocument(std::string_view key) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(Prepared("SELECT bytes FROM documents WHERE key = ?1"));
    if (!q.ok()) return Error("prepare document get");
    int rc = q.Text(1, key).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no document " + std::string(key) + " in the off-chain store");
    if (rc != SQLITE_ROW) return Error("document get");
    return q.Column(0);
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListDocuments(std::string_view prefix,
                                                                         std::string_view after,
                                                                         size_t limit) const override {
    std::lock_guard<std::mutex> lock(mu_);
    // Keys are TEXT compared with BINARY collation: bytewise, as promised.
    // One index range: from the prefix (or just after `after`: keys hold no
    // NUL, so after + "\0" is the next possible key) to the prefix's end.
    std::string from(prefix);
    if (!after.empty() && after >= prefix) from = std::string(after) + '\0';
    const std::string end = PrefixEnd(prefix);
    Stmt q(Prepared(end.empty() ? "SELECT key, bytes FROM documents WHERE key >= ?1 ORDER BY key LIMIT ?3"
                                : "SELECT key, bytes FROM documents WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3"));
    if (!q.ok()) return Error("prepare document list");
    q.Text(1, from).Text(2, end).Int(3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<std::pair<std::string, std::string>> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.emplace_back(q.Column(0), q.Column(1));
    if (rc != SQLITE_DONE) return Error("document list");
    return out;
  }

  Result<size_t> DeleteDocuments(std::string_view prefix) override {
    if (prefix.empty()) return Status::Invalid("deleting documents needs a prefix");
    std::lock_guard<std::mutex> lock(mu_);
    const std::string end = PrefixEnd(prefix);
    Stmt q(Prepared(end.empty() ? "DELETE FROM documents WHERE key >= ?1"
                                : "DELETE FROM documents WHERE key >= ?1 AND key < ?2"));
    if (!q.ok()) return Error("prepare document delete");
    if (q.Text(1, prefix).Text(2, end).Step() != SQLITE_DONE) return Error("document delete");
    const auto n = static_cast<size_t>(sqlite3_changes(db_));
    if (n > 0 && sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) != SQLITE_OK)
      return Error("checkpoint after deleting documents");
    return n;
  }

  Status Erase(std::string_view id, const OutboxEntry& receipt) override {
    std::lock_guard<std::mutex> lock(mu_);
    CC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Stmt del_keys(Prepared("DELETE FROM record_keys WHERE id = ?1"));
    Stmt del_content(Prepared("DELETE FROM record_content WHERE id = ?1"));
    Status s;
    if (!del_keys.ok() || !del_content.ok()) s = Error("prepare erase");
    if (s.ok() && del_keys.Text(1, id).Step() != SQLITE_DONE) s = Error("erase key");
    const bool found = s.ok() && sqlite3_changes(db_) > 0;
    if (s.ok() && del_content.Text(1, id).Step() != SQLITE_DONE) s = Error("erase content");
    if (s.ok() && !found) s = Status::NotFound("no record " + std::string(id) + " in the off-chain store");
    if (s.ok()) s = InsertOutbox(receipt);
    CC_RETURN_IF_ERROR(Finish(s));
    // Move the zeroed pages out of the WAL into the database file and empty
    // the WAL: the old page images are gone from both files afterwards.
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error("checkpoint after erasure");
    return Status::Ok();
  }

  Status AddOutbox(const std::vector<OutboxEntry>& entries) override {
    std::lock_guard<std::mutex> lock(mu_);
    CC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s;
    for (const auto& e : entries) {
      s = InsertOutbox(e);
      if (!s.ok()) break;
    }
    return Finish(s);
  }

  Result<std::vector<OutboxEntry>> ListOutbox(size_t limit) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(Prepared("SELECT id, kind, payload FROM outbox ORDER BY seq LIMIT ?1"));
    if (!q.ok()) return Error("prepare outbox list");
    q.Int(1, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<OutboxEntry> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back({q.Column(0), q.Column(1), q.Column(2)});
    if (rc != SQLITE_DONE) return Error("outbox list");
    return out;
  }

  Status RemoveOutbox(const std::vector<std::string>& ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    CC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Stmt del(Prepared("DELETE FROM outbox WHERE id = ?1"));
    Status s = del.ok() ? Status::Ok() : Error("prepare outbox remove");
    for (const auto& id : ids) {
      if (!s.ok()) break;
      if (del.Text(1, id).Step() != SQLITE_DONE) s = Error("outbox remove");
      del.Reset();
    }
    return Finish(s);
  }

  std::string_view engine() const override { return "sqlite"; }

  Status Init() {
    CC_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    CC_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    CC_RETURN_IF_ERROR(Exec("PRAGMA secure_delete=ON"));
    CC_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    return Exec(kSchema);
  }

 private:
  Status ReplaceRow(std::string_view key, std::string_view bytes) {
    Stmt q(Prepared("INSERT INTO documents (key, bytes) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes"));
    if (!q.ok()) return Error("prepare document replace");
    if (q.Text(1, key).Blob(2, bytes).Step() != SQLITE_DONE) return Error("document replace");
    return Status::Ok();
  }

  // Inside a transaction: write-once, the same bytes again are a retry.
  Status InsertDocument(std::string_view key, std::string_view bytes) {
    Stmt q(Prepared("INSERT INTO documents (key, bytes) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING"));
    if (!q.ok()) return Error("prepare document put");
    if (q.Text(1, key).Blob(2, bytes).Step() != SQLITE_DONE) return Error("document put");
    if (sqlite3_changes(db_) > 0) return Status::Ok();
    Stmt g(Prepared("SELECT bytes FROM documents WHERE key = ?1"));
    if (!g.ok() || g.Text(1, key).Step() != SQLITE_ROW) return Error("document get");
    if (g.Column(0) != bytes) return Status::Exists("document " + std::string(key) + " holds other bytes");
    return Status::Ok();
  }

  Status InsertRecord(const StoredRecord& r) {
    Stmt c(Prepared("INSERT INTO record_content (id, media_type, ciphertext) VALUES (?1, ?2, ?3)"));
    Stmt k(Prepared("INSERT INTO record_keys (id, sealed_key, salt) VALUES (?1, ?2, ?3)"));
    if (!c.ok() || !k.ok()) return Error("prepare put");
    int rc = c.Text(1, r.id).Text(2, r.media_type).Blob(3, r.ciphertext).Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Exists("record " + r.id + " is already stored");
    if (rc != SQLITE_DONE) return Error("put content");
    if (k.Text(1, r.id).Blob(2, r.sealed_key).Blob(3, r.salt).Step() != SQLITE_DONE) return Error("put key");
    return Status::Ok();
  }

  Status InsertOutbox(const OutboxEntry& e) {
    Stmt q(Prepared("INSERT INTO outbox (id, kind, payload) VALUES (?1, ?2, ?3)"));
    if (!q.ok()) return Error("prepare outbox add");
    int rc = q.Text(1, e.id).Text(2, e.kind).Text(3, e.payload).Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Exists("outbox entry " + e.id + " exists");
    if (rc != SQLITE_DONE) return Error("outbox add");
    return Status::Ok();
  }

  // Commits if `s` is OK, rolls back otherwise; returns `s` or the commit's error.
  Status Finish(const Status& s) {
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }

  Status Exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::IOError("off-chain store (sqlite): " + m);
    }
    return Status::Ok();
  }

  Status Error(const char* what) const {
    return Status::IOError(std::string("off-chain store (sqlite): ") + what + ": " + sqlite3_errmsg(db_));
  }

  // Statements are prepared once (SQLITE_PREPARE_PERSISTENT) and reused.
  // REQUIRES: mu_ held. nullptr if the statement does not prepare.
  sqlite3_stmt* Prepared(const char* sql) const {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) return nullptr;
    cache_.emplace(sql, s);
    return s;
  }

  mutable std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
  mutable std::unordered_map<std::string, sqlite3_stmt*> cache_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<RecordStore>> OpenSqliteStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError("cannot open the off-chain store " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db);
  CC_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<RecordStore>(std::move(store));
}

}  // namespace cc::offchain

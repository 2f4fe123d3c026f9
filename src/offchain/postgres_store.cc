// The production engine of the off-chain store (PostgreSQL through libpqxx 6.4,
// Debian 12's libpqxx-dev: the pqxx 6 API, not 7).
//
// Schema (created if missing, under a transaction-level advisory lock so that
// two processes opening the same database at once do not race):
//   record_content(id text PK, media_type text, ciphertext bytea)
//   record_keys(id text PK, sealed_key bytea, salt bytea)
//   outbox(seq bigint identity PK, id text UNIQUE, kind text, payload bytea)
// The outbox is listed in `seq` order. Identity values are taken at insert
// time, not commit time, so a reader may see entry n+1 shortly before entry n
// commits; "oldest first" is about sending order, nothing depends on gaps.
// The payload is bytea, not text, so that the store keeps exactly the bytes
// it was given, as the SQLite engine does (text would refuse NUL and invalid
// UTF-8).
//
// Bytes in and out (libpqxx 6.4). Binary values are passed as
// pqxx::binarystring, which libpqxx sends in binary parameter format: the
// server gets the bytes verbatim (NUL, 0xff, any length, no escaping, no
// encoding check). A std::string parameter would go in text format, where
// libpq ignores the length and stops at the first NUL and the server parses
// bytea escapes: "\0\xff" arrives as an empty value, without an error.
// Results come back in text format (bytea hex output), which
// pqxx::binarystring(field) decodes. Text parameters (ids, media type, kind)
// therefore must not contain NUL: they are refused as kInvalidArgument.
//
// Erasure: the two record rows are deleted and the receipt added in one
// transaction; then VACUUM (outside a transaction) removes the dead tuples'
// data from the heap and TOAST pages (index entries, which hold only the id,
// may stay until a later VACUUM: PostgreSQL 14+ skips index cleanup when few
// tuples are dead), so the rows are gone from the tables' pages as far as
// PostgreSQL is concerned. What VACUUM does NOT remove:
//   - the WAL: every insert wrote the row's bytes to pg_wal (and full-page
//     images repeat them); they stay in the segments until those are
//     recycled after a checkpoint, and forever in archived WAL and base
//     backups (which is why the key is a separate row sealed under the
//     master key: crypto-shredding, see record_store.h);
//   - the freed space itself: VACUUM compacts the page but does not zero the
//     hole it leaves, so a deleted tuple next to the page's free space keeps
//     its bytes in the data file until new rows overwrite them (observed on
//     PostgreSQL 15: a marker stayed in the heap file after DELETE + VACUUM +
//     CHECKPOINT). Only VACUUM FULL (a rewrite into a new file, under an
//     ACCESS EXCLUSIVE lock) drops them from the database's files;
//   - tuples still visible to an open snapshot anywhere in the database
//     (a long transaction, a standby with hot_standby_feedback): VACUUM skips
//     them; autovacuum or the next erasure's VACUUM removes them later.
//
// Connections: a fixed pool, see Pool. Thread safety: every method may be
// called from any thread; a pqxx::connection is used by one thread at a time.
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "offchain/record_store.h"

namespace cc::offchain {
namespace {

// Any constant, the same in every process using the database.
constexpr int64_t kSchemaLockId = 0x63617265636861;  // "carecha"

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS record_content (
  id text PRIMARY KEY, media_type text NOT NULL, ciphertext bytea NOT NULL);
CREATE TABLE IF NOT EXISTS record_keys (
  id text PRIMARY KEY, sealed_key bytea NOT NULL, salt bytea NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
  kind text NOT NULL, payload bytea NOT NULL);
CREATE TABLE IF NOT EXISTS documents (key text COLLATE "C" PRIMARY KEY, bytes bytea NOT NULL);
)sql";

struct Statement {
  const char* name;
  const char* sql;
};
constexpr Statement kStatements[] = {
    {"put_content", "INSERT INTO record_content (id, media_type, ciphertext) VALUES ($1, $2, $3)"},
    {"put_keys", "INSERT INTO record_keys (id, sealed_key, salt) VALUES ($1, $2, $3)"},
    // A left join, so that a content row without its key row shows up as
    // corruption instead of as a missing record.
    {"get",
     "SELECT c.media_type, c.ciphertext, k.sealed_key, k.salt FROM record_content c "
     "LEFT JOIN record_keys k ON k.id = c.id WHERE c.id = $1"},
    {"delete_content", "DELETE FROM record_content WHERE id = $1"},
    {"delete_keys", "DELETE FROM record_keys WHERE id = $1"},
    {"add_outbox", "INSERT INTO outbox (id, kind, payload) VALUES ($1, $2, $3)"},
    {"list_outbox", "SELECT id, kind, payload FROM outbox ORDER BY seq LIMIT $1"},
    {"remove_outbox", "DELETE FROM outbox WHERE id = $1"},
    {"put_document", "INSERT INTO documents (key, bytes) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"},
    {"get_document", "SELECT bytes FROM documents WHERE key = $1"},
    {"replace_document",
     "INSERT INTO documents (key, bytes) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes"},
    // Keys compare bytewise (COLLATE "C", also in the primary key's index):
    // a prefix is one index range, up to PrefixEnd (ASCII keys) or the end.
    {"delete_documents", "DELETE FROM documents WHERE key COLLATE \"C\" >= $1 AND starts_with(key, $1)"},
    {"delete_documents_range", "DELETE FROM documents WHERE key COLLATE \"C\" >= $1 AND key COLLATE \"C\" < $2"},
    {"list_documents",
     "SELECT key, bytes FROM documents WHERE key COLLATE \"C\" >= $2 AND ($1 = '' OR key COLLATE \"C\" > $1) "
     "AND starts_with(key, $2) ORDER BY key COLLATE \"C\" LIMIT $3"},
    {"list_documents_range",
     "SELECT key, bytes FROM documents WHERE key COLLATE \"C\" >= $2 AND ($1 = '' OR key COLLATE \"C\" > $1) "
     "AND key COLLATE \"C\" < $4 ORDER BY key COLLATE \"C\" LIMIT $3"},
};

// The connection string without secrets, for error messages: only host,
// hostaddr, port, dbname and user are kept (never password, sslpassword, ...).
Result<std::string> Describe(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    // libpq's parse errors quote parts of the string, password included.
    PQfreemem(err);
    return Status::Invalid(
        "postgres: malformed connection string (not shown: it may hold a password)");
  }
  std::string out;
  for (const PQconninfoOption* o = opts; o->keyword; ++o) {
    const std::string_view k = o->keyword;
    if (!o->val || !*o->val) continue;
    if (k == "host" || k == "hostaddr" || k == "port" || k == "dbname" || k == "user") {
      if (!out.empty()) out += ' ';
      out.append(k).append("=").append(o->val);
    }
  }
  PQconninfoFree(opts);
  return out.empty() ? std::string("libpq defaults") : out;
}

// One line: libpq messages end in newlines and indent their hints.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string Bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

// Server WARNINGs (e.g. VACUUM skipping a table it does not own) go to the
// log; NOTICEs are not sent (client_min_messages = warning).
class NoticeLogger final : public pqxx::errorhandler {
 public:
  explicit NoticeLogger(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char msg[]) noexcept override {
    spdlog::warn("postgres: {}", OneLine(msg));
    return false;  // handled
  }
};

// A connection with its notice handler (destroyed first: it unregisters
// itself from the connection).
struct Conn {
  std::unique_ptr<pqxx::connection> c;
  std::unique_ptr<NoticeLogger> notices;
  ~Conn() { notices.reset(); }
};

// Thrown (inside this file only) when a COMMIT was sent but its outcome is
// unknown: the operation must not be retried.
struct InDoubt {
  std::string what;
};

// Commits `tx`; a connection lost during the COMMIT becomes InDoubt.
void Commit(pqxx::transaction_base& tx) {
  try {
    tx.commit();
  } catch (const pqxx::in_doubt_error& e) {
    throw InDoubt{e.what()};
  } catch (const pqxx::broken_connection& e) {
    throw InDoubt{e.what()};
  }
}

// A fixed number of connections, each lent to one thread at a time.
//
// Thread safety: Borrow may be called from any thread; it blocks while all
// connections are lent out. A Lease is used by the thread that borrowed it.
// Connecting happens outside the mutex, so a slow or failing server does not
// block threads returning connections.
//
// A slot holds nullptr when its connection is to be (re)made: at first, and
// after a Lease was discarded because the connection broke. The next Borrow
// of that slot connects; if that fails, the slot stays empty and Borrow
// returns kIOError, so the pool never shrinks. Borrow replaces a connection
// the server closed while it was idle (see Usable); one that dies between
// that check and its use fails the call's first attempt, and the retry asks
// for Borrow(/*fresh=*/true), which replaces whatever the slot holds.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->Return(std::move(conn_));
    }
    pqxx::connection& conn() { return *conn_->c; }
    int server_version() const { return conn_->c->server_version(); }
    // The connection is broken (or in an unknown state): close it; the slot
    // reconnects on its next use.
    void Discard() { conn_.reset(); }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Pool(std::string conninfo, std::string description, int size)
      : conninfo_(std::move(conninfo)), description_(std::move(description)) {
    for (int i = 0; i < size; ++i) idle_.push_back(nullptr);
  }

  Result<Lease> Borrow(bool fresh = false) {
    std::unique_ptr<Conn> conn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty(); });
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    if (fresh || (conn && !Usable(*conn->c))) conn.reset();
    if (!conn) {
      auto made = Connect();
      if (!made.ok()) {
        Return(nullptr);
        return made.status();
      }
      conn = std::move(*made);
    }
    return Lease(this, std::move(conn));
  }

 private:
  // A connection the server closed while it sat idle in the pool (restart,
  // pg_terminate_backend, idle timeout) has its FATAL message and EOF waiting
  // in the socket; nothing else arrives unasked on an idle connection here
  // (no LISTEN). Checking costs no round trip and spares the call a failed
  // first attempt -- and libpqxx 6.4 leaks the PGresult (~2 KB) of a query
  // that finds its connection lost (make_result asks for the client encoding,
  // which throws, before the result owns the PGresult).
  static bool Usable(const pqxx::connection& c) {
    if (!c.is_open() || c.sock() < 0) return false;
    pollfd p{c.sock(), POLLIN, 0};
    return ::poll(&p, 1, /*timeout=*/0) == 0;
  }

  void Return(std::unique_ptr<Conn> conn) {
    {
      std::lock_guard lock(mu_);
      // Connected ones at the back, so they are lent out before empty slots.
      if (conn) {
        idle_.push_back(std::move(conn));
      } else {
        idle_.insert(idle_.begin(), nullptr);
      }
    }
    cv_.notify_one();
  }

  Result<std::unique_ptr<Conn>> Connect() const {
    try {
      auto conn = std::make_unique<Conn>();
      conn->c = std::make_unique<pqxx::connection>(conninfo_);
      conn->notices = std::make_unique<NoticeLogger>(*conn->c);
      {
        pqxx::nontransaction tx(*conn->c);
        tx.exec("SET client_min_messages = warning");
      }
      // pqxx 6 prepares lazily, on a statement's first use on this connection.
      for (const Statement& s : kStatements) conn->c->prepare(s.name, s.sql);
      return conn;
    } catch (const std::exception& e) {
      // libpq's connection errors name host and port, never the password.
      return Status::IOError("postgres: cannot connect to " + description_ + ": " +
                             OneLine(e.what()));
    }
  }

  const std::string conninfo_;
  const std::string description_;  // conninfo without secrets
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // GUARDED_BY(mu_); nullptr = not connected
};

// PrefixEnd if it is ASCII (text must stay valid UTF-8), else "".
std::string AsciiPrefixEnd(const std::string& prefix) {
  std::string end = PrefixEnd(prefix);
  for (char c : end) {
    if (static_cast<unsigned char>(c) >= 0x80) return "";
  }
  return end;
}

class PostgresStore final : public RecordStore {
 public:
  explicit PostgresStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Init(int pool_size) {
    // Open every connection now, so a bad conninfo fails Open, not a later call.
    std::vector<Pool::Lease> leases;
    for (int i = 0; i < pool_size; ++i) {
      CC_ASSIGN_OR_RETURN(auto lease, pool_->Borrow());
      leases.push_back(std::move(lease));
    }
    // pg_stat_force_next_flush() exists from PostgreSQL 15 on.
    force_stats_flush_ = leases.front().server_version() >= 150000;
    return Run(
        "create schema",
        [&](Pool::Lease& lease) {
          pqxx::work tx(lease.conn());
          tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockId) + ")");
          tx.exec(kSchema);
          Commit(tx);
          return Status::Ok();
        },
        &leases.front());
  }

  Status Put(const StoredRecord& r) override {
    if (HasNul(r.id) || HasNul(r.media_type))
      return Status::Invalid("record id or media type holds a NUL byte");
    return Run("put record " + r.id, [&](Pool::Lease& lease) {
      pqxx::work tx(lease.conn());
      tx.exec_prepared("put_content", r.id, r.media_type, pqxx::binarystring(r.ciphertext));
      tx.exec_prepared("put_keys", r.id, pqxx::binarystring(r.sealed_key),
                       pqxx::binarystring(r.salt));
      Commit(tx);
      return Status::Ok();
    });
  }

  Result<StoredRecord> Get(std::string_view id) const override {
    const std::string key(id);
    if (HasNul(key)) return Status::Invalid("record id holds a NUL byte");
    StoredRecord out;
    Status st = Run("get record " + key, [&](Pool::Lease& lease) {
      // One statement: atomic without BEGIN/COMMIT round trips.
      pqxx::nontransaction tx(lease.conn());
      pqxx::result r = tx.exec_prepared("get", key);
      if (r.empty()) return Status::NotFound("record " + key);
      if (r[0][2].is_null())
        return Status::Corruption("record " + key + ": content row without key row");
      out.id = key;
      out.media_type = r[0][0].as<std::string>();
      out.ciphertext = Bytes(r[0][1]);
      out.sealed_key = Bytes(r[0][2]);
      out.salt = Bytes(r[0][3]);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status PutDocument(std::string_view key, std::string_view bytes) override {
    return WriteDocuments({{std::string(key), std::string(bytes), false}});
  }

  Status ReplaceDocument(std::string_view key, std::string_view bytes) override {
    return WriteDocuments({{std::string(key), std::string(bytes), true}});
  }

  Status WriteDocuments(const std::vector<DocumentWrite>& writes) override {
    for (const auto& w : writes) {
      if (HasNul(w.key)) return Status::Invalid("document key holds a NUL byte");
    }
    if (writes.empty()) return Status::Ok();
    return Run("write document " + writes.front().key, [&](Pool::Lease& lease) {
      pqxx::work tx(lease.conn());
      for (const auto& w : writes) {
        const pqxx::binarystring bytes(w.bytes);
        if (w.replace) {
          tx.exec_prepared("replace_document", w.key, bytes);
          continue;
        }
        if (tx.exec_prepared("put_document", w.key, bytes).affected_rows() == 0) {
          pqxx::result g = tx.exec_prepared("get_document", w.key);
          if (g.empty() || Bytes(g[0][0]) != w.bytes) return Status::Exists("document " + w.key + " holds other bytes");
        }
      }
      Commit(tx);
      return Status::Ok();
    });
  }

  Result<std::string> GetDocument(std::string_view key) const override {
    const std::string k(key);
    if (HasNul(k)) return Status::Invalid("document key holds a NUL byte");
    std::string out;
    Status st = Run("get document " + k, [&](Pool::Lease& lease) {
      pqxx::nontransaction tx(lease.conn());
      pqxx::result r = tx.exec_prepared("get_document", k);
      if (r.empty()) return Status::NotFound("no document " + k + " in the off-chain store");
      out = Bytes(r[0][0]);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListDocuments(std::string_view prefix,
                                                                         std::string_view after,
                                                                         size_t limit) const override {
    const std::string p(prefix), a(after);
    if (HasNul(p) || HasNul(a)) return Status::Invalid("document key holds a NUL byte");
    std::vector<std::pair<std::string, std::string>> out;
    const auto n = static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max()));
    Status st = Run("list documents " + p, [&](Pool::Lease& lease) {
      pqxx::nontransaction tx(lease.conn());
      const std::string end = AsciiPrefixEnd(p);
      pqxx::result r = end.empty() ? tx.exec_prepared("list_documents", a, p, n)
                                   : tx.exec_prepared("list_documents_range", a, p, n, end);
      out.clear();  // a retry starts over
      for (const auto& row : r) out.emplace_back(row[0].as<std::string>(), Bytes(row[1]));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<size_t> DeleteDocuments(std::string_view prefix) override {
    const std::string p(prefix);
    if (p.empty()) return Status::Invalid("deleting documents needs a prefix");
    if (HasNul(p)) return Status::Invalid("document key holds a NUL byte");
    size_t n = 0;
    Status st = Run("delete documents " + p, [&](Pool::Lease& lease) {
      pqxx::work tx(lease.conn());
      const std::string end = AsciiPrefixEnd(p);
      n = static_cast<size_t>((end.empty() ? tx.exec_prepared("delete_documents", p)
                                           : tx.exec_prepared("delete_documents_range", p, end))
                                  .affected_rows());
      Commit(tx);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return n;
  }

  Status Erase(std::string_view id, const OutboxEntry& receipt) override {
    const std::string key(id);
    if (HasNul(key)) return Status::Invalid("record id holds a NUL byte");
    CC_RETURN_IF_ERROR(CheckEntry(receipt));
    return Run("erase record " + key, [&](Pool::Lease& lease) {
      {
        pqxx::work tx(lease.conn());
        if (tx.exec_prepared("delete_content", key).affected_rows() == 0) {
          return Status::NotFound("record " + key);  // tx aborts: no receipt
        }
        tx.exec_prepared("delete_keys", key);
        tx.exec_prepared("add_outbox", receipt.id, receipt.kind,
                         pqxx::binarystring(receipt.payload));
        // Publishes this transaction's dead-tuple counts when it commits,
        // before the VACUUM below, instead of up to a second later: otherwise
        // the late count lands after VACUUM's and pg_stat_user_tables shows
        // n_dead_tup = 1 for a tuple that is gone. Operators (and the tests)
        // read n_dead_tup = 0 as "the erasure's VACUUM did its job".
        if (force_stats_flush_) tx.exec("SELECT pg_stat_force_next_flush()");
        Commit(tx);
      }
      Vacuum(lease, key);
      return Status::Ok();
    });
  }

  Status AddOutbox(const std::vector<OutboxEntry>& entries) override {
    if (entries.empty()) return Status::Ok();
    for (const OutboxEntry& e : entries) CC_RETURN_IF_ERROR(CheckEntry(e));
    return Run("add outbox entries (first " + entries.front().id + ")", [&](Pool::Lease& lease) {
      pqxx::work tx(lease.conn());
      for (const OutboxEntry& e : entries) {
        tx.exec_prepared("add_outbox", e.id, e.kind, pqxx::binarystring(e.payload));
      }
      Commit(tx);
      return Status::Ok();
    });
  }

  Result<std::vector<OutboxEntry>> ListOutbox(size_t limit) const override {
    std::vector<OutboxEntry> out;
    if (limit == 0) return out;
    const auto n =
        static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max()));
    Status st = Run("list outbox", [&](Pool::Lease& lease) {
      pqxx::nontransaction tx(lease.conn());
      pqxx::result r = tx.exec_prepared("list_outbox", n);
      out.clear();  // a retry starts over
      out.reserve(r.size());
      for (const auto& row : r) {
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), Bytes(row[2])});
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status RemoveOutbox(const std::vector<std::string>& ids) override {
    if (ids.empty()) return Status::Ok();
    for (const std::string& id : ids) {
      if (HasNul(id)) return Status::Invalid("outbox id holds a NUL byte");
    }
    return Run("remove outbox entries", [&](Pool::Lease& lease) {
      pqxx::work tx(lease.conn());
      for (const std::string& id : ids) tx.exec_prepared("remove_outbox", id);
      Commit(tx);
      return Status::Ok();
    });
  }

  std::string_view engine() const override { return "postgres"; }

 private:
  static Status CheckEntry(const OutboxEntry& e) {
    if (HasNul(e.id) || HasNul(e.kind))
      return Status::Invalid("outbox id or kind holds a NUL byte");
    return Status::Ok();
  }

  // VACUUM cannot run inside a transaction block: nontransaction is
  // autocommit. A failure here does not undo the erasure, which is committed
  // with its receipt; autovacuum or the next erasure's VACUUM removes the
  // dead tuples, so it is logged, not returned.
  //
  // TRUNCATE false: truncating empty pages off the end of a table needs an
  // ACCESS EXCLUSIVE lock, which blocks every reader, and a VACUUM waits up
  // to 5 s for it while other VACUUMs queue on the table. With concurrent
  // erasures this cost ~5 s per erasure (observed: 8 threads, 64 erasures,
  // 5 minutes). Autovacuum still truncates. Concurrent erasures' VACUUMs
  // still run one at a time per table (SHARE UPDATE EXCLUSIVE).
  static void Vacuum(Pool::Lease& lease, const std::string& id) {
    try {
      pqxx::nontransaction tx(lease.conn());
      tx.exec("VACUUM (TRUNCATE false) record_content, record_keys");
    } catch (const pqxx::broken_connection& e) {
      lease.Discard();
      spdlog::warn("postgres: record {} erased, but VACUUM failed: {}", id, OneLine(e.what()));
    } catch (const std::exception& e) {
      spdlog::warn("postgres: record {} erased, but VACUUM failed: {}", id, OneLine(e.what()));
    }
  }

  // Runs `fn` on a pooled connection and turns libpqxx's exceptions into a
  // Status. A connection found broken before COMMIT is discarded and `fn`
  // retried once on a fresh one: the server rolled the transaction back when
  // the connection died, so nothing is done twice. A COMMIT whose outcome is
  // unknown is not retried. `lease`, if given, is used instead of borrowing.
  template <typename Fn>
  Status Run(const std::string& what, Fn&& fn, Pool::Lease* lease = nullptr) const {
    for (int attempt = 0;; ++attempt) {
      std::optional<Pool::Lease> own;
      Pool::Lease* l = lease;
      if (!l) {
        auto b = pool_->Borrow(/*fresh=*/attempt > 0);
        if (!b.ok()) return b.status();
        own.emplace(std::move(*b));
        l = &*own;
      }
      try {
        return fn(*l);
      } catch (const InDoubt& e) {
        l->Discard();
        return Status::IOError(
            "postgres: " + what +
            ": connection lost during COMMIT, outcome unknown: " + OneLine(e.what));
      } catch (const pqxx::broken_connection& e) {
        l->Discard();
        if (attempt == 0 && !lease) {
          spdlog::warn("postgres: {}: connection lost ({}); retrying on a new connection", what,
                       OneLine(e.what()));
          continue;
        }
        return Status::IOError("postgres: " + what + ": connection lost: " + OneLine(e.what()));
      } catch (const pqxx::unique_violation&) {
        return Status::Exists("postgres: " + what + ": id already exists");
      } catch (const pqxx::data_exception& e) {
        // E.g. a text field that is not valid UTF-8.
        return Status::Invalid("postgres: " + what + ": " + OneLine(e.what()));
      } catch (const pqxx::sql_error& e) {
        return Status::IOError("postgres: " + what + ": " + OneLine(e.what()));
      } catch (const std::exception& e) {
        // A usage or conversion error in this file; the connection's state is
        // unknown, so it is not reused.
        l->Discard();
        return Status::Internal("postgres: " + what + ": " + OneLine(e.what()));
      }
    }
  }

  std::unique_ptr<Pool> pool_;
  bool force_stats_flush_ = false;  // set once by Init
};

}  // namespace

Result<std::unique_ptr<RecordStore>> OpenPostgresStore(const std::string& conninfo, int pool) {
  if (pool < 1) return Status::Invalid("postgres: pool size must be at least 1");
  CC_ASSIGN_OR_RETURN(std::string description, Describe(conninfo));
  auto store = std::make_unique<PostgresStore>(std::make_unique<Pool>(conninfo, description, pool));
  CC_RETURN_IF_ERROR(store->Init(pool));
  return std::unique_ptr<RecordStore>(std::move(store));
}

// Test support (declared in record_store_test.cc; the tests do not include
// libpqxx): runs `sql` outside a transaction on a new connection and returns
// the rows as text, NULL as "".
Result<std::vector<std::vector<std::string>>> PostgresQueryForTesting(const std::string& conninfo,
                                                                      const std::string& sql);
Result<std::vector<std::vector<std::string>>> PostgresQueryForTesting(const std::string& conninfo,
                                                                      const std::string& sql) {
  CC_ASSIGN_OR_RETURN(std::string description, Describe(conninfo));
  try {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : tx.exec(sql)) {
      auto& out = rows.emplace_back();
      for (const auto& f : row) out.push_back(f.is_null() ? std::string() : f.as<std::string>());
    }
    return rows;
  } catch (const pqxx::broken_connection& e) {
    return Status::IOError("postgres: cannot connect to " + description + ": " + OneLine(e.what()));
  } catch (const std::exception& e) {
    return Status::IOError("postgres: " + OneLine(e.what()));
  }
}

}  // namespace cc::offchain

// The custodian's off-chain record store: one interface, two engines
// (SQLite embedded, PostgreSQL in production).
//
// A record is kept in two rows, so that destroying the key alone makes every
// copy of the ciphertext (backups included) unreadable (crypto-shredding):
//   record_content(id, media_type, ciphertext)   ciphertext sealed under the record key
//   record_keys(id, sealed_key, salt)            record key sealed under the store's master key
// Nothing in the store is personal data in clear; sealing and unsealing are
// the gatekeeper's job (offchain/gatekeeper), the store only keeps bytes.
//
// The outbox holds what the custodian still owes the chain (access entries,
// erasure receipts): an entry is added in the same store transaction as the
// act it reports and removed once the chain has committed it, so a crash
// between the two loses nothing (a committed entry may be sent twice; the
// records module ignores duplicates).
//
// Documents are what the node keeps off chain besides records, by key,
// mostly written once: the cold chain's reading batches (no personal data,
// in clear, anchored on chain by their Merkle root) and the wearables'
// batches, rules and alerts (sealed by offchain/wearables).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace cc::offchain {

struct StoredRecord {
  std::string id;          // the record id (32 lower-case hex digits)
  std::string media_type;  // e.g. "text/plain", "application/fhir+json"
  std::string ciphertext;  // nonce || XChaCha20-Poly1305(content)
  std::string sealed_key;  // nonce || XChaCha20-Poly1305(record key) under the master key
  std::string salt;        // 32 bytes: the key of the salted content hash on chain
  bool operator==(const StoredRecord&) const = default;
};

struct OutboxEntry {
  std::string id;       // unique (32 lower-case hex digits)
  std::string kind;     // "access" or "erasure"
  std::string payload;  // canonical JSON, as it goes into the transaction
  bool operator==(const OutboxEntry&) const = default;
};

// The upper bound of a scan of the keys that start with `prefix`: the
// smallest string after all of them; "" if there is none (an empty prefix,
// or one of 0xff bytes only).
inline std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

struct DocumentWrite {
  std::string key, bytes;
  bool replace = false;  // else write-once
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Stores a new record. kAlreadyExists if the id is taken.
  [[nodiscard]] virtual Status Put(const StoredRecord& record) = 0;
  // kNotFound if there is no such record (never stored, or erased).
  [[nodiscard]] virtual Result<StoredRecord> Get(std::string_view id) const = 0;
  // Deletes the record's ciphertext, key and salt and adds `receipt` to the
  // outbox in the same transaction. kNotFound (and no outbox entry) if there
  // is no record. SQLite: the bytes are gone from every file of the store
  // (secure_delete zeroes freed space; the WAL is checkpointed and
  // truncated). PostgreSQL: VACUUM frees the dead rows, but their bytes stay
  // in the table's free space (and in WAL segments) until overwritten or a
  // VACUUM FULL; they remain sealed under a record key that is itself only
  // stored sealed, so they are as safe as the master key (docs/modules/records.md).
  [[nodiscard]] virtual Status Erase(std::string_view id, const OutboxEntry& receipt) = 0;

  // Adds entries to the outbox (one transaction). kAlreadyExists if an id is taken.
  [[nodiscard]] virtual Status AddOutbox(const std::vector<OutboxEntry>& entries) = 0;
  // The oldest `limit` entries, oldest first.
  [[nodiscard]] virtual Result<std::vector<OutboxEntry>> ListOutbox(size_t limit) const = 0;
  // Removes entries by id; ids not present are ignored.
  [[nodiscard]] virtual Status RemoveOutbox(const std::vector<std::string>& ids) = 0;

  // Stores `bytes` under `key`, durably. The same bytes again: OK (a
  // retry); other bytes under a taken key: kAlreadyExists, the first stay.
  [[nodiscard]] virtual Status PutDocument(std::string_view key, std::string_view bytes) = 0;
  // Each write as PutDocument (or ReplaceDocument if `replace`), all or
  // none (one transaction).
  [[nodiscard]] virtual Status WriteDocuments(const std::vector<DocumentWrite>& writes) = 0;
  // Stores `bytes` under `key`, replacing what was there (a patient's rules).
  [[nodiscard]] virtual Status ReplaceDocument(std::string_view key, std::string_view bytes) = 0;
  // kNotFound if nothing is stored under `key`.
  [[nodiscard]] virtual Result<std::string> GetDocument(std::string_view key) const = 0;
  // Up to `limit` documents whose keys start with `prefix` and sort after
  // `after` (bytewise; "" = from the first), in key order.
  [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> ListDocuments(
      std::string_view prefix, std::string_view after, size_t limit) const = 0;

  // Deletes every document whose key starts with `prefix` (not empty);
  // returns how many. SQLite: zeroed and out of the WAL, as Erase.
  [[nodiscard]] virtual Result<size_t> DeleteDocuments(std::string_view prefix) = 0;

  // "sqlite" or "postgres".
  virtual std::string_view engine() const = 0;
};

// Opens (creating if needed) the SQLite store at `path`.
Result<std::unique_ptr<RecordStore>> OpenSqliteStore(const std::string& path);
// Connects to PostgreSQL (libpq connection string, e.g.
// "host=127.0.0.1 port=5432 dbname=carechain user=carechain") and creates
// the tables if needed. `pool` connections are opened.
Result<std::unique_ptr<RecordStore>> OpenPostgresStore(const std::string& conninfo, int pool = 4);

}  // namespace cc::offchain

// The custodian's gatekeeper: stores records sealed, serves them only under
// a valid consent, logs every read (and every refusal) to the chain in
// batches, and carries out erasures (crypto-shredding).
//
// Keys: each record has its own random key (XChaCha20-Poly1305); the record
// key is kept sealed under the custodian's master key, in another table than
// the ciphertext. The content hash on chain is BLAKE2b-256 keyed with a
// per-record random salt that never leaves the custodian: once salt, key and
// ciphertext are destroyed, nothing on chain can be linked to the content.
//
// What the custodian owes the chain (access entries, erasure receipts) goes
// through the store's outbox: written with the act, sent by a background
// flusher as transactions signed by the node key (admission::Admission::
// SubmitAsNode), removed once committed.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "admission/admission.h"
#include "apps/records/consent.h"
#include "crypto/aead.h"
#include "ledger/block.h"
#include "ledger/state.h"
#include "offchain/record_store.h"
#include "util/env.h"

namespace cc::offchain {

struct GatekeeperOptions {
  std::string org;               // the custodian: the node's organisation
  uint64_t flush_interval_ms = 200;
  size_t max_entries_per_tx = 500;
  size_t max_tx_bytes = 64 * 1024;   // the network's limit (genesis params.max_tx_bytes)
  uint64_t resend_after_ms = 30000;  // a sent batch not committed by then is sent again
};

struct NewRecord {
  PublicKey patient;
  std::string resource_type;  // FHIR resource type, e.g. "DiagnosticReport"
  std::string category;       // e.g. "imaging"
  std::string media_type;     // e.g. "text/plain"
  std::string content;
};

struct Published {
  std::string record;  // id
  TxId tx;             // the publish transaction (pending)
  Hash256 content_hash;
};

struct Served {
  std::string content;
  std::string media_type;
  records::Decision decision;
};

struct Reader {
  PublicKey key;
  std::string org;
};

class Gatekeeper {
 public:
  // `state` is the node's committed state; `master` seals record keys.
  // Decisions read `consents` (the node's ConsentIndex), or the state itself
  // when it is null.
  Gatekeeper(RecordStore* store, const StateReader* state, AeadKey master, GatekeeperOptions options,
             Clock* clock, const records::ConsentView* consents = nullptr);
  ~Gatekeeper();

  // Starts the outbox flusher. Records' pointers and the outbox are
  // submitted as the node's transactions through `admission`, which must
  // stay valid until Stop() returned.
  void Start(admission::Admission* admission);
  void Stop();

  // Seals `r`, submits its pointer, then stores it. The pointer goes first:
  // a crash in between leaves a pointer without content (served as erased),
  // never personal data without a pointer the patient could erase through.
  // kNotFound if the patient is not an active patient.
  Result<Published> Store(const NewRecord& r);

  // Serves record `rid` to `reader` for `purpose` if the consent decision
  // allows it; either way the attempt is logged (outbox). Errors:
  // kPermissionDenied (with the decision's reason), kNotFound (unknown
  // record), kFailedPrecondition "erased" or another custodian's record,
  // kCorruption if the content no longer matches its hash.
  Result<Served> Fetch(const Reader& reader, std::string_view rid, std::string_view purpose);

  // The patient's erasure request: destroys ciphertext, key and salt and
  // queues the receipt. kPermissionDenied unless `requester` is the record's
  // patient; kFailedPrecondition if already erased or held elsewhere.
  // Returns the receipt's transaction id once submitted (the flusher runs at once).
  Result<TxId> Erase(const PublicKey& requester, std::string_view rid);

  // Sends what the outbox holds now; returns the number of entries sent.
  // (The flusher calls it; tests call it directly.)
  Result<size_t> Flush();
  // Chain commit listener: removes committed outbox entries.
  void OnCommit(const BlockPtr& block);

  size_t in_flight() const;
  const std::string& org() const { return options_.org; }

 private:
  Status Log(const Reader& reader, std::string_view rid, std::string_view purpose,
             const records::Decision& d, bool allowed);
  // Adds `e` to the outbox durably. Concurrent callers share one store
  // transaction (group commit): the first to arrive writes everything
  // queued while the others wait for it.
  Status Append(OutboxEntry e);
  void FlushLoop();

  RecordStore* store_;
  const StateReader* state_;
  records::StateConsentView state_view_;
  const records::ConsentView* consents_;
  const AeadKey master_;
  const GatekeeperOptions options_;
  Clock* clock_;
  admission::Admission* admission_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;           // GUARDED_BY(mu_)
  struct Sent {
    std::vector<std::string> entries;
    uint64_t at_ms;
  };
  std::map<TxId, Sent> sent_;             // GUARDED_BY(mu_)
  std::map<std::string, TxId> sent_ids_;  // entry id -> its transaction; GUARDED_BY(mu_)
  std::mutex flush_mu_;                   // one Flush() at a time

  std::mutex log_mu_;
  std::condition_variable log_cv_;
  std::vector<OutboxEntry> log_queue_;    // GUARDED_BY(log_mu_)
  uint64_t log_enqueued_ = 0;             // tickets handed out; GUARDED_BY(log_mu_)
  uint64_t log_durable_ = 0;              // tickets written (or failed); GUARDED_BY(log_mu_)
  bool log_writing_ = false;              // a caller is writing a group; GUARDED_BY(log_mu_)
  std::deque<std::pair<uint64_t, Status>> log_results_;  // (last ticket, status) per group; GUARDED_BY(log_mu_)
  std::thread flusher_;
};

// Reads the master key at `path`, creating it (0600) if absent.
Result<AeadKey> LoadOrCreateMasterKey(const std::string& path);

}  // namespace cc::offchain

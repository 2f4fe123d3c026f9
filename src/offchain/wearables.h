// The custodian's side of the wearables module (docs/modules/wearables.md):
// it receives a device's signed batches from the patient's app, keeps the
// readings encrypted in the off-chain store, evaluates the patient's
// early-warning rules on them and hands back the anchor for the chain.
//
// Everything personal is sealed (XChaCha20-Poly1305) under a data key of
// the patient's, itself sealed under the node's master key and kept in the
// store ("wearables/key/<patient>"); destroying that one document shreds
// the patient's readings, rules and alerts at once.
//
// Documents (keys; values sealed):
//   wearables/key/<patient>                              the patient's data key
//   wearables/batch/<device>/<seq 8 digits>/<root>       [[t, metric, value], ...]
//   wearables/rules/<patient>                            {"rules": [...], "notify": [provider keys]}
//   wearables/alert/<patient>/<at 16 digits>/<rule>      an Alert
//   wearables/runs/<patient>                             the rules' runs in progress (Evaluator::SaveRuns)
//   wearables/day/<patient>/<metric>/<day 6 digits>/<device>/<seq 8 digits>
//                                                        a wearables::DaySummary of the batch's
//                                                        readings of that day (research aggregates)
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/wearables/rules.h"
#include "apps/wearables/summary.h"
#include "apps/wearables/wearables.h"
#include "crypto/aead.h"
#include "ledger/state.h"
#include "offchain/record_store.h"

namespace cc::offchain {

struct IngestedBatch {
  nlohmann::json anchor;             // the anchor transaction's payload
  std::vector<wearables::Alert> alerts;
  size_t readings = 0;
};

class WearableCustodian {
 public:
  // `state` is the node's committed state; `org` the node's organisation.
  WearableCustodian(RecordStore* store, const StateReader* state, AeadKey master, std::string org);

  // A batch from the patient's app: {device, seq, readings: [{t, metric,
  // value}], device_sig}, sent by `caller`. Errors: kPermissionDenied (not
  // the device's patient), kFailedPrecondition (another custodian's device,
  // a revoked device, a sequence number already on chain), kInvalidArgument
  // (malformed readings, a signature that does not match), kAlreadyExists (a
  // different batch under this sequence number). The same batch twice is
  // stored once and evaluated once.
  Result<IngestedBatch> Ingest(const PublicKey& caller, const nlohmann::json& body);

  // The patient's rules and the providers their alerts also go to.
  Status SetRules(const PublicKey& patient, const nlohmann::json& body);
  Result<nlohmann::json> Rules(const PublicKey& patient) const;
  // Alerts of `patient` after `after` (the `last` or `next_after` of a
  // previous page), oldest first: {patient, alerts, last?, next_after?}.
  Result<nlohmann::json> Alerts(const PublicKey& patient, const std::string& after, size_t limit) const;
  // True if `reader` may read `patient`'s alerts: the patient or a provider they named.
  bool MayReadAlerts(const PublicKey& reader, const PublicKey& patient) const;
  // The readings of a device's batch `seq` with root `root` (decrypted).
  Result<std::vector<wearables::Reading>> Batch(const PublicKey& device, uint64_t seq, const std::string& root) const;

  // The patient's erasure request: destroys their data key (crypto-shredding:
  // every sealed copy, backups included, is unreadable from then on), then
  // their batches, day summaries, rules and alerts here. Returns how many
  // documents were deleted. Readings sent later start afresh under a new key.
  Result<size_t> Erase(const PublicKey& patient);

  // For research (offchain/research_data.h):
  // True if a device of `patient` keeps its readings here.
  bool Keeps(const PublicKey& patient) const;
  // The patient's day summaries of `metric` (an index into Metrics()) from
  // `first_day` to `last_day` (days since the epoch, inclusive), merged;
  // anchored batches only.
  Result<wearables::DaySummary> DaySummaries(const PublicKey& patient, uint8_t metric, uint64_t first_day,
                                             uint64_t last_day) const;
  // Every anchored reading of `metric` of the patient's devices kept here, in time order.
  Result<std::vector<wearables::Reading>> PatientReadings(const PublicKey& patient, uint8_t metric) const;
  // BLAKE2b-256 of `data` keyed with the master key (pseudonyms, date shifts).
  Hash256 Keyed(std::string_view data) const;
  RecordStore* store() const { return store_; }
  const StateReader* state() const { return state_; }

  // Blocks until an alert of `patient` newer than `seen` (an alert count)
  // exists or `timeout_ms` passed; returns the count now (for the SSE stream).
  uint64_t WaitForAlerts(const std::string& patient, uint64_t seen, uint64_t timeout_ms) const;
  const std::string& org() const { return org_; }

 private:
  Result<AeadKey> DataKey(const std::string& patient) const;
  Result<nlohmann::json> ReadSealed(const std::string& key, const std::string& patient) const;
  // One patient's lock and rule state: batches of a patient are taken one
  // at a time (their rules see readings in order), different patients' in
  // parallel.
  struct Patient {
    std::mutex mu;
    std::unique_ptr<wearables::Evaluator> evaluator;  // GUARDED_BY(mu); null until rules are read
  };
  std::shared_ptr<Patient> PatientOf(const std::string& patient);
  // Feeds a batch's readings to the patient's rules: its alerts go to `out`,
  // the alerts and the runs after it to `writes`.
  Status Evaluate(wearables::Evaluator& e, const std::string& patient, const std::string& device,
                  const std::vector<wearables::Reading>& readings, const AeadKey& dk, IngestedBatch* out,
                  std::vector<DocumentWrite>* writes);
  // The patient's evaluator (rules and runs as stored). REQUIRES: p.mu held.
  Result<wearables::Evaluator*> EvaluatorOf(Patient& p, const std::string& patient, const AeadKey& dk);

  RecordStore* store_;
  const StateReader* state_;
  const AeadKey master_;
  const std::string org_;

  std::mutex patients_mu_;
  std::map<std::string, std::shared_ptr<Patient>> patients_;  // GUARDED_BY(patients_mu_)

  mutable std::mutex alert_mu_;
  mutable std::condition_variable alert_cv_;
  std::map<std::string, uint64_t> alert_counts_;  // GUARDED_BY(alert_mu_), by patient, since start
};

}  // namespace cc::offchain

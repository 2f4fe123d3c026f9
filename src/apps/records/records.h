// The records module: the MedRec design (docs/modules/records.md).
//
// Record pointers are published by the custodian's node; consents are
// granted and revoked by the patient; emergency access is declared by a
// provider; the custodian's node logs every read (batched) and confirms
// erasures. Personal data never enters the chain: a pointer holds a salted
// content hash, and the salt stays with the custodian.
//
// Actions (payloads are canonical JSON):
//   publish          {record, patient, resource_type, category, content_hash}   by a node
//   grant            {grantee | grantee_org, categories? , records?, purpose,
//                     from?, until, request?}                                   by the patient
//   request_access   {patient, categories? , records?, purpose, reason}         by a provider
//   decline          {request}                                                  by the patient
//   revoke           {consent}                                                  by the patient
//   emergency_access {patient, reason}                                          by a provider
//   log_access       {entries: [{id, record, reader, purpose, at, outcome,
//                     emergency, consent?, reason?}]}                           by the custodian's node
//   erase            {record, requested_by}                                     by the custodian's node
#pragma once

#include <string>
#include <vector>

#include "apps/records/keys.h"
#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::records {

// Purposes a consent may name (FHIR v3 PurposeOfUse: TREAT, HRESCH, HPAYMT, PUBHLTH).
inline const std::vector<std::string> kPurposes = {"treatment", "research", "payment", "public_health"};
// How long an emergency access stays open.
inline constexpr uint64_t kEmergencyWindowMs = 24ull * 3600 * 1000;
inline constexpr size_t kMaxLogEntries = 1000;

// An access request: "records/request/<qid>" (apps/records/requests.cc).
std::string RequestKey(std::string_view qid);
// Marks `qid`, a pending request to `patient`, answered: `status` "granted"
// (by `consent`, whose grantee must be the requester) or "declined".
// kNotFound, kUnauthorized (another patient's), kFailedPrecondition (answered
// already), kInvalidPayload (a consent to someone else).
TxResult AnswerRequest(const TxContext& ctx, Overlay& state, const std::string& qid, const PublicKey& patient,
                       const std::string& grantee, const std::string& status, const std::string& consent);

class RecordsModule : public Module {
 public:
  RecordsModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  // Paths: records/<rid>, consents/<cid>, requests/<qid>,
  // patients/<key>/{records,consents,access,requests} (params: limit, after).
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult Publish(const TxContext& ctx, Overlay& state) const;
  TxResult GrantConsent(const TxContext& ctx, Overlay& state) const;
  TxResult Revoke(const TxContext& ctx, Overlay& state) const;
  TxResult Emergency(const TxContext& ctx, Overlay& state) const;
  TxResult LogAccess(const TxContext& ctx, Overlay& state) const;
  TxResult Erase(const TxContext& ctx, Overlay& state) const;
  // Access requests (apps/records/requests.cc).
  TxResult RequestAccess(const TxContext& ctx, Overlay& state) const;
  TxResult Decline(const TxContext& ctx, Overlay& state) const;

  PayloadSchema publish_, grant_, revoke_, emergency_, log_, erase_, request_, decline_;
};

}  // namespace cc::records

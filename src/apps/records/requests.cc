// Access requests (records module): a provider asks a patient for a consent;
// the patient grants it (a `grant` naming the request) or declines it.
//
//   records/request/<qid>                       {request, patient, provider, org, categories?,
//                                                records?, purpose, reason, at, status,
//                                                answered_at?, consent?}
//   records/patient/<patient>/request/<qid>     ""  (a patient's requests)
//   records/pending/<patient>/<provider>        qid (one pending request per provider)
// qid is the first 32 hex digits of the requesting transaction's id.
#include "apps/identity/identity.h"
#include "apps/records/records.h"

namespace cc::records {
namespace {

std::string PendingKey(std::string_view patient, std::string_view provider) {
  return "records/pending/" + std::string(patient) + "/" + std::string(provider);
}

}  // namespace

std::string RequestKey(std::string_view qid) { return "records/request/" + std::string(qid); }

TxResult RecordsModule::RequestAccess(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const PublicKey& provider = ctx.tx.body().actor;
  auto org = identity::OrgIfRole(state, provider, {"provider"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "access is requested by providers");
  const PublicKey patient = *PublicKey::FromHex(p["patient"].get<std::string>());
  auto who = identity::LookupActor(state, patient);
  if (!who || !who->active || who->role != "patient")
    return TxResult::Reject(TxCode::kNotFound, "the patient is not a registered, active patient");
  for (const auto& rid : p.value("records", nlohmann::json::array())) {
    auto rec = ReadJsonObject(state, RecordKey(rid.get<std::string>()));
    if (!rec || (*rec)["patient"] != patient.hex())
      return TxResult::Reject(TxCode::kNotFound, "record " + rid.get<std::string>() + " is not one of the patient's records");
  }
  // One open request per provider and patient: no flooding the patient.
  const std::string pending = PendingKey(patient.hex(), provider.hex());
  if (auto open = state.Get(pending))
    return TxResult::Reject(TxCode::kAlreadyExists, "request " + *open + " to this patient is still open");
  const std::string qid = ctx.tx.id().hex().substr(0, 32);
  nlohmann::json q = p;
  q["request"] = qid;
  q["provider"] = provider.hex();
  q["org"] = *org;
  q["at"] = ctx.time_ms;
  q["status"] = "pending";
  state.Put(RequestKey(qid), q.dump());
  state.Put(PatientPrefix(patient.hex(), "request") + qid, "");
  state.Put(pending, qid);
  return TxResult::Ok();
}

TxResult AnswerRequest(const TxContext& ctx, Overlay& state, const std::string& qid, const PublicKey& patient,
                       const std::string& grantee, const std::string& status, const std::string& consent) {
  auto q = ReadJsonObject(state, RequestKey(qid));
  if (!q) return TxResult::Reject(TxCode::kNotFound, "no access request " + qid);
  if ((*q)["patient"] != patient.hex()) return TxResult::Reject(TxCode::kUnauthorized, "only its patient answers a request");
  if ((*q)["status"] != "pending")
    return TxResult::Reject(TxCode::kFailedPrecondition, "request " + qid + " is already " + (*q)["status"].get<std::string>());
  if (!grantee.empty() && grantee != (*q)["provider"])
    return TxResult::Reject(TxCode::kInvalidPayload, "a consent answering a request names its provider as grantee");
  (*q)["status"] = status;
  (*q)["answered_at"] = ctx.time_ms;
  if (!consent.empty()) (*q)["consent"] = consent;
  state.Put(RequestKey(qid), q->dump());
  state.Delete(PendingKey(patient.hex(), (*q)["provider"].get<std::string>()));
  return TxResult::Ok();
}

TxResult RecordsModule::Decline(const TxContext& ctx, Overlay& state) const {
  return AnswerRequest(ctx, state, ctx.payload["request"], ctx.tx.body().actor, "", "declined", "");
}

}  // namespace cc::records

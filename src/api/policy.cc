#include "api/policy.h"

#include <algorithm>

#include "apps/identity/identity.h"

namespace cc::api {
namespace {

bool IsOneOf(const std::string& role, std::initializer_list<const char*> roles) {
  for (const char* r : roles) {
    if (role == r) return true;
  }
  return false;
}

// Nodes and auditors see the whole chain; admins see their network.
bool ChainReader(const Principal& p) {
  return p.node || (p.active && IsOneOf(p.role, {"auditor", "admin", "regulator"}));
}

Status Deny(std::string why) { return Status::Denied(std::move(why)); }

}  // namespace

Principal ResolvePrincipal(const StateReader& state, const PublicKey& key) {
  Principal p;
  p.key = key;
  if (auto node = state.Get("identity/node/" + key.hex())) {
    p.node = true;
    auto j = nlohmann::json::parse(*node, nullptr, false);
    if (j.is_object()) p.org = j.value("org", "");
  }
  if (auto a = identity::LookupActor(state, key)) {
    p.active = a->active;
    p.role = a->role;
    if (p.org.empty()) p.org = a->org;
  }
  return p;
}

Status Authorize(const Principal& c, Operation op, const Resource& r) {
  if (!c.node && !c.active) return Deny("the signing key is not a registered, active actor or node");
  const bool self = r.subject && *r.subject == c.key;
  switch (op) {
    case Operation::kInfo:
    case Operation::kReadOrgs:
      return Status::Ok();
    case Operation::kSubmit:
      // Nodes forward transactions they accepted to the proposer (etcd ordering).
      return c.active || c.node ? Status::Ok() : Deny("only actors and nodes submit transactions");
    case Operation::kReadPacks:
      return ChainReader(c) || (c.active && IsOneOf(c.role, {"manufacturer", "wholesaler", "pharmacist"}))
                 ? Status::Ok()
                 : Deny("packs are read by manufacturers, wholesalers, pharmacists and chain readers");
    case Operation::kReadAlarms:
      if (ChainReader(c) && c.role != "admin") return Status::Ok();
      if (c.active && c.role == "manufacturer" && !r.org.empty() && r.org == c.org) return Status::Ok();
      return Deny("counterfeit alarms are listed for regulators, auditors and nodes; a manufacturer lists its "
                  "own with org=<its organisation>");
    case Operation::kReadShipment:
      if (ChainReader(c) && c.role != "admin") return Status::Ok();
      if (c.active && std::find(r.parties.begin(), r.parties.end(), c.org) != r.parties.end()) return Status::Ok();
      return Deny("a shipment is read by its sender, carrier and receiver, regulators, auditors and nodes");
    case Operation::kReadResearch:
      // A trial registry is public: any active actor or node reads it.
      return Status::Ok();
    case Operation::kUseResearchData:
      return c.active && c.role == "researcher" && c.org == r.org
                 ? Status::Ok()
                 : Deny("a study's consents and data are for the researchers of its organisation (" + r.org + ")");
    case Operation::kReadToken:
      if (!r.subject && r.org.empty()) return Status::Ok();  // the token's symbol and supply
      if (self || ChainReader(c)) return Status::Ok();
      if (!r.org.empty() && c.active && c.org == r.org) return Status::Ok();
      return Deny("a token account is read by its holder (an organisation's by its actors) and chain readers");
    case Operation::kReadAccessRequest:
      if (self || c.node || (c.active && IsOneOf(c.role, {"auditor", "regulator"}))) return Status::Ok();
      if (c.active && std::find(r.readers.begin(), r.readers.end(), c.key.hex()) != r.readers.end()) return Status::Ok();
      return Deny("an access request is read by its patient, the provider who made it, nodes and auditors");
    case Operation::kReadReviews:
      // Reviews name no patient: any active actor or node reads them.
      return Status::Ok();
    case Operation::kReadVisit:
      if (self || ChainReader(c)) return Status::Ok();
      if (c.active && c.org == r.org && IsOneOf(c.role, {"provider", "admin"})) return Status::Ok();
      return Deny("a visit is read by its patient, its provider's providers and admins, and chain readers");
    case Operation::kWriteReviewText:
      return self && c.active && c.role == "patient" ? Status::Ok()
                                                     : Deny("patients hand in and erase their own review texts");
    case Operation::kSendWearableData:
      return self && c.active && c.role == "patient" ? Status::Ok()
                                                     : Deny("a patient sends and sets their own wearable data");
    case Operation::kReadWearableData:
      if (self && c.active) return Status::Ok();
      if (c.active && c.role == "provider" &&
          std::find(r.readers.begin(), r.readers.end(), c.key.hex()) != r.readers.end())
        return Status::Ok();
      return Deny("wearable readings and alerts are the patient's and those of the providers they named");
    case Operation::kReadChain:
    case Operation::kReadState:
      return ChainReader(c) ? Status::Ok() : Deny("only nodes, auditors, regulators and admins read the chain");
    case Operation::kReadOwnTx:
      return self || ChainReader(c) ? Status::Ok() : Deny("a transaction is readable by its signer and by chain readers");
    case Operation::kReadMetrics:
      return c.node || (c.active && IsOneOf(c.role, {"admin", "auditor"}))
                 ? Status::Ok()
                 : Deny("metrics are for nodes, admins and auditors");
    case Operation::kReadNonce:
      return self || ChainReader(c) ? Status::Ok()
                                    : Deny("an actor's nonce is readable by the actor and chain readers");
    case Operation::kReadActor: {
      if (self || c.node || (c.active && IsOneOf(c.role, {"auditor", "regulator"}))) return Status::Ok();
      if (c.role == "admin" && r.subject_info.org == c.org) return Status::Ok();
      // A patient's key and its registering organisation are sensitive; other
      // actors (providers, pharmacies, ...) are public within the network.
      if (r.subject_info.role == "patient")
        return Deny("a patient's record is readable by the patient, its organisation's admins and auditors");
      return Status::Ok();
    }
    case Operation::kListActors:
      if (c.node || (c.active && IsOneOf(c.role, {"auditor", "regulator"}))) return Status::Ok();
      if (c.active && c.role == "admin") {
        return r.org == c.org ? Status::Ok() : Deny("admins list the actors of their own organisation (org=" + c.org + ")");
      }
      return Deny("listing actors is for nodes, admins, auditors and regulators");
    case Operation::kPublishRecord:
      return c.active && c.role == "provider" && c.org == r.org
                 ? Status::Ok()
                 : Deny("records are stored by providers of the custodian organisation (" + r.org + ")");
    case Operation::kFetchRecord:
      return c.active ? Status::Ok() : Deny("records are read by registered actors");
    case Operation::kReadPatientData:
      if (self) return Status::Ok();
      return c.node || (c.active && IsOneOf(c.role, {"auditor", "regulator"}))
                 ? Status::Ok()
                 : Deny("a patient's records, consents and access log are readable by the patient, nodes and auditors");
    case Operation::kEraseRecord:
      return self ? Status::Ok() : Deny("only the record's patient may ask for its erasure");
  }
  return Deny("unknown operation");
}

}  // namespace cc::api

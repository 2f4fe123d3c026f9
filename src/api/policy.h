// Who may do what through the API, decided in one place.
//
// Every authenticated request resolves its signing key to a Principal (an
// actor of the identity module, or a node key of the network) and asks
// Authorize() whether it may perform an Operation on a resource. Handlers
// never make their own access decisions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "ledger/state.h"
#include "util/status.h"

namespace cc::api {

struct Principal {
  PublicKey key;
  bool node = false;     // a node key named in genesis (orgs[].nodes)
  bool active = false;   // a registered, non-revoked actor
  std::string role;      // the actor's role ("" for nodes and strangers)
  std::string org;       // the actor's or node's organisation
};

// Looks `key` up in the committed state.
Principal ResolvePrincipal(const StateReader& state, const PublicKey& key);

enum class Operation {
  kInfo,          // GET /v1/info
  kSubmit,        // POST /v1/transactions[/batch] (the transactions carry their own signatures)
  kReadChain,     // blocks, any transaction, proofs
  kReadOwnTx,     // a transaction (or its proof) the caller signed
  kReadState,     // raw state by module
  kReadMetrics,   // GET /metrics
  kReadNonce,     // the next nonce of `subject`
  kReadActor,     // identity actors/<subject>
  kListActors,    // identity actors?org=
  kReadOrgs,      // identity orgs, orgs/<id>
  kPublishRecord, // POST /v1/records: a provider of the custodian (`org` = the node's organisation)
  kFetchRecord,   // GET /v1/records/<id>/content: an actor; the consent decision follows
  kReadPatientData,  // a patient's records, consents, access log (`subject` = the patient)
  kEraseRecord,   // POST /v1/records/<id>/erasure (`subject` = the record's patient)
  kReadPacks,     // supply packs/, cases/, transfers/, check: the supply chain's staff
  kReadAlarms,    // supply alarms (`org` = the manufacturer the listing is limited to, "" = all)
  kReadShipment,  // a cold-chain shipment, its readings and proofs (`parties` = its sender, carrier, receiver)
  kSendWearableData,  // a patient's own wearable batches and rules (`subject` = the patient)
  kReadWearableData,  // a patient's wearable readings and alerts (`subject` = the patient,
                      // `readers` = the providers the patient named who ask)
  kReadResearch,  // the research registry: studies, their results and priority (public to the network)
  kUseResearchData,  // a study's consents, exports and aggregates (`org` = the study's organisation)
  kReadToken,     // token meta (no subject, no org), an actor's account (`subject`) or an organisation's (`org`)
  kReadAccessRequest,  // records requests/<qid> (`subject` = the patient, `readers` = the requesting provider)
  kReadReviews,   // reviews, their texts and the providers' aggregates (public to the network)
  kReadVisit,     // an attested visit (`subject` = its patient, `org` = its provider)
  kWriteReviewText,  // POST /v1/reviews/texts and /erasure (`subject` = the patient)
};

struct Resource {
  std::optional<PublicKey> subject;  // the key a read is about, if any
  Principal subject_info;            // resolved subject (for kReadActor)
  std::string org;                   // the organisation a listing is limited to ("" = all)
  std::vector<std::string> parties;  // the organisations party to the object read
  std::vector<std::string> readers;  // keys (hex) the subject named as readers
};

// OK, or kPermissionDenied with a reason that names the rule (no personal
// data).
Status Authorize(const Principal& caller, Operation op, const Resource& resource = {});

}  // namespace cc::api

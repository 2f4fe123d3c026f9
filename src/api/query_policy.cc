// The access policy's inputs for module queries (GET /v1/modules/<m>/<path>):
// what each query is about, by its meaning, for api/policy's Authorize. The
// module's own header reads the objects a decision needs (a visit's
// patient, a shipment's parties, a study's organisation, ...).
#include "api/routes.h"
#include "apps/records/records.h"
#include "apps/reviews/reviews.h"
#include "apps/wearables/wearables.h"

namespace cc::api {

Status AuthorizeQuery(const Context& cx, std::string_view module, const std::string& path, QueryParams* params,
                      const Principal& caller) {
  Status allowed;
  if (module == "identity" && (path == "orgs" || path.starts_with("orgs/"))) {
    allowed = Authorize(caller, Operation::kReadOrgs);
  } else if (module == "identity" && path.starts_with("actors/")) {
    auto k = PublicKey::FromHex(path.substr(7));
    if (!k) return Status::Invalid("actor key must be 64 hex digits");
    allowed = Authorize(caller, Operation::kReadActor, {k, ResolvePrincipal(cx.chain->store(), *k), ""});
  } else if (module == "identity" && path == "actors") {
    allowed = Authorize(caller, Operation::kListActors,
                        {std::nullopt, {}, params->count("org") ? (*params)["org"] : ""});
  } else if (module == "supply" && path == "alarms") {
    allowed = Authorize(caller, Operation::kReadAlarms,
                        {std::nullopt, {}, params->count("org") ? (*params)["org"] : ""});
  } else if (module == "supply" && (path == "check" || path.starts_with("packs/") || path.starts_with("cases/") ||
                                    path.starts_with("transfers/"))) {
    allowed = Authorize(caller, Operation::kReadPacks);
    // Verdicts depend on the day: the node's clock, unless the caller asks
    // about another time.
    if (!params->count("at")) (*params)["at"] = std::to_string(Clock::System()->NowMs());
  } else if (module == "wearables" && (path.starts_with("devices/") || path.starts_with("patients/"))) {
    // A device is its patient's: the subject is the patient.
    auto k = PublicKey::FromHex(path.substr(path.find('/') + 1, 64));
    if (!k) return Status::Invalid("a key is 64 hex digits");
    PublicKey subject = *k;
    if (path.starts_with("devices/")) {
      auto d = wearables::ReadDevice(cx.chain->store(), *k);
      if (d) subject = *PublicKey::FromHex((*d)["patient"].get<std::string>());
    }
    Resource r{subject, {}, ""};
    if (cx.wearables && cx.wearables->MayReadAlerts(caller.key, subject)) r.readers = {caller.key.hex()};
    allowed = Authorize(caller, Operation::kReadWearableData, r);
    if (!allowed.ok() && Authorize(caller, Operation::kReadChain).ok()) allowed = Status::Ok();
  } else if (module == "coldchain" && path.starts_with("shipments/")) {
    nlohmann::json ship;
    allowed = MayReadShipment(cx, caller, path.substr(10, 16), &ship);
    if (allowed.code() == Code::kNotFound) return allowed;
  } else if (module == "research" && path.starts_with("patients/")) {
    auto k = PublicKey::FromHex(path.substr(9, 64));
    if (!k) return Status::Invalid("a key is 64 hex digits");
    allowed = Authorize(caller, Operation::kReadPatientData, {*k, {}, ""});
  } else if (module == "research" && path.starts_with("studies/") && path.ends_with("/consents")) {
    allowed = MayUseStudy(cx, caller, path.substr(8, path.size() - 8 - 9));
    if (allowed.code() == Code::kNotFound) return allowed;
    if (!allowed.ok() && Authorize(caller, Operation::kReadPatientData).ok()) allowed = Status::Ok();
  } else if (module == "research") {
    allowed = Authorize(caller, Operation::kReadResearch);
  } else if (module == "records" && path.starts_with("requests/")) {
    auto q = ReadJsonObject(cx.chain->store(), records::RequestKey(path.substr(9)));
    if (!q) return Status::NotFound("no access request " + path.substr(9));
    Resource r;
    r.subject = PublicKey::FromHex((*q)["patient"].get<std::string>());
    r.readers = {(*q)["provider"].get<std::string>()};
    allowed = Authorize(caller, Operation::kReadAccessRequest, r);
  } else if (module == "reviews" && path.starts_with("visits/")) {
    auto v = reviews::ReadVisit(cx.chain->store(), path.substr(7));
    if (!v) return Status::NotFound("no visit " + path.substr(7));
    Resource r;
    r.subject = PublicKey::FromHex((*v)["patient"].get<std::string>());
    r.org = (*v)["provider"];
    allowed = Authorize(caller, Operation::kReadVisit, r);
  } else if (module == "reviews" && path.starts_with("patients/")) {
    auto k = PublicKey::FromHex(path.substr(9, 64));
    if (!k) return Status::Invalid("a key is 64 hex digits");
    allowed = Authorize(caller, Operation::kReadPatientData, {*k, {}, ""});
  } else if (module == "reviews") {
    allowed = Authorize(caller, Operation::kReadReviews);
  } else if (module == "token") {
    // accounts/<key or org:<id>>[/history], or meta.
    Resource r;
    if (path.starts_with("accounts/")) {
      std::string account = path.substr(9, path.find('/', 9) == std::string::npos ? std::string::npos
                                                                                   : path.find('/', 9) - 9);
      if (account.starts_with("org:")) {
        r.org = account.substr(4);
      } else if (auto k = PublicKey::FromHex(account)) {
        r.subject = *k;
      } else {
        return Status::Invalid("an account is a key (64 hex digits) or org:<organisation>");
      }
    }
    allowed = Authorize(caller, Operation::kReadToken, r);
  } else {
    allowed = Authorize(caller, Operation::kReadChain);
  }
  return allowed;
}

}  // namespace cc::api

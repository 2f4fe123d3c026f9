// Routes of the records module: the custodian's gatekeeper and the
// patient's views (docs/api.md, "Records and consent").
#include <spdlog/spdlog.h>

#include <set>

#include "api/fhir.h"
#include "api/http_util.h"
#include "api/server.h"
#include "apps/records/records.h"
#include "crypto/sha256.h"

namespace cc::api {
namespace {

constexpr const char* kRecordId = "([0-9a-f]{32})";
constexpr const char* kKey = "([0-9a-fA-F]{64})";

bool WantsFhir(const httplib::Request& req) {
  return req.has_param("format") && req.get_param_value("format") == "fhir";
}

bool IsPurpose(const std::string& p) {
  return p == "emergency" ||
         std::find(records::kPurposes.begin(), records::kPurposes.end(), p) != records::kPurposes.end();
}

}  // namespace

void Server::RecordRoutes() {
  http_->Post("/v1/records", On(&Server::PublishRecord));
  http_->Get(std::string("/v1/records/") + kRecordId, On(&Server::GetRecord));
  http_->Get(std::string("/v1/records/") + kRecordId + "/content", On(&Server::FetchRecord));
  http_->Post(std::string("/v1/records/") + kRecordId + "/erasure", On(&Server::EraseRecord));
  http_->Get(std::string("/v1/patients/") + kKey + "/(records|consents|access-log|requests)", On(&Server::PatientData));
}

// Body: {"patient", "resource_type", "category", "media_type"?, "content" (UTF-8 text) |
// "content_base64"}.
void Server::PublishRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!gatekeeper_) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  if (!Refuse(res, Authorize(caller, Operation::kPublishRecord, {std::nullopt, {}, gatekeeper_->org()}), "policy"))
    return;
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) return ReplyError(res, Status::Invalid("body must be a JSON object"));
  for (const auto& [k, _] : body.items()) {
    static const std::set<std::string> known = {"patient", "resource_type", "category", "media_type",
                                                "content", "content_base64"};
    if (!known.count(k)) return ReplyError(res, Status::Invalid("unknown field '" + k + "'"));
  }
  auto str = [&](const char* k) { return body.contains(k) && body[k].is_string() ? body[k].get<std::string>() : ""; };
  offchain::NewRecord r;
  auto patient = PublicKey::FromHex(str("patient"));
  if (!patient) return ReplyError(res, Status::Invalid("field 'patient' must be the patient's key (64 hex digits)"));
  r.patient = *patient;
  r.resource_type = str("resource_type");
  r.category = str("category");
  r.media_type = body.contains("media_type") ? str("media_type") : "text/plain; charset=utf-8";
  if (r.media_type.empty() || r.media_type.size() > 100)
    return ReplyError(res, Status::Invalid("field 'media_type' must be a media type of at most 100 bytes"));
  if (body.contains("content") == body.contains("content_base64"))
    return ReplyError(res, Status::Invalid("send exactly one of 'content' (text) and 'content_base64'"));
  if (body.contains("content")) {
    if (!body["content"].is_string()) return ReplyError(res, Status::Invalid("field 'content' must be a string"));
    r.content = body["content"].get<std::string>();
  } else {
    auto raw = Base64Decode(str("content_base64"));
    if (!raw) return ReplyError(res, Status::Invalid("field 'content_base64' is not base64"));
    r.content.assign(raw->begin(), raw->end());
  }
  // The pointer's own checks (resource type, category) before anything is stored.
  Status shape = chain_->executor().modules().Find(records::kModule)->Check(
      "publish", {{"record", std::string(32, '0')}, {"patient", r.patient.hex()}, {"resource_type", r.resource_type},
                  {"category", r.category}, {"content_hash", std::string(64, '0')}});
  if (!shape.ok()) return ReplyError(res, shape);
  auto published = gatekeeper_->Store(r);
  if (!published.ok()) return ReplyError(res, published.status());
  nlohmann::json out = {{"record", published->record},
                        {"tx", published->tx.hex()},
                        {"custodian", gatekeeper_->org()},
                        {"content_hash", published->content_hash.hex()},
                        {"status", "pending"}};
  if (WantsCommitWait(req) && WaitCommitted(published->tx))
    out["status"] = "committed";
  ReplyJson(res, out, 201);
}

void Server::FetchRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!gatekeeper_) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  if (!Refuse(res, Authorize(caller, Operation::kFetchRecord), "policy")) return;
  const std::string rid = req.matches[1].str();
  std::string purpose = req.has_param("purpose") ? req.get_param_value("purpose") : "";
  if (purpose.empty()) {
    // The patient reading their own record states no purpose; the log says
    // "patient_request" (FHIR PurposeOfUse PATRQT).
    purpose = "patient_request";
    auto rec = records::StateConsentView(&chain_->store()).Record(rid);
    if (!rec || rec->patient != caller.key.hex())
      return ReplyError(res, Status::Invalid("say why: ?purpose=treatment|research|payment|public_health|emergency"));
  }
  if (req.has_param("purpose") && !IsPurpose(purpose))
    return ReplyError(res, Status::Invalid("purpose must be one of treatment, research, payment, public_health, emergency"));
  auto served = gatekeeper_->Fetch({caller.key, caller.org}, rid, purpose);
  if (!served.ok()) {
    const Status& s = served.status();
    if (s.code() == Code::kPermissionDenied) {
      metrics_->Counter("carechain_http_refused_total", "reason=\"consent\"")++;
      return ReplyError(res, 403, "no_consent", s.message());
    }
    if (s.code() == Code::kFailedPrecondition && s.message().starts_with("erased")) {
      return ReplyError(res, 410, "erased", s.message());
    }
    if (s.code() == Code::kCorruption) spdlog::error("gatekeeper: {}", s.message());
    return ReplyError(res, s);
  }
  const records::Decision& d = served->decision;
  metrics_->Counter("carechain_records_served_total", d.emergency ? "access=\"emergency\"" : "access=\"consent\"")++;
  res.set_header("Carechain-Access", d.own ? "own" : d.emergency ? "emergency" : "consent");
  if (!d.consent.empty()) res.set_header("Carechain-Consent", d.consent);
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(served->content), served->media_type);
}

void Server::EraseRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!gatekeeper_) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  const std::string rid = req.matches[1].str();
  auto rec = records::StateConsentView(&chain_->store()).Record(rid);
  if (!rec) return ReplyError(res, Status::NotFound("no record " + rid));
  auto patient = PublicKey::FromHex(rec->patient);
  if (!Refuse(res, Authorize(caller, Operation::kEraseRecord, {patient, {}, ""}), "policy")) return;
  auto receipt = gatekeeper_->Erase(caller.key, rid);
  if (!receipt.ok()) return ReplyError(res, receipt.status());
  nlohmann::json out = {{"record", rid}, {"status", "erased"}, {"receipt_tx", receipt->hex()}};
  if (WantsCommitWait(req)) out["receipt_committed"] = WaitCommitted(*receipt);
  ReplyJson(res, out, 202);
}

void Server::GetRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  const std::string rid = req.matches[1].str();
  const Module* m = chain_->executor().modules().Find(records::kModule);
  auto rec = m->Query("records/" + rid, {}, chain_->store());
  // Readable by whoever may read the patient's data, and by a reader a
  // consent lets read this record (for the purpose given, treatment by default).
  std::optional<PublicKey> patient;
  if (rec.ok()) patient = PublicKey::FromHex(rec->value("patient", ""));
  if (!rec.ok() || !Authorize(caller, Operation::kReadPatientData, {patient, {}, ""}).ok()) {
    std::string purpose = req.has_param("purpose") ? req.get_param_value("purpose") : "treatment";
    auto d = records::Decide(chain_->store(), {caller.key, caller.org, rid, purpose, Clock::System()->NowMs()});
    if (!rec.ok() || !d.allowed()) return ReplyError(res, Status::NotFound("no record " + rid + " that this key may read"));
  }
  ReplyJson(res, WantsFhir(req) ? fhir::DocumentReference(*rec) : *rec);
}

void Server::PatientData(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  const PublicKey patient = *PublicKey::FromHex(req.matches[1].str());
  const std::string what = req.matches[2].str();
  if (!Refuse(res, Authorize(caller, Operation::kReadPatientData, {patient, {}, ""}), "policy")) return;
  QueryParams params;
  for (const auto& [k, v] : req.params) params[k] = v;
  const std::string kind = what == "access-log" ? "access" : what;
  const Module* m = chain_->executor().modules().Find(records::kModule);
  auto r = m->Query("patients/" + patient.hex() + "/" + kind, params, chain_->store());
  if (!r.ok()) return ReplyError(res, r.status());
  if (!WantsFhir(req)) return ReplyJson(res, *r);
  if (kind == "requests") return ReplyError(res, Status::Invalid("access requests have no FHIR view"));
  std::vector<nlohmann::json> resources;
  for (const auto& item : (*r)[kind]) {
    if (kind == "records") resources.push_back(fhir::DocumentReference(item));
    if (kind == "consents") resources.push_back(fhir::Consent(item));
    if (kind == "access") resources.push_back(fhir::AuditEvent(item, patient.hex()));
  }
  ReplyJson(res, fhir::Bundle(std::move(resources)));
}

}  // namespace cc::api

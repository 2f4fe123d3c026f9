// Routes of the records module: the custodian's gatekeeper and the
// patient's views (docs/api.md, "Records and consent").
#include <spdlog/spdlog.h>

#include <set>

#include "api/fhir.h"
#include "api/http_util.h"
#include "api/routes.h"
#include "apps/records/records.h"
#include "crypto/sha256.h"

namespace cc::api {
namespace {

constexpr const char* kRecordId = "([0-9a-f]{32})";
constexpr const char* kKey = "([0-9a-fA-F]{64})";

bool WantsFhir(const http::Request& req) {
  return req.HasParam("format") && req.Param("format") == "fhir";
}

bool IsPurpose(const std::string& p) {
  return p == "emergency" ||
         std::find(records::kPurposes.begin(), records::kPurposes.end(), p) != records::kPurposes.end();
}

// Body: {"patient", "resource_type", "category", "media_type"?, "content" (UTF-8 text) |
// "content_base64"}.
void PublishRecord(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.gatekeeper) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  if (!cx.Refuse(res, Authorize(caller, Operation::kPublishRecord, {std::nullopt, {}, cx.gatekeeper->org()}), "policy"))
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
  Status shape = cx.chain->executor().modules().Find(records::kModule)->Check(
      "publish", {{"record", std::string(32, '0')}, {"patient", r.patient.hex()}, {"resource_type", r.resource_type},
                  {"category", r.category}, {"content_hash", std::string(64, '0')}});
  if (!shape.ok()) return ReplyError(res, shape);
  auto published = cx.gatekeeper->Store(r);
  if (!published.ok()) return ReplyError(res, published.status());
  nlohmann::json out = {{"record", published->record},
                        {"tx", published->tx.hex()},
                        {"custodian", cx.gatekeeper->org()},
                        {"content_hash", published->content_hash.hex()},
                        {"status", "pending"}};
  const TxId tx = published->tx;
  cx.AfterCommit(req, res, tx, [&cx, tx, out](http::Response& r) mutable {
    if (cx.chain->store().FindTx(tx)) out["status"] = "committed";
    ReplyJson(r, out, 201);
  });
}

void FetchRecord(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.gatekeeper) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  if (!cx.Refuse(res, Authorize(caller, Operation::kFetchRecord), "policy")) return;
  const std::string rid = req.matches[1];
  std::string purpose = req.HasParam("purpose") ? req.Param("purpose") : "";
  if (purpose.empty()) {
    // The patient reading their own record states no purpose; the log says
    // "patient_request" (FHIR PurposeOfUse PATRQT).
    purpose = "patient_request";
    auto rec = records::StateConsentView(&cx.chain->store()).Record(rid);
    if (!rec || rec->patient != caller.key.hex())
      return ReplyError(res, Status::Invalid("say why: ?purpose=treatment|research|payment|public_health|emergency"));
  }
  if (req.HasParam("purpose") && !IsPurpose(purpose))
    return ReplyError(res, Status::Invalid("purpose must be one of treatment, research, payment, public_health, emergency"));
  auto served = cx.gatekeeper->Fetch({caller.key, caller.org}, rid, purpose);
  if (!served.ok()) {
    const Status& s = served.status();
    if (s.code() == Code::kPermissionDenied) {
      cx.metrics->Counter("carechain_http_refused_total", "reason=\"consent\"")++;
      return ReplyError(res, 403, "no_consent", s.message());
    }
    if (s.code() == Code::kFailedPrecondition && s.message().starts_with("erased")) {
      return ReplyError(res, 410, "erased", s.message());
    }
    if (s.code() == Code::kCorruption) spdlog::error("gatekeeper: {}", s.message());
    return ReplyError(res, s);
  }
  const records::Decision& d = served->decision;
  cx.metrics->Counter("carechain_records_served_total", d.emergency ? "access=\"emergency\"" : "access=\"consent\"")++;
  res.SetHeader("Carechain-Access", d.own ? "own" : d.emergency ? "emergency" : "consent");
  if (!d.consent.empty()) res.SetHeader("Carechain-Consent", d.consent);
  res.SetHeader("Cache-Control", "no-store");
  res.SetContent(std::move(served->content), served->media_type);
}

void EraseRecord(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.gatekeeper) return ReplyError(res, Status::Unavailable("this node keeps no records (no off-chain store)"));
  if (Status empty = RequireEmptyBody(req); !empty.ok()) return ReplyError(res, empty);
  const std::string rid = req.matches[1];
  auto rec = records::StateConsentView(&cx.chain->store()).Record(rid);
  if (!rec) return ReplyError(res, Status::NotFound("no record " + rid));
  auto patient = PublicKey::FromHex(rec->patient);
  if (!cx.Refuse(res, Authorize(caller, Operation::kEraseRecord, {patient, {}, ""}), "policy")) return;
  auto receipt = cx.gatekeeper->Erase(caller.key, rid);
  if (!receipt.ok()) return ReplyError(res, receipt.status());
  nlohmann::json out = {{"record", rid}, {"status", "erased"}, {"receipt_tx", receipt->hex()}};
  const TxId tx = *receipt;
  const bool wait = WantsCommitWait(req);
  cx.AfterCommit(req, res, tx, [&cx, tx, out, wait](http::Response& r) mutable {
    if (wait) out["receipt_committed"] = cx.chain->store().FindTx(tx).has_value();
    ReplyJson(r, out, 202);
  });
}

void GetRecord(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  const std::string rid = req.matches[1];
  const Module* m = cx.chain->executor().modules().Find(records::kModule);
  auto rec = m->Query("records/" + rid, {}, cx.chain->store());
  // Readable by whoever may read the patient's data, and by a reader a
  // consent lets read this record (for the purpose given, treatment by default).
  std::optional<PublicKey> patient;
  if (rec.ok()) patient = PublicKey::FromHex(rec->value("patient", ""));
  if (!rec.ok() || !Authorize(caller, Operation::kReadPatientData, {patient, {}, ""}).ok()) {
    std::string purpose = req.HasParam("purpose") ? req.Param("purpose") : "treatment";
    auto d = records::Decide(cx.chain->store(), {caller.key, caller.org, rid, purpose, Clock::System()->NowMs()});
    if (!rec.ok() || !d.allowed()) return ReplyError(res, Status::NotFound("no record " + rid + " that this key may read"));
  }
  ReplyJson(res, WantsFhir(req) ? fhir::DocumentReference(*rec) : *rec);
}

void PatientData(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  const PublicKey patient = *PublicKey::FromHex(req.matches[1]);
  const std::string what = req.matches[2];
  if (!cx.Refuse(res, Authorize(caller, Operation::kReadPatientData, {patient, {}, ""}), "policy")) return;
  QueryParams params(req.params.begin(), req.params.end());
  const std::string kind = what == "access-log" ? "access" : what;
  const Module* m = cx.chain->executor().modules().Find(records::kModule);
  auto r = m->Query("patients/" + patient.hex() + "/" + kind, params, cx.chain->store());
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

}  // namespace

void AddRecordRoutes(Routes& r) {
  r.Post("/v1/records", PublishRecord);
  r.Get(std::string("/v1/records/") + kRecordId, GetRecord);
  r.Get(std::string("/v1/records/") + kRecordId + "/content", FetchRecord);
  r.Post(std::string("/v1/records/") + kRecordId + "/erasure", EraseRecord);
  r.Get(std::string("/v1/patients/") + kKey + "/(records|consents|access-log|requests)", PatientData);
}

}  // namespace cc::api

#include "cli/records_commands.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/common.h"
#include "crypto/sha256.h"
#include "util/env.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string patient, type, category, file, text, media_type, grantee, grantee_org, purpose, until, from,
      reason, out, record, request;
  std::vector<std::string> categories, records;
  bool wait = false, fhir = false;
};

// Valid UTF-8 without NUL bytes.
bool IsText(const std::string& s) {
  if (s.find('\0') != std::string::npos) return false;
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// Signs and submits a records transaction with the connection's key.
int SubmitRecordsTx(const Conn& c, const std::string& action, const nlohmann::json& payload, bool wait) {
  return PrintReply(SubmitAction(c, "records", action, payload, wait));
}

int Publish(const Conn& c, const Opts& o) {
  if (o.file.empty() == o.text.empty()) return Fail(Status::Invalid("give the content with --file or --text"));
  std::string content = o.text;
  if (!o.file.empty()) {
    auto f = ReadFile(o.file);
    if (!f.ok()) return Fail(f.status());
    content = std::move(*f);
  }
  auto client = Connect(c);
  if (!client.ok()) return Fail(client.status());
  nlohmann::json body = {{"patient", o.patient}, {"resource_type", o.type}, {"category", o.category}};
  if (!o.media_type.empty()) body["media_type"] = o.media_type;
  // Text goes as is; anything else (a PDF, an image) as base64.
  if (IsText(content)) {
    body["content"] = content;
  } else {
    body["content_base64"] = Base64Encode(AsBytes(content));
  }
  auto r = client->Post(std::string("/v1/records") + (o.wait ? "?wait=commit" : ""), body.dump(), "application/json");
  return r.ok() ? Print(*r) : Fail(r.status());
}

int Grant(const Conn& c, const Opts& o) {
  const uint64_t now = Clock::System()->NowMs();
  nlohmann::json p = {{"purpose", o.purpose}};
  if (o.grantee.empty() == o.grantee_org.empty())
    return Fail(Status::Invalid("name the grantee with --grantee KEY or --grantee-org ORG"));
  if (!o.grantee.empty()) p["grantee"] = o.grantee;
  if (!o.grantee_org.empty()) p["grantee_org"] = o.grantee_org;
  if (o.categories.empty() && o.records.empty())
    return Fail(Status::Invalid("say what the consent opens: --category C and/or --record ID (repeatable)"));
  if (!o.categories.empty()) p["categories"] = o.categories;
  if (!o.records.empty()) p["records"] = o.records;
  auto until = ParseTime(o.until, now);
  if (!until.ok()) return Fail(Status::Invalid("--until: " + until.status().message()));
  p["until"] = *until;
  if (!o.from.empty()) {
    auto from = ParseTime(o.from, now);
    if (!from.ok()) return Fail(Status::Invalid("--from: " + from.status().message()));
    p["from"] = *from;
  }
  if (!o.request.empty()) p["request"] = o.request;
  return SubmitRecordsTx(c, "grant", p, o.wait);
}

int Fetch(const Conn& c, const Opts& o) {
  auto client = Connect(c);
  if (!client.ok()) return Fail(client.status());
  std::string path = "/v1/records/" + o.record + "/content";
  if (!o.purpose.empty()) path += "?purpose=" + o.purpose;
  auto r = client->GetWithHeaders(path);
  if (!r.ok()) return Fail(r.status());
  auto header = [&](const char* k) {
    auto it = r->headers.find(k);
    return it == r->headers.end() ? std::string() : it->second;
  };
  std::fprintf(stderr, "access: %s%s%s\n", header("carechain-access").c_str(),
               header("carechain-consent").empty() ? "" : " under consent ", header("carechain-consent").c_str());
  if (!o.out.empty()) {
    Status s = WriteFileAtomic(o.out, r->body, 0600, /*overwrite=*/true);
    return s.ok() ? 0 : Fail(s);
  }
  std::cout << r->body << std::flush;
  return 0;
}

// The patient a listing is about: --patient, else the signing key's own.
Result<std::string> PatientOf(const Conn& c, const Opts& o) {
  if (!o.patient.empty()) return o.patient;
  CC_ASSIGN_OR_RETURN(std::string path, KeyFileOf(c));
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("public_key")) return Status::Invalid(path + " is not a key file");
  return j["public_key"].get<std::string>();
}

}  // namespace

Result<uint64_t> ParseTime(const std::string& t, uint64_t now_ms) {
  if (t.empty()) return Status::Invalid("a time is needed");
  if (t[0] == '+') {
    char unit = t.back();
    std::string num = t.substr(1, t.size() - 2);
    uint64_t scale = unit == 'd' ? 86400000 : unit == 'h' ? 3600000 : unit == 'm' ? 60000 : unit == 's' ? 1000 : 0;
    if (scale == 0 || num.empty() || num.find_first_not_of("0123456789") != std::string::npos || num.size() > 9)
      return Status::Invalid("'" + t + "' is not a duration like +30d, +12h, +90m or +45s");
    return now_ms + std::stoull(num) * scale;
  }
  if (t.find_first_not_of("0123456789") == std::string::npos) {
    if (t.size() > 15) return Status::Invalid("'" + t + "' is too large for milliseconds");
    return std::stoull(t);
  }
  std::tm tm{};
  const char* end = strptime(t.c_str(), "%Y-%m-%d", &tm);
  if (end && *end == 'T') end = strptime(end, "T%H:%M:%S", &tm);
  if (!end || (*end != '\0' && std::string(end) != "Z"))
    return Status::Invalid("'" + t + "' is not a date (2026-12-31 or 2026-12-31T18:00:00Z, UTC)");
  return static_cast<uint64_t>(timegm(&tm)) * 1000;
}

void AddRecordsCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* rec = app->add_subcommand("records", "Patient records, consent, the gatekeeper and erasure");
  rec->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c) {
    AddConnOptions(c, node, ca_file, key, "Your key file: signs the request (default: $CARECHAIN_KEY)");
  };

  auto* pub = rec->add_subcommand("publish", "Store a record at this node (its custodian) and publish its pointer");
  add_conn(pub);
  pub->add_option("--patient", o->patient, "The patient's key (hex)")->required();
  pub->add_option("--type", o->type, "FHIR resource type, e.g. DiagnosticReport")->required();
  pub->add_option("--category", o->category, "Category consents refer to, e.g. imaging")->required();
  pub->add_option("--file,-f", o->file, "The record's content");
  pub->add_option("--text", o->text, "The record's content, as text");
  pub->add_option("--media-type", o->media_type, "Media type (default: text/plain; charset=utf-8)");
  pub->add_flag("--wait,-w", o->wait, "Wait until the pointer is committed");
  pub->callback([=] { *rc = Publish(conn(), *o); });

  auto* grant = rec->add_subcommand("grant", "Grant a consent (signed by the patient)");
  add_conn(grant);
  grant->add_option("--grantee", o->grantee, "The actor allowed to read (key hex)");
  grant->add_option("--grantee-org", o->grantee_org, "Or: the organisation allowed to read");
  grant->add_option("--category", o->categories, "A category it opens (repeatable)");
  grant->add_option("--record", o->records, "A record it opens (repeatable)");
  grant->add_option("--purpose", o->purpose, "treatment, research, payment or public_health")->required();
  grant->add_option("--until", o->until, "End: +30d, +12h, 2026-12-31 or 2026-12-31T18:00:00Z")->required();
  grant->add_option("--from", o->from, "Start (default: now)");
  grant->add_option("--request", o->request, "The access request this consent answers (its provider is the grantee)");
  grant->add_flag("--wait,-w", o->wait, "Wait until it is committed");
  grant->callback([=] { *rc = Grant(conn(), *o); });

  auto* revoke = rec->add_subcommand("revoke", "Revoke a consent (signed by the patient)");
  add_conn(revoke);
  revoke->add_option("consent", o->record, "The consent's id (the granting transaction's id)")->required();
  revoke->add_flag("--wait,-w", o->wait, "Wait until it is committed");
  revoke->callback([=] { *rc = SubmitRecordsTx(conn(), "revoke", {{"consent", o->record}}, o->wait); });

  auto* request = rec->add_subcommand("request", "Ask a patient for a consent (providers); the patient grants or declines");
  add_conn(request);
  request->add_option("--patient", o->patient, "The patient's key (hex)")->required();
  request->add_option("--category", o->categories, "A category asked for (repeatable)");
  request->add_option("--record", o->records, "A record asked for (repeatable)");
  request->add_option("--purpose", o->purpose, "treatment, research, payment or public_health")->required();
  request->add_option("--reason", o->reason, "Why (shown to the patient)")->required();
  request->add_flag("--wait,-w", o->wait, "Wait until it is committed");
  request->callback([=] {
    if (o->categories.empty() && o->records.empty())
      return void(*rc = Fail(Status::Invalid("say what you ask for: --category C and/or --record ID (repeatable)")));
    nlohmann::json p = {{"patient", o->patient}, {"purpose", o->purpose}, {"reason", o->reason}};
    if (!o->categories.empty()) p["categories"] = o->categories;
    if (!o->records.empty()) p["records"] = o->records;
    *rc = SubmitRecordsTx(conn(), "request_access", p, o->wait);
  });

  auto* decline = rec->add_subcommand("decline", "Decline an access request (signed by the patient)");
  add_conn(decline);
  decline->add_option("request", o->request, "The request's id")->required();
  decline->add_flag("--wait,-w", o->wait, "Wait until it is committed");
  decline->callback([=] { *rc = SubmitRecordsTx(conn(), "decline", {{"request", o->request}}, o->wait); });

  auto* emergency = rec->add_subcommand("emergency", "Declare emergency access to a patient's records (providers)");
  add_conn(emergency);
  emergency->add_option("--patient", o->patient, "The patient's key (hex)")->required();
  emergency->add_option("--reason", o->reason, "Why (shown to the patient)")->required();
  emergency->add_flag("--wait,-w", o->wait, "Wait until it is committed");
  emergency->callback([=] {
    *rc = SubmitRecordsTx(conn(), "emergency_access", {{"patient", o->patient}, {"reason", o->reason}}, o->wait);
  });

  auto* fetch = rec->add_subcommand("fetch", "Read a record through its custodian's gatekeeper");
  add_conn(fetch);
  fetch->add_option("record", o->record, "Record id")->required();
  fetch->add_option("--purpose", o->purpose, "treatment, research, payment, public_health or emergency");
  fetch->add_option("--out,-o", o->out, "Write the content to this file (mode 0600) instead of stdout");
  fetch->callback([=] { *rc = Fetch(conn(), *o); });

  auto* erase = rec->add_subcommand("erase", "Have a record's content destroyed (the patient)");
  add_conn(erase);
  erase->add_option("record", o->record, "Record id")->required();
  erase->add_flag("--wait,-w", o->wait, "Wait until the erasure receipt is committed");
  erase->callback([=] {
    auto client = Connect(conn());
    if (!client.ok()) {
      *rc = Fail(client.status());
      return;
    }
    auto r = client->Post("/v1/records/" + o->record + "/erasure" + (o->wait ? "?wait=commit" : ""), "", "");
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });

  auto* show = rec->add_subcommand("show", "Show a record's pointer");
  add_conn(show);
  show->add_option("record", o->record, "Record id")->required();
  show->add_flag("--fhir", o->fhir, "As a FHIR R4 DocumentReference");
  show->callback([=] { *rc = GetAndPrint(conn(), "/v1/records/" + o->record + (o->fhir ? "?format=fhir" : "")); });

  for (const auto& [verb, what, help] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"list", "records", "A patient's record pointers"},
           {"consents", "consents", "A patient's consents (FHIR Consent with --fhir)"},
           {"access-log", "access-log", "Who accessed a patient's records, when and why (FHIR AuditEvent with --fhir)"},
           {"requests", "requests", "Providers' requests for access to a patient's records"}}) {
    auto* cmd = rec->add_subcommand(verb, help);
    add_conn(cmd);
    cmd->add_option("--patient", o->patient, "The patient's key (default: the signing key's own)");
    cmd->add_flag("--fhir", o->fhir, "As a FHIR R4 Bundle");
    cmd->callback([=, what = what] {
      auto p = PatientOf(conn(), *o);
      if (!p.ok()) {
        *rc = Fail(p.status());
        return;
      }
      *rc = GetAndPrint(conn(), "/v1/patients/" + *p + "/" + what + (o->fhir ? "?format=fhir" : ""));
    });
  }
}

}  // namespace cc::cli

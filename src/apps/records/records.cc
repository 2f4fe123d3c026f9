#include "apps/records/records.h"

#include <algorithm>

#include "apps/identity/identity.h"

namespace cc::records {
namespace {

bool IsActiveRole(const StateReader& state, const PublicKey& key, std::string_view role) {
  auto a = identity::LookupActor(state, key);
  return a && a->active && a->role == role;
}

PublicKey KeyField(const nlohmann::json& p, const char* name) {
  return *PublicKey::FromHex(p[name].get<std::string>());  // schema-checked
}

std::vector<std::string> Strings(const nlohmann::json& p, const char* name) {
  std::vector<std::string> out;
  if (auto it = p.find(name); it != p.end()) {
    for (const auto& s : *it) out.push_back(s.get<std::string>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsResourceType(const std::string& s) {
  return !s.empty() && s.size() <= 64 && s[0] >= 'A' && s[0] <= 'Z' &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

}  // namespace

RecordsModule::RecordsModule() {
  publish_.Hex("record", 16).Hex("patient", 32).String("resource_type", 64).Id("category").Hex("content_hash", 32);
  grant_.Hex("grantee", 32, false)
      .Id("grantee_org", false)
      .IdList("categories", 32, false)
      .HexList("records", 16, 256, false)
      .Enum("purpose", kPurposes)
      .UInt("from", 0, UINT64_MAX, false)
      .UInt("until", 1, UINT64_MAX)
      .Hex("request", 16, false);
  revoke_.Hex("consent", 32);
  request_.Hex("patient", 32)
      .IdList("categories", 32, false)
      .HexList("records", 16, 256, false)
      .Enum("purpose", kPurposes)
      .String("reason", 200);
  decline_.Hex("request", 16);
  emergency_.Hex("patient", 32).String("reason", 200);
  PayloadSchema entry;
  entry.Hex("id", 16)
      .Hex("record", 16, false)
      .Hex("patient", 32, false)
      .Enum("data", {"wearables"}, false)
      .Id("study", false)
      .String("what", 200, false)
      .Hex("reader", 32)
      .Id("purpose")
      .UInt("at", 0, UINT64_MAX)
      .Enum("outcome", {"allowed", "denied"})
      .Bool("emergency")
      .Hex("consent", 32, false)
      .String("reason", 200, false);
  log_.Objects("entries", std::move(entry), kMaxLogEntries);
  erase_.Hex("record", 16).Hex("requested_by", 32);
}

Status RecordsModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action == "publish") {
    CC_RETURN_IF_ERROR(publish_.Check(p));
    if (!IsResourceType(p["resource_type"].get<std::string>()))
      return Status::Invalid("field 'resource_type' must be a FHIR resource type such as DiagnosticReport");
    return Status::Ok();
  }
  if (action == "grant") {
    CC_RETURN_IF_ERROR(grant_.Check(p));
    if (p.contains("grantee") == p.contains("grantee_org"))
      return Status::Invalid("name exactly one of 'grantee' (an actor key) and 'grantee_org'");
    if (!p.contains("categories") && !p.contains("records"))
      return Status::Invalid("a consent needs 'categories' or 'records' (what it opens)");
    if (p.contains("from") && p["from"].get<uint64_t>() >= p["until"].get<uint64_t>())
      return Status::Invalid("'from' must be before 'until'");
    return Status::Ok();
  }
  if (action == "request_access") {
    CC_RETURN_IF_ERROR(request_.Check(p));
    if (!p.contains("categories") && !p.contains("records"))
      return Status::Invalid("a request needs 'categories' or 'records' (what it asks for)");
    return Status::Ok();
  }
  if (action == "decline") return decline_.Check(p);
  if (action == "revoke") return revoke_.Check(p);
  if (action == "emergency_access") return emergency_.Check(p);
  if (action == "log_access") {
    CC_RETURN_IF_ERROR(log_.Check(p));
    const auto& entries = p["entries"];
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (e.contains("record") == (e.contains("patient") || e.contains("data")) ||
          e.contains("patient") != e.contains("data"))
        return Status::Invalid("entries[" + std::to_string(i) +
                               "]: an entry is about a 'record', or about a 'patient''s other 'data'");
    }
    return Status::Ok();
  }
  if (action == "erase") return erase_.Check(p);
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult RecordsModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "publish") return Publish(ctx, state);
  if (a == "grant") return GrantConsent(ctx, state);
  if (a == "revoke") return Revoke(ctx, state);
  if (a == "emergency_access") return Emergency(ctx, state);
  if (a == "log_access") return LogAccess(ctx, state);
  if (a == "request_access") return RequestAccess(ctx, state);
  if (a == "decline") return Decline(ctx, state);
  return Erase(ctx, state);
}

TxResult RecordsModule::Publish(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  auto org = identity::NodeOrg(state, ctx.tx.body().actor);
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "record pointers are published by a custodian's node");
  const std::string rid = p["record"];
  if (state.Get(RecordKey(rid))) return TxResult::Reject(TxCode::kAlreadyExists, "record id is taken");
  const PublicKey patient = KeyField(p, "patient");
  if (!IsActiveRole(state, patient, "patient"))
    return TxResult::Reject(TxCode::kNotFound, "the patient is not a registered, active patient");
  nlohmann::json rec = {{"patient", patient.hex()},
                        {"custodian", *org},
                        {"resource_type", p["resource_type"]},
                        {"category", p["category"]},
                        {"content_hash", p["content_hash"]},
                        {"published_at", ctx.time_ms},
                        {"published_by", ctx.tx.body().actor.hex()},
                        {"status", "active"}};
  state.Put(RecordKey(rid), rec.dump());
  state.Put(PatientPrefix(patient.hex(), "record") + rid, "");
  return TxResult::Ok();
}

TxResult RecordsModule::GrantConsent(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const PublicKey& patient = ctx.tx.body().actor;
  if (!IsActiveRole(state, patient, "patient")) return TxResult::Reject(TxCode::kUnauthorized, "only a patient grants consent");
  std::string grantee;
  if (p.contains("grantee")) {
    const PublicKey g = KeyField(p, "grantee");
    auto a = identity::LookupActor(state, g);
    if (!a || !a->active) return TxResult::Reject(TxCode::kNotFound, "the grantee is not a registered, active actor");
    if (g == patient) return TxResult::Reject(TxCode::kInvalidPayload, "a patient needs no consent for their own records");
    grantee = g.hex();
  } else {
    const std::string org = p["grantee_org"];
    if (!state.Get("identity/org/" + org)) return TxResult::Reject(TxCode::kNotFound, "no organisation '" + org + "'");
    grantee = std::string(kOrgGrantee) + org;
  }
  Grant g;
  g.from_ms = p.value("from", ctx.time_ms);
  g.until_ms = p["until"];
  if (g.until_ms <= ctx.time_ms) return TxResult::Reject(TxCode::kInvalidPayload, "'until' is in the past");
  g.purpose = p["purpose"];
  g.records = Strings(p, "records");
  g.categories = Strings(p, "categories");
  for (const auto& rid : g.records) {
    auto rec = ReadJsonObject(state, RecordKey(rid));
    if (!rec || (*rec)["patient"] != patient.hex())
      return TxResult::Reject(TxCode::kNotFound, "record " + rid + " is not one of the patient's records");
  }
  const std::string cid = ctx.tx.id().hex();
  if (p.contains("request")) {
    auto answered = AnswerRequest(ctx, state, p["request"], patient, grantee, "granted", cid);
    if (!answered.ok()) return answered;
  }
  nlohmann::json c = p;
  c["patient"] = patient.hex();
  c["from"] = g.from_ms;
  c["granted_at"] = ctx.time_ms;
  c["status"] = "active";
  c["emergency"] = false;
  state.Put(ConsentKey(cid), c.dump());
  state.Put(GrantPrefix(patient.hex(), grantee) + cid, EncodeGrant(g));
  state.Put(PatientPrefix(patient.hex(), "consent") + cid, "");
  return TxResult::Ok();
}

TxResult RecordsModule::Revoke(const TxContext& ctx, Overlay& state) const {
  const std::string cid = ctx.payload["consent"];
  auto c = ReadJsonObject(state, ConsentKey(cid));
  if (!c) return TxResult::Reject(TxCode::kNotFound, "no consent " + cid);
  const std::string patient = (*c)["patient"];
  if (patient != ctx.tx.body().actor.hex())
    return TxResult::Reject(TxCode::kUnauthorized, "only the patient who granted a consent revokes it");
  if ((*c)["status"] != "active") return TxResult::Reject(TxCode::kFailedPrecondition, "the consent is already revoked");
  const std::string grantee = c->contains("grantee_org")
                                  ? std::string(kOrgGrantee) + (*c)["grantee_org"].get<std::string>()
                                  : (*c)["grantee"].get<std::string>();
  const std::string gkey = GrantPrefix(patient, grantee) + cid;
  auto raw = state.Get(gkey);
  auto g = raw ? DecodeGrant(*raw) : Result<Grant>(Status::NotFound("grant"));
  if (!g.ok()) return TxResult::Reject(TxCode::kFailedPrecondition, "the consent's grant entry is missing");
  g->revoked = true;
  state.Put(gkey, EncodeGrant(*g));
  (*c)["status"] = "revoked";
  (*c)["revoked_at"] = ctx.time_ms;
  state.Put(ConsentKey(cid), c->dump());
  return TxResult::Ok();
}

TxResult RecordsModule::Emergency(const TxContext& ctx, Overlay& state) const {
  const PublicKey& provider = ctx.tx.body().actor;
  if (!IsActiveRole(state, provider, "provider"))
    return TxResult::Reject(TxCode::kUnauthorized, "only a provider declares emergency access");
  const PublicKey patient = KeyField(ctx.payload, "patient");
  if (!IsActiveRole(state, patient, "patient"))
    return TxResult::Reject(TxCode::kNotFound, "the patient is not a registered, active patient");
  Grant g;
  g.from_ms = ctx.time_ms;
  g.until_ms = ctx.time_ms + kEmergencyWindowMs;
  g.purpose = "emergency";
  g.emergency = true;
  g.categories = {"*"};
  const std::string cid = ctx.tx.id().hex();
  nlohmann::json c = {{"patient", patient.hex()},  {"grantee", provider.hex()},
                      {"categories", {"*"}},       {"purpose", "emergency"},
                      {"reason", ctx.payload["reason"]}, {"from", g.from_ms},
                      {"until", g.until_ms},       {"granted_at", ctx.time_ms},
                      {"status", "active"},        {"emergency", true}};
  state.Put(ConsentKey(cid), c.dump());
  state.Put(GrantPrefix(patient.hex(), provider.hex()) + cid, EncodeGrant(g));
  state.Put(PatientPrefix(patient.hex(), "consent") + cid, "");
  return TxResult::Ok();
}

TxResult RecordsModule::LogAccess(const TxContext& ctx, Overlay& state) const {
  auto org = identity::NodeOrg(state, ctx.tx.body().actor);
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "access entries are logged by a custodian's node");
  const auto& entries = ctx.payload["entries"];
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.contains("data")) {
      // Data the custodian keeps besides records (wearable readings given to
      // a study): the node vouches for its own entry.
      const std::string patient = e["patient"];
      auto a = identity::LookupActor(state, KeyField(e, "patient"));
      if (!a || a->role != "patient")
        return TxResult::Reject(TxCode::kNotFound, "entry " + std::to_string(i) + ": no such patient");
      const std::string key = AccessKey(patient, e["at"], e["id"].get<std::string>());
      if (state.Get(key)) continue;
      nlohmann::json out = e;
      out["custodian"] = *org;
      out["category"] = e["data"];
      out["logged_at"] = ctx.time_ms;
      state.Put(key, out.dump());
      continue;
    }
    auto rec = ReadJsonObject(state, RecordKey(e["record"].get<std::string>()));
    if (!rec) return TxResult::Reject(TxCode::kNotFound, "entry " + std::to_string(i) + ": no such record");
    if ((*rec)["custodian"] != *org)
      return TxResult::Reject(TxCode::kUnauthorized,
                              "entry " + std::to_string(i) + ": the record is held by another custodian");
    const std::string key = AccessKey((*rec)["patient"].get<std::string>(), e["at"], e["id"].get<std::string>());
    if (state.Get(key)) continue;  // delivered twice (the custodian's outbox after a crash)
    nlohmann::json out = e;
    out["custodian"] = *org;
    out["category"] = (*rec)["category"];
    out["logged_at"] = ctx.time_ms;
    state.Put(key, out.dump());
  }
  return TxResult::Ok();
}

TxResult RecordsModule::Erase(const TxContext& ctx, Overlay& state) const {
  auto org = identity::NodeOrg(state, ctx.tx.body().actor);
  const std::string rid = ctx.payload["record"];
  auto rec = ReadJsonObject(state, RecordKey(rid));
  if (!rec) return TxResult::Reject(TxCode::kNotFound, "no such record");
  if (!org || (*rec)["custodian"] != *org)
    return TxResult::Reject(TxCode::kUnauthorized, "an erasure is confirmed by the record's custodian's node");
  if ((*rec)["patient"] != ctx.payload["requested_by"])
    return TxResult::Reject(TxCode::kUnauthorized, "only the record's patient may ask for its erasure");
  if ((*rec)["status"] == "erased") return TxResult::Reject(TxCode::kFailedPrecondition, "the record is already erased");
  (*rec)["status"] = "erased";
  (*rec)["erased_at"] = ctx.time_ms;
  (*rec)["erased_by"] = ctx.tx.body().actor.hex();
  (*rec)["erasure_requested_by"] = ctx.payload["requested_by"];
  state.Put(RecordKey(rid), rec->dump());
  return TxResult::Ok();
}

Result<nlohmann::json> RecordsModule::Query(std::string_view path, const QueryParams& params,
                                            const StateReader& state) const {
  const size_t limit = LimitParam(params, 100);
  std::string after;
  if (auto it = params.find("after"); it != params.end()) after = it->second;

  if (path.starts_with("records/")) {
    std::string rid(path.substr(8));
    auto j = ReadJsonObject(state, RecordKey(rid));
    if (!j) return Status::NotFound("no record " + rid);
    (*j)["id"] = rid;
    return *j;
  }
  if (path.starts_with("requests/")) {
    auto j = ReadJsonObject(state, RequestKey(path.substr(9)));
    if (!j) return Status::NotFound("no access request " + std::string(path.substr(9)));
    return *j;
  }
  if (path.starts_with("consents/")) {
    std::string cid(path.substr(9));
    auto j = ReadJsonObject(state, ConsentKey(cid));
    if (!j) return Status::NotFound("no consent " + cid);
    (*j)["id"] = cid;
    return *j;
  }
  if (path.starts_with("patients/")) {
    std::string_view rest = path.substr(9);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return Status::NotFound("records has no query '" + std::string(path) + "'");
    auto patient = PublicKey::FromHex(rest.substr(0, slash));
    if (!patient) return Status::Invalid("patient key must be 64 hex digits");
    std::string_view kind = rest.substr(slash + 1);
    if (kind != "records" && kind != "consents" && kind != "access" && kind != "requests")
      return Status::NotFound("records has no query '" + std::string(path) + "'");
    const std::string prefix = PatientPrefix(
        patient->hex(),
        kind == "records" ? "record" : kind == "consents" ? "consent" : kind == "requests" ? "request" : "access");
    nlohmann::json items = nlohmann::json::array();
    std::string last;
    state.Scan(prefix, after.empty() ? "" : prefix + after + std::string(1, '\0'),
               [&](std::string_view k, std::string_view v) {
                 last = std::string(k.substr(prefix.size()));
                 std::optional<nlohmann::json> j;
                 if (kind == "access") {
                   j = nlohmann::json::parse(v, nullptr, false);
                 } else {
                   j = ReadJsonObject(state, kind == "records"    ? RecordKey(last)
                                             : kind == "consents" ? ConsentKey(last)
                                                                  : RequestKey(last));
                   if (j) (*j)["id"] = last;
                 }
                 if (j && j->is_object()) items.push_back(std::move(*j));
                 return items.size() < limit;
               });
    nlohmann::json out = {{"patient", patient->hex()}, {std::string(kind), std::move(items)}};
    if (out[std::string(kind)].size() == limit) out["next_after"] = last;
    return out;
  }
  return Status::NotFound("records has no query '" + std::string(path) + "'");
}

}  // namespace cc::records

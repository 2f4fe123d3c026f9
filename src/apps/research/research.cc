#include "apps/research/research.h"

#include <algorithm>

#include "apps/identity/identity.h"
#include "apps/wearables/rules.h"
#include "crypto/hash.h"

namespace cc::research {
namespace {

// State keys (docs/modules/research.md#state).
constexpr std::string_view kStudy = "research/study/";        // <id>
constexpr std::string_view kVersion = "research/version/";    // <id>/<v>: 0 = the registration
constexpr std::string_view kResult = "research/result/";      // <id>/<seq>: commitment, disclosure
constexpr std::string_view kProtocol = "research/protocol/";  // <hash>/<rank>: priority claims
constexpr std::string_view kByOrg = "research/org/";          // <org>/<id>: ""
constexpr std::string_view kConsent = "research/consent/";    // <id>/<patient>: the consent
constexpr std::string_view kPatient = "research/patient/";    // <patient>/<id>: ""

std::string StudyKey(std::string_view id) { return std::string(kStudy) + std::string(id); }
std::string VersionKey(std::string_view id, uint64_t v) {
  return std::string(kVersion) + std::string(id) + "/" + ZeroPadded(v, 4);
}
std::string ResultKey(std::string_view id, uint64_t seq) {
  return std::string(kResult) + std::string(id) + "/" + ZeroPadded(seq, 4);
}
std::string ConsentKey(std::string_view id, std::string_view patient) {
  return std::string(kConsent) + std::string(id) + "/" + std::string(patient);
}
void WriteJson(Overlay& state, const std::string& key, const nlohmann::json& j) {
  state.Put(key, j.dump());
}

// When, where and by whom: every record of the module carries this.
nlohmann::json Stamp(const TxContext& ctx) {
  return {{"at", ctx.time_ms},
          {"height", ctx.height},
          {"by", ctx.tx.body().actor.hex()},
          {"tx", ctx.tx.id().hex()}};
}

// Records `study`'s claim on a protocol hash (once per study) and returns
// its priority: rank 1 is first; a later rank points at the first claim.
nlohmann::json Claim(Overlay& state, const std::string& hash, const std::string& study,
                     nlohmann::json claim) {
  const std::string prefix = std::string(kProtocol) + hash + "/";
  std::optional<nlohmann::json> first;
  uint64_t n = 0, own = 0;
  state.Scan(prefix, "", [&](std::string_view, std::string_view v) {
    auto c = nlohmann::json::parse(v);
    ++n;
    if (!first) first = c;
    if (own == 0 && c["study"] == study) own = n;
    return true;
  });
  if (own == 0) {
    own = ++n;
    claim["study"] = study;
    WriteJson(state, prefix + ZeroPadded(own, 6), claim);
  }
  if (own == 1) return {{"first", true}, {"rank", 1}};
  return {{"first", false},
          {"rank", own},
          {"first_study", (*first)["study"]},
          {"first_org", (*first)["org"]},
          {"first_height", (*first)["height"]},
          {"first_at", (*first)["at"]}};
}

// A signed-by-the-team action's study, or why it may not act.
std::optional<nlohmann::json> TeamStudy(const TxContext& ctx, const StateReader& state,
                                        TxResult* why) {
  const std::string id = ctx.payload["study"];
  auto study = ReadJsonObject(state, StudyKey(id));
  if (!study) {
    *why = TxResult::Reject(TxCode::kNotFound, "no study '" + id + "'");
    return std::nullopt;
  }
  const std::string org = (*study)["org"];
  if (identity::OrgIfRole(state, ctx.tx.body().actor, {"researcher"}) != org) {
    *why = TxResult::Reject(TxCode::kUnauthorized,
                            "only researchers of " + org +
                                ", the registrant's organisation, act on study '" + id + "'");
    return std::nullopt;
  }
  return study;
}

std::string StatusOf(const nlohmann::json& study) {
  const uint64_t commitments = study["commitments"], disclosures = study["disclosures"];
  if (commitments == 0) return "registered";
  return disclosures == commitments ? "results_disclosed" : "results_committed";
}

nlohmann::json Summary(const std::string& id, const nlohmann::json& s) {
  return {{"study", id},
          {"title", s["title"]},
          {"org", s["org"]},
          {"registrant", s["registrant"]},
          {"registered_at", s["registered_at"]},
          {"height", s["height"]},
          {"protocol_hash", s["protocol_hash"]},
          {"first", s["priority"]["first"]},
          {"status", StatusOf(s)},
          {"outcome_switching", s.value("outcome_switching", false)}};
}

}  // namespace

std::optional<nlohmann::json> ReadStudy(const StateReader& state, std::string_view id) {
  return ReadJsonObject(state, StudyKey(id));
}

std::vector<Consent> ActiveConsents(const StateReader& state, std::string_view study, uint64_t now_ms) {
  std::vector<Consent> out;
  const std::string prefix = std::string(kConsent) + std::string(study) + "/";
  state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
    auto c = nlohmann::json::parse(v);
    if (c["status"] == "active" && c["until"].get<uint64_t>() > now_ms)
      out.push_back({std::string(k.substr(prefix.size())), c["categories"].get<std::vector<std::string>>(),
                     c["until"], c["granted_at"], c["tx"]});
    return true;
  });
  return out;
}

ResearchModule::ResearchModule() {
  PayloadSchema outcome;
  outcome.String("title", 200).String("measure", 200, false).String("time_frame", 100, false);
  register_.Id("study")
      .String("title", 300)
      .Hex("protocol_hash", 32)
      .Objects("primary", outcome, kMaxPrimary)
      .Objects("secondary", outcome, kMaxSecondary, false)
      .UInt("k", kMinK, kMaxK, false);
  amend_.Id("study")
      .String("reason", 500)
      .Hex("protocol_hash", 32, false)
      .Objects("primary", outcome, kMaxPrimary)
      .Objects("secondary", outcome, kMaxSecondary, false);
  commit_.Id("study").Hex("commitment", 32);
  disclose_.Id("study")
      .UInt("seq", 1, kMaxCommitments)
      .Hex("salt", 32)
      .Hex("results_hash", 32)
      .Objects("primary", outcome, kMaxPrimary, false)
      .Objects("secondary", outcome, kMaxSecondary, false);
  consent_.Id("study").IdList("categories", wearables::Metrics().size()).UInt("until", 1, UINT64_MAX);
  withdraw_.Id("study");
}

Status ResearchModule::Check(std::string_view action, const nlohmann::json& p) const {
  const PayloadSchema* schema = action == "register"         ? &register_
                                : action == "amend"          ? &amend_
                                : action == "commit_results" ? &commit_
                                : action == "disclose"       ? &disclose_
                                : action == "consent"        ? &consent_
                                : action == "withdraw"       ? &withdraw_
                                                             : nullptr;
  if (!schema) return Status::Invalid("unknown action '" + std::string(action) + "'");
  CC_RETURN_IF_ERROR(schema->Check(p));
  if (action == "consent") {
    const auto& cats = p["categories"];
    for (size_t i = 0; i < cats.size(); ++i) {
      const std::string c = cats[i];
      if (!wearables::FindMetric(c)) {
        std::string names;
        for (const auto& m : wearables::Metrics()) names += (names.empty() ? "" : ", ") + std::string(m.name);
        return Status::Invalid("categories[" + std::to_string(i) + "]: '" + c + "' is not one of " + names);
      }
      if (std::find(cats.begin(), cats.begin() + i, cats[i]) != cats.begin() + i)
        return Status::Invalid("categories[" + std::to_string(i) + "]: '" + c + "' twice");
    }
    return Status::Ok();
  }
  return CheckOutcomeLists(p);
}

TxResult ResearchModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "register") return Register(ctx, state);
  if (a == "amend") return Amend(ctx, state);
  if (a == "commit_results") return CommitResults(ctx, state);
  if (a == "consent") return GrantConsent(ctx, state);
  if (a == "withdraw") return Withdraw(ctx, state);
  return Disclose(ctx, state);
}

TxResult ResearchModule::Register(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  auto org = identity::OrgIfRole(state, ctx.tx.body().actor, {"researcher"});
  if (!org)
    return TxResult::Reject(TxCode::kUnauthorized,
                            "studies are registered by an active researcher");
  const std::string id = p["study"];
  if (state.Get(StudyKey(id)))
    return TxResult::Reject(TxCode::kAlreadyExists, "study id '" + id + "' is taken");
  const std::string hash = p["protocol_hash"];
  nlohmann::json claim = Stamp(ctx);
  claim["org"] = *org;
  claim["via"] = "register";
  nlohmann::json study = {{"title", p["title"]},
                          {"org", *org},
                          {"registrant", ctx.tx.body().actor.hex()},
                          {"registered_at", ctx.time_ms},
                          {"height", ctx.height},
                          {"tx", ctx.tx.id().hex()},
                          {"k", p.value("k", kDefaultK)},
                          {"protocol_hash", hash},
                          {"priority", Claim(state, hash, id, claim)},
                          {"version", 0},
                          {"commitments", 0},
                          {"disclosures", 0}};
  nlohmann::json v0 = Stamp(ctx);
  v0["protocol_hash"] = hash;
  v0["primary"] = StoredOutcomes(p["primary"]);
  v0["secondary"] = StoredOutcomes(ListOf(p, "secondary"));
  WriteJson(state, VersionKey(id, 0), v0);
  WriteJson(state, StudyKey(id), study);
  state.Put(std::string(kByOrg) + *org + "/" + id, "");
  return TxResult::Ok();
}

TxResult ResearchModule::Amend(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  TxResult why;
  auto study = TeamStudy(ctx, state, &why);
  if (!study) return why;
  const std::string id = p["study"];
  const uint64_t v = (*study)["version"].get<uint64_t>() + 1;
  if (v >= kMaxVersions)
    return TxResult::Reject(
        TxCode::kFailedPrecondition,
        "a study takes at most " + std::to_string(kMaxVersions - 1) + " amendments");
  const nlohmann::json prev = *ReadJsonObject(state, VersionKey(id, v - 1));
  nlohmann::json next = Stamp(ctx);
  next["protocol_hash"] = p.value("protocol_hash", prev["protocol_hash"].get<std::string>());
  next["primary"] = StoredOutcomes(p["primary"]);
  next["secondary"] = StoredOutcomes(ListOf(p, "secondary"));
  next["changes"] = CompareOutcomes(prev, next, "before", "after");
  const bool new_protocol = next["protocol_hash"] != prev["protocol_hash"];
  if (next["changes"].empty() && !new_protocol)
    return TxResult::Reject(TxCode::kInvalidPayload,
                            "the amendment changes neither the protocol hash nor the outcomes");
  next["reason"] = p["reason"];
  // The baseline of the comparison stays the version of the first commitment.
  const bool late = (*study)["commitments"].get<uint64_t>() > 0;
  next["after_results"] = late;
  if (new_protocol) {
    nlohmann::json claim = Stamp(ctx);
    claim["org"] = (*study)["org"];
    claim["via"] = "amend";
    next["priority"] = Claim(state, next["protocol_hash"], id, claim);
  }
  WriteJson(state, VersionKey(id, v), next);
  (*study)["version"] = v;
  (*study)["protocol_hash"] = next["protocol_hash"];
  if (late) (*study)["amended_after_results"] = true;
  WriteJson(state, StudyKey(id), *study);
  return TxResult::Ok();
}

TxResult ResearchModule::CommitResults(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  TxResult why;
  auto study = TeamStudy(ctx, state, &why);
  if (!study) return why;
  const std::string id = p["study"];
  const uint64_t n = (*study)["commitments"];
  if (n >= kMaxCommitments)
    return TxResult::Reject(
        TxCode::kFailedPrecondition,
        "a study takes at most " + std::to_string(kMaxCommitments) + " results commitments");
  for (uint64_t i = 1; i <= n; ++i) {
    if ((*ReadJsonObject(state, ResultKey(id, i)))["commitment"] == p["commitment"])
      return TxResult::Reject(TxCode::kAlreadyExists,
                              "this is commitment " + std::to_string(i) + " of the study again");
  }
  nlohmann::json rec = Stamp(ctx);
  rec["commitment"] = p["commitment"];
  WriteJson(state, ResultKey(id, n + 1), rec);
  // The first commitment fixes the outcomes every disclosure is compared with.
  if (n == 0) (*study)["baseline_version"] = (*study)["version"];
  (*study)["commitments"] = n + 1;
  WriteJson(state, StudyKey(id), *study);
  return TxResult::Ok();
}

TxResult ResearchModule::Disclose(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  TxResult why;
  auto study = TeamStudy(ctx, state, &why);
  if (!study) return why;
  const std::string id = p["study"];
  const uint64_t seq = p["seq"];
  const std::string which = "commitment " + std::to_string(seq);
  auto rec = ReadJsonObject(state, ResultKey(id, seq));
  if (!rec)
    return TxResult::Reject(TxCode::kNotFound, "study '" + id + "' has no results " + which);
  if (rec->contains("disclosure"))
    return TxResult::Reject(TxCode::kFailedPrecondition, which + " is disclosed already");
  const nlohmann::json& primary = ListOf(p, "primary");
  const nlohmann::json& secondary = ListOf(p, "secondary");
  if (ResultsCommitment(id, p["salt"].get<std::string>(), p["results_hash"].get<std::string>(),
                        OutcomesOf(primary), OutcomesOf(secondary)) != (*rec)["commitment"])
    return TxResult::Reject(TxCode::kInvalidPayload,
                            "the opening does not match " + which +
                                ": the salt, the results hash or the reported outcomes differ");
  const uint64_t base = (*study)["baseline_version"];
  const nlohmann::json planned = *ReadJsonObject(state, VersionKey(id, base));
  nlohmann::json d = Stamp(ctx);
  d["salt"] = p["salt"];
  d["results_hash"] = p["results_hash"];
  d["primary"] = StoredOutcomes(primary);
  d["secondary"] = StoredOutcomes(secondary);
  d["compared_with_version"] = base;
  d["flags"] = CompareOutcomes(planned, d, "registered", "reported");
  d["switched"] = !d["flags"].empty();
  if (d["switched"] == true) (*study)["outcome_switching"] = true;
  (*rec)["disclosure"] = std::move(d);
  WriteJson(state, ResultKey(id, seq), *rec);
  (*study)["disclosures"] = (*study)["disclosures"].get<uint64_t>() + 1;
  WriteJson(state, StudyKey(id), *study);
  return TxResult::Ok();
}

TxResult ResearchModule::GrantConsent(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const PublicKey& patient = ctx.tx.body().actor;
  if (!identity::OrgIfRole(state, patient, {"patient"}))
    return TxResult::Reject(TxCode::kUnauthorized, "a research consent is given by an active patient");
  const std::string id = p["study"];
  if (!state.Get(StudyKey(id))) return TxResult::Reject(TxCode::kNotFound, "no study '" + id + "'");
  const uint64_t until = p["until"];
  if (until <= ctx.time_ms) return TxResult::Reject(TxCode::kInvalidPayload, "'until' is in the past");
  auto categories = p["categories"].get<std::vector<std::string>>();
  std::sort(categories.begin(), categories.end());
  // A new consent replaces the last (to widen, narrow or extend it); the
  // count keeps how often the patient consented.
  auto prev = ReadJsonObject(state, ConsentKey(id, patient.hex()));
  nlohmann::json c = Stamp(ctx);
  c["study"] = id;
  c["patient"] = patient.hex();
  c["categories"] = categories;
  c["until"] = until;
  c["granted_at"] = ctx.time_ms;
  c["status"] = "active";
  c["grants"] = prev ? (*prev)["grants"].get<uint64_t>() + 1 : 1;
  WriteJson(state, ConsentKey(id, patient.hex()), c);
  state.Put(std::string(kPatient) + patient.hex() + "/" + id, "");
  return TxResult::Ok();
}

TxResult ResearchModule::Withdraw(const TxContext& ctx, Overlay& state) const {
  const std::string id = ctx.payload["study"];
  const std::string patient = ctx.tx.body().actor.hex();
  auto c = ReadJsonObject(state, ConsentKey(id, patient));
  if (!c) return TxResult::Reject(TxCode::kNotFound, "no consent of this patient to study '" + id + "'");
  if ((*c)["status"] != "active")
    return TxResult::Reject(TxCode::kFailedPrecondition, "the consent is withdrawn already");
  (*c)["status"] = "withdrawn";
  (*c)["withdrawn_at"] = ctx.time_ms;
  (*c)["withdraw_tx"] = ctx.tx.id().hex();
  WriteJson(state, ConsentKey(id, patient), *c);
  return TxResult::Ok();
}

Result<nlohmann::json> ResearchModule::Query(std::string_view path, const QueryParams& params,
                                             const StateReader& state) const {
  auto param = [&](std::string_view name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  if (path == "studies") {
    const size_t limit = LimitParam(params, 100);
    const std::string org = param("org"), after = param("after");
    const std::string prefix = org.empty() ? std::string(kStudy) : std::string(kByOrg) + org + "/";
    nlohmann::json items = nlohmann::json::array();
    std::string last;
    state.Scan(prefix, after.empty() ? "" : prefix + after + std::string(1, '\0'),
               [&](std::string_view k, std::string_view v) {
                 last = std::string(k.substr(prefix.size()));
                 auto s = org.empty() ? nlohmann::json::parse(v)
                                      : ReadJsonObject(state, StudyKey(last)).value();
                 items.push_back(Summary(last, s));
                 return items.size() < limit;
               });
    nlohmann::json out = {{"studies", items}};
    if (items.size() == limit) out["next_after"] = last;
    return out;
  }
  if (path.starts_with("studies/") && path.ends_with("/consents")) {
    const std::string id(path.substr(8, path.size() - 8 - 9));
    if (!state.Get(StudyKey(id))) return Status::NotFound("no study '" + id + "'");
    const size_t limit = LimitParam(params, 100);
    const std::string prefix = std::string(kConsent) + id + "/", after = param("after");
    nlohmann::json items = nlohmann::json::array();
    std::string last;
    state.Scan(prefix, after.empty() ? "" : prefix + after + std::string(1, '\0'),
               [&](std::string_view k, std::string_view v) {
                 last = std::string(k.substr(prefix.size()));
                 items.push_back(nlohmann::json::parse(v));
                 return items.size() < limit;
               });
    nlohmann::json out = {{"study", id}, {"consents", items}};
    if (items.size() == limit) out["next_after"] = last;
    return out;
  }
  if (path.starts_with("patients/") && path.ends_with("/consents")) {
    auto key = PublicKey::FromHex(path.substr(9, path.size() - 9 - 9));
    if (!key) return Status::Invalid("a patient key is 64 hex digits");
    const std::string prefix = std::string(kPatient) + key->hex() + "/";
    nlohmann::json items = nlohmann::json::array();
    state.Scan(prefix, "", [&](std::string_view k, std::string_view) {
      items.push_back(*ReadJsonObject(state, ConsentKey(k.substr(prefix.size()), key->hex())));
      return items.size() < 1000;
    });
    return nlohmann::json{{"patient", key->hex()}, {"consents", items}};
  }
  if (path.starts_with("studies/")) {
    const std::string id(path.substr(8));
    auto s = ReadJsonObject(state, StudyKey(id));
    if (!s) return Status::NotFound("no study '" + id + "'");
    nlohmann::json out = *s;
    out["study"] = id;
    out["status"] = StatusOf(*s);
    out["outcome_switching"] = s->value("outcome_switching", false);
    out["amended_after_results"] = s->value("amended_after_results", false);
    out["versions"] = nlohmann::json::array();
    for (uint64_t v = 0; v <= (*s)["version"].get<uint64_t>(); ++v) {
      nlohmann::json ver = *ReadJsonObject(state, VersionKey(id, v));
      ver["version"] = v;
      out["versions"].push_back(std::move(ver));
    }
    out["primary"] = out["versions"].back()["primary"];
    out["secondary"] = out["versions"].back()["secondary"];
    out["results"] = nlohmann::json::array();
    for (uint64_t seq = 1; seq <= (*s)["commitments"].get<uint64_t>(); ++seq) {
      nlohmann::json r = *ReadJsonObject(state, ResultKey(id, seq));
      r["seq"] = seq;
      out["results"].push_back(std::move(r));
    }
    return out;
  }
  if (path.starts_with("priority/")) {
    auto hash = Hash256::FromHex(path.substr(9));
    if (!hash) return Status::Invalid("a protocol hash is 64 hex digits");
    const std::string prefix = std::string(kProtocol) + hash->hex() + "/";
    nlohmann::json claims = nlohmann::json::array();
    state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
      auto c = nlohmann::json::parse(v);
      c["rank"] = std::stoull(std::string(k.substr(prefix.size())));
      claims.push_back(std::move(c));
      return claims.size() < 1000;
    });
    if (claims.empty()) return Status::NotFound("no study registered protocol " + hash->hex());
    return nlohmann::json{{"protocol_hash", hash->hex()}, {"first", claims[0]}, {"claims", claims}};
  }
  return Status::NotFound("module research has no query " + std::string(path));
}

}  // namespace cc::research

#include "apps/reviews/reviews.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "apps/identity/identity.h"
#include "apps/token/token.h"
#include "util/bytes.h"
#include "util/date.h"

namespace cc::reviews {
namespace {

// State keys (docs/modules/reviews.md#state).
constexpr std::string_view kMeta = "reviews/meta";
constexpr std::string_view kVisit = "reviews/visit/";        // <id>
constexpr std::string_view kReview = "reviews/review/";      // <id> (the visit's)
constexpr std::string_view kInvite = "reviews/invite/";      // <org>/<patient>: the last attestation
constexpr std::string_view kPatient = "reviews/patient/";    // <patient>/<height 12>/<visit>: ""
constexpr std::string_view kProvider = "reviews/provider/";  // <org>: the aggregate
constexpr std::string_view kList = "reviews/list/";          // <org>/<seq 12>: review id

constexpr size_t kMaxAspects = 8;
constexpr size_t kMaxCorrections = 10;
constexpr uint64_t kMaxDays = 3650;  // reinvite_days, window_days

void WriteJson(Overlay& state, const std::string& key, const nlohmann::json& j) { state.Put(key, j.dump()); }

PayloadSchema RatingsSchema(PayloadSchema s, bool overall_required) {
  return s.UInt("overall", 1, 5, overall_required)
      .Objects("aspects", PayloadSchema().Id("aspect").UInt("rating", 1, 5), kMaxAspects, false)
      .Hex("text_ref", 16, false)
      .Hex("text_hash", 32, false);
}

// The ratings of a review or correction payload, {overall, aspects: {name:
// rating}}; kInvalidPayload naming an aspect the network does not rate.
Result<nlohmann::json> Ratings(const nlohmann::json& p, const Params& params) {
  nlohmann::json aspects = nlohmann::json::object();
  for (const auto& a : p.value("aspects", nlohmann::json::array())) {
    const std::string name = a["aspect"];
    if (std::find(params.aspects.begin(), params.aspects.end(), name) == params.aspects.end())
      return Status::Invalid("'" + name + "' is not an aspect rated here");
    aspects[name] = a["rating"];
  }
  return nlohmann::json{{"overall", p["overall"]}, {"aspects", std::move(aspects)}};
}

nlohmann::json NoRatings() { return {{"count", 0}, {"sum", 0}, {"distribution", {0, 0, 0, 0, 0}}}; }

nlohmann::json NoReviews(const std::string& provider) {
  return {{"provider", provider}, {"reviews", 0}, {"vouched", 0}, {"overall", NoRatings()},
          {"aspects", nlohmann::json::object()}};
}

// Adds (sign +1) or takes away (-1) one rating in a {count, sum, distribution} tally.
void Tally(nlohmann::json& t, uint64_t rating, int sign) {
  if (t.is_null()) t = NoRatings();
  auto bump = [sign](nlohmann::json& v, uint64_t by) { v = sign > 0 ? v.get<uint64_t>() + by : v.get<uint64_t>() - by; };
  bump(t["count"], 1);
  bump(t["sum"], rating);
  bump(t["distribution"][rating - 1], 1);
}

void TallyRatings(nlohmann::json& agg, const nlohmann::json& ratings, int sign) {
  Tally(agg["overall"], ratings["overall"], sign);
  for (const auto& [name, r] : ratings["aspects"].items()) Tally(agg["aspects"][name], r, sign);
}

// A tally as shown: the mean to two decimals and the distribution by stars.
nlohmann::json ShowTally(const nlohmann::json& t) {
  const uint64_t n = t["count"], sum = t["sum"];
  nlohmann::json dist = nlohmann::json::object();
  for (size_t i = 0; i < 5; ++i) dist[std::to_string(i + 1)] = t["distribution"][i];
  const double mean = n ? std::round(100.0 * static_cast<double>(sum) / static_cast<double>(n)) / 100.0 : 0.0;
  return {{"count", n}, {"mean", mean}, {"distribution", dist}};
}

nlohmann::json ShowAggregate(const nlohmann::json& agg) {
  nlohmann::json out = {{"provider", agg["provider"]},
                        {"reviews", agg["reviews"]},
                        {"vouched_by_provider", agg["vouched"]},
                        {"overall", ShowTally(agg["overall"])},
                        {"aspects", nlohmann::json::object()}};
  for (const auto& [name, t] : agg["aspects"].items()) out["aspects"][name] = ShowTally(t);
  return out;
}

nlohmann::json TextOf(const nlohmann::json& p, const Params& params) {
  return {{"custodian", params.platform}, {"ref", p["text_ref"]}, {"hash", p["text_hash"]}};
}

// A review or correction with a text needs a platform to keep it.
TxResult CheckText(const nlohmann::json& p, const Params& params) {
  if (p.contains("text_ref") && params.platform.empty())
    return TxResult::Reject(TxCode::kFailedPrecondition, "this network names no review platform to keep texts");
  return TxResult::Ok();
}

}  // namespace

Params ReadParams(const StateReader& state) {
  Params p;
  auto m = ReadJsonObject(state, kMeta);
  if (!m) return p;
  p.platform = m->value("platform", "");
  p.reward = m->value("reward", p.reward);
  p.aspects = m->value("aspects", p.aspects);
  p.reinvite_days = m->value("reinvite_days", p.reinvite_days);
  p.window_days = m->value("window_days", p.window_days);
  return p;
}

std::optional<nlohmann::json> ReadVisit(const StateReader& state, std::string_view id) {
  return ReadJsonObject(state, std::string(kVisit) + std::string(id));
}

std::optional<nlohmann::json> ReadReview(const StateReader& state, std::string_view id) {
  return ReadJsonObject(state, std::string(kReview) + std::string(id));
}

void ForEachText(nlohmann::json& review, const std::function<void(nlohmann::json& text)>& fn) {
  if (review.contains("text")) fn(review["text"]);
  for (auto& c : review["corrections"]) {
    if (c.contains("text")) fn(c["text"]);
  }
}

std::vector<std::string> PatientVisits(const StateReader& state, const PublicKey& patient) {
  const std::string prefix = std::string(kPatient) + patient.hex() + "/";
  std::vector<std::string> out;
  state.Scan(prefix, "", [&](std::string_view k, std::string_view) {
    out.emplace_back(k.substr(k.rfind('/') + 1));
    return true;
  });
  return out;
}

ReviewsModule::ReviewsModule() {
  attest_.Hex("patient", 32).String("date", 10);
  review_ = RatingsSchema(PayloadSchema().Hex("visit", 16), /*overall_required=*/true);
  correct_ = RatingsSchema(PayloadSchema().Hex("review", 16), /*overall_required=*/false);
  reward_.Hex("review", 16).UInt("amount", 1, token::kMaxSupply).String("memo", 140, false);
  text_erased_.Hex("patient", 32);
}

Status ReviewsModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action == "attest") {
    CC_RETURN_IF_ERROR(attest_.Check(p));
    if (!ParseDay(p["date"].get<std::string>())) return Status::Invalid("'date' must be a date, YYYY-MM-DD");
    return Status::Ok();
  }
  if (action == "review" || action == "correct") {
    CC_RETURN_IF_ERROR((action == "review" ? review_ : correct_).Check(p));
    if (p.contains("text_ref") != p.contains("text_hash"))
      return Status::Invalid("a text is named by both text_ref and text_hash (from POST /v1/reviews/texts)");
    std::set<std::string> seen;
    for (const auto& a : p.value("aspects", nlohmann::json::array())) {
      if (!seen.insert(a["aspect"].get<std::string>()).second)
        return Status::Invalid("aspect '" + a["aspect"].get<std::string>() + "' is rated twice");
    }
    if (action == "correct" && p.contains("aspects") && !p.contains("overall"))
      return Status::Invalid("a correction's ratings give 'overall' too");
    if (action == "correct" && !p.contains("overall") && !p.contains("text_ref"))
      return Status::Invalid("a correction carries new ratings (overall), a text or both");
    return Status::Ok();
  }
  if (action == "reward") return reward_.Check(p);
  if (action == "text_erased") return text_erased_.Check(p);
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult ReviewsModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "attest") return Attest(ctx, state);
  if (a == "review") return Review(ctx, state);
  if (a == "correct") return Correct(ctx, state);
  if (a == "reward") return Reward(ctx, state);
  return TextErased(ctx, state);
}

Status ReviewsModule::InitGenesis(const nlohmann::json& genesis, Overlay& state) const {
  auto r = genesis.find("reviews");
  if (r == genesis.end()) return Status::Ok();
  const Params d;
  if (!r->is_object()) return Status::Invalid("genesis: reviews must be an object");
  nlohmann::json meta = {{"platform", ""},
                         {"reward", d.reward},
                         {"aspects", d.aspects},
                         {"reinvite_days", d.reinvite_days},
                         {"window_days", d.window_days}};
  for (const auto& [k, v] : r->items()) {
    if (!meta.contains(k)) return Status::Invalid("genesis: reviews has no parameter '" + k + "'");
    if (k == "platform" ? !v.is_string()
        : k == "aspects" ? !v.is_array() || v.empty() || v.size() > kMaxAspects
                         : !v.is_number_unsigned())
      return Status::Invalid("genesis: reviews." + k + " has the wrong type");
    meta[k] = v;
  }
  for (const auto& a : meta["aspects"]) {
    nlohmann::json probe = {{"aspect", a}, {"rating", 1u}};
    if (!PayloadSchema().Id("aspect").UInt("rating", 1, 5).Check(probe).ok())
      return Status::Invalid("genesis: reviews.aspects are identifiers ([a-z0-9._-])");
  }
  const std::string platform = meta["platform"];
  if (!platform.empty() && !state.Get("identity/org/" + platform))
    return Status::Invalid("genesis: reviews.platform '" + platform + "' is no organisation");
  for (const char* days : {"reinvite_days", "window_days"}) {
    if (meta[days] == 0 || meta[days] > kMaxDays)
      return Status::Invalid(std::string("genesis: reviews.") + days + " is 1 to " + std::to_string(kMaxDays));
  }
  if (meta["reward"] > token::kMaxSupply) return Status::Invalid("genesis: reviews.reward is at most the token's supply");
  WriteJson(state, std::string(kMeta), meta);
  return Status::Ok();
}

// A provider attests that `patient` visited its organisation on `date`.
TxResult ReviewsModule::Attest(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const Params params = ReadParams(state);
  const PublicKey& signer = ctx.tx.body().actor;
  auto org = identity::OrgIfRole(state, signer, {"provider"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "visits are attested by providers");
  const PublicKey patient = *PublicKey::FromHex(p["patient"].get<std::string>());
  auto who = identity::LookupActor(state, patient);
  if (!who || !who->active) return TxResult::Reject(TxCode::kNotFound, "the patient is no active actor");
  // A provider's own staff (itself included) are not its patients here.
  if (who->role != "patient" || patient == signer)
    return TxResult::Reject(TxCode::kUnauthorized, "a provider attests visits of patients, not to itself or staff");
  const uint64_t day = *ParseDay(p["date"].get<std::string>()), today = ctx.time_ms / kDayMs;
  if (day > today) return TxResult::Reject(TxCode::kInvalidPayload, "the visit's date is in the future");
  if (today - day > params.window_days)
    return TxResult::Reject(TxCode::kInvalidPayload,
                            "the visit is more than " + std::to_string(params.window_days) + " days ago");
  // One invitation per patient and provider per reinvite period: no bulk
  // attestations to a friendly patient.
  const std::string invite_key = std::string(kInvite) + *org + "/" + patient.hex();
  if (auto last = ReadJsonObject(state, invite_key)) {
    const uint64_t next = (*last)["at"].get<uint64_t>() + params.reinvite_days * kDayMs;
    if (ctx.time_ms < next)
      return TxResult::Reject(TxCode::kFailedPrecondition,
                              *org + " invited this patient on " + FormatDay((*last)["at"].get<uint64_t>() / kDayMs) +
                                  "; the next invitation is possible from " + FormatDay(next / kDayMs));
  }
  const std::string id = ctx.tx.id().hex().substr(0, 32);
  if (ReadVisit(state, id)) return TxResult::Reject(TxCode::kAlreadyExists, "visit " + id + " exists");
  WriteJson(state, std::string(kVisit) + id,
            {{"visit", id}, {"provider", *org}, {"patient", patient.hex()}, {"date", p["date"]},
             {"attested_by", signer.hex()}, {"at", ctx.time_ms}, {"height", ctx.height},
             {"tx", ctx.tx.id().hex()}});
  WriteJson(state, invite_key, {{"at", ctx.time_ms}, {"visit", id}});
  state.Put(std::string(kPatient) + patient.hex() + "/" + ZeroPadded(ctx.height, 12) + "/" + id, "");
  return TxResult::Ok();
}

// The visit's patient reviews it, once; the treasury pays the reward.
TxResult ReviewsModule::Review(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const Params params = ReadParams(state);
  const std::string id = p["visit"];
  auto visit = ReadVisit(state, id);
  if (!visit) return TxResult::Reject(TxCode::kNotFound, "no visit " + id + ": a review needs an attested visit");
  const std::string patient = (*visit)["patient"];
  if (ctx.tx.body().actor.hex() != patient)
    return TxResult::Reject(TxCode::kUnauthorized, "only the visit's patient reviews it");
  if (visit->contains("review")) return TxResult::Reject(TxCode::kAlreadyExists, "visit " + id + " is already reviewed");
  if (ctx.time_ms > (*visit)["at"].get<uint64_t>() + params.window_days * kDayMs)
    return TxResult::Reject(TxCode::kFailedPrecondition, "the review right of visit " + id + " has expired");
  if (auto t = CheckText(p, params); !t.ok()) return t;
  auto ratings = Ratings(p, params);
  if (!ratings.ok()) return TxResult::Reject(TxCode::kInvalidPayload, ratings.status().message());

  const std::string provider = (*visit)["provider"];
  auto who = identity::LookupActor(state, *PublicKey::FromHex(patient));
  nlohmann::json review = {{"review", id},
                           {"provider", provider},
                           {"verified_visit", {{"date", (*visit)["date"]}, {"attested_at", (*visit)["at"]}}},
                           {"vouched_by_provider", who && who->org == provider},
                           {"at", ctx.time_ms},
                           {"height", ctx.height},
                           {"tx", ctx.tx.id().hex()},
                           {"ratings", *ratings},
                           {"current", *ratings},
                           {"corrections", nlohmann::json::array()},
                           {"rewards", {{"treasury", 0}, {"provider", 0}}}};
  if (p.contains("text_ref")) review["text"] = TextOf(p, params);

  auto treasury = token::Treasury(state);
  if (treasury && params.reward > 0 && token::Balance(state, *treasury) >= params.reward) {
    auto paid = token::Move(ctx, state, *treasury, patient, params.reward, "reward for review " + id);
    if (!paid.ok()) return paid;
    review["rewards"]["treasury"] = params.reward;
  }

  nlohmann::json agg = ReadJsonObject(state, std::string(kProvider) + provider).value_or(NoReviews(provider));
  const uint64_t seq = agg["reviews"].get<uint64_t>() + 1;
  agg["reviews"] = seq;
  if (review["vouched_by_provider"]) agg["vouched"] = agg["vouched"].get<uint64_t>() + 1;
  TallyRatings(agg, *ratings, +1);
  WriteJson(state, std::string(kProvider) + provider, agg);
  state.Put(std::string(kList) + provider + "/" + ZeroPadded(seq, 12), id);
  WriteJson(state, std::string(kReview) + id, review);
  (*visit)["review"] = id;
  WriteJson(state, std::string(kVisit) + id, *visit);
  return TxResult::Ok();
}

// The review's patient appends a correction: new ratings (which the
// aggregate takes from now on), a new text, or both. The original stays.
TxResult ReviewsModule::Correct(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const Params params = ReadParams(state);
  const std::string id = p["review"];
  auto review = ReadReview(state, id);
  if (!review) return TxResult::Reject(TxCode::kNotFound, "no review " + id);
  if (ctx.tx.body().actor.hex() != (*ReadVisit(state, id))["patient"])
    return TxResult::Reject(TxCode::kUnauthorized, "only the review's patient corrects it");
  if ((*review)["corrections"].size() >= kMaxCorrections)
    return TxResult::Reject(TxCode::kFailedPrecondition,
                            "review " + id + " has " + std::to_string(kMaxCorrections) + " corrections, the most");
  if (auto t = CheckText(p, params); !t.ok()) return t;
  nlohmann::json c = {{"at", ctx.time_ms}, {"height", ctx.height}, {"tx", ctx.tx.id().hex()}};
  if (p.contains("overall")) {
    auto ratings = Ratings(p, params);
    if (!ratings.ok()) return TxResult::Reject(TxCode::kInvalidPayload, ratings.status().message());
    const std::string key = std::string(kProvider) + (*review)["provider"].get<std::string>();
    nlohmann::json agg = *ReadJsonObject(state, key);
    TallyRatings(agg, (*review)["current"], -1);
    TallyRatings(agg, *ratings, +1);
    WriteJson(state, key, agg);
    (*review)["current"] = *ratings;
    c["ratings"] = *ratings;
  }
  if (p.contains("text_ref")) c["text"] = TextOf(p, params);
  (*review)["corrections"].push_back(std::move(c));
  WriteJson(state, std::string(kReview) + id, *review);
  return TxResult::Ok();
}

// The reviewed provider's admin pays the review's author from the
// organisation's account; the review shows how much its provider paid.
TxResult ReviewsModule::Reward(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const std::string id = p["review"];
  auto review = ReadReview(state, id);
  if (!review) return TxResult::Reject(TxCode::kNotFound, "no review " + id);
  const std::string provider = (*review)["provider"];
  if (identity::OrgIfRole(state, ctx.tx.body().actor, {"admin"}) != provider)
    return TxResult::Reject(TxCode::kUnauthorized, "a review is rewarded by an admin of its provider (" + provider + ")");
  const uint64_t amount = p["amount"];
  auto paid = token::Move(ctx, state, token::OrgAccount(provider), (*ReadVisit(state, id))["patient"], amount,
                          p.value("memo", "reward for review " + id));
  if (!paid.ok()) return paid;
  (*review)["rewards"]["provider"] = (*review)["rewards"]["provider"].get<uint64_t>() + amount;
  WriteJson(state, std::string(kReview) + id, *review);
  return TxResult::Ok();
}

// The platform's node confirms that the patient's texts it kept are erased:
// each review and correction whose text it kept records when.
TxResult ReviewsModule::TextErased(const TxContext& ctx, Overlay& state) const {
  auto org = identity::NodeOrg(state, ctx.tx.body().actor);
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "an erasure is confirmed by a custodian's node");
  const PublicKey patient = *PublicKey::FromHex(ctx.payload["patient"].get<std::string>());
  size_t n = 0;
  for (const std::string& id : PatientVisits(state, patient)) {
    auto review = ReadReview(state, id);
    if (!review) continue;
    const size_t before = n;
    ForEachText(*review, [&](nlohmann::json& t) {
      if (t["custodian"] != *org || t.contains("erased_at")) return;
      t["erased_at"] = ctx.time_ms;
      ++n;
    });
    if (n != before) WriteJson(state, std::string(kReview) + id, *review);
  }
  if (n == 0) return TxResult::Reject(TxCode::kNotFound, "the patient has no review text at " + *org + " left to erase");
  return TxResult::Ok();
}

Result<nlohmann::json> ReviewsModule::Query(std::string_view path, const QueryParams& params,
                                            const StateReader& state) const {
  auto rest = [&](std::string_view prefix) { return std::string(path.substr(prefix.size())); };
  if (path == "meta") {
    const Params p = ReadParams(state);
    return nlohmann::json{{"platform", p.platform},       {"reward", p.reward},
                          {"aspects", p.aspects},         {"reinvite_days", p.reinvite_days},
                          {"window_days", p.window_days}, {"token", token::Treasury(state).has_value()}};
  }
  if (path.starts_with("visits/")) {
    auto v = ReadVisit(state, rest("visits/"));
    if (!v) return Status::NotFound("no visit " + rest("visits/"));
    return *v;
  }
  if (path.starts_with("reviews/")) {
    auto r = ReadReview(state, rest("reviews/"));
    if (!r) return Status::NotFound("no review " + rest("reviews/"));
    return *r;
  }
  if (path.starts_with("patients/") && path.ends_with("/visits")) {
    auto key = PublicKey::FromHex(path.substr(9, path.size() - 9 - 7));
    if (!key) return Status::Invalid("a patient is a key (64 hex digits)");
    nlohmann::json visits = nlohmann::json::array();
    for (const std::string& id : PatientVisits(state, *key)) {
      nlohmann::json v = *ReadVisit(state, id);
      if (auto r = ReadReview(state, id)) v["review"] = *r;
      visits.push_back(std::move(v));
    }
    return nlohmann::json{{"patient", key->hex()}, {"visits", std::move(visits)}};
  }
  if (path == "providers") {
    nlohmann::json out = nlohmann::json::array();
    state.Scan(kProvider, "", [&](std::string_view, std::string_view v) {
      out.push_back(ShowAggregate(nlohmann::json::parse(v)));
      return true;
    });
    return nlohmann::json{{"providers", std::move(out)}};
  }
  if (!path.starts_with("providers/")) return Status::NotFound("module reviews has no query " + std::string(path));
  std::string org = rest("providers/");
  const bool list = org.ends_with("/reviews");
  if (list) org.resize(org.size() - 8);
  if (!state.Get("identity/org/" + org)) return Status::NotFound("no organisation " + org);
  nlohmann::json out = ShowAggregate(ReadJsonObject(state, std::string(kProvider) + org).value_or(NoReviews(org)));
  if (!list) return out;
  const size_t limit = LimitParam(params, 50);
  uint64_t after = 0;
  if (auto it = params.find("after"); it != params.end()) after = std::strtoull(it->second.c_str(), nullptr, 10);
  const std::string prefix = std::string(kList) + org + "/";
  nlohmann::json reviews = nlohmann::json::array();
  uint64_t last = after;
  state.Scan(prefix, prefix + ZeroPadded(after, 12) + std::string(1, '\0'), [&](std::string_view k, std::string_view v) {
    last = std::stoull(std::string(k.substr(prefix.size())));
    reviews.push_back(*ReadReview(state, v));
    return reviews.size() < limit;
  });
  if (reviews.size() == limit) out["next_after"] = last;
  out["page"] = std::move(reviews);
  return out;
}

}  // namespace cc::reviews

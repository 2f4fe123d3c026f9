#include "apps/identity/identity.h"

#include <algorithm>

namespace cc::identity {
namespace {

constexpr std::string_view kActorPrefix = "identity/actor/";
constexpr std::string_view kOrgPrefix = "identity/org/";
constexpr std::string_view kNodePrefix = "identity/node/";

std::string OrgKey(std::string_view id) { return std::string(kOrgPrefix) + std::string(id); }
std::string NodeKey(const PublicKey& k) { return std::string(kNodePrefix) + k.hex(); }

void WriteJson(Overlay& state, std::string_view key, const nlohmann::json& j) {
  state.Put(key, j.dump());
}

bool IsAdminOf(const std::optional<Actor>& a, std::string_view org) {
  return a && a->active && a->role == "admin" && a->org == org;
}

Status CheckKeyList(const nlohmann::json& org, const char* field, bool required) {
  auto it = org.find(field);
  if (it == org.end()) return required ? Status::Invalid(std::string("org needs ") + field) : Status::Ok();
  if (!it->is_array()) return Status::Invalid(std::string("org ") + field + " must be a list");
  for (const auto& k : *it) {
    if (!k.is_string() || !PublicKey::FromHex(k.get<std::string>()))
      return Status::Invalid(std::string("org ") + field + " holds a key that is not 64 hex digits");
  }
  return Status::Ok();
}

}  // namespace

std::string ActorKey(const PublicKey& key) { return std::string(kActorPrefix) + key.hex(); }

std::optional<Actor> LookupActor(const StateReader& state, const PublicKey& key) {
  auto j = ReadJsonObject(state, ActorKey(key));
  if (!j) return std::nullopt;
  return Actor{j->value("org", ""), j->value("role", ""), j->value("status", "") == "active"};
}

std::optional<std::string> OrgIfRole(const StateReader& state, const PublicKey& key,
                                     std::initializer_list<std::string_view> roles) {
  auto a = LookupActor(state, key);
  if (!a || !a->active) return std::nullopt;
  for (auto r : roles) {
    if (a->role == r) return a->org;
  }
  return std::nullopt;
}

std::optional<std::string> NodeOrg(const StateReader& state, const PublicKey& key) {
  auto j = ReadJsonObject(state, NodeKey(key));
  if (!j || !j->is_object()) return std::nullopt;
  return j->value("org", "");
}

IdentityModule::IdentityModule() {
  register_.Hex("key", 32).Id("org").Enum("role", kRoles);
  revoke_.Hex("key", 32).String("reason", 200, /*required=*/false);
  rotate_.Hex("new_key", 32);
}

Status IdentityModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action == "register_actor") return register_.Check(p);
  if (action == "revoke_actor") return revoke_.Check(p);
  if (action == "rotate_key") return rotate_.Check(p);
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult IdentityModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& action = ctx.tx.body().action;
  if (action == "register_actor") return Register(ctx, state);
  if (action == "revoke_actor") return Revoke(ctx, state);
  return Rotate(ctx, state);
}

TxResult IdentityModule::Register(const TxContext& ctx, Overlay& state) const {
  const std::string org = ctx.payload["org"];
  const std::string role = ctx.payload["role"];
  const PublicKey key = *PublicKey::FromHex(ctx.payload["key"].get<std::string>());
  if (!state.Get(OrgKey(org))) return TxResult::Reject(TxCode::kNotFound, "no organisation '" + org + "'");
  auto signer = LookupActor(state, ctx.tx.body().actor);
  bool admin = IsAdminOf(signer, org);
  bool vouching_provider = signer && signer->active && signer->role == "provider" &&
                           signer->org == org && role == "patient";
  if (!admin && !vouching_provider) {
    return TxResult::Reject(TxCode::kUnauthorized,
                            "only an admin of '" + org + "' (or one of its providers, for a patient) may register this actor");
  }
  if (state.Get(ActorKey(key))) {
    return TxResult::Reject(TxCode::kAlreadyExists, "key is already registered (keys are never reused)");
  }
  WriteJson(state, ActorKey(key),
            {{"org", org},
             {"role", role},
             {"status", "active"},
             {"registered_at", ctx.height},
             {"registered_by", ctx.tx.body().actor.hex()}});
  return TxResult::Ok();
}

TxResult IdentityModule::Revoke(const TxContext& ctx, Overlay& state) const {
  const PublicKey key = *PublicKey::FromHex(ctx.payload["key"].get<std::string>());
  auto rec = ReadJsonObject(state, ActorKey(key));
  if (!rec) return TxResult::Reject(TxCode::kNotFound, "key is not registered");
  if ((*rec)["status"] != "active") return TxResult::Reject(TxCode::kFailedPrecondition, "key is already revoked");
  auto signer = LookupActor(state, ctx.tx.body().actor);
  bool self = ctx.tx.body().actor == key;
  if (!self && !IsAdminOf(signer, (*rec)["org"].get<std::string>())) {
    return TxResult::Reject(TxCode::kUnauthorized, "only the actor or an admin of its organisation may revoke it");
  }
  (*rec)["status"] = "revoked";
  (*rec)["revoked_at"] = ctx.height;
  (*rec)["revoked_by"] = ctx.tx.body().actor.hex();
  if (ctx.payload.contains("reason")) (*rec)["reason"] = ctx.payload["reason"];
  WriteJson(state, ActorKey(key), *rec);
  return TxResult::Ok();
}

TxResult IdentityModule::Rotate(const TxContext& ctx, Overlay& state) const {
  const PublicKey& old_key = ctx.tx.body().actor;
  const PublicKey new_key = *PublicKey::FromHex(ctx.payload["new_key"].get<std::string>());
  if (state.Get(ActorKey(new_key))) {
    return TxResult::Reject(TxCode::kAlreadyExists, "new key is already registered");
  }
  auto rec = ReadJsonObject(state, ActorKey(old_key));  // active: the executor checked
  nlohmann::json fresh = {{"org", (*rec)["org"]},
                          {"role", (*rec)["role"]},
                          {"status", "active"},
                          {"registered_at", ctx.height},
                          {"registered_by", old_key.hex()},
                          {"rotated_from", old_key.hex()}};
  (*rec)["status"] = "revoked";
  (*rec)["revoked_at"] = ctx.height;
  (*rec)["rotated_to"] = new_key.hex();
  WriteJson(state, ActorKey(old_key), *rec);
  WriteJson(state, ActorKey(new_key), fresh);
  return TxResult::Ok();
}

Status IdentityModule::InitGenesis(const nlohmann::json& g, Overlay& state) const {
  auto orgs = g.find("orgs");
  if (orgs == g.end() || !orgs->is_array() || orgs->empty())
    return Status::Invalid("genesis needs a non-empty list 'orgs'");
  PayloadSchema actor_schema;
  actor_schema.Hex("key", 32).Id("org").Enum("role", kRoles);
  auto add_actor = [&](const std::string& hex, const std::string& org, const std::string& role) -> Status {
    PublicKey k = *PublicKey::FromHex(hex);
    if (state.Get(ActorKey(k))) return Status::Invalid("genesis names key " + hex + " twice");
    WriteJson(state, ActorKey(k), {{"org", org}, {"role", role}, {"status", "active"},
                                   {"registered_at", 0}, {"registered_by", "genesis"}});
    return Status::Ok();
  };
  for (const auto& org : *orgs) {
    if (!org.is_object() || !org.contains("id") || !org["id"].is_string())
      return Status::Invalid("each org needs an id");
    const std::string id = org["id"];
    PayloadSchema id_check;
    id_check.Id("id");
    CC_RETURN_IF_ERROR(id_check.Check({{"id", id}}));
    if (state.Get(OrgKey(id))) return Status::Invalid("org '" + id + "' appears twice");
    CC_RETURN_IF_ERROR(CheckKeyList(org, "admins", true));
    CC_RETURN_IF_ERROR(CheckKeyList(org, "nodes", false));
    if (org["admins"].empty()) return Status::Invalid("org '" + id + "' needs at least one admin");
    if (org.contains("name") && (!org["name"].is_string() || org["name"].get<std::string>().size() > 200))
      return Status::Invalid("org '" + id + "' name must be a string of at most 200 bytes");
    // Keys are stored in the canonical lower-case hex.
    auto normalise = [](const nlohmann::json& list) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& k : list) out.push_back(PublicKey::FromHex(k.get<std::string>())->hex());
      return out;
    };
    nlohmann::json rec = {{"id", id},
                          {"name", org.value("name", id)},
                          {"genesis_admins", normalise(org["admins"])},
                          {"nodes", normalise(org.value("nodes", nlohmann::json::array()))}};
    WriteJson(state, OrgKey(id), rec);
    for (const auto& a : rec["genesis_admins"]) CC_RETURN_IF_ERROR(add_actor(a, id, "admin"));
    for (const auto& n : rec["nodes"]) {
      PublicKey k = *PublicKey::FromHex(n.get<std::string>());
      WriteJson(state, NodeKey(k), {{"org", id}});
    }
  }
  if (auto actors = g.find("actors"); actors != g.end()) {
    if (!actors->is_array()) return Status::Invalid("genesis 'actors' must be a list");
    for (const auto& a : *actors) {
      CC_RETURN_IF_ERROR(actor_schema.Check(a));
      if (!state.Get(OrgKey(a["org"].get<std::string>())))
        return Status::Invalid("genesis actor names unknown org '" + a["org"].get<std::string>() + "'");
      CC_RETURN_IF_ERROR(add_actor(a["key"], a["org"], a["role"]));
    }
  }
  return Status::Ok();
}

bool IdentityModule::IsActive(const StateReader& state, const PublicKey& key) const {
  auto a = LookupActor(state, key);
  return (a && a->active) || IsProposer(state, key);
}

bool IdentityModule::IsProposer(const StateReader& state, const PublicKey& key) const {
  return state.Get(NodeKey(key)).has_value();
}

Result<nlohmann::json> IdentityModule::Query(std::string_view path, const QueryParams& params,
                                             const StateReader& state) const {
  auto list = [&](std::string_view prefix, auto&& keep) {
    nlohmann::json out = nlohmann::json::array();
    const size_t limit = LimitParam(params, 1000);
    state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
      auto j = nlohmann::json::parse(v, nullptr, false);
      if (j.is_discarded() || !keep(j)) return true;
      j["key"] = std::string(k.substr(prefix.size()));
      out.push_back(std::move(j));
      return out.size() < limit;
    });
    return out;
  };
  auto param = [&](const char* k) -> std::string {
    auto it = params.find(k);
    return it == params.end() ? "" : it->second;
  };
  if (path == "orgs") return list(kOrgPrefix, [](const nlohmann::json&) { return true; });
  if (path.starts_with("orgs/")) {
    auto j = ReadJsonObject(state, OrgKey(path.substr(5)));
    if (!j) return Status::NotFound("no organisation '" + std::string(path.substr(5)) + "'");
    return *j;
  }
  if (path == "actors") {
    std::string org = param("org"), role = param("role");
    return list(kActorPrefix, [&](const nlohmann::json& j) {
      return (org.empty() || j.value("org", "") == org) && (role.empty() || j.value("role", "") == role);
    });
  }
  if (path.starts_with("actors/")) {
    auto k = PublicKey::FromHex(path.substr(7));
    if (!k) return Status::Invalid("actor key must be 64 hex digits");
    auto j = ReadJsonObject(state, ActorKey(*k));
    if (!j) return Status::NotFound("key is not registered");
    (*j)["key"] = k->hex();
    return *j;
  }
  return Status::NotFound("identity has no query '" + std::string(path) + "'");
}

}  // namespace cc::identity

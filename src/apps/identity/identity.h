// The identity module: organisations (from genesis), actors with roles
// registered by their organisation's admins, key rotation and revocation.
//
// State keys:
//   identity/org/<org id>   {"genesis_admins":[hex],"id","name","nodes":[hex]}
//                           (later admins are actors with role "admin")
//   identity/actor/<hex>    {"org","registered_at","registered_by","role","status",...}
//   identity/node/<hex>     {"org"}   (keys that may propose blocks)
//
// Actions (payloads are canonical JSON; docs/modules/identity.md):
//   register_actor {key, org, role}  by an admin of org; a provider of org may
//                                    register patients (it vouches for them)
//   revoke_actor   {key, reason?}    by an admin of the actor's org, or the actor
//   rotate_key     {new_key}         by the actor: same org and role, old key revoked
#pragma once

#include <initializer_list>
#include <string_view>

#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::identity {

inline constexpr std::string_view kModule = "identity";

// Every role the network knows; later modules check these.
inline const std::vector<std::string> kRoles = {
    "admin",   "provider", "patient",    "pharmacist", "manufacturer", "wholesaler",
    "carrier", "device",   "researcher", "auditor",    "regulator"};

struct Actor {
  std::string org;
  std::string role;
  bool active = false;
};

// Reads an actor record; nullopt if the key was never registered.
std::optional<Actor> LookupActor(const StateReader& state, const PublicKey& key);
std::string ActorKey(const PublicKey& key);
// The organisation of `key` if it is an active actor in one of `roles`.
std::optional<std::string> OrgIfRole(const StateReader& state, const PublicKey& key,
                                     std::initializer_list<std::string_view> roles);
// The organisation of a node key named in genesis; nullopt for other keys.
std::optional<std::string> NodeOrg(const StateReader& state, const PublicKey& key);

class IdentityModule : public Module, public ActorAuthority {
 public:
  IdentityModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  Status InitGenesis(const nlohmann::json& genesis, Overlay& state) const override;
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

  // Active actors and the network's node keys (a custodian's node signs
  // record pointers, access logs and erasure receipts).
  bool IsActive(const StateReader& state, const PublicKey& key) const override;
  bool IsProposer(const StateReader& state, const PublicKey& key) const override;

 private:
  TxResult Register(const TxContext& ctx, Overlay& state) const;
  TxResult Revoke(const TxContext& ctx, Overlay& state) const;
  TxResult Rotate(const TxContext& ctx, Overlay& state) const;

  PayloadSchema register_, revoke_, rotate_;
};

}  // namespace cc::identity

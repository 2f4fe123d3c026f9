#include "apps/token/token.h"

#include "apps/identity/identity.h"

namespace cc::token {
namespace {

// State keys (docs/modules/token.md#state).
constexpr std::string_view kMeta = "token/meta";
constexpr std::string_view kAccount = "token/account/";  // <account>: {"balance", "entries"}
constexpr std::string_view kEntry = "token/entry/";      // <account>/<seq 12 digits>: a movement

std::string AccountKey(std::string_view account) { return std::string(kAccount) + std::string(account); }

nlohmann::json ReadAccount(const StateReader& state, std::string_view account) {
  auto a = ReadJsonObject(state, AccountKey(account));
  return a ? *a : nlohmann::json{{"balance", 0}, {"entries", 0}};
}

// Appends a movement to `account`'s history and sets its balance.
void Record(Overlay& state, std::string_view account, int64_t sign, uint64_t amount, nlohmann::json entry) {
  nlohmann::json a = ReadAccount(state, account);
  const uint64_t balance = a["balance"], seq = a["entries"].get<uint64_t>() + 1;
  a["balance"] = sign > 0 ? balance + amount : balance - amount;
  a["entries"] = seq;
  entry["balance"] = a["balance"];
  state.Put(AccountKey(account), a.dump());
  state.Put(std::string(kEntry) + std::string(account) + "/" + ZeroPadded(seq, 12), entry.dump());
}

// "org:<id>" of an existing organisation, or an active actor's key.
bool AccountExists(const StateReader& state, std::string_view account) {
  if (account.starts_with("org:")) return state.Get("identity/org/" + std::string(account.substr(4))).has_value();
  auto key = PublicKey::FromHex(account);
  if (!key) return false;
  auto a = identity::LookupActor(state, *key);
  return a && a->active;
}

}  // namespace

std::string OrgAccount(std::string_view org) { return "org:" + std::string(org); }

std::optional<std::string> Treasury(const StateReader& state) {
  auto m = ReadJsonObject(state, kMeta);
  if (!m) return std::nullopt;
  return (*m)["treasury"].get<std::string>();
}

uint64_t Balance(const StateReader& state, std::string_view account) {
  return ReadAccount(state, account)["balance"].get<uint64_t>();
}

TxResult Move(const TxContext& ctx, Overlay& state, const std::string& from, const std::string& to, uint64_t amount,
              const std::string& memo) {
  if (from == to) return TxResult::Reject(TxCode::kInvalidPayload, "a transfer goes to another account");
  const uint64_t balance = Balance(state, from);
  if (balance < amount)
    return TxResult::Reject(TxCode::kFailedPrecondition, "the balance of " + from + " is " + std::to_string(balance) +
                                                             ", less than " + std::to_string(amount));
  nlohmann::json entry = {{"tx", ctx.tx.id().hex()}, {"at", ctx.time_ms}, {"height", ctx.height},
                          {"from", from},            {"to", to},          {"amount", amount}};
  if (!memo.empty()) entry["memo"] = memo;
  Record(state, from, -1, amount, entry);
  Record(state, to, +1, amount, entry);
  return TxResult::Ok();
}

TokenModule::TokenModule() {
  transfer_.String("to", 70).UInt("amount", 1, kMaxSupply).String("memo", 140, false).Id("from_org", false);
}

Status TokenModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action != "transfer") return Status::Invalid("unknown action '" + std::string(action) + "'");
  CC_RETURN_IF_ERROR(transfer_.Check(p));
  const std::string to = p["to"];
  if (!to.starts_with("org:") && !PublicKey::FromHex(to))
    return Status::Invalid("'to' must be an actor's key (64 hex digits) or org:<organisation>");
  return Status::Ok();
}

TxResult TokenModule::Execute(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const std::string to = p["to"];
  if (!state.Get(kMeta)) return TxResult::Reject(TxCode::kFailedPrecondition, "this network has no token");
  if (!AccountExists(state, to))
    return TxResult::Reject(TxCode::kNotFound, "no account " + to + ": an active actor's key or org:<organisation>");
  std::string from = ctx.tx.body().actor.hex();
  if (p.contains("from_org")) {
    const std::string org = p["from_org"];
    if (identity::OrgIfRole(state, ctx.tx.body().actor, {"admin"}) != org)
      return TxResult::Reject(TxCode::kUnauthorized, "an organisation's tokens are spent by its admins");
    from = OrgAccount(org);
  }
  return Move(ctx, state, from, to, p["amount"], p.value("memo", ""));
}

Status TokenModule::InitGenesis(const nlohmann::json& genesis, Overlay& state) const {
  auto t = genesis.find("token");
  if (t == genesis.end()) return Status::Ok();
  if (!t->is_object() || !t->contains("symbol") || !(*t)["symbol"].is_string() || !t->contains("supply") ||
      !(*t)["supply"].is_number_unsigned() || !t->contains("treasury") || !(*t)["treasury"].is_string())
    return Status::Invalid("genesis: token must be {\"symbol\", \"supply\", \"treasury\": organisation}");
  const std::string symbol = (*t)["symbol"], treasury = (*t)["treasury"];
  const uint64_t supply = (*t)["supply"];
  if (symbol.empty() || symbol.size() > 12) return Status::Invalid("genesis: token.symbol is 1 to 12 characters");
  if (supply == 0 || supply > kMaxSupply) return Status::Invalid("genesis: token.supply is 1 to 10^18");
  if (!state.Get("identity/org/" + treasury))
    return Status::Invalid("genesis: token.treasury '" + treasury + "' is no organisation");
  state.Put(kMeta, nlohmann::json({{"symbol", symbol}, {"supply", supply}, {"decimals", 0},
                                   {"treasury", OrgAccount(treasury)}})
                       .dump());
  nlohmann::json mint = {{"at", genesis.value("time_ms", uint64_t{0})}, {"height", 0}, {"from", "mint"},
                         {"to", OrgAccount(treasury)}, {"amount", supply}};
  Record(state, OrgAccount(treasury), +1, supply, mint);
  return Status::Ok();
}

Result<nlohmann::json> TokenModule::Query(std::string_view path, const QueryParams& params,
                                          const StateReader& state) const {
  if (path == "meta") {
    auto m = ReadJsonObject(state, kMeta);
    if (!m) return Status::NotFound("this network has no token");
    return *m;
  }
  if (!path.starts_with("accounts/")) return Status::NotFound("module token has no query " + std::string(path));
  std::string account(path.substr(9));
  const bool history = account.ends_with("/history");
  if (history) account.resize(account.size() - 8);
  nlohmann::json a = ReadAccount(state, account);
  if (!history) return nlohmann::json{{"account", account}, {"balance", a["balance"]}, {"entries", a["entries"]}};
  const size_t limit = LimitParam(params, 100);
  uint64_t after = 0;
  if (auto it = params.find("after"); it != params.end()) after = std::strtoull(it->second.c_str(), nullptr, 10);
  const std::string prefix = std::string(kEntry) + account + "/";
  nlohmann::json entries = nlohmann::json::array();
  state.Scan(prefix, prefix + ZeroPadded(after, 12) + std::string(1, '\0'), [&](std::string_view k, std::string_view v) {
    auto e = nlohmann::json::parse(v);
    e["seq"] = std::stoull(std::string(k.substr(prefix.size())));
    entries.push_back(std::move(e));
    return entries.size() < limit;
  });
  nlohmann::json out = {{"account", account}, {"balance", a["balance"]}, {"history", entries}};
  if (entries.size() == limit) out["next_after"] = entries.back()["seq"];
  return out;
}

}  // namespace cc::token

#include "apps/supply/supply.h"

#include <algorithm>

#include "apps/coldchain/coldchain.h"
#include "apps/identity/identity.h"
#include "apps/supply/gs1.h"

namespace cc::supply {
namespace {

constexpr std::string_view kPrefix = "supply/prefix/";
constexpr std::string_view kProduct = "supply/product/";
constexpr std::string_view kBatch = "supply/batch/";
constexpr std::string_view kCase = "supply/case/";
constexpr std::string_view kTransfer = "supply/transfer/";
constexpr std::string_view kAlarm = "supply/alarm/";
constexpr std::string_view kAlarmBy = "supply/alarm_by/";

// Serials may hold '/', so keys carry them in hex.
std::string PackId(std::string_view gtin, std::string_view serial) {
  return std::string(gtin) + "/" + ToHex(AsBytes(serial));
}
std::string PackKey(std::string_view gtin, std::string_view serial) {
  return "supply/pack/" + PackId(gtin, serial);
}
std::string EventPrefix(std::string_view gtin, std::string_view serial) {
  return "supply/event/" + PackId(gtin, serial) + "/";
}

void WriteJson(Overlay& state, const std::string& key, const nlohmann::json& j) { state.Put(key, j.dump()); }

// The organisation whose company prefix the GTIN carries (digits after the
// indicator digit; prefixes are 6 to 12 digits and never overlap).
std::optional<std::string> PrefixOwner(const StateReader& state, std::string_view gtin) {
  for (size_t len = 6; len <= 12; ++len) {
    if (auto org = state.Get(std::string(kPrefix) + std::string(gtin.substr(1, len)))) return *org;
  }
  return std::nullopt;
}

using identity::OrgIfRole;

// Appends an event to a pack's history; the caller writes the pack.
void AddEvent(Overlay& state, nlohmann::json& pack, nlohmann::json event, const TxContext& ctx) {
  uint64_t n = pack.value("events", uint64_t{0});
  event["at"] = ctx.time_ms;
  event["height"] = ctx.height;
  event["actor"] = ctx.tx.body().actor.hex();
  WriteJson(state, EventPrefix(pack["gtin"].get<std::string>(), pack["serial"].get<std::string>()) + ZeroPadded(n, 8), event);
  pack["events"] = n + 1;
}

nlohmann::json History(const StateReader& state, std::string_view gtin, std::string_view serial) {
  nlohmann::json out = nlohmann::json::array();
  state.Scan(EventPrefix(gtin, serial), "", [&](std::string_view, std::string_view v) {
    out.push_back(nlohmann::json::parse(v, nullptr, false));
    return out.size() < 1000;
  });
  return out;
}

TxResult Alarm(Overlay& state, const TxContext& ctx, const nlohmann::json& pack, std::string_view kind,
               const std::string& org) {
  const std::string id = ctx.tx.id().hex();
  const std::string manufacturer = pack.value("manufacturer", "");
  nlohmann::json a = {{"gtin", pack["gtin"]}, {"serial", pack["serial"]}, {"kind", kind},
                      {"presented_by", org}, {"owner", pack.value("owner", "")}, {"manufacturer", manufacturer},
                      {"at", ctx.time_ms}, {"height", ctx.height}, {"tx", id}};
  WriteJson(state, std::string(kAlarm) + ZeroPadded(ctx.time_ms, 16) + "/" + id, a);
  state.Put(std::string(kAlarmBy) + manufacturer + "/" + ZeroPadded(ctx.time_ms, 16) + "/" + id, "");
  return {TxCode::kOk, "alarm: " + std::string(kind)};
}

std::vector<std::pair<std::string, std::string>> PackRefs(const nlohmann::json& list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : list) out.emplace_back(*NormalizeGtin(p["gtin"].get<std::string>()), p["serial"]);
  return out;
}

Status CheckPackFields(const nlohmann::json& p) {
  CC_RETURN_IF_ERROR(NormalizeGtin(p["gtin"].get<std::string>()).status());
  const std::string serial = p["serial"];
  if (serial.size() > kMaxSerialLen || !IsCset82(serial))
    return Status::Invalid("serial must be 1..20 characters of GS1's set 82");
  if (p.contains("batch")) {
    const std::string b = p["batch"];
    if (b.size() > kMaxBatchLen || !IsCset82(b)) return Status::Invalid("batch must be 1..20 characters of GS1's set 82");
  }
  if (p.contains("expiry")) CC_RETURN_IF_ERROR(ExpiryDay(p["expiry"].get<std::string>()).status());
  return Status::Ok();
}

// Empty if `pre` may be assigned: no assigned prefix starts it, equals it or
// starts with it (a GTIN would then have two owners); else why not.
std::string PrefixConflict(const StateReader& state, const std::string& pre) {
  for (size_t len = 6; len <= pre.size(); ++len) {
    if (state.Get(std::string(kPrefix) + pre.substr(0, len))) return "prefix " + pre.substr(0, len) + " is assigned already";
  }
  bool longer = false;
  state.Scan(std::string(kPrefix) + pre, "", [&](std::string_view, std::string_view) {
    longer = true;
    return false;
  });
  return longer ? "a longer prefix starting with " + pre + " is assigned" : "";
}

std::string LotKey(std::string_view gtin, std::string_view batch) {
  return "supply/lot/" + std::string(gtin) + "/" + ToHex(AsBytes(batch));
}

}  // namespace

std::optional<nlohmann::json> ReadPack(const StateReader& state, std::string_view gtin, std::string_view serial) {
  return ReadJsonObject(state, PackKey(gtin, serial));
}
std::optional<nlohmann::json> ReadCase(const StateReader& state, std::string_view case_id) {
  return ReadJsonObject(state, std::string(kCase) + std::string(case_id));
}

Verdict Check(const StateReader& state, std::string_view gtin, std::string_view serial, std::string_view batch,
              std::string_view expiry, uint64_t time_ms) {
  auto raw = state.Get(PackKey(gtin, serial));
  if (!raw) {
    bool product = state.Get(std::string(kProduct) + std::string(gtin)).has_value();
    return {std::string(product ? kUnknownSerial : kUnknownProduct), std::nullopt};
  }
  nlohmann::json pack = nlohmann::json::parse(*raw);
  // A code whose batch or expiry differ from what was commissioned is not
  // that pack: say nothing of the real one.
  if ((!batch.empty() && batch != pack.value("batch", "")) || (!expiry.empty() && expiry != pack.value("expiry", "")))
    return {std::string(kUnknownSerial), std::nullopt};
  std::string v(kAuthentic);
  auto recalled = state.Get(std::string(kBatch) + std::string(gtin) + "/" + ToHex(AsBytes(pack.value("batch", ""))));
  const std::string exp = pack.value("expiry", "");
  if (pack["status"] == "dispensed") {
    v = kDispensed;
  } else if (recalled) {
    v = kRecalled;
  } else if (coldchain::RejectedIn(state, gtin, serial)) {
    v = kRejectedInTransport;
  } else if (!exp.empty() && static_cast<int64_t>(time_ms / 86'400'000) > *ExpiryDay(exp)) {
    v = kExpired;
  }
  return {v, std::move(pack)};
}

SupplyModule::SupplyModule() {
  prefix_.String("prefix", 12).Id("org");
  PayloadSchema pack;
  pack.String("gtin", 14).String("serial", kMaxSerialLen).String("batch", kMaxBatchLen, false).String("expiry", 6, false);
  commission_.Objects("packs", pack, kMaxPacksPerTx);
  PayloadSchema ref;
  ref.String("gtin", 14).String("serial", kMaxSerialLen);
  aggregate_.Hex("case", 16).Objects("packs", ref, kMaxPacksPerTx);
  disaggregate_.Hex("case", 16);
  transfer_.Hex("transfer", 16).Id("to").Objects("packs", ref, kMaxPacksPerTx, false).HexList("cases", 16, 100, false);
  accept_.Hex("transfer", 16);
  pack_ref_.String("gtin", 14).String("serial", kMaxSerialLen);
  verify_.String("gtin", 14).String("serial", kMaxSerialLen).String("batch", kMaxBatchLen, false).String("expiry", 6, false);
  recall_.String("gtin", 14).String("batch", kMaxBatchLen).String("reason", 200);
}

Status SupplyModule::Check(std::string_view action, const nlohmann::json& p) const {
  auto each_pack = [&](const char* list) -> Status {
    if (!p.contains(list)) return Status::Ok();
    for (const auto& item : p[list]) CC_RETURN_IF_ERROR(CheckPackFields(item));
    return Status::Ok();
  };
  if (action == "assign_prefix") {
    CC_RETURN_IF_ERROR(prefix_.Check(p));
    const std::string pre = p["prefix"];
    if (pre.size() < 6 || !AllDigits(pre)) return Status::Invalid("a GS1 company prefix is 6 to 12 digits");
    return Status::Ok();
  }
  if (action == "commission") {
    CC_RETURN_IF_ERROR(commission_.Check(p));
    for (const auto& item : p["packs"]) {
      if (!item.contains("batch") || !item.contains("expiry"))
        return Status::Invalid("a commissioned pack needs 'batch' and 'expiry' (YYMMDD)");
    }
    return each_pack("packs");
  }
  if (action == "aggregate") {
    CC_RETURN_IF_ERROR(aggregate_.Check(p));
    return each_pack("packs");
  }
  if (action == "disaggregate") return disaggregate_.Check(p);
  if (action == "transfer") {
    CC_RETURN_IF_ERROR(transfer_.Check(p));
    if (!p.contains("packs") && !p.contains("cases")) return Status::Invalid("a transfer moves 'packs' or 'cases'");
    return each_pack("packs");
  }
  if (action == "accept" || action == "cancel") return accept_.Check(p);
  if (action == "dispense") {
    CC_RETURN_IF_ERROR(pack_ref_.Check(p));
    return CheckPackFields(p);
  }
  if (action == "verify") {
    CC_RETURN_IF_ERROR(verify_.Check(p));
    return CheckPackFields(p);
  }
  if (action == "recall") {
    CC_RETURN_IF_ERROR(recall_.Check(p));
    if (!IsCset82(p["batch"].get<std::string>())) return Status::Invalid("batch must be characters of GS1's set 82");
    return NormalizeGtin(p["gtin"].get<std::string>()).status();
  }
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult SupplyModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "assign_prefix") return AssignPrefix(ctx, state);
  if (a == "commission") return Commission(ctx, state);
  if (a == "aggregate") return Aggregate(ctx, state);
  if (a == "disaggregate") return Disaggregate(ctx, state);
  if (a == "transfer") return Transfer(ctx, state);
  if (a == "accept") return Accept(ctx, state, /*cancel=*/false);
  if (a == "cancel") return Accept(ctx, state, /*cancel=*/true);
  if (a == "dispense") return Dispense(ctx, state);
  if (a == "verify") return Verify(ctx, state);
  return Recall(ctx, state);
}

Status SupplyModule::InitGenesis(const nlohmann::json& genesis, Overlay& state) const {
  auto orgs = genesis.find("orgs");
  if (orgs == genesis.end() || !orgs->is_array()) return Status::Ok();
  for (const auto& org : *orgs) {
    if (!org.is_object() || !org.contains("gs1_prefixes")) continue;
    const auto& list = org["gs1_prefixes"];
    if (!list.is_array()) return Status::Invalid("genesis: orgs[].gs1_prefixes must be a list");
    for (const auto& pre : list) {
      if (!pre.is_string() || pre.get<std::string>().size() < 6 || pre.get<std::string>().size() > 12 ||
          !AllDigits(pre.get<std::string>()))
        return Status::Invalid("genesis: a GS1 company prefix is 6 to 12 digits");
      if (std::string why = PrefixConflict(state, pre.get<std::string>()); !why.empty())
        return Status::Invalid("genesis: GS1 " + why);
      state.Put(std::string(kPrefix) + pre.get<std::string>(), org["id"].get<std::string>());
    }
  }
  return Status::Ok();
}

TxResult SupplyModule::AssignPrefix(const TxContext& ctx, Overlay& state) const {
  if (!OrgIfRole(state, ctx.tx.body().actor, {"regulator"}))
    return TxResult::Reject(TxCode::kUnauthorized, "GS1 company prefixes are assigned by a regulator");
  const std::string pre = ctx.payload["prefix"];
  const std::string org = ctx.payload["org"];
  if (!state.Get("identity/org/" + org)) return TxResult::Reject(TxCode::kNotFound, "no organisation '" + org + "'");
  if (std::string why = PrefixConflict(state, pre); !why.empty()) return TxResult::Reject(TxCode::kAlreadyExists, why);
  state.Put(std::string(kPrefix) + pre, org);
  return TxResult::Ok();
}

TxResult SupplyModule::Commission(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "packs are commissioned by a manufacturer");
  for (const auto& item : ctx.payload["packs"]) {
    const std::string gtin = *NormalizeGtin(item["gtin"].get<std::string>());
    const std::string serial = item["serial"];
    auto owner = PrefixOwner(state, gtin);
    if (owner != org)
      return TxResult::Reject(TxCode::kUnauthorized, "GTIN " + gtin + " is not under a company prefix of " + *org);
    const std::string key = PackKey(gtin, serial);
    if (state.Get(key)) return TxResult::Reject(TxCode::kAlreadyExists, "pack " + gtin + " serial exists already");
    nlohmann::json pack = {{"gtin", gtin},          {"serial", serial},   {"batch", item["batch"]},
                           {"expiry", item["expiry"]}, {"manufacturer", *org}, {"owner", *org},
                           {"status", "active"},     {"commissioned_at", ctx.time_ms}};
    AddEvent(state, pack, {{"type", "commissioned"}, {"org", *org}}, ctx);
    WriteJson(state, key, pack);
    const std::string product = std::string(kProduct) + gtin;
    if (!state.Get(product)) WriteJson(state, product, {{"manufacturer", *org}});
    state.Put(LotKey(gtin, item["batch"].get<std::string>()), "");
  }
  return TxResult::Ok();
}

TxResult SupplyModule::Aggregate(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "cases are packed by a manufacturer, wholesaler or pharmacy");
  const std::string case_key = std::string(kCase) + ctx.payload["case"].get<std::string>();
  if (state.Get(case_key)) return TxResult::Reject(TxCode::kAlreadyExists, "case id is taken");
  nlohmann::json packs = nlohmann::json::array();
  for (const auto& [gtin, serial] : PackRefs(ctx.payload["packs"])) {
    auto pack = ReadJsonObject(state, PackKey(gtin, serial));
    if (!pack) return TxResult::Reject(TxCode::kNotFound, "unknown pack " + gtin);
    if ((*pack)["owner"] != *org || (*pack)["status"] != "active")
      return TxResult::Reject(TxCode::kFailedPrecondition, "pack " + gtin + " is not an active pack of " + *org);
    if (pack->contains("case") || pack->contains("transfer"))
      return TxResult::Reject(TxCode::kFailedPrecondition, "pack " + gtin + " is in a case or a transfer");
    (*pack)["case"] = ctx.payload["case"];
    AddEvent(state, *pack, {{"type", "aggregated"}, {"case", ctx.payload["case"]}, {"org", *org}}, ctx);
    WriteJson(state, PackKey(gtin, serial), *pack);
    packs.push_back({{"gtin", gtin}, {"serial", serial}});
  }
  WriteJson(state, case_key, {{"owner", *org}, {"packs", packs}, {"status", "sealed"}, {"created_at", ctx.time_ms}});
  return TxResult::Ok();
}

TxResult SupplyModule::Disaggregate(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  const std::string case_key = std::string(kCase) + ctx.payload["case"].get<std::string>();
  auto c = ReadJsonObject(state, case_key);
  if (!c || (*c)["status"] != "sealed") return TxResult::Reject(TxCode::kNotFound, "no sealed case with this id");
  if (!org || (*c)["owner"] != *org) return TxResult::Reject(TxCode::kUnauthorized, "only the case's owner opens it");
  if (c->contains("transfer")) return TxResult::Reject(TxCode::kFailedPrecondition, "the case is in a transfer");
  for (const auto& [gtin, serial] : PackRefs((*c)["packs"])) {
    auto pack = ReadJsonObject(state, PackKey(gtin, serial));
    pack->erase("case");
    AddEvent(state, *pack, {{"type", "disaggregated"}, {"case", ctx.payload["case"]}, {"org", *org}}, ctx);
    WriteJson(state, PackKey(gtin, serial), *pack);
  }
  (*c)["status"] = "opened";
  WriteJson(state, case_key, *c);
  return TxResult::Ok();
}

TxResult SupplyModule::Transfer(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "packs are moved by a manufacturer, wholesaler or pharmacy");
  const std::string id = ctx.payload["transfer"];
  const std::string to = ctx.payload["to"];
  if (state.Get(std::string(kTransfer) + id)) return TxResult::Reject(TxCode::kAlreadyExists, "transfer id is taken");
  if (to == *org) return TxResult::Reject(TxCode::kInvalidPayload, "a transfer goes to another organisation");
  if (!state.Get("identity/org/" + to)) return TxResult::Reject(TxCode::kNotFound, "no organisation '" + to + "'");
  auto take = [&](const std::string& gtin, const std::string& serial, bool in_case) -> TxResult {
    auto pack = ReadJsonObject(state, PackKey(gtin, serial));
    if (!pack) return TxResult::Reject(TxCode::kNotFound, "unknown pack " + gtin);
    if ((*pack)["owner"] != *org)
      return TxResult::Reject(TxCode::kUnauthorized, "pack " + gtin + " is not owned by " + *org);
    if ((*pack)["status"] != "active" || pack->contains("transfer") || (!in_case && pack->contains("case")))
      return TxResult::Reject(TxCode::kFailedPrecondition, "pack " + gtin + " is dispensed, in a case or moving");
    (*pack)["transfer"] = id;
    WriteJson(state, PackKey(gtin, serial), *pack);
    return TxResult::Ok();
  };
  nlohmann::json packs = nlohmann::json::array(), cases = nlohmann::json::array();
  if (ctx.payload.contains("packs")) {
    for (const auto& [gtin, serial] : PackRefs(ctx.payload["packs"])) {
      if (TxResult r = take(gtin, serial, false); !r.ok()) return r;
      packs.push_back({{"gtin", gtin}, {"serial", serial}});
    }
  }
  if (ctx.payload.contains("cases")) {
    for (const auto& cid : ctx.payload["cases"]) {
      auto c = ReadJsonObject(state, std::string(kCase) + cid.get<std::string>());
      if (!c || (*c)["status"] != "sealed") return TxResult::Reject(TxCode::kNotFound, "no sealed case " + cid.get<std::string>());
      if ((*c)["owner"] != *org || c->contains("transfer"))
        return TxResult::Reject(TxCode::kFailedPrecondition, "case " + cid.get<std::string>() + " is not " + *org + "'s to move");
      for (const auto& [gtin, serial] : PackRefs((*c)["packs"])) {
        if (TxResult r = take(gtin, serial, true); !r.ok()) return r;
      }
      (*c)["transfer"] = id;
      WriteJson(state, std::string(kCase) + cid.get<std::string>(), *c);
      cases.push_back(cid);
    }
  }
  WriteJson(state, std::string(kTransfer) + id,
            {{"from", *org}, {"to", to}, {"packs", packs}, {"cases", cases}, {"status", "offered"},
             {"offered_at", ctx.time_ms}, {"offered_by", ctx.tx.body().actor.hex()}});
  return TxResult::Ok();
}

TxResult SupplyModule::Accept(const TxContext& ctx, Overlay& state, bool cancel) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  const std::string id = ctx.payload["transfer"];
  auto t = ReadJsonObject(state, std::string(kTransfer) + id);
  if (!t) return TxResult::Reject(TxCode::kNotFound, "no transfer with this id");
  if ((*t)["status"] != "offered") return TxResult::Reject(TxCode::kFailedPrecondition, "the transfer is closed already");
  const std::string side = cancel ? (*t)["from"] : (*t)["to"];
  if (!org || *org != side)
    return TxResult::Reject(TxCode::kUnauthorized, cancel ? "only the sender cancels a transfer"
                                                          : "only the receiving organisation accepts a transfer");
  const std::string from = (*t)["from"], to = (*t)["to"];
  auto move = [&](const std::string& gtin, const std::string& serial) {
    auto pack = ReadJsonObject(state, PackKey(gtin, serial));
    pack->erase("transfer");
    if (!cancel) {
      (*pack)["owner"] = to;
      AddEvent(state, *pack, {{"type", "transferred"}, {"from", from}, {"to", to}, {"transfer", id}}, ctx);
    }
    WriteJson(state, PackKey(gtin, serial), *pack);
  };
  for (const auto& [gtin, serial] : PackRefs((*t)["packs"])) move(gtin, serial);
  for (const auto& cid : (*t)["cases"]) {
    const std::string key = std::string(kCase) + cid.get<std::string>();
    auto c = ReadJsonObject(state, key);
    for (const auto& [gtin, serial] : PackRefs((*c)["packs"])) move(gtin, serial);
    c->erase("transfer");
    if (!cancel) (*c)["owner"] = to;
    WriteJson(state, key, *c);
  }
  (*t)["status"] = cancel ? "cancelled" : "accepted";
  (*t)["closed_at"] = ctx.time_ms;
  WriteJson(state, std::string(kTransfer) + id, *t);
  return TxResult::Ok();
}

TxResult SupplyModule::Dispense(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"pharmacist"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "packs are dispensed by a pharmacist");
  const std::string gtin = *NormalizeGtin(ctx.payload["gtin"].get<std::string>());
  const std::string serial = ctx.payload["serial"];
  auto pack = ReadJsonObject(state, PackKey(gtin, serial));
  if (!pack) return TxResult::Reject(TxCode::kNotFound, "unknown pack: do not dispense");
  if ((*pack)["status"] == "dispensed") {
    AddEvent(state, *pack, {{"type", "dispense_refused"}, {"org", *org}, {"reason", "already dispensed"}}, ctx);
    WriteJson(state, PackKey(gtin, serial), *pack);
    return Alarm(state, ctx, *pack, "dispensed_twice", *org);
  }
  if ((*pack)["owner"] != *org && pack->contains("transfer")) {
    auto t = ReadJsonObject(state, std::string(kTransfer) + (*pack)["transfer"].get<std::string>());
    if (t && (*t)["to"] == *org)
      return TxResult::Reject(TxCode::kFailedPrecondition, "the pack is on its way here: accept the transfer first");
  }
  if ((*pack)["owner"] != *org) {
    AddEvent(state, *pack, {{"type", "dispense_refused"}, {"org", *org}, {"reason", "not the owner"}}, ctx);
    WriteJson(state, PackKey(gtin, serial), *pack);
    return Alarm(state, ctx, *pack, "presented_elsewhere", *org);
  }
  Verdict v = supply::Check(state, gtin, serial, "", "", ctx.time_ms);
  if (v.verdict != kAuthentic)
    return TxResult::Reject(TxCode::kFailedPrecondition, "pack is " + v.verdict + ": do not dispense");
  if (pack->contains("transfer") || pack->contains("case"))
    return TxResult::Reject(TxCode::kFailedPrecondition, "pack is in a case or a transfer");
  (*pack)["status"] = "dispensed";
  (*pack)["dispensed_at"] = ctx.time_ms;
  AddEvent(state, *pack, {{"type", "dispensed"}, {"org", *org}}, ctx);
  WriteJson(state, PackKey(gtin, serial), *pack);
  return TxResult::Ok();
}

TxResult SupplyModule::Verify(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"pharmacist", "wholesaler", "manufacturer"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "packs are verified by a pharmacist, wholesaler or manufacturer");
  const auto& p = ctx.payload;
  const std::string gtin = *NormalizeGtin(p["gtin"].get<std::string>());
  const std::string serial = p["serial"];
  Verdict v = supply::Check(state, gtin, serial, p.value("batch", ""), p.value("expiry", ""), ctx.time_ms);
  if (!v.pack) return {TxCode::kOk, v.verdict};
  nlohmann::json& pack = *v.pack;
  AddEvent(state, pack, {{"type", "verified"}, {"org", *org}, {"verdict", v.verdict}}, ctx);
  WriteJson(state, PackKey(gtin, serial), pack);
  if (v.verdict == kDispensed) {
    TxResult a = Alarm(state, ctx, pack, "verified_after_dispensing", *org);
    return {TxCode::kOk, v.verdict + "; " + a.detail};
  }
  const bool receiving = pack.contains("transfer") && [&] {
    auto t = ReadJsonObject(state, std::string(kTransfer) + pack["transfer"].get<std::string>());
    return t && (*t)["to"] == *org;
  }();
  if (pack["owner"] != *org && !receiving) {
    TxResult a = Alarm(state, ctx, pack, "presented_elsewhere", *org);
    return {TxCode::kOk, v.verdict + "; " + a.detail};
  }
  return {TxCode::kOk, v.verdict};
}

TxResult SupplyModule::Recall(const TxContext& ctx, Overlay& state) const {
  auto org = OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "regulator"});
  const std::string gtin = *NormalizeGtin(ctx.payload["gtin"].get<std::string>());
  auto a = identity::LookupActor(state, ctx.tx.body().actor);
  if (!org || (a->role == "manufacturer" && PrefixOwner(state, gtin) != org))
    return TxResult::Reject(TxCode::kUnauthorized, "a batch is recalled by its manufacturer or a regulator");
  if (!state.Get(std::string(kProduct) + gtin)) return TxResult::Reject(TxCode::kNotFound, "unknown product");
  const std::string batch = ctx.payload["batch"];
  if (!state.Get(LotKey(gtin, batch)))
    return TxResult::Reject(TxCode::kNotFound, "no pack of this batch was commissioned");
  const std::string key = std::string(kBatch) + gtin + "/" + ToHex(AsBytes(batch));
  if (state.Get(key)) return TxResult::Reject(TxCode::kAlreadyExists, "the batch is recalled already");
  WriteJson(state, key, {{"gtin", gtin}, {"batch", batch}, {"reason", ctx.payload["reason"]},
                         {"recalled_at", ctx.time_ms}, {"by", *org}});
  return TxResult::Ok();
}

Result<nlohmann::json> SupplyModule::Query(std::string_view path, const QueryParams& params,
                                           const StateReader& state) const {
  auto param = [&](const char* k) -> std::string {
    auto it = params.find(k);
    return it == params.end() ? "" : it->second;
  };
  const uint64_t at = std::strtoull(param("at").c_str(), nullptr, 10);
  if (path == "check") {
    CC_ASSIGN_OR_RETURN(PackCode code, Parse(param("code")));
    Verdict v = supply::Check(state, code.gtin, code.serial, code.batch, code.expiry, at);
    // The code's own fields (the caller has them already), so that a scanner
    // can ask for the pack's history next; nothing from the chain but the verdict.
    nlohmann::json out = {{"verdict", v.verdict}, {"gtin", code.gtin}, {"serial", code.serial}};
    if (!code.batch.empty()) out["batch"] = code.batch;
    if (!code.expiry.empty()) out["expiry"] = code.expiry;
    return out;
  }
  if (path.starts_with("packs/")) {
    std::string_view rest = path.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return Status::Invalid("path is packs/<gtin>/<serial>");
    CC_ASSIGN_OR_RETURN(std::string gtin, NormalizeGtin(rest.substr(0, slash)));
    std::string serial(rest.substr(slash + 1));
    Verdict v = supply::Check(state, gtin, serial, "", "", at);
    if (!v.pack) return Status::NotFound("no pack " + gtin + " with this serial");
    nlohmann::json j = *v.pack;
    j["verdict"] = v.verdict;
    j["history"] = History(state, gtin, serial);
    j.erase("events");
    return j;
  }
  if (path == "alarms") {
    const size_t limit = LimitParam(params, 100);
    nlohmann::json out = nlohmann::json::array();
    const std::string org = param("org");
    if (org.empty()) {
      state.Scan(kAlarm, "", [&](std::string_view, std::string_view v) {
        out.push_back(nlohmann::json::parse(v, nullptr, false));
        return out.size() < limit;
      });
    } else {
      state.Scan(std::string(kAlarmBy) + org + "/", "", [&](std::string_view k, std::string_view) {
        std::string_view tail = k.substr(kAlarmBy.size() + org.size() + 1);  // time/tx
        if (auto a = state.Get(std::string(kAlarm) + std::string(tail))) out.push_back(nlohmann::json::parse(*a));
        return out.size() < limit;
      });
    }
    return nlohmann::json{{"alarms", out}};
  }
  auto object = [&](std::string_view prefix, std::string_view id) -> Result<nlohmann::json> {
    auto j = ReadJsonObject(state, std::string(prefix) + std::string(id));
    if (!j) return Status::NotFound("nothing at " + std::string(path));
    return *j;
  };
  if (path.starts_with("cases/")) return object(kCase, path.substr(6));
  if (path.starts_with("transfers/")) return object(kTransfer, path.substr(10));
  if (path.starts_with("prefixes/")) {
    auto org = state.Get(std::string(kPrefix) + std::string(path.substr(9)));
    if (!org) return Status::NotFound("prefix not assigned");
    return nlohmann::json{{"prefix", path.substr(9)}, {"org", *org}};
  }
  return Status::NotFound("module supply has no query " + std::string(path));
}

}  // namespace cc::supply

#include "apps/wearables/wearables.h"


#include "apps/identity/identity.h"
#include "codec/canonical_json.h"
#include "crypto/merkle.h"

namespace cc::wearables {
namespace {

constexpr std::string_view kDevice = "wearables/device/";    // <device>
constexpr std::string_view kByPatient = "wearables/patient/";  // <patient>/<device>: ""
constexpr std::string_view kAnchor = "wearables/anchor/";    // <device>/<seq>
constexpr size_t kMaxDevicesPerPatient = 16;

void WriteJson(Overlay& state, const std::string& key, const nlohmann::json& j) { state.Put(key, j.dump()); }
PublicKey KeyField(const nlohmann::json& p, const char* name) { return *PublicKey::FromHex(p[name].get<std::string>()); }

}  // namespace

Hash256 ReadingLeaf(const PublicKey& device, const Reading& r) {
  // "wearables/reading" || device (32) || t (8, BE) || metric (1) || milli (8, BE two's complement)
  std::string data = "wearables/reading";
  data.append(reinterpret_cast<const char*>(device.bytes.data()), device.bytes.size());
  AppendBigEndian64(&data, r.t);
  data.push_back(static_cast<char>(r.metric));
  AppendBigEndian64(&data, static_cast<uint64_t>(r.milli));
  return merkle::LeafHash(AsBytes(data));
}

std::string BatchMessage(const std::string& device_hex, uint64_t seq, uint64_t count, uint64_t first, uint64_t last,
                         const Hash256& root) {
  nlohmann::json j = {{"device", device_hex}, {"seq", seq},   {"count", count},
                      {"first", first},       {"last", last}, {"root", root.hex()}};
  return std::string(kBatchDomain) + *codec::ToCanonicalJson(j);
}

std::optional<nlohmann::json> ReadDevice(const StateReader& state, const PublicKey& device) {
  return ReadJsonObject(state, std::string(kDevice) + device.hex());
}

std::vector<PublicKey> PatientDevices(const StateReader& state, const PublicKey& patient) {
  std::vector<PublicKey> out;
  const std::string prefix = std::string(kByPatient) + patient.hex() + "/";
  state.Scan(prefix, "", [&](std::string_view k, std::string_view) {
    out.push_back(*PublicKey::FromHex(k.substr(prefix.size())));
    return true;
  });
  return out;
}

std::optional<nlohmann::json> ReadAnchor(const StateReader& state, const PublicKey& device, uint64_t seq) {
  return ReadJsonObject(state, std::string(kAnchor) + device.hex() + "/" + ZeroPadded(seq, 8));
}

WearablesModule::WearablesModule() {
  register_.Hex("device", 32).Enum("kind", kKinds).Id("custodian").String("model", 100, false);
  revoke_.Hex("device", 32);
  anchor_.Hex("device", 32)
      .UInt("seq", 1, UINT32_MAX)
      .UInt("count", 1, kMaxReadingsPerBatch)
      .UInt("first", 1, UINT64_MAX)
      .UInt("last", 1, UINT64_MAX)
      .Hex("root", 32)
      .Hex("device_sig", 64);
  erase_.Hex("patient", 32);
}

Status WearablesModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action == "register_device") return register_.Check(p);
  if (action == "revoke_device") return revoke_.Check(p);
  if (action == "erase") return erase_.Check(p);
  if (action == "anchor") {
    CC_RETURN_IF_ERROR(anchor_.Check(p));
    // Several metrics may share a time: only the span's order is checked.
    if (p["first"].get<uint64_t>() > p["last"].get<uint64_t>()) return Status::Invalid("'first' is after 'last'");
    return Status::Ok();
  }
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult WearablesModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "register_device") return Register(ctx, state);
  if (a == "revoke_device") return Revoke(ctx, state);
  if (a == "erase") return Erase(ctx, state);
  return Anchor(ctx, state);
}

TxResult WearablesModule::Register(const TxContext& ctx, Overlay& state) const {
  const PublicKey& patient = ctx.tx.body().actor;
  if (!identity::OrgIfRole(state, patient, {"patient"}))
    return TxResult::Reject(TxCode::kUnauthorized, "a patient registers their own wearables");
  const PublicKey device = KeyField(ctx.payload, "device");
  if (device == patient) return TxResult::Reject(TxCode::kInvalidPayload, "a device has a key of its own");
  if (ReadDevice(state, device) || identity::LookupActor(state, device) || identity::NodeOrg(state, device))
    return TxResult::Reject(TxCode::kAlreadyExists, "this key is registered already");
  const std::string custodian = ctx.payload["custodian"];
  auto org = ReadJsonObject(state, "identity/org/" + custodian);
  if (!org) return TxResult::Reject(TxCode::kNotFound, "no organisation '" + custodian + "'");
  size_t n = 0;
  state.Scan(std::string(kByPatient) + patient.hex() + "/", "", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  if (n >= kMaxDevicesPerPatient)
    return TxResult::Reject(TxCode::kFailedPrecondition, "a patient registers at most 16 devices");
  nlohmann::json d = {{"patient", patient.hex()}, {"kind", ctx.payload["kind"]}, {"custodian", custodian},
                      {"status", "active"},      {"registered_at", ctx.time_ms}, {"batches", 0}, {"last", 0}};
  if (ctx.payload.contains("model")) d["model"] = ctx.payload["model"];
  WriteJson(state, std::string(kDevice) + device.hex(), d);
  state.Put(std::string(kByPatient) + patient.hex() + "/" + device.hex(), "");
  return TxResult::Ok();
}

TxResult WearablesModule::Revoke(const TxContext& ctx, Overlay& state) const {
  const PublicKey device = KeyField(ctx.payload, "device");
  auto d = ReadDevice(state, device);
  if (!d) return TxResult::Reject(TxCode::kNotFound, "no such device");
  if ((*d)["patient"] != ctx.tx.body().actor.hex())
    return TxResult::Reject(TxCode::kUnauthorized, "only the device's patient revokes it");
  if ((*d)["status"] != "active") return TxResult::Reject(TxCode::kFailedPrecondition, "the device is revoked already");
  (*d)["status"] = "revoked";
  (*d)["revoked_at"] = ctx.time_ms;
  WriteJson(state, std::string(kDevice) + device.hex(), *d);
  return TxResult::Ok();
}

TxResult WearablesModule::Anchor(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const PublicKey device = KeyField(p, "device");
  auto d = ReadDevice(state, device);
  if (!d) return TxResult::Reject(TxCode::kNotFound, "no such device");
  if (identity::NodeOrg(state, ctx.tx.body().actor) != (*d)["custodian"].get<std::string>())
    return TxResult::Reject(TxCode::kUnauthorized, "a device's batches are anchored by its custodian's node");
  if ((*d)["status"] != "active") return TxResult::Reject(TxCode::kFailedPrecondition, "the device is revoked");
  const uint64_t seq = p["seq"], first = p["first"], batches = (*d)["batches"];
  if (seq != batches + 1)
    return TxResult::Reject(TxCode::kFailedPrecondition, "expected batch " + std::to_string(batches + 1) + " of this device");
  if (batches > 0 && first <= (*d)["last"].get<uint64_t>())
    return TxResult::Reject(TxCode::kInvalidPayload, "readings out of order: the batch starts before the previous one ended");
  const Hash256 root = *Hash256::FromHex(p["root"].get<std::string>());
  const std::string msg = BatchMessage(device.hex(), seq, p["count"], first, p["last"], root);
  if (!Verify(device, AsBytes(msg), *Signature::FromHex(p["device_sig"].get<std::string>())))
    return TxResult::Reject(TxCode::kInvalidPayload, "the device's signature does not match the batch");
  (*d)["batches"] = seq;
  (*d)["last"] = p["last"];
  WriteJson(state, std::string(kDevice) + device.hex(), *d);
  WriteJson(state, std::string(kAnchor) + device.hex() + "/" + ZeroPadded(seq, 8),
            {{"root", p["root"]}, {"count", p["count"]}, {"first", first}, {"last", p["last"]},
             {"tx", ctx.tx.id().hex()}, {"height", ctx.height}});
  return TxResult::Ok();
}

// The readings of the devices the node's organisation keeps were destroyed
// at the patient's request: each such device records when, and how many of
// its batches (their anchors stay; what they prove is gone).
TxResult WearablesModule::Erase(const TxContext& ctx, Overlay& state) const {
  auto org = identity::NodeOrg(state, ctx.tx.body().actor);
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "an erasure is confirmed by a custodian's node");
  const PublicKey patient = KeyField(ctx.payload, "patient");
  size_t n = 0;
  for (const auto& dev : PatientDevices(state, patient)) {
    auto d = ReadDevice(state, dev);
    if ((*d)["custodian"] != *org) continue;
    (*d)["erased_at"] = ctx.time_ms;
    (*d)["erased_batches"] = (*d)["batches"];
    WriteJson(state, std::string(kDevice) + dev.hex(), *d);
    ++n;
  }
  if (n == 0) return TxResult::Reject(TxCode::kNotFound, "the patient has no device kept by " + *org);
  return TxResult::Ok();
}

Result<nlohmann::json> WearablesModule::Query(std::string_view path, const QueryParams& params,
                                              const StateReader& state) const {
  auto key_at = [&](std::string_view s) -> Result<PublicKey> {
    auto k = PublicKey::FromHex(s.substr(0, 64));
    if (s.size() < 64 || !k) return Status::Invalid("a key is 64 hex digits");
    return *k;
  };
  if (path.starts_with("devices/")) {
    CC_ASSIGN_OR_RETURN(PublicKey dev, key_at(path.substr(8)));
    auto d = ReadDevice(state, dev);
    if (!d) return Status::NotFound("no such device");
    std::string_view rest = path.substr(8 + 64);
    if (rest.empty()) {
      (*d)["device"] = dev.hex();
      return *d;
    }
    if (rest != "/anchors") return Status::NotFound("module wearables has no query " + std::string(path));
    const size_t limit = LimitParam(params, 100);
    nlohmann::json out = nlohmann::json::array();
    const std::string prefix = std::string(kAnchor) + dev.hex() + "/";
    state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
      auto a = nlohmann::json::parse(v);
      a["seq"] = std::stoull(std::string(k.substr(prefix.size())));
      out.push_back(std::move(a));
      return out.size() < limit;
    });
    return nlohmann::json{{"device", dev.hex()}, {"anchors", out}};
  }
  if (path.starts_with("patients/") && path.ends_with("/devices")) {
    CC_ASSIGN_OR_RETURN(PublicKey patient, key_at(path.substr(9)));
    if (path.size() != 9 + 64 + 8) return Status::NotFound("module wearables has no query " + std::string(path));
    nlohmann::json out = nlohmann::json::array();
    const std::string prefix = std::string(kByPatient) + patient.hex() + "/";
    state.Scan(prefix, "", [&](std::string_view k, std::string_view) {
      auto dev = *PublicKey::FromHex(k.substr(prefix.size()));
      auto d = *ReadDevice(state, dev);
      d["device"] = dev.hex();
      out.push_back(std::move(d));
      return true;
    });
    return nlohmann::json{{"patient", patient.hex()}, {"devices", out}};
  }
  return Status::NotFound("module wearables has no query " + std::string(path));
}

}  // namespace cc::wearables

// The wearables module: a patient's fitness trackers and smart watches
// (docs/modules/wearables.md).
//
// A patient registers a wearable as a device with its own key and names
// the custodian (an organisation running a node) that keeps its readings.
// The device signs each batch of readings; the custodian's node stores the
// readings encrypted off chain, evaluates the patient's early-warning rules
// (rules.h) and anchors the batch: its Merkle root, count and time span,
// with the device's signature over them, in a transaction the node signs.
// The chain never sees a reading.
//
// Actions:
//   register_device {device, kind, custodian, model?}          the patient
//   revoke_device   {device}                                    the patient
//   anchor          {device, seq, count, first, last, root,     a node of the
//                    device_sig}                                device's custodian
//   erase           {patient}                                   a node of a custodian of the
//                                                               patient's devices: the receipt of
//                                                               the patient's erasure request
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::wearables {

inline constexpr std::string_view kModule = "wearables";
inline constexpr size_t kMaxReadingsPerBatch = 10000;
inline const std::vector<std::string> kKinds = {"fitness_tracker", "smart_watch", "ring", "chest_strap",
                                                "pulse_oximeter", "thermometer"};

// A reading as the device reports it: the value in thousandths of the
// metric's unit (72 /min = 72000), so that leaves are exact.
struct Reading {
  uint64_t t = 0;       // ms since the epoch
  uint8_t metric = 0;   // index into Metrics()
  int64_t milli = 0;
  bool operator==(const Reading&) const = default;
};

// The Merkle leaf of a reading of `device`.
Hash256 ReadingLeaf(const PublicKey& device, const Reading& r);

// What the device signs for a batch: the anchor's payload without
// `device_sig`, as canonical JSON, after this domain tag.
inline constexpr std::string_view kBatchDomain = "carechain/wearables/batch/v1\n";
std::string BatchMessage(const std::string& device_hex, uint64_t seq, uint64_t count, uint64_t first, uint64_t last,
                         const Hash256& root);

// A device's record (nullopt if never registered): {patient, kind, model,
// custodian, status, registered_at, batches, last}.
std::optional<nlohmann::json> ReadDevice(const StateReader& state, const PublicKey& device);
// The devices `patient` registered (revoked ones too), in key order.
std::vector<PublicKey> PatientDevices(const StateReader& state, const PublicKey& patient);
// The anchor of batch `seq` of `device` (nullopt if none).
std::optional<nlohmann::json> ReadAnchor(const StateReader& state, const PublicKey& device, uint64_t seq);

class WearablesModule : public Module {
 public:
  WearablesModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  // Paths: devices/<key> (the device and its anchors' count),
  // devices/<key>/anchors, patients/<key>/devices.
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult Register(const TxContext& ctx, Overlay& state) const;
  TxResult Revoke(const TxContext& ctx, Overlay& state) const;
  TxResult Anchor(const TxContext& ctx, Overlay& state) const;
  TxResult Erase(const TxContext& ctx, Overlay& state) const;

  PayloadSchema register_, revoke_, anchor_, erase_;
};

}  // namespace cc::wearables

// The coldchain module: temperature-controlled shipments of medicine packs
// (docs/modules/coldchain.md).
//
// A shipper creates a shipment: its packs and/or cases, the carrier, the
// receiving organisation, the route, the product's allowed range and how
// long it may be out of it, and the data loggers (actors with role
// "device") that travel with it. Each logger signs batches of readings: the
// readings themselves stay off chain at the node that received them; the
// chain holds each batch's Merkle root and the logger's summary of it (the
// anchor transaction is signed by the logger's own key). The module joins
// the summaries into per-logger excursions and the mean kinetic temperature
// (USP <1079.2>). When the shipment arrives, the receiver (or a regulator)
// releases or rejects it; a release is refused while the excursions or the
// MKT are beyond the product's limits, and the packs of a rejected shipment
// verify as "rejected_in_transport" in the supply module.
//
// Temperatures are integers in hundredths of a degree Celsius, times are
// milliseconds since the epoch: the state holds no floating-point numbers.
// The Arrhenius factors of the MKT are summed as integers (1e9 per unit) and
// compared with the limit through DetExp, which uses only IEEE-754 basic
// operations, so that every node reaches the same decision.
//
// Actions:
//   create  {shipment, carrier, to, route, packs?, cases?, devices, low, high,
//            max_excursion_s, dh_r?, mkt_max?}                 the packs' owner
//   anchor  {shipment, seq, count, first, last, root, min, max, arrhenius,
//            runs?}                                             a listed logger
//   arrive  {shipment}                         the receiver or the carrier
//   decide  {shipment, decision: release|reject, reason}        the receiver
//                                                               or a regulator
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::coldchain {

inline constexpr std::string_view kModule = "coldchain";
inline constexpr int32_t kMinCentiC = -10000;  // -100.00 °C
inline constexpr int32_t kMaxCentiC = 10000;   // +100.00 °C
inline constexpr size_t kMaxReadingsPerBatch = 10000;
inline constexpr uint64_t kMaxReadingsPerDevice = 10'000'000;
inline constexpr uint64_t kDefaultDhR = 10000;  // ΔH/R in kelvin (USP <1079.2>)
inline constexpr uint64_t kFactorScale = 1'000'000'000;

struct Reading {
  uint64_t t = 0;  // ms since the epoch
  int32_t c = 0;   // hundredths of a degree Celsius
  bool operator==(const Reading&) const = default;
};

// A stretch out of the allowed range: from the first reading outside to the
// first reading back inside (`to`), or to the last reading while still
// outside (`open`). `peak` is the reading farthest outside.
struct Run {
  uint64_t from = 0, to = 0;
  int32_t peak = 0;
  bool open = false;
  bool operator==(const Run&) const = default;
};

// What a logger signs for one batch (the anchor's payload, with the
// shipment and sequence number).
struct Summary {
  uint64_t count = 0, first = 0, last = 0;
  int32_t min = 0, max = 0;
  uint64_t arrhenius = 0;  // Σ ArrheniusFactor(c)
  std::vector<Run> runs;
  Hash256 root{};
  bool operator==(const Summary&) const = default;
};

// e^x and ln x from IEEE-754 +, -, *, / alone (bit-identical on every
// conforming platform, unlike libm). |x| <= 700; x > 0.
double DetExp(double x);
double DetLn(double x);

// round(1e9 · e^(dh_r · (1/298.15 K − 1/T))): the reading's Arrhenius
// factor relative to 25 °C.
uint64_t ArrheniusFactor(int32_t centi_c, uint64_t dh_r);
// The mean kinetic temperature in hundredths of °C of `count` readings
// whose factors sum to `arrhenius`.
int32_t MktCentiC(uint64_t arrhenius, uint64_t count, uint64_t dh_r);

// The Merkle leaf of a reading of `shipment` (its 8-byte id).
Hash256 ReadingLeaf(const std::string& shipment_hex, const Reading& r);
// The summary of a batch against the range [low, high]. kInvalidArgument if
// the batch is empty, too long, out of the sensor range or not strictly
// increasing in time.
Result<Summary> Summarize(const std::string& shipment_hex, const std::vector<Reading>& readings, int32_t low,
                          int32_t high, uint64_t dh_r);
// The anchor payload of a summary (canonical field names).
nlohmann::json AnchorPayload(const std::string& shipment_hex, uint64_t seq, const Summary& s);
// Parses an anchor payload back (after Check).
Summary SummaryOf(const nlohmann::json& anchor_payload);

// The shipment in the state (nullopt if none): for the API's reading routes.
std::optional<nlohmann::json> ReadShipment(const StateReader& state, std::string_view shipment_hex);
// The anchor of batch `seq` of `device` in `shipment` (nullopt if none).
std::optional<nlohmann::json> ReadAnchor(const StateReader& state, std::string_view shipment_hex,
                                         const PublicKey& device, uint64_t seq);

// The shipment that rejected pack (gtin, serial) in transport, if any (the
// supply module's verdict "rejected_in_transport").
std::optional<std::string> RejectedIn(const StateReader& state, std::string_view gtin, std::string_view serial);

class ColdchainModule : public Module {
 public:
  ColdchainModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  // Paths: shipments/<id> (the shipment, its loggers, excursions, MKT and
  // assessment), shipments/<id>/anchors[?device=<hex>].
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult Create(const TxContext& ctx, Overlay& state) const;
  TxResult Anchor(const TxContext& ctx, Overlay& state) const;
  TxResult Arrive(const TxContext& ctx, Overlay& state) const;
  TxResult Decide(const TxContext& ctx, Overlay& state) const;

  PayloadSchema create_, anchor_, arrive_, decide_;
};

}  // namespace cc::coldchain

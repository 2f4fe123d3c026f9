// The supply module: serialised medicine packs from the manufacturer to the
// pharmacy (EU FMD), with counterfeit alarms (docs/modules/supply.md).
//
// A regulator assigns GS1 company prefixes to organisations (the genesis
// may list them too: orgs[].gs1_prefixes). A manufacturer commissions packs
// only under its organisation's prefixes. Packs (or cases of them) move by a
// transfer the owner offers and the receiving organisation accepts. The
// pharmacy dispenses a pack; the manufacturer recalls a batch.
//
// A verification (action `verify`) answers authentic, already_dispensed,
// recalled, rejected_in_transport (the coldchain module rejected the
// shipment it travelled in), expired, unknown_product or unknown_serial in its result
// detail, and is kept in the pack's history. A pack verified or dispensed
// after it was dispensed, or presented by an organisation that neither owns
// it nor is receiving it, raises a counterfeit alarm: the transaction still
// commits (code ok, detail "alarm: ..."), so the alarm stays on chain.
//
// Actions (payloads are canonical JSON; a pack is {gtin, serial}):
//   assign_prefix {prefix, org}                                         a regulator
//   commission    {packs: [{gtin, serial, batch, expiry}]}              a manufacturer
//   aggregate     {case, packs}          disaggregate {case}            the owner's staff
//   transfer      {transfer, to, packs?, cases?}                        the owner's staff
//   accept        {transfer}             cancel {transfer}              receiver / sender
//   dispense      {gtin, serial}                                        a pharmacist of the owner
//   verify        {gtin, serial, batch?, expiry?}                       pharmacist, wholesaler, manufacturer
//   recall        {gtin, batch, reason}                                 the GTIN's manufacturer or a
//                                                                       regulator; a commissioned batch
#pragma once

#include <optional>
#include <string>

#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::supply {

inline constexpr std::string_view kModule = "supply";
inline constexpr size_t kMaxPacksPerTx = 1000;

// Verdicts of a verification, in order of precedence.
inline constexpr std::string_view kAuthentic = "authentic";
inline constexpr std::string_view kDispensed = "already_dispensed";
inline constexpr std::string_view kRecalled = "recalled";
inline constexpr std::string_view kRejectedInTransport = "rejected_in_transport";
inline constexpr std::string_view kExpired = "expired";
inline constexpr std::string_view kUnknownProduct = "unknown_product";
inline constexpr std::string_view kUnknownSerial = "unknown_serial";

// What the chain says of a scanned pack at `time_ms` (no writes): the
// verdict and, for a known pack, its record and history.
struct Verdict {
  std::string verdict;
  std::optional<nlohmann::json> pack;  // the pack record, with "history"
};
Verdict Check(const StateReader& state, std::string_view gtin, std::string_view serial,
              std::string_view batch, std::string_view expiry, uint64_t time_ms);

// A pack's record (nullopt if never commissioned) and a case's (nullopt if
// no case has this id): for the coldchain module.
std::optional<nlohmann::json> ReadPack(const StateReader& state, std::string_view gtin, std::string_view serial);
std::optional<nlohmann::json> ReadCase(const StateReader& state, std::string_view case_id);

class SupplyModule : public Module {
 public:
  SupplyModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  Status InitGenesis(const nlohmann::json& genesis, Overlay& state) const override;
  // Paths: packs/<gtin>/<serial>, check?code=<GS1 code>&at=<ms>,
  // alarms[?org=<manufacturer>], cases/<id>, transfers/<id>, prefixes/<prefix>.
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult AssignPrefix(const TxContext& ctx, Overlay& state) const;
  TxResult Commission(const TxContext& ctx, Overlay& state) const;
  TxResult Aggregate(const TxContext& ctx, Overlay& state) const;
  TxResult Disaggregate(const TxContext& ctx, Overlay& state) const;
  TxResult Transfer(const TxContext& ctx, Overlay& state) const;
  TxResult Accept(const TxContext& ctx, Overlay& state, bool cancel) const;
  TxResult Dispense(const TxContext& ctx, Overlay& state) const;
  TxResult Verify(const TxContext& ctx, Overlay& state) const;
  TxResult Recall(const TxContext& ctx, Overlay& state) const;

  PayloadSchema prefix_, commission_, aggregate_, disaggregate_, transfer_, accept_, pack_ref_, verify_,
      recall_;
};

}  // namespace cc::supply

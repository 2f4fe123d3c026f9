// The token module: a fungible ledger of whole units (the reviews issue's
// reward token; docs/modules/token.md).
//
// A fixed supply is minted once, at genesis, to a treasury organisation:
//   "token": {"symbol": "CARE", "supply": 1000000000, "treasury": "<org id>"}
// and never grows. An account is an actor's key (hex) or an organisation
// ("org:<id>", spent by the organisation's active admins). Every movement
// is a transfer signed by the holder (the ledger's nonces make a replay
// fail); a transfer of more than the balance is refused and changes
// nothing. Balances are integers: no decimals, no floating point.
//
// Actions:
//   transfer {to, amount, memo?, from_org?}   the holder: the signer's own
//                                             account, or with from_org an
//                                             admin of that organisation
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::token {

inline constexpr std::string_view kModule = "token";
inline constexpr uint64_t kMaxSupply = 1'000'000'000'000'000ull;  // 10^18: sums stay in 64 bits

// The account of an organisation.
std::string OrgAccount(std::string_view org);
// The treasury's account; nullopt if the network has no token.
std::optional<std::string> Treasury(const StateReader& state);
// An account's balance (0 if it never held any).
uint64_t Balance(const StateReader& state, std::string_view account);

// Moves `amount` from `from` to `to` and records it in both histories;
// kFailedPrecondition naming the balance if `from` holds less. For the
// token module's transfers and for other modules' rewards (reviews).
TxResult Move(const TxContext& ctx, Overlay& state, const std::string& from, const std::string& to, uint64_t amount,
              const std::string& memo);

class TokenModule : public Module {
 public:
  TokenModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  Status InitGenesis(const nlohmann::json& genesis, Overlay& state) const override;
  // Paths: meta, accounts/<account> ({account, balance, entries}),
  // accounts/<account>/history[?after=<seq>][&limit=] (newest last).
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  PayloadSchema transfer_;
};

}  // namespace cc::token

// The research module: a public registry of studies, their planned outcomes
// and their results (docs/modules/research.md).
//
// A researcher registers a study before it starts: the SHA-256 of its
// protocol document and its planned primary and secondary outcomes; the
// block gives the registration its height and time. The first registration
// of a protocol hash has priority: a later one with the same hash is
// recorded too, marked as not first and pointing at the first. Until
// results are committed the study's team amends the study in visible,
// numbered versions. Results are committed as a hash of the results
// document, a salt and the reported outcomes, and later disclosed: the
// module checks the opening against the commitment and compares the
// reported outcomes with those in force at the first commitment, recording
// every added, dropped, changed, demoted or promoted outcome (outcome
// switching) with the disclosure. Amendments after the first commitment are
// kept but marked, and do not move that baseline.
//
// Outcomes are matched by their canonical form (outcomes.h). Everything
// here is integers and strings: no floating point.
//
// Actions (an outcome is {title, measure?, time_frame?}):
//   register       {study, title, protocol_hash, primary, secondary?, k?}  an active researcher
//   amend          {study, reason, protocol_hash?, primary, secondary?}    the study's team
//   commit_results {study, commitment}                                     the study's team
//   disclose       {study, seq, salt, results_hash, primary?, secondary?}  the study's team
//   consent        {study, categories, until}                             a patient
//   withdraw       {study}                                                the consenting patient
// The study's team: the active researchers of the registrant's organisation.
// A research consent lets the custodians of the patient's wearable data
// give the study pseudonymised exports and aggregates over the categories
// it names (wearable metric names, wearables::Metrics()) until `until`
// (offchain/research_data.h); a patient withdraws at any time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/research/outcomes.h"
#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::research {

inline constexpr std::string_view kModule = "research";
inline constexpr size_t kMaxPrimary = 10;
inline constexpr size_t kMaxSecondary = 50;
inline constexpr uint64_t kMaxVersions = 100;    // the registration and 99 amendments
inline constexpr uint64_t kMaxCommitments = 20;  // results commitments per study
inline constexpr uint64_t kDefaultK = 10;        // smallest cohort of an aggregate query
inline constexpr uint64_t kMinK = 5;             // small-cell suppression floor
inline constexpr uint64_t kMaxK = 1'000'000;

// A patient's consent to a study, as the custodians read it.
struct Consent {
  std::string patient;                  // key, hex
  std::vector<std::string> categories;  // wearable metric names
  uint64_t until = 0;                   // ms since the epoch, exclusive
  uint64_t granted_at = 0;
  std::string tx;                       // the consent's transaction id
};

// The study `id` as stored (nullopt if none): {title, org, k, ...}.
std::optional<nlohmann::json> ReadStudy(const StateReader& state, std::string_view id);
// The consents to `study` in force at `now_ms` (granted, not withdrawn,
// `until` after now), in patient-key order.
std::vector<Consent> ActiveConsents(const StateReader& state, std::string_view study, uint64_t now_ms);

class ResearchModule : public Module {
 public:
  ResearchModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  // Paths: studies/<id> (versions, results, disclosures with their flags),
  // studies[?org=][&after=<id>][&limit=] (summaries in id order),
  // priority/<protocol hash> (every registration of the hash, first first),
  // studies/<id>/consents[?after=<patient>][&limit=] (every consent, withdrawn
  // ones too), patients/<key>/consents (a patient's research consents).
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult Register(const TxContext& ctx, Overlay& state) const;
  TxResult Amend(const TxContext& ctx, Overlay& state) const;
  TxResult CommitResults(const TxContext& ctx, Overlay& state) const;
  TxResult Disclose(const TxContext& ctx, Overlay& state) const;
  TxResult GrantConsent(const TxContext& ctx, Overlay& state) const;
  TxResult Withdraw(const TxContext& ctx, Overlay& state) const;

  PayloadSchema register_, amend_, commit_, disclose_, consent_, withdraw_;
};

}  // namespace cc::research

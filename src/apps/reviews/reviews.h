// The reviews module: reviews of providers that only their real patients
// can write (docs/modules/reviews.md).
//
// A provider attests a visit of a patient; that creates a one-time right for
// that patient to review the provider. A review carries ratings (overall and
// per aspect, 1 to 5) and optionally a text. The text is personal data: it
// stays encrypted at the review platform's custodian (offchain/review_texts),
// the chain holds its salted hash, and the patient can have it erased while
// the ratings and the fact of the review stay. Nothing can delete or edit a
// review; its patient can append corrections, shown with the original. The
// aggregates per provider are kept in state as reviews arrive. A review earns
// its patient a reward from the token's treasury (apps/token), and the
// provider's admins can reward a review's author without learning who it is.
//
// Parameters, from genesis (all optional):
//   "reviews": {"platform": <org keeping texts>, "reward": 10,
//               "aspects": ["communication", ...], "reinvite_days": 30,
//               "window_days": 90}
//
// Actions:
//   attest {patient, date}                  a provider: its organisation is
//                                           the reviewed provider
//   review {visit, overall, aspects?, text_ref?, text_hash?}
//                                           the visit's patient, once
//   correct {review, overall?, aspects?, text_ref?, text_hash?}
//                                           the review's patient
//   reward {review, amount, memo?}          an admin of the reviewed provider
//   text_erased {patient}                   a node of the platform: the
//                                           patient's texts there are erased
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/module.h"
#include "ledger/schema.h"

namespace cc::reviews {

inline constexpr std::string_view kModule = "reviews";

struct Params {
  std::string platform;  // the organisation keeping review texts ("" = texts are refused)
  uint64_t reward = 10;  // tokens from the treasury per review
  std::vector<std::string> aspects = {"communication", "treatment", "waiting_time", "facilities"};
  uint64_t reinvite_days = 30;  // a provider invites the same patient at most once in this time
  uint64_t window_days = 90;    // a review right lasts this long after the attestation
};
Params ReadParams(const StateReader& state);

// A visit ("reviews/visit/<id>"): {visit, provider, patient, date,
// attested_by, at, height, tx, review?}. The review of a visit has the
// visit's id.
std::optional<nlohmann::json> ReadVisit(const StateReader& state, std::string_view id);
// A review ("reviews/review/<id>"); holds no patient key.
std::optional<nlohmann::json> ReadReview(const StateReader& state, std::string_view id);
// Calls `fn` with the text ({custodian, ref, hash, erased_at?}) of a review
// and of each of its corrections that carries one.
void ForEachText(nlohmann::json& review, const std::function<void(nlohmann::json& text)>& fn);
// The visits attested to `patient`, oldest first.
std::vector<std::string> PatientVisits(const StateReader& state, const PublicKey& patient);

class ReviewsModule : public Module {
 public:
  ReviewsModule();
  std::string_view name() const override { return kModule; }
  Status Check(std::string_view action, const nlohmann::json& payload) const override;
  TxResult Execute(const TxContext& ctx, Overlay& state) const override;
  Status InitGenesis(const nlohmann::json& genesis, Overlay& state) const override;
  // Paths: meta, visits/<id>, patients/<key>/visits, reviews/<id>, providers
  // (their aggregates), providers/<org> (its aggregate),
  // providers/<org>/reviews[?after=<seq>][&limit=] (the aggregate and a
  // page of its reviews, oldest first, as "page").
  Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                               const StateReader& state) const override;

 private:
  TxResult Attest(const TxContext& ctx, Overlay& state) const;
  TxResult Review(const TxContext& ctx, Overlay& state) const;
  TxResult Correct(const TxContext& ctx, Overlay& state) const;
  TxResult Reward(const TxContext& ctx, Overlay& state) const;
  TxResult TextErased(const TxContext& ctx, Overlay& state) const;

  PayloadSchema attest_, review_, correct_, reward_, text_erased_;
};

}  // namespace cc::reviews

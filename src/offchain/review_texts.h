// The review platform's side of the reviews module (docs/modules/reviews.md):
// it keeps the texts of reviews and corrections, encrypted, and serves them
// checked against their hashes on chain.
//
// A patient hands in a text first; the platform seals it under a key of its
// own and answers {custodian, ref, hash}, which the patient names in the
// review (text_ref, text_hash). The hash is salted (crypto/aead SaltedHash):
// once the salt is gone, the hash on chain says nothing about the text.
//
// Documents (keys; values sealed):
//   reviews/key/<patient>/<ref>    text key (32 bytes) || salt (32 bytes), under the master key
//   reviews/text/<patient>/<ref>   the text, under its text key
// Erasure deletes the keys first (crypto-shredding), then the texts.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/keys.h"
#include "ledger/state.h"
#include "offchain/record_store.h"

namespace cc::offchain {

class ReviewTexts {
 public:
  static constexpr size_t kMaxTextBytes = 5000;
  static constexpr size_t kMaxTextsPerPatient = 1000;

  // `state` is the node's committed state; `org` the node's organisation.
  ReviewTexts(RecordStore* store, const StateReader* state, AeadKey master, std::string org);

  // Seals a text of `patient`: {custodian, ref, hash} for the review or
  // correction that names it. kFailedPrecondition if this node's
  // organisation is not the network's review platform or the patient keeps
  // kMaxTextsPerPatient texts here; kInvalidArgument for an empty text, one
  // over kMaxTextBytes or with control characters other than newlines and tabs.
  Result<nlohmann::json> Store(const PublicKey& patient, std::string_view text);

  // The texts of review `id`, each checked against its hash on chain:
  // {review, text?: {status, text?}, corrections: [{at, status, text?}]}
  // where status is "ok", "erased", "missing" (not here), "mismatch" (the
  // stored text does not match the hash: not served) or "elsewhere" (kept
  // by another custodian, named as "custodian"). kNotFound: no such review.
  Result<nlohmann::json> Texts(const std::string& id) const;

  // Destroys every text of `patient` here; returns how many documents were deleted.
  Result<size_t> Erase(const PublicKey& patient);
  // True if a review or correction on chain names a text of `patient` kept
  // here whose erasure the chain has not recorded (the erasure's receipt is due).
  bool ErasureDue(const PublicKey& patient) const;

  const std::string& org() const { return org_; }

 private:
  // {status, text?} of one text named on chain.
  nlohmann::json Open(const std::string& patient, const nlohmann::json& text) const;

  RecordStore* store_;
  const StateReader* state_;
  const AeadKey master_;
  const std::string org_;
};

}  // namespace cc::offchain

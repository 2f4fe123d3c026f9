#include "offchain/review_texts.h"

#include "apps/reviews/reviews.h"

namespace cc::offchain {
namespace {

constexpr size_t kSaltBytes = 32;

std::string KeyDoc(const std::string& patient, const std::string& ref) { return "reviews/key/" + patient + "/" + ref; }
std::string TextDoc(const std::string& patient, const std::string& ref) {
  return "reviews/text/" + patient + "/" + ref;
}

}  // namespace

ReviewTexts::ReviewTexts(RecordStore* store, const StateReader* state, AeadKey master, std::string org)
    : store_(store), state_(state), master_(std::move(master)), org_(std::move(org)) {}

Result<nlohmann::json> ReviewTexts::Store(const PublicKey& patient, std::string_view text) {
  const std::string platform = reviews::ReadParams(*state_).platform;
  if (platform != org_)
    return Status::Precondition("review texts are kept by the review platform (" +
                                (platform.empty() ? std::string("none on this network") : platform) + "), not " + org_);
  if (text.empty() || text.size() > kMaxTextBytes)
    return Status::Invalid("a review text has 1 to " + std::to_string(kMaxTextBytes) + " bytes");
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f)
      return Status::Invalid("a review text has no control characters other than line breaks and tabs");
  }
  const std::string p = patient.hex();
  CC_ASSIGN_OR_RETURN(auto held, store_->ListDocuments("reviews/key/" + p + "/", "", kMaxTextsPerPatient));
  if (held.size() >= kMaxTextsPerPatient)
    return Status::Precondition("you keep " + std::to_string(kMaxTextsPerPatient) + " review texts here, the most");

  const std::string ref = RandomHex(16);
  const AeadKey key = AeadKey::Generate();
  std::string salt(kSaltBytes, '\0');
  RandomBytes(reinterpret_cast<uint8_t*>(salt.data()), salt.size());
  const Hash256 hash = SaltedHash(salt, text);
  const std::string key_doc = KeyDoc(p, ref), text_doc = TextDoc(p, ref);
  std::string secret = std::string(key.bytes()) + salt;
  CC_RETURN_IF_ERROR(store_->WriteDocuments({{text_doc, Seal(key, text, text_doc)},
                                             {key_doc, Seal(master_, secret, key_doc)}}));
  Wipe(secret.data(), secret.size());
  Wipe(salt.data(), salt.size());
  return nlohmann::json{{"custodian", org_}, {"ref", ref}, {"hash", hash.hex()}};
}

nlohmann::json ReviewTexts::Open(const std::string& patient, const nlohmann::json& text) const {
  if (text["custodian"] != org_) return {{"status", "elsewhere"}, {"custodian", text["custodian"]}};
  if (text.contains("erased_at")) return {{"status", "erased"}, {"erased_at", text["erased_at"]}};
  const std::string ref = text["ref"], key_doc = KeyDoc(patient, ref), text_doc = TextDoc(patient, ref);
  auto sealed_key = store_->GetDocument(key_doc);
  auto sealed_text = store_->GetDocument(text_doc);
  if (!sealed_key.ok() || !sealed_text.ok()) return {{"status", "missing"}};
  auto secret = cc::Open(master_, *sealed_key, key_doc);
  if (!secret.ok() || secret->size() != AeadKey::kSize + kSaltBytes) return {{"status", "missing"}};
  auto key = AeadKey::FromBytes(std::string_view(*secret).substr(0, AeadKey::kSize));
  auto plain = cc::Open(*key, *sealed_text, text_doc);
  const std::string_view salt = std::string_view(*secret).substr(AeadKey::kSize);
  nlohmann::json out = {{"status", "mismatch"}};
  if (plain.ok() && SaltedHash(salt, *plain).hex() == text["hash"]) out = {{"status", "ok"}, {"text", *plain}};
  Wipe(secret->data(), secret->size());
  return out;
}

Result<nlohmann::json> ReviewTexts::Texts(const std::string& id) const {
  auto review = reviews::ReadReview(*state_, id);
  if (!review) return Status::NotFound("no review " + id);
  const std::string patient = (*reviews::ReadVisit(*state_, id))["patient"];
  nlohmann::json out = {{"review", id}, {"corrections", nlohmann::json::array()}};
  if (review->contains("text")) out["text"] = Open(patient, (*review)["text"]);
  for (const auto& c : (*review)["corrections"]) {
    if (!c.contains("text")) continue;
    nlohmann::json t = Open(patient, c["text"]);
    t["at"] = c["at"];
    out["corrections"].push_back(std::move(t));
  }
  return out;
}

Result<size_t> ReviewTexts::Erase(const PublicKey& patient) {
  CC_ASSIGN_OR_RETURN(size_t keys, store_->DeleteDocuments("reviews/key/" + patient.hex() + "/"));
  CC_ASSIGN_OR_RETURN(size_t texts, store_->DeleteDocuments("reviews/text/" + patient.hex() + "/"));
  return keys + texts;
}

bool ReviewTexts::ErasureDue(const PublicKey& patient) const {
  bool due = false;
  for (const std::string& id : reviews::PatientVisits(*state_, patient)) {
    auto review = reviews::ReadReview(*state_, id);
    if (!review) continue;
    reviews::ForEachText(*review, [&](nlohmann::json& t) {
      due = due || (t["custodian"] == org_ && !t.contains("erased_at"));
    });
  }
  return due;
}

}  // namespace cc::offchain

#include "offchain/review_texts.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"
#include "util/date.h"

namespace cc::offchain {
namespace {

using testing::Key;

nlohmann::json Genesis() {
  nlohmann::json doc = testing::GenesisDoc(testing::Keys());
  doc["reviews"] = {{"platform", "st-marien-hospital"}};
  return doc;
}

class ReviewTextsTest : public ::testing::Test {
 protected:
  ReviewTextsTest() : ledger_(Genesis()) {}
  void SetUp() override {
    auto s = OpenSqliteStore(dir_.file("records.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    texts_ = std::make_unique<ReviewTexts>(store_.get(), &ledger_.state, Master(), "st-marien-hospital");
    ASSERT_EQ(ledger_.RunOne(testing::RegisterTx(k().hospital_admin, 1, other_.public_key(), "st-marien-hospital",
                                                 "patient")),
              TxCode::kOk);
  }
  static AeadKey Master() { return AeadKey::FromBytes(std::string(32, 'm')).value(); }
  const testing::Keys& k() const { return ledger_.net.keys; }

  // A visit of `patient` attested by the doctor, reviewed with `text` (its
  // {ref, hash} as the platform gave them); returns the review id.
  std::string Review(const SecretKey& patient, const nlohmann::json& text) {
    const uint64_t today = (ledger_.time_ms + ledger_.height + 1) / kDayMs;
    TxPtr attest = ledger_.Tx(k().doctor, "attest", {{"patient", patient.public_key().hex()}, {"date", FormatDay(today)}},
                              "reviews");
    EXPECT_EQ(ledger_.RunOne(attest), TxCode::kOk);
    const std::string id = attest->id().hex().substr(0, 32);
    std::string why;
    EXPECT_EQ(ledger_.RunOne(ledger_.Tx(patient, "review",
                                        {{"visit", id}, {"overall", 3u}, {"text_ref", text["ref"]}, {"text_hash", text["hash"]}},
                                        "reviews"),
                             &why),
              TxCode::kOk)
        << why;
    return id;
  }
  nlohmann::json Texts(const std::string& id) const {
    auto t = texts_->Texts(id);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : nlohmann::json();
  }

  testing::TempDir dir_;
  testing::MemLedger ledger_;
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<ReviewTexts> texts_;
  SecretKey other_ = Key(60);
};

TEST_F(ReviewTextsTest, ATextIsSealedServedCheckedAndErased) {
  const std::string words = "Freundliches Team,\nlange Wartezeit.";
  auto sealed = texts_->Store(k().patient.public_key(), words);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ((*sealed)["custodian"], "st-marien-hospital");
  // Nothing of the text is in the store in clear.
  auto docs = store_->ListDocuments("reviews/", "", 10);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  for (const auto& [key, bytes] : *docs) EXPECT_EQ(bytes.find("Wartezeit"), std::string::npos) << key;

  const std::string id = Review(k().patient, *sealed);
  nlohmann::json t = Texts(id);
  EXPECT_EQ(t["text"], nlohmann::json({{"status", "ok"}, {"text", words}}));

  // A correction's text shows after the original's.
  auto second = texts_->Store(k().patient.public_key(), "Nachtrag: Termin wurde verlegt.");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(ledger_.RunOne(ledger_.Tx(k().patient, "correct",
                                      {{"review", id}, {"text_ref", (*second)["ref"]}, {"text_hash", (*second)["hash"]}},
                                      "reviews")),
            TxCode::kOk);
  t = Texts(id);
  ASSERT_EQ(t["corrections"].size(), 1u);
  EXPECT_EQ(t["corrections"][0]["text"], "Nachtrag: Termin wurde verlegt.");

  // Erasure: gone here at once, due on chain until the node confirms it.
  EXPECT_FALSE(texts_->ErasureDue(other_.public_key()));
  auto n = texts_->Erase(k().patient.public_key());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(Texts(id)["text"]["status"], "missing");
  EXPECT_TRUE(texts_->ErasureDue(k().patient.public_key()));
  ASSERT_EQ(ledger_.RunOne(ledger_.Tx(k().node, "text_erased", {{"patient", k().patient.public_key().hex()}}, "reviews")),
            TxCode::kOk);
  EXPECT_FALSE(texts_->ErasureDue(k().patient.public_key()));
  t = Texts(id);
  EXPECT_EQ(t["text"]["status"], "erased");
  EXPECT_EQ(t["corrections"][0]["status"], "erased");
  EXPECT_TRUE(store_->ListDocuments("reviews/", "", 10)->empty());
}

TEST_F(ReviewTextsTest, AReviewServesOnlyItsOwnPatientsMatchingText) {
  auto mine = texts_->Store(k().patient.public_key(), "Sehr gut betreut.");
  auto theirs = texts_->Store(other_.public_key(), "Nicht zu empfehlen.");
  ASSERT_TRUE(mine.ok() && theirs.ok());
  // Another patient's text named in my review is not served.
  EXPECT_EQ(Texts(Review(k().patient, *theirs))["text"]["status"], "missing");
  // A hash that is not the text's: not served either.
  nlohmann::json wrong = *mine;
  wrong["hash"] = std::string(64, '0');
  EXPECT_EQ(Texts(Review(other_, wrong))["text"]["status"], "missing");  // other_ holds no such ref
  ledger_.time_ms += 31 * kDayMs;  // the doctor may invite the patient again
  EXPECT_EQ(Texts(Review(k().patient, wrong))["text"], nlohmann::json({{"status", "mismatch"}}));
  EXPECT_EQ(texts_->Texts(std::string(32, 'e')).status().code(), Code::kNotFound);
  // Another custodian's node serves none of the platform's texts and keeps none.
  ReviewTexts elsewhere(store_.get(), &ledger_.state, Master(), "apotheke-am-markt");
  auto other_view = elsewhere.Texts(Review(other_, *theirs));
  ASSERT_TRUE(other_view.ok());
  EXPECT_EQ((*other_view)["text"], nlohmann::json({{"status", "elsewhere"}, {"custodian", "st-marien-hospital"}}));
  EXPECT_EQ(elsewhere.Store(other_.public_key(), "x").status().code(), Code::kFailedPrecondition);
}

TEST_F(ReviewTextsTest, BadTextsAreRefused) {
  const PublicKey p = k().patient.public_key();
  EXPECT_EQ(texts_->Store(p, "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(texts_->Store(p, std::string(ReviewTexts::kMaxTextBytes + 1, 'a')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(texts_->Store(p, std::string("a\0b", 3)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(texts_->Store(p, "bell\x07").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(texts_->Store(p, std::string(ReviewTexts::kMaxTextBytes, 'a')).ok());
  EXPECT_EQ(store_->ListDocuments("reviews/", "", 10)->size(), 2u) << "refusals store nothing";
}

}  // namespace
}  // namespace cc::offchain

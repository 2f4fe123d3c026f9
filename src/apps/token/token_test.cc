#include "apps/token/token.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace cc::token {
namespace {

using testing::Key;

nlohmann::json Genesis(uint64_t supply = 1'000'000) {
  nlohmann::json doc = testing::GenesisDoc(testing::Keys());
  doc["token"] = {{"symbol", "CARE"}, {"supply", supply}, {"treasury", "st-marien-hospital"}};
  return doc;
}

class TokenTest : public ::testing::Test {
 protected:
  TokenTest() : ledger_(Genesis()) {}
  const testing::Keys& k() const { return ledger_.net.keys; }
  TxCode Transfer(const SecretKey& signer, const nlohmann::json& p, std::string* why = nullptr) {
    return ledger_.RunOne(ledger_.Tx(signer, "transfer", p, "token"), why);
  }
  uint64_t Of(const std::string& account) const { return Balance(ledger_.state, account); }
  std::string Hex(const SecretKey& s) const { return s.public_key().hex(); }
  // Every balance there is: the supply never changes.
  uint64_t Total() const {
    uint64_t sum = 0;
    ledger_.state.Scan("token/account/", "", [&](std::string_view, std::string_view v) {
      sum += nlohmann::json::parse(v)["balance"].get<uint64_t>();
      return true;
    });
    return sum;
  }

  testing::MemLedger ledger_;
  TokenModule mod_;
};

TEST_F(TokenTest, TheSupplyIsMintedOnceToTheTreasury) {
  EXPECT_EQ(Of("org:st-marien-hospital"), 1'000'000u);
  auto meta = mod_.Query("meta", {}, ledger_.state);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["symbol"], "CARE");
  EXPECT_EQ((*meta)["decimals"], 0);
  auto h = mod_.Query("accounts/org:st-marien-hospital/history", {}, ledger_.state);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ((*h)["history"].size(), 1u);
  EXPECT_EQ((*h)["history"][0]["from"], "mint");
  // No token in genesis: none at all.
  testing::MemLedger plain;
  EXPECT_EQ(plain.RunOne(plain.Tx(plain.net.keys.patient, "transfer", {{"to", "org:st-marien-hospital"}, {"amount", 1u}},
                                  "token")),
            TxCode::kFailedPrecondition);
}

TEST_F(TokenTest, AdminsPayFromTheTreasuryAndHoldersTransfer) {
  std::string why;
  ASSERT_EQ(Transfer(k().hospital_admin,
                     {{"from_org", "st-marien-hospital"}, {"to", Hex(k().patient)}, {"amount", 50u}, {"memo", "thanks"}},
                     &why),
            TxCode::kOk)
      << why;
  ASSERT_EQ(Transfer(k().patient, {{"to", Hex(k().doctor)}, {"amount", 20u}}), TxCode::kOk);
  EXPECT_EQ(Of(Hex(k().patient)), 30u);
  EXPECT_EQ(Of(Hex(k().doctor)), 20u);
  EXPECT_EQ(Of("org:st-marien-hospital"), 999'950u);
  EXPECT_EQ(Total(), 1'000'000u);
  auto h = mod_.Query("accounts/" + Hex(k().patient) + "/history", {}, ledger_.state);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ((*h)["history"].size(), 2u);
  EXPECT_EQ((*h)["history"][0]["memo"], "thanks");
  EXPECT_EQ((*h)["history"][0]["balance"], 50);
  EXPECT_EQ((*h)["history"][1]["balance"], 30);
  EXPECT_EQ((*h)["history"][1]["to"], Hex(k().doctor));
  auto page = mod_.Query("accounts/" + Hex(k().patient) + "/history", {{"after", "1"}, {"limit", "1"}}, ledger_.state);
  ASSERT_EQ((*page)["history"].size(), 1u);
  EXPECT_EQ((*page)["history"][0]["seq"], 2);
}

TEST_F(TokenTest, OverspendingStrangersAndOtherOrganisationsAreRefused) {
  ASSERT_EQ(Transfer(k().hospital_admin,
                     {{"from_org", "st-marien-hospital"}, {"to", Hex(k().patient)}, {"amount", 10u}}),
            TxCode::kOk);
  auto before = ledger_.state;
  std::string why;
  EXPECT_EQ(Transfer(k().patient, {{"to", Hex(k().doctor)}, {"amount", 11u}}, &why), TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("is 10, less than 11"), std::string::npos) << why;
  // Spending the treasury takes one of its admins.
  EXPECT_EQ(Transfer(k().doctor, {{"from_org", "st-marien-hospital"}, {"to", Hex(k().doctor)}, {"amount", 1u}}),
            TxCode::kUnauthorized);
  EXPECT_EQ(Transfer(k().pharmacy_admin, {{"from_org", "st-marien-hospital"}, {"to", Hex(k().doctor)}, {"amount", 1u}}),
            TxCode::kUnauthorized);
  EXPECT_EQ(Transfer(k().patient, {{"to", Hex(k().outsider)}, {"amount", 1u}}), TxCode::kNotFound);
  EXPECT_EQ(Transfer(k().patient, {{"to", "org:nowhere"}, {"amount", 1u}}), TxCode::kNotFound);
  EXPECT_EQ(Transfer(k().patient, {{"to", Hex(k().patient)}, {"amount", 1u}}), TxCode::kInvalidPayload);
  EXPECT_EQ(Total(), 1'000'000u);
  EXPECT_EQ(Of(Hex(k().patient)), 10u);
  // Payloads that cannot mean a transfer.
  for (const nlohmann::json& bad : {nlohmann::json{{"to", Hex(k().doctor)}, {"amount", 0u}},
                                    nlohmann::json{{"to", "someone"}, {"amount", 1u}},
                                    nlohmann::json{{"to", Hex(k().doctor)}, {"amount", -5}},
                                    nlohmann::json{{"to", Hex(k().doctor)}, {"amount", kMaxSupply + 1}}})
    EXPECT_FALSE(mod_.Check("transfer", bad).ok()) << bad;
  EXPECT_FALSE(mod_.Check("mint", {{"to", Hex(k().doctor)}, {"amount", 5u}}).ok());
}

TEST(TokenGenesis, RefusesWhatCannotBeMinted) {
  TokenModule m;
  for (const nlohmann::json& t : {nlohmann::json{{"symbol", "CARE"}, {"supply", 0u}, {"treasury", "st-marien-hospital"}},
                                  nlohmann::json{{"symbol", ""}, {"supply", 5u}, {"treasury", "st-marien-hospital"}},
                                  nlohmann::json{{"symbol", "CARE"}, {"supply", 5u}, {"treasury", "nowhere"}},
                                  nlohmann::json{{"symbol", "CARE"}, {"supply", 5u}}}) {
    testing::MemLedger ledger;  // for an Overlay on a state with the organisations
    Overlay o(&ledger.state);
    nlohmann::json doc = testing::GenesisDoc(testing::Keys());
    doc["token"] = t;
    EXPECT_FALSE(m.InitGenesis(doc, o).ok()) << t;
  }
}

}  // namespace
}  // namespace cc::token

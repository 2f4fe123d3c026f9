#include "api/policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ledger/state.h"

namespace cc::api {
namespace {

PublicKey Key(uint8_t b) {
  PublicKey k;
  k.bytes.fill(b);
  return k;
}

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    WriteSet w;
    auto actor = [&](uint8_t b, const char* org, const char* role, const char* status = "active") {
      w["identity/actor/" + Key(b).hex()] =
          nlohmann::json({{"org", org}, {"role", role}, {"status", status}}).dump();
    };
    actor(1, "hospital", "admin");
    actor(2, "hospital", "provider");
    actor(3, "hospital", "patient");
    actor(4, "pharmacy", "pharmacist");
    actor(5, "audit-office", "auditor");
    actor(6, "hospital", "patient", "revoked");
    actor(7, "pharmacy", "admin");
    actor(10, "pharma-ag", "manufacturer");
    actor(11, "grosshandel", "wholesaler");
    actor(12, "bfarm", "regulator");
    actor(13, "kuehl-logistik", "carrier");
    actor(14, "uni-a", "researcher");
    actor(15, "uni-b", "researcher");
    actor(16, "uni-a", "researcher", "revoked");
    w["identity/node/" + Key(9).hex()] = R"({"org":"hospital"})";
    state_.Apply(w);
  }
  Principal P(uint8_t b) const { return ResolvePrincipal(state_, Key(b)); }
  Resource About(uint8_t b) const { return {Key(b), P(b), ""}; }

  MemState state_;
};

TEST_F(PolicyTest, ResolvesActorsNodesAndStrangers) {
  EXPECT_TRUE(P(2).active);
  EXPECT_EQ(P(2).role, "provider");
  EXPECT_EQ(P(2).org, "hospital");
  EXPECT_TRUE(P(9).node);
  EXPECT_EQ(P(9).org, "hospital");
  EXPECT_FALSE(P(6).active);
  EXPECT_FALSE(P(42).active);
  EXPECT_FALSE(P(42).node);
}

TEST_F(PolicyTest, StrangersAndRevokedKeysAreDeniedEverything) {
  for (uint8_t who : {6, 42}) {
    for (Operation op : {Operation::kInfo, Operation::kSubmit, Operation::kReadOrgs, Operation::kReadChain}) {
      Status s = Authorize(P(who), op);
      EXPECT_EQ(s.code(), Code::kPermissionDenied) << int(who) << " " << int(op);
    }
  }
}

TEST_F(PolicyTest, ChainIsReadByNodesAuditorsAndAdminsOnly) {
  EXPECT_TRUE(Authorize(P(9), Operation::kReadChain).ok());
  EXPECT_TRUE(Authorize(P(5), Operation::kReadChain).ok());
  EXPECT_TRUE(Authorize(P(1), Operation::kReadChain).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kReadChain).ok());
  EXPECT_FALSE(Authorize(P(3), Operation::kReadChain).ok());
  EXPECT_FALSE(Authorize(P(4), Operation::kReadState).ok());
}

TEST_F(PolicyTest, OwnTransactionsAndNoncesAreReadableByTheirSigner) {
  EXPECT_TRUE(Authorize(P(3), Operation::kReadOwnTx, About(3)).ok());
  EXPECT_FALSE(Authorize(P(3), Operation::kReadOwnTx, About(2)).ok());
  EXPECT_TRUE(Authorize(P(5), Operation::kReadOwnTx, About(3)).ok());
  EXPECT_TRUE(Authorize(P(3), Operation::kReadNonce, About(3)).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kReadNonce, About(3)).ok());
  EXPECT_TRUE(Authorize(P(5), Operation::kReadNonce, About(3)).ok());
}

TEST_F(PolicyTest, PatientRecordsAreNotPublic) {
  EXPECT_TRUE(Authorize(P(3), Operation::kReadActor, About(3)).ok());   // self
  EXPECT_TRUE(Authorize(P(1), Operation::kReadActor, About(3)).ok());   // own org's admin
  EXPECT_TRUE(Authorize(P(5), Operation::kReadActor, About(3)).ok());   // auditor
  EXPECT_FALSE(Authorize(P(4), Operation::kReadActor, About(3)).ok());  // a pharmacist
  EXPECT_FALSE(Authorize(P(7), Operation::kReadActor, About(3)).ok());  // another org's admin
  EXPECT_TRUE(Authorize(P(4), Operation::kReadActor, About(2)).ok());   // providers are public
}

TEST_F(PolicyTest, AdminsListOnlyTheirOwnOrganisation) {
  EXPECT_TRUE(Authorize(P(1), Operation::kListActors, {std::nullopt, {}, "hospital"}).ok());
  Status s = Authorize(P(1), Operation::kListActors, {std::nullopt, {}, "pharmacy"});
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_FALSE(Authorize(P(1), Operation::kListActors, {}).ok());
  EXPECT_TRUE(Authorize(P(5), Operation::kListActors, {}).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kListActors, {std::nullopt, {}, "hospital"}).ok());
}

TEST_F(PolicyTest, MetricsAndSubmission) {
  EXPECT_TRUE(Authorize(P(9), Operation::kReadMetrics).ok());
  EXPECT_TRUE(Authorize(P(1), Operation::kReadMetrics).ok());
  EXPECT_FALSE(Authorize(P(3), Operation::kReadMetrics).ok());
  EXPECT_TRUE(Authorize(P(3), Operation::kSubmit).ok());
  EXPECT_TRUE(Authorize(P(9), Operation::kSubmit).ok());    // nodes forward to the proposer
  EXPECT_FALSE(Authorize(P(42), Operation::kSubmit).ok());  // unknown key
  EXPECT_FALSE(Authorize(P(6), Operation::kSubmit).ok());   // revoked actor
}

TEST_F(PolicyTest, RecordsAreStoredByTheCustodiansProviders) {
  EXPECT_TRUE(Authorize(P(2), Operation::kPublishRecord, {std::nullopt, {}, "hospital"}).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kPublishRecord, {std::nullopt, {}, "pharmacy"}).ok());
  EXPECT_FALSE(Authorize(P(1), Operation::kPublishRecord, {std::nullopt, {}, "hospital"}).ok());  // admin
  EXPECT_FALSE(Authorize(P(3), Operation::kPublishRecord, {std::nullopt, {}, "hospital"}).ok());  // patient
  EXPECT_FALSE(Authorize(P(9), Operation::kPublishRecord, {std::nullopt, {}, "hospital"}).ok());  // node
}

TEST_F(PolicyTest, FetchingIsForActorsTheConsentDecisionFollows) {
  EXPECT_TRUE(Authorize(P(4), Operation::kFetchRecord).ok());
  EXPECT_FALSE(Authorize(P(6), Operation::kFetchRecord).ok());   // revoked
  EXPECT_FALSE(Authorize(P(8), Operation::kFetchRecord).ok());   // stranger
}

TEST_F(PolicyTest, APatientsDataIsTheirsNodesAndAuditorsToRead) {
  EXPECT_TRUE(Authorize(P(3), Operation::kReadPatientData, About(3)).ok());
  EXPECT_TRUE(Authorize(P(5), Operation::kReadPatientData, About(3)).ok());
  EXPECT_TRUE(Authorize(P(9), Operation::kReadPatientData, About(3)).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kReadPatientData, About(3)).ok());  // provider
  EXPECT_FALSE(Authorize(P(1), Operation::kReadPatientData, About(3)).ok());  // admin
  EXPECT_FALSE(Authorize(P(6), Operation::kReadPatientData, About(6)).ok());  // revoked self
  EXPECT_TRUE(Authorize(P(3), Operation::kEraseRecord, About(3)).ok());
  EXPECT_FALSE(Authorize(P(5), Operation::kEraseRecord, About(3)).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kEraseRecord, About(3)).ok());
}

}  // namespace
}  // namespace cc::api

namespace cc::api {
namespace {

TEST_F(PolicyTest, PacksAreReadByTheSupplyChainAndAlarmsByRegulatorsAndTheirManufacturer) {
  for (uint8_t who : {4, 10, 11, 12, 5, 9}) EXPECT_TRUE(Authorize(P(who), Operation::kReadPacks).ok()) << int(who);
  for (uint8_t who : {2, 3, 6, 42}) EXPECT_FALSE(Authorize(P(who), Operation::kReadPacks).ok()) << int(who);
  // Alarms: regulators, auditors, nodes; a manufacturer only its own.
  for (uint8_t who : {12, 5, 9}) EXPECT_TRUE(Authorize(P(who), Operation::kReadAlarms).ok()) << int(who);
  EXPECT_TRUE(Authorize(P(10), Operation::kReadAlarms, {std::nullopt, {}, "pharma-ag"}).ok());
  EXPECT_FALSE(Authorize(P(10), Operation::kReadAlarms).ok());
  EXPECT_FALSE(Authorize(P(10), Operation::kReadAlarms, {std::nullopt, {}, "generika"}).ok());
  for (uint8_t who : {1, 4, 11, 3}) EXPECT_FALSE(Authorize(P(who), Operation::kReadAlarms).ok()) << int(who);
}

TEST_F(PolicyTest, AShipmentIsReadByItsPartiesRegulatorsAuditorsAndNodes) {
  const Resource ship{std::nullopt, {}, "", {"pharma-ag", "kuehl-logistik", "grosshandel"}};
  for (uint8_t who : {10, 11, 13, 12, 5, 9})
    EXPECT_TRUE(Authorize(P(who), Operation::kReadShipment, ship).ok()) << int(who);
  // Another pharmacy, an admin, a patient; and a party of another shipment.
  for (uint8_t who : {4, 1, 3, 6}) EXPECT_FALSE(Authorize(P(who), Operation::kReadShipment, ship).ok()) << int(who);
  EXPECT_FALSE(Authorize(P(13), Operation::kReadShipment, {std::nullopt, {}, "", {"pharma-ag", "grosshandel"}}).ok());
}

TEST_F(PolicyTest, TheResearchRegistryIsPublicToActiveActorsAndNodes) {
  for (uint8_t who : {1, 2, 3, 4, 5, 9, 10, 12})
    EXPECT_TRUE(Authorize(P(who), Operation::kReadResearch).ok()) << int(who);
  // A revoked key and a stranger.
  for (uint8_t who : {6, 42})
    EXPECT_EQ(Authorize(P(who), Operation::kReadResearch).code(), Code::kPermissionDenied) << int(who);
}

TEST_F(PolicyTest, WearableDataIsThePatientsAndTheirNamedProviders) {
  EXPECT_TRUE(Authorize(P(3), Operation::kSendWearableData, About(3)).ok());
  EXPECT_FALSE(Authorize(P(3), Operation::kSendWearableData, About(6)).ok());  // another patient's
  EXPECT_FALSE(Authorize(P(2), Operation::kSendWearableData, About(2)).ok());  // not a patient
  EXPECT_FALSE(Authorize(P(6), Operation::kSendWearableData, About(6)).ok());  // revoked
  EXPECT_TRUE(Authorize(P(3), Operation::kReadWearableData, About(3)).ok());
  Resource named{Key(3), P(3), ""};
  named.readers = {Key(2).hex()};
  EXPECT_TRUE(Authorize(P(2), Operation::kReadWearableData, named).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kReadWearableData, About(3)).ok());  // not named
  named.readers = {Key(4).hex()};
  EXPECT_FALSE(Authorize(P(4), Operation::kReadWearableData, named).ok());  // named, but a pharmacist
  for (uint8_t who : {9, 5, 1}) EXPECT_FALSE(Authorize(P(who), Operation::kReadWearableData, About(3)).ok()) << int(who);
}

TEST_F(PolicyTest, AStudysDataIsForTheResearchersOfItsOrganisation) {
  Resource study;
  study.org = "uni-a";
  EXPECT_TRUE(Authorize(P(14), Operation::kUseResearchData, study).ok());
  // Another organisation's researcher, a revoked one, and everyone else.
  for (uint8_t who : {15, 16, 1, 2, 3, 5, 9, 12, 42}) {
    Status s = Authorize(P(who), Operation::kUseResearchData, study);
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << int(who);
  }
  EXPECT_NE(Authorize(P(15), Operation::kUseResearchData, study).message().find("uni-a"), std::string::npos);
}

TEST_F(PolicyTest, ATokenAccountIsItsHoldersAndChainReaders) {
  EXPECT_TRUE(Authorize(P(3), Operation::kReadToken).ok());  // the token's meta: any active actor
  EXPECT_TRUE(Authorize(P(3), Operation::kReadToken, About(3)).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kReadToken, About(3)).ok());  // another's account
  for (uint8_t who : {5, 9, 12}) EXPECT_TRUE(Authorize(P(who), Operation::kReadToken, About(3)).ok()) << int(who);
  Resource treasury;
  treasury.org = "hospital";
  EXPECT_TRUE(Authorize(P(2), Operation::kReadToken, treasury).ok());   // an actor of the organisation
  EXPECT_FALSE(Authorize(P(4), Operation::kReadToken, treasury).ok());  // of another
  EXPECT_FALSE(Authorize(P(6), Operation::kReadToken, About(6)).ok());  // revoked
}

TEST_F(PolicyTest, AnAccessRequestIsItsPatientsAndItsProviders) {
  Resource r = About(3);
  r.readers = {Key(2).hex()};
  for (uint8_t who : {2, 3, 5, 9, 12}) EXPECT_TRUE(Authorize(P(who), Operation::kReadAccessRequest, r).ok()) << int(who);
  for (uint8_t who : {1, 4, 13}) EXPECT_FALSE(Authorize(P(who), Operation::kReadAccessRequest, r).ok()) << int(who);
}

TEST_F(PolicyTest, ReviewsArePublicVisitsAreTheirPatientsAndProviders) {
  for (uint8_t who : {2, 3, 4, 9, 13}) EXPECT_TRUE(Authorize(P(who), Operation::kReadReviews).ok()) << int(who);
  EXPECT_FALSE(Authorize(P(42), Operation::kReadReviews).ok());  // a stranger
  Resource visit = About(3);
  visit.org = "hospital";
  for (uint8_t who : {1, 2, 3, 5, 9}) EXPECT_TRUE(Authorize(P(who), Operation::kReadVisit, visit).ok()) << int(who);
  // (Admins of any organisation read the whole chain, visits included.)
  for (uint8_t who : {4, 13, 14}) EXPECT_FALSE(Authorize(P(who), Operation::kReadVisit, visit).ok()) << int(who);
  EXPECT_TRUE(Authorize(P(3), Operation::kWriteReviewText, About(3)).ok());
  EXPECT_FALSE(Authorize(P(2), Operation::kWriteReviewText, About(2)).ok());  // a provider writes no reviews
  EXPECT_FALSE(Authorize(P(6), Operation::kWriteReviewText, About(6)).ok());  // revoked
}

}  // namespace
}  // namespace cc::api

#include "apps/records/records.h"

#include <gtest/gtest.h>

#include "apps/records/consent.h"
#include "apps/records/consent_index.h"
#include "testing/test_util.h"

namespace cc::records {
namespace {

using testing::Key;
using testing::MemLedger;

constexpr uint64_t kDay = 24ull * 3600 * 1000;
const std::string kCt = std::string(32, 'a');    // record ids
const std::string kMeds = std::string(32, 'b');
const std::string kHash = std::string(64, 'c');

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Publish(kCt, "DiagnosticReport", "imaging"), TxCode::kOk);
    ASSERT_EQ(Publish(kMeds, "MedicationStatement", "medication"), TxCode::kOk);
  }

  const testing::Keys& k() const { return ledger_.net.keys; }
  std::string patient() const { return k().patient.public_key().hex(); }
  uint64_t now() const { return 1700000000000ull + ledger_.height; }

  TxCode Run(const SecretKey& key, const std::string& action, const nlohmann::json& p,
             std::string* detail = nullptr) {
    last_ = ledger_.Tx(key, action, p, "records");
    return ledger_.RunOne(last_, detail);
  }
  TxCode Publish(const std::string& rid, const std::string& type, const std::string& category,
                 const SecretKey* signer = nullptr, const std::string& who = "") {
    return Run(signer ? *signer : k().node, "publish",
               {{"record", rid}, {"patient", who.empty() ? patient() : who}, {"resource_type", type},
                {"category", category}, {"content_hash", kHash}});
  }
  // Grants the doctor `categories` for `purpose` for a day; returns the consent id.
  std::string GrantDoctor(const nlohmann::json& categories, const std::string& purpose = "treatment") {
    EXPECT_EQ(Run(k().patient, "grant",
                  {{"grantee", k().doctor.public_key().hex()}, {"categories", categories},
                   {"purpose", purpose}, {"until", now() + kDay}}),
              TxCode::kOk);
    return last_->id().hex();
  }
  Decision Ask(const SecretKey& reader, const std::string& rid, const std::string& purpose = "treatment",
               uint64_t at = 0, std::string_view org = "") {
    return Decide(ledger_.state, {reader.public_key(), org, rid, purpose, at ? at : now()});
  }

  MemLedger ledger_;
  TxPtr last_;
};

TEST_F(RecordsTest, PublishIsForNodesAndNeedsAPatientAndAFreshId) {
  std::string why;
  EXPECT_EQ(Publish(std::string(32, 'd'), "Observation", "lab", &k().doctor), TxCode::kUnauthorized);
  EXPECT_EQ(Publish(kCt, "DiagnosticReport", "imaging"), TxCode::kAlreadyExists);
  EXPECT_EQ(Publish(std::string(32, 'e'), "Observation", "lab", nullptr, k().doctor.public_key().hex()),
            TxCode::kNotFound);
  auto rec = nlohmann::json::parse(*ledger_.state.Get(RecordKey(kCt)));
  EXPECT_EQ(rec["custodian"], "st-marien-hospital");
  EXPECT_EQ(rec["patient"], patient());
  EXPECT_EQ(rec["status"], "active");
  EXPECT_TRUE(ledger_.state.Get(PatientPrefix(patient(), "record") + kCt));
}

TEST_F(RecordsTest, CheckRefusesMalformedPayloads) {
  RecordsModule m;
  nlohmann::json ok = {{"grantee", patient()}, {"categories", {"imaging"}}, {"purpose", "treatment"}, {"until", 5u}};
  EXPECT_TRUE(m.Check("grant", ok).ok());
  auto bad = [&](nlohmann::json p) { return m.Check("grant", p).message(); };
  nlohmann::json both = ok;
  both["grantee_org"] = "x";
  EXPECT_NE(bad(both).find("exactly one"), std::string::npos);
  nlohmann::json nothing = ok;
  nothing.erase("categories");
  EXPECT_NE(bad(nothing).find("categories"), std::string::npos);
  nlohmann::json dup = ok;
  dup["categories"] = {"imaging", "imaging"};
  EXPECT_NE(bad(dup).find("twice"), std::string::npos);
  nlohmann::json emergency = ok;
  emergency["purpose"] = "emergency";  // not grantable: emergency access is its own action
  EXPECT_FALSE(m.Check("grant", emergency).ok());
  nlohmann::json backwards = ok;
  backwards["from"] = 9u;
  EXPECT_FALSE(m.Check("grant", backwards).ok());
  EXPECT_FALSE(m.Check("publish", {{"record", kCt}, {"patient", patient()}, {"resource_type", "lower"},
                                   {"category", "x"}, {"content_hash", kHash}}).ok());
  EXPECT_FALSE(m.Check("log_access", {{"entries", nlohmann::json::array()}}).ok());
  EXPECT_FALSE(m.Check("log_access", {{"entries", {{{"id", "zz"}}}}}).ok());
  EXPECT_FALSE(m.Check("nope", nlohmann::json::object()).ok());
}

TEST_F(RecordsTest, TheRecordsPatientAlwaysReadsIt) {
  Decision d = Ask(k().patient, kCt, "treatment");
  EXPECT_TRUE(d.allowed());
  EXPECT_TRUE(d.own);
  EXPECT_FALSE(d.emergency);
}

TEST_F(RecordsTest, AConsentOpensItsCategoryForItsPurposeUntilItsEnd) {
  EXPECT_FALSE(Ask(k().doctor, kCt).allowed());
  EXPECT_NE(Ask(k().doctor, kCt).reason.find("no consent"), std::string::npos);
  const std::string cid = GrantDoctor({"imaging"});
  Decision d = Ask(k().doctor, kCt);
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.consent, cid);
  EXPECT_FALSE(d.emergency);
  // Not the medication list, not for research, not after the end.
  EXPECT_EQ(Ask(k().doctor, kMeds).verdict, Verdict::kDenied);
  EXPECT_NE(Ask(k().doctor, kMeds).reason.find("category"), std::string::npos);
  EXPECT_NE(Ask(k().doctor, kCt, "research").reason.find("purpose"), std::string::npos);
  EXPECT_NE(Ask(k().doctor, kCt, "treatment", now() + 2 * kDay).reason.find("expired"), std::string::npos);
  // Nobody else.
  EXPECT_FALSE(Ask(k().pharmacist, kCt).allowed());
  EXPECT_FALSE(Ask(k().outsider, kCt).allowed());
}

TEST_F(RecordsTest, AProviderRequestsAccessAndThePatientGrantsOrDeclines) {
  RecordsModule mod;
  const std::string doctor = k().doctor.public_key().hex();
  auto request = [&](const nlohmann::json& extra, std::string* why = nullptr) -> std::string {
    nlohmann::json p = {{"patient", patient()}, {"purpose", "treatment"}, {"reason", "Kontrolle nach der OP"}};
    p.update(extra);
    return Run(k().doctor, "request_access", p, why) == TxCode::kOk ? last_->id().hex().substr(0, 32) : "";
  };
  std::string why;
  const std::string qid = request({{"categories", {"imaging"}}});
  ASSERT_FALSE(qid.empty());
  // One open request per provider and patient.
  EXPECT_TRUE(request({{"categories", {"medication"}}}, &why).empty());
  EXPECT_NE(why.find("still open"), std::string::npos) << why;
  auto q = mod.Query("requests/" + qid, {}, ledger_.state);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["status"], "pending");
  EXPECT_EQ((*q)["provider"], doctor);
  EXPECT_EQ((*q)["org"], "st-marien-hospital");
  auto listed = mod.Query("patients/" + patient() + "/requests", {}, ledger_.state);
  ASSERT_EQ((*listed)["requests"].size(), 1u);
  EXPECT_EQ((*listed)["requests"][0]["id"], qid);

  // A grant answering it must name the requester; then the doctor reads.
  EXPECT_EQ(Run(k().patient, "grant",
                {{"grantee", k().pharmacist.public_key().hex()}, {"categories", {"imaging"}}, {"purpose", "treatment"},
                 {"until", now() + kDay}, {"request", qid}}),
            TxCode::kInvalidPayload);
  EXPECT_EQ(Run(k().pharmacist, "decline", {{"request", qid}}), TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().patient, "grant",
                {{"grantee", doctor}, {"categories", {"imaging"}}, {"purpose", "treatment"}, {"until", now() + kDay},
                 {"request", qid}}, &why),
            TxCode::kOk) << why;
  const std::string cid = last_->id().hex();
  q = mod.Query("requests/" + qid, {}, ledger_.state);
  EXPECT_EQ((*q)["status"], "granted");
  EXPECT_EQ((*q)["consent"], cid);
  EXPECT_TRUE(Ask(k().doctor, kCt).allowed());
  EXPECT_EQ(Run(k().patient, "decline", {{"request", qid}}), TxCode::kFailedPrecondition) << "answered once";

  // The next request may be declined; nothing opens.
  const std::string second = request({{"records", {kMeds}}});
  ASSERT_FALSE(second.empty());
  ASSERT_EQ(Run(k().patient, "decline", {{"request", second}}), TxCode::kOk);
  EXPECT_EQ((*mod.Query("requests/" + second, {}, ledger_.state))["status"], "declined");
  EXPECT_FALSE(Ask(k().doctor, kMeds).allowed());
  // Refusals: not a provider, not a patient, another patient's record, nothing asked for.
  EXPECT_EQ(Run(k().pharmacist, "request_access",
                {{"patient", patient()}, {"categories", {"imaging"}}, {"purpose", "treatment"}, {"reason", "x"}}),
            TxCode::kUnauthorized);
  EXPECT_TRUE(request({{"patient", doctor}, {"categories", {"imaging"}}}).empty());
  EXPECT_TRUE(request({{"records", {std::string(32, 'f')}}}).empty());
  EXPECT_FALSE(mod.Check("request_access", {{"patient", patient()}, {"purpose", "treatment"}, {"reason", "x"}}).ok());
}

TEST_F(RecordsTest, AConsentMayNameRecordsAndAnOrganisation) {
  ASSERT_EQ(Run(k().patient, "grant",
                {{"grantee_org", "apotheke-am-markt"}, {"records", {kMeds}}, {"purpose", "treatment"},
                 {"until", now() + kDay}}),
            TxCode::kOk);
  EXPECT_TRUE(Ask(k().pharmacist, kMeds, "treatment", 0, "apotheke-am-markt").allowed());
  EXPECT_FALSE(Ask(k().pharmacist, kCt, "treatment", 0, "apotheke-am-markt").allowed());
  EXPECT_FALSE(Ask(k().doctor, kMeds, "treatment", 0, "st-marien-hospital").allowed());
}

TEST_F(RecordsTest, GrantRules) {
  std::string why;
  nlohmann::json p = {{"grantee", k().doctor.public_key().hex()}, {"categories", {"imaging"}},
                      {"purpose", "treatment"}, {"until", now() + kDay}};
  EXPECT_EQ(Run(k().doctor, "grant", p), TxCode::kUnauthorized);  // only patients grant
  nlohmann::json past = p;
  past["until"] = 1;
  EXPECT_EQ(Run(k().patient, "grant", past, &why), TxCode::kInvalidPayload);
  EXPECT_NE(why.find("past"), std::string::npos);
  nlohmann::json stranger = p;
  stranger["grantee"] = k().outsider.public_key().hex();
  EXPECT_EQ(Run(k().patient, "grant", stranger), TxCode::kNotFound);
  nlohmann::json no_org = p;
  no_org.erase("grantee");
  no_org["grantee_org"] = "no-such-org";
  EXPECT_EQ(Run(k().patient, "grant", no_org), TxCode::kNotFound);
  nlohmann::json other_record = p;
  other_record["records"] = {std::string(32, 'f')};
  EXPECT_EQ(Run(k().patient, "grant", other_record), TxCode::kNotFound);
}

TEST_F(RecordsTest, RevocationClosesTheConsent) {
  const std::string cid = GrantDoctor({"imaging"});
  EXPECT_EQ(Run(k().doctor, "revoke", {{"consent", cid}}), TxCode::kUnauthorized);
  EXPECT_TRUE(Ask(k().doctor, kCt).allowed());
  EXPECT_EQ(Run(k().patient, "revoke", {{"consent", cid}}), TxCode::kOk);
  Decision d = Ask(k().doctor, kCt);
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.reason.find("revoked"), std::string::npos);
  EXPECT_EQ(Run(k().patient, "revoke", {{"consent", cid}}), TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(k().patient, "revoke", {{"consent", std::string(64, '0')}}), TxCode::kNotFound);
  auto c = nlohmann::json::parse(*ledger_.state.Get(ConsentKey(cid)));
  EXPECT_EQ(c["status"], "revoked");
}

TEST_F(RecordsTest, EmergencyAccessIsAllowedFlaggedAndBounded) {
  EXPECT_EQ(Run(k().pharmacist, "emergency_access", {{"patient", patient()}, {"reason", "unconscious"}}),
            TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().doctor, "emergency_access", {{"patient", patient()}, {"reason", "unconscious in A&E"}}),
            TxCode::kOk);
  const std::string cid = last_->id().hex();
  Decision d = Ask(k().doctor, kMeds, "emergency");
  ASSERT_TRUE(d.allowed());
  EXPECT_TRUE(d.emergency);
  EXPECT_EQ(d.consent, cid);
  EXPECT_FALSE(Ask(k().doctor, kMeds, "emergency", now() + kEmergencyWindowMs + 1).allowed());
  // A plain consent is preferred: the read is then not flagged.
  GrantDoctor({"medication"});
  EXPECT_FALSE(Ask(k().doctor, kMeds).emergency);
  auto c = nlohmann::json::parse(*ledger_.state.Get(ConsentKey(cid)));
  EXPECT_EQ(c["emergency"], true);
  EXPECT_EQ(c["reason"], "unconscious in A&E");
}

TEST_F(RecordsTest, AccessEntriesAreLoggedOnceByTheCustodian) {
  nlohmann::json e = {{"id", std::string(32, '1')}, {"record", kCt}, {"reader", k().doctor.public_key().hex()},
                      {"purpose", "treatment"}, {"at", now()}, {"outcome", "allowed"}, {"emergency", false}};
  nlohmann::json denied = e;
  denied["id"] = std::string(32, '2');
  denied["outcome"] = "denied";
  denied["reason"] = "no consent";
  EXPECT_EQ(Run(k().doctor, "log_access", {{"entries", {e}}}), TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().node, "log_access", {{"entries", {e, denied}}}), TxCode::kOk);
  ASSERT_EQ(Run(k().node, "log_access", {{"entries", {e}}}), TxCode::kOk);  // delivered twice
  nlohmann::json unknown = e;
  unknown["record"] = std::string(32, '9');
  EXPECT_EQ(Run(k().node, "log_access", {{"entries", {unknown}}}), TxCode::kNotFound);

  RecordsModule m;
  auto log = m.Query("patients/" + patient() + "/access", {}, ledger_.state);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ((*log)["access"].size(), 2u);
  EXPECT_EQ((*log)["access"][0]["custodian"], "st-marien-hospital");
  EXPECT_EQ((*log)["access"][0]["category"], "imaging");
  auto page = m.Query("patients/" + patient() + "/access", {{"limit", "1"}}, ledger_.state);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ((*page)["access"].size(), 1u);
  auto rest = m.Query("patients/" + patient() + "/access", {{"after", (*page)["next_after"]}}, ledger_.state);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ((*rest)["access"].size(), 1u);
  EXPECT_NE((*rest)["access"][0]["id"], (*page)["access"][0]["id"]);
}

TEST_F(RecordsTest, ErasureIsConfirmedByTheCustodianForThePatient) {
  GrantDoctor({"imaging"});
  EXPECT_EQ(Run(k().node, "erase", {{"record", kCt}, {"requested_by", k().doctor.public_key().hex()}}),
            TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().doctor, "erase", {{"record", kCt}, {"requested_by", patient()}}), TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().node, "erase", {{"record", kCt}, {"requested_by", patient()}}), TxCode::kOk);
  EXPECT_EQ(Ask(k().doctor, kCt).verdict, Verdict::kErased);
  EXPECT_EQ(Ask(k().patient, kCt).verdict, Verdict::kErased);
  EXPECT_EQ(Run(k().node, "erase", {{"record", kCt}, {"requested_by", patient()}}), TxCode::kFailedPrecondition);
  EXPECT_EQ(Ask(k().doctor, std::string(32, '7')).verdict, Verdict::kUnknownRecord);
}

TEST_F(RecordsTest, QueriesListAPatientsRecordsAndConsents) {
  const std::string cid = GrantDoctor({"imaging"});
  RecordsModule m;
  auto recs = m.Query("patients/" + patient() + "/records", {}, ledger_.state);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ((*recs)["records"].size(), 2u);
  auto cons = m.Query("patients/" + patient() + "/consents", {}, ledger_.state);
  ASSERT_TRUE(cons.ok());
  ASSERT_EQ((*cons)["consents"].size(), 1u);
  EXPECT_EQ((*cons)["consents"][0]["id"], cid);
  EXPECT_EQ((*cons)["consents"][0]["purpose"], "treatment");
  EXPECT_TRUE(m.Query("consents/" + cid, {}, ledger_.state).ok());
  EXPECT_EQ(m.Query("records/" + std::string(32, '7'), {}, ledger_.state).status().code(), Code::kNotFound);
  EXPECT_EQ(m.Query("patients/xyz/records", {}, ledger_.state).status().code(), Code::kInvalidArgument);
}

// The index, loaded once and then kept current block by block, decides
// exactly as the state does, whatever happened in between.
TEST_F(RecordsTest, TheConsentIndexDecidesAsTheStateDoes) {
  ConsentIndex index;
  index.Load(ledger_.state);
  EXPECT_EQ(index.records(), 2u);
  auto run = [&](const SecretKey& key, const std::string& action, const nlohmann::json& p) {
    last_ = ledger_.Tx(key, action, p, "records");
    auto e = ledger_.Run({last_});
    ASSERT_TRUE(e.ok());
    index.Apply(e->writes);
  };
  auto compare = [&](const std::string& when) {
    const SecretKey* readers[] = {&k().patient, &k().doctor, &k().pharmacist, &k().outsider};
    const char* orgs[] = {"st-marien-hospital", "apotheke-am-markt", ""};
    for (const SecretKey* r : readers) {
      for (const std::string& rid : {kCt, kMeds, std::string(32, '7')}) {
        for (const char* purpose : {"treatment", "research", "emergency"}) {
          for (uint64_t at : {now(), now() + 2 * kDay}) {
            for (const char* org : orgs) {
              AccessRequest q{r->public_key(), org, rid, purpose, at};
              Decision a = Decide(ledger_.state, q), b = Decide(index, q);
              ASSERT_EQ(a.verdict, b.verdict) << when;
              ASSERT_EQ(a.consent, b.consent) << when;
              ASSERT_EQ(a.reason, b.reason) << when;
              ASSERT_EQ(a.emergency, b.emergency) << when;
              ASSERT_EQ(a.record, b.record) << when;
            }
          }
        }
      }
    }
  };
  compare("loaded");
  run(k().patient, "grant", {{"grantee", k().doctor.public_key().hex()}, {"categories", {"imaging"}},
                             {"purpose", "treatment"}, {"until", now() + kDay}});
  const std::string cid = last_->id().hex();
  compare("granted to an actor");
  run(k().patient, "grant", {{"grantee_org", "apotheke-am-markt"}, {"records", {kMeds}},
                             {"purpose", "research"}, {"until", now() + kDay}});
  compare("granted to an organisation");
  run(k().patient, "revoke", {{"consent", cid}});
  compare("revoked");
  run(k().doctor, "emergency_access", {{"patient", patient()}, {"reason", "collapsed"}});
  compare("emergency");
  run(k().node, "erase", {{"record", kCt}, {"requested_by", patient()}});
  compare("erased");
  ConsentIndex reloaded;
  reloaded.Load(ledger_.state);
  EXPECT_EQ(reloaded.grants(), index.grants());
  EXPECT_EQ(index.grants(), 3u);
}

TEST(GrantCodec, RoundTripsAndRefusesDamage) {
  Grant g{5, 10, "treatment", true, true, {std::string(32, 'a')}, {"imaging", "lab"}};
  std::string enc = EncodeGrant(g);
  auto back = DecodeGrant(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, g);
  for (size_t n = 0; n < enc.size(); ++n) EXPECT_FALSE(DecodeGrant(enc.substr(0, n)).ok()) << n;
  EXPECT_FALSE(DecodeGrant(enc + "x").ok());
  std::string flags = enc;
  flags[1 + 1 + 1 + 1 + 9] = 8;  // version, from, until, purpose length + "treatment"
  EXPECT_FALSE(DecodeGrant(flags).ok());
}

}  // namespace
}  // namespace cc::records

#include "apps/research/research.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace cc::research {
namespace {

using testing::Key;
using testing::MemLedger;

const std::string kProtocolA = Sha256Hex("protocol A, version 1");
const std::string kProtocolB = Sha256Hex("protocol B, version 1");
const std::string kSalt = std::string(64, '5');
const std::string kResults = Sha256Hex("the results paper");

Outcome O(std::string title, std::string measure = "", std::string time_frame = "") {
  return {std::move(title), std::move(measure), std::move(time_frame)};
}
nlohmann::json List(const std::vector<Outcome>& os) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& o : os) j.push_back(OutcomeJson(o));
  return j;
}

const Outcome kMortality = O("All-cause mortality", "proportion of patients", "28 days");
const Outcome kVentFree = O("Ventilator-free days", "days", "28 days");
const Outcome kStay = O("Length of hospital stay", "days");

struct Researchers {
  SecretKey a_admin = Key(40), a = Key(41), a2 = Key(42);  // uni-a
  SecretKey b_admin = Key(43), b = Key(44);                // uni-b
};

nlohmann::json Genesis() {
  Researchers r;
  nlohmann::json doc = testing::GenesisDoc(testing::Keys());
  for (auto [org, admin] : {std::pair{"uni-a", &r.a_admin}, {"uni-b", &r.b_admin}})
    doc["orgs"].push_back({{"id", org},
                           {"name", org},
                           {"admins", {admin->public_key().hex()}},
                           {"nodes", nlohmann::json::array()}});
  for (auto [key, org] : {std::pair{&r.a, "uni-a"}, {&r.a2, "uni-a"}, {&r.b, "uni-b"}})
    doc["actors"].push_back(
        {{"key", key->public_key().hex()}, {"org", org}, {"role", "researcher"}});
  return doc;
}

class ResearchTest : public ::testing::Test {
 protected:
  ResearchTest() : ledger_(Genesis()) {}

  TxPtr Tx(const SecretKey& key, const std::string& action, const nlohmann::json& p) {
    return ledger_.Tx(key, action, p, "research");
  }
  TxCode Run(const SecretKey& key, const std::string& action, const nlohmann::json& p,
             std::string* detail = nullptr) {
    return ledger_.RunOne(Tx(key, action, p), detail);
  }
  static nlohmann::json Registration(const std::string& id, const std::string& protocol) {
    return {{"study", id},
            {"title", "Early prone positioning in ARDS"},
            {"protocol_hash", protocol},
            {"primary", List({kMortality})},
            {"secondary", List({kVentFree, kStay})}};
  }
  static nlohmann::json Opening(const std::string& id, uint64_t seq,
                                const std::vector<Outcome>& primary,
                                const std::vector<Outcome>& secondary) {
    nlohmann::json p = {{"study", id},
                        {"seq", seq},
                        {"salt", kSalt},
                        {"results_hash", kResults},
                        {"primary", List(primary)}};
    if (!secondary.empty()) p["secondary"] = List(secondary);
    return p;
  }
  static nlohmann::json Commitment(const std::string& id, const std::vector<Outcome>& primary,
                                   const std::vector<Outcome>& secondary) {
    return {{"study", id},
            {"commitment", ResultsCommitment(id, kSalt, kResults, primary, secondary)}};
  }
  nlohmann::json Study(const std::string& id) const {
    auto q = mod_.Query("studies/" + id, {}, ledger_.state);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? *q : nlohmann::json{};
  }
  // The module's whole state, to show that a refusal changed nothing.
  std::map<std::string, std::string> State() const {
    std::map<std::string, std::string> out;
    ledger_.state.Scan("research/", "", [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return true;
    });
    return out;
  }

  Researchers r_;
  MemLedger ledger_;
  ResearchModule mod_;
};

TEST_F(ResearchTest, TheFirstRegistrationOfAProtocolHasPriority) {
  ASSERT_EQ(Run(r_.a, "register", Registration("prone-1", kProtocolA)), TxCode::kOk);
  const uint64_t first_height = ledger_.height;
  ASSERT_EQ(Run(r_.b, "register", Registration("prone-copy", kProtocolA)), TxCode::kOk);
  auto first = Study("prone-1");
  EXPECT_EQ(first["priority"], (nlohmann::json{{"first", true}, {"rank", 1}}));
  EXPECT_EQ(first["height"], first_height);
  EXPECT_EQ(first["registered_at"], 1700000000000ull + first_height);  // the block's time
  EXPECT_EQ(first["org"], "uni-a");
  EXPECT_EQ(first["k"], kDefaultK);
  EXPECT_EQ(first["status"], "registered");
  auto copy = Study("prone-copy");
  EXPECT_EQ(copy["priority"]["first"], false);
  EXPECT_EQ(copy["priority"]["rank"], 2);
  EXPECT_EQ(copy["priority"]["first_study"], "prone-1");
  EXPECT_EQ(copy["priority"]["first_org"], "uni-a");
  EXPECT_EQ(copy["priority"]["first_height"], first_height);
  auto q = mod_.Query("priority/" + kProtocolA, {}, ledger_.state);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ((*q)["claims"].size(), 2u);
  EXPECT_EQ((*q)["first"]["study"], "prone-1");
  EXPECT_EQ((*q)["claims"][1]["study"], "prone-copy");
  EXPECT_EQ((*q)["claims"][1]["org"], "uni-b");
  EXPECT_EQ((*q)["claims"][1]["rank"], 2);

  // In one block, the block's order decides.
  auto e = ledger_.Run({Tx(r_.b, "register", Registration("b-first", kProtocolB)),
                        Tx(r_.a, "register", Registration("a-second", kProtocolB))});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Study("b-first")["priority"]["first"], true);
  EXPECT_EQ(Study("a-second")["priority"]["first_study"], "b-first");
}

TEST_F(ResearchTest, APatientConsentsWithdrawsAndConsentsAgain) {
  testing::Keys k;
  ASSERT_EQ(Run(r_.a, "register", Registration("prone-1", kProtocolA)), TxCode::kOk);
  const uint64_t now = 1700000000000ull + ledger_.height;
  const nlohmann::json consent = {{"study", "prone-1"}, {"categories", {"spo2", "heart_rate"}}, {"until", now + 1000}};
  auto before = State();
  std::string why;
  EXPECT_EQ(Run(r_.a, "consent", consent, &why), TxCode::kUnauthorized) << why;  // not a patient
  EXPECT_EQ(Run(k.patient, "consent", {{"study", "nope"}, {"categories", {"spo2"}}, {"until", now + 1000}}),
            TxCode::kNotFound);
  EXPECT_EQ(Run(k.patient, "consent", {{"study", "prone-1"}, {"categories", {"spo2"}}, {"until", now}}),
            TxCode::kInvalidPayload);  // already over
  EXPECT_EQ(Run(k.patient, "withdraw", {{"study", "prone-1"}}), TxCode::kNotFound);
  EXPECT_EQ(State(), before);

  ASSERT_EQ(Run(k.patient, "consent", consent), TxCode::kOk);
  auto active = ActiveConsents(ledger_.state, "prone-1", now + 2);
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].patient, k.patient.public_key().hex());
  EXPECT_EQ(active[0].categories, (std::vector<std::string>{"heart_rate", "spo2"}));  // sorted
  EXPECT_EQ(active[0].until, now + 1000);
  EXPECT_EQ(active[0].tx.size(), 64u);
  EXPECT_TRUE(ActiveConsents(ledger_.state, "prone-1", now + 1000).empty());  // expired by then
  EXPECT_TRUE(ActiveConsents(ledger_.state, "other", now).empty());

  // The patient sees it; the study's team lists it.
  auto mine = mod_.Query("patients/" + k.patient.public_key().hex() + "/consents", {}, ledger_.state);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ((*mine)["consents"].size(), 1u);
  EXPECT_EQ((*mine)["consents"][0]["study"], "prone-1");
  auto listed = mod_.Query("studies/prone-1/consents", {}, ledger_.state);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ((*listed)["consents"].size(), 1u);
  EXPECT_EQ((*listed)["consents"][0]["status"], "active");
  EXPECT_EQ(mod_.Query("studies/nope/consents", {}, ledger_.state).status().code(), Code::kNotFound);

  ASSERT_EQ(Run(k.patient, "withdraw", {{"study", "prone-1"}}), TxCode::kOk);
  EXPECT_TRUE(ActiveConsents(ledger_.state, "prone-1", now + 2).empty());
  EXPECT_EQ(Run(k.patient, "withdraw", {{"study", "prone-1"}}), TxCode::kFailedPrecondition);
  auto c = (*mod_.Query("studies/prone-1/consents", {}, ledger_.state))["consents"][0];
  EXPECT_EQ(c["status"], "withdrawn");
  EXPECT_GT(c["withdrawn_at"].get<uint64_t>(), now);

  // Consenting again (here: to one category only) replaces the consent.
  ASSERT_EQ(Run(k.patient, "consent",
                {{"study", "prone-1"}, {"categories", {"steps"}}, {"until", now + 5000}}),
            TxCode::kOk);
  active = ActiveConsents(ledger_.state, "prone-1", now + 10);
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].categories, std::vector<std::string>{"steps"});
  EXPECT_EQ((*mod_.Query("studies/prone-1/consents", {}, ledger_.state))["consents"][0]["grants"], 2);
}

TEST_F(ResearchTest, RefusesNonResearchersTakenIdsAndUnknownStudies) {
  testing::Keys k;
  std::string why;
  EXPECT_EQ(Run(k.doctor, "register", Registration("s", kProtocolA), &why), TxCode::kUnauthorized);
  EXPECT_EQ(why, "studies are registered by an active researcher");
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  const auto before = State();
  EXPECT_EQ(Run(r_.b, "register", Registration("s", kProtocolB)), TxCode::kAlreadyExists);
  EXPECT_EQ(Run(r_.a, "commit_results", Commitment("nope", {kMortality}, {})), TxCode::kNotFound);
  EXPECT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {}), &why), TxCode::kNotFound);
  EXPECT_EQ(why, "study 's' has no results commitment 1");
  EXPECT_EQ(State(), before);
}

TEST_F(ResearchTest, OnlyTheRegistrantsOrganisationAmendsCommitsAndDiscloses) {
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  const auto before = State();
  std::string why;
  nlohmann::json amend = {
      {"study", "s"}, {"reason", "DSMB advice"}, {"primary", List({kMortality, kVentFree})}};
  EXPECT_EQ(Run(r_.b, "amend", amend, &why), TxCode::kUnauthorized);
  EXPECT_EQ(why, "only researchers of uni-a, the registrant's organisation, act on study 's'");
  EXPECT_EQ(Run(r_.b, "commit_results", Commitment("s", {kMortality}, {})), TxCode::kUnauthorized);
  EXPECT_EQ(Run(testing::Keys().doctor, "commit_results", Commitment("s", {kMortality}, {})),
            TxCode::kUnauthorized);
  EXPECT_EQ(State(), before);
  // A colleague of the registrant may.
  EXPECT_EQ(Run(r_.a2, "commit_results", Commitment("s", {kMortality}, {kVentFree, kStay})),
            TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {kVentFree, kStay})), TxCode::kOk);
  EXPECT_EQ(Study("s")["results"][0]["disclosure"]["by"], r_.a.public_key().hex());
}

TEST_F(ResearchTest, AMatchingDisclosureRaisesNoFlag) {
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "commit_results", Commitment("s", {kMortality}, {kStay, kVentFree})),
            TxCode::kOk);
  const uint64_t committed_at = ledger_.height;
  EXPECT_EQ(Study("s")["status"], "results_committed");
  ASSERT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {kStay, kVentFree})), TxCode::kOk);
  auto s = Study("s");
  EXPECT_EQ(s["status"], "results_disclosed");
  EXPECT_EQ(s["outcome_switching"], false);
  ASSERT_EQ(s["results"].size(), 1u);
  const auto& r = s["results"][0];
  EXPECT_EQ(r["seq"], 1);
  EXPECT_EQ(r["height"], committed_at);
  EXPECT_EQ(r["disclosure"]["height"], committed_at + 1);
  EXPECT_EQ(r["disclosure"]["flags"], nlohmann::json::array());
  EXPECT_EQ(r["disclosure"]["switched"], false);
  EXPECT_EQ(r["disclosure"]["results_hash"], kResults);
  EXPECT_EQ(r["disclosure"]["primary"][0]["hash"], OutcomeHash(kMortality));
  // Once disclosed, a commitment stays disclosed.
  EXPECT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {kStay, kVentFree})),
            TxCode::kFailedPrecondition);
}

TEST_F(ResearchTest, ASwitchedPrimaryAndADroppedSecondaryAreFlaggedOnChain) {
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "commit_results", Commitment("s", {kVentFree}, {kMortality})), TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kVentFree}, {kMortality})), TxCode::kOk);
  auto s = Study("s");
  EXPECT_EQ(s["outcome_switching"], true);
  const auto& flags = s["results"][0]["disclosure"]["flags"];
  ASSERT_EQ(flags.size(), 3u) << flags.dump(2);
  EXPECT_EQ(flags[0]["kind"], "primary_demoted");
  EXPECT_EQ(flags[0]["title"], "all-cause mortality");
  EXPECT_EQ(flags[1]["kind"], "secondary_promoted");
  EXPECT_EQ(flags[1]["title"], "ventilator-free days");
  EXPECT_EQ(flags[2]["kind"], "secondary_dropped");
  EXPECT_EQ(flags[2]["title"], "length of hospital stay");
  EXPECT_EQ(s["results"][0]["disclosure"]["switched"], true);
  auto list = mod_.Query("studies", {}, ledger_.state);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["studies"][0]["outcome_switching"], true);
}

TEST_F(ResearchTest, AWrongOpeningIsRefusedAndChangesNothing) {
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "commit_results", Commitment("s", {kMortality}, {kVentFree, kStay})),
            TxCode::kOk);
  const auto before = State();
  std::string why;
  auto bad = Opening("s", 1, {kMortality}, {kVentFree, kStay});
  bad["salt"] = std::string(64, '6');
  EXPECT_EQ(Run(r_.a, "disclose", bad, &why), TxCode::kInvalidPayload);
  EXPECT_EQ(why,
            "the opening does not match commitment 1: the salt, the results hash or the reported "
            "outcomes differ");
  bad = Opening("s", 1, {kMortality}, {kVentFree, kStay});
  bad["results_hash"] = kProtocolB;
  EXPECT_EQ(Run(r_.a, "disclose", bad), TxCode::kInvalidPayload);
  // Other outcomes than were committed: switching cannot be hidden at disclosure.
  EXPECT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {kVentFree})),
            TxCode::kInvalidPayload);
  EXPECT_EQ(Run(r_.a, "disclose", Opening("s", 2, {kMortality}, {kVentFree, kStay})),
            TxCode::kNotFound);
  EXPECT_EQ(Run(r_.a, "commit_results", Commitment("s", {kMortality}, {kVentFree, kStay}), &why),
            TxCode::kAlreadyExists);
  EXPECT_EQ(State(), before);
  EXPECT_EQ(Study("s")["status"], "results_committed");
}

TEST_F(ResearchTest, AmendmentsAreVersionsAndLateOnesDoNotMoveTheBaseline) {
  ASSERT_EQ(Run(r_.a, "register", Registration("s", kProtocolA)), TxCode::kOk);
  std::string why;
  nlohmann::json same = {
      {"study", "s"},
      {"reason", "typo"},
      {"primary", List({O("all-cause MORTALITY", "Proportion of patients", "28 days")})},
      {"secondary", List({kStay, kVentFree})}};
  EXPECT_EQ(Run(r_.a, "amend", same, &why), TxCode::kInvalidPayload);
  EXPECT_EQ(why, "the amendment changes neither the protocol hash nor the outcomes");
  // Before results: ventilator-free days become primary, protocol v2.
  nlohmann::json v1 = {{"study", "s"},
                       {"reason", "DSMB advice"},
                       {"protocol_hash", kProtocolB},
                       {"primary", List({kMortality, kVentFree})},
                       {"secondary", List({kStay})}};
  ASSERT_EQ(Run(r_.a2, "amend", v1), TxCode::kOk);
  auto s = Study("s");
  EXPECT_EQ(s["version"], 1);
  EXPECT_EQ(s["protocol_hash"], kProtocolB);
  ASSERT_EQ(s["versions"].size(), 2u);
  EXPECT_EQ(s["versions"][0]["protocol_hash"], kProtocolA);
  EXPECT_EQ(s["versions"][1]["after_results"], false);
  EXPECT_EQ(s["versions"][1]["reason"], "DSMB advice");
  EXPECT_EQ(s["versions"][1]["priority"]["first"], true);
  ASSERT_EQ(s["versions"][1]["changes"].size(), 1u);
  EXPECT_EQ(s["versions"][1]["changes"][0]["kind"], "secondary_promoted");
  EXPECT_EQ(s["primary"].size(), 2u);
  EXPECT_EQ(s["priority"]["first"], true);  // the registration's claim on protocol A stands

  ASSERT_EQ(Run(r_.a, "commit_results", Commitment("s", {kMortality}, {kStay})), TxCode::kOk);
  EXPECT_EQ(Study("s")["baseline_version"], 1);
  // After the first commitment: recorded, marked, and not the baseline.
  nlohmann::json v2 = {{"study", "s"},
                       {"reason", "post hoc"},
                       {"primary", List({kMortality})},
                       {"secondary", List({kStay})}};
  ASSERT_EQ(Run(r_.a, "amend", v2), TxCode::kOk);
  ASSERT_EQ(Run(r_.a, "disclose", Opening("s", 1, {kMortality}, {kStay})), TxCode::kOk);
  s = Study("s");
  EXPECT_EQ(s["amended_after_results"], true);
  EXPECT_EQ(s["versions"][2]["after_results"], true);
  const auto& d = s["results"][0]["disclosure"];
  EXPECT_EQ(d["compared_with_version"], 1);
  ASSERT_EQ(d["flags"].size(), 1u);
  EXPECT_EQ(d["flags"][0]["kind"], "primary_dropped");
  EXPECT_EQ(d["flags"][0]["title"], "ventilator-free days");
}

TEST_F(ResearchTest, ListsStudiesByOrganisationInPages) {
  for (const char* id : {"a1", "a2", "a3"})
    ASSERT_EQ(Run(r_.a, "register", Registration(id, kProtocolA)), TxCode::kOk);
  ASSERT_EQ(Run(r_.b, "register", Registration("b1", kProtocolB)), TxCode::kOk);
  auto page = mod_.Query("studies", {{"org", "uni-a"}, {"limit", "2"}}, ledger_.state);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ((*page)["studies"].size(), 2u);
  EXPECT_EQ((*page)["studies"][0]["study"], "a1");
  EXPECT_EQ((*page)["studies"][1]["first"], false);
  EXPECT_EQ((*page)["next_after"], "a2");
  auto rest = mod_.Query("studies", {{"org", "uni-a"}, {"after", "a2"}}, ledger_.state);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ((*rest)["studies"].size(), 1u);
  EXPECT_EQ((*rest)["studies"][0]["study"], "a3");
  EXPECT_FALSE(rest->contains("next_after"));
  auto all = mod_.Query("studies", {}, ledger_.state);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["studies"].size(), 4u);
  EXPECT_EQ(mod_.Query("studies/zz", {}, ledger_.state).status().code(), Code::kNotFound);
  EXPECT_EQ(mod_.Query("priority/xyz", {}, ledger_.state).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(mod_.Query("priority/" + Sha256Hex("never"), {}, ledger_.state).status().code(),
            Code::kNotFound);
}

TEST(ResearchCheck, RefusesMalformedPayloads) {
  ResearchModule m;
  nlohmann::json reg = {{"study", "s"},
                        {"title", "t"},
                        {"protocol_hash", kProtocolA},
                        {"primary", List({kMortality})},
                        {"secondary", List({kStay})},
                        {"k", 10u}};
  ASSERT_TRUE(m.Check("register", reg).ok()) << m.Check("register", reg).ToString();
  auto bad = reg;
  bad["secondary"] = List({kStay, O("  LENGTH of hospital   stay", "hours")});
  Status s = m.Check("register", bad);
  EXPECT_EQ(s.message(),
            "secondary[1]: outcome 'length of hospital stay' is listed twice (a title names one "
            "outcome)");
  bad = reg;
  bad["secondary"] = List({kMortality});  // primary and secondary at once
  EXPECT_FALSE(m.Check("register", bad).ok());
  bad = reg;
  bad["primary"][0]["title"] = " \t ";
  EXPECT_EQ(m.Check("register", bad).message(), "primary[0].title is blank");
  bad = reg;
  bad["primary"][0]["measure"] = std::string("a\x01z");
  EXPECT_EQ(m.Check("register", bad).message(), "primary[0].measure holds a control character");
  bad = reg;
  bad["k"] = kMinK - 1;
  EXPECT_FALSE(m.Check("register", bad).ok());
  bad = reg;
  bad["protocol_hash"] = "ABC";
  EXPECT_FALSE(m.Check("register", bad).ok());
  bad = reg;
  bad.erase("primary");
  EXPECT_FALSE(m.Check("register", bad).ok());
  bad = reg;
  bad["primary"] = nlohmann::json::array();
  for (size_t i = 0; i <= kMaxPrimary; ++i)
    bad["primary"].push_back({{"title", "o" + std::to_string(i)}});
  EXPECT_FALSE(m.Check("register", bad).ok());
  EXPECT_FALSE(m.Check("commit_results", {{"study", "s"}, {"commitment", "00"}}).ok());
  EXPECT_FALSE(m.Check("disclose",
                       {{"study", "s"}, {"seq", 0u}, {"salt", kSalt}, {"results_hash", kResults}})
                   .ok());
  EXPECT_TRUE(m.Check("disclose",
                      {{"study", "s"}, {"seq", 1u}, {"salt", kSalt}, {"results_hash", kResults}})
                  .ok());
  EXPECT_FALSE(m.Check("delete", {{"study", "s"}}).ok());
  const nlohmann::json consent = {{"study", "s"}, {"categories", {"heart_rate", "spo2"}}, {"until", 5u}};
  EXPECT_TRUE(m.Check("consent", consent).ok());
  for (const nlohmann::json& cats : {nlohmann::json::array(), nlohmann::json{"heart_rate", "heart_rate"},
                                     nlohmann::json{"blood_sugar"}, nlohmann::json{"x", "y", "z", "v", "w", "u"}}) {
    auto bad = consent;
    bad["categories"] = cats;
    EXPECT_FALSE(m.Check("consent", bad).ok()) << cats;
  }
  EXPECT_NE(m.Check("consent", {{"study", "s"}, {"categories", {"sugar"}}, {"until", 5u}}).message().find("heart_rate"),
            std::string::npos);  // the refusal lists the categories there are
  EXPECT_FALSE(m.Check("withdraw", {{"study", "s"}, {"until", 5u}}).ok());
}

}  // namespace
}  // namespace cc::research

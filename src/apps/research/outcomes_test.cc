#include "apps/research/outcomes.h"

#include <gtest/gtest.h>

namespace cc::research {
namespace {

const std::string kSalt = std::string(64, '5');
const std::string kResults = Sha256Hex("the results paper");

Outcome O(std::string title, std::string measure = "", std::string time_frame = "") {
  return {std::move(title), std::move(measure), std::move(time_frame)};
}
// An outcome set as the module stores it.
nlohmann::json StoredSet(const std::vector<Outcome>& primary,
                         const std::vector<Outcome>& secondary) {
  nlohmann::json set = {{"primary", nlohmann::json::array()},
                        {"secondary", nlohmann::json::array()}};
  for (const auto& o : primary) set["primary"].push_back(OutcomeJson(o));
  for (const auto& o : secondary) set["secondary"].push_back(OutcomeJson(o));
  set["primary"] = StoredOutcomes(set["primary"]);
  set["secondary"] = StoredOutcomes(set["secondary"]);
  return set;
}

const Outcome kMortality = O("All-cause mortality", "proportion of patients", "28 days");
const Outcome kVentFree = O("Ventilator-free days", "days", "28 days");
const Outcome kStay = O("Length of hospital stay", "days");

TEST(OutcomeCanonicalForm, NormalisesCaseAndWhitespaceOnly) {
  EXPECT_EQ(NormalizeText("  HbA1c \t Change\n(%)  "), "hba1c change (%)");
  EXPECT_EQ(NormalizeText("Überleben"), "Überleben");  // non-ASCII bytes stay as they are
  EXPECT_EQ(NormalizeText(" \n "), "");
  EXPECT_EQ(CanonicalOutcome(O(" All-cause  Mortality", "Proportion", "28 Days ")),
            "all-cause mortality\nproportion\n28 days");
  EXPECT_EQ(CanonicalOutcome(O("Pain")), "pain\n\n");
  EXPECT_EQ(OutcomeHash(O("Pain")), Sha256Hex("pain\n\n"));
  // The parts stay apart: a measure is not a longer title.
  EXPECT_NE(OutcomeHash(O("pain score")), OutcomeHash(O("pain", "score")));
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

TEST(ResultsCommitment, IsTheDocumentedTextAndBindsEveryPart) {
  const std::string c = ResultsCommitment("s1", kSalt, kResults, {kMortality}, {kVentFree, kStay});
  EXPECT_EQ(c, Sha256Hex("carechain/research/results/v1\ns1\n" + kSalt + "\n" + kResults +
                         "\nprimary " + OutcomeHash(kMortality) + "\nsecondary " +
                         OutcomeHash(kVentFree) + "\nsecondary " + OutcomeHash(kStay) + "\n"));
  EXPECT_NE(c, ResultsCommitment("s2", kSalt, kResults, {kMortality}, {kVentFree, kStay}));
  EXPECT_NE(
      c, ResultsCommitment("s1", std::string(64, '6'), kResults, {kMortality}, {kVentFree, kStay}));
  EXPECT_NE(c, ResultsCommitment("s1", kSalt, Sha256Hex("other results"), {kMortality},
                                 {kVentFree, kStay}));
  EXPECT_NE(c, ResultsCommitment("s1", kSalt, kResults, {kVentFree}, {kMortality, kStay}));
  EXPECT_NE(c, ResultsCommitment("s1", kSalt, kResults, {kMortality}, {kVentFree}));
}

TEST(OutcomeComparison, TheSameOutcomesInAnyOrderAndSpellingAreNoChange) {
  auto a = StoredSet({kMortality}, {kVentFree, kStay});
  auto b = StoredSet({O("ALL-CAUSE   mortality", "Proportion of patients", "28 days")},
                     {kStay, kVentFree});
  EXPECT_EQ(CompareOutcomes(a, b, "registered", "reported"), nlohmann::json::array());
}

TEST(OutcomeComparison, FlagsEachKindOfSwitchExactly) {
  auto registered =
      StoredSet({kMortality, O("Pain", "VAS", "day 3")}, {kVentFree, kStay, O("Delirium")});
  // Mortality demoted, ventilator-free days promoted, pain's time frame
  // changed, length of stay dropped, delirium kept, readmission added.
  auto reported = StoredSet({kVentFree, O("Pain", "VAS", "day 7")},
                            {kMortality, O("Delirium"), O("Readmission")});
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"kind": "primary_demoted", "title": "all-cause mortality",
     "registered": "all-cause mortality\nproportion of patients\n28 days",
     "reported": "all-cause mortality\nproportion of patients\n28 days"},
    {"kind": "primary_changed", "title": "pain", "registered": "pain\nvas\nday 3", "reported": "pain\nvas\nday 7"},
    {"kind": "secondary_promoted", "title": "ventilator-free days",
     "registered": "ventilator-free days\ndays\n28 days", "reported": "ventilator-free days\ndays\n28 days"},
    {"kind": "secondary_dropped", "title": "length of hospital stay", "registered": "length of hospital stay\ndays\n"},
    {"kind": "secondary_added", "title": "readmission", "reported": "readmission\n\n"}])");
  EXPECT_EQ(CompareOutcomes(registered, reported, "registered", "reported"), expected);
  // A primary that disappears, and one that appears.
  auto flags =
      CompareOutcomes(StoredSet({kMortality}, {}), StoredSet({kStay}, {}), "before", "after");
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_EQ(flags[0]["kind"], "primary_dropped");
  EXPECT_EQ(flags[0]["before"], CanonicalOutcome(kMortality));
  EXPECT_FALSE(flags[0].contains("after"));
  EXPECT_EQ(flags[1]["kind"], "primary_added");
}

TEST(StoredOutcomes, TheStoredFormKeepsTheTextAndAddsTheCanonicalFormAndHash) {
  auto stored = StoredOutcomes(nlohmann::json::array({OutcomeJson(O(" Pain ", "VAS"))}));
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0]["title"], " Pain ");
  EXPECT_EQ(stored[0]["measure"], "VAS");
  EXPECT_FALSE(stored[0].contains("time_frame"));
  EXPECT_EQ(stored[0]["canonical"], "pain\nvas\n");
  EXPECT_EQ(stored[0]["hash"], Sha256Hex("pain\nvas\n"));
  EXPECT_EQ(OutcomesOf(stored)[0].measure, "VAS");
  EXPECT_EQ(ListOf(nlohmann::json::object(), "primary"), nlohmann::json::array());
}

}  // namespace
}  // namespace cc::research

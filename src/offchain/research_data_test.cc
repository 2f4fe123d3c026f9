#include "offchain/research_data.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/merkle.h"
#include "testing/test_util.h"

namespace cc::offchain {
namespace {

using testing::Key;

constexpr uint64_t kT0 = 1'790'000'000'000ull;  // the readings' time, September 2026
constexpr uint64_t kMin = 60'000;
constexpr uint64_t kChainNow = 1'700'000'000'000ull;
constexpr int kPatients = 7;  // 0..5 consent to heart_rate; 6 to spo2 only
constexpr const char* kOrg = "st-marien-hospital";

SecretKey Patient(int i) { return Key(static_cast<uint8_t>(60 + i)); }
SecretKey Watch(int i) { return Key(static_cast<uint8_t>(80 + i)); }
// Patient i's heart rate: 60 + 10·i + j at minute j, over two UTC days.
double Hr(int i, int j) { return 60 + 10 * i + j; }
// Reading j of a batch: hourly, three before a midnight (UTC) and three after.
uint64_t At(int j) {
  return (kT0 / kDayMs + 1) * kDayMs + static_cast<uint64_t>(j) * 60 * kMin - 3 * 60 * kMin;
}

nlohmann::json Genesis() {
  nlohmann::json doc = testing::GenesisDoc(testing::Keys());
  for (auto [org, admin] : {std::pair{"uni-a", 40}, {"uni-b", 43}})
    doc["orgs"].push_back({{"id", org},
                           {"name", org},
                           {"admins", {Key(static_cast<uint8_t>(admin)).public_key().hex()}},
                           {"nodes", nlohmann::json::array()}});
  doc["actors"].push_back({{"key", Key(41).public_key().hex()}, {"org", "uni-a"}, {"role", "researcher"}});
  doc["actors"].push_back({{"key", Key(44).public_key().hex()}, {"org", "uni-b"}, {"role", "researcher"}});
  for (int i = 0; i < kPatients; ++i)
    doc["actors"].push_back({{"key", Patient(i).public_key().hex()}, {"org", kOrg}, {"role", "patient"}});
  return doc;
}

class ResearchDeskTest : public ::testing::Test {
 protected:
  ResearchDeskTest() : ledger_(Genesis()), clock_(kChainNow + 1000) {}

  void SetUp() override {
    auto s = OpenSqliteStore(dir_.file("records.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    custodian_ = std::make_unique<WearableCustodian>(store_.get(), &ledger_.state,
                                                     AeadKey::FromBytes(std::string(32, 'm')).value(), kOrg);
    desk_ = std::make_unique<ResearchDesk>(custodian_.get(), &clock_);
    Run(Key(41), "register",
        {{"study", "hr-study"}, {"title", "Resting heart rate"}, {"protocol_hash", std::string(64, 'a')},
         {"primary", {{{"title", "resting heart rate"}}}}, {"k", 5}},
        "research");
    for (int i = 0; i < kPatients; ++i) {
      Run(Patient(i), "register_device",
          {{"device", Watch(i).public_key().hex()}, {"kind", "smart_watch"}, {"custodian", kOrg}}, "wearables");
      Run(Patient(i), "consent",
          {{"study", "hr-study"}, {"categories", {i < 6 ? "heart_rate" : "spo2"}}, {"until", kChainNow + 1'000'000}},
          "research");
      auto b = custodian_->Ingest(Patient(i).public_key(), Body(i));
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      Run(ledger_.net.keys.node, "anchor", b->anchor, "wearables");
    }
  }

  void Run(const SecretKey& key, const std::string& action, const nlohmann::json& p, const std::string& module) {
    std::string why;
    ASSERT_EQ(ledger_.RunOne(ledger_.Tx(key, action, p, module), &why), TxCode::kOk) << action << ": " << why;
  }

  // Patient i's watch: six heart-rate readings, three on each side of a midnight.
  nlohmann::json Body(int i) const {
    nlohmann::json readings = nlohmann::json::array();
    std::vector<Hash256> leaves;
    const SecretKey w = Watch(i);
    for (int j = 0; j < 6; ++j) {
      readings.push_back({{"t", At(j)}, {"metric", "heart_rate"}, {"value", Hr(i, j)}});
      leaves.push_back(wearables::ReadingLeaf(w.public_key(), {At(j), 0, std::llround(Hr(i, j) * 1000)}));
    }
    const Hash256 root = merkle::Root(leaves);
    const std::string msg = wearables::BatchMessage(w.public_key().hex(), 1, 6, At(0), At(5), root);
    return {{"device", w.public_key().hex()}, {"seq", 1u}, {"readings", readings},
            {"device_sig", w.Sign(AsBytes(msg)).hex()}};
  }

  AggregateQuery Days(uint64_t first_offset, uint64_t last_offset) const {
    const uint64_t day = At(0) / kDayMs;
    return {"heart_rate", day + first_offset, day + last_offset, std::nullopt};
  }

  std::vector<OutboxEntry> Outbox() const { return *store_->ListOutbox(1000); }

  testing::TempDir dir_;
  testing::MemLedger ledger_;
  ManualClock clock_;
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<WearableCustodian> custodian_;
  std::unique_ptr<ResearchDesk> desk_;
  const PublicKey researcher_ = Key(41).public_key();
};

TEST_F(ResearchDeskTest, AggregatesOverConsentingPatientsAndLogsAnAccessForEach) {
  auto a = desk_->Aggregate(researcher_, "hr-study", Days(0, 1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Brute force over what patients 0..5 sent.
  std::vector<double> all;
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) all.push_back(Hr(i, j));
  std::sort(all.begin(), all.end());
  double sum = 0;
  for (double v : all) sum += v;
  EXPECT_EQ((*a)["patients"], 6);
  EXPECT_EQ((*a)["readings"], all.size());
  EXPECT_DOUBLE_EQ((*a)["mean"].get<double>(), sum / all.size());
  EXPECT_DOUBLE_EQ((*a)["median"].get<double>(), (all[17] + all[18]) / 2);
  EXPECT_EQ((*a)["k"], 5);
  EXPECT_EQ((*a)["unit"], "/min");
  // Every bin holds at least k patients; together they hold every reading.
  uint64_t readings = 0;
  double last_to = 0;
  for (const auto& b : (*a)["histogram"]["bins"]) {
    EXPECT_GE(b["patients"].get<uint64_t>(), 5u) << b;
    EXPECT_GE(b["from"].get<double>(), last_to);
    last_to = b["to"];
    readings += b["readings"].get<uint64_t>();
  }
  EXPECT_EQ(readings, all.size());
  EXPECT_GE((*a)["histogram"]["bins"].size(), 1u);

  // One day only: the summaries are per UTC day.
  auto day2 = desk_->Aggregate(researcher_, "hr-study", Days(1, 1));
  ASSERT_TRUE(day2.ok());
  EXPECT_EQ((*day2)["readings"], 18);

  // An access entry per patient and answer, which the records module logs
  // into the patient's access log.
  auto out = Outbox();
  ASSERT_EQ(out.size(), 12u);
  nlohmann::json entries = nlohmann::json::array();
  std::set<std::string> patients;
  for (const auto& e : out) {
    auto j = nlohmann::json::parse(e.payload);
    EXPECT_EQ(e.kind, "access");
    EXPECT_EQ(j["data"], "wearables");
    EXPECT_EQ(j["purpose"], "research");
    EXPECT_EQ(j["study"], "hr-study");
    EXPECT_EQ(j["reader"], researcher_.hex());
    EXPECT_EQ(j["consent"].get<std::string>().size(), 64u);
    patients.insert(j["patient"]);
    entries.push_back(j);
  }
  EXPECT_EQ(patients.size(), 6u);
  EXPECT_FALSE(patients.count(Patient(6).public_key().hex()));
  Run(ledger_.net.keys.node, "log_access", {{"entries", entries}}, "records");
  const Module* records = ledger_.net.modules.Find("records");
  auto log = records->Query("patients/" + Patient(2).public_key().hex() + "/access", {}, ledger_.state);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ((*log)["access"].size(), 2u) << *log;
  EXPECT_EQ((*log)["access"][0]["custodian"], kOrg);
  EXPECT_NE((*log)["access"][0]["what"].get<std::string>().find("aggregate heart_rate"), std::string::npos);
}

TEST_F(ResearchDeskTest, RefusesBelowKWithoutSayingHowMany) {
  // Two withdraw: four consenting patients are fewer than the study's k = 5.
  for (int i : {0, 1}) Run(Patient(i), "withdraw", {{"study", "hr-study"}}, "research");
  auto a = desk_->Aggregate(researcher_, "hr-study", Days(0, 1));
  EXPECT_EQ(a.status().code(), Code::kPermissionDenied);
  EXPECT_NE(a.status().message().find("fewer than 5"), std::string::npos) << a.status().ToString();
  EXPECT_EQ(a.status().message().find('4'), std::string::npos) << a.status().ToString();
  // A category only one patient consented to, and a window without data.
  AggregateQuery spo2 = Days(0, 1);
  spo2.metric = "spo2";
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", spo2).status().code(), Code::kPermissionDenied);
  Run(Patient(0), "consent", {{"study", "hr-study"}, {"categories", {"heart_rate"}}, {"until", kChainNow + 2000}},
      "research");
  EXPECT_TRUE(desk_->Aggregate(researcher_, "hr-study", Days(0, 1)).ok());  // five again
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", Days(5, 9)).status().code(), Code::kPermissionDenied);
  clock_.Advance(1000);  // patient 0's new consent ran out
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", Days(0, 1)).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Outbox().size(), 5u);  // only the answer logged accesses
}

TEST_F(ResearchDeskTest, RefusesBadQueries) {
  AggregateQuery q = Days(0, 1);
  q.metric = "glucose";
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", q).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", Days(1, 0)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", Days(0, 366)).status().code(), Code::kInvalidArgument);
  q = Days(0, 1);
  q.bin = 0.5;  // heart rate is kept to 1 /min
  EXPECT_NE(desk_->Aggregate(researcher_, "hr-study", q).status().message().find("multiple of 1 /min"),
            std::string::npos);
  q.bin = -2;
  EXPECT_EQ(desk_->Aggregate(researcher_, "hr-study", q).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(desk_->Aggregate(researcher_, "nope", Days(0, 1)).status().code(), Code::kNotFound);
  ExportQuery e{"heart_rate", std::nullopt, std::nullopt, "", 0};
  EXPECT_EQ(desk_->Export(researcher_, "hr-study", e).status().code(), Code::kInvalidArgument);
  e.limit = 10;
  for (const char* after : {"x", "p-0123/1", "p-0123456789abcdef/", "p-0123456789abcdef/1x"}) {
    e.after = after;
    EXPECT_EQ(desk_->Export(researcher_, "hr-study", e).status().code(), Code::kInvalidArgument) << after;
  }
  EXPECT_TRUE(Outbox().empty());
}

TEST_F(ResearchDeskTest, ExportsPseudonymisedReadingsShiftedByWholeDays) {
  auto x = desk_->Export(researcher_, "hr-study", {"heart_rate", std::nullopt, std::nullopt, "", 1000});
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  const std::string text = x->dump();
  for (int i = 0; i < kPatients; ++i) {  // no key of a patient or a device
    EXPECT_EQ(text.find(Patient(i).public_key().hex()), std::string::npos);
    EXPECT_EQ(text.find(Watch(i).public_key().hex()), std::string::npos);
  }
  EXPECT_EQ(text.find(kOrg), std::string::npos);
  EXPECT_FALSE(x->contains("next_after"));
  const auto& ps = (*x)["participants"];
  ASSERT_EQ(ps.size(), 6u);
  std::set<int64_t> shifts;
  for (const auto& p : ps) {
    const std::string pseudonym = p["pseudonym"];
    ASSERT_EQ(p["readings"].size(), 6u);
    // Whose? The values tell (60 + 10·i + j); the pseudonym must be theirs.
    const int i = (p["readings"][0][1].get<int>() - 60) / 10;
    EXPECT_EQ(pseudonym, desk_->Pseudonym("hr-study", Patient(i).public_key()));
    EXPECT_NE(pseudonym, desk_->Pseudonym("other-study", Patient(i).public_key()));
    const int64_t shift = p["readings"][0][0].get<int64_t>() - static_cast<int64_t>(At(0));
    EXPECT_EQ(shift % static_cast<int64_t>(kDayMs), 0);
    EXPECT_NE(shift, 0);
    EXPECT_LE(std::abs(shift), kMaxShiftDays * static_cast<int64_t>(kDayMs));
    EXPECT_EQ(shift, desk_->ShiftDays("hr-study", Patient(i).public_key()) * static_cast<int64_t>(kDayMs));
    for (int j = 0; j < 6; ++j) {  // the same shift for every reading: intervals stay
      EXPECT_EQ(p["readings"][j][0].get<int64_t>(), static_cast<int64_t>(At(j)) + shift);
      EXPECT_EQ(p["readings"][j][1].get<double>(), Hr(i, j));
    }
    shifts.insert(shift);
  }
  EXPECT_GT(shifts.size(), 1u);  // not one shift for all
  EXPECT_EQ(Outbox().size(), 6u);
}

TEST_F(ResearchDeskTest, ExportPagesCoverEveryReadingOnceAndWindowsSelectShiftedTimes) {
  auto all = desk_->Export(researcher_, "hr-study", {"heart_rate", std::nullopt, std::nullopt, "", 1000});
  ASSERT_TRUE(all.ok());
  std::vector<std::pair<std::string, nlohmann::json>> want, got;
  for (const auto& p : (*all)["participants"])
    for (const auto& r : p["readings"]) want.emplace_back(p["pseudonym"], r);
  std::string after;
  int pages = 0;
  do {
    auto page = desk_->Export(researcher_, "hr-study", {"heart_rate", std::nullopt, std::nullopt, after, 4});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& p : (*page)["participants"])
      for (const auto& r : p["readings"]) got.emplace_back(p["pseudonym"], r);
    after = page->value("next_after", "");
    ASSERT_LT(++pages, 20);
  } while (!after.empty());
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 9);  // 36 readings, 4 a page

  // A window on the shifted times: the first participant's middle readings.
  const auto& first = (*all)["participants"][0]["readings"];
  auto w = desk_->Export(researcher_, "hr-study",
                         {"heart_rate", first[1][0].get<uint64_t>(), first[3][0].get<uint64_t>(), "", 1000});
  ASSERT_TRUE(w.ok());
  bool found = false;
  for (const auto& p : (*w)["participants"]) {
    if (p["pseudonym"] != (*all)["participants"][0]["pseudonym"]) continue;
    found = true;
    EXPECT_EQ(p["readings"], nlohmann::json({first[1], first[2]}));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace cc::offchain

#include "apps/coldchain/coldchain.h"

#include <gtest/gtest.h>

#include <cmath>

#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"
#include "crypto/merkle.h"
#include "testing/test_util.h"

namespace cc::coldchain {
namespace {

using testing::Key;
using testing::MemLedger;

constexpr uint64_t kT0 = 1'700'000'000'000ull;  // readings start here (ms)
constexpr uint64_t kMinute = 60'000;
const std::string kShip = "00000000000000a1";
const std::string kGtin = "09506000134352";

// The test's own MKT: libm's exp and log, straight from USP <1079.2>.
double ReferenceMktC(const std::vector<double>& celsius, double dh_r) {
  double sum = 0;
  for (double c : celsius) sum += std::exp(-dh_r / (c + 273.15));
  return dh_r / -std::log(sum / celsius.size()) - 273.15;
}

std::vector<Reading> Readings(uint64_t start, const std::vector<int32_t>& centi) {
  std::vector<Reading> out;
  for (size_t i = 0; i < centi.size(); ++i) out.push_back({start + i * kMinute, centi[i]});
  return out;
}

TEST(DeterministicMath, ExpAndLnMatchLibmToTheLastBits) {
  for (double x = -60; x <= 60; x += 0.0137) {
    EXPECT_NEAR(DetExp(x) / std::exp(x), 1.0, 4e-15) << x;
  }
  for (double x = 1e-12; x < 1e12; x *= 1.37) {
    EXPECT_NEAR(DetLn(x), std::log(x), 4e-15 * std::max(1.0, std::fabs(std::log(x)))) << x;
  }
  EXPECT_EQ(DetExp(0), 1.0);
  EXPECT_EQ(DetLn(1), 0.0);
}

TEST(Mkt, FactorIsOneBillionAt25CAndMktOfAConstantIsThatTemperature) {
  EXPECT_EQ(ArrheniusFactor(2500, kDefaultDhR), kFactorScale);
  for (int32_t c : {-2000, 0, 500, 800, 2500, 4000}) {
    EXPECT_NEAR(MktCentiC(ArrheniusFactor(c, kDefaultDhR) * 100, 100, kDefaultDhR), c, 1) << c;
  }
}

TEST(Mkt, AgreesWithTheUspFormulaAndLiesAboveTheArithmeticMean) {
  const std::vector<int32_t> centi = {200, 450, 800, 1250, 300, 2500, 510, 640};
  std::vector<double> celsius;
  uint64_t sum = 0;
  for (int32_t c : centi) {
    celsius.push_back(c / 100.0);
    sum += ArrheniusFactor(c, kDefaultDhR);
  }
  const int32_t mkt = MktCentiC(sum, centi.size(), kDefaultDhR);
  EXPECT_NEAR(mkt, ReferenceMktC(celsius, 10000) * 100, 1);
  EXPECT_GT(mkt, 831);  // the arithmetic mean is 8.31 °C: MKT weighs heat more
  // Another activation energy changes the result, as it should.
  uint64_t sum2 = 0;
  for (int32_t c : centi) sum2 += ArrheniusFactor(c, 5000);
  EXPECT_NEAR(MktCentiC(sum2, centi.size(), 5000), ReferenceMktC(celsius, 5000) * 100, 1);
}

TEST(Summarize, FindsRunsPeaksMinMaxAndTheMerkleRoot) {
  // 2..8 °C: out high at minutes 2-3 (peak 9.40), back at 4; out low at 6 until the end.
  auto r = Readings(kT0, {500, 700, 850, 940, 600, 410, 150, 120});
  auto s = Summarize(kShip, r, 200, 800, kDefaultDhR);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 8u);
  EXPECT_EQ(s->first, kT0);
  EXPECT_EQ(s->last, kT0 + 7 * kMinute);
  EXPECT_EQ(s->min, 120);
  EXPECT_EQ(s->max, 940);
  ASSERT_EQ(s->runs.size(), 2u);
  EXPECT_EQ(s->runs[0], (coldchain::Run{kT0 + 2 * kMinute, kT0 + 4 * kMinute, 940, false}));
  EXPECT_EQ(s->runs[1], (coldchain::Run{kT0 + 6 * kMinute, kT0 + 7 * kMinute, 120, true}));
  std::vector<Hash256> leaves;
  uint64_t sum = 0;
  for (const auto& x : r) {
    leaves.push_back(ReadingLeaf(kShip, x));
    sum += ArrheniusFactor(x.c, kDefaultDhR);
  }
  EXPECT_EQ(s->root, merkle::Root(leaves));
  EXPECT_EQ(s->arrhenius, sum);
  // The payload round-trips and passes the module's own check.
  auto p = AnchorPayload(kShip, 1, *s);
  EXPECT_EQ(SummaryOf(p), *s);
  EXPECT_TRUE(ColdchainModule().Check("anchor", p).ok());
}

TEST(Summarize, RefusesEmptyUnorderedAndImpossibleBatches) {
  EXPECT_FALSE(Summarize(kShip, {}, 200, 800, kDefaultDhR).ok());
  EXPECT_FALSE(Summarize(kShip, {{kT0, 500}, {kT0, 510}}, 200, 800, kDefaultDhR).ok());
  EXPECT_FALSE(Summarize(kShip, {{kT0, 500}, {kT0 - 1, 510}}, 200, 800, kDefaultDhR).ok());
  EXPECT_FALSE(Summarize(kShip, {{kT0, 10001}}, 200, 800, kDefaultDhR).ok());
  EXPECT_FALSE(Summarize(kShip, {{0, 500}}, 200, 800, kDefaultDhR).ok());
}

TEST(Leaf, BindsShipmentTimeAndTemperature) {
  const Reading r{kT0, -1850};
  EXPECT_NE(ReadingLeaf(kShip, r), ReadingLeaf("00000000000000a2", r));
  EXPECT_NE(ReadingLeaf(kShip, r), ReadingLeaf(kShip, {kT0 + 1, -1850}));
  EXPECT_NE(ReadingLeaf(kShip, r), ReadingLeaf(kShip, {kT0, -1851}));
}

// ---- the module on a ledger ----

struct Actors {
  SecretKey maker_admin = Key(30), maker = Key(31);          // pharma-ag, manufacturer
  SecretKey gh_admin = Key(32), wholesaler = Key(33);        // grosshandel, wholesaler
  SecretKey kl_admin = Key(34), carrier = Key(35);           // kuehl-logistik, carrier
  SecretKey logger = Key(36), logger2 = Key(37);             // kuehl-logistik, devices
  SecretKey bfarm_admin = Key(38), regulator = Key(39);      // bfarm, regulator
};

nlohmann::json Genesis() {
  testing::Keys k;
  Actors a;
  nlohmann::json doc = testing::GenesisDoc(k);
  auto org = [&](const std::string& id, const SecretKey& admin) {
    nlohmann::json o = {{"id", id}, {"name", id}, {"admins", {admin.public_key().hex()}}, {"nodes", nlohmann::json::array()}};
    if (id == "pharma-ag") o["gs1_prefixes"] = {"9506000"};
    doc["orgs"].push_back(o);
  };
  auto actor = [&](const SecretKey& key, const std::string& org, const std::string& role) {
    doc["actors"].push_back({{"key", key.public_key().hex()}, {"org", org}, {"role", role}});
  };
  org("pharma-ag", a.maker_admin);
  org("grosshandel", a.gh_admin);
  org("kuehl-logistik", a.kl_admin);
  org("bfarm", a.bfarm_admin);
  actor(a.maker, "pharma-ag", "manufacturer");
  actor(a.wholesaler, "grosshandel", "wholesaler");
  actor(a.carrier, "kuehl-logistik", "carrier");
  actor(a.logger, "kuehl-logistik", "device");
  actor(a.logger2, "kuehl-logistik", "device");
  actor(a.regulator, "bfarm", "regulator");
  return doc;
}

class ColdchainTest : public ::testing::Test {
 protected:
  ColdchainTest() : ledger_(Genesis()) {
    nlohmann::json packs = nlohmann::json::array();
    for (const char* s : {"S1", "S2", "S3"})
      packs.push_back({{"gtin", kGtin}, {"serial", s}, {"batch", "B1"}, {"expiry", "301231"}});
    EXPECT_EQ(ledger_.RunOne(ledger_.Tx(a_.maker, "commission", {{"packs", packs}}, "supply")), TxCode::kOk);
  }

  TxCode Run(const SecretKey& key, const std::string& action, const nlohmann::json& p, std::string* detail = nullptr) {
    return ledger_.RunOne(ledger_.Tx(key, action, p, "coldchain"), detail);
  }
  nlohmann::json CreatePayload(nlohmann::json packs = nullptr) const {
    if (packs.is_null()) packs = {{{"gtin", kGtin}, {"serial", "S1"}}, {{"gtin", kGtin}, {"serial", "S2"}}};
    return {{"shipment", kShip},     {"carrier", "kuehl-logistik"},          {"to", "grosshandel"},
            {"route", "Marburg -> Berlin"}, {"packs", packs},                 {"devices", {a_.logger.public_key().hex()}},
            {"low", 200},            {"high", 800},                          {"max_excursion_s", 1800}};
  }
  // Anchors readings taken every minute from `start` as batch `seq`.
  TxCode AnchorBatch(uint64_t seq, uint64_t start, const std::vector<int32_t>& centi, std::string* detail = nullptr,
                     const SecretKey* key = nullptr) {
    auto s = Summarize(kShip, Readings(start, centi), 200, 800, kDefaultDhR);
    EXPECT_TRUE(s.ok());
    return Run(key ? *key : a_.logger, "anchor", AnchorPayload(kShip, seq, *s), detail);
  }
  nlohmann::json Shipment() const {
    auto q = mod_.Query("shipments/" + kShip, {}, ledger_.state);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? *q : nlohmann::json{};
  }
  std::string Verdict(const std::string& serial) const {
    return supply::Check(ledger_.state, kGtin, serial, "", "", kT0).verdict;
  }

  Actors a_;
  MemLedger ledger_;
  ColdchainModule mod_;
};

TEST_F(ColdchainTest, ExcursionsJoinAcrossBatchesAndBlockTheRelease) {
  auto p = CreatePayload();
  p["max_excursion_s"] = 300;
  ASSERT_EQ(Run(a_.maker, "create", p), TxCode::kOk);
  // Batch 1: in range. Batch 2: leaves the range at minute 12 and is still
  // out at its end. Batch 3: still out for two readings, back at minute 22.
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 510, 520, 530, 540, 550, 560, 570, 580, 590}), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(2, kT0 + 10 * kMinute, {600, 700, 900, 1150, 1000, 950, 900, 880, 860, 850}), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(3, kT0 + 20 * kMinute, {1210, 820, 790, 600}), TxCode::kOk);
  auto s = Shipment();
  ASSERT_EQ(s["loggers"].size(), 1u);
  const auto& lg = s["loggers"][0];
  EXPECT_EQ(lg["batches"], 3);
  EXPECT_EQ(lg["count"], 24);
  ASSERT_EQ(lg["excursions"].size(), 1u);  // one excursion, not two
  EXPECT_EQ(lg["excursions"][0]["from"], kT0 + 12 * kMinute);
  EXPECT_EQ(lg["excursions"][0]["to"], kT0 + 22 * kMinute);
  EXPECT_EQ(lg["excursions"][0]["peak"], 1210);
  EXPECT_EQ(lg["excursions"][0]["open"], false);
  EXPECT_EQ(lg["excursion_ms"], 10 * kMinute);
  EXPECT_EQ(lg["min"], 500);
  EXPECT_EQ(lg["max"], 1210);
  std::vector<double> all;
  for (int32_t c : {500, 510, 520, 530, 540, 550, 560, 570, 580, 590, 600, 700, 900, 1150, 1000, 950, 900, 880, 860,
                    850, 1210, 820, 790, 600})
    all.push_back(c / 100.0);
  EXPECT_NEAR(lg["mkt"].get<double>(), ReferenceMktC(all, 10000) * 100, 1);
  EXPECT_LT(lg["mkt"].get<int>(), 800);  // 7.63 °C: within the MKT limit
  EXPECT_EQ(s["assessment"]["releasable"], false);  // but 600 s out of range, 300 s allowed

  ASSERT_EQ(Run(a_.carrier, "arrive", {{"shipment", kShip}}), TxCode::kOk);
  std::string why;
  EXPECT_EQ(Run(a_.wholesaler, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "ok"}}, &why),
            TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("600 s out of range (the product allows 300 s)"), std::string::npos) << why;
  EXPECT_EQ(Verdict("S1"), supply::kAuthentic);
  ASSERT_EQ(Run(a_.wholesaler, "decide", {{"shipment", kShip}, {"decision", "reject"}, {"reason", "10 min > 8 C"}}),
            TxCode::kOk);
  auto decided = Shipment();
  EXPECT_EQ(decided["status"], "rejected");
  ASSERT_EQ(decided["decision"]["loggers"].size(), 1u);  // what the decision saw, kept with it
  EXPECT_EQ(decided["decision"]["loggers"][0]["excursion_ms"], 10 * kMinute);
  EXPECT_EQ(decided["decision"]["loggers"][0]["mkt"], lg["mkt"]);
  EXPECT_EQ(decided["decision"]["loggers"][0]["count"], 24);
  EXPECT_EQ(Verdict("S1"), supply::kRejectedInTransport);
  EXPECT_EQ(Verdict("S2"), supply::kRejectedInTransport);
  EXPECT_EQ(Verdict("S3"), supply::kAuthentic);  // not in the shipment
  // Nothing more is anchored or decided.
  EXPECT_EQ(AnchorBatch(4, kT0 + 30 * kMinute, {500}), TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(a_.regulator, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "x"}}),
            TxCode::kFailedPrecondition);
}

TEST_F(ColdchainTest, ExcursionTimeBeyondTheProductsLimitBlocksTheRelease) {
  auto p = CreatePayload();
  p["max_excursion_s"] = 120;
  p["mkt_max"] = 2500;  // only the excursion time counts here
  ASSERT_EQ(Run(a_.maker, "create", p), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 850, 860, 870, 500}), TxCode::kOk);  // 3 min out
  ASSERT_EQ(Run(a_.wholesaler, "arrive", {{"shipment", kShip}}), TxCode::kOk);
  std::string why;
  EXPECT_EQ(Run(a_.regulator, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "ok"}}, &why),
            TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("180 s out of range"), std::string::npos) << why;
}

TEST_F(ColdchainTest, AnMktAboveTheProductsLimitBlocksTheRelease) {
  auto p = CreatePayload();
  p["mkt_max"] = 600;  // a product labelled "store below 6 °C", shipped at 2..8 °C
  ASSERT_EQ(Run(a_.maker, "create", p), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(1, kT0, {590, 600, 610, 620}), TxCode::kOk);  // in range, MKT 6.05 °C
  ASSERT_EQ(Run(a_.wholesaler, "arrive", {{"shipment", kShip}}), TxCode::kOk);
  auto s = Shipment();
  EXPECT_EQ(s["loggers"][0]["excursion_ms"], 0);
  EXPECT_EQ(s["loggers"][0]["mkt"], 605);
  std::string why;
  EXPECT_EQ(Run(a_.wholesaler, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "ok"}}, &why),
            TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("mean kinetic temperature above the product's limit"), std::string::npos) << why;
}

TEST_F(ColdchainTest, AShipmentWithinLimitsIsReleasedAndItsPacksMayTravelAgain) {
  ASSERT_EQ(Run(a_.maker, "create", CreatePayload()), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 520, 810, 540}), TxCode::kOk);  // one minute at 8.10 °C
  EXPECT_EQ(Shipment()["assessment"]["releasable"], true);
  std::string why;
  EXPECT_EQ(Run(a_.wholesaler, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "ok"}}, &why),
            TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("arrival"), std::string::npos);
  ASSERT_EQ(Run(a_.wholesaler, "arrive", {{"shipment", kShip}}), TxCode::kOk);
  EXPECT_EQ(Run(a_.wholesaler, "arrive", {{"shipment", kShip}}), TxCode::kFailedPrecondition);
  ASSERT_EQ(Run(a_.wholesaler, "decide", {{"shipment", kShip}, {"decision", "release"}, {"reason", "in range"}}),
            TxCode::kOk);
  auto s = Shipment();
  EXPECT_EQ(s["status"], "released");
  EXPECT_EQ(s["decision"]["by"], a_.wholesaler.public_key().hex());
  EXPECT_EQ(Verdict("S1"), supply::kAuthentic);
  auto again = CreatePayload();
  again["shipment"] = "00000000000000b2";
  EXPECT_EQ(Run(a_.maker, "create", again), TxCode::kOk);
}

TEST_F(ColdchainTest, ALoggerThatSentNothingBlocksTheRelease) {
  auto p = CreatePayload();
  p["devices"] = {a_.logger.public_key().hex(), a_.logger2.public_key().hex()};
  ASSERT_EQ(Run(a_.maker, "create", p), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 520}), TxCode::kOk);
  auto s = Shipment();
  EXPECT_EQ(s["assessment"]["releasable"], false);
  EXPECT_NE(s["assessment"]["reasons"][0].get<std::string>().find("sent no readings"), std::string::npos);
  // The second logger keeps its own sequence.
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 520}, nullptr, &a_.logger2), TxCode::kOk);
  EXPECT_EQ(Shipment()["assessment"]["releasable"], true);
}

TEST_F(ColdchainTest, RefusesBadBatchesAndChangesNothing) {
  ASSERT_EQ(Run(a_.maker, "create", CreatePayload()), TxCode::kOk);
  ASSERT_EQ(AnchorBatch(1, kT0, {500, 510}), TxCode::kOk);
  const auto before = Shipment();
  std::string why;
  EXPECT_EQ(AnchorBatch(1, kT0 + 5 * kMinute, {500}), TxCode::kFailedPrecondition);  // seq again
  EXPECT_EQ(AnchorBatch(3, kT0 + 5 * kMinute, {500}), TxCode::kFailedPrecondition);  // seq skipped
  EXPECT_EQ(AnchorBatch(2, kT0 + kMinute, {500}, &why), TxCode::kInvalidPayload);     // overlaps batch 1
  EXPECT_NE(why.find("out of order"), std::string::npos);
  EXPECT_EQ(AnchorBatch(2, kT0 + 5 * kMinute, {500}, nullptr, &a_.logger2), TxCode::kUnauthorized);  // not listed
  EXPECT_EQ(AnchorBatch(2, kT0 + 5 * kMinute, {500}, nullptr, &a_.carrier), TxCode::kUnauthorized);
  // A summary that hides its excursion, or lies about its factors.
  auto s = *Summarize(kShip, Readings(kT0 + 5 * kMinute, {500, 950, 500}), 200, 800, kDefaultDhR);
  auto hidden = AnchorPayload(kShip, 2, s);
  hidden.erase("runs");
  EXPECT_EQ(Run(a_.logger, "anchor", hidden), TxCode::kInvalidPayload);
  auto cold = AnchorPayload(kShip, 2, s);
  cold["arrhenius"] = 3 * ArrheniusFactor(500, kDefaultDhR) - 10;
  EXPECT_EQ(Run(a_.logger, "anchor", cold), TxCode::kInvalidPayload);
  auto inside = AnchorPayload(kShip, 2, s);
  inside["runs"][0]["peak"] = 500;
  inside["min"] = 500;
  EXPECT_EQ(Run(a_.logger, "anchor", inside), TxCode::kInvalidPayload);
  EXPECT_EQ(Shipment(), before);
  EXPECT_EQ(Run(a_.logger, "anchor", AnchorPayload(kShip, 2, s)), TxCode::kOk);
}

TEST_F(ColdchainTest, RefusesShipmentsOfOthersPacksAndWrongParties) {
  std::string why;
  auto p = CreatePayload();
  p["to"] = "st-marien-hospital";
  EXPECT_EQ(Run(a_.wholesaler, "create", p, &why), TxCode::kFailedPrecondition);  // not its packs
  EXPECT_NE(why.find("not an active pack of grosshandel"), std::string::npos) << why;
  EXPECT_EQ(Run(a_.carrier, "create", CreatePayload()), TxCode::kUnauthorized);
  p = CreatePayload();
  p["devices"] = {a_.carrier.public_key().hex()};  // an actor, but not a device
  EXPECT_EQ(Run(a_.maker, "create", p), TxCode::kNotFound);
  p = CreatePayload({{{"gtin", kGtin}, {"serial", "NEVER"}}});
  EXPECT_EQ(Run(a_.maker, "create", p), TxCode::kNotFound);
  p = CreatePayload();
  p["to"] = "pharma-ag";
  EXPECT_EQ(Run(a_.maker, "create", p), TxCode::kInvalidPayload);
  ASSERT_EQ(Run(a_.maker, "create", CreatePayload()), TxCode::kOk);
  EXPECT_EQ(Run(a_.maker, "create", CreatePayload()), TxCode::kAlreadyExists);
  p = CreatePayload();
  p["shipment"] = "00000000000000b2";
  EXPECT_EQ(Run(a_.maker, "create", p, &why), TxCode::kFailedPrecondition);  // S1 travels already
  EXPECT_NE(why.find("another shipment"), std::string::npos);
  EXPECT_EQ(Run(a_.maker, "arrive", {{"shipment", kShip}}), TxCode::kUnauthorized);  // the sender
  ASSERT_EQ(Run(a_.carrier, "arrive", {{"shipment", kShip}}), TxCode::kOk);
  EXPECT_EQ(Run(a_.carrier, "decide", {{"shipment", kShip}, {"decision", "reject"}, {"reason", "x"}}),
            TxCode::kUnauthorized);
  EXPECT_EQ(Run(a_.maker, "decide", {{"shipment", kShip}, {"decision", "reject"}, {"reason", "x"}}),
            TxCode::kUnauthorized);
}

TEST(ColdchainCheck, RefusesMalformedPayloads) {
  ColdchainModule m;
  nlohmann::json create = {{"shipment", kShip}, {"carrier", "c"}, {"to", "t"}, {"route", "r"},
                           {"packs", {{{"gtin", kGtin}, {"serial", "S1"}}}},
                           {"devices", {std::string(64, 'a')}}, {"low", 200}, {"high", 800}, {"max_excursion_s", 60u}};
  EXPECT_TRUE(m.Check("create", create).ok()) << m.Check("create", create).ToString();
  auto bad = create;
  bad["low"] = 800;
  EXPECT_FALSE(m.Check("create", bad).ok());
  bad = create;
  bad["packs"][0]["gtin"] = "09506000134353";  // wrong check digit
  EXPECT_FALSE(m.Check("create", bad).ok());
  bad = create;
  bad.erase("packs");
  EXPECT_FALSE(m.Check("create", bad).ok());
  bad = create;
  bad["high"] = 10001;
  EXPECT_FALSE(m.Check("create", bad).ok());

  auto s = *Summarize(kShip, Readings(kT0, {500, 950, 960, 500, 100}), 200, 800, kDefaultDhR);
  auto anchor = AnchorPayload(kShip, 1, s);
  ASSERT_TRUE(m.Check("anchor", anchor).ok());
  auto b = anchor;
  b["runs"][0]["open"] = true;  // only the last run may be open
  EXPECT_FALSE(m.Check("anchor", b).ok());
  b = anchor;
  std::swap(b["runs"][0], b["runs"][1]);  // out of order
  EXPECT_FALSE(m.Check("anchor", b).ok());
  b = anchor;
  b["last"] = kT0 + 2;  // 5 readings cannot fit in 3 ms
  EXPECT_FALSE(m.Check("anchor", b).ok());
  b = anchor;
  b["min"] = 600;  // above a run's peak
  EXPECT_FALSE(m.Check("anchor", b).ok());
  EXPECT_FALSE(m.Check("teleport", anchor).ok());
}

}  // namespace
}  // namespace cc::coldchain

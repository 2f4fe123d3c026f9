#include "apps/supply/supply.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "apps/supply/gs1.h"
#include "testing/test_util.h"

namespace cc::supply {
namespace {

using testing::Key;
using testing::MemLedger;

// Block times of MemLedger are 1700000000000 + height: 2023-11-14 (UTC day 19675).
constexpr uint64_t kDayMs = 86'400'000ull;
constexpr uint64_t kEndOf2026 = 1798761600000ull;  // 2027-01-01T00:00:00Z

// A GTIN-14 from its first 13 digits.
std::string Gtin(const std::string& first13) { return first13 + GtinCheckDigit(first13); }

// Pharma AG holds the company prefix 9506000, Generika GmbH 4006381.
const std::string kGtinA = "09506000134352";  // GS1's own example GTIN
const std::string kGtinB = Gtin("0950600012345");
const std::string kGtinNever = Gtin("0950600099999");  // under the prefix, never commissioned
const std::string kGtinGenerika = "04006381333931";    // EAN-13 4006381333931

std::string Id(unsigned n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032x", n);
  return buf;
}

struct SupplyKeys {
  SecretKey pharma_admin = Key(20);
  SecretKey maker = Key(21);  // manufacturer at pharma-ag
  SecretKey generika_admin = Key(22);
  SecretKey generika = Key(23);  // manufacturer at generika-gmbh
  SecretKey grosshandel_admin = Key(24);
  SecretKey wholesaler = Key(25);  // wholesaler at grosshandel
  SecretKey bfarm_admin = Key(26);
  SecretKey regulator = Key(27);  // regulator at bfarm
  SecretKey stadt_admin = Key(28);
  SecretKey stadt = Key(29);  // pharmacist at stadt-apotheke
};

nlohmann::json Org(const std::string& id, const SecretKey& admin,
                   nlohmann::json prefixes = nullptr) {
  nlohmann::json o = {{"id", id},
                      {"name", id},
                      {"admins", {admin.public_key().hex()}},
                      {"nodes", nlohmann::json::array()}};
  if (!prefixes.is_null()) o["gs1_prefixes"] = prefixes;
  return o;
}

nlohmann::json Actor(const SecretKey& key, const std::string& org, const std::string& role) {
  return {{"key", key.public_key().hex()}, {"org", org}, {"role", role}};
}

nlohmann::json GenesisWithSupply(nlohmann::json pharma_prefixes = {"9506000"},
                                 nlohmann::json generika_prefixes = {"4006381"}) {
  testing::Keys k;
  SupplyKeys s;
  nlohmann::json doc = testing::GenesisDoc(k);
  doc["orgs"].push_back(Org("pharma-ag", s.pharma_admin, pharma_prefixes));
  doc["orgs"].push_back(Org("generika-gmbh", s.generika_admin, generika_prefixes));
  doc["orgs"].push_back(Org("grosshandel", s.grosshandel_admin));
  doc["orgs"].push_back(Org("bfarm", s.bfarm_admin));
  doc["orgs"].push_back(Org("stadt-apotheke", s.stadt_admin));
  doc["actors"].push_back(Actor(s.maker, "pharma-ag", "manufacturer"));
  doc["actors"].push_back(Actor(s.generika, "generika-gmbh", "manufacturer"));
  doc["actors"].push_back(Actor(s.wholesaler, "grosshandel", "wholesaler"));
  doc["actors"].push_back(Actor(s.regulator, "bfarm", "regulator"));
  doc["actors"].push_back(Actor(s.stadt, "stadt-apotheke", "pharmacist"));
  return doc;
}

nlohmann::json PackJ(const std::string& gtin, const std::string& serial,
                     const std::string& batch = "B1", const std::string& expiry = "281231") {
  return {{"gtin", gtin}, {"serial", serial}, {"batch", batch}, {"expiry", expiry}};
}
nlohmann::json Ref(const std::string& gtin, const std::string& serial) {
  return {{"gtin", gtin}, {"serial", serial}};
}

// A JSON list (a braced single JSON value would be copied, not listed).
template <class... T>
nlohmann::json List(const T&... items) {
  nlohmann::json out = nlohmann::json::array();
  (out.push_back(items), ...);
  return out;
}

// The keys of `writes` under supply/.
std::vector<std::string> SupplyWrites(const WriteSet& writes) {
  std::vector<std::string> out;
  for (const auto& [k, v] : writes) {
    if (k.starts_with("supply/")) out.push_back(k);
  }
  return out;
}

class SupplyTest : public ::testing::Test {
 protected:
  SupplyTest() : ledger_(GenesisWithSupply()) {}

  const testing::Keys& k() const { return ledger_.net.keys; }

  TxCode Run(const SecretKey& key, const std::string& action, const nlohmann::json& p,
             std::string* detail = nullptr) {
    return ledger_.RunOne(ledger_.Tx(key, action, p, "supply"), detail);
  }
  // Runs one transaction as a block; the block's execution (writes and result).
  BlockExecution RunBlock(const SecretKey& key, const std::string& action,
                          const nlohmann::json& p) {
    auto e = ledger_.Run({ledger_.Tx(key, action, p, "supply")});
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : BlockExecution{};
  }
  TxCode Commission(const SecretKey& key, const nlohmann::json& packs,
                    std::string* detail = nullptr) {
    return Run(key, "commission", {{"packs", packs}}, detail);
  }
  // Offers `packs` (refs) from `from` to `org` and accepts them by `to`.
  void Ship(const SecretKey& from, const SecretKey& to, const std::string& org,
            const nlohmann::json& packs) {
    const std::string t = Id(++transfers_);
    ASSERT_EQ(Run(from, "transfer", {{"transfer", t}, {"to", org}, {"packs", packs}}), TxCode::kOk);
    ASSERT_EQ(Run(to, "accept", {{"transfer", t}}), TxCode::kOk);
  }
  // Commissions packs of kGtinA at pharma-ag and ships them to the Apotheke am Markt.
  void PacksAtPharmacy(const nlohmann::json& packs) {
    ASSERT_EQ(Commission(s_.maker, packs), TxCode::kOk);
    nlohmann::json refs = nlohmann::json::array();
    for (const auto& p : packs) refs.push_back(Ref(p["gtin"], p["serial"]));
    Ship(s_.maker, k().pharmacist, "apotheke-am-markt", refs);
  }

  Result<nlohmann::json> Query(const std::string& path, const QueryParams& params = {}) const {
    return mod_.Query(path, params, ledger_.state);
  }
  nlohmann::json Pack(const std::string& gtin, const std::string& serial) const {
    auto r = Query("packs/" + gtin + "/" + serial);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nlohmann::json();
  }
  bool HasPack(const std::string& gtin, const std::string& serial) const {
    return Query("packs/" + gtin + "/" + serial).ok();
  }
  nlohmann::json Alarms(const std::string& org = "") const {
    QueryParams p;
    if (!org.empty()) p["org"] = org;
    auto r = Query("alarms", p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["alarms"] : nlohmann::json();
  }
  std::string Verify(const SecretKey& key, const nlohmann::json& p) {
    std::string detail;
    EXPECT_EQ(Run(key, "verify", p, &detail), TxCode::kOk) << detail;
    return detail;
  }
  std::vector<std::string> EventTypes(const std::string& gtin, const std::string& serial) const {
    std::vector<std::string> out;
    const nlohmann::json p = Pack(gtin, serial);
    for (const auto& e : p["history"]) out.push_back(e["type"]);
    return out;
  }

  SupplyKeys s_;
  MemLedger ledger_;
  SupplyModule mod_;
  unsigned transfers_ = 1000;
};

// ---- Genesis --------------------------------------------------------------

TEST(SupplyGenesis, PrefixesFromGenesisAreAssigned) {
  MemLedger ledger(GenesisWithSupply({"9506000", "50123456"}));
  SupplyModule m;
  auto a = m.Query("prefixes/9506000", {}, ledger.state);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)["org"], "pharma-ag");
  EXPECT_EQ((*a)["prefix"], "9506000");
  auto b = m.Query("prefixes/50123456", {}, ledger.state);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["org"], "pharma-ag");
  auto c = m.Query("prefixes/4006381", {}, ledger.state);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["org"], "generika-gmbh");
  EXPECT_EQ(m.Query("prefixes/950600", {}, ledger.state).status().code(), Code::kNotFound);
  EXPECT_EQ(m.Query("prefixes/95060001", {}, ledger.state).status().code(), Code::kNotFound);
}

TEST(SupplyGenesis, MalformedOrDuplicatePrefixesAreRefused) {
  auto genesis = [](nlohmann::json pharma, nlohmann::json generika = {"4006381"}) {
    testing::Network net(GenesisWithSupply(std::move(pharma), std::move(generika)));
    MemState empty;
    return net.executor->ExecuteGenesis(empty).status();
  };
  EXPECT_TRUE(genesis({"9506000"}).ok());
  EXPECT_TRUE(genesis({"950600", "123456789012"}).ok());  // 6 and 12 digits
  for (const nlohmann::json& bad :
       {nlohmann::json{"95060"}, nlohmann::json{"9506000000000"}, nlohmann::json{"95060a0"},
        nlohmann::json{" 950600"}, nlohmann::json{""}, nlohmann::json{9506000},
        nlohmann::json("9506000"), nlohmann::json::object()}) {
    Status st = genesis(bad);
    EXPECT_FALSE(st.ok()) << bad.dump();
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad.dump();
  }
  Status twice = genesis({"9506000", "9506000"});
  EXPECT_FALSE(twice.ok());
  EXPECT_NE(twice.message().find("assigned already"), std::string::npos) << twice.message();
  Status two_orgs = genesis({"9506000"}, {"4006381", "9506000"});
  EXPECT_FALSE(two_orgs.ok());
  EXPECT_NE(two_orgs.message().find("assigned already"), std::string::npos) << two_orgs.message();
  // Overlapping prefixes of two organisations, in either order: a GTIN
  // under the longer one would have two owners.
  Status shorter_first = genesis({"950600"}, {"9506001"});
  EXPECT_FALSE(shorter_first.ok());
  EXPECT_NE(shorter_first.message().find("assigned already"), std::string::npos) << shorter_first.message();
  Status longer_first = genesis({"9506001"}, {"950600"});
  EXPECT_FALSE(longer_first.ok());
  EXPECT_NE(longer_first.message().find("longer prefix"), std::string::npos) << longer_first.message();
}

// ---- assign_prefix ----------------------------------------------------------

TEST_F(SupplyTest, OnlyARegulatorAssignsPrefixes) {
  const nlohmann::json p = {{"prefix", "7612345"}, {"org", "generika-gmbh"}};
  EXPECT_EQ(Run(s_.maker, "assign_prefix", p), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.generika, "assign_prefix", p), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.bfarm_admin, "assign_prefix", p), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().pharmacist, "assign_prefix", p), TxCode::kUnauthorized);
  EXPECT_EQ(Query("prefixes/7612345").status().code(), Code::kNotFound);
  // Generika cannot commission under the prefix until it is assigned.
  const std::string g = Gtin("0761234500001");
  EXPECT_EQ(Commission(s_.generika, List(PackJ(g, "S1"))), TxCode::kUnauthorized);

  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "7612345"}, {"org", "no-such-org"}}),
            TxCode::kNotFound);
  EXPECT_EQ(Query("prefixes/7612345").status().code(), Code::kNotFound);
  ASSERT_EQ(Run(s_.regulator, "assign_prefix", p), TxCode::kOk);
  auto q = Query("prefixes/7612345");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["org"], "generika-gmbh");
  EXPECT_EQ(Commission(s_.generika, List(PackJ(g, "S1"))), TxCode::kOk);
  EXPECT_EQ(Commission(s_.maker, List(PackJ(g, "S2"))), TxCode::kUnauthorized);
}

TEST_F(SupplyTest, OverlappingPrefixesAreRefusedBothWays) {
  std::string why;
  // Pharma AG holds 9506000: a longer one starting with it...
  EXPECT_EQ(
      Run(s_.regulator, "assign_prefix", {{"prefix", "95060001"}, {"org", "generika-gmbh"}}, &why),
      TxCode::kAlreadyExists);
  EXPECT_NE(why.find("9506000"), std::string::npos) << why;
  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "950600012345"}, {"org", "pharma-ag"}}),
            TxCode::kAlreadyExists);
  // ...a shorter one that starts it...
  EXPECT_EQ(
      Run(s_.regulator, "assign_prefix", {{"prefix", "950600"}, {"org", "generika-gmbh"}}, &why),
      TxCode::kAlreadyExists);
  EXPECT_NE(why.find("longer"), std::string::npos) << why;
  // ...and the same one.
  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "9506000"}, {"org", "generika-gmbh"}}),
            TxCode::kAlreadyExists);
  for (const char* p : {"95060001", "950600012345", "950600"})
    EXPECT_EQ(Query(std::string("prefixes/") + p).status().code(), Code::kNotFound) << p;
  auto q = Query("prefixes/9506000");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["org"], "pharma-ag");
  // Neighbours that do not overlap are fine, in both directions.
  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "9506001"}, {"org", "generika-gmbh"}}),
            TxCode::kOk);
  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "95059999"}, {"org", "generika-gmbh"}}),
            TxCode::kOk);
  EXPECT_EQ(Run(s_.regulator, "assign_prefix", {{"prefix", "950599"}, {"org", "pharma-ag"}}),
            TxCode::kAlreadyExists);
}

TEST_F(SupplyTest, CheckRefusesMalformedPayloads) {
  const auto& m = mod_;
  EXPECT_TRUE(m.Check("assign_prefix", {{"prefix", "123456"}, {"org", "x"}}).ok());
  EXPECT_FALSE(m.Check("assign_prefix", {{"prefix", "12345"}, {"org", "x"}}).ok());
  EXPECT_FALSE(m.Check("assign_prefix", {{"prefix", "1234567890123"}, {"org", "x"}}).ok());
  EXPECT_FALSE(m.Check("assign_prefix", {{"prefix", "12345a"}, {"org", "x"}}).ok());
  EXPECT_FALSE(m.Check("assign_prefix", {{"prefix", "123456"}, {"org", "X Y"}}).ok());

  auto commission = [&](nlohmann::json pack) { return m.Check("commission", {{"packs", {pack}}}); };
  EXPECT_TRUE(commission(PackJ(kGtinA, "S1")).ok());
  EXPECT_TRUE(commission(PackJ("4006381333931", "S1")).ok());  // GTIN-13
  Status wrong = commission(PackJ("09506000134353", "S1"));
  EXPECT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("check digit"), std::string::npos) << wrong.message();
  EXPECT_FALSE(commission(PackJ("0950600013435", "S1")).ok());  // 13 digits, wrong check digit
  EXPECT_FALSE(commission(PackJ("0950600013435x", "S1")).ok());
  EXPECT_FALSE(commission(PackJ(kGtinA, "S 1")).ok());  // space: not set 82
  EXPECT_FALSE(commission(PackJ(kGtinA, std::string(21, 'S'))).ok());
  EXPECT_FALSE(commission(PackJ(kGtinA, "S1", "B 1")).ok());
  EXPECT_FALSE(commission(PackJ(kGtinA, "S1", "B1", "281332")).ok());  // month 13
  EXPECT_FALSE(commission(PackJ(kGtinA, "S1", "B1", "230230")).ok());  // 30 February
  EXPECT_FALSE(commission(PackJ(kGtinA, "S1", "B1", "2812")).ok());
  nlohmann::json no_batch = PackJ(kGtinA, "S1");
  no_batch.erase("batch");
  EXPECT_FALSE(commission(no_batch).ok());
  nlohmann::json no_expiry = PackJ(kGtinA, "S1");
  no_expiry.erase("expiry");
  EXPECT_FALSE(commission(no_expiry).ok());
  EXPECT_FALSE(m.Check("commission", {{"packs", nlohmann::json::array()}}).ok());

  EXPECT_TRUE(
      m.Check("transfer", {{"transfer", Id(1)}, {"to", "x"}, {"packs", List(Ref(kGtinA, "S1"))}})
          .ok());
  EXPECT_FALSE(
      m.Check("transfer", {{"transfer", Id(1)}, {"to", "x"}}).ok());  // neither packs nor cases
  EXPECT_FALSE(
      m.Check("transfer", {{"transfer", Id(1)}, {"to", "x"}, {"cases", {Id(2), Id(2)}}}).ok());
  EXPECT_FALSE(
      m.Check("transfer",
              {{"transfer", Id(1)}, {"to", "x"}, {"packs", List(Ref("09506000134353", "S"))}})
          .ok());
  EXPECT_FALSE(m.Check("dispense", {{"gtin", "09506000134353"}, {"serial", "S1"}}).ok());
  EXPECT_FALSE(m.Check("verify", {{"gtin", kGtinA}, {"serial", "S1"}, {"expiry", "281299"}}).ok());
  EXPECT_FALSE(
      m.Check("recall", {{"gtin", "09506000134353"}, {"batch", "B1"}, {"reason", "r"}}).ok());
  EXPECT_FALSE(m.Check("nope", nlohmann::json::object()).ok());
}

// ---- commission -------------------------------------------------------------

TEST_F(SupplyTest, OnlyAManufacturerCommissions) {
  for (const SecretKey* key : std::vector<const SecretKey*>{
           &k().pharmacist, &s_.wholesaler, &s_.regulator, &s_.pharma_admin, &k().doctor})
    EXPECT_EQ(Commission(*key, List(PackJ(kGtinA, "S1"))), TxCode::kUnauthorized);
  EXPECT_FALSE(HasPack(kGtinA, "S1"));
  ASSERT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S1", "LOT-7", "281130"))), TxCode::kOk);
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["gtin"], kGtinA);
  EXPECT_EQ(p["serial"], "S1");
  EXPECT_EQ(p["batch"], "LOT-7");
  EXPECT_EQ(p["expiry"], "281130");
  EXPECT_EQ(p["manufacturer"], "pharma-ag");
  EXPECT_EQ(p["owner"], "pharma-ag");
  EXPECT_EQ(p["status"], "active");
  EXPECT_EQ(p["verdict"], "authentic");
  ASSERT_EQ(p["history"].size(), 1u);
  EXPECT_EQ(p["history"][0]["type"], "commissioned");
  EXPECT_EQ(p["history"][0]["org"], "pharma-ag");
  EXPECT_EQ(p["history"][0]["actor"], s_.maker.public_key().hex());
}

TEST_F(SupplyTest, CommissionIsOnlyUnderTheOrgsOwnPrefix) {
  std::string why;
  auto e = RunBlock(s_.generika, "commission", {{"packs", List(PackJ(kGtinA, "S1"))}});
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kUnauthorized);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_FALSE(HasPack(kGtinA, "S1"));
  // A GTIN under no prefix at all.
  EXPECT_EQ(Commission(s_.maker, List(PackJ(Gtin("0123456789012"), "S1"))), TxCode::kUnauthorized);
  // One foreign GTIN refuses the whole list.
  e = RunBlock(s_.maker, "commission",
               {{"packs", {PackJ(kGtinA, "S1"), PackJ(kGtinGenerika, "S2")}}});
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kUnauthorized);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_FALSE(HasPack(kGtinA, "S1"));
  // An unknown product stays unknown.
  auto c = Query("check", {{"code", ToHumanReadable({kGtinA, "S1", "", ""})}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["verdict"], "unknown_product");
  EXPECT_EQ(Commission(s_.generika, List(PackJ(kGtinGenerika, "S2"))), TxCode::kOk);
}

TEST_F(SupplyTest, AWrongCheckDigitRefusesTheBlock) {
  const std::string wrong =
      kGtinA.substr(0, 13) + static_cast<char>(kGtinA[13] == '9' ? '0' : kGtinA[13] + 1);
  auto e = ledger_.Run(
      {ledger_.Tx(s_.maker, "commission", {{"packs", List(PackJ(wrong, "S1"))}}, "supply")});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("check digit"), std::string::npos) << e.status().ToString();
  EXPECT_EQ(ledger_.height, 0u);
  EXPECT_FALSE(HasPack(kGtinA, "S1"));
}

TEST_F(SupplyTest, DuplicateSerialsAreRefusedAndTheBatchWritesNothing) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2")}), TxCode::kOk);
  EXPECT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S1", "B2"))), TxCode::kAlreadyExists);
  EXPECT_EQ(Pack(kGtinA, "S1")["batch"], "B1");
  // The same serial under another GTIN is another pack.
  EXPECT_EQ(Commission(s_.maker, List(PackJ(kGtinB, "S1"))), TxCode::kOk);
  // A duplicate later in the list refuses the whole list...
  auto e = RunBlock(s_.maker, "commission",
                    {{"packs", {PackJ(kGtinA, "S3"), PackJ(kGtinA, "S4"), PackJ(kGtinA, "S1")}}});
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kAlreadyExists);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_FALSE(HasPack(kGtinA, "S3"));
  EXPECT_FALSE(HasPack(kGtinA, "S4"));
  // ...and so does a serial listed twice in one transaction.
  e = RunBlock(s_.maker, "commission",
               {{"packs", {PackJ(kGtinA, "S5"), PackJ(kGtinA, "S6"), PackJ(kGtinA, "S5", "B2")}}});
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kAlreadyExists);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_FALSE(HasPack(kGtinA, "S5"));
  EXPECT_FALSE(HasPack(kGtinA, "S6"));
  // The first pack's history holds only its commissioning.
  EXPECT_EQ(EventTypes(kGtinA, "S1"), std::vector<std::string>{"commissioned"});
}

TEST_F(SupplyTest, Gtin13IsStoredAsGtin14) {
  ASSERT_EQ(Commission(s_.generika, List(PackJ("4006381333931", "S1"))), TxCode::kOk);
  nlohmann::json p = Pack(kGtinGenerika, "S1");
  EXPECT_EQ(p["gtin"], kGtinGenerika);
  EXPECT_EQ(p["manufacturer"], "generika-gmbh");
  EXPECT_EQ(Pack("4006381333931", "S1")["gtin"], kGtinGenerika);  // the query takes GTIN-13 too
  // Either form names the same pack.
  EXPECT_EQ(Commission(s_.generika, List(PackJ(kGtinGenerika, "S1"))), TxCode::kAlreadyExists);
  auto c = Query("check", {{"code", "(01)" + kGtinGenerika + "(21)S1"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["verdict"], "authentic");
}

// ---- transfer / accept / cancel ---------------------------------------------

TEST_F(SupplyTest, PacksMoveFromManufacturerToWholesalerToPharmacy) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2")}), TxCode::kOk);
  const std::string t1 = Id(1), t2 = Id(2);
  ASSERT_EQ(Run(s_.maker, "transfer",
                {{"transfer", t1}, {"to", "grosshandel"}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kOk);
  auto t = Query("transfers/" + t1);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["status"], "offered");
  EXPECT_EQ((*t)["from"], "pharma-ag");
  EXPECT_EQ((*t)["to"], "grosshandel");
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["owner"], "pharma-ag");  // not moved before it is accepted
  EXPECT_EQ(p["transfer"], t1);

  ASSERT_EQ(Run(s_.wholesaler, "accept", {{"transfer", t1}}), TxCode::kOk);
  p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["owner"], "grosshandel");
  EXPECT_FALSE(p.contains("transfer"));
  EXPECT_EQ(p["manufacturer"], "pharma-ag");
  EXPECT_EQ((*Query("transfers/" + t1))["status"], "accepted");
  EXPECT_EQ(Pack(kGtinA, "S2")["owner"], "pharma-ag");
  EXPECT_EQ(Run(s_.wholesaler, "accept", {{"transfer", t1}}), TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(s_.maker, "cancel", {{"transfer", t1}}), TxCode::kFailedPrecondition);

  ASSERT_EQ(
      Run(s_.wholesaler, "transfer",
          {{"transfer", t2}, {"to", "apotheke-am-markt"}, {"packs", List(Ref(kGtinA, "S1"))}}),
      TxCode::kOk);
  ASSERT_EQ(Run(k().pharmacist, "accept", {{"transfer", t2}}), TxCode::kOk);
  p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["owner"], "apotheke-am-markt");
  ASSERT_EQ(p["history"].size(), 3u);
  EXPECT_EQ(p["history"][0]["type"], "commissioned");
  EXPECT_EQ(p["history"][1]["type"], "transferred");
  EXPECT_EQ(p["history"][1]["from"], "pharma-ag");
  EXPECT_EQ(p["history"][1]["to"], "grosshandel");
  EXPECT_EQ(p["history"][1]["transfer"], t1);
  EXPECT_EQ(p["history"][2]["type"], "transferred");
  EXPECT_EQ(p["history"][2]["from"], "grosshandel");
  EXPECT_EQ(p["history"][2]["to"], "apotheke-am-markt");
  EXPECT_EQ(p["history"][2]["actor"], k().pharmacist.public_key().hex());
  // The wholesaler no longer owns it.
  EXPECT_EQ(
      Run(s_.wholesaler, "transfer",
          {{"transfer", Id(3)}, {"to", "stadt-apotheke"}, {"packs", List(Ref(kGtinA, "S1"))}}),
      TxCode::kUnauthorized);
}

TEST_F(SupplyTest, TransferRules) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2")}), TxCode::kOk);
  auto offer = [&](const SecretKey& key, const std::string& id, const std::string& to,
                   nlohmann::json packs) {
    return Run(key, "transfer", {{"transfer", id}, {"to", to}, {"packs", packs}});
  };
  // Not the owner (of the same or another role).
  EXPECT_EQ(offer(s_.wholesaler, Id(1), "apotheke-am-markt", List(Ref(kGtinA, "S1"))),
            TxCode::kUnauthorized);
  EXPECT_EQ(offer(s_.generika, Id(1), "grosshandel", List(Ref(kGtinA, "S1"))),
            TxCode::kUnauthorized);
  EXPECT_EQ(offer(s_.regulator, Id(1), "grosshandel", List(Ref(kGtinA, "S1"))),
            TxCode::kUnauthorized);
  EXPECT_EQ(offer(s_.maker, Id(1), "grosshandel", List(Ref(kGtinA, "S9"))), TxCode::kNotFound);
  EXPECT_EQ(offer(s_.maker, Id(1), "pharma-ag", List(Ref(kGtinA, "S1"))), TxCode::kInvalidPayload);
  EXPECT_EQ(offer(s_.maker, Id(1), "no-such-org", List(Ref(kGtinA, "S1"))), TxCode::kNotFound);
  EXPECT_FALSE(Query("transfers/" + Id(1)).ok());
  EXPECT_FALSE(Pack(kGtinA, "S1").contains("transfer"));

  ASSERT_EQ(offer(s_.maker, Id(1), "grosshandel", List(Ref(kGtinA, "S1"))), TxCode::kOk);
  // A pack in a pending transfer cannot be offered again, alone or with others.
  EXPECT_EQ(offer(s_.maker, Id(2), "stadt-apotheke", List(Ref(kGtinA, "S1"))),
            TxCode::kFailedPrecondition);
  auto e = RunBlock(s_.maker, "transfer",
                    {{"transfer", Id(2)},
                     {"to", "stadt-apotheke"},
                     {"packs", {Ref(kGtinA, "S2"), Ref(kGtinA, "S1")}}});
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kFailedPrecondition);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_FALSE(Pack(kGtinA, "S2").contains("transfer"));
  EXPECT_EQ(Pack(kGtinA, "S1")["transfer"], Id(1));
  // A transfer id is used once.
  EXPECT_EQ(offer(s_.maker, Id(1), "stadt-apotheke", List(Ref(kGtinA, "S2"))),
            TxCode::kAlreadyExists);
  // The same pack twice in one offer.
  EXPECT_EQ(offer(s_.maker, Id(3), "stadt-apotheke", {Ref(kGtinA, "S2"), Ref(kGtinA, "S2")}),
            TxCode::kFailedPrecondition);
  EXPECT_EQ(offer(s_.maker, Id(3), "stadt-apotheke", List(Ref(kGtinA, "S2"))), TxCode::kOk);
}

TEST_F(SupplyTest, OnlyTheReceiverAcceptsAndOnlyTheSenderCancels) {
  ASSERT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S1"))), TxCode::kOk);
  const std::string t = Id(1);
  ASSERT_EQ(Run(s_.maker, "transfer",
                {{"transfer", t}, {"to", "grosshandel"}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kOk);
  EXPECT_EQ(Run(s_.maker, "accept", {{"transfer", t}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().pharmacist, "accept", {{"transfer", t}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.regulator, "accept", {{"transfer", t}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.wholesaler, "cancel", {{"transfer", t}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.generika, "cancel", {{"transfer", t}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.maker, "accept", {{"transfer", Id(9)}}), TxCode::kNotFound);
  EXPECT_EQ((*Query("transfers/" + t))["status"], "offered");
  EXPECT_EQ(Pack(kGtinA, "S1")["owner"], "pharma-ag");

  ASSERT_EQ(Run(s_.maker, "cancel", {{"transfer", t}}), TxCode::kOk);
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["owner"], "pharma-ag");
  EXPECT_FALSE(p.contains("transfer"));
  EXPECT_EQ(p["history"].size(), 1u);  // a cancelled offer moved nothing
  EXPECT_EQ((*Query("transfers/" + t))["status"], "cancelled");
  EXPECT_EQ(Run(s_.wholesaler, "accept", {{"transfer", t}}), TxCode::kFailedPrecondition);
  EXPECT_EQ(Pack(kGtinA, "S1")["owner"], "pharma-ag");
  // Free to move again.
  ASSERT_EQ(
      Run(s_.maker, "transfer",
          {{"transfer", Id(2)}, {"to", "stadt-apotheke"}, {"packs", List(Ref(kGtinA, "S1"))}}),
      TxCode::kOk);
  EXPECT_EQ(Run(s_.stadt, "accept", {{"transfer", Id(2)}}), TxCode::kOk);
  EXPECT_EQ(Pack(kGtinA, "S1")["owner"], "stadt-apotheke");
}

TEST_F(SupplyTest, ACaseMovesAllItsPacksAtOnce) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2"), PackJ(kGtinA, "S3")}),
            TxCode::kOk);
  const std::string c = Id(77);
  EXPECT_EQ(Run(s_.wholesaler, "aggregate", {{"case", c}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(k().doctor, "aggregate", {{"case", c}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kUnauthorized);
  ASSERT_EQ(
      Run(s_.maker, "aggregate", {{"case", c}, {"packs", {Ref(kGtinA, "S1"), Ref(kGtinA, "S2")}}}),
      TxCode::kOk);
  EXPECT_EQ(Run(s_.maker, "aggregate", {{"case", c}, {"packs", List(Ref(kGtinA, "S3"))}}),
            TxCode::kAlreadyExists);
  EXPECT_EQ(Run(s_.maker, "aggregate", {{"case", Id(78)}, {"packs", List(Ref(kGtinA, "S2"))}}),
            TxCode::kFailedPrecondition);
  auto cq = Query("cases/" + c);
  ASSERT_TRUE(cq.ok());
  EXPECT_EQ((*cq)["owner"], "pharma-ag");
  EXPECT_EQ((*cq)["status"], "sealed");
  EXPECT_EQ((*cq)["packs"].size(), 2u);

  const std::string t = Id(1);
  ASSERT_EQ(Run(s_.maker, "transfer", {{"transfer", t}, {"to", "grosshandel"}, {"cases", {c}}}),
            TxCode::kOk);
  EXPECT_EQ(Pack(kGtinA, "S1")["transfer"], t);
  EXPECT_EQ(Pack(kGtinA, "S2")["transfer"], t);
  // Neither the case nor its packs can be offered twice, nor opened in transit.
  EXPECT_EQ(
      Run(s_.maker, "transfer", {{"transfer", Id(2)}, {"to", "stadt-apotheke"}, {"cases", {c}}}),
      TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(s_.maker, "disaggregate", {{"case", c}}), TxCode::kFailedPrecondition);
  ASSERT_EQ(Run(s_.wholesaler, "accept", {{"transfer", t}}), TxCode::kOk);
  for (const char* serial : {"S1", "S2"}) {
    nlohmann::json p = Pack(kGtinA, serial);
    EXPECT_EQ(p["owner"], "grosshandel") << serial;
    EXPECT_EQ(p["case"], c) << serial;
    EXPECT_FALSE(p.contains("transfer")) << serial;
    EXPECT_EQ(p["history"].back()["type"], "transferred") << serial;
  }
  EXPECT_EQ(Pack(kGtinA, "S3")["owner"], "pharma-ag");
  cq = Query("cases/" + c);
  ASSERT_TRUE(cq.ok());
  EXPECT_EQ((*cq)["owner"], "grosshandel");
  EXPECT_FALSE(cq->contains("transfer"));
  // The case moves on as a whole.
  ASSERT_EQ(Run(s_.wholesaler, "transfer",
                {{"transfer", Id(3)}, {"to", "apotheke-am-markt"}, {"cases", {c}}}),
            TxCode::kOk);
  ASSERT_EQ(Run(k().pharmacist, "accept", {{"transfer", Id(3)}}), TxCode::kOk);
  EXPECT_EQ(Pack(kGtinA, "S1")["owner"], "apotheke-am-markt");
  EXPECT_EQ(Pack(kGtinA, "S2")["owner"], "apotheke-am-markt");
}

TEST_F(SupplyTest, APackInACaseMovesOnlyWithItUntilTheCaseIsOpened) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2")}), TxCode::kOk);
  const std::string c = Id(77);
  ASSERT_EQ(
      Run(s_.maker, "aggregate", {{"case", c}, {"packs", {Ref(kGtinA, "S1"), Ref(kGtinA, "S2")}}}),
      TxCode::kOk);
  EXPECT_EQ(Run(s_.maker, "transfer",
                {{"transfer", Id(1)}, {"to", "grosshandel"}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kFailedPrecondition);
  EXPECT_FALSE(Pack(kGtinA, "S1").contains("transfer"));
  // Only the owner opens it.
  EXPECT_EQ(Run(s_.wholesaler, "disaggregate", {{"case", c}}), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.maker, "disaggregate", {{"case", Id(78)}}), TxCode::kNotFound);
  ASSERT_EQ(Run(s_.maker, "disaggregate", {{"case", c}}), TxCode::kOk);
  EXPECT_EQ((*Query("cases/" + c))["status"], "opened");
  EXPECT_EQ(Run(s_.maker, "disaggregate", {{"case", c}}), TxCode::kNotFound);
  EXPECT_EQ(Run(s_.maker, "transfer", {{"transfer", Id(2)}, {"to", "grosshandel"}, {"cases", {c}}}),
            TxCode::kNotFound);
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_FALSE(p.contains("case"));
  EXPECT_EQ(EventTypes(kGtinA, "S1"),
            (std::vector<std::string>{"commissioned", "aggregated", "disaggregated"}));
  ASSERT_EQ(Run(s_.maker, "transfer",
                {{"transfer", Id(1)}, {"to", "grosshandel"}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kOk);
  ASSERT_EQ(Run(s_.wholesaler, "accept", {{"transfer", Id(1)}}), TxCode::kOk);
  EXPECT_EQ(Pack(kGtinA, "S1")["owner"], "grosshandel");
  EXPECT_EQ(Pack(kGtinA, "S2")["owner"], "pharma-ag");
}

// ---- dispense -----------------------------------------------------------------

TEST_F(SupplyTest, OnlyAPharmacistOfTheOwnerDispenses) {
  PacksAtPharmacy(List(PackJ(kGtinA, "S1")));
  const nlohmann::json ref = Ref(kGtinA, "S1");
  EXPECT_EQ(Run(s_.wholesaler, "dispense", ref), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.maker, "dispense", ref), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().doctor, "dispense", ref), TxCode::kUnauthorized);
  EXPECT_EQ(Run(k().pharmacy_admin, "dispense", ref), TxCode::kUnauthorized);
  // A pharmacist elsewhere: not dispensed, and the presentation is an alarm on chain.
  std::string why;
  EXPECT_EQ(Run(s_.stadt, "dispense", ref, &why), TxCode::kOk);
  EXPECT_EQ(why, "alarm: presented_elsewhere");
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["status"], "active");
  EXPECT_EQ(p["owner"], "apotheke-am-markt");
  EXPECT_EQ(p["history"].back()["type"], "dispense_refused");
  ASSERT_EQ(Alarms().size(), 1u);
  EXPECT_EQ(Alarms()[0]["kind"], "presented_elsewhere");
  EXPECT_EQ(Alarms()[0]["presented_by"], "stadt-apotheke");
  // Unknown pack: refused, nothing written.
  auto e = RunBlock(k().pharmacist, "dispense", Ref(kGtinA, "S2"));
  ASSERT_EQ(e.results.size(), 1u);
  EXPECT_EQ(e.results[0].code, TxCode::kNotFound);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  e = RunBlock(k().pharmacist, "dispense", Ref(kGtinNever, "S1"));
  EXPECT_EQ(e.results[0].code, TxCode::kNotFound);
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_EQ(Alarms().size(), 1u);

  ASSERT_EQ(Run(k().pharmacist, "dispense", ref), TxCode::kOk);
  p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["status"], "dispensed");
  EXPECT_EQ(p["dispensed_at"], 1700000000000ull + ledger_.height);
  EXPECT_EQ(p["verdict"], "already_dispensed");
  EXPECT_EQ(p["history"].back()["type"], "dispensed");
  EXPECT_EQ(p["history"].back()["org"], "apotheke-am-markt");
}

TEST_F(SupplyTest, APackInACaseOrAnOfferIsNotDispensed) {
  PacksAtPharmacy({PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2")});
  ASSERT_EQ(Run(k().pharmacist, "aggregate", {{"case", Id(5)}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kOk);
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1")), TxCode::kFailedPrecondition);
  ASSERT_EQ(
      Run(k().pharmacist, "transfer",
          {{"transfer", Id(6)}, {"to", "stadt-apotheke"}, {"packs", List(Ref(kGtinA, "S2"))}}),
      TxCode::kOk);
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S2")), TxCode::kFailedPrecondition);
  EXPECT_EQ(Pack(kGtinA, "S1")["status"], "active");
  EXPECT_EQ(Pack(kGtinA, "S2")["status"], "active");
  ASSERT_EQ(Run(k().pharmacist, "disaggregate", {{"case", Id(5)}}), TxCode::kOk);
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1")), TxCode::kOk);
  // A dispensed pack does not move.
  EXPECT_EQ(
      Run(k().pharmacist, "transfer",
          {{"transfer", Id(7)}, {"to", "stadt-apotheke"}, {"packs", List(Ref(kGtinA, "S1"))}}),
      TxCode::kFailedPrecondition);
}

TEST_F(SupplyTest, ASecondDispenseCommitsAnAlarm) {
  PacksAtPharmacy(List(PackJ(kGtinA, "S1")));
  ASSERT_EQ(Commission(s_.generika, List(PackJ(kGtinGenerika, "G1"))), TxCode::kOk);
  ASSERT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1")), TxCode::kOk);
  EXPECT_TRUE(Alarms().empty());
  std::string why;
  auto tx = ledger_.Tx(k().pharmacist, "dispense", Ref(kGtinA, "S1"), "supply");
  ASSERT_EQ(ledger_.RunOne(tx, &why), TxCode::kOk);
  EXPECT_TRUE(why.starts_with("alarm:")) << why;
  EXPECT_EQ(why, "alarm: dispensed_twice");
  auto all = Alarms();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["kind"], "dispensed_twice");
  EXPECT_EQ(all[0]["gtin"], kGtinA);
  EXPECT_EQ(all[0]["serial"], "S1");
  EXPECT_EQ(all[0]["manufacturer"], "pharma-ag");
  EXPECT_EQ(all[0]["presented_by"], "apotheke-am-markt");
  EXPECT_EQ(all[0]["tx"], tx->id().hex());
  EXPECT_EQ(all[0]["height"], ledger_.height);
  auto mine = Alarms("pharma-ag");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0], all[0]);
  EXPECT_TRUE(Alarms("generika-gmbh").empty());
  EXPECT_TRUE(Alarms("pharma").empty());
  // The pack stays dispensed once, with the refusal in its history.
  nlohmann::json p = Pack(kGtinA, "S1");
  EXPECT_EQ(p["status"], "dispensed");
  EXPECT_EQ(EventTypes(kGtinA, "S1"), (std::vector<std::string>{"commissioned", "transferred",
                                                                "dispensed", "dispense_refused"}));
  // A third try is a second alarm.
  EXPECT_EQ(Run(s_.stadt, "dispense", Ref(kGtinA, "S1"), &why), TxCode::kOk);
  EXPECT_EQ(why, "alarm: dispensed_twice");
  EXPECT_EQ(Alarms().size(), 2u);
  EXPECT_EQ(Alarms("pharma-ag").size(), 2u);
  QueryParams one = {{"limit", "1"}};
  EXPECT_EQ((*Query("alarms", one))["alarms"].size(), 1u);
}

TEST_F(SupplyTest, RecalledOrExpiredPacksAreNotDispensed) {
  // Block time is 2023-11-14: a pack that expired on 13 November, one that
  // expires on the 14th (still good today) and one at the end of November.
  PacksAtPharmacy({PackJ(kGtinA, "R1", "BAD"), PackJ(kGtinA, "E1", "B1", "231113"),
                   PackJ(kGtinA, "E2", "B1", "231114"), PackJ(kGtinA, "E3", "B1", "231100"),
                   PackJ(kGtinA, "E4", "B1", "231000")});
  ASSERT_EQ(
      Run(s_.maker, "recall", {{"gtin", kGtinA}, {"batch", "BAD"}, {"reason", "contamination"}}),
      TxCode::kOk);
  std::string why;
  auto e = RunBlock(k().pharmacist, "dispense", Ref(kGtinA, "R1"));
  EXPECT_EQ(e.results[0].code, TxCode::kFailedPrecondition);
  EXPECT_NE(e.results[0].detail.find("recalled"), std::string::npos) << e.results[0].detail;
  EXPECT_TRUE(SupplyWrites(e.writes).empty());
  EXPECT_EQ(Pack(kGtinA, "R1")["status"], "active");
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "E1"), &why), TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("expired"), std::string::npos) << why;
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "E4"), &why), TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("expired"), std::string::npos) << why;
  EXPECT_EQ(Pack(kGtinA, "E1")["status"], "active");
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "E2"), &why), TxCode::kOk) << why;
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "E3"), &why), TxCode::kOk) << why;
  EXPECT_TRUE(Alarms().empty());
}

// ---- verify -------------------------------------------------------------------

TEST_F(SupplyTest, VerifyVerdicts) {
  PacksAtPharmacy({PackJ(kGtinA, "S1", "B1", "281231"), PackJ(kGtinA, "R1", "BAD", "281231"),
                   PackJ(kGtinA, "E1", "B1", "231113"), PackJ(kGtinA, "E2", "B1", "231114")});
  ASSERT_EQ(Run(s_.maker, "recall", {{"gtin", kGtinA}, {"batch", "BAD"}, {"reason", "mix-up"}}),
            TxCode::kOk);
  const auto& ph = k().pharmacist;
  EXPECT_EQ(Verify(ph, Ref(kGtinA, "S1")), "authentic");
  EXPECT_EQ(Verify(ph, PackJ(kGtinA, "S1", "B1", "281231")), "authentic");
  EXPECT_EQ(Verify(ph, Ref(kGtinA.substr(1), "S1")), "authentic");  // as GTIN-13
  EXPECT_EQ(Verify(ph, Ref(kGtinA, "R1")), "recalled");
  EXPECT_EQ(Verify(ph, Ref(kGtinA, "E1")), "expired");
  EXPECT_EQ(Verify(ph, Ref(kGtinA, "E2")), "authentic");  // expires at the end of today
  EXPECT_EQ(Verify(ph, Ref(kGtinA, "S2")), "unknown_serial");
  EXPECT_EQ(Verify(ph, Ref(kGtinNever, "S1")), "unknown_product");
  EXPECT_EQ(Verify(ph, Ref(kGtinGenerika, "S1")), "unknown_product");
  // A code whose batch or expiry is not the commissioned pack's is not that pack.
  EXPECT_EQ(Verify(ph, PackJ(kGtinA, "S1", "B2", "281231")), "unknown_serial");
  EXPECT_EQ(Verify(ph, PackJ(kGtinA, "S1", "B1", "281230")), "unknown_serial");
  nlohmann::json only_batch = Ref(kGtinA, "S1");
  only_batch["batch"] = "B2";
  EXPECT_EQ(Verify(ph, only_batch), "unknown_serial");
  // The wholesaler verifies too.
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S9")), "unknown_serial");
  EXPECT_EQ(Run(k().doctor, "verify", Ref(kGtinA, "S1")), TxCode::kUnauthorized);
  EXPECT_TRUE(Alarms().empty());
  // Each verification of the real pack is in its history, with its verdict;
  // codes that are not the pack leave no trace on it.
  nlohmann::json h = Pack(kGtinA, "S1")["history"];
  ASSERT_EQ(h.size(), 5u);
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(h[i]["type"], "verified");
    EXPECT_EQ(h[i]["verdict"], "authentic");
    EXPECT_EQ(h[i]["org"], "apotheke-am-markt");
  }
  nlohmann::json r = Pack(kGtinA, "R1");
  EXPECT_EQ(r["verdict"], "recalled");
  EXPECT_EQ(r["history"].back()["verdict"], "recalled");
  EXPECT_EQ(Pack(kGtinA, "E1")["history"].back()["verdict"], "expired");
}

TEST_F(SupplyTest, VerificationAfterDispensingRaisesAnAlarm) {
  PacksAtPharmacy(List(PackJ(kGtinA, "S1")));
  ASSERT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1")), TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S1")),
            "already_dispensed; alarm: verified_after_dispensing");
  auto all = Alarms();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["kind"], "verified_after_dispensing");
  EXPECT_EQ(all[0]["presented_by"], "apotheke-am-markt");
  EXPECT_EQ(Alarms("pharma-ag").size(), 1u);
  // Dispensed beats recalled and expired.
  ASSERT_EQ(Run(s_.regulator, "recall", {{"gtin", kGtinA}, {"batch", "B1"}, {"reason", "r"}}),
            TxCode::kOk);
  EXPECT_EQ(Verify(s_.stadt, Ref(kGtinA, "S1")),
            "already_dispensed; alarm: verified_after_dispensing");
  EXPECT_EQ(Alarms().size(), 2u);
  EXPECT_EQ(Alarms()[1]["presented_by"], "stadt-apotheke");
}

TEST_F(SupplyTest, APackPresentedElsewhereRaisesAnAlarm) {
  ASSERT_EQ(Commission(s_.maker, {PackJ(kGtinA, "S1"), PackJ(kGtinA, "S2"), PackJ(kGtinA, "S3")}),
            TxCode::kOk);
  Ship(s_.maker, s_.wholesaler, "grosshandel", List(Ref(kGtinA, "S1")));
  // The owner and the organisation it is offered to may verify it.
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S1")), "authentic");
  ASSERT_EQ(
      Run(s_.wholesaler, "transfer",
          {{"transfer", Id(1)}, {"to", "apotheke-am-markt"}, {"packs", List(Ref(kGtinA, "S1"))}}),
      TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S1")), "authentic");
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S1")), "authentic");
  EXPECT_TRUE(Alarms().empty());
  // Anybody else raises an alarm; the transaction commits.
  EXPECT_EQ(Verify(s_.stadt, Ref(kGtinA, "S1")), "authentic; alarm: presented_elsewhere");
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S2")), "authentic; alarm: presented_elsewhere");
  auto all = Alarms();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["kind"], "presented_elsewhere");
  EXPECT_EQ(all[0]["presented_by"], "stadt-apotheke");
  EXPECT_EQ(all[0]["owner"], "grosshandel");
  EXPECT_EQ(all[0]["serial"], "S1");
  EXPECT_EQ(all[1]["presented_by"], "grosshandel");
  EXPECT_EQ(all[1]["owner"], "pharma-ag");
  EXPECT_EQ(all[1]["serial"], "S2");
  EXPECT_EQ(Alarms("pharma-ag").size(), 2u);
  EXPECT_TRUE(Alarms("grosshandel").empty());  // filed under the manufacturer
  nlohmann::json h = Pack(kGtinA, "S1")["history"];
  EXPECT_EQ(h.back()["type"], "verified");
  EXPECT_EQ(h.back()["org"], "stadt-apotheke");
  // The packs of a case offered to an organisation are being received by it.
  ASSERT_EQ(Run(s_.maker, "aggregate", {{"case", Id(50)}, {"packs", List(Ref(kGtinA, "S3"))}}),
            TxCode::kOk);
  ASSERT_EQ(Run(s_.maker, "transfer",
                {{"transfer", Id(2)}, {"to", "stadt-apotheke"}, {"cases", {Id(50)}}}),
            TxCode::kOk);
  EXPECT_EQ(Verify(s_.stadt, Ref(kGtinA, "S3")), "authentic");
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S3")), "authentic; alarm: presented_elsewhere");
  // Once the pharmacy accepts S1, the wholesaler is elsewhere.
  ASSERT_EQ(Run(k().pharmacist, "accept", {{"transfer", Id(1)}}), TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S1")), "authentic");
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S1")), "authentic; alarm: presented_elsewhere");
  EXPECT_EQ(Alarms().size(), 4u);
}

TEST_F(SupplyTest, TheHistoryListsTheEventsInOrder) {
  ASSERT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S/1"))), TxCode::kOk);  // a serial with '/'
  Ship(s_.maker, s_.wholesaler, "grosshandel", List(Ref(kGtinA, "S/1")));
  EXPECT_EQ(Verify(s_.wholesaler, Ref(kGtinA, "S/1")), "authentic");
  Ship(s_.wholesaler, k().pharmacist, "apotheke-am-markt", List(Ref(kGtinA, "S/1")));
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S/1")), "authentic");
  ASSERT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S/1")), TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S/1")),
            "already_dispensed; alarm: verified_after_dispensing");
  nlohmann::json p = Pack(kGtinA, "S/1");
  EXPECT_FALSE(p.contains("events"));
  const nlohmann::json& h = p["history"];
  std::vector<std::string> types;
  for (const auto& e : h) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"commissioned", "transferred", "verified",
                                             "transferred", "verified", "dispensed", "verified"}));
  for (size_t i = 1; i < h.size(); ++i) {
    EXPECT_LT(h[i - 1]["height"].get<uint64_t>(), h[i]["height"].get<uint64_t>()) << i;
    EXPECT_LT(h[i - 1]["at"].get<uint64_t>(), h[i]["at"].get<uint64_t>()) << i;
  }
  EXPECT_EQ(h[2]["org"], "grosshandel");
  EXPECT_EQ(h[6]["verdict"], "already_dispensed");
  EXPECT_EQ(h.back()["height"], ledger_.height);
  EXPECT_EQ(Query("packs/" + kGtinA + "/S").status().code(), Code::kNotFound);
  EXPECT_FALSE(Query("packs/" + kGtinA).ok());
}

// ---- recall -------------------------------------------------------------------

TEST_F(SupplyTest, RecallRules) {
  PacksAtPharmacy({PackJ(kGtinA, "S1", "B1"), PackJ(kGtinA, "S2", "B2")});
  ASSERT_EQ(Commission(s_.generika, List(PackJ(kGtinGenerika, "G1", "B1"))), TxCode::kOk);
  const nlohmann::json r = {{"gtin", kGtinA}, {"batch", "B1"}, {"reason", "label error"}};
  EXPECT_EQ(Run(s_.generika, "recall", r), TxCode::kUnauthorized);  // another manufacturer
  EXPECT_EQ(Run(k().pharmacist, "recall", r), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.wholesaler, "recall", r), TxCode::kUnauthorized);
  EXPECT_EQ(Run(s_.pharma_admin, "recall", r), TxCode::kUnauthorized);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S1")), "authentic");
  EXPECT_EQ(Run(s_.maker, "recall", {{"gtin", kGtinNever}, {"batch", "B1"}, {"reason", "x"}}),
            TxCode::kNotFound);

  ASSERT_EQ(Run(s_.maker, "recall", r), TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S1")), "recalled");
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S2")), "authentic");  // another batch
  EXPECT_EQ(Verify(s_.generika, Ref(kGtinGenerika, "G1")),
            "authentic");  // same batch name, another GTIN
  std::string why;
  EXPECT_EQ(Run(s_.maker, "recall", r, &why), TxCode::kAlreadyExists);
  EXPECT_EQ(Run(s_.regulator, "recall", r), TxCode::kAlreadyExists);
  // A regulator recalls any manufacturer's batch.
  ASSERT_EQ(
      Run(s_.regulator, "recall", {{"gtin", kGtinA}, {"batch", "B2"}, {"reason", "inspection"}}),
      TxCode::kOk);
  EXPECT_EQ(Verify(k().pharmacist, Ref(kGtinA, "S2")), "recalled");
  ASSERT_EQ(Run(s_.regulator, "recall",
                {{"gtin", "4006381333931"}, {"batch", "B1"}, {"reason", "inspection"}}),
            TxCode::kOk);
  EXPECT_EQ(Verify(s_.generika, Ref(kGtinGenerika, "G1")), "recalled");
  EXPECT_EQ(
      Run(s_.generika, "recall", {{"gtin", kGtinGenerika}, {"batch", "B1"}, {"reason", "again"}}),
      TxCode::kAlreadyExists);
}

TEST_F(SupplyTest, ARecallNamesACommissionedBatch) {
  PacksAtPharmacy(List(PackJ(kGtinA, "S1", "B1")));
  std::string why;
  EXPECT_EQ(Run(s_.maker, "recall", {{"gtin", kGtinA}, {"batch", "NOPE"}, {"reason", "x"}}, &why),
            TxCode::kNotFound);
  EXPECT_NE(why.find("no pack of this batch"), std::string::npos) << why;
  // A batch recalled in advance would block its name: refused, so later
  // packs of that batch still verify.
  ASSERT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S9", "NOPE"))), TxCode::kOk);
  EXPECT_EQ(Verify(s_.maker, Ref(kGtinA, "S9")), "authentic");
  EXPECT_FALSE(mod_.Check("recall", {{"gtin", kGtinA}, {"batch", "NO PE"}, {"reason", "x"}}).ok());
}

TEST_F(SupplyTest, APackOnItsWayIsNotDispensedAndRaisesNoAlarm) {
  ASSERT_EQ(Commission(s_.maker, List(PackJ(kGtinA, "S1"))), TxCode::kOk);
  ASSERT_EQ(Run(s_.maker, "transfer",
                {{"transfer", Id(77)}, {"to", "apotheke-am-markt"}, {"packs", List(Ref(kGtinA, "S1"))}}),
            TxCode::kOk);
  std::string why;
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1"), &why), TxCode::kFailedPrecondition);
  EXPECT_NE(why.find("accept the transfer first"), std::string::npos) << why;
  EXPECT_TRUE(Alarms().empty());
  ASSERT_EQ(Run(k().pharmacist, "accept", {{"transfer", Id(77)}}), TxCode::kOk);
  EXPECT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "S1")), TxCode::kOk);
}

// ---- the check query ----------------------------------------------------------

TEST_F(SupplyTest, TheCheckQueryAnswersForEachCodeForm) {
  PacksAtPharmacy(
      {PackJ(kGtinA, "XYZ123", "A1B2", "261231"), PackJ(kGtinA, "D1", "A1B2", "261231")});
  ASSERT_EQ(Run(k().pharmacist, "dispense", Ref(kGtinA, "D1")), TxCode::kOk);
  const std::string gs(1, '\x1d');
  struct Form {
    std::string name;
    std::function<std::string(const std::string& serial, const std::string& batch,
                              const std::string& gtin)>
        code;
  };
  const std::vector<Form> forms = {
      {"element string",
       [&](const std::string& s, const std::string& b, const std::string& g) {
         return "]d2"
                "01" +
                g +
                "17261231"
                "10" +
                b + gs + "21" + s;
       }},
      {"bracketed",
       [&](const std::string& s, const std::string& b, const std::string& g) {
         return "(01)" + g + "(17)261231(10)" + b + "(21)" + s;
       }},
      {"digital link",
       [&](const std::string& s, const std::string& b, const std::string& g) {
         return "https://id.gs1.org/01/" + g + "/10/" + b + "/21/" + s + "?17=261231";
       }},
  };
  const uint64_t last_ms = kEndOf2026 - 1, after = kEndOf2026;
  auto check = [&](const std::string& code, uint64_t at) -> nlohmann::json {
    auto r = Query("check", {{"code", code}, {"at", std::to_string(at)}});
    EXPECT_TRUE(r.ok()) << code << ": " << r.status().ToString();
    return r.ok() ? *r : nlohmann::json();
  };
  // The answer is the verdict plus the code's own fields as parsed: nothing
  // else of the pack (owner, history, the real batch or expiry).
  auto verdict_of = [&](const nlohmann::json& j, const std::string& serial, const std::string& gtin) -> std::string {
    for (const auto& [k, v] : j.items()) {
      EXPECT_TRUE(k == "verdict" || k == "gtin" || k == "serial" || k == "batch" || k == "expiry") << k;
    }
    EXPECT_EQ(j["gtin"], gtin);
    EXPECT_EQ(j["serial"], serial);
    return j["verdict"];
  };
  for (const Form& f : forms) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(verdict_of(check(f.code("XYZ123", "A1B2", kGtinA), last_ms), "XYZ123", kGtinA), "authentic");
    EXPECT_EQ(verdict_of(check(f.code("XYZ123", "A1B2", kGtinA), after), "XYZ123", kGtinA), "expired");
    EXPECT_EQ(verdict_of(check(f.code("D1", "A1B2", kGtinA), last_ms), "D1", kGtinA), "already_dispensed");
    EXPECT_EQ(check(f.code("XYZ124", "A1B2", kGtinA), last_ms)["verdict"], "unknown_serial");
    nlohmann::json wrong_batch = check(f.code("XYZ123", "A1B3", kGtinA), last_ms);
    EXPECT_EQ(verdict_of(wrong_batch, "XYZ123", kGtinA), "unknown_serial");
    EXPECT_EQ(wrong_batch["batch"], "A1B3") << "the caller's batch, not the pack's";
    EXPECT_EQ(verdict_of(check(f.code("XYZ123", "A1B2", kGtinNever), last_ms), "XYZ123", kGtinNever),
              "unknown_product");
  }
  // The library's own encoders give the same answers.
  const PackCode c{kGtinA, "XYZ123", "A1B2", "261231"};
  for (const std::string& code : {ToHumanReadable(c), ToElementString(c), ToDigitalLink(c)}) {
    EXPECT_EQ(check(code, last_ms), (nlohmann::json{{"verdict", "authentic"}, {"gtin", kGtinA}, {"serial", "XYZ123"},
                                                    {"batch", "A1B2"}, {"expiry", "261231"}}))
        << code;
  }
  // A Digital Link may carry a GTIN-13; the answer names the GTIN-14.
  EXPECT_EQ(check("https://id.gs1.org/01/" + kGtinA.substr(1) + "/21/XYZ123", last_ms),
            (nlohmann::json{{"verdict", "authentic"}, {"gtin", kGtinA}, {"serial", "XYZ123"}}));
  // Without ?at= the check is at time 0: nothing has expired yet.
  auto no_at = Query("check", {{"code", ToHumanReadable(c)}});
  ASSERT_TRUE(no_at.ok());
  EXPECT_EQ((*no_at)["verdict"], "authentic");
  // Malformed codes are an error, not a verdict.
  for (const std::string& bad :
       std::vector<std::string>{"", "(01)09506000134353(21)XYZ123", "(01)" + kGtinA,
                                "https://id.gs1.org/10/A1B2/21/XYZ123"}) {
    auto r = Query("check", {{"code", bad}, {"at", std::to_string(last_ms)}});
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
  // Checking writes nothing: the history holds no verification.
  EXPECT_EQ(EventTypes(kGtinA, "XYZ123"),
            (std::vector<std::string>{"commissioned", "transferred"}));
}

}  // namespace
}  // namespace cc::supply

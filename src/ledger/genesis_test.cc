#include "ledger/genesis.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"
#include "util/env.h"

namespace cc {
namespace {

nlohmann::json Doc() { return testing::GenesisDoc(testing::Keys()); }

TEST(Genesis, ParsesTheDocument) {
  auto g = Genesis::Parse(Doc().dump(2));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->chain_id, testing::kChainId);
  EXPECT_EQ(g->time_ms, 1700000000000ull);
  EXPECT_EQ(g->params.max_tx_bytes, 65536u);
  EXPECT_EQ(g->params.max_block_txs, 5000u);
  EXPECT_EQ(g->canonical, Doc().dump());
  EXPECT_EQ(g->hash, Blake2b256(g->canonical));
  EXPECT_TRUE(g->doc.contains("orgs"));
}

TEST(Genesis, HashIgnoresFormattingButNotContent) {
  auto a = Genesis::Parse(Doc().dump());
  auto b = Genesis::Parse(Doc().dump(4));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_EQ(a->canonical, b->canonical);
  nlohmann::json d = Doc();
  d["time_ms"] = 1700000000001ull;
  auto c = Genesis::Parse(d.dump());
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->hash, a->hash);
}

TEST(Genesis, DefaultsWithoutParams) {
  nlohmann::json d = Doc();
  d.erase("params");
  auto g = Genesis::Parse(d.dump());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->params.max_tx_bytes, NetworkParams().max_tx_bytes);
  EXPECT_EQ(g->params.max_block_txs, NetworkParams().max_block_txs);
}

TEST(Genesis, RefusesBadDocuments) {
  auto refused = [](const std::function<void(nlohmann::json&)>& edit, const std::string& what) {
    nlohmann::json d = Doc();
    edit(d);
    auto g = Genesis::Parse(d.dump());
    ASSERT_FALSE(g.ok()) << d.dump();
    EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
    EXPECT_NE(g.status().message().find(what), std::string::npos) << g.status().message();
  };
  refused([](nlohmann::json& d) { d.erase("chain_id"); }, "chain_id");
  refused([](nlohmann::json& d) { d["chain_id"] = ""; }, "chain_id");
  refused([](nlohmann::json& d) { d["chain_id"] = std::string(65, 'c'); }, "chain_id");
  refused([](nlohmann::json& d) { d["chain_id"] = 7; }, "chain_id");
  refused([](nlohmann::json& d) { d.erase("time_ms"); }, "time_ms");
  refused([](nlohmann::json& d) { d["time_ms"] = -5; }, "time_ms");
  refused([](nlohmann::json& d) { d["time_ms"] = 1.5; }, "time_ms");
  refused([](nlohmann::json& d) { d["params"] = 1; }, "params");
  refused([](nlohmann::json& d) { d["params"]["max_tx_bytes"] = 511; }, "max_tx_bytes");
  refused([](nlohmann::json& d) { d["params"]["max_tx_bytes"] = (1 << 20) + 1; }, "max_tx_bytes");
  refused([](nlohmann::json& d) { d["params"]["max_block_txs"] = 0; }, "max_block_txs");
  refused([](nlohmann::json& d) { d["params"]["max_block_txs"] = 50001; }, "max_block_txs");
  refused([](nlohmann::json& d) { d["params"]["max_block_txs"] = "10"; }, "max_block_txs");
  refused([](nlohmann::json& d) { d["extra"] = 0.5; }, "integers");  // canonical: no floats
  EXPECT_FALSE(Genesis::Parse("not json").ok());
  EXPECT_FALSE(Genesis::Parse("[]").ok());
}

TEST(Genesis, LoadNamesTheFile) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.file("genesis.json"), Doc().dump(2), 0644, false).ok());
  auto g = Genesis::Load(dir.file("genesis.json"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->chain_id, testing::kChainId);
  ASSERT_TRUE(WriteFileAtomic(dir.file("bad.json"), "{}", 0644, false).ok());
  auto bad = Genesis::Load(dir.file("bad.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos);
  EXPECT_EQ(Genesis::Load(dir.file("none.json")).status().code(), Code::kNotFound);
}

TEST(GenesisNodeKeys, ListsEveryOrgsNodesAndSkipsJunk) {
  const std::string a(64, 'a'), b(64, 'b');
  auto g = Genesis::Parse(nlohmann::json({{"chain_id", "x"}, {"time_ms", 1},
                                          {"orgs", {{{"id", "o1"}, {"nodes", {a, 5, "zz"}}},
                                                    {{"id", "o2"}},
                                                    {{"id", "o3"}, {"nodes", {b}}}}}}).dump());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto keys = g->NodeKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].hex(), a);
  EXPECT_EQ(keys[1].hex(), b);
}

}  // namespace
}  // namespace cc

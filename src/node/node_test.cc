#include "node/node.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "apps/identity/identity.h"
#include "crypto/keyfile.h"
#include "ledger/verifier.h"
#include "node/demo.h"
#include "testing/signed_client.h"
#include "testing/test_util.h"

namespace cc::node {
namespace {

using testing::TempDir;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);  // the node logs refusals and repairs
    DemoOptions o;
    o.dir = dir_.str();
    o.port = 0;
    ASSERT_TRUE(CreateDemo(o).ok());
    auto c = Config::Load(dir_.file("node.toml"));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
    config_.api.threads = 4;
    config_.solo.block_interval_ms = 2;
    doctor_ = ReadKeyFile(dir_.file("keys/dr-weber.key")).value();
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  // Submits a patient registration by the doctor and waits for its commit.
  int SubmitAndWait(Node& node, uint64_t nonce, uint8_t patient) {
    TxBody b;
    b.chain_id = "carechain-demo";
    b.actor = doctor_.public_key();
    b.nonce = nonce;
    b.module = "identity";
    b.action = "register_actor";
    b.payload = nlohmann::json{{"key", testing::Key(patient).public_key().hex()},
                               {"org", "st-marien-hospital"},
                               {"role", "patient"}}
                    .dump();
    TxPtr tx = Transaction::Sign(b, doctor_);
    testing::SignedClient cli("127.0.0.1", node.api_port(), doctor_);
    auto r = cli.Post("/v1/transactions?wait=commit", tx->encoded(), "application/octet-stream");
    return r.ok() ? r->status : -1;
  }

  uint64_t Height(Node& node) {
    http::Client cli("http://127.0.0.1:" + std::to_string(node.api_port()));
    auto r = cli.Get("/healthz");
    if (!r.ok()) return ~0ull;
    return nlohmann::json::parse(r->body)["height"].get<uint64_t>();
  }

  std::string ChainDir() const { return config_.data_dir + "/chain"; }

  TempDir dir_;
  Config config_;
  SecretKey doctor_;
};

TEST_F(NodeTest, StartsCommitsAndResumesAfterARestart) {
  uint64_t height;
  {
    Node node(config_);
    Status s = node.Start(/*resync=*/false);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GT(node.api_port(), 0);
    EXPECT_EQ(SubmitAndWait(node, 1, 100), 200);
    EXPECT_EQ(SubmitAndWait(node, 2, 101), 200);
    height = Height(node);
    EXPECT_GE(height, 1u);
    node.Stop();
  }
  Node again(config_);
  Status s = again.Start(false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Height(again), height);
  // The doctor's nonce continues where it was.
  EXPECT_EQ(SubmitAndWait(again, 1, 102), 409);
  EXPECT_EQ(SubmitAndWait(again, 3, 102), 200);
}

TEST_F(NodeTest, RefusesADamagedStateUnlessResyncing) {
  {
    Node node(config_);
    ASSERT_TRUE(node.Start(false).ok());
    ASSERT_EQ(SubmitAndWait(node, 1, 110), 200);
  }
  // Damage one state entry behind the chain's back (head unchanged).
  const std::string key = identity::ActorKey(testing::Key(110).public_key());
  {
    auto store = ChainStore::Open(ChainDir());
    ASSERT_TRUE(store.ok());
    ChainHead head = *(*store)->Head();
    BlockPtr last = (*store)->GetBlock(head.height).value();
    ASSERT_TRUE((*store)->CommitBlock(last, {{key, std::string(R"({"role":"admin"})")}}, head.digest).ok());
  }
  {
    Node node(config_);
    Status s = node.Start(/*resync=*/false);
    EXPECT_EQ(s.code(), Code::kCorruption);
    EXPECT_NE(s.message().find("--resync"), std::string::npos) << s.message();
  }
  {
    Node node(config_);
    Status s = node.Start(/*resync=*/true);
    ASSERT_TRUE(s.ok()) << s.ToString();
    node.Stop();
  }
  auto off = OpenOffline(config_.data_dir, "");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  VerifyReport r = VerifyChain(*(*off)->store, *(*off)->executor, VerifyOptions{});
  EXPECT_TRUE(r.ok) << r.error;
  auto rec = (*off)->store->Get(key);
  ASSERT_TRUE(rec);
  EXPECT_EQ(nlohmann::json::parse(*rec)["role"], "patient");
}

TEST_F(NodeTest, FinishesAnInterruptedResync) {
  uint64_t height;
  {
    Node node(config_);
    ASSERT_TRUE(node.Start(false).ok());
    ASSERT_EQ(SubmitAndWait(node, 1, 120), 200);
    height = Height(node);
  }
  {
    auto store = ChainStore::Open(ChainDir());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->ResetTo(height).ok());  // and then "crash"
    ASSERT_FALSE((*store)->Head().has_value());
  }
  Node node(config_);
  Status s = node.Start(false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Height(node), height);
  EXPECT_EQ(SubmitAndWait(node, 2, 121), 200);
}

TEST_F(NodeTest, RefusesANodeKeyOutsideTheNetwork) {
  ASSERT_TRUE(WriteKeyFile(dir_.file("keys/stranger.key"), testing::Key(77), false).ok());
  config_.key_file = dir_.file("keys/stranger.key");
  Node node(config_);
  Status s = node.Start(false);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("not a node"), std::string::npos) << s.message();
}

TEST_F(NodeTest, RefusesAnotherNetworksDataFolder) {
  {
    Node node(config_);
    ASSERT_TRUE(node.Start(false).ok());
  }
  // Another demo network (new keys, new genesis) pointed at the same data.
  TempDir other;
  DemoOptions o;
  o.dir = other.str();
  o.port = 0;
  ASSERT_TRUE(CreateDemo(o).ok());
  Config c = config_;
  c.genesis = other.file("genesis.json");
  c.key_file = other.file("keys/node.key");
  Node node(c);
  Status s = node.Start(false);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("genesis"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace cc::node

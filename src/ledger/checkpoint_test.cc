#include "ledger/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::kChainId;

// Node keys of the test networks below; Key(30) is never a node.
SecretKey Node(int i) { return Key(static_cast<uint8_t>(20 + i)); }
SecretKey Stranger() { return Key(30); }

// A genesis of one organisation per entry of `nodes_per_org`, organisation
// i running nodes_per_org[i] nodes. Node keys are numbered across the
// organisations: Node(0), Node(1), ...
Genesis MakeGenesis(const std::vector<int>& nodes_per_org) {
  crypto::Init();
  nlohmann::json orgs = nlohmann::json::array();
  int next = 0;
  for (size_t o = 0; o < nodes_per_org.size(); ++o) {
    nlohmann::json nodes = nlohmann::json::array();
    for (int n = 0; n < nodes_per_org[o]; ++n) nodes.push_back(Node(next++).public_key().hex());
    orgs.push_back({{"id", "org-" + std::to_string(o)},
                    {"admins", nlohmann::json::array({Key(static_cast<uint8_t>(40 + o)).public_key().hex()})},
                    {"nodes", nodes}});
  }
  nlohmann::json doc = {{"chain_id", kChainId}, {"time_ms", 1700000000000ull}, {"orgs", orgs}};
  auto g = Genesis::Parse(doc.dump());
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : Genesis{};
}

BlockHash HashOf(const std::string& s) { return BlockHash::From(Blake2b256(s)); }

constexpr uint64_t kHeight = 100;

// Node `i`'s checkpoint at kHeight for the pair named `which`.
Checkpoint Signed(int i, const std::string& which, uint64_t height = kHeight) {
  return Checkpoint::Sign(kChainId, height, HashOf("block " + which), Blake2b256("state " + which), Node(i));
}

TEST(Checkpoint, SignVerifyAndJsonRoundTrip) {
  crypto::Init();
  SecretKey key = Node(0);
  Checkpoint c = Checkpoint::Sign(kChainId, 42, HashOf("b"), Blake2b256("s"), key);
  EXPECT_EQ(c.height, 42u);
  EXPECT_EQ(c.block_hash, HashOf("b"));
  EXPECT_EQ(c.state_root, Blake2b256("s"));
  EXPECT_EQ(c.node, key.public_key());
  EXPECT_TRUE(c.Verify(kChainId));

  // Through the JSON text, as it travels.
  auto back = Checkpoint::FromJson(nlohmann::json::parse(c.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->height, c.height);
  EXPECT_EQ(back->block_hash, c.block_hash);
  EXPECT_EQ(back->state_root, c.state_root);
  EXPECT_EQ(back->node, c.node);
  EXPECT_EQ(back->signature, c.signature);
  EXPECT_TRUE(back->SameAs(c));
  EXPECT_TRUE(back->Verify(kChainId));
  EXPECT_EQ(back->ToJson(), c.ToJson());
}

TEST(Checkpoint, VerifyFailsForAnotherChainOrAChangedField) {
  crypto::Init();
  const Checkpoint c = Checkpoint::Sign(kChainId, 42, HashOf("b"), Blake2b256("s"), Node(0));
  ASSERT_TRUE(c.Verify(kChainId));
  EXPECT_FALSE(c.Verify("another-chain"));
  EXPECT_FALSE(c.Verify(""));
  Checkpoint changed = c;
  changed.height = 43;
  EXPECT_FALSE(changed.Verify(kChainId));
  changed = c;
  changed.height = 42ull | (1ull << 40);  // a high byte of the height
  EXPECT_FALSE(changed.Verify(kChainId));
  changed = c;
  changed.block_hash = HashOf("other block");
  EXPECT_FALSE(changed.Verify(kChainId));
  changed = c;
  changed.state_root = Blake2b256("other state");
  EXPECT_FALSE(changed.Verify(kChainId));
  changed = c;
  changed.node = Node(1).public_key();
  EXPECT_FALSE(changed.Verify(kChainId));
  changed = c;
  changed.signature.bytes[0] ^= 1;
  EXPECT_FALSE(changed.Verify(kChainId));
}

TEST(Checkpoint, FromJsonRefusesMissingOrMalformedFields) {
  crypto::Init();
  const nlohmann::json good = Checkpoint::Sign(kChainId, 7, HashOf("b"), Blake2b256("s"), Node(0)).ToJson();
  ASSERT_TRUE(Checkpoint::FromJson(good).ok());
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    auto c = Checkpoint::FromJson(j);
    ASSERT_FALSE(c.ok()) << j.dump();
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << j.dump();
  };
  for (const char* field : {"height", "block_hash", "state_root", "node", "signature"}) {
    SCOPED_TRACE(field);
    refused([&](nlohmann::json& j) { j.erase(field); });
    refused([&](nlohmann::json& j) { j[field] = nullptr; });
  }
  for (const char* field : {"block_hash", "state_root", "node", "signature"}) {
    SCOPED_TRACE(field);
    refused([&](nlohmann::json& j) { j[field] = std::string(j[field].get<std::string>().size(), 'z'); });
    refused([&](nlohmann::json& j) { j[field] = j[field].get<std::string>().substr(2); });  // too short
    refused([&](nlohmann::json& j) { j[field] = j[field].get<std::string>() + "00"; });     // too long
    refused([&](nlohmann::json& j) { j[field] = 5; });
  }
  refused([](nlohmann::json& j) { j["height"] = -1; });
  refused([](nlohmann::json& j) { j["height"] = "7"; });
  refused([](nlohmann::json& j) { j["height"] = 1.5; });
  EXPECT_FALSE(Checkpoint::FromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(Checkpoint::FromJson(nlohmann::json()).ok());
}

TEST(CheckpointTally, QuorumIsAMajorityOfTheOrganisationsRunningNodes) {
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({1, 1, 1}), kHeight, {}).quorum, 2u);
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({1}), kHeight, {}).quorum, 1u);
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({1, 1}), kHeight, {}).quorum, 2u);
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({1, 1, 1, 1}), kHeight, {}).quorum, 3u);
  // Organisations, not nodes: one with two nodes counts once.
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({2, 1}), kHeight, {}).quorum, 2u);
  // An organisation without nodes does not count.
  EXPECT_EQ(TallyCheckpoints(MakeGenesis({1, 0, 1, 1}), kHeight, {}).quorum, 2u);
  CheckpointTally t = TallyCheckpoints(MakeGenesis({1, 1, 1}), kHeight, {});
  EXPECT_EQ(t.height, kHeight);
  EXPECT_FALSE(t.certified.has_value());
  EXPECT_TRUE(t.signatures.empty());
}

TEST(CheckpointTally, TwoOfThreeOrganisationsCertify) {
  Genesis g = MakeGenesis({1, 1, 1});
  CheckpointTally one = TallyCheckpoints(g, kHeight, {Signed(0, "x")});
  EXPECT_EQ(one.quorum, 2u);
  EXPECT_FALSE(one.certified.has_value());
  EXPECT_EQ(one.signatures.size(), 1u);

  CheckpointTally two = TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(2, "x")});
  ASSERT_TRUE(two.certified.has_value());
  EXPECT_TRUE(two.certified->SameAs(Signed(1, "x")));
  EXPECT_EQ(two.certified->block_hash, HashOf("block x"));
  EXPECT_EQ(two.certified->state_root, Blake2b256("state x"));
  EXPECT_EQ(two.signatures.size(), 2u);

  // Two against one: the two win, the dissenter is still listed.
  CheckpointTally split = TallyCheckpoints(g, kHeight, {Signed(0, "y"), Signed(1, "x"), Signed(2, "x")});
  ASSERT_TRUE(split.certified.has_value());
  EXPECT_TRUE(split.certified->SameAs(Signed(0, "x")));
  EXPECT_EQ(split.signatures.size(), 3u);
}

TEST(CheckpointTally, NodesOfOneOrganisationCountOnce) {
  // org-0 runs Node(0) and Node(1); org-1 runs Node(2); org-2 runs Node(3).
  Genesis g = MakeGenesis({2, 1, 1});
  CheckpointTally same_org = TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(1, "x")});
  EXPECT_EQ(same_org.quorum, 2u);
  EXPECT_FALSE(same_org.certified.has_value());
  EXPECT_EQ(same_org.signatures.size(), 2u);
  // The same signature twice counts once too.
  EXPECT_FALSE(TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(0, "x")}).certified.has_value());
  // Another organisation joining makes the quorum.
  CheckpointTally with_other = TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(1, "x"), Signed(3, "x")});
  ASSERT_TRUE(with_other.certified.has_value());
  EXPECT_TRUE(with_other.certified->SameAs(Signed(2, "x")));
}

TEST(CheckpointTally, IgnoresNonNodesBadSignaturesAndOtherHeights) {
  Genesis g = MakeGenesis({1, 1, 1});
  Checkpoint stranger = Checkpoint::Sign(kChainId, kHeight, HashOf("block x"), Blake2b256("state x"), Stranger());
  Checkpoint admin = Checkpoint::Sign(kChainId, kHeight, HashOf("block x"), Blake2b256("state x"), Key(41));
  Checkpoint forged = Signed(1, "x");
  forged.signature.bytes[10] ^= 0x40;
  Checkpoint claimed = Signed(1, "y");  // node 1's signature over another pair
  claimed.block_hash = HashOf("block x");
  claimed.state_root = Blake2b256("state x");
  Checkpoint other_chain = Checkpoint::Sign("another-chain", kHeight, HashOf("block x"), Blake2b256("state x"), Node(1));
  Checkpoint other_height = Signed(1, "x", kHeight + 1);

  std::vector<Checkpoint> sigs = {Signed(0, "x"), stranger, admin, forged, claimed, other_chain, other_height};
  CheckpointTally t = TallyCheckpoints(g, kHeight, sigs);
  EXPECT_FALSE(t.certified.has_value());
  ASSERT_EQ(t.signatures.size(), 1u);
  EXPECT_EQ(t.signatures[0].node, Node(0).public_key());

  // A good one from a second organisation certifies.
  sigs.push_back(Signed(2, "x"));
  t = TallyCheckpoints(g, kHeight, sigs);
  ASSERT_TRUE(t.certified.has_value());
  EXPECT_TRUE(t.certified->SameAs(Signed(0, "x")));
  EXPECT_EQ(t.signatures.size(), 2u);

  // The other-height signature counts at its own height.
  CheckpointTally next = TallyCheckpoints(g, kHeight + 1, {other_height, Signed(0, "x", kHeight + 1)});
  ASSERT_TRUE(next.certified.has_value());
  EXPECT_EQ(next.certified->height, kHeight + 1);
}

TEST(CheckpointTally, AThreeWaySplitCertifiesNothing) {
  Genesis g = MakeGenesis({1, 1, 1});
  CheckpointTally t = TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(1, "y"), Signed(2, "z")});
  EXPECT_EQ(t.quorum, 2u);
  EXPECT_FALSE(t.certified.has_value());
  EXPECT_EQ(t.signatures.size(), 3u);
  // Same block hash, different state roots: still a split.
  Checkpoint diverged = Checkpoint::Sign(kChainId, kHeight, HashOf("block x"), Blake2b256("state q"), Node(1));
  CheckpointTally d = TallyCheckpoints(g, kHeight, {Signed(0, "x"), diverged});
  EXPECT_FALSE(d.certified.has_value());
  EXPECT_EQ(d.signatures.size(), 2u);
}

}  // namespace
}  // namespace cc

namespace cc {
namespace {

TEST(CheckpointTally, AnOrganisationWhoseNodesDisagreeBacksNeitherPair) {
  // org-0 runs Node(0) and Node(1), which sign different pairs; org-1 signs
  // x, org-2 signs y. Counting org-0 for both would certify both.
  Genesis g = MakeGenesis({2, 1, 1});
  for (bool reversed : {false, true}) {
    std::vector<Checkpoint> sigs = {Signed(0, "x"), Signed(1, "y"), Signed(2, "x"), Signed(3, "y")};
    if (reversed) std::reverse(sigs.begin(), sigs.end());
    CheckpointTally t = TallyCheckpoints(g, kHeight, sigs);
    EXPECT_FALSE(t.certified.has_value()) << reversed;
    EXPECT_EQ(t.split_orgs, std::vector<std::string>{"org-0"});
    EXPECT_EQ(t.signatures.size(), 4u);
  }
  // Without the split organisation, x still needs a second one.
  CheckpointTally t = TallyCheckpoints(g, kHeight, {Signed(0, "x"), Signed(1, "y"), Signed(2, "x"), Signed(3, "x")});
  ASSERT_TRUE(t.certified.has_value());
  EXPECT_TRUE(t.certified->SameAs(Signed(2, "x")));
}

}  // namespace
}  // namespace cc

#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <set>

namespace cc::merkle {
namespace {

std::vector<Hash256> Leaves(size_t n, const std::string& salt = "") {
  std::vector<Hash256> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash(AsBytes("leaf-" + salt + std::to_string(i))));
  return out;
}

// Independent reference: the root of leaves [lo, hi) where the left subtree
// holds the largest power of two that leaves a non-empty right part only if
// that matches the level-by-level pairing. Pairing with promotion of the odd
// last node is the same as: split at the largest power of two < n.
Hash256 ReferenceRoot(const std::vector<Hash256>& l, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n == 1) return l[lo];
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return NodeHash(ReferenceRoot(l, lo, lo + k), ReferenceRoot(l, lo + k, hi));
}

TEST(Merkle, EmptyTreeRootIsHashOfNothing) {
  EXPECT_EQ(Root({}), Blake2b256(ByteView()));
}

TEST(Merkle, SmallTreesHaveTheDocumentedShape) {
  auto l = Leaves(7);
  EXPECT_EQ(Root({l[0]}), l[0]);
  EXPECT_EQ(Root({l[0], l[1]}), NodeHash(l[0], l[1]));
  // Three leaves: the third is promoted, not paired with a copy of itself.
  EXPECT_EQ(Root({l[0], l[1], l[2]}), NodeHash(NodeHash(l[0], l[1]), l[2]));
  EXPECT_EQ(Root({l[0], l[1], l[2], l[3], l[4]}),
            NodeHash(NodeHash(NodeHash(l[0], l[1]), NodeHash(l[2], l[3])), l[4]));
  EXPECT_EQ(Root(l), NodeHash(NodeHash(NodeHash(l[0], l[1]), NodeHash(l[2], l[3])),
                              NodeHash(NodeHash(l[4], l[5]), l[6])));
}

TEST(Merkle, RootsMatchReferenceAndEveryProofVerifies) {
  std::set<Hash256> roots;
  for (size_t n = 1; n <= 40; ++n) {
    auto l = Leaves(n);
    Hash256 root = Root(l);
    EXPECT_EQ(root, ReferenceRoot(l, 0, n)) << "n=" << n;
    roots.insert(root);
    size_t max_depth = 0;
    while ((size_t{1} << max_depth) < n) ++max_depth;
    for (size_t i = 0; i < n; ++i) {
      auto path = Proof(l, i);
      EXPECT_LE(path.size(), max_depth) << "n=" << n << " i=" << i;
      auto r = RootFromProof(l[i], i, n, path);
      ASSERT_TRUE(r.ok()) << "n=" << n << " i=" << i << ": " << r.status().ToString();
      EXPECT_EQ(*r, root) << "n=" << n << " i=" << i;
    }
  }
  EXPECT_EQ(roots.size(), 40u);  // prefixes of one list never share a root
}

TEST(Merkle, WrongIndexLeafPathOrCountFails) {
  for (size_t n : {2u, 3u, 5u, 8u, 13u, 33u}) {
    auto l = Leaves(n);
    Hash256 root = Root(l);
    for (size_t i = 0; i < n; ++i) {
      auto path = Proof(l, i);
      // Wrong leaf.
      auto wrong_leaf = RootFromProof(LeafHash(AsBytes(std::string_view("other"))), i, n, path);
      EXPECT_TRUE(!wrong_leaf.ok() || *wrong_leaf != root) << n << "/" << i;
      // Another leaf of the same tree with this proof.
      auto swapped = RootFromProof(l[(i + 1) % n], i, n, path);
      EXPECT_TRUE(!swapped.ok() || *swapped != root) << n << "/" << i;
      // Wrong index.
      for (size_t j = 0; j < n; ++j) {
        if (j == i) continue;
        auto r = RootFromProof(l[i], j, n, path);
        EXPECT_TRUE(!r.ok() || *r != root) << n << " proof of " << i << " at " << j;
      }
      // A count too small for the index, or one that changes the number of
      // levels with a sibling, fails. (Trees of different sizes can share a
      // path shape, e.g. leaf 0 of 3 and of 4, so proof verifiers must also
      // bind the count to the block header: see ledger/proof_test.cc.)
      EXPECT_FALSE(RootFromProof(l[i], i, i, path).ok());
      EXPECT_FALSE(RootFromProof(l[i], i, 1, path).ok());
      for (size_t c = i + 1; c <= 2 * n + 2; ++c) {
        if (c == n) continue;
        auto r = RootFromProof(l[i], i, c, path);
        if (r.ok() && *r == root) {
          // Only possible if the proof has the same shape in a tree of c leaves.
          auto same_shape = Leaves(c, "x");
          EXPECT_EQ(Proof(same_shape, i).size(), path.size()) << n << "/" << i << " count " << c;
        }
      }
      // A changed path element.
      for (size_t p = 0; p < path.size(); ++p) {
        auto bad = path;
        bad[p].bytes[p % 32] ^= 0x01;
        auto r = RootFromProof(l[i], i, n, bad);
        ASSERT_TRUE(r.ok());
        EXPECT_NE(*r, root) << n << "/" << i << " path element " << p;
      }
      // Two path elements swapped.
      if (path.size() >= 2 && path[0] != path[1]) {
        auto bad = path;
        std::swap(bad[0], bad[1]);
        auto r = RootFromProof(l[i], i, n, bad);
        EXPECT_TRUE(!r.ok() || *r != root);
      }
    }
  }
}

TEST(Merkle, ProofTooLongOrTooShortFails) {
  auto l = Leaves(11);
  for (size_t i = 0; i < l.size(); ++i) {
    auto path = Proof(l, i);
    ASSERT_FALSE(path.empty());
    auto longer = path;
    longer.push_back(l[0]);
    auto r = RootFromProof(l[i], i, l.size(), longer);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("too long"), std::string::npos);
    auto shorter = path;
    shorter.pop_back();
    r = RootFromProof(l[i], i, l.size(), shorter);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("too short"), std::string::npos);
    EXPECT_FALSE(RootFromProof(l[i], i, l.size(), {}).ok());
  }
  // A one-leaf tree has an empty proof, and nothing else is accepted.
  EXPECT_TRUE(Proof({l[0]}, 0).empty());
  EXPECT_EQ(*RootFromProof(l[0], 0, 1, {}), l[0]);
  EXPECT_FALSE(RootFromProof(l[0], 0, 1, {l[1]}).ok());
}

TEST(Merkle, CountChangesThatChangeTheShapeFail) {
  auto l3 = Leaves(3);
  // Leaf 2 of 3 is promoted past level 0; as leaf 2 of 4 it would need a sibling.
  auto p = Proof(l3, 2);
  EXPECT_FALSE(RootFromProof(l3[2], 2, 4, p).ok());
  auto l8 = Leaves(8);
  auto p8 = Proof(l8, 5);
  ASSERT_EQ(p8.size(), 3u);
  EXPECT_FALSE(RootFromProof(l8[5], 5, 16, p8).ok());  // needs a 4th level
  EXPECT_FALSE(RootFromProof(l8[5], 5, 6, p8).ok());   // only 3 levels, one sibling fewer
  // The documented ambiguity: leaf 0 of 3 and leaf 0 of 4 share a proof shape.
  auto r = RootFromProof(l3[0], 0, 4, Proof(l3, 0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Root(l3));
}

TEST(Merkle, IndexOutOfRangeOrEmptyTreeFails) {
  auto l = Leaves(4);
  EXPECT_FALSE(RootFromProof(l[0], 4, 4, Proof(l, 3)).ok());
  EXPECT_FALSE(RootFromProof(l[0], 0, 0, {}).ok());
  EXPECT_FALSE(RootFromProof(l[0], ~0ull, 4, Proof(l, 0)).ok());
}

TEST(Merkle, OddLevelsPromoteAndNeverDuplicate) {
  auto l = Leaves(3);
  // With duplication (Bitcoin's CVE-2012-2459), [a,b,c] and [a,b,c,c] share a root.
  EXPECT_NE(Root({l[0], l[1], l[2]}), Root({l[0], l[1], l[2], l[2]}));
  auto l5 = Leaves(5);
  EXPECT_NE(Root(l5), Root({l5[0], l5[1], l5[2], l5[3], l5[4], l5[4]}));
  EXPECT_NE(Root(l5), Root({l5[0], l5[1], l5[2], l5[3], l5[4], l5[4], l5[4], l5[4]}));
  // The promoted leaf's proof skips the level where it has no sibling.
  auto path = Proof(l, 2);
  ASSERT_EQ(path.size(), 1u);
  EXPECT_EQ(path[0], NodeHash(l[0], l[1]));
}

TEST(Merkle, ALeafCannotPassAsAnInnerNode) {
  auto l = Leaves(4);
  Hash256 inner = NodeHash(l[0], l[1]);
  // The bytes an inner node hashes, offered as leaf data, hash differently.
  std::string as_data;
  as_data.push_back('\x01');
  as_data.append(AsChars(l[0].view()));
  as_data.append(AsChars(l[1].view()));
  EXPECT_NE(LeafHash(AsBytes(as_data)), inner);
  std::string raw;
  raw.append(AsChars(l[0].view()));
  raw.append(AsChars(l[1].view()));
  EXPECT_NE(LeafHash(AsBytes(raw)), inner);
  // Domain separation of leaves and nodes.
  EXPECT_NE(LeafHash(ByteView()), Blake2b256(ByteView()));
  // The inner node as "leaf 0 of 2" of the upper level proves against the
  // root only with the wrong count: the real count (4) makes it fail.
  Hash256 root = Root(l);
  auto r = RootFromProof(inner, 0, 2, {NodeHash(l[2], l[3])});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, root);  // hence verifiers must bind count to the header
  auto with_real_count = RootFromProof(inner, 0, 4, {NodeHash(l[2], l[3])});
  EXPECT_FALSE(with_real_count.ok() && *with_real_count == root);
}

TEST(Merkle, LeafOrderMatters) {
  auto l = Leaves(4);
  EXPECT_NE(Root(l), Root({l[1], l[0], l[2], l[3]}));
  EXPECT_NE(NodeHash(l[0], l[1]), NodeHash(l[1], l[0]));
}

}  // namespace
}  // namespace cc::merkle

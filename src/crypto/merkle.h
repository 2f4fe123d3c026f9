// Binary Merkle trees over BLAKE2b-256 with inclusion proofs.
//
// Leaves are hashed as H(0x00 || data) and inner nodes as H(0x01 || l || r),
// so a leaf can never be passed off as an inner node. On a level with an odd
// number of nodes the last one is promoted unchanged (never duplicated, which
// would let two different leaf lists share a root). The root of an empty tree
// is H("") (all nodes agree on it; no proof exists for it).
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/hash.h"
#include "util/status.h"

namespace cc::merkle {

Hash256 LeafHash(ByteView data);
Hash256 NodeHash(const Hash256& left, const Hash256& right);

// Root over already-hashed leaves.
Hash256 Root(std::vector<Hash256> leaves);

// The sibling hashes from leaf `index` up to the root (promoted levels have
// no sibling and contribute nothing). REQUIRES: index < leaves.size().
std::vector<Hash256> Proof(std::vector<Hash256> leaves, uint64_t index);

// Recomputes the root from a leaf hash and its proof.
Result<Hash256> RootFromProof(const Hash256& leaf, uint64_t index, uint64_t count,
                              const std::vector<Hash256>& path);

}  // namespace cc::merkle

#include "crypto/merkle.h"

namespace cc::merkle {

Hash256 LeafHash(ByteView data) {
  const uint8_t prefix = 0x00;
  return Hasher().Update(ByteView(&prefix, 1)).Update(data).Finish();
}

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  const uint8_t prefix = 0x01;
  return Hasher().Update(ByteView(&prefix, 1)).Update(left.view()).Update(right.view()).Finish();
}

// Replaces `level` by the next level up, in place.
static void Reduce(std::vector<Hash256>& level) {
  size_t out = 0;
  for (size_t i = 0; i + 1 < level.size(); i += 2) level[out++] = NodeHash(level[i], level[i + 1]);
  if (level.size() % 2 == 1) level[out++] = level.back();
  level.resize(out);
}

Hash256 Root(std::vector<Hash256> leaves) {
  if (leaves.empty()) return Blake2b256(ByteView());
  while (leaves.size() > 1) Reduce(leaves);
  return leaves[0];
}

std::vector<Hash256> Proof(std::vector<Hash256> level, uint64_t index) {
  std::vector<Hash256> path;
  while (level.size() > 1) {
    uint64_t sibling = index ^ 1;
    if (sibling < level.size()) path.push_back(level[sibling]);
    Reduce(level);
    index >>= 1;
  }
  return path;
}

Result<Hash256> RootFromProof(const Hash256& leaf, uint64_t index, uint64_t count,
                              const std::vector<Hash256>& path) {
  if (count == 0 || index >= count) return Status::Invalid("leaf index out of range");
  Hash256 h = leaf;
  size_t used = 0;
  while (count > 1) {
    uint64_t sibling = index ^ 1;
    if (sibling < count) {
      if (used == path.size()) return Status::Invalid("proof path too short");
      h = (index & 1) ? NodeHash(path[used], h) : NodeHash(h, path[used]);
      ++used;
    }
    index >>= 1;
    count = (count + 1) / 2;
  }
  if (used != path.size()) return Status::Invalid("proof path too long");
  return h;
}

}  // namespace cc::merkle

// An incremental multiset hash of the whole state (key/value set).
//
// digest = sum over entries of BLAKE2b-512(le64(len(key)) || key || value), mod 2^512.
// Adding or removing one entry costs one hash, so every block can carry a
// commitment to the full state without a state tree, and a node can re-check
// its state store against the chain with one scan. The 512-bit modulus keeps
// generalised-birthday (Wagner) attacks out of reach for state sizes we expect;
// the digest protects integrity against faults and tampering that are then
// caught by checkpoints, not secrecy.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "crypto/hash.h"

namespace cc {

class StateDigest {
 public:
  static constexpr size_t kBytes = 64;

  void Add(std::string_view key, std::string_view value);
  void Remove(std::string_view key, std::string_view value);

  // 32-byte commitment for block headers and checkpoints.
  Hash256 Root() const;

  std::string Serialize() const;  // 64 bytes, little-endian limbs
  static bool Parse(std::string_view bytes, StateDigest* out);

  bool operator==(const StateDigest&) const = default;

 private:
  std::array<uint64_t, 8> limbs_{};
};

}  // namespace cc

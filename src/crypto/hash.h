// BLAKE2b-256 hashing and strong hash types.
//
// Why BLAKE2b rather than SHA-256: both are in libsodium, our one crypto
// library, but libsodium's SHA-256 is portable C (~0.4 GB/s here) while its
// BLAKE2b runs at ~1 GB/s. OpenSSL's SHA-NI SHA-256 is faster still
// (~1.6 GB/s), but would put a second crypto library under the ledger, and
// hashing is a small part of the commit path next to Ed25519 verification.
// SHA-256 appears only where a standard demands it (HTTP Content-Digest).
#pragma once

#include <array>
#include <algorithm>
#include <compare>
#include <cstring>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace cc {

// A 32-byte digest. The Tag makes TxId and BlockHash distinct types.
template <typename Tag>
struct Digest {
  std::array<uint8_t, 32> bytes{};

  static constexpr size_t kSize = 32;
  ByteView view() const { return {bytes.data(), bytes.size()}; }
  std::string hex() const { return ToHex(view()); }
  bool IsZero() const {
    for (uint8_t b : bytes) if (b) return false;
    return true;
  }
  static std::optional<Digest> FromHex(std::string_view h) {
    auto b = cc::FromHex(h);
    if (!b || b->size() != kSize) return std::nullopt;
    Digest d;
    std::copy(b->begin(), b->end(), d.bytes.begin());
    return d;
  }
  static Digest FromView(ByteView v) {  // REQUIRES: v.size() == 32
    Digest d;
    std::copy(v.begin(), v.begin() + kSize, d.bytes.begin());
    return d;
  }
  template <typename Other>
  static Digest From(const Digest<Other>& o) { return Digest{o.bytes}; }
  auto operator<=>(const Digest&) const = default;
};

struct HashTag {};
struct TxIdTag {};
struct BlockHashTag {};
using Hash256 = Digest<HashTag>;
using TxId = Digest<TxIdTag>;
using BlockHash = Digest<BlockHashTag>;

Hash256 Blake2b256(ByteView data);
inline Hash256 Blake2b256(std::string_view s) { return Blake2b256(AsBytes(s)); }

// Streaming BLAKE2b-256.
class Hasher {
 public:
  Hasher();
  Hasher& Update(ByteView data);
  Hasher& Update(std::string_view s) { return Update(AsBytes(s)); }
  Hash256 Finish();

 private:
  alignas(64) unsigned char state_[384];
};

struct DigestHash {
  template <typename Tag>
  size_t operator()(const Digest<Tag>& d) const {
    size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace cc

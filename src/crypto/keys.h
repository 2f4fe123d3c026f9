// Ed25519 keys and signatures (libsodium).
//
// Thread safety: all functions are safe to call concurrently. Call
// crypto::Init() once before anything else (it is idempotent).
#pragma once

#include <array>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace cc {

namespace crypto {
// Initialises libsodium; aborts if it cannot.
void Init();
}  // namespace crypto

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  static constexpr size_t kSize = 32;
  ByteView view() const { return {bytes.data(), bytes.size()}; }
  std::string hex() const { return ToHex(view()); }
  static std::optional<PublicKey> FromHex(std::string_view h);
  static PublicKey FromView(ByteView v);  // REQUIRES: v.size() == 32
  bool IsZero() const;
  auto operator<=>(const PublicKey&) const = default;
};

struct Signature {
  std::array<uint8_t, 64> bytes{};
  static constexpr size_t kSize = 64;
  ByteView view() const { return {bytes.data(), bytes.size()}; }
  std::string hex() const { return ToHex(view()); }
  static std::optional<Signature> FromHex(std::string_view h);
  static Signature FromView(ByteView v);  // REQUIRES: v.size() == 64
  auto operator<=>(const Signature&) const = default;
};

// An Ed25519 secret key (libsodium's 64-byte seed||public form). Wiped on
// destruction; never logged.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey();
  SecretKey(const SecretKey&);
  SecretKey& operator=(const SecretKey&);

  static SecretKey Generate();
  static SecretKey FromSeed(ByteView seed32);  // REQUIRES: seed32.size() == 32

  PublicKey public_key() const;
  ByteView seed() const { return {bytes_.data(), 32}; }
  Signature Sign(ByteView message) const;

 private:
  std::array<uint8_t, 64> bytes_{};
};

// Fills `out` with cryptographically secure random bytes.
void RandomBytes(uint8_t* out, size_t n);
// `bytes` random bytes as lower-case hex (ids of records, outbox entries).
std::string RandomHex(size_t bytes);

// True iff `sig` is a valid signature of `message` under `key`. libsodium
// rejects non-canonical signatures and small-order keys, so signatures are not
// malleable and a transaction's hash identifies it.
bool Verify(const PublicKey& key, ByteView message, const Signature& sig);

struct PublicKeyHash {
  size_t operator()(const PublicKey& k) const {
    size_t h;
    static_assert(sizeof h <= 32);
    __builtin_memcpy(&h, k.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace cc

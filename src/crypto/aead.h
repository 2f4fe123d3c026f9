// Authenticated encryption of records at rest (XChaCha20-Poly1305-IETF,
// libsodium) and the salted content hash that goes on chain.
//
// Sealed form: 24-byte random nonce || ciphertext || 16-byte tag. XChaCha's
// 192-bit nonce makes random nonces safe for any number of messages per key.
// The associated data binds a ciphertext to its context (e.g. the record id),
// so a ciphertext moved to another row does not open.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/hash.h"
#include "util/status.h"

namespace cc {

inline constexpr size_t kAeadNonceBytes = 24;
inline constexpr size_t kAeadTagBytes = 16;

// A 256-bit symmetric key, wiped on destruction; never logged.
class AeadKey {
 public:
  static constexpr size_t kSize = 32;
  AeadKey() = default;
  ~AeadKey();
  AeadKey(const AeadKey&) = default;
  AeadKey& operator=(const AeadKey&) = default;

  static AeadKey Generate();
  // kInvalidArgument unless `raw` is exactly 32 bytes.
  static Result<AeadKey> FromBytes(std::string_view raw);
  std::string_view bytes() const { return {reinterpret_cast<const char*>(k_.data()), k_.size()}; }

 private:
  std::array<uint8_t, kSize> k_{};
};

// Encrypts `plaintext`, authenticating it and `ad`.
std::string Seal(const AeadKey& key, std::string_view plaintext, std::string_view ad);
// Decrypts a Seal() output; kCorruption if it was altered, sealed under
// another key or with other associated data.
Result<std::string> Open(const AeadKey& key, std::string_view sealed, std::string_view ad);

// BLAKE2b-256 keyed with `salt` (16..64 bytes): H_salt(data). Without the
// salt the hash cannot be tested against guessed contents.
// REQUIRES: 16 <= salt.size() <= 64.
Hash256 SaltedHash(std::string_view salt, std::string_view data);

// Overwrites `n` bytes at `p` with zeros (not optimised away).
void Wipe(void* p, size_t n);

}  // namespace cc

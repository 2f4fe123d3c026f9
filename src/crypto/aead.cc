#include "crypto/aead.h"

#include <sodium.h>

#include <cassert>

#include "crypto/keys.h"

namespace cc {

static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == AeadKey::kSize);

AeadKey::~AeadKey() { sodium_memzero(k_.data(), k_.size()); }

AeadKey AeadKey::Generate() {
  AeadKey k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.k_.data());
  return k;
}

Result<AeadKey> AeadKey::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) return Status::Invalid("a key must be 32 bytes");
  AeadKey k;
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(k.k_.data()));
  return k;
}

std::string Seal(const AeadKey& key, std::string_view plaintext, std::string_view ad) {
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  RandomBytes(o, kAeadNonceBytes);
  unsigned long long n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      o + kAeadNonceBytes, &n, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, o,
      reinterpret_cast<const unsigned char*>(key.bytes().data()));
  assert(n == plaintext.size() + kAeadTagBytes);
  return out;
}

Result<std::string> Open(const AeadKey& key, std::string_view sealed, std::string_view ad) {
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes) return Status::Corruption("sealed data is truncated");
  std::string out(sealed.size() - kAeadNonceBytes - kAeadTagBytes, '\0');
  const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
  unsigned long long n = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &n, nullptr, s + kAeadNonceBytes,
          sealed.size() - kAeadNonceBytes, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), s,
          reinterpret_cast<const unsigned char*>(key.bytes().data())) != 0) {
    Wipe(out.data(), out.size());
    return Status::Corruption("sealed data does not open with this key (altered, or another key or context)");
  }
  return out;
}

Hash256 SaltedHash(std::string_view salt, std::string_view data) {
  assert(salt.size() >= crypto_generichash_KEYBYTES_MIN && salt.size() <= crypto_generichash_KEYBYTES_MAX);
  Hash256 h;
  crypto_generichash(h.bytes.data(), h.bytes.size(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size());
  return h;
}

void Wipe(void* p, size_t n) { sodium_memzero(p, n); }

}  // namespace cc

#include "crypto/keys.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace cc {

namespace crypto {
void Init() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}
}  // namespace crypto

std::optional<PublicKey> PublicKey::FromHex(std::string_view h) {
  auto b = cc::FromHex(h);
  if (!b || b->size() != kSize) return std::nullopt;
  return FromView(*b);
}

PublicKey PublicKey::FromView(ByteView v) {
  PublicKey k;
  std::memcpy(k.bytes.data(), v.data(), kSize);
  return k;
}

bool PublicKey::IsZero() const {
  for (uint8_t b : bytes) if (b) return false;
  return true;
}

std::optional<Signature> Signature::FromHex(std::string_view h) {
  auto b = cc::FromHex(h);
  if (!b || b->size() != kSize) return std::nullopt;
  return FromView(*b);
}

Signature Signature::FromView(ByteView v) {
  Signature s;
  std::memcpy(s.bytes.data(), v.data(), kSize);
  return s;
}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }
SecretKey::SecretKey(const SecretKey& o) : bytes_(o.bytes_) {}
SecretKey& SecretKey::operator=(const SecretKey& o) {
  bytes_ = o.bytes_;
  return *this;
}

SecretKey SecretKey::Generate() {
  crypto::Init();
  SecretKey sk;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, sk.bytes_.data());
  return sk;
}

SecretKey SecretKey::FromSeed(ByteView seed32) {
  crypto::Init();
  SecretKey sk;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, sk.bytes_.data(), seed32.data());
  return sk;
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), bytes_.data());
  return pk;
}

Signature SecretKey::Sign(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(), bytes_.data());
  return sig;
}

void RandomBytes(uint8_t* out, size_t n) {
  crypto::Init();
  randombytes_buf(out, n);
}

std::string RandomHex(size_t bytes) {
  Bytes b(bytes);
  RandomBytes(b.data(), b.size());
  return ToHex(b);
}

bool Verify(const PublicKey& key, ByteView message, const Signature& sig) {
  return crypto_sign_verify_detached(sig.bytes.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

}  // namespace cc

#include "crypto/hash.h"

#include <sodium.h>

namespace cc {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher state buffer too small");

Hash256 Blake2b256(ByteView data) {
  Hash256 h;
  crypto_generichash(h.bytes.data(), h.bytes.size(), data.data(), data.size(), nullptr, 0);
  return h;
}

Hasher::Hasher() {
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, 32);
}

Hasher& Hasher::Update(ByteView data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), data.data(),
                            data.size());
  return *this;
}

Hash256 Hasher::Finish() {
  Hash256 h;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), h.bytes.data(),
                           h.bytes.size());
  return h;
}

}  // namespace cc

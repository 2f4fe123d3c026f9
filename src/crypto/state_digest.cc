#include "crypto/state_digest.h"

#include <sodium.h>

#include <cstring>


namespace cc {
namespace {

std::array<uint64_t, 8> EntryHash(std::string_view key, std::string_view value) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 64);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(key.size()) >> (8 * i));
  crypto_generichash_update(&st, len, sizeof len);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(key.data()), key.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(value.data()), value.size());
  uint8_t out[64];
  crypto_generichash_final(&st, out, sizeof out);
  std::array<uint64_t, 8> limbs;
  for (int i = 0; i < 8; ++i) {
    uint64_t v = 0;
    for (int j = 7; j >= 0; --j) v = v << 8 | out[8 * i + j];
    limbs[i] = v;
  }
  return limbs;
}

}  // namespace

void StateDigest::Add(std::string_view key, std::string_view value) {
  auto h = EntryHash(key, value);
  unsigned __int128 carry = 0;
  for (int i = 0; i < 8; ++i) {
    unsigned __int128 s = static_cast<unsigned __int128>(limbs_[i]) + h[i] + carry;
    limbs_[i] = static_cast<uint64_t>(s);
    carry = s >> 64;
  }
}

void StateDigest::Remove(std::string_view key, std::string_view value) {
  auto h = EntryHash(key, value);
  uint64_t borrow = 0;
  for (int i = 0; i < 8; ++i) {
    uint64_t a = limbs_[i];
    uint64_t d = a - h[i] - borrow;
    borrow = (a < h[i]) || (a - h[i] < borrow) ? 1 : 0;
    limbs_[i] = d;
  }
}

std::string StateDigest::Serialize() const {
  std::string out(kBytes, '\0');
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) out[8 * i + j] = static_cast<char>(limbs_[i] >> (8 * j));
  return out;
}

bool StateDigest::Parse(std::string_view bytes, StateDigest* out) {
  if (bytes.size() != kBytes) return false;
  for (int i = 0; i < 8; ++i) {
    uint64_t v = 0;
    for (int j = 7; j >= 0; --j) v = v << 8 | static_cast<uint8_t>(bytes[8 * i + j]);
    out->limbs_[i] = v;
  }
  return true;
}

Hash256 StateDigest::Root() const {
  const char tag[] = "carechain:state:v1";
  return Hasher().Update(std::string_view(tag)).Update(Serialize()).Finish();
}

}  // namespace cc

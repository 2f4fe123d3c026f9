// Shared by the fuzz targets: a property check that stays on in every build
// and names the broken property, so libFuzzer reports it as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "crypto/keys.h"

#define FUZZ_CHECK(cond, what)                                                                   \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "%s:%d: fuzz property violated: %s (%s)\n", __FILE__, __LINE__, what, \
                   #cond);                                                                       \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

namespace cc::fuzz {

// A fixed key: its seed is 32 bytes of `n`.
inline SecretKey Seed(uint8_t n) {
  Bytes seed(32, n);
  return SecretKey::FromSeed(seed);
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace cc::fuzz

// Byte buffers and hex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cc {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string ToHex(ByteView b);
// Lower- or upper-case hex; nullopt on odd length or a non-hex digit.
std::optional<Bytes> FromHex(std::string_view hex);

// Big-endian fixed 64-bit, so that keys sort by number.
void AppendBigEndian64(std::string* out, uint64_t v);
uint64_t ReadBigEndian64(const uint8_t* p);

// `n` in decimal, zero-padded to `width` digits (wider numbers are not
// cut), so that keys sort by number: ZeroPadded(42, 6) == "000042".
std::string ZeroPadded(uint64_t n, int width);

}  // namespace cc

// SHA-256 and base64 (libsodium), for HTTP message signatures' Content-Digest
// (RFC 9530) and signature encoding (RFC 9421), and for the research
// registry's document hashes (checkable with sha256sum). The ledger itself
// hashes with BLAKE2b (hash.h).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace cc {

std::array<uint8_t, 32> Sha256(std::string_view data);

std::string Base64Encode(ByteView data);
// Standard alphabet with padding; nullopt on anything else.
std::optional<Bytes> Base64Decode(std::string_view text);

}  // namespace cc

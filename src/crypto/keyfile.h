// Key files: the CLI's (and later the portal's) on-disk form of an Ed25519 key.
//
//   {"type": "ed25519", "public_key": "<64 hex>", "seed": "<64 hex>"}
//
// Written atomically with mode 0600; reading checks that the seed derives the
// stated public key.
#pragma once

#include <string>

#include "crypto/keys.h"
#include "util/status.h"

namespace cc {

Status WriteKeyFile(const std::string& path, const SecretKey& key, bool overwrite);
Result<SecretKey> ReadKeyFile(const std::string& path);
// Parses the JSON text of a key file.
Result<SecretKey> ParseKeyFile(const std::string& text);

}  // namespace cc

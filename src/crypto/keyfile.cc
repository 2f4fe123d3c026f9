#include "crypto/keyfile.h"

#include <nlohmann/json.hpp>

#include "util/env.h"

namespace cc {

Status WriteKeyFile(const std::string& path, const SecretKey& key, bool overwrite) {
  nlohmann::json j = {{"type", "ed25519"},
                      {"public_key", key.public_key().hex()},
                      {"seed", ToHex(key.seed())}};
  return WriteFileAtomic(path, j.dump(2) + "\n", 0600, overwrite);
}

Result<SecretKey> ParseKeyFile(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("type", "") != "ed25519" || !j.contains("seed") ||
      !j["seed"].is_string()) {
    return Status::Invalid("not an ed25519 key file");
  }
  auto seed = FromHex(j["seed"].get<std::string>());
  if (!seed || seed->size() != 32) return Status::Invalid("key file seed must be 32 bytes of hex");
  SecretKey sk = SecretKey::FromSeed(*seed);
  if (j.contains("public_key")) {
    if (!j["public_key"].is_string() || j["public_key"].get<std::string>() != sk.public_key().hex())
      return Status::Invalid("key file public_key does not match its seed");
  }
  return sk;
}

Result<SecretKey> ReadKeyFile(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto r = ParseKeyFile(text);
  if (!r.ok()) return Status(r.status().code(), path + ": " + r.status().message());
  return r;
}

}  // namespace cc

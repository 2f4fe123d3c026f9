// Transactions: immutable once built, hash cached (Bitcoin's CTransaction).
//
// Encoding (docs/formats.md):
//   u8 version (=1) | bytes chain_id (<=64) | fixed32 actor | varint nonce |
//   bytes module (<=32) | bytes action (<=32) | bytes payload (canonical JSON) |
//   fixed64 signature
// The signature is Ed25519 over "carechain:tx:v1" || every field before it.
// TxId = BLAKE2b-256 of the whole encoding, signature included (libsodium's
// signatures are not malleable, so the id is stable).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "util/status.h"

namespace cc {

inline constexpr uint8_t kTxVersion = 1;
inline constexpr size_t kMaxChainIdLen = 64;
inline constexpr size_t kMaxNameLen = 32;
// Hard cap of the decoder; the network's parameter (genesis) is usually lower.
inline constexpr size_t kMaxEncodedTxBytes = 1 << 20;

// The fields a signer fills in (CMutableTransaction's role).
struct TxBody {
  std::string chain_id;
  PublicKey actor;
  uint64_t nonce = 0;
  std::string module;
  std::string action;
  std::string payload;  // canonical JSON object

  // The bytes the signature covers, without the domain tag.
  std::string EncodeUnsigned() const;
};

class Transaction;
using TxPtr = std::shared_ptr<const Transaction>;

class Transaction {
 public:
  // Signs `body` with `key`. REQUIRES: key.public_key() == body.actor.
  static TxPtr Sign(TxBody body, const SecretKey& key);
  // Builds from a body and a signature made elsewhere (JSON form, browser).
  static TxPtr FromParts(TxBody body, const Signature& sig);
  // Decodes the canonical encoding; anything else is kInvalidArgument.
  // Checks structure only (not the signature nor the payload's JSON).
  static Result<TxPtr> Decode(std::string_view encoded);

  const TxBody& body() const { return body_; }
  const Signature& signature() const { return sig_; }
  const TxId& id() const { return id_; }
  const std::string& encoded() const { return encoded_; }

  // The message Ed25519 signs: domain tag || EncodeUnsigned().
  static std::string SigningMessage(const TxBody& body);
  bool VerifySignature() const;

  // JSON mapping (docs/api.md): {"id","chain_id","actor","nonce","module",
  // "action","payload":{...},"signature"}.
  nlohmann::json ToJson() const;
  // Accepts the same object; "id" is ignored if present (it is derived).
  static Result<TxPtr> FromJson(const nlohmann::json& j);

 private:
  Transaction(TxBody body, const Signature& sig);

  TxBody body_;
  Signature sig_;
  std::string encoded_;
  TxId id_;
};

}  // namespace cc

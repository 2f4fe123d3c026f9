#include "ledger/transaction.h"

#include "codec/canonical_json.h"
#include "codec/varint.h"

namespace cc {
namespace {
constexpr std::string_view kTxDomain = "carechain:tx:v1";
}

std::string TxBody::EncodeUnsigned() const {
  codec::Writer w;
  w.U8(kTxVersion).Bytes(chain_id).Fixed(actor.view()).Varint(nonce).Bytes(module).Bytes(action)
      .Bytes(payload);
  return w.Take();
}

std::string Transaction::SigningMessage(const TxBody& body) {
  std::string m(kTxDomain);
  m += body.EncodeUnsigned();
  return m;
}

Transaction::Transaction(TxBody body, const Signature& sig)
    : body_(std::move(body)), sig_(sig) {
  encoded_ = body_.EncodeUnsigned();
  encoded_.append(AsChars(sig_.view()));
  id_ = TxId::From(Blake2b256(encoded_));
}

TxPtr Transaction::Sign(TxBody body, const SecretKey& key) {
  Signature sig = key.Sign(AsBytes(SigningMessage(body)));
  return TxPtr(new Transaction(std::move(body), sig));
}

TxPtr Transaction::FromParts(TxBody body, const Signature& sig) {
  return TxPtr(new Transaction(std::move(body), sig));
}

bool Transaction::VerifySignature() const {
  return Verify(body_.actor, AsBytes(SigningMessage(body_)), sig_);
}

Result<TxPtr> Transaction::Decode(std::string_view encoded) {
  if (encoded.size() > kMaxEncodedTxBytes) return Status::TooLarge("transaction exceeds 1 MiB");
  codec::Reader r(encoded);
  uint8_t version;
  CC_RETURN_IF_ERROR(r.U8("tx.version", &version));
  if (version != kTxVersion) {
    return Status::Invalid("unsupported transaction version " + std::to_string(version));
  }
  TxBody b;
  std::string_view chain, actor, module, action, payload, sig;
  CC_RETURN_IF_ERROR(r.Bytes("tx.chain_id", kMaxChainIdLen, &chain));
  CC_RETURN_IF_ERROR(r.Fixed("tx.actor", PublicKey::kSize, &actor));
  CC_RETURN_IF_ERROR(r.Varint("tx.nonce", &b.nonce));
  CC_RETURN_IF_ERROR(r.Bytes("tx.module", kMaxNameLen, &module));
  CC_RETURN_IF_ERROR(r.Bytes("tx.action", kMaxNameLen, &action));
  CC_RETURN_IF_ERROR(r.Bytes("tx.payload", kMaxEncodedTxBytes, &payload));
  CC_RETURN_IF_ERROR(r.Fixed("tx.signature", Signature::kSize, &sig));
  CC_RETURN_IF_ERROR(r.Finish());
  b.chain_id = chain;
  b.actor = PublicKey::FromView(AsBytes(actor));
  b.module = module;
  b.action = action;
  b.payload = payload;
  return TxPtr(new Transaction(std::move(b), Signature::FromView(AsBytes(sig))));
}

nlohmann::json Transaction::ToJson() const {
  nlohmann::json payload = nlohmann::json::parse(body_.payload, nullptr, false);
  if (payload.is_discarded()) payload = nullptr;  // only for blocks that failed validation
  return {{"id", id_.hex()},           {"chain_id", body_.chain_id}, {"actor", body_.actor.hex()},
          {"nonce", body_.nonce},      {"module", body_.module},     {"action", body_.action},
          {"payload", payload},        {"signature", sig_.hex()}};
}

Result<TxPtr> Transaction::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("transaction must be a JSON object");
  auto str = [&](const char* k, std::string* out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return Status::Invalid(std::string("missing string field ") + k);
    *out = it->get<std::string>();
    return Status::Ok();
  };
  TxBody b;
  std::string actor, sig;
  CC_RETURN_IF_ERROR(str("chain_id", &b.chain_id));
  CC_RETURN_IF_ERROR(str("actor", &actor));
  CC_RETURN_IF_ERROR(str("module", &b.module));
  CC_RETURN_IF_ERROR(str("action", &b.action));
  CC_RETURN_IF_ERROR(str("signature", &sig));
  auto nonce = j.find("nonce");
  if (nonce == j.end() || !nonce->is_number_unsigned()) {
    return Status::Invalid("missing unsigned integer field nonce");
  }
  b.nonce = nonce->get<uint64_t>();
  auto pk = PublicKey::FromHex(actor);
  if (!pk) return Status::Invalid("actor must be 64 hex digits");
  b.actor = *pk;
  auto s = Signature::FromHex(sig);
  if (!s) return Status::Invalid("signature must be 128 hex digits");
  auto payload = j.find("payload");
  if (payload == j.end()) return Status::Invalid("missing field payload");
  CC_ASSIGN_OR_RETURN(b.payload, codec::ToCanonicalJson(*payload));
  if (b.chain_id.size() > kMaxChainIdLen) return Status::Invalid("chain_id longer than 64 bytes");
  if (b.module.size() > kMaxNameLen || b.action.size() > kMaxNameLen)
    return Status::Invalid("module and action names are at most 32 bytes");
  return FromParts(std::move(b), *s);
}

}  // namespace cc

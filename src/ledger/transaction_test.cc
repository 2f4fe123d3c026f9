#include "ledger/transaction.h"

#include <gtest/gtest.h>

#include "codec/varint.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;

TxPtr Sample(uint64_t nonce = 42) {
  return MakeTx(Key(30), nonce, "identity", "register_actor",
                {{"key", Key(31).public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}});
}

// Builds an encoding field by field, so that tests can make it wrong in one place.
struct Parts {
  uint8_t version = kTxVersion;
  std::string chain_id = testing::kChainId;
  PublicKey actor = Key(30).public_key();
  std::string nonce_varint;  // empty: minimal encoding of `nonce`
  uint64_t nonce = 1;
  std::string module = "identity";
  std::string action = "rotate_key";
  std::string payload = "{}";
  std::string sig = std::string(64, '\x07');

  std::string Encode() const {
    codec::Writer w;
    w.U8(version).Bytes(chain_id).Fixed(actor.view());
    std::string out = w.Take();
    if (nonce_varint.empty()) codec::AppendVarint(&out, nonce); else out += nonce_varint;
    codec::Writer rest;
    rest.Bytes(module).Bytes(action).Bytes(payload);
    out += rest.data();
    out += sig;
    return out;
  }
};

TEST(Transaction, SignEncodeDecodeRoundTrip) {
  TxPtr tx = Sample();
  EXPECT_TRUE(tx->VerifySignature());
  auto back = Transaction::Decode(tx->encoded());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const TxPtr& d = *back;
  EXPECT_EQ(d->id(), tx->id());
  EXPECT_EQ(d->encoded(), tx->encoded());
  EXPECT_EQ(d->body().chain_id, tx->body().chain_id);
  EXPECT_EQ(d->body().actor, tx->body().actor);
  EXPECT_EQ(d->body().nonce, 42u);
  EXPECT_EQ(d->body().module, "identity");
  EXPECT_EQ(d->body().action, "register_actor");
  EXPECT_EQ(d->body().payload, tx->body().payload);
  EXPECT_EQ(d->signature(), tx->signature());
  EXPECT_TRUE(d->VerifySignature());
}

TEST(Transaction, IdIsTheHashOfTheEncodingAndStable) {
  TxPtr a = Sample(), b = Sample();
  EXPECT_EQ(a->id(), b->id());  // deterministic signatures, same id
  EXPECT_EQ(a->id(), TxId::From(Blake2b256(a->encoded())));
  EXPECT_NE(Sample(43)->id(), a->id());
  // The signature is part of the id.
  TxPtr other_sig = Transaction::FromParts(a->body(), Key(99).Sign(AsBytes(std::string_view("x"))));
  EXPECT_NE(other_sig->id(), a->id());
  EXPECT_FALSE(other_sig->VerifySignature());
}

TEST(Transaction, EncodingMatchesTheDocumentedLayout) {
  TxPtr tx = MakeTx(Key(30), 300, "m", "a", nlohmann::json::object(), "c");
  std::string expect;
  expect += '\x01';                                      // version
  expect += std::string("\x01" "c", 2);                  // chain_id
  expect += AsChars(Key(30).public_key().view());        // actor
  expect += std::string("\xac\x02", 2);                  // nonce 300
  expect += std::string("\x01" "m", 2);                  // module
  expect += std::string("\x01" "a", 2);                  // action
  expect += std::string("\x02{}", 3);                    // payload
  EXPECT_EQ(tx->body().EncodeUnsigned(), expect);
  EXPECT_EQ(tx->encoded(), expect + std::string(AsChars(tx->signature().view())));
  EXPECT_EQ(Transaction::SigningMessage(tx->body()), "carechain:tx:v1" + expect);
}

TEST(Transaction, SignatureIsDomainSeparated) {
  TxPtr tx = Sample();
  // A signature over the bare encoding (no domain tag) does not verify.
  Signature bare = Key(30).Sign(AsBytes(tx->body().EncodeUnsigned()));
  EXPECT_FALSE(Transaction::FromParts(tx->body(), bare)->VerifySignature());
}

TEST(Transaction, EveryChangedFieldBreaksTheSignature) {
  TxPtr tx = Sample();
  auto check = [&](auto mutate, const char* what) {
    TxBody b = tx->body();
    mutate(b);
    TxPtr t = Transaction::FromParts(b, tx->signature());
    EXPECT_FALSE(t->VerifySignature()) << what;
    EXPECT_NE(t->id(), tx->id()) << what;
  };
  check([](TxBody& b) { b.chain_id += "x"; }, "chain_id");
  check([](TxBody& b) { b.actor = Key(32).public_key(); }, "actor");
  check([](TxBody& b) { b.nonce++; }, "nonce");
  check([](TxBody& b) { b.module = "identitx"; }, "module");
  check([](TxBody& b) { b.action = "revoke_actor"; }, "action");
  check([](TxBody& b) { b.payload = "{}"; }, "payload");
}

TEST(Transaction, EveryTruncationFailsToDecode) {
  TxPtr tx = Sample();
  const std::string& enc = tx->encoded();
  for (size_t n = 0; n < enc.size(); ++n) {
    auto r = Transaction::Decode(enc.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " of " << enc.size() << " bytes decoded";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << n;
    }
  }
}

TEST(Transaction, TrailingBytesFail) {
  TxPtr tx = Sample();
  for (const std::string& extra : {std::string(1, '\0'), std::string("x"), std::string(100, 'y')}) {
    auto r = Transaction::Decode(tx->encoded() + extra);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("trailing"), std::string::npos) << r.status().message();
  }
}

TEST(Transaction, WrongVersionFails) {
  TxPtr tx = Sample();
  for (int v : {0, 2, 0x7f, 0x80, 0xff}) {
    std::string enc = tx->encoded();
    enc[0] = static_cast<char>(v);
    auto r = Transaction::Decode(enc);
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_NE(r.status().message().find("version"), std::string::npos);
  }
}

TEST(Transaction, HandBuiltEncodingDecodes) {
  Parts p;
  auto r = Transaction::Decode(p.Encode());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->body().nonce, 1u);
  EXPECT_EQ((*r)->encoded(), p.Encode());
}

TEST(Transaction, NonMinimalVarintsInsideFail) {
  Parts p;
  p.nonce_varint = std::string("\x81\x00", 2);  // 1 in two bytes
  auto r = Transaction::Decode(p.Encode());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-minimal"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("tx.nonce"), std::string::npos) << r.status().message();

  // A non-minimal length prefix of chain_id.
  Parts q;
  std::string enc = q.Encode();
  ASSERT_EQ(static_cast<uint8_t>(enc[1]), q.chain_id.size());
  std::string bad = enc.substr(0, 1) + static_cast<char>(0x80 | q.chain_id.size()) + '\0' + enc.substr(2);
  r = Transaction::Decode(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tx.chain_id"), std::string::npos) << r.status().message();

  // The largest nonce decodes; one more bit overflows.
  Parts big;
  big.nonce = ~0ull;
  r = Transaction::Decode(big.Encode());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->body().nonce, ~0ull);
  big.nonce_varint = std::string(9, '\xff') + '\x02';
  EXPECT_FALSE(Transaction::Decode(big.Encode()).ok());
}

TEST(Transaction, OversizeFieldsFail) {
  {
    Parts p;
    p.chain_id = std::string(kMaxChainIdLen, 'c');
    EXPECT_TRUE(Transaction::Decode(p.Encode()).ok());
    p.chain_id += 'c';
    auto r = Transaction::Decode(p.Encode());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kTooLarge);
  }
  {
    Parts p;
    p.module = std::string(kMaxNameLen, 'm');
    EXPECT_TRUE(Transaction::Decode(p.Encode()).ok());
    p.module += 'm';
    EXPECT_EQ(Transaction::Decode(p.Encode()).status().code(), Code::kTooLarge);
  }
  {
    Parts p;
    p.action = std::string(kMaxNameLen + 1, 'a');
    EXPECT_EQ(Transaction::Decode(p.Encode()).status().code(), Code::kTooLarge);
  }
  {
    Parts p;
    p.payload = "{\"a\":\"" + std::string(kMaxEncodedTxBytes, 'x') + "\"}";
    EXPECT_EQ(Transaction::Decode(p.Encode()).status().code(), Code::kTooLarge);
  }
  {
    // A payload length claiming more than the input holds.
    Parts p;
    p.payload = "";
    std::string enc = p.Encode();  // ends in: varint 0 (payload) | 64-byte signature
    ASSERT_EQ(enc[enc.size() - 65], '\0');
    std::string bad = enc.substr(0, enc.size() - 65);
    codec::AppendVarint(&bad, 1000);
    bad += "{}" + p.sig;
    auto r = Transaction::Decode(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("tx.payload"), std::string::npos) << r.status().message();
  }
}

TEST(Transaction, JsonMappingRoundTripKeepsTheId) {
  TxPtr tx = Sample();
  nlohmann::json j = tx->ToJson();
  EXPECT_EQ(j["id"], tx->id().hex());
  EXPECT_EQ(j["actor"], tx->body().actor.hex());
  EXPECT_EQ(j["nonce"], 42);
  EXPECT_TRUE(j["payload"].is_object());
  EXPECT_EQ(j["payload"]["role"], "patient");
  auto back = Transaction::FromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->id(), tx->id());
  EXPECT_EQ((*back)->encoded(), tx->encoded());
  EXPECT_TRUE((*back)->VerifySignature());
  // Through text, with keys in another order and the payload re-spaced.
  nlohmann::json reparsed = nlohmann::json::parse(j.dump(2));
  reparsed["id"] = std::string(64, '0');  // ignored: the id is derived
  auto again = Transaction::FromJson(reparsed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->id(), tx->id());
  // Upper-case hex is accepted and maps to the same transaction.
  nlohmann::json upper = j;
  std::string actor = j["actor"];
  for (auto& c : actor) c = static_cast<char>(std::toupper(c));
  upper["actor"] = actor;
  auto up = Transaction::FromJson(upper);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->id(), tx->id());
}

TEST(Transaction, FromJsonRejectsBadFields) {
  const nlohmann::json good = Sample()->ToJson();
  auto fails = [&](const std::function<void(nlohmann::json&)>& mutate, const char* what) {
    nlohmann::json j = good;
    mutate(j);
    auto r = Transaction::FromJson(j);
    EXPECT_FALSE(r.ok()) << what;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << what << ": " << r.status().ToString();
    }
  };
  fails([](nlohmann::json& j) { j = nlohmann::json::array(); }, "not an object");
  fails([](nlohmann::json& j) { j.erase("chain_id"); }, "missing chain_id");
  fails([](nlohmann::json& j) { j.erase("actor"); }, "missing actor");
  fails([](nlohmann::json& j) { j.erase("module"); }, "missing module");
  fails([](nlohmann::json& j) { j.erase("action"); }, "missing action");
  fails([](nlohmann::json& j) { j.erase("signature"); }, "missing signature");
  fails([](nlohmann::json& j) { j.erase("nonce"); }, "missing nonce");
  fails([](nlohmann::json& j) { j.erase("payload"); }, "missing payload");
  fails([](nlohmann::json& j) { j["actor"] = std::string(64, 'g'); }, "actor not hex");
  fails([](nlohmann::json& j) { j["actor"] = j["actor"].get<std::string>().substr(2); }, "actor short");
  fails([](nlohmann::json& j) { j["signature"] = j["signature"].get<std::string>() + "0"; }, "sig odd");
  fails([](nlohmann::json& j) { j["signature"] = "zz" + j["signature"].get<std::string>().substr(2); }, "sig hex");
  fails([](nlohmann::json& j) { j["signature"] = j["signature"].get<std::string>().substr(2); }, "sig short");
  fails([](nlohmann::json& j) { j["nonce"] = 42.0; }, "float nonce");
  fails([](nlohmann::json& j) { j["nonce"] = 42.5; }, "fractional nonce");
  fails([](nlohmann::json& j) { j["nonce"] = -1; }, "negative nonce");
  fails([](nlohmann::json& j) { j["nonce"] = "42"; }, "string nonce");
  fails([](nlohmann::json& j) { j["chain_id"] = 5; }, "numeric chain id");
  fails([](nlohmann::json& j) { j["chain_id"] = std::string(65, 'c'); }, "long chain id");
  fails([](nlohmann::json& j) { j["module"] = std::string(33, 'm'); }, "long module");
  fails([](nlohmann::json& j) { j["action"] = std::string(33, 'a'); }, "long action");
  fails([](nlohmann::json& j) { j["payload"]["extra"] = 1.5; }, "float in payload");
  fails([](nlohmann::json& j) { j["payload"] = "{}"; }, "payload as a string");
  fails([](nlohmann::json& j) { j["payload"] = nlohmann::json::array(); }, "payload as a list");

  // A float parsed from text ("1e2", "42.0") is a float too.
  std::string text = good.dump();
  auto pos = text.find("\"nonce\":42");
  ASSERT_NE(pos, std::string::npos);
  for (const char* num : {"42.0", "4.2e1", "42e0"}) {
    std::string t = text;
    t.replace(pos + 8, 2, num);
    auto r = Transaction::FromJson(nlohmann::json::parse(t));
    EXPECT_FALSE(r.ok()) << t;
  }
}

TEST(Transaction, DecodeRefusesMoreThanOneMebibyte) {
  std::string huge(kMaxEncodedTxBytes + 1, '\x01');
  EXPECT_EQ(Transaction::Decode(huge).status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace cc

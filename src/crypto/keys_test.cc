#include "crypto/keys.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;

TEST(Keys, SignAndVerify) {
  SecretKey sk = SecretKey::Generate();
  std::string msg = "hello carechain";
  Signature sig = sk.Sign(AsBytes(msg));
  EXPECT_TRUE(Verify(sk.public_key(), AsBytes(msg), sig));
  // Ed25519 signatures are deterministic.
  EXPECT_EQ(sig, sk.Sign(AsBytes(msg)));
}

TEST(Keys, WrongKeyFails) {
  SecretKey a = Key(10), b = Key(11);
  std::string msg = "m";
  Signature sig = a.Sign(AsBytes(msg));
  EXPECT_TRUE(Verify(a.public_key(), AsBytes(msg), sig));
  EXPECT_FALSE(Verify(b.public_key(), AsBytes(msg), sig));
}

TEST(Keys, WrongMessageFails) {
  SecretKey a = Key(10);
  Signature sig = a.Sign(AsBytes(std::string_view("message")));
  EXPECT_FALSE(Verify(a.public_key(), AsBytes(std::string_view("messagf")), sig));
  EXPECT_FALSE(Verify(a.public_key(), AsBytes(std::string_view("message ")), sig));
  EXPECT_FALSE(Verify(a.public_key(), AsBytes(std::string_view("")), sig));
}

TEST(Keys, EveryFlippedSignatureBitFails) {
  SecretKey a = Key(12);
  std::string msg = "flip me";
  Signature sig = a.Sign(AsBytes(msg));
  for (size_t bit = 0; bit < Signature::kSize * 8; ++bit) {
    Signature bad = sig;
    bad.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Verify(a.public_key(), AsBytes(msg), bad)) << "bit " << bit;
  }
}

TEST(Keys, FlippedPublicKeyBitFails) {
  SecretKey a = Key(13);
  std::string msg = "pk";
  Signature sig = a.Sign(AsBytes(msg));
  for (size_t bit = 0; bit < PublicKey::kSize * 8; bit += 7) {
    PublicKey pk = a.public_key();
    pk.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Verify(pk, AsBytes(msg), sig)) << "bit " << bit;
  }
}

TEST(Keys, ZeroKeyAndZeroSignatureFail) {
  std::string msg = "x";
  EXPECT_FALSE(Verify(PublicKey{}, AsBytes(msg), Signature{}));
  EXPECT_FALSE(Verify(Key(1).public_key(), AsBytes(msg), Signature{}));
  EXPECT_TRUE(PublicKey{}.IsZero());
  EXPECT_FALSE(Key(1).public_key().IsZero());
}

TEST(Keys, FromSeedIsDeterministicAndSeedsDiffer) {
  EXPECT_EQ(Key(5).public_key(), Key(5).public_key());
  EXPECT_NE(Key(5).public_key(), Key(6).public_key());
  SecretKey k = Key(5);
  SecretKey again = SecretKey::FromSeed(k.seed());
  EXPECT_EQ(again.public_key(), k.public_key());
  SecretKey copy = k;
  EXPECT_EQ(copy.public_key(), k.public_key());
  SecretKey assigned;
  assigned = k;
  EXPECT_EQ(assigned.public_key(), k.public_key());
}

TEST(Keys, HexRoundTripAndRejection) {
  PublicKey pk = Key(9).public_key();
  auto back = PublicKey::FromHex(pk.hex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, pk);
  EXPECT_FALSE(PublicKey::FromHex(pk.hex().substr(2)).has_value());       // 31 bytes
  EXPECT_FALSE(PublicKey::FromHex(pk.hex() + "00").has_value());          // 33 bytes
  EXPECT_FALSE(PublicKey::FromHex(std::string(64, 'x')).has_value());     // not hex
  Signature sig = Key(9).Sign(AsBytes(std::string_view("m")));
  auto sig_back = Signature::FromHex(sig.hex());
  ASSERT_TRUE(sig_back.has_value());
  EXPECT_EQ(*sig_back, sig);
  EXPECT_FALSE(Signature::FromHex(pk.hex()).has_value());  // 32 bytes, not 64
}

TEST(Hash, Blake2bKnownAnswerAndStreaming) {
  // BLAKE2b-256("") from RFC 7693's reference implementation.
  EXPECT_EQ(Blake2b256(std::string_view("")).hex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(Blake2b256(std::string_view("abc")).hex(),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  Hash256 streamed = Hasher().Update(std::string_view("a")).Update(std::string_view("bc")).Finish();
  EXPECT_EQ(streamed, Blake2b256(std::string_view("abc")));
  EXPECT_NE(Blake2b256(std::string_view("abd")), streamed);
}

TEST(Hash, DigestHexAndTypes) {
  Hash256 h = Blake2b256(std::string_view("x"));
  auto back = Hash256::FromHex(h.hex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(Hash256::FromHex(h.hex().substr(1)).has_value());
  EXPECT_FALSE(Hash256::FromHex(h.hex() + "ab").has_value());
  TxId id = TxId::From(h);
  EXPECT_EQ(id.hex(), h.hex());
  EXPECT_FALSE(h.IsZero());
  EXPECT_TRUE(Hash256{}.IsZero());
}

}  // namespace
}  // namespace cc

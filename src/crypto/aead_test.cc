#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"

namespace cc {
namespace {

TEST(Aead, SealOpensOnlyWithItsKeyAndContext) {
  crypto::Init();
  AeadKey k = AeadKey::Generate(), other = AeadKey::Generate();
  const std::string msg("CT thorax: no findings\0binary\xff", 31);
  std::string sealed = Seal(k, msg, "record-1");
  EXPECT_EQ(sealed.size(), msg.size() + kAeadNonceBytes + kAeadTagBytes);
  EXPECT_EQ(sealed.find("CT thorax"), std::string::npos);
  auto back = Open(k, sealed, "record-1");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, msg);
  EXPECT_EQ(Open(other, sealed, "record-1").status().code(), Code::kCorruption);
  EXPECT_EQ(Open(k, sealed, "record-2").status().code(), Code::kCorruption);
  for (size_t i = 0; i < sealed.size(); i += 7) {
    std::string bad = sealed;
    bad[i] ^= 1;
    EXPECT_FALSE(Open(k, bad, "record-1").ok()) << i;
  }
  EXPECT_FALSE(Open(k, sealed.substr(0, 20), "record-1").ok());
  // Random nonces: the same message seals differently.
  EXPECT_NE(Seal(k, msg, "record-1"), sealed);
}

TEST(Aead, KeysComeFromExactly32Bytes) {
  EXPECT_FALSE(AeadKey::FromBytes("short").ok());
  AeadKey k = AeadKey::Generate();
  auto copy = AeadKey::FromBytes(k.bytes());
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(Open(*copy, Seal(k, "x", ""), "").ok());
}

TEST(Aead, SaltedHashDependsOnTheSalt) {
  const std::string a(32, 'a'), b(32, 'b');
  EXPECT_EQ(SaltedHash(a, "content"), SaltedHash(a, "content"));
  EXPECT_NE(SaltedHash(a, "content"), SaltedHash(b, "content"));
  EXPECT_NE(SaltedHash(a, "content"), Blake2b256("content"));
  EXPECT_NE(SaltedHash(a, "content"), SaltedHash(a, "content."));
}

}  // namespace
}  // namespace cc

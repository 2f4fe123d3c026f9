#include "crypto/keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testing/test_util.h"
#include "util/env.h"

namespace cc {
namespace {

using testing::Key;
using testing::TempDir;

TEST(KeyFile, WrittenWithMode0600AndRoundTrips) {
  TempDir dir;
  const std::string p = dir.file("node.key");
  SecretKey k = Key(21);
  mode_t old = ::umask(0);
  Status s = WriteKeyFile(p, k, /*overwrite=*/false);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  auto back = ReadKeyFile(p);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key(), k.public_key());
  std::string msg = "m";
  EXPECT_TRUE(Verify(k.public_key(), AsBytes(msg), back->Sign(AsBytes(msg))));

  auto text = ReadFile(p);
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["type"], "ed25519");
  EXPECT_EQ(j["public_key"], k.public_key().hex());
  EXPECT_EQ(j["seed"], ToHex(k.seed()));
}

TEST(KeyFile, RefusesToOverwriteUnlessAsked) {
  TempDir dir;
  const std::string p = dir.file("k.key");
  ASSERT_TRUE(WriteKeyFile(p, Key(1), false).ok());
  EXPECT_EQ(WriteKeyFile(p, Key(2), false).code(), Code::kAlreadyExists);
  EXPECT_EQ(ReadKeyFile(p)->public_key(), Key(1).public_key());
  ASSERT_TRUE(WriteKeyFile(p, Key(2), true).ok());
  EXPECT_EQ(ReadKeyFile(p)->public_key(), Key(2).public_key());
}

TEST(KeyFile, MismatchingPublicKeyIsRejected) {
  SecretKey k = Key(22);
  nlohmann::json j = {{"type", "ed25519"},
                      {"public_key", Key(23).public_key().hex()},
                      {"seed", ToHex(k.seed())}};
  auto r = ParseKeyFile(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("does not match"), std::string::npos);
  j["public_key"] = 5;  // not a string
  EXPECT_FALSE(ParseKeyFile(j.dump()).ok());
  // Without public_key the seed alone is accepted.
  j.erase("public_key");
  auto ok = ParseKeyFile(j.dump());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->public_key(), k.public_key());
}

TEST(KeyFile, MalformedFilesAreRejected) {
  SecretKey k = Key(24);
  const std::string seed = ToHex(k.seed());
  for (const std::string& text : {
           std::string("not json"),
           std::string("[]"),
           nlohmann::json{{"type", "rsa"}, {"seed", seed}}.dump(),
           nlohmann::json{{"seed", seed}}.dump(),
           nlohmann::json{{"type", "ed25519"}}.dump(),
           nlohmann::json{{"type", "ed25519"}, {"seed", 7}}.dump(),
           nlohmann::json{{"type", "ed25519"}, {"seed", seed.substr(2)}}.dump(),
           nlohmann::json{{"type", "ed25519"}, {"seed", seed + "00"}}.dump(),
           nlohmann::json{{"type", "ed25519"}, {"seed", "zz" + seed.substr(2)}}.dump(),
       }) {
    auto r = ParseKeyFile(text);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << text;
  }
}

TEST(KeyFile, ReadErrorsNameThePath) {
  TempDir dir;
  auto missing = ReadKeyFile(dir.file("missing.key"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir.file("bad.key"), "{}", 0600, false).ok());
  auto bad = ReadKeyFile(dir.file("bad.key"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.key"), std::string::npos);
}

}  // namespace
}  // namespace cc

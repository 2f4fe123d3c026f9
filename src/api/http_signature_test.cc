#include "api/http_signature.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "crypto/hash.h"
#include "crypto/sha256.h"

namespace cc::api {
namespace {

struct Req {
  std::string method = "POST", path = "/v1/transactions", query = "wait=commit", body = "{\"a\":1}";
  std::map<std::string, std::string> headers;

  RequestView View() const {
    return {method, path, query, body, [this](std::string_view name) {
              auto it = headers.find(std::string(name));
              return it == headers.end() ? std::string() : it->second;
            }};
  }
  void Sign(const SecretKey& k, uint64_t created, const std::string& nonce) {
    SignedHeaders h = SignRequest(k, method, path, query, body, created, nonce);
    headers["content-digest"] = h.content_digest;
    headers["signature-input"] = h.signature_input;
    headers["signature"] = h.signature;
  }
};

class HttpSignatureTest : public ::testing::Test {
 protected:
  HttpSignatureTest() : clock_(1'800'000'000'000), auth_(&clock_, 60, 10) { crypto::Init(); }
  uint64_t now_s() const { return clock_.NowMs() / 1000; }

  ManualClock clock_;
  RequestAuthenticator auth_;
  SecretKey key_ = SecretKey::FromSeed(Blake2b256(std::string_view("sig-test")).view());
};

TEST_F(HttpSignatureTest, ContentDigestIsRfc9530Sha256) {
  // SHA-256("") in base64, as in RFC 9530's examples of an empty body.
  EXPECT_EQ(ContentDigest(""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}

TEST_F(HttpSignatureTest, SignedRequestAuthenticatesAsItsKey) {
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  auto got = auth_.Authenticate(r.View());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, key_.public_key());
}

TEST_F(HttpSignatureTest, UnsignedRequestIsRefused) {
  Req r;
  auto got = auth_.Authenticate(r.View());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnauthenticated);
  EXPECT_NE(got.status().message().find("not signed"), std::string::npos);
}

TEST_F(HttpSignatureTest, AnyChangeToACoveredPartIsRefused) {
  for (int what = 0; what < 4; ++what) {
    Req r;
    r.Sign(key_, now_s(), NewNonce());
    if (what == 0) r.method = "GET";
    if (what == 1) r.path = "/v1/transactions/batch";
    if (what == 2) r.query = "";
    if (what == 3) r.body = "{\"a\":2}";
    auto got = auth_.Authenticate(r.View());
    EXPECT_FALSE(got.ok()) << what;
    EXPECT_EQ(got.status().code(), Code::kUnauthenticated) << what;
  }
}

TEST_F(HttpSignatureTest, ReplayedNonceIsRefused) {
  Req r;
  r.Sign(key_, now_s(), "nonce-0123456789abcdef");
  ASSERT_TRUE(auth_.Authenticate(r.View()).ok());
  auto again = auth_.Authenticate(r.View());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("nonce already used"), std::string::npos);
}

TEST_F(HttpSignatureTest, ExpiredAndFutureSignaturesAreRefused) {
  Req old;
  old.Sign(key_, now_s() - 61, NewNonce());
  auto a = auth_.Authenticate(old.View());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("expired"), std::string::npos);
  Req future;
  future.Sign(key_, now_s() + 11, NewNonce());
  auto b = auth_.Authenticate(future.View());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("future"), std::string::npos);
  Req edge;
  edge.Sign(key_, now_s() - 60, NewNonce());
  EXPECT_TRUE(auth_.Authenticate(edge.View()).ok());
}

TEST_F(HttpSignatureTest, WrongKeyIdIsRefused) {
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  SecretKey other = SecretKey::FromSeed(Blake2b256(std::string_view("other")).view());
  std::string& input = r.headers["signature-input"];
  input.replace(input.find(key_.public_key().hex()), 64, other.public_key().hex());
  auto got = auth_.Authenticate(r.View());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("bad request signature"), std::string::npos);
}

TEST_F(HttpSignatureTest, MalformedHeadersAreRefusedWithAReason) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"signature-input", "sig1"},
      {"signature-input", "sig1=(\"@method\" \"@path\");created=1;nonce=\"aaaaaaaaaaaaaaaa\";keyid=\"x\";alg=\"ed25519\""},
      {"signature", "sig1=notbase64"},
      {"signature", "sig1=:AAAA:"},
      {"content-digest", "sha-256=:AAAA:"},
  };
  for (const auto& [header, value] : bad) {
    Req r;
    r.Sign(key_, now_s(), NewNonce());
    r.headers[header] = value;
    auto got = auth_.Authenticate(r.View());
    ASSERT_FALSE(got.ok()) << header << ": " << value;
    EXPECT_EQ(got.status().code(), Code::kUnauthenticated);
    EXPECT_FALSE(got.status().message().empty());
  }
}

TEST_F(HttpSignatureTest, NoncesAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(NewNonce()).second);
  EXPECT_EQ(NewNonce().size(), 22u);
}

}  // namespace
}  // namespace cc::api

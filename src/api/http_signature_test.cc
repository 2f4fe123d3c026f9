#include "api/http_signature.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <map>
#include <set>

#include "crypto/hash.h"
#include "crypto/sha256.h"

namespace cc::api {
namespace {

constexpr const char* kNode = "node1.example:8443";

struct Req {
  std::string method = "POST", path = "/v1/transactions", query = "wait=commit", body = "{\"a\":1}";
  std::string host = kNode;  // the Host header
  std::map<std::string, std::string> headers;

  RequestView View() const {
    return {method, path, query, body, [this](std::string_view name) {
              auto it = headers.find(std::string(name));
              return it == headers.end() ? std::string() : it->second;
            }};
  }
  void Sign(const SecretKey& k, uint64_t created, const std::string& nonce,
            std::optional<uint64_t> expires = std::nullopt) {
    SignedHeaders h = SignRequest(k, method, host, path, query, body, created, nonce, expires);
    headers["content-digest"] = h.content_digest;
    headers["signature-input"] = h.signature_input;
    headers["signature"] = h.signature;
  }
  // Signs over `components` as a client would (RFC 9421 §2.5), written out
  // here independently of the code under test.
  void SignCovering(const SecretKey& k, const std::vector<std::string>& components, uint64_t created) {
    headers["content-digest"] = ContentDigest(body);
    std::string list;
    for (const auto& c : components) list += (list.empty() ? "\"" : " \"") + c + "\"";
    const std::string params = "(" + list + ");created=" + std::to_string(created) + ";nonce=\"" + NewNonce() +
                               "\";keyid=\"" + k.public_key().hex() + "\";alg=\"ed25519\"";
    std::string base;
    for (const auto& c : components) {
      std::string v = c == "@method"      ? method
                      : c == "@authority" ? host
                      : c == "@path"      ? path
                      : c == "@query"     ? "?" + query
                      : headers.count(c)  ? headers[c]
                                          : "";
      base += "\"" + c + "\": " + v + "\n";
    }
    base += "\"@signature-params\": " + params;
    headers["signature-input"] = "sig1=" + params;
    headers["signature"] = "sig1=:" + Base64Encode(k.Sign(AsBytes(base)).view()) + ":";
  }
};

SecretKey KeyOf(std::string_view seed) { return SecretKey::FromSeed(Blake2b256(seed).view()); }

class HttpSignatureTest : public ::testing::Test {
 protected:
  HttpSignatureTest() : HttpSignatureTest(AuthenticatorOptions{.window_s = 60, .skew_s = 10}) {}
  explicit HttpSignatureTest(AuthenticatorOptions o) : clock_(1'800'000'000'000), auth_(&clock_, o) {
    auth_.SetAuthorities({kNode});
    registered_.insert(key_.public_key().hex());
  }
  uint64_t now_s() const { return clock_.NowMs() / 1000; }
  Result<PublicKey> Authenticate(const Req& r) {
    return auth_.Authenticate(r.View(), r.host, [this](const PublicKey& k) {
      ++resolved_;
      return registered_.contains(k.hex());
    });
  }
  static void ExpectRefused(const Result<PublicKey>& got, Code code, const std::string& part) {
    ASSERT_FALSE(got.ok()) << "accepted; expected a refusal naming " << part;
    EXPECT_EQ(got.status().code(), code) << got.status().ToString();
    EXPECT_NE(got.status().message().find(part), std::string::npos) << got.status().message();
  }

  ManualClock clock_;
  RequestAuthenticator auth_;
  SecretKey key_ = KeyOf("sig-test");
  std::set<std::string> registered_;
  int resolved_ = 0;
};

TEST_F(HttpSignatureTest, ContentDigestIsRfc9530Sha256) {
  // SHA-256("") in base64, as in RFC 9530's examples of an empty body.
  EXPECT_EQ(ContentDigest(""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}

TEST_F(HttpSignatureTest, SignedRequestAuthenticatesAsItsKey) {
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  auto got = Authenticate(r);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, key_.public_key());
  EXPECT_EQ(resolved_, 1);
  EXPECT_EQ(auth_.stats().registered, 1u);
}

TEST_F(HttpSignatureTest, TheSignatureBaseIsAsDocumented) {
  // A client written from docs/api.md alone is accepted, in any order of the
  // components, with a covered header of its own.
  Req r;
  r.headers["x-request-id"] = "abc-123";
  r.SignCovering(key_, {"@authority", "@method", "@path", "@query", "content-digest", "x-request-id"}, now_s());
  auto got = Authenticate(r);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // And the covered header is signed: changing it is refused.
  r.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", "x-request-id"}, now_s());
  r.headers["x-request-id"] = "abc-124";
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "bad request signature");
}

TEST_F(HttpSignatureTest, UnsignedRequestIsRefused) {
  Req r;
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "not signed");
}

TEST_F(HttpSignatureTest, AnyChangeToACoveredPartIsRefused) {
  for (int what = 0; what < 4; ++what) {
    Req r;
    r.Sign(key_, now_s(), NewNonce());
    if (what == 0) r.method = "GET";
    if (what == 1) r.path = "/v1/transactions/batch";
    if (what == 2) r.query = "";
    if (what == 3) r.body = "{\"a\":2}";
    auto got = Authenticate(r);
    EXPECT_FALSE(got.ok()) << what;
    EXPECT_EQ(got.status().code(), Code::kUnauthenticated) << what;
  }
}

TEST_F(HttpSignatureTest, UnknownComponentIsRefusedNotSignedAsEmpty) {
  for (const char* c : {"@target-uri", "@request-target", "@scheme", "@status", "@query-param"}) {
    Req r;
    r.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", c}, now_s());
    ExpectRefused(Authenticate(r), Code::kUnauthenticated, std::string("\"") + c + "\"");
  }
  for (const char* c : {"Content-Type", "a b", ""}) {
    Req r;
    r.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", c}, now_s());
    ExpectRefused(Authenticate(r), Code::kUnauthenticated, "unknown component");
  }
  Req twice;
  twice.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", "@path"}, now_s());
  ExpectRefused(Authenticate(twice), Code::kUnauthenticated, "twice");
  Req self;
  self.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", "signature-input"},
                    now_s());
  ExpectRefused(Authenticate(self), Code::kUnauthenticated, "cannot cover");
}

TEST_F(HttpSignatureTest, AbsentCoveredHeaderIsRefused) {
  Req r;
  r.SignCovering(key_, {"@method", "@authority", "@path", "@query", "content-digest", "x-request-id"}, now_s());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "\"x-request-id\", which the request does not carry");
  EXPECT_EQ(resolved_, 0);
}

TEST_F(HttpSignatureTest, MissingAuthorityIsRefused) {
  Req r;
  r.SignCovering(key_, {"@method", "@path", "@query", "content-digest"}, now_s());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "must cover \"@authority\"");
  for (const char* need : {"@method", "@path", "@query", "content-digest"}) {
    std::vector<std::string> some = {"@method", "@authority", "@path", "@query", "content-digest"};
    some.erase(std::find(some.begin(), some.end(), need));
    Req s;
    s.SignCovering(key_, some, now_s());
    ExpectRefused(Authenticate(s), Code::kUnauthenticated, std::string("must cover \"") + need + "\"");
  }
}

TEST_F(HttpSignatureTest, ARequestSignedForAnotherNodeIsRefused) {
  // Captured on its way to node2 and sent on to node1 as it was.
  Req r;
  r.host = "node2.example:8443";
  r.Sign(key_, now_s(), NewNonce());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "signed for node2.example:8443");
  // With node1's Host header instead: the signature no longer holds.
  r.host = kNode;
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "bad request signature");
  // No Host at all.
  r.host = "";
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "no Host header");
  // Host names are case-insensitive: the authority is lower-cased.
  Req upper;
  upper.host = "NODE1.Example:8443";
  upper.Sign(key_, now_s(), NewNonce());
  EXPECT_TRUE(Authenticate(upper).ok());
  EXPECT_EQ(resolved_, 1);
}

TEST_F(HttpSignatureTest, ANodeWithNoAuthoritiesRefusesEverything) {
  RequestAuthenticator unset(&clock_);
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  ExpectRefused(unset.Authenticate(r.View(), r.host, nullptr), Code::kUnauthenticated, "(none)");
}

TEST_F(HttpSignatureTest, ReplayedNonceIsRefused) {
  Req r;
  r.Sign(key_, now_s(), "nonce-0123456789abcdef");
  ASSERT_TRUE(Authenticate(r).ok());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "nonce already used");
  // The same nonce from another key is another request.
  Req other;
  other.Sign(KeyOf("other"), now_s(), "nonce-0123456789abcdef");
  EXPECT_TRUE(Authenticate(other).ok());
  ExpectRefused(Authenticate(other), Code::kUnauthenticated, "nonce already used");
}

TEST_F(HttpSignatureTest, ANonceIsKeptOnlyOnceTheSignatureHolds) {
  Req forged;
  forged.Sign(key_, now_s(), "nonce-of-a-victim-0001");
  forged.headers["signature"] = "sig1=:" + std::string(86, 'A') + "==:";
  ExpectRefused(Authenticate(forged), Code::kUnauthenticated, "bad request signature");
  EXPECT_EQ(auth_.stats().registered + auth_.stats().unregistered, 0u);
  Req real;
  real.Sign(key_, now_s(), "nonce-of-a-victim-0001");
  EXPECT_TRUE(Authenticate(real).ok());
}

TEST_F(HttpSignatureTest, ExpiredAndFutureSignaturesAreRefused) {
  Req old;
  old.Sign(key_, now_s() - 61, NewNonce());
  ExpectRefused(Authenticate(old), Code::kUnauthenticated, "expired");
  Req future;
  future.Sign(key_, now_s() + 11, NewNonce());
  ExpectRefused(Authenticate(future), Code::kUnauthenticated, "future");
  Req edge;
  edge.Sign(key_, now_s() - 60, NewNonce());
  EXPECT_TRUE(Authenticate(edge).ok());
}

TEST_F(HttpSignatureTest, ExpiresIsHonoured) {
  Req expired;
  expired.Sign(key_, now_s() - 5, NewNonce(), /*expires=*/now_s() - 1);
  ExpectRefused(Authenticate(expired), Code::kUnauthenticated, "expired at " + std::to_string(now_s() - 1));
  Req now;
  now.Sign(key_, now_s() - 5, NewNonce(), /*expires=*/now_s());
  ExpectRefused(Authenticate(now), Code::kUnauthenticated, "its expires parameter");
  Req backwards;
  backwards.Sign(key_, now_s(), NewNonce(), /*expires=*/now_s() - 10);
  ExpectRefused(Authenticate(backwards), Code::kUnauthenticated, "not after its created");
  Req fine;
  fine.Sign(key_, now_s(), NewNonce(), /*expires=*/now_s() + 5);
  auto got = Authenticate(fine);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  // A signature is refused once its expires passes, within the window too.
  Req soon;
  soon.Sign(key_, now_s(), NewNonce(), /*expires=*/now_s() + 5);
  clock_.Advance(5000);
  ExpectRefused(Authenticate(soon), Code::kUnauthenticated, "expires");
}

TEST_F(HttpSignatureTest, WrongKeyIdIsRefused) {
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  SecretKey other = KeyOf("other");
  std::string& input = r.headers["signature-input"];
  input.replace(input.find(key_.public_key().hex()), 64, other.public_key().hex());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "bad request signature");
}

TEST_F(HttpSignatureTest, MalformedHeadersAreRefusedWithAReason) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"signature-input", "sig1"},
      {"signature-input", "sig1=(\"@method\" \"@path\");created=1;nonce=\"aaaaaaaaaaaaaaaa\";keyid=\"x\";alg=\"ed25519\""},
      {"signature-input", "sig1=(\"@method\" \"@authority\" \"@path\" \"@query\" \"content-digest\");"
                          "nonce=\"aaaaaaaaaaaaaaaa\";keyid=\"x\";alg=\"ed25519\";tag=\"x\""},
      {"signature", "sig1=notbase64"},
      {"signature", "sig1=:AAAA:"},
      {"content-digest", "sha-256=:AAAA:"},
  };
  for (const auto& [header, value] : bad) {
    Req r;
    r.Sign(key_, now_s(), NewNonce());
    r.headers[header] = value;
    auto got = Authenticate(r);
    ASSERT_FALSE(got.ok()) << header << ": " << value;
    EXPECT_EQ(got.status().code(), Code::kUnauthenticated);
    EXPECT_FALSE(got.status().message().empty());
  }
  // created is required; parameters appear once.
  Req r;
  r.Sign(key_, now_s(), NewNonce());
  std::string& input = r.headers["signature-input"];
  std::string no_created = input;
  no_created.erase(no_created.find(";created="), std::string(";created=").size() + 10);
  r.headers["signature-input"] = no_created;
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "needs created");
  r.headers["signature-input"] = input + ";nonce=\"aaaaaaaaaaaaaaaaaaaa\"";
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "'nonce' twice");
}

TEST_F(HttpSignatureTest, NoncesAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(NewNonce()).second);
  EXPECT_EQ(NewNonce().size(), 22u);
}

TEST(Authorities, DefaultsAreTheListenAddressAndLoopbackNames) {
  using V = std::vector<std::string>;
  EXPECT_EQ(DefaultAuthorities("127.0.0.1", 8080, false), (V{"127.0.0.1:8080", "localhost:8080"}));
  EXPECT_EQ(DefaultAuthorities("localhost", 8080, false), (V{"localhost:8080", "127.0.0.1:8080"}));
  EXPECT_EQ(DefaultAuthorities("127.0.0.5", 80, false),
            (V{"127.0.0.5:80", "127.0.0.5", "localhost:80", "localhost", "127.0.0.1:80", "127.0.0.1"}));
  EXPECT_EQ(DefaultAuthorities("Node1.Example", 8443, true), (V{"node1.example:8443"}));
  EXPECT_EQ(DefaultAuthorities("node1.example", 443, true), (V{"node1.example:443", "node1.example"}));
  EXPECT_EQ(DefaultAuthorities("::1", 8080, false), (V{"[::1]:8080", "localhost:8080", "127.0.0.1:8080"}));
  EXPECT_EQ(DefaultAuthorities("0.0.0.0", 8080, true), (V{"localhost:8080", "127.0.0.1:8080"}));
}

TEST(Authorities, AClientSendsTheAuthorityOfItsUrl) {
  EXPECT_EQ(AuthorityOf("http://127.0.0.1:8080"), "127.0.0.1:8080");
  EXPECT_EQ(AuthorityOf("https://Node1.example:8443/v1/info?x=1"), "node1.example:8443");
  EXPECT_EQ(AuthorityOf("https://node1.example:443"), "node1.example");
  EXPECT_EQ(AuthorityOf("https://node1.example"), "node1.example");
  EXPECT_EQ(AuthorityOf("http://node1.example:80/"), "node1.example");
  EXPECT_EQ(AuthorityOf("http://node1.example:8080"), "node1.example:8080");
  EXPECT_EQ(AuthorityOf("http://[::1]:8080"), "[::1]:8080");
  EXPECT_EQ(AuthorityOf("127.0.0.1:9000"), "127.0.0.1:9000");
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "LOCALHOST"}) EXPECT_TRUE(IsLoopbackHost(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "node1.example", "127.evil.example", "127.0.0", ""})
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
}

// ---- the replay cache under flood ----

class NoncePoolsTest : public HttpSignatureTest {
 protected:
  NoncePoolsTest()
      : HttpSignatureTest(AuthenticatorOptions{.window_s = 60,
                                               .skew_s = 10,
                                               .max_nonces_per_key = 8,
                                               .max_registered_nonces = 12,
                                               .registered_reserve = 4,
                                               .light_key_nonces = 2,
                                               .max_unregistered_nonces = 20}) {}
  Result<PublicKey> Fresh(const SecretKey& k) {
    Req r;
    r.Sign(k, now_s(), NewNonce());
    return Authenticate(r);
  }
  SecretKey Registered(std::string_view name) {
    SecretKey k = KeyOf(name);
    registered_.insert(k.public_key().hex());
    return k;
  }
};

TEST_F(NoncePoolsTest, NoncesAreBoundedPerKey) {
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Fresh(key_).ok()) << i;
  ExpectRefused(Fresh(key_), Code::kUnavailable, "this key signed more than 8 requests in the last 70 s");
  // Only that key: another registered key is served.
  EXPECT_TRUE(Fresh(Registered("b")).ok());
  // Once the window has passed, the key is served again.
  clock_.Advance(71'000);
  EXPECT_TRUE(Fresh(key_).ok());
  EXPECT_EQ(auth_.stats().registered, 1u);
  EXPECT_EQ(auth_.stats().keys, 1u);
}

TEST_F(NoncePoolsTest, AFloodOfUnregisteredKeysCannotRefuseARegisteredOne) {
  // Fresh throwaway keys, each validly signing one request.
  int refused = 0;
  for (int i = 0; i < 50; ++i) {
    auto got = Fresh(KeyOf("throwaway-" + std::to_string(i)));
    if (i < 20) {
      ASSERT_TRUE(got.ok()) << i << got.status().ToString();
    } else {
      ExpectRefused(got, Code::kUnavailable, "keys it does not know");
      ++refused;
    }
  }
  EXPECT_EQ(refused, 30);
  EXPECT_EQ(auth_.stats().unregistered, 20u);
  // Registered keys are served throughout, never refused as replays.
  for (int i = 0; i < 8; ++i) {
    auto got = Fresh(key_);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
  }
  // A replay by an unregistered key is still a 401, full pool or not.
  clock_.Advance(71'000);  // the flood's nonces expire
  Req r;
  r.Sign(KeyOf("throwaway-0"), now_s(), "fixed-nonce-0000000001");
  ASSERT_TRUE(Authenticate(r).ok());
  ExpectRefused(Authenticate(r), Code::kUnauthenticated, "nonce already used");
  EXPECT_EQ(auth_.stats().unregistered, 1u);
}

TEST_F(NoncePoolsTest, BusyKeysCannotRefuseALightKey) {
  SecretKey a = Registered("busy-a"), b = Registered("busy-b");
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Fresh(a).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Fresh(b).ok());  // the registered pool (12) is now full
  ExpectRefused(Fresh(b), Code::kUnavailable, "must wait");
  // A key with fewer than light_key_nonces (2) uses the reserve.
  SecretKey c = Registered("light-c"), d = Registered("light-d");
  EXPECT_TRUE(Fresh(c).ok());
  EXPECT_TRUE(Fresh(c).ok());
  ExpectRefused(Fresh(c), Code::kUnavailable, "must wait");
  EXPECT_TRUE(Fresh(d).ok());
  EXPECT_TRUE(Fresh(d).ok());
  // The reserve (4) is the hard bound.
  ExpectRefused(Fresh(Registered("light-e")), Code::kUnavailable, "must wait");
  auto s = auth_.stats();
  EXPECT_EQ(s.registered, 16u);
  EXPECT_EQ(s.reserve, 4u);
  EXPECT_EQ(s.keys, 4u);
  // Unregistered keys have their own pool and do not touch these.
  EXPECT_TRUE(Fresh(KeyOf("stranger")).ok());
  clock_.Advance(71'000);
  EXPECT_TRUE(Fresh(c).ok());
  s = auth_.stats();
  EXPECT_EQ(s.registered, 1u);
  EXPECT_EQ(s.reserve, 0u);
  EXPECT_EQ(s.unregistered, 0u);
}

// The header's memory bound, measured: malloc'd bytes held per remembered
// nonce, for a flood of fresh unregistered keys and for as many registered
// keys (each nonce then also holds its key's count).
TEST(NonceMemory, StaysWithinTheStatedBound) {
  constexpr int kRequests = 8000;
  for (const bool registered : {false, true}) {
    ManualClock clock(1'800'000'000'000);
    RequestAuthenticator auth(&clock, AuthenticatorOptions{.max_unregistered_nonces = kRequests});
    auth.SetAuthorities({kNode});
    std::vector<Req> reqs(kRequests);
    for (int i = 0; i < kRequests; ++i) {
      reqs[i].method = "GET";
      reqs[i].body = "";
      reqs[i].Sign(SecretKey::Generate(), clock.NowMs() / 1000, NewNonce());
    }
    const size_t before = mallinfo2().uordblks;
    for (const auto& r : reqs) {
      auto got = auth.Authenticate(r.View(), r.host, [registered](const PublicKey&) { return registered; });
      ASSERT_TRUE(got.ok()) << got.status().ToString();
    }
    const size_t after = mallinfo2().uordblks;
    ::testing::Test::RecordProperty(registered ? "registered_bytes_per_nonce" : "unregistered_bytes_per_nonce",
                                    std::to_string((after - before) / kRequests));
    const size_t bound = kRequests * (RequestAuthenticator::kBytesPerNonce +
                                      (registered ? RequestAuthenticator::kBytesPerKey : 0));
    EXPECT_LE(after - before, bound) << (registered ? "registered" : "unregistered") << ": "
                                     << static_cast<double>(after - before) / kRequests << " bytes per nonce";
    auto s = auth.stats();
    EXPECT_EQ(registered ? s.registered : s.unregistered, static_cast<size_t>(kRequests));
    EXPECT_EQ(s.keys, registered ? static_cast<size_t>(kRequests) : 0u);
    // And it is all given back once the window has passed.
    clock.Advance(71'000);
    Req last;
    last.Sign(SecretKey::Generate(), clock.NowMs() / 1000, NewNonce());
    ASSERT_TRUE(auth.Authenticate(last.View(), last.host, nullptr).ok());
    EXPECT_EQ(auth.stats().registered + auth.stats().unregistered, 1u);
  }
}

}  // namespace
}  // namespace cc::api

// HTTP Message Signatures (RFC 9421) with Ed25519, as carechain uses them.
//
// A signed request carries three headers:
//   Content-Digest:  sha-256=:<base64 SHA-256 of the body>:        (RFC 9530)
//   Signature-Input: sig1=("@method" "@path" "@query" "content-digest");
//                    created=<unix s>;nonce="<16-64 of [A-Za-z0-9_-]>";
//                    keyid="<64 hex: the actor's public key>";alg="ed25519"
//   Signature:       sig1=:<base64 Ed25519 signature of the signature base>:
// The signature base is one line per covered component, in the order the
// client listed them, then the parameters line, lines joined by "\n" with no
// final newline (RFC 9421 §2.5):
//   "@method": POST
//   "@path": /v1/transactions
//   "@query": ?wait=commit          ("?" when the query is empty)
//   "content-digest": sha-256=:...:
//   "@signature-params": ("@method" "@path" "@query" "content-digest");created=...;...
// The four components above are required; further lower-case header names may
// be covered too. docs/api.md repeats this for client authors.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/keys.h"
#include "util/env.h"
#include "util/status.h"

namespace cc::api {

struct RequestView {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // without the leading '?'; empty if none
  std::string_view body;
  // Value of a header by lower-case name, "" if absent.
  std::function<std::string(std::string_view)> header;
};

struct SignedHeaders {
  std::string content_digest;
  std::string signature_input;
  std::string signature;
};

std::string ContentDigest(std::string_view body);

// Signs a request (the CLI, tests, the load driver).
SignedHeaders SignRequest(const SecretKey& key, std::string_view method, std::string_view path,
                          std::string_view query, std::string_view body, uint64_t created_s,
                          std::string_view nonce);

// A random nonce of 22 base64url characters.
std::string NewNonce();

// The three headers, as (name, value) pairs, for a request to `target`
// (path with optional "?query", as sent), created now with a fresh nonce.
// Every client (CLI, load driver, tests) signs through this.
std::vector<std::pair<std::string, std::string>> SignTarget(const SecretKey& key,
                                                            std::string_view method,
                                                            std::string_view target,
                                                            std::string_view body);

// Verifies signed requests. Thread-safe.
class RequestAuthenticator {
 public:
  // Requests whose `created` is more than `window_s` old, or more than
  // `skew_s` in the future, are refused; a nonce is remembered for as long.
  RequestAuthenticator(Clock* clock, uint64_t window_s = 60, uint64_t skew_s = 10)
      : clock_(clock), window_s_(window_s), skew_s_(skew_s) {}

  // Returns the signing key, or kUnauthenticated naming what is wrong.
  Result<PublicKey> Authenticate(const RequestView& req);

 private:
  bool RememberNonce(const std::string& key_and_nonce, uint64_t now_s);

  Clock* clock_;
  const uint64_t window_s_;
  const uint64_t skew_s_;
  std::mutex mu_;
  std::unordered_map<std::string, uint64_t> seen_;               // GUARDED_BY(mu_): nonce -> expiry
  std::deque<std::pair<uint64_t, std::string>> expiry_order_;    // GUARDED_BY(mu_)
};

}  // namespace cc::api

// HTTP Message Signatures (RFC 9421) with Ed25519, as carechain uses them.
//
// A signed request carries three headers, and a Host header naming the node
// it is meant for:
//   Host:            node1.example:8443                           (the @authority)
//   Content-Digest:  sha-256=:<base64 SHA-256 of the body>:        (RFC 9530)
//   Signature-Input: sig1=("@method" "@authority" "@path" "@query" "content-digest");
//                    created=<unix s>;nonce="<16-64 of [A-Za-z0-9_-]>";
//                    keyid="<64 hex: the actor's public key>";alg="ed25519"
//                    [;expires=<unix s>]
//   Signature:       sig1=:<base64 Ed25519 signature of the signature base>:
// The signature base is one line per covered component, in the order the
// client listed them, then the parameters line, lines joined by "\n" with no
// final newline (RFC 9421 §2.5):
//   "@method": POST
//   "@authority": node1.example:8443  (the Host header, lower-cased)
//   "@path": /v1/transactions
//   "@query": ?wait=commit          ("?" when the query is empty)
//   "content-digest": sha-256=:...:
//   "@signature-params": ("@method" "@authority" "@path" "@query" "content-digest");created=...;...
//
// What the node requires (each refusal is 401 naming what is wrong):
// - The five components above are covered. Further components may be
//   covered only if they are lower-case names of header fields the request
//   carries with a non-empty value; any other component (another derived
//   component such as "@target-uri", a header the request lacks, the
//   signature headers themselves, a component listed twice) is refused, never
//   signed as an empty string.
// - @authority binds the request to one node: the Host header, lower-cased,
//   must be one of the authorities this node answers to (SetAuthorities;
//   [api] authorities in the node's config). A request captured on its way to
//   one node is refused by every other.
// - `created` is required: at most `window_s` old and at most `skew_s` in the
//   future. `expires`, if sent, must be in the future and after `created`.
//   No other parameters.
// - The nonce has not been seen from the same key within the window.
//
// Replay cache: nonces are remembered for window_s + skew_s, but only after
// the signature verified, and in pools by who signed (the caller says, through
// a KeyResolver, whether a key is a registered active actor or a node key):
// - keys that are not registered share one pool of `max_unregistered_nonces`:
//   when it is full only requests signed by unregistered keys are refused
//   (503), so a flood of fresh throwaway keys cannot refuse a registered one.
// - each registered key holds at most `max_nonces_per_key`, and registered
//   keys together at most `max_registered_nonces`; when those are taken, a
//   key holding fewer than `light_key_nonces` may still use a reserve of
//   `registered_reserve` more, so a few busy keys cannot refuse the
//   interactive clients (browsers, the CLI) either. Refusals are 503.
// The node sizes both from [api] max_registered_nonces and
// max_unregistered_nonces (AuthenticatorOptions::Sized).
// A nonce is remembered as a 64-bit keyed BLAKE2b fingerprint of (key, nonce)
// (a false "replayed" needs a 2^-64 collision and cannot be aimed without the
// node's per-process secret). Memory: at most kBytesPerNonce (80) bytes per
// remembered nonce plus kBytesPerKey (48) per registered key holding one.
// With the defaults: at most 2,500,000 nonces, ≤ 200 MB, plus at most
// 2,250,000 registered keys, ≤ 108 MB, in the worst case (every nonce from a
// different registered key); a flood of unregistered keys holds at most
// 250,000 nonces, ≤ 20 MB. http_signature_test measures the per-entry bound.
//
// docs/api.md repeats this for client authors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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

// Signs a request for the node at `authority` ("host:port" as the client
// sends it in Host). `expires_s`, if given, is sent as the expires parameter.
SignedHeaders SignRequest(const SecretKey& key, std::string_view method, std::string_view authority,
                          std::string_view path, std::string_view query, std::string_view body,
                          uint64_t created_s, std::string_view nonce,
                          std::optional<uint64_t> expires_s = std::nullopt);

// A random nonce of 22 base64url characters.
std::string NewNonce();

// The headers, as (name, value) pairs, for a request to `target` (path with
// optional "?query", as sent) at `authority` ("host:port", as in Host),
// created now with a fresh nonce: Host (= authority, so that the client sends
// exactly what was signed), Content-Digest, Signature-Input, Signature.
// Every client (CLI, peers, load driver, tests) signs through this.
std::vector<std::pair<std::string, std::string>> SignTarget(const SecretKey& key, std::string_view method,
                                                            std::string_view authority,
                                                            std::string_view target, std::string_view body);

// The authority a client sends for a base URL: "https://Node1.example:8443/x"
// -> "node1.example:8443"; the port is left out when it is the scheme's
// default (443, 80), as HTTP clients leave it out of Host.
std::string AuthorityOf(std::string_view url);

// The authorities a node listening on host:port answers to by default:
// host:port (host lower-cased, an IPv6 address in brackets), and for a
// loopback host also localhost:port and 127.0.0.1:port; each also without
// the port when the port is the scheme's default (443 with TLS, else 80). A
// wildcard host (0.0.0.0, ::, "") names no address of its own: only the
// loopback names. node/config requires [api] authorities for it.
std::vector<std::string> DefaultAuthorities(std::string_view host, int port, bool tls);

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackHost(std::string_view host);

// Whether a key is a registered, active actor or a node key of the network
// (api::ResolvePrincipal's p.active || p.node).
using KeyResolver = std::function<bool(const PublicKey&)>;

struct AuthenticatorOptions {
  // Requests whose `created` is more than `window_s` old, or more than
  // `skew_s` in the future, are refused; a nonce is remembered for as long.
  uint64_t window_s = 60;
  uint64_t skew_s = 10;
  size_t max_nonces_per_key = 1'000'000;
  size_t max_registered_nonces = 2'000'000;
  size_t registered_reserve = 250'000;
  size_t light_key_nonces = 256;
  size_t max_unregistered_nonces = 250'000;

  // A cache of `registered` nonces of registered keys (a key holding at most
  // half of them, light keys sharing a reserve of an eighth more) and
  // `unregistered` nonces of other keys.
  static AuthenticatorOptions Sized(uint64_t window_s, size_t registered, size_t unregistered) {
    return {.window_s = window_s,
            .max_nonces_per_key = std::max<size_t>(registered / 2, 1),
            .max_registered_nonces = registered,
            .registered_reserve = registered / 8,
            .max_unregistered_nonces = unregistered};
  }
};

// Verifies signed requests. Thread-safe, except SetAuthorities.
class RequestAuthenticator {
 public:
  // Upper bounds of the memory the replay cache holds (see the top comment).
  static constexpr size_t kBytesPerNonce = 80;
  static constexpr size_t kBytesPerKey = 48;

  RequestAuthenticator(Clock* clock, AuthenticatorOptions options);
  RequestAuthenticator(Clock* clock, uint64_t window_s = 60, uint64_t skew_s = 10)
      : RequestAuthenticator(clock, AuthenticatorOptions{.window_s = window_s, .skew_s = skew_s}) {}

  // The @authority values (lower-cased host[:port]) this node answers to;
  // none until set, and then every request is refused.
  // REQUIRES: no Authenticate call in progress (call it before serving).
  void SetAuthorities(std::vector<std::string> authorities);
  const std::vector<std::string>& authorities() const { return authorities_; }

  // Returns the signing key, or kUnauthenticated (401) naming what is wrong,
  // or kUnavailable (503) when the nonce cannot be remembered (its pool or the
  // key's share is full: try again later). `authority` is the request's Host
  // header as received; `registered` is asked once, before any nonce is kept.
  Result<PublicKey> Authenticate(const RequestView& req, std::string_view authority,
                                 const KeyResolver& registered);

  struct Stats {
    size_t registered = 0;    // nonces of registered keys (their reserve included)
    size_t reserve = 0;       // of those, in the reserve of light keys
    size_t unregistered = 0;  // nonces of unregistered keys
    size_t keys = 0;          // registered keys holding a nonce
  };
  Stats stats() const;

 private:
  enum class Pool : uint8_t { kRegistered, kReserve, kUnregistered };
  struct Entry {
    uint64_t fingerprint;
    uint64_t owner;       // the key's fingerprint (registered pools)
    uint32_t expiry_s;
    Pool pool;
  };
  // Identity hash: fingerprints are already uniform (noexcept: nodes then
  // cache no hash, 16 bytes less each).
  struct Spread {
    size_t operator()(uint64_t v) const noexcept { return static_cast<size_t>(v); }
  };

  Status Remember(const PublicKey& key, std::string_view nonce, bool registered, uint64_t now_s);
  void ExpireLocked(uint64_t now_s);

  Clock* clock_;
  const AuthenticatorOptions options_;
  std::vector<std::string> authorities_;
  uint8_t secret_[32];  // keys the fingerprints
  mutable std::mutex mu_;
  std::unordered_set<uint64_t, Spread> seen_;              // GUARDED_BY(mu_)
  std::deque<Entry> order_;                                // GUARDED_BY(mu_): by expiry
  std::unordered_map<uint64_t, uint32_t, Spread> owners_;  // GUARDED_BY(mu_): key -> nonces held
  size_t registered_ = 0, reserve_ = 0, unregistered_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace cc::api

// The API's settings ([api] in the node's configuration; docs/operations.md
// gives each with its default and how to size it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cc::api {

struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  // Threads of the HTTP server's event loop, which also run the handlers.
  // Waiting requests (long polls, ?wait=commit, alert streams) and idle
  // connections hold none.
  int threads = 8;
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 16 << 10;  // request line and headers: 431 over it
  size_t max_headers = 100;            // header fields: 431 over it
  uint64_t header_timeout_ms = 10'000;     // request line and headers: 408 after it
  uint64_t body_timeout_ms = 30'000;       // the body, after the headers: 408 after it
  uint64_t keepalive_timeout_ms = 75'000;  // an idle connection is closed after it
  int max_connections = 50'000;
  int max_connections_per_address = 1'000;
  uint64_t max_wait_ms = 30'000;     // longest ?wait=commit or long poll
  uint64_t signature_window_s = 60;  // accepted age of a request signature
  // Replay cache bounds (api/http_signature.h): nonces of registered keys,
  // and of keys that are not (a flood of those refuses only them).
  size_t max_registered_nonces = 2'000'000;
  size_t max_unregistered_nonces = 250'000;
  // The request signatures' @authority values (lower-case host[:port]) this
  // node answers to; empty = api::DefaultAuthorities of host and the bound port.
  std::vector<std::string> authorities;
  // Per signing key, after authentication: a sustained rate and a burst on
  // top of it (0: unlimited).
  double requests_per_s_per_actor = 2'000;
  double actor_burst = 10'000;
  // Per address, before authentication: a flood's ceiling, set so that one
  // organisation's gateway at the node's full rate stays below it.
  double requests_per_s_per_address = 50'000;
  // The public, unsigned pack check (GET /v1/packs/check), per address.
  double pack_checks_per_s_per_address = 10;
  // The web portal's built files (web/dist), served at / without
  // authentication (they hold no data); "" = no portal.
  std::string portal_dir;
  // TLS: PEM certificate (chain) and private key; both empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

}  // namespace cc::api

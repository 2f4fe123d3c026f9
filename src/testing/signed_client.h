// A client for tests: the project's one HTTP client (api/http/client.h),
// signing every request (RFC 9421) with a key, and never retrying, so that a
// test sees each reply as the node gave it.
#pragma once

#include <optional>
#include <string>

#include "api/signing_client.h"
#include "crypto/keys.h"

namespace cc::testing {

class SignedClient {
 public:
  SignedClient(const std::string& host, int port, std::optional<SecretKey> key)
      : signed_(api::SigningClient(Url(host, port), std::move(key), NoRetries())),
        raw_(Url(host, port), NoRetries()) {}

  Result<http::Reply> Get(const std::string& target) { return signed_.Get(target); }
  Result<http::Reply> Post(const std::string& target, const std::string& body, const std::string& type) {
    return signed_.Post(target, body, type);
  }
  // Sends exactly `headers` (and Host), signed by nobody.
  Result<http::Reply> Raw(const std::string& method, const std::string& target, const http::Headers& headers,
                          const std::string& body = "") {
    return raw_.Send(method, target, body, "", headers);
  }
  // "host:port", as requests are addressed.
  const std::string& authority() const { return signed_.authority(); }

 private:
  static std::string Url(const std::string& host, int port) { return "http://" + host + ":" + std::to_string(port); }
  static http::ClientOptions NoRetries() {
    http::ClientOptions o;
    o.max_retries = 0;
    o.request_timeout = std::chrono::seconds(30);
    return o;
  }
  http::Client signed_;
  http::Client raw_;
};

}  // namespace cc::testing

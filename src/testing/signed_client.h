// An HTTP client for tests that signs every request (RFC 9421) with a key,
// with the Get/Post shapes of httplib::Client.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "api/http_signature.h"
#include "crypto/keys.h"

namespace cc::testing {

class SignedClient {
 public:
  SignedClient(const std::string& host, int port, std::optional<SecretKey> key)
      : client_(host, port), authority_(host + ":" + std::to_string(port)), key_(std::move(key)) {
    client_.set_read_timeout(30, 0);
    client_.set_tcp_nodelay(true);
  }

  httplib::Result Get(const std::string& target) { return client_.Get(target, Sign("GET", target, "")); }
  httplib::Result Post(const std::string& target, const std::string& body, const std::string& type) {
    return client_.Post(target, Sign("POST", target, body), body, type);
  }
  httplib::Client& raw() { return client_; }

 private:
  httplib::Headers Sign(const std::string& method, const std::string& target, const std::string& body) {
    if (!key_) return {};
    auto h = api::SignTarget(*key_, method, authority_, target, body);
    return {h.begin(), h.end()};
  }

  httplib::Client client_;
  std::string authority_;  // host:port, as signed and sent in Host
  std::optional<SecretKey> key_;
};

}  // namespace cc::testing

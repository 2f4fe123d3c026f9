// The CLI's HTTP client for a node's API.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "crypto/keys.h"
#include "util/status.h"

namespace cc::cli {

class Client {
 public:
  // `url` is "http://host:port" (or https once TLS lands). With a key, every
  // request is signed (RFC 9421, api/http_signature.h).
  // For https URLs the server's certificate is verified against `ca_file`
  // (PEM), or else against the system's CA store.
  explicit Client(std::string url, std::optional<SecretKey> key = std::nullopt,
                  std::string ca_file = "")
      : url_(std::move(url)), key_(std::move(key)), ca_file_(std::move(ca_file)) {}

  // Sends a request; a JSON error reply becomes a Status with its message.
  Result<nlohmann::json> Get(const std::string& path) const;
  Result<std::string> GetRaw(const std::string& path) const;
  // The body with the reply's headers (names as sent).
  struct Reply {
    std::string body;
    std::map<std::string, std::string> headers;
  };
  Result<Reply> GetWithHeaders(const std::string& path) const;
  Result<nlohmann::json> Post(const std::string& path, const std::string& body,
                              const std::string& content_type) const;
  Result<nlohmann::json> Put(const std::string& path, const std::string& body,
                             const std::string& content_type) const;

 private:
  std::string url_;
  std::optional<SecretKey> key_;
  std::string ca_file_;
};

}  // namespace cc::cli

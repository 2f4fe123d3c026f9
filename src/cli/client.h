// The CLI's client of a node's API: the project's one HTTP client
// (api/http/client.h), every request signed when a key is given, and JSON
// error replies turned into a Status with their message.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http/client.h"
#include "crypto/keys.h"
#include "util/status.h"

namespace cc::cli {

class Client {
 public:
  // `url` is "http://host:port" or "https://host:port". With a key, every
  // request is signed (RFC 9421, api/http_signature.h). For https URLs the
  // server's certificate is verified against `ca_file` (PEM), or else
  // against the system's CA store. Copies share one kept-alive connection.
  explicit Client(std::string url, std::optional<SecretKey> key = std::nullopt, std::string ca_file = "");

  // Sends a request; a JSON error reply becomes a Status with its message.
  Result<nlohmann::json> Get(const std::string& path) const;
  Result<std::string> GetRaw(const std::string& path) const;
  // The body with the reply's headers (names lower-case).
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
  Result<http::Reply> Send(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type) const;
  std::shared_ptr<http::Client> http_;
};

}  // namespace cc::cli

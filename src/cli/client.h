// The CLI's HTTP client for a node's API.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "util/status.h"

namespace cc::cli {

class Client {
 public:
  // `url` is "http://host:port" (or https once TLS lands).
  explicit Client(std::string url) : url_(std::move(url)) {}

  // Sends a request; a JSON error reply becomes a Status with its message.
  Result<nlohmann::json> Get(const std::string& path) const;
  Result<std::string> GetRaw(const std::string& path) const;
  Result<nlohmann::json> Post(const std::string& path, const std::string& body,
                              const std::string& content_type) const;

 private:
  std::string url_;
};

}  // namespace cc::cli

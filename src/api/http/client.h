// The one HTTP client of the project (the CLI, the peer forwarder, the test
// helpers and the load driver): HTTP/1.1 over a kept-alive connection, TLS
// with the server's certificate verified, every attempt signed afresh by the
// caller's signer (RFC 9421, api/signing_client.h), and retries:
//  - a kept-alive connection the server closed before answering is opened
//    again and the request sent again once (no byte of a reply had arrived);
//  - 429 and 503 with a Retry-After of at most `max_retry_wait` are waited
//    out and sent again, up to `max_retries` times.
// Errors are values: kUnavailable when the server cannot be reached or does
// not answer in time; an HTTP status is a reply, not an error.
//
// Thread safety: one caller at a time per instance.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/http/message.h"
#include "util/status.h"

namespace cc::http {

struct ClientOptions {
  std::string ca_file;  // https: the CA (PEM) to verify the server with; "" = the system's store
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{60'000};  // sending and the whole reply
  int max_retries = 3;
  std::chrono::milliseconds max_retry_wait{5'000};
};

struct Reply {
  int status = 0;
  Headers headers;  // names lower-case
  std::string body;
  std::string Header(std::string_view lower_name) const;
};

// Headers that sign one request: (method, authority "host:port", target, body).
using Signer = std::function<Headers(std::string_view, std::string_view, std::string_view, std::string_view)>;

class Client {
 public:
  // `url`: "http://host:port" or "https://host:port" (a path after it is
  // ignored). An invalid URL makes every request fail with kInvalidArgument.
  explicit Client(std::string url, ClientOptions options = {}, Signer signer = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  Result<Reply> Send(std::string_view method, std::string_view target, std::string_view body = "",
                     std::string_view content_type = "", const Headers& extra = {});
  Result<Reply> Get(std::string_view target) { return Send("GET", target); }
  Result<Reply> Post(std::string_view target, std::string_view body, std::string_view content_type) {
    return Send("POST", target, body, content_type);
  }
  Result<Reply> Put(std::string_view target, std::string_view body, std::string_view content_type) {
    return Send("PUT", target, body, content_type);
  }

  const std::string& url() const;
  // "host:port", as sent in Host and covered by signatures.
  const std::string& authority() const;
  // Drops the kept-alive connection (the next request opens a new one).
  void Disconnect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cc::http

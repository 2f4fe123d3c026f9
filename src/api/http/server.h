// The node's HTTP/1.1 server: an adapter over Boost.Beast on Asio, the only
// code besides api/http/client.cc that includes an HTTP library
// (docs/architecture.md says why Beast).
//
// Connections are asynchronous: an idle keep-alive connection, a slow client
// and a parked long poll or event stream hold no thread. A pool of
// `threads` threads runs the event loop and the handler; a handler may block
// (a store write), but waits for an event are Response::Defer or
// Response::StartStream.
//
// Deadlines and limits, as nginx has them (docs/operations.md):
//  - the request line and headers must arrive within `header_timeout`, the
//    body within `body_timeout` of them: 408 with a JSON body otherwise;
//  - more than `max_header_bytes` of request line and headers, or more than
//    `max_headers` fields: 431; a body over `max_body_bytes`: 413;
//  - bytes that are not HTTP: 400 with a JSON body, then the connection closes;
//  - an idle keep-alive connection is closed after `keepalive_timeout`;
//  - at most `max_connections` open connections, `max_connections_per_address`
//    from one address: a connection over either gets 429 (Retry-After: 1) and
//    is closed.
// Every reply the server writes itself is JSON {"code", "message"}.
//
// Thread safety: Start and Stop from one thread; Wake from any.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/http/message.h"
#include "util/status.h"

namespace cc::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int threads = 8;
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 16 << 10;  // request line and headers
  size_t max_headers = 100;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  std::chrono::milliseconds write_timeout{30'000};
  // How long Stop waits for requests in progress before closing them.
  std::chrono::milliseconds drain_timeout{10'000};
  int max_connections = 50'000;
  int max_connections_per_address = 1'000;
  int backlog = 1024;
  // TLS: PEM certificate (chain) and private key; both empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// What happened to one request, for metrics and the log; `request` holds
// what arrived of it (empty for bytes that were not HTTP).
struct Served {
  const Request& request;
  int status;
  double seconds;  // from the first byte of the request to the reply written
};

class Server {
 public:
  using Handler = std::function<void(Request&, Response&)>;

  Server(ServerOptions options, Handler handler);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Called after each reply (set before Start).
  void OnServed(std::function<void(const Served&)> f);

  // Binds and serves on `threads` background threads. Fails on a port in
  // use or a certificate that does not load.
  Status Start();
  // Stops accepting, lets requests in progress finish (deferred ones get
  // their final poll, streams end), closes idle connections, and returns
  // once every connection closed or `drain_timeout` passed.
  void Stop();
  // Re-polls deferred responses and streams now (e.g. a block committed).
  void Wake();

  int port() const;
  bool tls() const;
  // Open connections now.
  int connections() const;

  struct Impl;  // server.cc's alone (its connections reach it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cc::http

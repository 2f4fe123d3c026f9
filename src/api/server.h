// The node's HTTP/JSON API (docs/api.md): the HTTP adapter (api/http/), the
// router (api/router.h) with every route file's routes (api/routes.h), and
// the context they share (api/context.h). This class only wires them, and
// applies what holds for every request: the per-address rate limit before
// routing, and metrics and the refusal log after.
//
// Thread safety: Start and Stop from one thread; handlers run on the HTTP
// server's threads and everything they touch is thread-safe.
#pragma once

#include <memory>

#include "api/context.h"
#include "api/options.h"
#include "api/router.h"

namespace cc::http {
class Server;
struct Served;
}  // namespace cc::http

namespace cc::api {

class Server {
 public:
  // Transactions (clients', module routes', the node's own) are admitted
  // through `admission`, which must outlive the server.
  Server(Chain* chain, Orderer* orderer, admission::Admission* admission, Metrics* metrics, ApiOptions options,
         OffchainServices offchain = {});
  ~Server();

  // Binds and starts serving on background threads.
  Status Start();
  // Stops accepting, lets requests in progress finish and returns.
  void Stop();
  int port() const;
  bool tls() const { return !cx_.options.tls_cert_file.empty(); }

 private:
  void Handle(http::Request& req, http::Response& res);
  void Served(const http::Served& s);

  Context cx_;
  Router router_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace cc::api

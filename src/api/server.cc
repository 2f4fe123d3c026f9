#include "api/server.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "api/http/server.h"
#include "api/http_util.h"
#include "api/routes.h"

namespace cc::api {
namespace {

// "/v1/actors/<64 hex>/nonce" -> "/v1/actors/{id}/nonce".
std::string MaskIds(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = i;
    while (j < path.size() && std::isxdigit(static_cast<unsigned char>(path[j]))) ++j;
    if (j - i >= 16) {
      out += "{id}";
    } else {
      out.append(path, i, j - i);
      if (j < path.size()) out += path[j];
      ++j;
    }
    i = j;
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

http::ServerOptions HttpOptions(const ApiOptions& o) {
  http::ServerOptions h;
  h.host = o.host;
  h.port = o.port;
  h.threads = o.threads;
  h.max_body_bytes = o.max_body_bytes;
  h.max_header_bytes = o.max_header_bytes;
  h.max_headers = o.max_headers;
  h.header_timeout = std::chrono::milliseconds(o.header_timeout_ms);
  h.body_timeout = std::chrono::milliseconds(o.body_timeout_ms);
  h.keepalive_timeout = std::chrono::milliseconds(o.keepalive_timeout_ms);
  h.max_connections = o.max_connections;
  h.max_connections_per_address = o.max_connections_per_address;
  h.tls_cert_file = o.tls_cert_file;
  h.tls_key_file = o.tls_key_file;
  return h;
}

}  // namespace

Server::Server(Chain* chain, Orderer* orderer, admission::Admission* admission, Metrics* metrics, ApiOptions options,
               OffchainServices offchain)
    : cx_(chain, orderer, admission, metrics, std::move(options), offchain),
      http_(std::make_unique<http::Server>(HttpOptions(cx_.options),
                                           [this](http::Request& q, http::Response& r) { Handle(q, r); })) {
  http_->OnServed([this](const http::Served& s) { Served(s); });
  // A committed block settles ?wait=commit requests and long polls.
  chain->OnCommit([this](const BlockPtr&) { http_->Wake(); });
}

Server::~Server() { Stop(); }

Status Server::Start() {
  Routes routes(&router_, &cx_);
  AddChainRoutes(routes);
  AddSupplyRoutes(routes);
  AddRecordRoutes(routes);
  AddColdchainRoutes(routes);
  AddWearablesRoutes(routes);
  AddResearchRoutes(routes);
  AddReviewsRoutes(routes);
  if (!cx_.options.portal_dir.empty()) CC_RETURN_IF_ERROR(AddPortalRoutes(routes));
  // Series that exist from the start (a scraper sees zeros, not gaps).
  cx_.metrics->Counter("carechain_http_requests_total", "status=\"200\"");
  cx_.metrics->Counter("carechain_blocks_committed_total");
  CC_RETURN_IF_ERROR(http_->Start());
  // The port is known once bound (0: any free port).
  cx_.authenticator.SetAuthorities(cx_.options.authorities.empty()
                                       ? DefaultAuthorities(cx_.options.host, http_->port(), tls())
                                       : cx_.options.authorities);
  return Status::Ok();
}

void Server::Stop() {
  cx_.stopping = true;
  cx_.chain->Shutdown();  // nothing waits on the chain any more
  http_->Stop();
}

int Server::port() const { return http_->port(); }

void Server::Handle(http::Request& req, http::Response& res) {
  // Per address, before anything else: the cheapest refusal of a flood.
  if (!cx_.per_address.Allow(req.remote_addr)) {
    cx_.metrics->Counter("carechain_http_refused_total", "reason=\"rate_address\"")++;
    return ReplyError(res, 429, "rate_limited", "too many requests from this address; slow down");
  }
  router_.Dispatch(req, res);
}

void Server::Served(const http::Served& s) {
  cx_.metrics->request_latency().Observe(s.seconds);
  cx_.metrics->Counter("carechain_http_requests_total", "status=\"" + std::to_string(s.status) + "\"")++;
  if (s.status >= 400) {
    // Log every refusal, but not whose: keys and ids in the path are
    // pseudonymous personal data, so they are masked (and the query and
    // body are never logged).
    spdlog::info("{} {} -> {}", s.request.method.empty() ? "-" : s.request.method, MaskIds(s.request.path),
                 s.status);
  }
}

}  // namespace cc::api

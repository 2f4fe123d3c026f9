// The API's routes, one file per concern, each registering free handlers
// in one line apiece (docs/api.md lists them):
//   chain_routes.cc      health, info, metrics, transactions, blocks, proofs, state, module queries
//   records_routes.cc    records and consent at the custodian
//   supply_routes.cc     the public pack check
//   coldchain_routes.cc  reading batches, curves and proofs
//   wearables_routes.cc  batches, rules, alerts (and their event stream), readings
//   research_routes.cc   aggregate queries and exports with consent
//   reviews_routes.cc    review texts at the review platform
//   portal_routes.cc     the web portal's static files
#pragma once

#include <string>

#include "api/context.h"
#include "api/router.h"

namespace cc::api {

// A handler of a signed request, with its authenticated caller.
using SignedHandler = void (*)(Context&, const http::Request&, http::Response&, const Principal&);
// A handler of a request anyone may make (no signature).
using PublicHandler = void (*)(Context&, const http::Request&, http::Response&);

// Registers handlers on a router. Signed routes authenticate the request
// (RFC 9421, api/http_signature.h), apply the per-key rate limit and resolve
// the caller before the handler runs; refusals are 401/429 JSON.
class Routes {
 public:
  Routes(Router* router, Context* cx) : router_(router), cx_(cx) {}
  void Get(const std::string& pattern, SignedHandler h) { Signed("GET", pattern, h); }
  void Post(const std::string& pattern, SignedHandler h) { Signed("POST", pattern, h); }
  void Put(const std::string& pattern, SignedHandler h) { Signed("PUT", pattern, h); }
  void Public(const std::string& method, const std::string& pattern, PublicHandler h);
  void Fallback(PublicHandler h);
  Context& context() { return *cx_; }

 private:
  void Signed(const std::string& method, const std::string& pattern, SignedHandler h);
  Router* router_;
  Context* cx_;
};

// The caller of a signed request, or the refusal (401, 429) already written.
std::optional<Principal> Authenticate(Context& cx, const http::Request& req, http::Response& res);

void AddChainRoutes(Routes& r);
void AddRecordRoutes(Routes& r);
void AddSupplyRoutes(Routes& r);
void AddColdchainRoutes(Routes& r);
void AddWearablesRoutes(Routes& r);
void AddResearchRoutes(Routes& r);
void AddReviewsRoutes(Routes& r);
// Serves options.portal_dir; fails if it holds no built portal.
Status AddPortalRoutes(Routes& r);

// Shared between route files and the module queries' policy.
// OK and the shipment if `caller` may read shipment `id`; kPermissionDenied or kNotFound.
Status MayReadShipment(const Context& cx, const Principal& caller, const std::string& id, nlohmann::json* ship);
// OK if `caller` may use study `id`'s data; kNotFound, kPermissionDenied.
Status MayUseStudy(const Context& cx, const Principal& caller, const std::string& id);
// The policy's decision on a module query (api/query_policy.cc): OK,
// kPermissionDenied, or kInvalidArgument / kNotFound about the path. May
// set `params` the module needs from the node (supply verdicts' time).
Status AuthorizeQuery(const Context& cx, std::string_view module, const std::string& path, QueryParams* params,
                      const Principal& caller);

}  // namespace cc::api

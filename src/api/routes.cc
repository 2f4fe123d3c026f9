#include "api/routes.h"

#include "api/http_util.h"

namespace cc::api {

std::optional<Principal> Authenticate(Context& cx, const http::Request& req, http::Response& res) {
  // The signature covers the request target as sent (not URL-decoded).
  std::string_view target = req.target;
  size_t q = target.find('?');
  RequestView view{req.method, target.substr(0, q),
                   q == std::string_view::npos ? std::string_view() : target.substr(q + 1), req.body,
                   [&req](std::string_view name) { return req.Header(name); }};
  std::optional<Principal> who;  // resolved once, before the nonce is kept
  auto key = cx.authenticator.Authenticate(view, req.Header("host"), [&](const PublicKey& k) {
    who = ResolvePrincipal(cx.chain->store(), k);
    return who->active || who->node;
  });
  if (!cx.Refuse(res, key.status(), key.status().code() == Code::kUnavailable ? "nonces" : "unauthenticated"))
    return std::nullopt;
  if (!cx.per_actor.Allow(std::string(AsChars(key->view())))) {
    cx.metrics->Counter("carechain_http_refused_total", "reason=\"rate_actor\"")++;
    ReplyError(res, 429, "rate_limited", "too many requests from this key; slow down");
    return std::nullopt;
  }
  return who ? *who : ResolvePrincipal(cx.chain->store(), *key);
}

void Routes::Signed(const std::string& method, const std::string& pattern, SignedHandler h) {
  Context* cx = cx_;
  router_->Add(method, pattern, [cx, h](http::Request& req, http::Response& res) {
    auto caller = Authenticate(*cx, req, res);
    if (caller) h(*cx, req, res, *caller);
  });
}

void Routes::Public(const std::string& method, const std::string& pattern, PublicHandler h) {
  Context* cx = cx_;
  router_->Add(method, pattern, [cx, h](http::Request& req, http::Response& res) { h(*cx, req, res); });
}

void Routes::Fallback(PublicHandler h) {
  Context* cx = cx_;
  router_->SetFallback([cx, h](http::Request& req, http::Response& res) { h(*cx, req, res); });
}

}  // namespace cc::api

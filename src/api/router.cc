#include "api/router.h"

#include "api/http_util.h"

namespace cc::api {
namespace {

// "/v1/records/([0-9a-f]{32})" -> "/v1/records/".
std::string LiteralHead(const std::string& pattern) {
  size_t i = pattern.find_first_of("\\^$.|?*+()[]{}");
  return pattern.substr(0, i);
}

}  // namespace

void Router::Add(std::string method, const std::string& pattern, Handler handler) {
  routes_.push_back({std::move(method), LiteralHead(pattern),
                     std::regex(pattern, std::regex::ECMAScript | std::regex::optimize), std::move(handler)});
}

void Router::Dispatch(http::Request& req, http::Response& res) const {
  std::string allowed;
  for (const Route& r : routes_) {
    if (!req.path.starts_with(r.head)) continue;
    std::smatch m;
    if (!std::regex_match(req.path, m, r.pattern)) continue;
    if (r.method != req.method) {
      if (allowed.find(r.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + r.method;
      continue;
    }
    req.matches.assign(m.begin(), m.end());
    return r.handler(req, res);
  }
  if (allowed.empty() && fallback_ && req.method == "GET") return fallback_(req, res);
  if (!allowed.empty()) {
    res.SetHeader("Allow", allowed);
    return ReplyError(res, 405, "method_not_allowed", req.method + " is not allowed here; use " + allowed);
  }
  ReplyError(res, 404, "not_found", "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace cc::api

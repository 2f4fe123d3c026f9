// The API's router: (method, path pattern) -> handler. Patterns are
// ECMAScript regular expressions over the whole decoded path; their groups
// become Request::matches. A path no route matches is 404; a path that only
// other methods' routes match is 405 with Allow.
//
// Routes are added before serving; Dispatch is then const and thread-safe.
// Each pattern's literal head (up to its first special character) is
// compared before its expression runs, so a request costs about one match.
#pragma once

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "api/http/message.h"

namespace cc::api {

class Router {
 public:
  using Handler = std::function<void(http::Request&, http::Response&)>;

  void Add(std::string method, const std::string& pattern, Handler handler);
  // For GET requests no route matches (the portal's files); none: 404.
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }
  // Runs the matching route's handler, or writes the 404/405 error.
  void Dispatch(http::Request& req, http::Response& res) const;

 private:
  struct Route {
    std::string method;
    std::string head;  // literal prefix of the pattern
    std::regex pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace cc::api

// The project's own HTTP request and response types. Handlers, the router and
// every route file see only these; the server library stays inside
// api/http/server.cc and api/http/client.cc (docs/architecture.md).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;       // "GET", "POST", ...
  std::string target;       // as sent: path and query, not decoded (what signatures cover)
  std::string path;         // the target's path, percent-decoded (what routes match)
  std::string query;        // the raw query without '?'; empty if none
  Headers headers;          // names lower-case, in the order received
  std::string body;
  std::string remote_addr;  // the peer's IP address
  // Set by the router: [0] the whole path, [1..] the pattern's groups.
  std::vector<std::string> matches;
  // The query's parameters, decoded ('+' is a space); the first of repeated names.
  std::map<std::string, std::string, std::less<>> params;

  // The value of header `lower_name`, "" if absent.
  std::string Header(std::string_view lower_name) const;
  bool HasParam(std::string_view name) const { return params.find(name) != params.end(); }
  // The query parameter `name`, or `fallback` when absent.
  std::string Param(std::string_view name, std::string fallback = "") const;
};

// A response that is not ready when its handler returns: the server parks
// the connection, holding no thread, and calls `poll` again on each Wake()
// of the server, every second, and once more at `deadline` with
// `final = true`. `poll` returns true once it has filled the response (it
// must when `final`). Long polls and ?wait=commit use it. The request stays
// valid until its reply is written, so `poll` may refer to it.
struct Deferred {
  std::chrono::steady_clock::time_point deadline;
  std::function<bool(struct Response& res, bool final)> poll;
};

// A streamed response (Server-Sent Events): after the headers, the server
// calls `next` on each Wake(), every second, and when it stops; `next`
// appends what is to be sent now (possibly nothing) and returns false to end
// the stream. `closed` runs once when the stream ends for any reason.
struct Stream {
  std::function<bool(std::string* out, bool stopping)> next;
  std::function<void()> closed;
};

struct Response {
  int status = 200;
  Headers headers;  // besides Content-Type and Content-Length
  std::string content_type;
  std::string body;
  std::shared_ptr<Deferred> deferred;  // set: the reply comes later
  std::shared_ptr<Stream> stream;      // set: a chunked stream follows the headers

  void SetHeader(std::string name, std::string value);
  void SetContent(std::string data, std::string type) {
    body = std::move(data);
    content_type = std::move(type);
  }
  // Replies later (see Deferred).
  void Defer(std::chrono::steady_clock::time_point deadline, std::function<bool(Response&, bool)> poll);
  void StartStream(std::string type, Stream s);
};

// Percent-decoding; with `plus_as_space`, '+' becomes ' ' (query strings).
std::string Decode(std::string_view s, bool plus_as_space);
// "a=1&b=x%20y" -> {a: 1, b: "x y"} (the first of repeated names wins).
std::map<std::string, std::string, std::less<>> ParseQuery(std::string_view query);
// Splits a target into its decoded path and raw query on `req`.
void SetTarget(Request* req, std::string target);
// The reason phrase of a status code ("Not Found").
std::string_view Reason(int status);

}  // namespace cc::http

#include "cli/client.h"

#include "api/signing_client.h"

namespace cc::cli {
namespace {

// A reply's status as a Status: its JSON error message, or OK below 400.
Status FromReply(const http::Reply& r) {
  if (r.status < 400) return Status::Ok();
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string msg = j.is_object() && j.contains("message") && j["message"].is_string()
                        ? j["message"].get<std::string>() : r.body;
  Code code = r.status == 404   ? Code::kNotFound
              : r.status == 403 ? Code::kPermissionDenied
              : r.status == 409 || r.status == 410 ? Code::kFailedPrecondition
              : r.status == 413 ? Code::kTooLarge
              : r.status == 429 || r.status >= 500 ? Code::kUnavailable
                                                   : Code::kInvalidArgument;
  return Status(code, "HTTP " + std::to_string(r.status) + ": " + msg);
}

Result<nlohmann::json> ParseBody(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Invalid("the node sent a reply that is not JSON");
  return j;
}

}  // namespace

Client::Client(std::string url, std::optional<SecretKey> key, std::string ca_file) {
  http::ClientOptions o;
  o.ca_file = std::move(ca_file);
  http_ = std::make_shared<http::Client>(api::SigningClient(std::move(url), std::move(key), std::move(o)));
}

Result<http::Reply> Client::Send(const std::string& method, const std::string& path, const std::string& body,
                                 const std::string& content_type) const {
  CC_ASSIGN_OR_RETURN(http::Reply r, http_->Send(method, path, body, content_type));
  CC_RETURN_IF_ERROR(FromReply(r));
  return r;
}

Result<std::string> Client::GetRaw(const std::string& path) const {
  CC_ASSIGN_OR_RETURN(http::Reply r, Send("GET", path, "", ""));
  return std::move(r.body);
}

Result<Client::Reply> Client::GetWithHeaders(const std::string& path) const {
  CC_ASSIGN_OR_RETURN(http::Reply r, Send("GET", path, "", ""));
  Reply out{std::move(r.body), {}};
  for (auto& [k, v] : r.headers) out.headers[k] = v;
  return out;
}

Result<nlohmann::json> Client::Get(const std::string& path) const {
  CC_ASSIGN_OR_RETURN(std::string body, GetRaw(path));
  return ParseBody(body);
}

Result<nlohmann::json> Client::Post(const std::string& path, const std::string& body,
                                    const std::string& content_type) const {
  CC_ASSIGN_OR_RETURN(http::Reply r, Send("POST", path, body, content_type));
  return ParseBody(r.body);
}

Result<nlohmann::json> Client::Put(const std::string& path, const std::string& body,
                                   const std::string& content_type) const {
  CC_ASSIGN_OR_RETURN(http::Reply r, Send("PUT", path, body, content_type));
  return ParseBody(r.body);
}

}  // namespace cc::cli

#include "cli/client.h"

#include <httplib.h>

#include "api/http_signature.h"

namespace cc::cli {
namespace {

Status FromReply(const httplib::Result& r, const std::string& url) {
  if (!r) return Status::Unavailable("cannot reach " + url + ": " + httplib::to_string(r.error()));
  if (r->status < 400) return Status::Ok();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  std::string msg = j.is_object() && j.contains("message") ? j["message"].get<std::string>() : r->body;
  Code code = r->status == 404   ? Code::kNotFound
              : r->status == 403 ? Code::kPermissionDenied
              : r->status == 409 || r->status == 410 ? Code::kFailedPrecondition
              : r->status == 413 ? Code::kTooLarge
              : r->status >= 500 ? Code::kUnavailable
                                 : Code::kInvalidArgument;
  return Status(code, "HTTP " + std::to_string(r->status) + ": " + msg);
}

Result<nlohmann::json> ParseBody(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Invalid("the node sent a reply that is not JSON");
  return j;
}

httplib::Client Make(const std::string& url, const std::string& ca_file) {
  httplib::Client c(url);
  if (!ca_file.empty()) c.set_ca_cert_path(ca_file.c_str());
  c.enable_server_certificate_verification(true);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(60, 0);
  c.set_tcp_nodelay(true);
  return c;
}

httplib::Headers SignedHeaders(const std::optional<SecretKey>& key, const std::string& url,
                               const std::string& method, const std::string& target,
                               const std::string& body) {
  if (!key) return {};
  auto h = api::SignTarget(*key, method, api::AuthorityOf(url), target, body);
  return {h.begin(), h.end()};
}

}  // namespace

Result<std::string> Client::GetRaw(const std::string& path) const {
  auto c = Make(url_, ca_file_);
  auto r = c.Get(path, SignedHeaders(key_, url_, "GET", path, ""));
  CC_RETURN_IF_ERROR(FromReply(r, url_));
  return r->body;
}

Result<Client::Reply> Client::GetWithHeaders(const std::string& path) const {
  auto c = Make(url_, ca_file_);
  auto r = c.Get(path, SignedHeaders(key_, url_, "GET", path, ""));
  CC_RETURN_IF_ERROR(FromReply(r, url_));
  Reply out{r->body, {}};
  for (const auto& [k, v] : r->headers) out.headers[k] = v;
  return out;
}

Result<nlohmann::json> Client::Get(const std::string& path) const {
  CC_ASSIGN_OR_RETURN(std::string body, GetRaw(path));
  return ParseBody(body);
}

Result<nlohmann::json> Client::Post(const std::string& path, const std::string& body,
                                    const std::string& content_type) const {
  auto c = Make(url_, ca_file_);
  auto r = c.Post(path, SignedHeaders(key_, url_, "POST", path, body), body, content_type);
  CC_RETURN_IF_ERROR(FromReply(r, url_));
  return ParseBody(r->body);
}

Result<nlohmann::json> Client::Put(const std::string& path, const std::string& body,
                                   const std::string& content_type) const {
  auto c = Make(url_, ca_file_);
  auto r = c.Put(path, SignedHeaders(key_, url_, "PUT", path, body), body, content_type);
  CC_RETURN_IF_ERROR(FromReply(r, url_));
  return ParseBody(r->body);
}

}  // namespace cc::cli

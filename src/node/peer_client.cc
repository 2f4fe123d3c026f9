#include "node/peer_client.h"

#include <httplib.h>

#include "api/http_signature.h"
#include "codec/varint.h"

namespace cc::node {

namespace {

Code CodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return Code::kInternal;
}

}  // namespace

PeerClient::PeerClient(SecretKey node_key, std::string ca_file)
    : key_(std::move(node_key)), ca_file_(std::move(ca_file)) {}

PeerClient::~PeerClient() = default;

httplib::Client& PeerClient::ClientFor(const std::string& url) {
  auto& client = clients_[url];
  if (!client) {
    client = std::make_unique<httplib::Client>(url);
    if (!ca_file_.empty()) client->set_ca_cert_path(ca_file_.c_str());
    client->enable_server_certificate_verification(true);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(2, 0);
    client->set_read_timeout(10, 0);
  }
  return *client;
}

Result<std::string> PeerClient::FetchBlock(const std::string& url, uint64_t height) {
  const std::string path = "/v1/blocks/" + std::to_string(height) + "?format=binary";
  auto signed_headers = api::SignTarget(key_, "GET", api::AuthorityOf(url), path, "");
  httplib::Headers headers(signed_headers.begin(), signed_headers.end());
  auto r = ClientFor(url).Get(path, headers);
  if (!r) {
    clients_.erase(url);
    return Status::Unavailable("cannot reach " + url + ": " + httplib::to_string(r.error()));
  }
  if (r->status != 200) {
    return Status::Unavailable("HTTP " + std::to_string(r->status) + " from " + url + " for block " +
                               std::to_string(height));
  }
  return std::move(r->body);
}

Status PeerClient::Forward(const std::string& url, const std::vector<TxPtr>& txs,
                           std::vector<std::pair<size_t, Status>>* rejected) {
  httplib::Client& client = ClientFor(url);
  codec::Writer w;
  for (const auto& tx : txs) w.Bytes(tx->encoded());
  const std::string body = w.Take();
  const std::string path = "/v1/transactions/batch";
  auto signed_headers = api::SignTarget(key_, "POST", api::AuthorityOf(url), path, body);
  httplib::Headers headers(signed_headers.begin(), signed_headers.end());
  auto r = client.Post(path, headers, body, "application/octet-stream");
  if (!r) {
    clients_.erase(url);
    return Status::Unavailable("cannot reach " + url + ": " + httplib::to_string(r.error()));
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) {
    std::string msg = j.is_object() && j.contains("message") && j["message"].is_string()
                          ? j["message"].get<std::string>() : r->body.substr(0, 200);
    return Status::Unavailable("HTTP " + std::to_string(r->status) + " from " + url + ": " + msg);
  }
  const auto& results = j["results"];
  for (size_t i = 0; i < results.size() && i < txs.size(); ++i) {
    const auto& e = results[i];
    if (!e.is_object() || !e.contains("error")) continue;
    const auto& err = e["error"];
    std::string code = err.value("code", "internal");
    std::string message = err.value("message", "");
    Code c = CodeFromName(code);
    if (c == Code::kAlreadyExists) continue;  // the proposer has it already
    rejected->emplace_back(i, Status(c, message));
  }
  if (results.size() < txs.size()) {
    // Framing was lost at the proposer: what it did not answer for is sent again later.
    for (size_t i = results.size(); i < txs.size(); ++i)
      rejected->emplace_back(i, Status::Unavailable("not answered"));
  }
  return Status::Ok();
}

}  // namespace cc::node

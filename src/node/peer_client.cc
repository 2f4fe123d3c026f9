#include "node/peer_client.h"

#include "api/signing_client.h"
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

http::Client& PeerClient::ClientFor(const std::string& url) {
  auto& client = clients_[url];
  if (!client) {
    http::ClientOptions o;
    o.ca_file = ca_file_;
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(10);
    // The forwarder retries on its own schedule; a busy proposer is not waited out here.
    o.max_retries = 0;
    client = std::make_unique<http::Client>(api::SigningClient(url, key_, std::move(o)));
  }
  return *client;
}

Result<std::string> PeerClient::FetchBlock(const std::string& url, uint64_t height) {
  auto r = ClientFor(url).Get("/v1/blocks/" + std::to_string(height) + "?format=binary");
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return Status::Unavailable("HTTP " + std::to_string(r->status) + " from " + url + " for block " +
                               std::to_string(height));
  }
  return std::move(r->body);
}

Status PeerClient::Forward(const std::string& url, const std::vector<TxPtr>& txs,
                           std::vector<std::pair<size_t, Status>>* rejected) {
  codec::Writer w;
  for (const auto& tx : txs) w.Bytes(tx->encoded());
  auto r = ClientFor(url).Post("/v1/transactions/batch", w.Take(), "application/octet-stream");
  if (!r.ok()) return r.status();
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

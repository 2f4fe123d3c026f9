// A node's client of the other nodes' APIs (etcd ordering), every request
// signed with the node key, over a kept-alive connection per peer:
// forwarding accepted transactions to the proposer (POST
// /v1/transactions/batch) and fetching blocks no longer in etcd (GET
// /v1/blocks/H?format=binary).
//
// Thread safety: one caller at a time per instance (the orderer gives each
// of its threads its own).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/http/client.h"
#include "ordering/etcd_orderer.h"

namespace cc::node {

class PeerClient {
 public:
  // `ca_file`: CA of the other nodes' certificates for https URLs.
  PeerClient(SecretKey node_key, std::string ca_file);
  ~PeerClient();

  Status Forward(const std::string& url, const std::vector<TxPtr>& txs,
                 std::vector<std::pair<size_t, Status>>* rejected);
  // The encoded block `height` from the node at `url`.
  Result<std::string> FetchBlock(const std::string& url, uint64_t height);

 private:
  http::Client& ClientFor(const std::string& url);

  SecretKey key_;
  std::string ca_file_;
  std::map<std::string, std::unique_ptr<http::Client>> clients_;
};

}  // namespace cc::node

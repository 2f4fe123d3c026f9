// Forwards transactions a node accepted to the elected proposer's API (the
// etcd orderer's TxForwarder): POST /v1/transactions/batch, signed with the
// node key, over a kept-alive connection per proposer.
//
// Thread safety: one caller at a time (the orderer's forward thread).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ordering/etcd_orderer.h"

namespace httplib { class Client; }

namespace cc::node {

class HttpForwarder {
 public:
  // `ca_file`: CA of the other nodes' certificates for https URLs.
  HttpForwarder(SecretKey node_key, std::string ca_file);
  ~HttpForwarder();

  Status Forward(const std::string& url, const std::vector<TxPtr>& txs,
                 std::vector<std::pair<size_t, Status>>* rejected);

 private:
  SecretKey key_;
  std::string ca_file_;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients_;
};

}  // namespace cc::node

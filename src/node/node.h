// A running node: store, modules, chain, orderer, admission and API wired
// together.
#pragma once

#include <memory>

#include "admission/admission.h"
#include "api/server.h"
#include "apps/records/consent_index.h"
#include "ledger/chain.h"
#include "ledger/store.h"
#include "node/config.h"
#include "node/peer_client.h"
#include "ordering/solo.h"

namespace cc::node {

class Node {
 public:
  explicit Node(Config config) : config_(std::move(config)) {}
  ~Node();

  // Opens the store, checks it (refusing a damaged one unless `resync`),
  // and starts ordering and the API.
  Status Start(bool resync);
  void Stop();
  int api_port() const { return api_ ? api_->port() : 0; }
  // "http" or "https".
  std::string api_scheme() const { return config_.api.tls_cert_file.empty() ? "http" : "https"; }

 private:
  Status CheckOrRepair(bool resync);
  // Opens the off-chain store and the gatekeeper (none if the engine is "none").
  Status OpenOffchain(const std::string& org);

  Config config_;
  Genesis genesis_;
  std::unique_ptr<ModuleRegistry> modules_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<ChainStore> store_;
  std::unique_ptr<Chain> chain_;
  std::unique_ptr<PeerClient> forwarder_, fetcher_;
  std::unique_ptr<Orderer> orderer_;
  std::unique_ptr<admission::Admission> admission_;  // between the orderer and the API and gatekeeper
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<offchain::RecordStore> records_;
  std::unique_ptr<records::ConsentIndex> consents_;
  std::unique_ptr<offchain::Gatekeeper> gatekeeper_;
  std::unique_ptr<offchain::WearableCustodian> wearables_;
  std::unique_ptr<offchain::ReviewTexts> review_texts_;
  std::unique_ptr<api::Server> api_;
};

// Opens the pieces needed to verify a stopped node's data folder.
struct OfflineChain {
  Genesis genesis;
  std::unique_ptr<ModuleRegistry> modules;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<ChainStore> store;
};
Result<std::unique_ptr<OfflineChain>> OpenOffline(const std::string& data_dir,
                                                  const std::string& genesis_path);

}  // namespace cc::node

// The node's HTTP/JSON API (docs/api.md).
//
// Thread safety: handlers run on the server's thread pool; everything they
// touch is thread-safe. Signature checks run on those threads, so admission
// uses every core.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "api/http_signature.h"
#include "api/limits.h"
#include "api/metrics.h"
#include "api/policy.h"
#include "ledger/chain.h"
#include "offchain/gatekeeper.h"
#include "offchain/research_data.h"
#include "offchain/review_texts.h"
#include "offchain/wearables.h"
#include "ordering/orderer.h"

namespace cc::api {

struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 32;
  size_t max_body_bytes = 8 << 20;
  uint64_t max_wait_ms = 30000;  // longest ?wait=commit
  uint64_t signature_window_s = 60;  // accepted age of a request signature
  // Replay cache bounds (api/http_signature.h): nonces of registered keys,
  // and of keys that are not (a flood of those refuses only them).
  size_t max_registered_nonces = 2'000'000;
  size_t max_unregistered_nonces = 250'000;
  double requests_per_s_per_actor = 1000;  // 0: unlimited
  double requests_per_s_per_address = 2000;
  // The public, unsigned pack check (GET /v1/packs/check), per address.
  double pack_checks_per_s_per_address = 10;
  // Requests one address may have in progress at once (a share of `threads`).
  int max_concurrent_requests_per_address = 16;
  // The web portal's built files (web/dist), served at / without
  // authentication (they hold no data); "" = no portal.
  std::string portal_dir;
  // The request signatures' @authority values (lower-case host[:port]) this
  // node answers to; empty = api::DefaultAuthorities of host and the bound port.
  std::vector<std::string> authorities;
  // TLS: PEM certificate (chain) and private key; both empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// What the node keeps off chain as a custodian; each optional (a node
// without an off-chain store serves none of their routes).
struct OffchainServices {
  offchain::Gatekeeper* gatekeeper = nullptr;        // the records (api/records_routes.cc)
  offchain::RecordStore* documents = nullptr;        // cold-chain reading batches (api/coldchain_routes.cc)
  offchain::WearableCustodian* wearables = nullptr;  // patients' wearables (api/wearables_routes.cc)
  offchain::ReviewTexts* review_texts = nullptr;     // the review platform's texts (api/reviews_routes.cc)
};

class Server : public offchain::NodeSubmitter {
 public:
  Server(Chain* chain, Orderer* orderer, Metrics* metrics, ApiOptions options, OffchainServices offchain = {});
  ~Server() override;

  // Binds and starts serving on a background thread.
  Status Start();
  void Stop();
  int port() const { return port_; }
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // Signs with the node key under its next nonce and admits the transaction.
  Result<TxId> SubmitAsNode(std::string_view module, std::string_view action,
                            const nlohmann::json& payload) override;

 private:
  void Routes();
  // Serves options_.portal_dir at /, if set.
  Status MountPortal();
  using AuthedHandler =
      std::function<void(const httplib::Request&, httplib::Response&, const Principal&)>;
  // Wraps a handler: authenticates the request (RFC 9421), resolves its
  // signer, applies the per-actor rate limit; refusals are 401/429 JSON.
  httplib::Server::Handler Authed(AuthedHandler h);
  // Authed() around a member handler (the modules' routes).
  template <typename Handler>
  httplib::Server::Handler On(Handler handler) {
    return Authed([this, handler](const httplib::Request& q, httplib::Response& r, const Principal& c) {
      (this->*handler)(q, r, c);
    });
  }
  // Writes a refusal (401/403/429), counts it and returns false when `s` is not OK.
  bool Refuse(httplib::Response& res, const Status& s, std::string_view reason);
  Status Admit(const TxPtr& tx);
  void Submit(const httplib::Request& req, httplib::Response& res);
  void SubmitBatch(const httplib::Request& req, httplib::Response& res);
  void GetTx(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetBlock(const httplib::Request& req, httplib::Response& res);
  void GetProof(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetState(const httplib::Request& req, httplib::Response& res);
  void ModuleQuery(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  // The policy's decision on a module query (api/query_policy.cc): OK,
  // kPermissionDenied, or kInvalidArgument / kNotFound about the path. May
  // set `params` the module needs from the node (supply verdicts' time).
  Status AuthorizeQuery(std::string_view module, const std::string& path, QueryParams* params,
                        const Principal& caller) const;
  void PackCheck(const httplib::Request& req, httplib::Response& res);
  nlohmann::json TxStatus(const TxId& id, bool with_tx) const;
  nlohmann::json Info() const;
  void OnCommit(const BlockPtr& block);
  // Waits (up to max_wait_ms) while `id` is pending; true once committed.
  bool WaitCommitted(const TxId& id);

  // Records and consent (api/records_routes.cc).
  void RecordRoutes();
  void PublishRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void FetchRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void EraseRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetRecord(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void PatientData(const httplib::Request& req, httplib::Response& res, const Principal& caller);

  // Cold chain (api/coldchain_routes.cc).
  void ColdchainRoutes();
  void PostReadings(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void ShipmentCurve(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void ReadingProof(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  // OK and the shipment if `caller` may read shipment `id`; kPermissionDenied or kNotFound.
  Status MayReadShipment(const Principal& caller, const std::string& id, nlohmann::json* ship) const;

  // Wearables (api/wearables_routes.cc).
  void WearablesRoutes();
  void PostWearableBatch(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void EraseWearableData(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetWearableRules(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void PutWearableRules(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetWearableAlerts(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void StreamWearableAlerts(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetWearableReadings(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  // The patient a wearables read is about (?patient=, default the caller), if the policy allows.
  Result<PublicKey> WearablePatient(const httplib::Request& req, const Principal& caller) const;

  // Research data with consent (api/research_routes.cc).
  void ResearchRoutes();
  void ResearchAggregate(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void ResearchExport(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  std::optional<std::string> StudyRequest(const httplib::Request& req, httplib::Response& res,
                                          const Principal& caller);
  // OK if `caller` may use study `id`'s data; kNotFound, kPermissionDenied.
  Status MayUseStudy(const Principal& caller, const std::string& id) const;

  // Verified reviews (api/reviews_routes.cc).
  void ReviewsRoutes();
  void PostReviewText(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void GetReviewTexts(const httplib::Request& req, httplib::Response& res, const Principal& caller);
  void EraseReviewTexts(const httplib::Request& req, httplib::Response& res, const Principal& caller);

  Chain* chain_;
  Orderer* orderer_;
  Metrics* metrics_;
  const ApiOptions options_;
  offchain::Gatekeeper* gatekeeper_;
  offchain::RecordStore* documents_;
  offchain::WearableCustodian* wearables_;
  offchain::ReviewTexts* review_texts_;
  std::unique_ptr<offchain::ResearchDesk> research_;  // with wearables_
  std::atomic<int> streams_{0};  // open alert streams
  std::mutex node_submit_mu_;  // orders the node's own nonces
  std::unique_ptr<httplib::Server> http_;  // an SSLServer when TLS is configured
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  RequestAuthenticator authenticator_;
  ConnectionLimiter concurrent_;  // concurrent requests per address
  RateLimiter per_actor_;
  RateLimiter per_address_;
  RateLimiter pack_checks_;

  std::mutex admitted_mu_;
  std::unordered_map<TxId, uint64_t, DigestHash> admitted_us_;  // GUARDED_BY(admitted_mu_)
};

}  // namespace cc::api

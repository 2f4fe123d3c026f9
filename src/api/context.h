// What the API's route handlers share: the chain, the orderer, the admission
// (admission/admission.h), the off-chain services, the metrics and the
// limits, plus the few steps every route file takes (refusing with a counted
// reason, a transaction's status, replying once a transaction is committed).
// Handlers are free functions of a route file (api/routes.h) that take a
// Context.
//
// Thread safety: every member is thread-safe; handlers run on the HTTP
// server's threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "admission/admission.h"
#include "api/http/message.h"
#include "api/http_signature.h"
#include "api/limits.h"
#include "api/options.h"
#include "api/policy.h"
#include "ledger/chain.h"
#include "offchain/gatekeeper.h"
#include "offchain/research_data.h"
#include "offchain/review_texts.h"
#include "offchain/wearables.h"
#include "ordering/orderer.h"
#include "util/metrics.h"

namespace cc::api {

// What the node keeps off chain as a custodian; each optional (a node
// without an off-chain store serves none of their routes).
struct OffchainServices {
  offchain::Gatekeeper* gatekeeper = nullptr;        // the records (api/records_routes.cc)
  offchain::RecordStore* documents = nullptr;        // cold-chain reading batches (api/coldchain_routes.cc)
  offchain::WearableCustodian* wearables = nullptr;  // patients' wearables (api/wearables_routes.cc)
  offchain::ReviewTexts* review_texts = nullptr;     // the review platform's texts (api/reviews_routes.cc)
};

class Context {
 public:
  Context(Chain* chain, Orderer* orderer, admission::Admission* admission, Metrics* metrics, ApiOptions options,
          OffchainServices offchain);
  ~Context();

  Chain* const chain;
  Orderer* const orderer;
  admission::Admission* const admission;  // every submission goes through it
  Metrics* const metrics;
  const ApiOptions options;
  offchain::Gatekeeper* const gatekeeper;
  offchain::RecordStore* const documents;
  offchain::WearableCustodian* const wearables;
  offchain::ReviewTexts* const review_texts;
  const std::unique_ptr<offchain::ResearchDesk> research;  // with wearables
  std::atomic<int> streams{0};                             // open alert streams
  std::atomic<bool> stopping{false};

  RequestAuthenticator authenticator;
  RateLimiter per_actor;
  RateLimiter per_address;
  RateLimiter pack_checks;

  // Writes a refusal (its HTTP status from the code), counts it under
  // `reason` and returns false when `s` is not OK.
  bool Refuse(http::Response& res, const Status& s, std::string_view reason) const;

  // {"id", "status": committed|pending|unknown|corrupt, ...} of a transaction.
  nlohmann::json TxStatus(const TxId& id, bool with_tx) const;
  // True once `id` is committed, or no longer pending (dropped), or the node stops.
  bool Settled(const TxId& id) const;
  // Replies with `reply` now or, for ?wait=commit, once `id` settled or
  // `max_wait_ms` passed, holding no thread meanwhile.
  void AfterCommit(const http::Request& req, http::Response& res, const TxId& id,
                   std::function<void(http::Response&)> reply);
  // AfterCommit with the transaction's status as the reply (200 once
  // committed, else 202), `extra` fields added.
  void ReplyTxStatus(const http::Request& req, http::Response& res, const TxId& id,
                     nlohmann::json extra = nlohmann::json::object());
  nlohmann::json Info() const;

 private:
  void OnCommit(const BlockPtr& block);
};

}  // namespace cc::api

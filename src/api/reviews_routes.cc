// Routes of the review platform: patients hand in the texts of their reviews
// and corrections, anyone in the network reads them checked against the
// chain, and a patient has their texts erased (docs/api.md, "Reviews";
// offchain/review_texts.h). Reviews themselves are transactions, and their
// queries are the reviews module's (/v1/modules/reviews/...).
#include <spdlog/spdlog.h>

#include "api/http_util.h"
#include "api/server.h"
#include "apps/reviews/reviews.h"

namespace cc::api {

void Server::ReviewsRoutes() {
  http_->Post("/v1/reviews/texts", On(&Server::PostReviewText));
  http_->Get("/v1/reviews/([0-9a-f]{32})/texts", On(&Server::GetReviewTexts));
  http_->Post("/v1/reviews/erasure", On(&Server::EraseReviewTexts));
}

void Server::PostReviewText(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kWriteReviewText, {caller.key, caller, ""}), "policy")) return;
  if (!review_texts_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("text") || !body["text"].is_string() || body.size() != 1)
    return ReplyError(res, Status::Invalid("the body is {\"text\": \"...\"}"));
  auto sealed = review_texts_->Store(caller.key, body["text"].get<std::string>());
  if (!sealed.ok()) return ReplyError(res, sealed.status());
  ReplyJson(res, *sealed, 201);
}

void Server::GetReviewTexts(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kReadReviews), "policy")) return;
  if (!review_texts_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto texts = review_texts_->Texts(req.matches[1].str());
  if (!texts.ok()) return ReplyError(res, texts.status());
  ReplyJson(res, *texts);
}

// The patient's erasure request: their texts here are destroyed, then the
// node records it on chain (reviews `text_erased`). Asking again after a
// crash between the two sends the receipt that is still due.
void Server::EraseReviewTexts(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  if (!Refuse(res, Authorize(caller, Operation::kWriteReviewText, {caller.key, caller, ""}), "policy")) return;
  if (!review_texts_) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto n = review_texts_->Erase(caller.key);
  if (!n.ok()) return ReplyError(res, n.status());
  spdlog::info("reviews: erased {} documents at a patient's request", *n);
  if (!review_texts_->ErasureDue(caller.key)) {
    return ReplyJson(res, {{"documents", *n}, {"status", "nothing on chain to confirm"}});
  }
  auto tx = admission_->SubmitAsNode(reviews::kModule, "text_erased", {{"patient", caller.key.hex()}});
  if (!tx.ok()) return ReplyError(res, tx.status());
  if (WantsCommitWait(req)) WaitCommitted(*tx);
  nlohmann::json out = TxStatus(*tx, /*with_tx=*/false);
  out["documents"] = *n;
  ReplyJson(res, out, out["status"] == "committed" ? 200 : 202);
}

}  // namespace cc::api

// Routes of the review platform: patients hand in the texts of their reviews
// and corrections, anyone in the network reads them checked against the
// chain, and a patient has their texts erased (docs/api.md, "Reviews";
// offchain/review_texts.h). Reviews themselves are transactions, and their
// queries are the reviews module's (/v1/modules/reviews/...).
#include <spdlog/spdlog.h>

#include "api/http_util.h"
#include "api/routes.h"
#include "apps/reviews/reviews.h"

namespace cc::api {
namespace {

void PostReviewText(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kWriteReviewText, {caller.key, caller, ""}), "policy")) return;
  if (!cx.review_texts) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("text") || !body["text"].is_string() || body.size() != 1)
    return ReplyError(res, Status::Invalid("the body is {\"text\": \"...\"}"));
  auto sealed = cx.review_texts->Store(caller.key, body["text"].get<std::string>());
  if (!sealed.ok()) return ReplyError(res, sealed.status());
  ReplyJson(res, *sealed, 201);
}

void GetReviewTexts(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kReadReviews), "policy")) return;
  if (!cx.review_texts) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto texts = cx.review_texts->Texts(req.matches[1]);
  if (!texts.ok()) return ReplyError(res, texts.status());
  ReplyJson(res, *texts);
}

// The patient's erasure request: their texts here are destroyed, then the
// node records it on chain (reviews `text_erased`). Asking again after a
// crash between the two sends the receipt that is still due.
void EraseReviewTexts(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  if (!cx.Refuse(res, Authorize(caller, Operation::kWriteReviewText, {caller.key, caller, ""}), "policy")) return;
  if (Status empty = RequireEmptyBody(req); !empty.ok()) return ReplyError(res, empty);
  if (!cx.review_texts) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store"));
  auto n = cx.review_texts->Erase(caller.key);
  if (!n.ok()) return ReplyError(res, n.status());
  spdlog::info("reviews: erased {} documents at a patient's request", *n);
  if (!cx.review_texts->ErasureDue(caller.key)) {
    return ReplyJson(res, {{"documents", *n}, {"status", "nothing on chain to confirm"}});
  }
  auto tx = cx.admission->SubmitAsNode(reviews::kModule, "text_erased", {{"patient", caller.key.hex()}});
  if (!tx.ok()) return ReplyError(res, tx.status());
  cx.ReplyTxStatus(req, res, *tx, {{"documents", *n}});
}

}  // namespace

void AddReviewsRoutes(Routes& r) {
  r.Post("/v1/reviews/texts", PostReviewText);
  r.Get("/v1/reviews/([0-9a-f]{32})/texts", GetReviewTexts);
  r.Post("/v1/reviews/erasure", EraseReviewTexts);
}

}  // namespace cc::api

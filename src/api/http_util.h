// JSON replies and the mapping of Status codes to HTTP statuses.
#pragma once

#include <nlohmann/json.hpp>

#include "api/http/message.h"
#include "util/status.h"

namespace cc::api {

int HttpStatusFor(Code code);
// Writes {"code": ..., "message": ...} with the matching HTTP status. A 429
// or 503 carries Retry-After.
void ReplyError(http::Response& res, const Status& status);
void ReplyError(http::Response& res, int http_status, std::string_view code, std::string message);
// True for ?wait=commit: the client waits until its transaction is committed.
bool WantsCommitWait(const http::Request& req);
void ReplyJson(http::Response& res, const nlohmann::json& body, int http_status = 200);
// The body must be empty (an action whose parameters are all in the path).
Status RequireEmptyBody(const http::Request& req);

}  // namespace cc::api

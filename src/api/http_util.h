// JSON replies and the mapping of Status codes to HTTP statuses.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace cc::api {

int HttpStatusFor(Code code);
// Writes {"code": ..., "message": ...} with the matching HTTP status.
void ReplyError(httplib::Response& res, const Status& status);
void ReplyError(httplib::Response& res, int http_status, std::string_view code, std::string message);
// True for ?wait=commit: the client waits until its transaction is committed.
bool WantsCommitWait(const httplib::Request& req);
// The query parameter `name`, or `fallback` when absent.
std::string Param(const httplib::Request& req, const char* name, std::string fallback = "");
void ReplyJson(httplib::Response& res, const nlohmann::json& body, int http_status = 200);

}  // namespace cc::api

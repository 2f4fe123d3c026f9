#include "api/http_util.h"

namespace cc::api {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kPermissionDenied: return 403;
    case Code::kUnauthenticated: return 401;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal: return 500;
  }
  return 500;
}

bool WantsCommitWait(const http::Request& req) { return req.Param("wait") == "commit"; }

void ReplyJson(http::Response& res, const nlohmann::json& body, int http_status) {
  res.status = http_status;
  // Messages may echo bytes of a binary request that are not UTF-8 (a chain
  // id, a module name): replace them rather than throw and answer 500.
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void ReplyError(http::Response& res, int http_status, std::string_view code, std::string message) {
  ReplyJson(res, {{"code", code}, {"message", std::move(message)}}, http_status);
  if (http_status == 429 || http_status == 503) res.SetHeader("Retry-After", "1");
}

void ReplyError(http::Response& res, const Status& status) {
  ReplyError(res, HttpStatusFor(status.code()), CodeName(status.code()), status.message());
}

Status RequireEmptyBody(const http::Request& req) {
  if (req.body.empty()) return Status::Ok();
  return Status::Invalid("this request takes no body (" + std::to_string(req.body.size()) + " bytes sent)");
}

}  // namespace cc::api

// The supply chain's public route: patients scanning the code on their
// medicine (docs/api.md, "Packs"). The module's other reads are its queries
// (/v1/modules/supply/...).
#include "api/http_util.h"
#include "api/routes.h"
#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"

namespace cc::api {
namespace {

// Unsigned and rate-limited per address. It reveals only the verdict: not
// the pack's owner, history, batch or expiry, nor whether a code of a real
// GTIN exists beyond "unknown_serial".
void PackCheck(Context& cx, const http::Request& req, http::Response& res) {
  if (!cx.pack_checks.Allow(req.remote_addr)) {
    cx.metrics->Counter("carechain_http_refused_total", "reason=\"rate_pack_check\"")++;
    return ReplyError(res, 429, "rate_limited", "too many pack checks from this address; slow down");
  }
  if (!req.HasParam("code")) return ReplyError(res, Status::Invalid("give the pack's code as ?code="));
  auto code = supply::Parse(req.Param("code"));
  if (!code.ok()) return ReplyError(res, code.status());
  supply::Verdict v = supply::Check(cx.chain->store(), code->gtin, code->serial, code->batch, code->expiry,
                                    Clock::System()->NowMs());
  cx.metrics->Counter("carechain_pack_checks_total", "verdict=\"" + v.verdict + "\"")++;
  ReplyJson(res, {{"verdict", v.verdict}});
}

}  // namespace

void AddSupplyRoutes(Routes& r) { r.Public("GET", "/v1/packs/check", PackCheck); }

}  // namespace cc::api

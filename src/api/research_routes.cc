// Routes of research data with consent at a custodian: aggregates and
// pseudonymised exports of wearable readings for a study's researchers
// (docs/api.md, "Research data"; offchain/research_data.h).
#include "api/http_util.h"
#include "api/routes.h"
#include "apps/research/research.h"
#include "util/date.h"

namespace cc::api {
namespace {

constexpr const char* kStudy = "([a-z0-9._-]{1,64})";

Result<std::optional<uint64_t>> UIntParam(const http::Request& req, const char* name) {
  if (!req.HasParam(name)) return std::optional<uint64_t>();
  const std::string v = req.Param(name);
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid(std::string("'") + name + "' must be a whole number");
  return std::optional<uint64_t>(std::stoull(v));
}

}  // namespace

Status MayUseStudy(const Context& cx, const Principal& caller, const std::string& id) {
  auto study = research::ReadStudy(cx.chain->store(), id);
  if (!study) return Status::NotFound("no study '" + id + "'");
  Resource r;
  r.org = (*study)["org"].get<std::string>();
  return Authorize(caller, Operation::kUseResearchData, r);
}

namespace {

// The study a research data request is about, if the caller may use the
// study's data and the request names a metric; else the refusal is written
// to `res`.
std::optional<std::string> StudyRequest(Context& cx, const http::Request& req, http::Response& res,
                                        const Principal& caller) {
  const std::string study = req.matches[1];
  Status may = MayUseStudy(cx, caller, study);
  if (may.code() == Code::kNotFound) return ReplyError(res, may), std::nullopt;
  if (!cx.Refuse(res, may, "policy")) return std::nullopt;
  if (!cx.research) return ReplyError(res, Status::Unavailable("this node keeps no off-chain store")), std::nullopt;
  if (req.Param("metric").empty())
    return ReplyError(res, Status::Invalid("give the metric as ?metric=, e.g. heart_rate")), std::nullopt;
  return study;
}

void ResearchAggregate(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  auto study = StudyRequest(cx, req, res, caller);
  if (!study) return;
  offchain::AggregateQuery q;
  q.metric = req.Param("metric");
  auto first = ParseDay(req.Param("from"));
  auto last = ParseDay(req.Param("to"));
  if (!first || !last)
    return ReplyError(res, Status::Invalid("give the window as ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, inclusive)"));
  q.first_day = *first;
  q.last_day = *last;
  if (req.HasParam("bin")) {
    const std::string b = req.Param("bin");
    char* end = nullptr;
    const double v = std::strtod(b.c_str(), &end);
    if (b.empty() || *end != '\0') return ReplyError(res, Status::Invalid("'bin' must be a number"));
    q.bin = v;
  }
  auto r = cx.research->Aggregate(caller.key, *study, q);
  if (r.status().code() == Code::kPermissionDenied) {
    cx.metrics->Counter("carechain_research_refused_total", "reason=\"below_k\"")++;
    return ReplyError(res, 403, "below_k", r.status().message());
  }
  if (!r.ok()) return ReplyError(res, r.status());
  cx.metrics->Counter("carechain_research_queries_total", "kind=\"aggregate\"")++;
  ReplyJson(res, *r);
}

void ResearchExport(Context& cx, const http::Request& req, http::Response& res, const Principal& caller) {
  auto study = StudyRequest(cx, req, res, caller);
  if (!study) return;
  offchain::ExportQuery q;
  q.metric = req.Param("metric");
  auto from = UIntParam(req, "from"), to = UIntParam(req, "to"), limit = UIntParam(req, "limit");
  for (const auto* p : {&from, &to, &limit}) {
    if (!p->ok()) return ReplyError(res, p->status());
  }
  q.from = *from;
  q.to = *to;
  if (*limit) q.limit = **limit;
  q.after = req.Param("after");
  auto r = cx.research->Export(caller.key, *study, q);
  if (!r.ok()) return ReplyError(res, r.status());
  cx.metrics->Counter("carechain_research_queries_total", "kind=\"export\"")++;
  ReplyJson(res, *r);
}

}  // namespace

void AddResearchRoutes(Routes& r) {
  r.Get(std::string("/v1/research/studies/") + kStudy + "/aggregate", ResearchAggregate);
  r.Get(std::string("/v1/research/studies/") + kStudy + "/export", ResearchExport);
}

}  // namespace cc::api

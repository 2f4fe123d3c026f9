// The web portal's files (web/dist), static and public: the pages sign every
// API call in the browser. The headers keep them from loading anything but
// their own files and from being framed.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/http_util.h"
#include "api/routes.h"

namespace cc::api {
namespace {

std::string_view MediaType(const std::filesystem::path& p) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}, {".webmanifest", "application/manifest+json"}};
  const std::string ext = p.extension().string();
  for (const auto& [e, t] : kTypes) {
    if (ext == e) return t;
  }
  return "application/octet-stream";
}

void PortalFile(Context& cx, const http::Request& req, http::Response& res) {
  namespace fs = std::filesystem;
  // No way out of the folder: ".." and hidden names are refused outright.
  std::string rel = req.path.substr(1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  if (rel.find("..") != std::string::npos || rel.find('\0') != std::string::npos || rel.starts_with("/") ||
      rel.find("/.") != std::string::npos || rel.starts_with(".")) {
    return ReplyError(res, 404, "not_found", "no such endpoint: GET " + req.path);
  }
  const fs::path file = fs::path(cx.options.portal_dir) / rel;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return ReplyError(res, 404, "not_found", "no such endpoint: GET " + req.path);
  std::ifstream in(file, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in.good() && !in.eof()) return ReplyError(res, Status::IOError("cannot read a portal file"));
  res.SetContent(std::move(data).str(), std::string(MediaType(file)));
  res.SetHeader("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' "
                "'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Referrer-Policy", "no-referrer");
  res.SetHeader("Cache-Control", "no-cache");
}

}  // namespace

Status AddPortalRoutes(Routes& r) {
  const std::string& dir = r.context().options.portal_dir;
  if (!std::filesystem::is_regular_file(dir + "/index.html"))
    return Status::Invalid("the portal folder " + dir + " holds no index.html (build it: scripts/build-web)");
  r.Fallback(PortalFile);
  return Status::Ok();
}

}  // namespace cc::api

#include "node/config.h"

#include <filesystem>
#include <toml++/toml.h>

#include "util/env.h"

namespace cc::node {
namespace {

std::string Resolve(const std::string& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base) / p).lexically_normal().string();
}

}  // namespace

Result<Config> Config::Parse(const std::string& text, const std::string& base_dir) {
  toml::table t;
  try {
    t = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return Status::Invalid(std::string("config: ") + std::string(e.description()) + " at line " +
                           std::to_string(e.source().begin.line));
  }
  Config c;
  c.data_dir = Resolve(base_dir, t["node"]["data_dir"].value_or(std::string()));
  c.key_file = Resolve(base_dir, t["node"]["key_file"].value_or(std::string()));
  c.genesis = Resolve(base_dir, t["node"]["genesis"].value_or(std::string()));
  if (c.data_dir.empty() || c.key_file.empty() || c.genesis.empty()) {
    return Status::Invalid("config: [node] needs data_dir, key_file and genesis");
  }
  c.api.host = t["api"]["host"].value_or(std::string("127.0.0.1"));
  int64_t port = t["api"]["port"].value_or(int64_t{8080});
  if (port < 0 || port > 65535) return Status::Invalid("config: api.port must be in [0, 65535]");
  c.api.port = static_cast<int>(port);
  int64_t threads = t["api"]["threads"].value_or(int64_t{16});
  if (threads < 1 || threads > 1024) return Status::Invalid("config: api.threads must be in [1, 1024]");
  c.api.threads = static_cast<int>(threads);
  int64_t body = t["api"]["max_body_bytes"].value_or(int64_t{8 << 20});
  if (body < 1024) return Status::Invalid("config: api.max_body_bytes must be at least 1024");
  c.api.max_body_bytes = static_cast<size_t>(body);
  c.ordering = t["ordering"]["backend"].value_or(std::string("solo"));
  if (c.ordering != "solo") {
    return Status::Invalid("config: ordering.backend '" + c.ordering + "' is not available (solo)");
  }
  int64_t max_txs = t["ordering"]["max_block_txs"].value_or(int64_t{2000});
  int64_t interval = t["ordering"]["block_interval_ms"].value_or(int64_t{10});
  int64_t mempool = t["ordering"]["mempool_capacity"].value_or(int64_t{200000});
  if (max_txs < 1 || max_txs > 50000) return Status::Invalid("config: ordering.max_block_txs must be in [1, 50000]");
  if (interval < 1 || interval > 60000) return Status::Invalid("config: ordering.block_interval_ms must be in [1, 60000]");
  if (mempool < 1) return Status::Invalid("config: ordering.mempool_capacity must be positive");
  c.solo = {static_cast<size_t>(max_txs), static_cast<uint64_t>(interval), static_cast<size_t>(mempool)};
  c.log_level = t["log"]["level"].value_or(std::string("info"));
  return c;
}

Result<Config> Config::Load(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::string base = std::filesystem::absolute(path).parent_path().string();
  auto c = Parse(text, base);
  if (!c.ok()) return Status(c.status().code(), path + ": " + c.status().message());
  return c;
}

}  // namespace cc::node

#include "node/config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <vector>
#include <toml++/toml.h>

#include "api/http_signature.h"
#include "util/env.h"

namespace cc::node {
namespace {

std::string Resolve(const std::string& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base) / p).lexically_normal().string();
}

// Typed access that refuses a key of the wrong type instead of silently
// taking the default, and refuses keys this version does not know.
class Reader {
 public:
  explicit Reader(const toml::table& t) : t_(t) {}

  Status Known(const std::map<std::string, std::vector<std::string>>& allowed) const {
    for (const auto& [section, node] : t_) {
      auto it = allowed.find(std::string(section.str()));
      if (it == allowed.end()) return Status::Invalid("config: unknown section [" + std::string(section.str()) + "]");
      if (!node.is_table()) return Status::Invalid("config: [" + std::string(section.str()) + "] must be a table");
      for (const auto& [key, _] : *node.as_table()) {
        if (std::find(it->second.begin(), it->second.end(), key.str()) == it->second.end())
          return Status::Invalid("config: unknown key " + std::string(section.str()) + "." + std::string(key.str()));
      }
    }
    return Status::Ok();
  }
  Status Str(const char* section, const char* key, std::string* out) const {
    auto node = t_[section][key];
    if (!node) return Status::Ok();
    if (!node.is_string()) return Status::Invalid(std::string("config: ") + section + "." + key + " must be a string");
    *out = *node.value<std::string>();
    return Status::Ok();
  }
  Status Bool(const char* section, const char* key, bool* out) const {
    auto node = t_[section][key];
    if (!node) return Status::Ok();
    if (!node.is_boolean()) return Status::Invalid(std::string("config: ") + section + "." + key + " must be true or false");
    *out = *node.value<bool>();
    return Status::Ok();
  }
  Status Int(const char* section, const char* key, int64_t lo, int64_t hi, int64_t* out) const {
    auto node = t_[section][key];
    if (!node) return Status::Ok();
    if (!node.is_integer() || *node.value<int64_t>() < lo || *node.value<int64_t>() > hi)
      return Status::Invalid(std::string("config: ") + section + "." + key + " must be an integer in [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
    *out = *node.value<int64_t>();
    return Status::Ok();
  }

 private:
  const toml::table& t_;
};

bool IsAuthority(const std::string& a) {
  return !a.empty() && a.size() <= 255 && a.find_first_of("/?#@ \t") == std::string::npos &&
         a.find("://") == std::string::npos;
}

bool IsWildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

// Plain HTTP only on loopback, unless a test says otherwise: a request's
// signature keeps it from being altered, not from being read, and etcd and
// the peers carry every transaction.
Status CheckPlaintext(const Config& c) {
  if (IsWildcard(c.api.host) && c.api.authorities.empty()) {
    return Status::Invalid("config: api.host \"" + c.api.host +
                           "\" listens on every address: name the host:port clients reach this node by in "
                           "api.authorities (request signatures are bound to it)");
  }
  if (c.api.tls_cert_file.empty() && !api::IsLoopbackHost(c.api.host) && !c.api_allow_plaintext) {
    return Status::Invalid("config: api.host \"" + c.api.host +
                           "\" is not a loopback address, and without api.tls_cert and api.tls_key the API would "
                           "be plain HTTP; configure TLS (or set api.allow_plaintext = true, for tests only)");
  }
  if (c.ordering_allow_plaintext) return Status::Ok();
  const char* fix = "; use https (or set ordering.allow_plaintext = true, for tests only)";
  for (const auto& url : c.etcd.endpoints) {
    if (url.starts_with("http://")) return Status::Invalid("config: etcd endpoint " + url + " is plain HTTP" + fix);
  }
  if (c.cluster.advertise_url.starts_with("http://")) {
    return Status::Invalid("config: ordering.advertise_url " + c.cluster.advertise_url +
                           " makes the other nodes forward to this one over plain HTTP" + fix);
  }
  if (c.ordering == "etcd" && c.cluster.advertise_url.empty() && c.api.tls_cert_file.empty()) {
    return Status::Invalid("config: ordering.backend = \"etcd\" with a plain-HTTP API: the other nodes would "
                           "forward to this one over http://; configure api TLS (or set "
                           "ordering.allow_plaintext = true, for tests only)");
  }
  return Status::Ok();
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
  Reader r(t);
  CC_RETURN_IF_ERROR(r.Known({{"node", {"data_dir", "key_file", "genesis"}},
                              {"api", {"host", "port", "threads", "max_body_bytes", "max_wait_ms", "signature_window_s",
                                       "requests_per_s_per_actor", "actor_burst", "requests_per_s_per_address",
                                       "max_header_bytes", "max_headers", "header_timeout_ms", "body_timeout_ms",
                                       "keepalive_timeout_ms", "max_connections", "max_connections_per_address",
                                       "tls_cert", "tls_key", "pack_checks_per_s_per_address", "portal_dir",
                                       "authorities", "allow_plaintext", "max_registered_nonces",
                                       "max_unregistered_nonces"}},
                              {"ordering", {"backend", "max_block_txs", "block_interval_ms", "mempool_capacity",
                                            "advertise_url", "peer_ca", "lease_ttl_s", "checkpoint_interval",
                                            "retain_blocks", "max_block_bytes", "allow_plaintext"}},
                              {"log", {"level"}},
                              {"etcd", {"endpoints", "tls_ca", "tls_cert", "tls_key"}},
                              {"offchain", {"engine", "sqlite_path", "postgres", "postgres_pool", "master_key",
                                            "flush_interval_ms"}}}));
  Config c;
  CC_RETURN_IF_ERROR(r.Str("node", "data_dir", &c.data_dir));
  CC_RETURN_IF_ERROR(r.Str("node", "key_file", &c.key_file));
  CC_RETURN_IF_ERROR(r.Str("node", "genesis", &c.genesis));
  if (c.data_dir.empty() || c.key_file.empty() || c.genesis.empty()) {
    return Status::Invalid("config: [node] needs data_dir, key_file and genesis");
  }
  c.data_dir = Resolve(base_dir, c.data_dir);
  c.key_file = Resolve(base_dir, c.key_file);
  c.genesis = Resolve(base_dir, c.genesis);
  CC_RETURN_IF_ERROR(r.Str("api", "host", &c.api.host));
  // Defaults come from api::ApiOptions (docs/operations.md).
  const api::ApiOptions d;
  int64_t port = d.port, threads = d.threads, body = static_cast<int64_t>(d.max_body_bytes),
          wait = static_cast<int64_t>(d.max_wait_ms);
  CC_RETURN_IF_ERROR(r.Int("api", "port", 0, 65535, &port));
  CC_RETURN_IF_ERROR(r.Int("api", "threads", 1, 1024, &threads));
  CC_RETURN_IF_ERROR(r.Int("api", "max_body_bytes", 1024, int64_t{1} << 30, &body));
  CC_RETURN_IF_ERROR(r.Int("api", "max_wait_ms", 0, 600000, &wait));
  c.api.port = static_cast<int>(port);
  c.api.threads = static_cast<int>(threads);
  c.api.max_body_bytes = static_cast<size_t>(body);
  c.api.max_wait_ms = static_cast<uint64_t>(wait);
  int64_t header_bytes = static_cast<int64_t>(d.max_header_bytes), headers = static_cast<int64_t>(d.max_headers);
  int64_t header_ms = static_cast<int64_t>(d.header_timeout_ms), body_ms = static_cast<int64_t>(d.body_timeout_ms);
  int64_t idle_ms = static_cast<int64_t>(d.keepalive_timeout_ms);
  int64_t conns = d.max_connections, conns_per_address = d.max_connections_per_address;
  CC_RETURN_IF_ERROR(r.Int("api", "max_header_bytes", 1024, 1 << 20, &header_bytes));
  CC_RETURN_IF_ERROR(r.Int("api", "max_headers", 8, 10000, &headers));
  CC_RETURN_IF_ERROR(r.Int("api", "header_timeout_ms", 100, 600000, &header_ms));
  CC_RETURN_IF_ERROR(r.Int("api", "body_timeout_ms", 100, 3600000, &body_ms));
  CC_RETURN_IF_ERROR(r.Int("api", "keepalive_timeout_ms", 100, 3600000, &idle_ms));
  CC_RETURN_IF_ERROR(r.Int("api", "max_connections", 1, 1'000'000, &conns));
  CC_RETURN_IF_ERROR(r.Int("api", "max_connections_per_address", 1, 1'000'000, &conns_per_address));
  c.api.max_header_bytes = static_cast<size_t>(header_bytes);
  c.api.max_headers = static_cast<size_t>(headers);
  c.api.header_timeout_ms = static_cast<uint64_t>(header_ms);
  c.api.body_timeout_ms = static_cast<uint64_t>(body_ms);
  c.api.keepalive_timeout_ms = static_cast<uint64_t>(idle_ms);
  c.api.max_connections = static_cast<int>(conns);
  c.api.max_connections_per_address = static_cast<int>(conns_per_address);
  int64_t window = static_cast<int64_t>(d.signature_window_s);
  int64_t per_actor = static_cast<int64_t>(d.requests_per_s_per_actor), burst = static_cast<int64_t>(d.actor_burst);
  int64_t per_address = static_cast<int64_t>(d.requests_per_s_per_address);
  CC_RETURN_IF_ERROR(r.Int("api", "signature_window_s", 5, 3600, &window));
  CC_RETURN_IF_ERROR(r.Int("api", "requests_per_s_per_actor", 0, 1'000'000, &per_actor));
  CC_RETURN_IF_ERROR(r.Int("api", "actor_burst", 0, 10'000'000, &burst));
  CC_RETURN_IF_ERROR(r.Int("api", "requests_per_s_per_address", 0, 1'000'000, &per_address));
  c.api.signature_window_s = static_cast<uint64_t>(window);
  int64_t registered_nonces = 2'000'000, unregistered_nonces = 250'000;
  CC_RETURN_IF_ERROR(r.Int("api", "max_registered_nonces", 1000, 1'000'000'000, &registered_nonces));
  CC_RETURN_IF_ERROR(r.Int("api", "max_unregistered_nonces", 100, 1'000'000'000, &unregistered_nonces));
  c.api.max_registered_nonces = static_cast<size_t>(registered_nonces);
  c.api.max_unregistered_nonces = static_cast<size_t>(unregistered_nonces);
  c.api.requests_per_s_per_actor = static_cast<double>(per_actor);
  c.api.actor_burst = static_cast<double>(burst);
  c.api.requests_per_s_per_address = static_cast<double>(per_address);
  int64_t pack_checks = static_cast<int64_t>(d.pack_checks_per_s_per_address);
  CC_RETURN_IF_ERROR(r.Int("api", "pack_checks_per_s_per_address", 0, 1'000'000, &pack_checks));
  c.api.pack_checks_per_s_per_address = static_cast<double>(pack_checks);
  CC_RETURN_IF_ERROR(r.Str("api", "tls_cert", &c.api.tls_cert_file));
  CC_RETURN_IF_ERROR(r.Str("api", "tls_key", &c.api.tls_key_file));
  if (c.api.tls_cert_file.empty() != c.api.tls_key_file.empty()) {
    return Status::Invalid("config: api.tls_cert and api.tls_key go together");
  }
  c.api.tls_cert_file = Resolve(base_dir, c.api.tls_cert_file);
  c.api.tls_key_file = Resolve(base_dir, c.api.tls_key_file);
  CC_RETURN_IF_ERROR(r.Str("api", "portal_dir", &c.api.portal_dir));
  CC_RETURN_IF_ERROR(r.Bool("api", "allow_plaintext", &c.api_allow_plaintext));
  if (auto list = t["api"]["authorities"]; list) {
    if (!list.is_array()) return Status::Invalid("config: api.authorities must be a list of \"host:port\" strings");
    for (const auto& a : *list.as_array()) {
      auto v = a.value<std::string>();
      if (!v || !IsAuthority(*v))
        return Status::Invalid("config: api.authorities holds something that is not a host[:port] (e.g. "
                               "\"node1.example:8443\", no scheme or path)");
      std::string lower = *v;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.api.authorities.push_back(lower);
    }
    if (c.api.authorities.empty()) return Status::Invalid("config: api.authorities is empty");
  }
  if (!c.api.portal_dir.empty()) c.api.portal_dir = Resolve(base_dir, c.api.portal_dir);
  CC_RETURN_IF_ERROR(r.Str("ordering", "backend", &c.ordering));
  if (c.ordering != "solo" && c.ordering != "etcd") {
    return Status::Invalid("config: ordering.backend '" + c.ordering + "' is not one of solo, etcd");
  }
  int64_t max_txs = 2000, interval = 10, mempool = 200000;
  CC_RETURN_IF_ERROR(r.Int("ordering", "max_block_txs", 1, 50000, &max_txs));
  CC_RETURN_IF_ERROR(r.Int("ordering", "block_interval_ms", 1, 60000, &interval));
  CC_RETURN_IF_ERROR(r.Int("ordering", "mempool_capacity", 1, 100'000'000, &mempool));
  c.solo = {static_cast<size_t>(max_txs), static_cast<uint64_t>(interval), static_cast<size_t>(mempool)};
  EtcdOrdererOptions& e = c.cluster;
  e.max_block_txs = c.solo.max_block_txs;
  e.block_interval_ms = c.solo.block_interval_ms;
  e.mempool_capacity = c.solo.mempool_capacity;
  int64_t ttl = 2, every = 100, retain = 100000, block_bytes = 1 << 20;
  CC_RETURN_IF_ERROR(r.Int("ordering", "lease_ttl_s", 1, 60, &ttl));
  CC_RETURN_IF_ERROR(r.Int("ordering", "checkpoint_interval", 1, 1'000'000, &every));
  CC_RETURN_IF_ERROR(r.Int("ordering", "retain_blocks", 0, int64_t{1} << 40, &retain));
  CC_RETURN_IF_ERROR(r.Int("ordering", "max_block_bytes", 64 << 10, 64 << 20, &block_bytes));
  e.lease_ttl_s = ttl;
  e.checkpoint_interval = static_cast<uint64_t>(every);
  e.retain_blocks = static_cast<uint64_t>(retain);
  e.max_block_bytes = static_cast<size_t>(block_bytes);
  CC_RETURN_IF_ERROR(r.Str("ordering", "advertise_url", &e.advertise_url));
  CC_RETURN_IF_ERROR(r.Bool("ordering", "allow_plaintext", &c.ordering_allow_plaintext));
  CC_RETURN_IF_ERROR(r.Str("ordering", "peer_ca", &c.peer_ca));
  if (!c.peer_ca.empty()) c.peer_ca = Resolve(base_dir, c.peer_ca);
  if (!e.advertise_url.empty() && !e.advertise_url.starts_with("http://") &&
      !e.advertise_url.starts_with("https://")) {
    return Status::Invalid("config: ordering.advertise_url must be an http(s) URL");
  }
  CC_RETURN_IF_ERROR(r.Str("log", "level", &c.log_level));
  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), c.log_level) == kLevels.end()) {
    return Status::Invalid("config: log.level must be one of trace, debug, info, warn, error, critical, off");
  }
  if (auto eps = t["etcd"]["endpoints"]; eps) {
    if (!eps.is_array()) return Status::Invalid("config: etcd.endpoints must be a list of URLs");
    for (const auto& e : *eps.as_array()) {
      auto url = e.value<std::string>();
      if (!url || !(url->starts_with("http://") || url->starts_with("https://")))
        return Status::Invalid("config: etcd.endpoints holds something that is not an http(s) URL");
      c.etcd.endpoints.push_back(*url);
    }
  }
  CC_RETURN_IF_ERROR(r.Str("etcd", "tls_ca", &c.etcd.tls_ca));
  CC_RETURN_IF_ERROR(r.Str("etcd", "tls_cert", &c.etcd.tls_cert));
  CC_RETURN_IF_ERROR(r.Str("etcd", "tls_key", &c.etcd.tls_key));
  if (c.etcd.tls_cert.empty() != c.etcd.tls_key.empty())
    return Status::Invalid("config: etcd.tls_cert and etcd.tls_key go together");
  for (const auto& e : c.etcd.endpoints) {
    if (e.starts_with("https://") && c.etcd.tls_ca.empty())
      return Status::Invalid("config: https etcd endpoints need etcd.tls_ca");
  }
  c.etcd.tls_ca = Resolve(base_dir, c.etcd.tls_ca);
  c.etcd.tls_cert = Resolve(base_dir, c.etcd.tls_cert);
  c.etcd.tls_key = Resolve(base_dir, c.etcd.tls_key);
  if (c.ordering == "etcd") {
    if (c.etcd.endpoints.empty()) return Status::Invalid("config: ordering.backend = \"etcd\" needs etcd.endpoints");
    if (e.advertise_url.empty() && (c.api.host == "0.0.0.0" || c.api.host == "::" || c.api.host.empty())) {
      return Status::Invalid("config: ordering.backend = \"etcd\" with api.host " + c.api.host +
                             " needs ordering.advertise_url (this node's API URL as the other nodes reach it)");
    }
  }
  e.etcd = {c.etcd.endpoints, c.etcd.tls_ca, c.etcd.tls_cert, c.etcd.tls_key};
  CC_RETURN_IF_ERROR(CheckPlaintext(c));
  OffchainConfig& o = c.offchain;
  CC_RETURN_IF_ERROR(r.Str("offchain", "engine", &o.engine));
  if (o.engine != "sqlite" && o.engine != "postgres" && o.engine != "none")
    return Status::Invalid("config: offchain.engine must be sqlite, postgres or none");
  CC_RETURN_IF_ERROR(r.Str("offchain", "sqlite_path", &o.sqlite_path));
  CC_RETURN_IF_ERROR(r.Str("offchain", "postgres", &o.postgres));
  CC_RETURN_IF_ERROR(r.Str("offchain", "master_key", &o.master_key));
  int64_t pool = 4, flush = 200;
  CC_RETURN_IF_ERROR(r.Int("offchain", "postgres_pool", 1, 256, &pool));
  CC_RETURN_IF_ERROR(r.Int("offchain", "flush_interval_ms", 10, 60000, &flush));
  o.postgres_pool = static_cast<int>(pool);
  o.flush_interval_ms = static_cast<uint64_t>(flush);
  if (o.engine == "postgres" && o.postgres.empty())
    return Status::Invalid("config: offchain.engine = \"postgres\" needs offchain.postgres (a libpq connection string)");
  o.sqlite_path = o.sqlite_path.empty() ? c.data_dir + "/offchain/records.db" : Resolve(base_dir, o.sqlite_path);
  o.master_key = o.master_key.empty() ? c.data_dir + "/offchain/master.key" : Resolve(base_dir, o.master_key);
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

// The node's TOML configuration (docs/operations.md lists every key).
#pragma once

#include <string>
#include <vector>

#include "api/options.h"
#include "ordering/etcd_orderer.h"
#include "ordering/solo.h"
#include "util/status.h"

namespace cc::node {

// The etcd client of the consortium ordering backend (DESIGN.md §5).
struct EtcdConfig {
  std::vector<std::string> endpoints;  // "https://host:2379", ...
  std::string tls_ca;                  // CA that signed the etcd members' certificates
  std::string tls_cert;                // this node's client certificate
  std::string tls_key;                 // and its key
};

// The custodian's off-chain record store (docs/operations.md).
struct OffchainConfig {
  std::string engine = "sqlite";  // "sqlite", "postgres" or "none"
  std::string sqlite_path;        // default <data_dir>/offchain/records.db
  std::string postgres;           // libpq connection string (engine = "postgres")
  int postgres_pool = 4;
  std::string master_key;         // default <data_dir>/offchain/master.key
  uint64_t flush_interval_ms = 200;
};

struct Config {
  std::string data_dir;   // RocksDB store lives in <data_dir>/chain
  std::string key_file;   // the node's Ed25519 key (proposer signatures)
  std::string genesis;    // genesis document
  api::ApiOptions api;
  // Plain HTTP for the API on a non-loopback address ([api] allow_plaintext),
  // and http:// etcd endpoints and peer URLs ([ordering] allow_plaintext):
  // refused unless set, for tests only.
  bool api_allow_plaintext = false;
  bool ordering_allow_plaintext = false;
  std::string ordering = "solo";
  SoloOptions solo;
  EtcdOrdererOptions cluster;  // backend "etcd"; .etcd mirrors `etcd` below
  std::string peer_ca;         // CA of the other nodes' API certificates (https)
  std::string log_level = "info";
  EtcdConfig etcd;
  OffchainConfig offchain;

  // Parses a config file; relative paths are taken from the file's folder.
  static Result<Config> Load(const std::string& path);
  static Result<Config> Parse(const std::string& text, const std::string& base_dir);
};

}  // namespace cc::node

#include "node/config.h"

#include <gtest/gtest.h>

#include "crypto/keyfile.h"
#include "node/demo.h"
#include "testing/test_util.h"
#include "util/env.h"

namespace cc::node {
namespace {

using testing::TempDir;

constexpr const char* kMinimal = R"(
[node]
data_dir = "data"
key_file = "keys/node.key"
genesis = "genesis.json"
)";

Status ParseError(const std::string& text) {
  auto c = Config::Parse(text, "/etc/carechain");
  return c.ok() ? Status::Ok() : c.status();
}

void ExpectRefused(const std::string& extra, const std::string& message_part) {
  Status s = ParseError(std::string(kMinimal) + extra);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << extra;
  EXPECT_NE(s.message().find(message_part), std::string::npos) << extra << " -> " << s.message();
}

TEST(Config, DefaultsAndRelativePaths) {
  auto c = Config::Parse(kMinimal, "/etc/carechain");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/etc/carechain/data");
  EXPECT_EQ(c->key_file, "/etc/carechain/keys/node.key");
  EXPECT_EQ(c->genesis, "/etc/carechain/genesis.json");
  EXPECT_EQ(c->api.host, "127.0.0.1");
  EXPECT_EQ(c->api.port, 8080);
  EXPECT_EQ(c->api.threads, 8);
  EXPECT_EQ(c->api.max_body_bytes, size_t{8} << 20);
  EXPECT_EQ(c->api.max_wait_ms, 30000u);
  EXPECT_EQ(c->api.header_timeout_ms, 10000u);
  EXPECT_EQ(c->api.body_timeout_ms, 30000u);
  EXPECT_EQ(c->api.max_headers, 100u);
  EXPECT_EQ(c->api.max_connections_per_address, 1000);
  EXPECT_EQ(c->ordering, "solo");
  EXPECT_EQ(c->solo.max_block_txs, 2000u);
  EXPECT_EQ(c->solo.block_interval_ms, 10u);
  EXPECT_EQ(c->solo.mempool_capacity, 200000u);
  EXPECT_EQ(c->log_level, "info");
}

TEST(Config, AbsoluteAndDotDotPaths) {
  auto c = Config::Parse(R"(
[node]
data_dir = "/var/lib/carechain"
key_file = "../secrets/node.key"
genesis = "./net/./genesis.json"
)", "/etc/carechain");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/var/lib/carechain");
  EXPECT_EQ(c->key_file, "/etc/secrets/node.key");
  EXPECT_EQ(c->genesis, "/etc/carechain/net/genesis.json");
}

TEST(Config, EveryKeySet) {
  auto c = Config::Parse(std::string(kMinimal) + R"(
[api]
host = "0.0.0.0"
port = 0
threads = 4
max_body_bytes = 1024
max_wait_ms = 0

[ordering]
backend = "solo"
max_block_txs = 50000
block_interval_ms = 60000
mempool_capacity = 5

[log]
level = "debug"
)", "/x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.host, "0.0.0.0");
  EXPECT_EQ(c->api.port, 0);
  EXPECT_EQ(c->api.threads, 4);
  EXPECT_EQ(c->api.max_body_bytes, 1024u);
  EXPECT_EQ(c->api.max_wait_ms, 0u);
  EXPECT_EQ(c->solo.max_block_txs, 50000u);
  EXPECT_EQ(c->solo.block_interval_ms, 60000u);
  EXPECT_EQ(c->solo.mempool_capacity, 5u);
  EXPECT_EQ(c->log_level, "debug");
}

TEST(Config, NodePathsAreRequired) {
  for (const char* text : {"", "[node]\ndata_dir = \"d\"\nkey_file = \"k\"\n",
                           "[node]\ndata_dir = \"d\"\ngenesis = \"g\"\n",
                           "[node]\nkey_file = \"k\"\ngenesis = \"g\"\n",
                           "[node]\ndata_dir = \"\"\nkey_file = \"k\"\ngenesis = \"g\"\n"}) {
    Status s = ParseError(text);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(s.message().find("data_dir, key_file and genesis"), std::string::npos) << s.message();
  }
}

TEST(Config, OutOfRangeValuesAreRefusedWithMessages) {
  ExpectRefused("[api]\nport = 65536\n", "api.port must be an integer in [0, 65535]");
  ExpectRefused("[api]\nport = -1\n", "api.port");
  ExpectRefused("[api]\nthreads = 0\n", "api.threads");
  ExpectRefused("[api]\nthreads = 1025\n", "api.threads");
  ExpectRefused("[api]\nmax_body_bytes = 1023\n", "api.max_body_bytes");
  ExpectRefused("[api]\nmax_wait_ms = 600001\n", "api.max_wait_ms");
  ExpectRefused("[ordering]\nmax_block_txs = 0\n", "ordering.max_block_txs");
  ExpectRefused("[ordering]\nmax_block_txs = 50001\n", "ordering.max_block_txs");
  ExpectRefused("[ordering]\nblock_interval_ms = 0\n", "ordering.block_interval_ms");
  ExpectRefused("[ordering]\nblock_interval_ms = 60001\n", "ordering.block_interval_ms");
  ExpectRefused("[ordering]\nmempool_capacity = 0\n", "ordering.mempool_capacity");
  ExpectRefused("[ordering]\nbackend = \"raft\"\n", "ordering.backend 'raft'");
  ExpectRefused("[ordering]\nbackend = \"etcd\"\n", "needs etcd.endpoints");
  ExpectRefused("[api]\nhost = \"0.0.0.0\"\n[ordering]\nbackend = \"etcd\"\n[etcd]\nendpoints = [\"http://127.0.0.1:2379\"]\n",
                "needs ordering.advertise_url");
  ExpectRefused("[ordering]\nadvertise_url = \"127.0.0.1:8080\"\n", "ordering.advertise_url");
  ExpectRefused("[ordering]\nlease_ttl_s = 0\n", "ordering.lease_ttl_s");
  ExpectRefused("[ordering]\ncheckpoint_interval = 0\n", "ordering.checkpoint_interval");
  ExpectRefused("[log]\nlevel = \"loud\"\n", "log.level");
}

TEST(Config, WrongTypesAreRefusedNotDefaulted) {
  ExpectRefused("[api]\nport = \"8080\"\n", "api.port");
  ExpectRefused("[api]\nport = 80.5\n", "api.port");
  ExpectRefused("[api]\nhost = 127\n", "api.host must be a string");
  ExpectRefused("[ordering]\nmax_block_txs = true\n", "ordering.max_block_txs");
  Status s = ParseError("[node]\ndata_dir = 5\nkey_file = \"k\"\ngenesis = \"g\"\n");
  EXPECT_NE(s.message().find("node.data_dir must be a string"), std::string::npos) << s.message();
}

TEST(Config, UnknownSectionsAndKeysAreRefused) {
  ExpectRefused("[apii]\nport = 1\n", "unknown section [apii]");
  ExpectRefused("[api]\nprot = 1\n", "unknown key api.prot");
  Status s = ParseError(std::string("stray = 1\n") + kMinimal);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("stray"), std::string::npos) << s.message();
}

TEST(Config, SyntaxErrorsNameTheLine) {
  Status s = ParseError("[node]\ndata_dir = \"d\"\nkey_file = = \"k\"\n");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
}

TEST(Config, LoadResolvesAgainstTheFilesFolderAndNamesTheFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.file("node.toml"), kMinimal, 0644, false).ok());
  auto c = Config::Load(dir.file("node.toml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, dir.file("data"));
  EXPECT_EQ(c->key_file, (dir.path() / "keys" / "node.key").string());
  ASSERT_TRUE(WriteFileAtomic(dir.file("bad.toml"), "[api]\nport = 1\n", 0644, false).ok());
  auto bad = Config::Load(dir.file("bad.toml"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.toml"), std::string::npos);
  EXPECT_EQ(Config::Load(dir.file("missing.toml")).status().code(), Code::kNotFound);
}

TEST(Demo, CreatesALoadableConfigGenesisAndKeys) {
  TempDir dir;
  DemoOptions o;
  o.dir = dir.str();
  o.port = 0;
  ASSERT_TRUE(CreateDemo(o).ok());
  auto c = Config::Load(dir.file("node.toml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->genesis, dir.file("genesis.json"));
  EXPECT_EQ(c->data_dir, dir.file("node-data"));
  EXPECT_EQ(c->api.port, 0);
  auto node_key = ReadKeyFile(c->key_file);
  ASSERT_TRUE(node_key.ok()) << node_key.status().ToString();
  auto g = Genesis::Load(c->genesis);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->chain_id, "carechain-demo");
  // The genesis makes a valid state with the node key as a proposer.
  testing::Network net(g->doc);
  MemState empty;
  auto e = net.executor->ExecuteGenesis(empty);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  MemState s;
  s.Apply(e->writes);
  EXPECT_TRUE(net.modules.authority()->IsProposer(s, node_key->public_key()));
  auto doctor = ReadKeyFile(dir.file("keys/dr-weber.key"));
  ASSERT_TRUE(doctor.ok());
  EXPECT_TRUE(net.modules.authority()->IsActive(s, doctor->public_key()));
  // A second run refuses to overwrite.
  EXPECT_EQ(CreateDemo(o).code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace cc::node

namespace cc::node {
namespace {

TEST(Config, TlsCertificateAndKeyGoTogetherAndResolveRelativePaths) {
  const std::string base = "[node]\ndata_dir = \"d\"\nkey_file = \"k\"\ngenesis = \"g\"\n[api]\n";
  auto both = Config::Parse(base + "tls_cert = \"tls/cert.pem\"\ntls_key = \"/abs/key.pem\"\n", "/etc/cc");
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->api.tls_cert_file, "/etc/cc/tls/cert.pem");
  EXPECT_EQ(both->api.tls_key_file, "/abs/key.pem");
  auto plain = Config::Parse(base, "/etc/cc");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->api.tls_cert_file.empty());
  auto half = Config::Parse(base + "tls_cert = \"c.pem\"\n", "/etc/cc");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("go together"), std::string::npos);
  auto limits = Config::Parse(base + "requests_per_s_per_actor = 0\nsignature_window_s = 4\n", "/etc/cc");
  ASSERT_FALSE(limits.ok());
  EXPECT_NE(limits.status().message().find("signature_window_s"), std::string::npos);
}

}  // namespace
}  // namespace cc::node

namespace cc::node {
namespace {

TEST(Config, EtcdClientTlsOptionsAreParsedAndChecked) {
  const std::string base = "[node]\ndata_dir = \"d\"\nkey_file = \"k\"\ngenesis = \"g\"\n[etcd]\n";
  auto ok = Config::Parse(base + "endpoints = [\"https://10.0.0.1:2379\", \"https://10.0.0.2:2379\"]\n"
                                 "tls_ca = \"tls/etcd-ca.pem\"\ntls_cert = \"tls/c.pem\"\ntls_key = \"tls/k.pem\"\n",
                          "/etc/cc");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->etcd.endpoints.size(), 2u);
  EXPECT_EQ(ok->etcd.tls_ca, "/etc/cc/tls/etcd-ca.pem");
  EXPECT_EQ(ok->etcd.tls_key, "/etc/cc/tls/k.pem");
  auto no_ca = Config::Parse(base + "endpoints = [\"https://10.0.0.1:2379\"]\n", "/etc/cc");
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.status().message().find("tls_ca"), std::string::npos);
  auto bad = Config::Parse(base + "endpoints = [\"10.0.0.1:2379\"]\n", "/etc/cc");
  EXPECT_FALSE(bad.ok());
  auto half = Config::Parse(base + "tls_cert = \"c.pem\"\n", "/etc/cc");
  EXPECT_FALSE(half.ok());
}

}  // namespace
}  // namespace cc::node

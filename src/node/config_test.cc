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
authorities = ["Node1.example:8443", "node1.example"]
allow_plaintext = true
max_registered_nonces = 10000
max_unregistered_nonces = 500

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
  EXPECT_EQ(c->api.authorities, (std::vector<std::string>{"node1.example:8443", "node1.example"}));
  EXPECT_TRUE(c->api_allow_plaintext);
  EXPECT_FALSE(c->ordering_allow_plaintext);
  EXPECT_EQ(c->api.max_registered_nonces, 10000u);
  EXPECT_EQ(c->api.max_unregistered_nonces, 500u);
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

namespace cc::node {
namespace {

// Issue 17: request signatures are bound to the node's authorities, and
// plain HTTP is for loopback (or a test that says so).
TEST(Config, AuthoritiesDefaultToTheListenAddressAndAreChecked) {
  auto c = Config::Parse(kMinimal, "/x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->api.authorities.empty());  // the server derives them from host and bound port
  EXPECT_FALSE(c->api_allow_plaintext);
  EXPECT_FALSE(c->ordering_allow_plaintext);
  ExpectRefused("[api]\nauthorities = \"node1.example:8443\"\n", "api.authorities must be a list");
  ExpectRefused("[api]\nauthorities = []\n", "api.authorities is empty");
  for (const char* bad : {"https://node1.example:8443", "node1.example/v1", "a b", "", "user@node1"}) {
    ExpectRefused(std::string("[api]\nauthorities = [\"") + bad + "\"]\n", "not a host[:port]");
  }
  ExpectRefused("[api]\nauthorities = [8443]\n", "not a host[:port]");
  // A wildcard listen address names no authority of its own.
  ExpectRefused("[api]\nhost = \"0.0.0.0\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
                "name the host:port clients reach this node by in api.authorities");
  ExpectRefused("[api]\nhost = \"::\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n", "api.authorities");
  auto tls = Config::Parse(std::string(kMinimal) + "[api]\nhost = \"0.0.0.0\"\ntls_cert = \"c.pem\"\n"
                                                   "tls_key = \"k.pem\"\nauthorities = [\"node1.example:8443\"]\n",
                           "/x");
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  ExpectRefused("[api]\nallow_plaintext = \"yes\"\n", "api.allow_plaintext must be true or false");
  ExpectRefused("[api]\nmax_unregistered_nonces = 99\n", "api.max_unregistered_nonces");
  ExpectRefused("[api]\nmax_registered_nonces = 999\n", "api.max_registered_nonces");
  EXPECT_EQ(c->api.max_registered_nonces, 2'000'000u);
  EXPECT_EQ(c->api.max_unregistered_nonces, 250'000u);
}

TEST(Config, PlainHttpApiIsOnlyForLoopbackUnlessAllowed) {
  for (const char* host : {"127.0.0.1", "127.0.0.2", "localhost", "::1"}) {
    auto c = Config::Parse(std::string(kMinimal) + "[api]\nhost = \"" + host + "\"\n", "/x");
    EXPECT_TRUE(c.ok()) << host << ": " << c.status().ToString();
  }
  for (const char* host : {"10.0.0.5", "node1.example", "127.evil.example"}) {
    ExpectRefused(std::string("[api]\nhost = \"") + host + "\"\n",
                  "without api.tls_cert and api.tls_key the API would be plain HTTP");
    auto allowed = Config::Parse(std::string(kMinimal) + "[api]\nhost = \"" + host + "\"\nallow_plaintext = true\n",
                                 "/x");
    EXPECT_TRUE(allowed.ok()) << host << ": " << allowed.status().ToString();
    auto tls = Config::Parse(std::string(kMinimal) + "[api]\nhost = \"" + host +
                                 "\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
                             "/x");
    EXPECT_TRUE(tls.ok()) << host << ": " << tls.status().ToString();
  }
  ExpectRefused("[api]\nhost = \"0.0.0.0\"\nauthorities = [\"node1.example:8080\"]\n", "plain HTTP");
}

TEST(Config, PlainHttpEtcdAndPeersAreRefusedUnlessAllowed) {
  const std::string tls_api = "[api]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n";
  const std::string etcd_https = "[etcd]\nendpoints = [\"https://10.0.0.1:2379\"]\ntls_ca = \"ca.pem\"\n";
  // etcd over http://, even on loopback: anyone on the machine could write the block sequence.
  ExpectRefused(tls_api + "[ordering]\nbackend = \"etcd\"\n[etcd]\nendpoints = [\"https://10.0.0.1:2379\", "
                          "\"http://127.0.0.1:2379\"]\ntls_ca = \"ca.pem\"\n",
                "etcd endpoint http://127.0.0.1:2379 is plain HTTP; use https (or set ordering.allow_plaintext");
  // A peer URL over http://, named or derived from a plain-HTTP API.
  ExpectRefused(tls_api + "[ordering]\nbackend = \"etcd\"\nadvertise_url = \"http://10.0.0.9:8080\"\n" + etcd_https,
                "ordering.advertise_url http://10.0.0.9:8080 makes the other nodes forward to this one over plain HTTP");
  ExpectRefused("[ordering]\nbackend = \"etcd\"\n" + etcd_https, "with a plain-HTTP API");
  // All https: fine.
  auto ok = Config::Parse(std::string(kMinimal) + tls_api + "[ordering]\nbackend = \"etcd\"\n" + etcd_https, "/x");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(ok->ordering_allow_plaintext);
  // Allowed explicitly, for a test.
  auto test = Config::Parse(std::string(kMinimal) +
                                "[ordering]\nbackend = \"etcd\"\nallow_plaintext = true\n"
                                "advertise_url = \"http://127.0.0.1:8080\"\n[etcd]\nendpoints = [\"http://127.0.0.1:2379\"]\n",
                            "/x");
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_TRUE(test->ordering_allow_plaintext);
  ExpectRefused("[ordering]\nallow_plaintext = 1\n", "ordering.allow_plaintext must be true or false");
}

TEST(Demo, AClusterOnThisMachineAllowsPlainHttpExplicitly) {
  TempDir dir;
  DemoOptions o;
  o.dir = dir.str();
  o.port = 0;
  o.nodes = 3;
  o.etcd_endpoints = {"http://127.0.0.1:2379", "http://127.0.0.1:2381"};
  ASSERT_TRUE(CreateDemo(o).ok());
  auto text = ReadFile(dir.file("node-1.toml"));
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("allow_plaintext = true"), std::string::npos) << *text;
  auto c = Config::Load(dir.file("node-2.toml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->ordering_allow_plaintext);
  // etcd elsewhere over http://: not allowed by the demo, refused by the node.
  TempDir other;
  o.dir = other.str();
  o.etcd_endpoints = {"http://10.0.0.1:2379"};
  ASSERT_TRUE(CreateDemo(o).ok());
  auto refused = Config::Load(other.file("node-1.toml"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("plain HTTP"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace cc::node

#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/client.h"
#include "cli/common.h"
#include "codec/canonical_json.h"
#include "crypto/keyfile.h"
#include "ledger/proof.h"
#include "ledger/verifier.h"
#include "node/demo.h"
#include "node/node.h"
#include "util/env.h"

namespace cc::cli {

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return 1;
}

int Print(const nlohmann::json& j) {
  std::cout << j.dump(2) << std::endl;
  return 0;
}

Result<std::string> ReadPayload(const std::string& arg) {
  if (arg == "-") {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
  }
  if (!arg.empty() && arg[0] == '@') return ReadFile(arg.substr(1));
  return arg;
}

void AddConnOptions(CLI::App* c, std::string* node, std::string* ca_file, std::string* key, const char* key_help) {
  c->add_option("--node", *node, "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
  c->add_option("--cacert", *ca_file, "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
  c->add_option("--key,-k", *key, key_help);
}

namespace {

std::string CaFile(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("CARECHAIN_CACERT");
  return env ? env : "";
}

}  // namespace

Result<std::string> KeyFileOf(const Conn& conn) {
  std::string path = conn.key_file;
  if (path.empty()) {
    const char* env = std::getenv("CARECHAIN_KEY");
    if (env) path = env;
  }
  if (path.empty()) {
    return Status::Invalid("requests are signed: pass --key FILE (or set CARECHAIN_KEY)");
  }
  return path;
}

Result<std::string> OwnKeyHex(const Conn& conn) {
  CC_ASSIGN_OR_RETURN(std::string path, KeyFileOf(conn));
  crypto::Init();
  CC_ASSIGN_OR_RETURN(SecretKey k, ReadKeyFile(path));
  return k.public_key().hex();
}

int GetAndPrint(const Conn& conn, const std::string& path) {
  auto c = Connect(conn);
  if (!c.ok()) return Fail(c.status());
  auto r = c->Get(path);
  return r.ok() ? Print(*r) : Fail(r.status());
}

Result<Client> Connect(const Conn& conn) {
  CC_ASSIGN_OR_RETURN(std::string path, KeyFileOf(conn));
  crypto::Init();
  CC_ASSIGN_OR_RETURN(SecretKey key, ReadKeyFile(path));
  return Client(conn.node, key, CaFile(conn.ca_file));
}

Client ConnectUnsigned(const Conn& conn) { return Client(conn.node, std::nullopt, CaFile(conn.ca_file)); }

int Keygen(const std::string& out, bool force) {
  crypto::Init();
  SecretKey k = SecretKey::Generate();
  Status s = WriteKeyFile(out, k, force);
  if (!s.ok()) return Fail(s);
  return Print({{"public_key", k.public_key().hex()}, {"file", out}});
}

Result<nlohmann::json> SubmitTx(const SubmitArgs& a) {
  crypto::Init();
  CC_ASSIGN_OR_RETURN(SecretKey key, ReadKeyFile(a.key_file));
  CC_ASSIGN_OR_RETURN(std::string text, ReadPayload(a.payload));
  auto payload = nlohmann::json::parse(text, nullptr, false);
  if (payload.is_discarded()) return Status::Invalid("--payload is not valid JSON");
  CC_ASSIGN_OR_RETURN(std::string canonical, codec::ToCanonicalJson(payload));

  Client client(a.node, key, CaFile(a.ca_file));
  CC_ASSIGN_OR_RETURN(nlohmann::json info, client.Get("/v1/info"));
  TxBody body;
  body.chain_id = info["chain_id"];
  body.actor = key.public_key();
  body.module = a.module;
  body.action = a.action;
  body.payload = std::move(canonical);
  body.nonce = a.nonce;
  if (body.nonce == 0) {
    CC_ASSIGN_OR_RETURN(nlohmann::json n, client.Get("/v1/actors/" + body.actor.hex() + "/nonce"));
    body.nonce = n["next_nonce"];
  }
  TxPtr tx = Transaction::Sign(std::move(body), key);
  std::string path = std::string("/v1/transactions") + (a.wait ? "?wait=commit" : "");
  return a.binary ? client.Post(path, tx->encoded(), "application/octet-stream")
                  : client.Post(path, tx->ToJson().dump(), "application/json");
}

int PrintReply(const Result<nlohmann::json>& r) {
  if (!r.ok()) return Fail(r.status());
  Print(*r);
  if (r->contains("result") && (*r)["result"]["code"] != "ok") return 1;  // committed, but rejected
  return 0;
}

Result<nlohmann::json> SubmitAction(const Conn& c, std::string_view module, std::string_view action,
                                    const nlohmann::json& payload, bool wait) {
  CC_ASSIGN_OR_RETURN(std::string key_file, KeyFileOf(c));
  SubmitArgs a;
  a.node = c.node;
  a.ca_file = c.ca_file;
  a.key_file = key_file;
  a.module = std::string(module);
  a.action = std::string(action);
  a.payload = payload.dump();
  a.wait = wait;
  return SubmitTx(a);
}

int TxSubmit(const SubmitArgs& a) { return PrintReply(SubmitTx(a)); }

int TxGet(const Conn& conn, const std::string& id) {
  if (!TxId::FromHex(id)) return Fail(Status::Invalid("transaction id must be 64 hex digits"));
  return GetAndPrint(conn, "/v1/transactions/" + id);
}

int BlockGet(const Conn& conn, const std::string& height, bool full, const std::string& out) {
  auto c = Connect(conn);
  if (!c.ok()) return Fail(c.status());
  if (!out.empty()) {
    auto raw = c->GetRaw("/v1/blocks/" + height + "?format=binary");
    if (!raw.ok()) return Fail(raw.status());
    Status s = WriteFileAtomic(out, *raw, 0644, true);
    return s.ok() ? 0 : Fail(s);
  }
  auto r = c->Get("/v1/blocks/" + height + (full ? "?txs=full" : ""));
  return r.ok() ? Print(*r) : Fail(r.status());
}

int ProofGet(const Conn& conn, const std::string& id, const std::string& out) {
  if (!TxId::FromHex(id)) return Fail(Status::Invalid("transaction id must be 64 hex digits"));
  auto c = Connect(conn);
  if (!c.ok()) return Fail(c.status());
  auto r = c->Get("/v1/proofs/" + id);
  if (!r.ok()) return Fail(r.status());
  if (out.empty()) return Print(*r);
  Status s = WriteFileAtomic(out, r->dump(2) + "\n", 0644, true);
  return s.ok() ? 0 : Fail(s);
}

Result<VerifiedProof> CheckProof(nlohmann::json proof, const std::string& genesis_path,
                                 const std::vector<std::string>& proposers) {
  std::vector<PublicKey> trusted;
  for (const auto& p : proposers) {
    auto k = PublicKey::FromHex(p);
    if (!k) return Status::Invalid("--proposer must be 64 hex digits");
    trusted.push_back(*k);
  }
  std::string chain_id;
  if (!genesis_path.empty()) {
    CC_ASSIGN_OR_RETURN(Genesis g, Genesis::Load(genesis_path));
    chain_id = g.chain_id;
    for (const PublicKey& k : g.NodeKeys()) trusted.push_back(k);
    if (trusted.empty()) return Status::Invalid("the genesis names no node keys");
  }
  if (proof.is_object() && proof.contains("tx_id") && proof["tx_id"].is_string()) {
    // Accept either hex case for the id; the check below compares bytes.
    if (auto id = TxId::FromHex(proof["tx_id"].get<std::string>())) proof["tx_id"] = id->hex();
  }
  auto v = VerifyProof(proof, trusted);
  if (!v.ok()) return Status::Invalid("proof does not verify: " + v.status().message());
  if (!chain_id.empty() && v->header.chain_id != chain_id)
    return Status::Invalid("proof is for chain '" + v->header.chain_id + "', not '" + chain_id + "'");
  return v;
}

int VerifyProofFile(const std::string& file, const std::string& genesis_path,
                    const std::vector<std::string>& proposers) {
  crypto::Init();
  auto text = ReadFile(file);
  if (!text.ok()) return Fail(text.status());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Fail(Status::Invalid(file + " is not JSON"));
  auto v = CheckProof(std::move(j), genesis_path, proposers);
  if (!v.ok()) return Fail(v.status());
  return Print({{"valid", true},
                {"tx_id", v->tx_id.hex()},
                {"result", TxCodeName(v->result.code)},
                {"height", v->header.height},
                {"block_hash", v->block_hash.hex()},
                {"block_time_ms", v->header.time_ms},
                {"proposer", v->header.proposer.hex()},
                {"proposer_trusted", !proposers.empty() || !genesis_path.empty()}});
}

int VerifyData(const std::string& data_dir, const std::string& genesis, bool quick, int threads) {
  crypto::Init();
  auto oc = node::OpenOffline(data_dir, genesis);
  if (!oc.ok()) return Fail(oc.status());
  VerifyOptions opt;
  opt.signatures = !quick;
  opt.reexecute = !quick;
  opt.threads = threads;
  auto t0 = std::chrono::steady_clock::now();
  VerifyReport rep = VerifyChain(*(*oc)->store, *(*oc)->executor, opt);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"ok", rep.ok},
                      {"blocks", rep.blocks},
                      {"transactions", rep.transactions},
                      {"height", rep.head.height},
                      {"seconds", secs}};
  if (!rep.ok) {
    j["error"] = rep.error;
    if (rep.bad_height) j["bad_height"] = *rep.bad_height;
    Print(j);
    std::fprintf(stderr, "error: verification failed: %s\n", rep.error.c_str());
    return 1;
  }
  return Print(j);
}

int RunNode(const std::string& config_path, bool resync, const std::string& portal_dir) {
  auto config = node::Config::Load(config_path);
  if (!config.ok()) return Fail(config.status());
  if (!portal_dir.empty()) config->api.portal_dir = portal_dir;
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  // Block the stop signals before any thread starts (threads inherit the
  // mask), then wait for one synchronously: none can be lost or land in a
  // worker thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  node::Node n(*config);
  Status s = n.Start(resync);
  if (!s.ok()) return Fail(s);
  std::printf("carechain node listening on %s://%s:%d\n", n.api_scheme().c_str(),
              config->api.host.c_str(), n.api_port());
  if (!config->api.portal_dir.empty())
    std::printf("portal: %s://%s:%d/\n", n.api_scheme().c_str(), config->api.host.c_str(), n.api_port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("stopping on signal {}", sig);
  n.Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

int DemoInit(const std::string& dir, int port, int nodes, const std::string& etcd_endpoints) {
  crypto::Init();
  node::DemoOptions o;
  o.dir = dir;
  o.port = port;
  o.nodes = nodes;
  for (size_t at = 0; at < etcd_endpoints.size();) {
    size_t comma = std::min(etcd_endpoints.find(',', at), etcd_endpoints.size());
    if (comma > at) o.etcd_endpoints.push_back(etcd_endpoints.substr(at, comma - at));
    at = comma + 1;
  }
  Status s = node::CreateDemo(o);
  if (!s.ok()) return Fail(s);
  nlohmann::json configs = nlohmann::json::array();
  for (int i = 1; i <= nodes; ++i)
    configs.push_back(dir + (nodes > 1 ? "/node-" + std::to_string(i) + ".toml" : "/node.toml"));
  return Print({{"dir", dir}, {"config", configs[0]}, {"configs", configs}, {"keys", dir + "/keys"}});
}

int Info(const Conn& conn) {
  return GetAndPrint(conn, "/v1/info");
}

int Query(const Conn& conn, const std::string& module, const std::string& path) {
  return GetAndPrint(conn, "/v1/modules/" + module + "/" + path);
}

}  // namespace cc::cli

#include "node/demo.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/http_signature.h"
#include "crypto/keyfile.h"
#include "util/env.h"

namespace cc::node {

namespace {

// "http://127.0.0.1:2379" -> "127.0.0.1", "http://[::1]:2379" -> "[::1]".
std::string HostOf(const std::string& url) {
  std::string a = api::AuthorityOf(url);
  size_t colon = a.rfind(':');
  return colon == std::string::npos || a.find(']', colon) != std::string::npos ? a : a.substr(0, colon);
}

std::string NodeToml(const DemoOptions& o, int i) {
  const bool cluster = o.nodes > 1;
  const std::string suffix = cluster ? "-" + std::to_string(i) : "";
  const int port = o.port == 0 ? 0 : o.port + i - 1;  // 0: each picks a free port
  std::string toml =
      "# carechain node configuration (docs/operations.md)\n"
      "[node]\n"
      "data_dir = \"node" + suffix + "-data\"\n"
      "key_file = \"keys/node" + suffix + ".key\"\n"
      "genesis = \"genesis.json\"\n\n"
      "[api]\n"
      "host = \"" + o.host + "\"\n"
      "port = " + std::to_string(port) + "\n\n"
      "[ordering]\n"
      "backend = \"" + (cluster ? "etcd" : "solo") + "\"\n"
      "max_block_txs = 2000\n"
      "block_interval_ms = 10\n";
  if (cluster) {
    // Without advertise_url a node announces the address its API is bound to.
    if (port != 0) toml += "advertise_url = \"http://" + o.host + ":" + std::to_string(port) + "\"\n";
    // etcd and the peers over plain HTTP, all on this machine: a demo only.
    // Anything else stays refused (the node says why).
    bool loopback = api::IsLoopbackHost(o.host);
    for (const auto& e : o.etcd_endpoints)
      loopback = loopback && (!e.starts_with("http://") || api::IsLoopbackHost(HostOf(e)));
    if (loopback) toml += "# plain HTTP on this machine only: never in production (docs/operations.md)\nallow_plaintext = true\n";
    toml += "\n[etcd]\nendpoints = [";
    for (size_t e = 0; e < o.etcd_endpoints.size(); ++e) {
      toml += (e ? ", \"" : "\"") + o.etcd_endpoints[e] + "\"";
    }
    toml += "]\n";
  }
  toml +=
      "\n[log]\n"
      "level = \"info\"\n\n"
      "# This organisation's encrypted record store (sqlite in its data folder, or postgres).\n"
      "[offchain]\n"
      "engine = \"sqlite\"\n";
  return toml;
}

}  // namespace

Status CreateDemo(const DemoOptions& o) {
  namespace fs = std::filesystem;
  if (o.nodes < 1 || o.nodes > 4) return Status::Invalid("a demo consortium has 1 to 4 nodes");
  if (o.nodes > 1 && o.etcd_endpoints.empty())
    return Status::Invalid("a demo cluster needs the etcd endpoints (scripts/cluster prints them)");
  const std::string first = o.dir + (o.nodes > 1 ? "/node-1.toml" : "/node.toml");
  if (fs::exists(first)) return Status::Exists(first + " already exists");
  std::error_code ec;
  fs::create_directories(o.dir + "/keys", ec);
  if (ec) return Status::IOError("cannot create " + o.dir + "/keys: " + ec.message());
  fs::permissions(o.dir + "/keys", fs::perms::owner_all, ec);

  auto key = [&](const std::string& name) -> Result<SecretKey> {
    SecretKey k = SecretKey::Generate();
    CC_RETURN_IF_ERROR(WriteKeyFile(o.dir + "/keys/" + name + ".key", k, /*overwrite=*/true));
    return k;
  };
  // Node i runs at organisation i (hospital, pharmacy, practice, institute).
  std::vector<nlohmann::json> nodes(4, nlohmann::json::array());
  for (int i = 1; i <= o.nodes; ++i) {
    CC_ASSIGN_OR_RETURN(SecretKey node, key(o.nodes > 1 ? "node-" + std::to_string(i) : "node"));
    nodes[static_cast<size_t>(i - 1)].push_back(node.public_key().hex());
  }
  CC_ASSIGN_OR_RETURN(SecretKey hospital_admin, key("hospital-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey pharmacy_admin, key("pharmacy-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey doctor, key("dr-weber"));
  CC_ASSIGN_OR_RETURN(SecretKey pharmacist, key("pharmacist-braun"));
  CC_ASSIGN_OR_RETURN(SecretKey patient, key("patient-anna"));
  CC_ASSIGN_OR_RETURN(SecretKey practice_admin, key("practice-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey gp, key("dr-koch"));            // GP at the practice
  CC_ASSIGN_OR_RETURN(SecretKey emergency, key("dr-yilmaz"));   // emergency physician
  CC_ASSIGN_OR_RETURN(SecretKey institute_admin, key("institute-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey researcher, key("researcher-lang"));
  CC_ASSIGN_OR_RETURN(SecretKey auditor, key("auditor-vogel"));
  // The supply chain: a manufacturer, a wholesaler, a carrier and its data logger.
  CC_ASSIGN_OR_RETURN(SecretKey manufacturer_admin, key("manufacturer-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey manufacturer, key("qp-hartmann"));  // the qualified person
  CC_ASSIGN_OR_RETURN(SecretKey wholesaler_admin, key("wholesaler-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey wholesaler, key("wholesaler-schulz"));
  CC_ASSIGN_OR_RETURN(SecretKey carrier_admin, key("carrier-admin"));
  CC_ASSIGN_OR_RETURN(SecretKey carrier, key("driver-petersen"));
  CC_ASSIGN_OR_RETURN(SecretKey logger, key("logger-1"));

  nlohmann::json genesis = {
      {"chain_id", o.chain_id},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 5000}}},
      {"orgs",
       {{{"id", "st-marien-hospital"},
         {"name", "St. Marien Hospital"},
         {"admins", {hospital_admin.public_key().hex()}},
         {"nodes", nodes[0]}},
        {{"id", "apotheke-am-markt"},
         {"name", "Apotheke am Markt"},
         {"admins", {pharmacy_admin.public_key().hex()}},
         {"nodes", nodes[1]}},
        {{"id", "praxis-dr-koch"},
         {"name", "Hausarztpraxis Dr. Koch"},
         {"admins", {practice_admin.public_key().hex()}},
         {"nodes", nodes[2]}},
        {{"id", "institut-versorgungsforschung"},
         {"name", "Institut für Versorgungsforschung"},
         {"admins", {institute_admin.public_key().hex()}},
         {"nodes", nodes[3]}},
        {{"id", "pharma-werk"},
         {"name", "Pharma Werk Marburg GmbH"},
         {"admins", {manufacturer_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()},
         {"gs1_prefixes", {"4012345"}}},
        {{"id", "grosshandel-nord"},
         {"name", "Großhandel Nord"},
         {"admins", {wholesaler_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()}},
        {{"id", "kuehl-logistik"},
         {"name", "Kühl-Logistik"},
         {"admins", {carrier_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()}}}},
      {"actors",
       {{{"key", doctor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
        {{"key", pharmacist.public_key().hex()}, {"org", "apotheke-am-markt"}, {"role", "pharmacist"}},
        {{"key", patient.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}},
        {{"key", gp.public_key().hex()}, {"org", "praxis-dr-koch"}, {"role", "provider"}},
        {{"key", emergency.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
        {{"key", researcher.public_key().hex()}, {"org", "institut-versorgungsforschung"}, {"role", "researcher"}},
        {{"key", auditor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "auditor"}},
        {{"key", manufacturer.public_key().hex()}, {"org", "pharma-werk"}, {"role", "manufacturer"}},
        {{"key", wholesaler.public_key().hex()}, {"org", "grosshandel-nord"}, {"role", "wholesaler"}},
        {{"key", carrier.public_key().hex()}, {"org", "kuehl-logistik"}, {"role", "carrier"}},
        {{"key", logger.public_key().hex()}, {"org", "kuehl-logistik"}, {"role", "device"}}}},
      // The reviews' reward token, its supply held by the hospital's treasury.
      {"token", {{"symbol", "CARE"}, {"supply", 1'000'000'000u}, {"treasury", "st-marien-hospital"}}},
      // Verified reviews: the hospital's node keeps the texts (the one node of `./run`).
      {"reviews", {{"platform", "st-marien-hospital"}, {"reward", 10u}}}};
  CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/genesis.json", genesis.dump(2) + "\n", 0644, true));

  for (int i = 1; i <= o.nodes; ++i) {
    std::string name = o.nodes > 1 ? "/node-" + std::to_string(i) + ".toml" : "/node.toml";
    CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + name, NodeToml(o, i), 0644, false));
  }
  return Status::Ok();
}

}  // namespace cc::node

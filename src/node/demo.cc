#include "node/demo.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/keyfile.h"
#include "util/env.h"

namespace cc::node {

Status CreateDemo(const DemoOptions& o) {
  namespace fs = std::filesystem;
  if (fs::exists(o.dir + "/node.toml")) return Status::Exists(o.dir + "/node.toml already exists");
  std::error_code ec;
  fs::create_directories(o.dir + "/keys", ec);
  if (ec) return Status::IOError("cannot create " + o.dir + "/keys: " + ec.message());
  fs::permissions(o.dir + "/keys", fs::perms::owner_all, ec);

  auto key = [&](const std::string& name) -> Result<SecretKey> {
    SecretKey k = SecretKey::Generate();
    CC_RETURN_IF_ERROR(WriteKeyFile(o.dir + "/keys/" + name + ".key", k, /*overwrite=*/true));
    return k;
  };
  CC_ASSIGN_OR_RETURN(SecretKey node, key("node"));
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

  nlohmann::json genesis = {
      {"chain_id", o.chain_id},
      {"time_ms", Clock::System()->NowMs()},
      {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 5000}}},
      {"orgs",
       {{{"id", "st-marien-hospital"},
         {"name", "St. Marien Hospital"},
         {"admins", {hospital_admin.public_key().hex()}},
         {"nodes", {node.public_key().hex()}}},
        {{"id", "apotheke-am-markt"},
         {"name", "Apotheke am Markt"},
         {"admins", {pharmacy_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()}},
        {{"id", "praxis-dr-koch"},
         {"name", "Hausarztpraxis Dr. Koch"},
         {"admins", {practice_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()}},
        {{"id", "institut-versorgungsforschung"},
         {"name", "Institut für Versorgungsforschung"},
         {"admins", {institute_admin.public_key().hex()}},
         {"nodes", nlohmann::json::array()}}}},
      {"actors",
       {{{"key", doctor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
        {{"key", pharmacist.public_key().hex()}, {"org", "apotheke-am-markt"}, {"role", "pharmacist"}},
        {{"key", patient.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}},
        {{"key", gp.public_key().hex()}, {"org", "praxis-dr-koch"}, {"role", "provider"}},
        {{"key", emergency.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
        {{"key", researcher.public_key().hex()}, {"org", "institut-versorgungsforschung"}, {"role", "researcher"}},
        {{"key", auditor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "auditor"}}}}};
  CC_RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/genesis.json", genesis.dump(2) + "\n", 0644, true));

  std::string toml =
      "# carechain node configuration (docs/operations.md)\n"
      "[node]\n"
      "data_dir = \"node-data\"\n"
      "key_file = \"keys/node.key\"\n"
      "genesis = \"genesis.json\"\n\n"
      "[api]\n"
      "host = \"" + o.host + "\"\n"
      "port = " + std::to_string(o.port) + "\n\n"
      "[ordering]\n"
      "backend = \"solo\"\n"
      "max_block_txs = 2000\n"
      "block_interval_ms = 10\n\n"
      "[log]\n"
      "level = \"info\"\n\n"
      "# The hospital's encrypted record store (sqlite in node-data/offchain/, or postgres).\n"
      "[offchain]\n"
      "engine = \"sqlite\"\n";
  return WriteFileAtomic(o.dir + "/node.toml", toml, 0644, false);
}

}  // namespace cc::node

// carechain: the command-line tool and the node daemon.
#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cli/coldchain_commands.h"
#include "cli/commands.h"
#include "cli/records_commands.h"
#include "cli/research_commands.h"
#include "cli/supply_commands.h"
#include "cli/reviews_commands.h"
#include "cli/token_commands.h"
#include "cli/wearables_commands.h"

int main(int argc, char** argv) {
  using namespace cc::cli;
  CLI::App app{"carechain: a permissioned ledger for healthcare"};
  app.require_subcommand(1);
  const char* env_node = std::getenv("CARECHAIN_NODE");
  std::string node = env_node ? env_node : "http://127.0.0.1:8080";
  std::string request_key, ca_file;
  auto add_node = [&](CLI::App* c, bool with_key = true) {
    c->add_option("--node", node, "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
    c->add_option("--cacert", ca_file, "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
    if (with_key) c->add_option("--key,-k", request_key, "Key file that signs the requests (default: $CARECHAIN_KEY)");
  };
  int rc = 0;

  auto* keygen = app.add_subcommand("keygen", "Create an Ed25519 key file (mode 0600)");
  std::string key_out;
  bool force = false;
  keygen->add_option("--out,-o", key_out, "Key file to write")->required();
  keygen->add_flag("--force", force, "Overwrite an existing file");
  keygen->callback([&] { rc = Keygen(key_out, force); });

  auto* tx = app.add_subcommand("tx", "Submit and look up transactions");
  tx->require_subcommand(1);
  SubmitArgs sa;
  auto* submit = tx->add_subcommand("submit", "Sign a transaction locally and send it to a node");
  add_node(submit, /*with_key=*/false);
  submit->add_option("--key,-k", sa.key_file, "Signer's key file (signs the transaction and the request)")->required();
  submit->add_option("--module,-m", sa.module, "Module, e.g. identity")->required();
  submit->add_option("--action,-a", sa.action, "Action, e.g. register_actor")->required();
  submit->add_option("--payload,-p", sa.payload, "JSON object, @FILE, or - for stdin")->required();
  submit->add_option("--nonce", sa.nonce, "Nonce (default: ask the node for the next one)");
  submit->add_flag("--wait,-w", sa.wait, "Wait until the transaction is committed");
  submit->add_flag("--binary", sa.binary, "Send the binary encoding instead of JSON");
  submit->callback([&] { sa.node = node; sa.ca_file = ca_file; rc = TxSubmit(sa); });
  std::string id;
  auto* txget = tx->add_subcommand("get", "Show a transaction, its status and its block");
  add_node(txget);
  txget->add_option("id", id, "Transaction id (hex)")->required();
  txget->callback([&] { rc = TxGet({node, request_key, ca_file}, id); });

  auto* block = app.add_subcommand("block", "Look up blocks");
  block->require_subcommand(1);
  auto* bget = block->add_subcommand("get", "Show a block by height (or 'latest')");
  add_node(bget);
  std::string height, out;
  bool full = false;
  bget->add_option("height", height, "Height or 'latest'")->required();
  bget->add_flag("--full", full, "Include the transactions");
  bget->add_option("--out", out, "Write the binary encoding to this file instead");
  bget->callback([&] { rc = BlockGet({node, request_key, ca_file}, height, full, out); });

  auto* proof = app.add_subcommand("proof", "Fetch a transaction's inclusion proof");
  add_node(proof);
  proof->add_option("id", id, "Transaction id (hex)")->required();
  proof->add_option("--out,-o", out, "Write the proof to this file");
  proof->callback([&] { rc = ProofGet({node, request_key, ca_file}, id, out); });

  auto* vproof = app.add_subcommand("verify-proof", "Check an inclusion proof offline");
  std::string proof_file, genesis;
  std::vector<std::string> proposers;
  vproof->add_option("file", proof_file, "Proof JSON file")->required();
  vproof->add_option("--genesis", genesis, "Trust the node keys named in this genesis file");
  vproof->add_option("--proposer", proposers, "Trust this proposer key (repeatable)");
  vproof->callback([&] { rc = VerifyProofFile(proof_file, genesis, proposers); });

  auto* verify = app.add_subcommand("verify", "Re-check every hash, signature and the state of a stopped node");
  std::string data_dir;
  bool quick = false;
  int threads = 2;
  verify->add_option("--data,-d", data_dir, "The node's data folder (data_dir of its config)")->required();
  verify->add_option("--genesis", genesis, "Genesis file (default: the copy in the store)");
  verify->add_flag("--quick", quick, "Skip signatures and re-execution (what the node checks at start)");
  verify->add_option("--threads", threads, "Signature-checking threads")->check(CLI::Range(1, 64));
  verify->callback([&] { rc = VerifyData(data_dir, genesis, quick, threads); });

  auto* nodecmd = app.add_subcommand("node", "Run a node");
  std::string config;
  bool resync = false;
  nodecmd->add_option("--config,-c", config, "Node configuration (TOML)")->required();
  nodecmd->add_flag("--resync", resync, "Rebuild a damaged store from its last good block");
  std::string portal;
  nodecmd->add_option("--portal", portal, "Serve the web portal's built files from this folder at / (web/dist)");
  nodecmd->callback([&] { rc = RunNode(config, resync, portal); });

  auto* demo = app.add_subcommand("demo", "Demo network");
  demo->require_subcommand(1);
  auto* init = demo->add_subcommand("init", "Create a demo consortium: genesis, keys, node config");
  std::string dir;
  int port = 8080;
  init->add_option("--dir", dir, "Folder to create")->required();
  init->add_option("--port", port, "API port of the (first) node")->check(CLI::Range(0, 65535));
  int demo_nodes = 1;
  std::string etcd_endpoints;
  init->add_option("--nodes", demo_nodes, "Nodes in the consortium; more than one orders through etcd")
      ->check(CLI::Range(1, 4));
  init->add_option("--etcd", etcd_endpoints, "etcd client URLs, comma-separated (with --nodes > 1)");
  init->callback([&] { rc = DemoInit(dir, port, demo_nodes, etcd_endpoints); });

  auto* info = app.add_subcommand("info", "Show the node's chain, head and keys");
  add_node(info);
  info->callback([&] { rc = Info({node, request_key, ca_file}); });

  auto* query = app.add_subcommand("query", "Run a module query, e.g. `query identity actors/<key>`");
  add_node(query);
  std::string module, qpath;
  query->add_option("module", module, "Module")->required();
  query->add_option("path", qpath, "Query path")->required();
  query->callback([&] { rc = Query({node, request_key, ca_file}, module, qpath); });

  AddRecordsCommands(&app, &node, &ca_file, &request_key, &rc);
  AddSupplyCommands(&app, &node, &ca_file, &request_key, &rc);
  AddColdchainCommands(&app, &node, &ca_file, &request_key, &rc);
  AddWearablesCommands(&app, &node, &ca_file, &request_key, &rc);
  AddResearchCommands(&app, &node, &ca_file, &request_key, &rc);
  AddTokenCommands(&app, &node, &ca_file, &request_key, &rc);
  AddReviewsCommands(&app, &node, &ca_file, &request_key, &rc);

  CLI11_PARSE(app, argc, argv);
  return rc;
}

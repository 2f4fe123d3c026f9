// Writes the seed corpus of the fuzz targets: a few valid inputs each,
// deterministic (fixed keys; Ed25519 signatures are deterministic), so
// re-running it gives the same files.
//   build-fuzz/fuzz/make_seeds fuzz/corpus
// Crash reproducers found later are added next to these by hand, named
// regression-<what>.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ledger/block.h"
#include "ledger/proof.h"

namespace {

using cc::Block;
using cc::BlockHeader;
using cc::SecretKey;
using cc::Transaction;
using cc::TxBody;
using cc::TxPtr;
using cc::TxResult;
using nlohmann::json;

constexpr const char* kChain = "fuzz-chain";

std::filesystem::path g_root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(g_root / target);
  std::ofstream out(g_root / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    std::exit(1);
  }
}

SecretKey Key(uint8_t n) {
  std::vector<uint8_t> seed(32, n);
  return SecretKey::FromSeed(seed);
}

TxPtr Tx(const SecretKey& k, uint64_t nonce, std::string module, std::string action,
         const json& payload, std::string chain = kChain) {
  TxBody b;
  b.chain_id = std::move(chain);
  b.actor = k.public_key();
  b.nonce = nonce;
  b.module = std::move(module);
  b.action = std::move(action);
  b.payload = payload.dump();
  return Transaction::Sign(std::move(b), k);
}

cc::BlockPtr MakeBlock(const SecretKey& proposer, uint64_t height, std::vector<TxPtr> txs,
                       std::vector<TxResult> results) {
  BlockHeader h;
  h.chain_id = kChain;
  h.height = height;
  h.prev_hash.bytes.fill(static_cast<uint8_t>(height));
  h.time_ms = 1700000000000 + height * 1000;
  h.tx_root = Block::ComputeTxRoot(txs, results);
  h.changes_hash.bytes.fill(0xcc);
  h.state_root.bytes.fill(0x5e);
  h.tx_count = txs.size();
  h.proposer = proposer.public_key();
  cc::Signature sig = proposer.Sign(cc::AsBytes(Block::SigningMessage(h.Hash())));
  return Block::Make(std::move(h), sig, std::move(txs), std::move(results));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  cc::crypto::Init();
  const SecretKey node = Key(1), admin = Key(2), doctor = Key(3), patient = Key(4);

  // Payloads: the identity module's actions and a free-form one that uses
  // every JSON type and escape the canonical form allows.
  const json reg = {
      {"key", patient.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}};
  const json revoke = {{"key", doctor.public_key().hex()}, {"reason", "left the hospital"}};
  const json rotate = {{"new_key", Key(5).public_key().hex()}};
  const json rich = json::parse(
      R"({"big":18446744073709551615,"list":[1,[2,{}],null,true,false],"neg":-9223372036854775808,)"
      R"("note":"Blutdruck 120/80 \u00fc \"x\" \\ \b\f\n\r\t \u0001 \u007f \u20ac",)"
      R"("z":{"a":{"b":[]}}})");
  const std::vector<std::pair<std::string, json>> payloads = {{"empty", json::object()},
                                                              {"register", reg},
                                                              {"revoke", revoke},
                                                              {"rotate", rotate},
                                                              {"rich", rich}};
  for (const auto& [name, p] : payloads) Write("canonical_json", name + ".json", p.dump());

  // Transactions.
  const std::vector<std::pair<std::string, TxPtr>> txs = {
      {"register", Tx(admin, 1, "identity", "register_actor", reg)},
      {"revoke", Tx(admin, 2, "identity", "revoke_actor", revoke)},
      {"rotate", Tx(doctor, 1, "identity", "rotate_key", rotate)},
      {"rich", Tx(doctor, 2, "records", "add_note", rich)},
      {"max-nonce", Tx(patient, UINT64_MAX, "identity", "register_actor", json::object())},
      {"empty-names", Tx(patient, 0, "", "", json::object(), "")},
  };
  for (const auto& [name, tx] : txs) {
    Write("tx_decode", name + ".bin", tx->encoded());
    Write("tx_json", name + ".json", tx->ToJson().dump());
  }
  {
    TxBody b = txs[0].second->body();
    Write("tx_decode", "bad-signature.bin", Transaction::FromParts(b, cc::Signature{})->encoded());
    b.payload = "{\"b\":1, \"a\":2}";  // decodes; not canonical
    Write("tx_decode", "noncanonical-payload.bin",
          Transaction::FromParts(b, cc::Signature{})->encoded());
    json j = txs[1].second->ToJson();
    j.erase("id");
    Write("tx_json", "no-id.json", j.dump(2));
  }

  // Blocks: empty, one transaction, and five (an odd count, so the Merkle
  // tree promotes nodes) with rejected results.
  auto empty = MakeBlock(node, 0, {}, {});
  auto one = MakeBlock(node, 1, {txs[0].second}, {TxResult::Ok()});
  auto five = MakeBlock(node, 2,
                        {txs[1].second, txs[2].second, txs[3].second, txs[4].second, txs[5].second},
                        {TxResult::Ok(), TxResult::Reject(cc::TxCode::kNotFound, "actor not found"),
                         TxResult::Reject(cc::TxCode::kInvalidPayload, "unknown module"),
                         TxResult::Ok(), TxResult::Reject(cc::TxCode::kRevokedActor, "")});
  Write("block_decode", "empty.bin", empty->encoded());
  Write("block_decode", "one-tx.bin", one->encoded());
  Write("block_decode", "five-txs.bin", five->encoded());

  // Proofs.
  Write("proof_verify", "one-tx-0.json", cc::MakeProof(*one, 0).dump());
  for (size_t i : {0u, 3u, 4u}) {
    Write("proof_verify", "five-txs-" + std::to_string(i) + ".json",
          cc::MakeProof(*five, i).dump());
  }

  // Genesis documents: minimal, parameters only, and a consortium like
  // `carechain demo init` writes.
  Write("genesis_parse", "minimal.json", R"({"chain_id":"fuzz-chain","time_ms":0})");
  Write("genesis_parse", "params.json",
        R"({"chain_id":"c","params":{"max_block_txs":50000,"max_tx_bytes":512},)"
        R"("time_ms":1700000000000})");
  json consortium = {
      {"chain_id", kChain},
      {"time_ms", 1700000000000},
      {"params", {{"max_tx_bytes", 65536}, {"max_block_txs", 5000}}},
      {"orgs",
       {{{"id", "st-marien-hospital"},
         {"name", "St. Marien Hospital"},
         {"admins", {admin.public_key().hex()}},
         {"nodes", {node.public_key().hex()}}},
        {{"id", "apotheke-am-markt"},
         {"admins", {Key(6).public_key().hex()}},
         {"nodes", json::array()}}}},
      {"actors",
       {{{"key", doctor.public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "provider"}},
        {{"key", patient.public_key().hex()},
         {"org", "st-marien-hospital"},
         {"role", "patient"}}}}};
  Write("genesis_parse", "consortium.json", consortium.dump(2) + "\n");

  // Node configurations.
  Write("config_parse", "minimal.toml",
        "[node]\ndata_dir = \"d\"\nkey_file = \"k.key\"\ngenesis = \"/etc/g.json\"\n");
  Write("config_parse", "demo.toml",
        "# carechain node configuration\n[node]\ndata_dir = \"node-data\"\nkey_file = "
        "\"keys/node.key\"\n"
        "genesis = \"genesis.json\"\n\n[api]\nhost = \"127.0.0.1\"\nport = 8080\n\n[ordering]\n"
        "backend = \"solo\"\nmax_block_txs = 2000\nblock_interval_ms = 10\n\n[log]\nlevel = "
        "\"info\"\n");
  Write(
      "config_parse", "full.toml",
      "[node]\ndata_dir = '../data/n1'\nkey_file = \"\"\"/keys/n1.key\"\"\"\ngenesis = \"g.json\"\n"
      "[api]\nhost = \"0.0.0.0\"\nport = 0\nthreads = 1024\nmax_body_bytes = 1_048_576\n"
      "[ordering]\nbackend = \"solo\"\nmax_block_txs = 50000\nblock_interval_ms = 60000\n"
      "mempool_capacity = 0x10\n[log]\nlevel = \"debug\"\n");
  return 0;
}

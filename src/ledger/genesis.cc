#include "ledger/genesis.h"

#include "codec/canonical_json.h"
#include "ledger/transaction.h"
#include "util/env.h"

namespace cc {

Result<Genesis> Genesis::Parse(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Status::Invalid("genesis is not a JSON object");
  Genesis g;
  auto chain = doc.find("chain_id");
  if (chain == doc.end() || !chain->is_string() || chain->get<std::string>().empty() ||
      chain->get<std::string>().size() > kMaxChainIdLen) {
    return Status::Invalid("genesis needs a chain_id of 1 to 64 bytes");
  }
  g.chain_id = chain->get<std::string>();
  auto time = doc.find("time_ms");
  if (time == doc.end() || !time->is_number_unsigned()) {
    return Status::Invalid("genesis needs time_ms (unsigned integer)");
  }
  g.time_ms = time->get<uint64_t>();
  if (auto p = doc.find("params"); p != doc.end()) {
    if (!p->is_object()) return Status::Invalid("genesis params must be an object");
    auto get = [&](const char* k, uint64_t* out, uint64_t lo, uint64_t hi) -> Status {
      auto it = p->find(k);
      if (it == p->end()) return Status::Ok();
      if (!it->is_number_unsigned() || it->get<uint64_t>() < lo || it->get<uint64_t>() > hi)
        return Status::Invalid(std::string("genesis params.") + k + " must be in [" +
                               std::to_string(lo) + ", " + std::to_string(hi) + "]");
      *out = it->get<uint64_t>();
      return Status::Ok();
    };
    CC_RETURN_IF_ERROR(get("max_tx_bytes", &g.params.max_tx_bytes, 512, kMaxEncodedTxBytes));
    CC_RETURN_IF_ERROR(get("max_block_txs", &g.params.max_block_txs, 1, 50000));
  }
  CC_ASSIGN_OR_RETURN(g.canonical, codec::ToCanonicalJson(doc));
  g.hash = Blake2b256(g.canonical);
  g.doc = std::move(doc);
  return g;
}

Result<Genesis> Genesis::Load(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto g = Parse(text);
  if (!g.ok()) return Status(g.status().code(), path + ": " + g.status().message());
  return g;
}

std::vector<std::pair<PublicKey, std::string>> Genesis::NodeOrgs() const {
  std::vector<std::pair<PublicKey, std::string>> out;
  auto orgs = doc.find("orgs");
  if (orgs == doc.end() || !orgs->is_array()) return out;
  for (const auto& org : *orgs) {
    if (!org.is_object() || !org.contains("nodes") || !org["nodes"].is_array()) continue;
    std::string id = org.contains("id") && org["id"].is_string() ? org["id"].get<std::string>() : "";
    for (const auto& n : org["nodes"]) {
      if (!n.is_string()) continue;
      if (auto k = PublicKey::FromHex(n.get<std::string>())) out.emplace_back(*k, id);
    }
  }
  return out;
}

std::vector<PublicKey> Genesis::NodeKeys() const {
  std::vector<PublicKey> out;
  for (auto& [key, org] : NodeOrgs()) out.push_back(key);
  return out;
}

}  // namespace cc

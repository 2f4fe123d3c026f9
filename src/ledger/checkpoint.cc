#include "ledger/checkpoint.h"

#include <algorithm>
#include <set>

#include "codec/varint.h"

namespace cc {

namespace {

std::string Message(const std::string& chain_id, uint64_t height, const BlockHash& block_hash,
                    const Hash256& state_root) {
  codec::Writer w;
  w.Fixed(AsBytes(std::string_view("carechain:checkpoint:v1"))).Bytes(chain_id);
  for (int shift = 56; shift >= 0; shift -= 8) w.U8(static_cast<uint8_t>(height >> shift));
  w.Fixed(block_hash.view()).Fixed(state_root.view());
  return w.Take();
}

}  // namespace

Checkpoint Checkpoint::Sign(const std::string& chain_id, uint64_t height, const BlockHash& block_hash,
                            const Hash256& state_root, const SecretKey& key) {
  Checkpoint c{height, block_hash, state_root, key.public_key(), {}};
  c.signature = key.Sign(AsBytes(Message(chain_id, height, block_hash, state_root)));
  return c;
}

bool Checkpoint::Verify(const std::string& chain_id) const {
  return cc::Verify(node, AsBytes(Message(chain_id, height, block_hash, state_root)), signature);
}

nlohmann::json Checkpoint::ToJson() const {
  return {{"height", height},
          {"block_hash", block_hash.hex()},
          {"state_root", state_root.hex()},
          {"node", node.hex()},
          {"signature", signature.hex()}};
}

Result<Checkpoint> Checkpoint::FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("height") || !j["height"].is_number_unsigned())
    return Status::Invalid("checkpoint: height missing");
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  auto bh = BlockHash::FromHex(str("block_hash"));
  auto sr = Hash256::FromHex(str("state_root"));
  auto node = PublicKey::FromHex(str("node"));
  auto sig = Signature::FromHex(str("signature"));
  if (!bh || !sr || !node || !sig)
    return Status::Invalid("checkpoint: block_hash, state_root, node and signature must be hex");
  return Checkpoint{j["height"].get<uint64_t>(), *bh, *sr, *node, *sig};
}

CheckpointTally TallyCheckpoints(const Genesis& genesis, uint64_t height,
                                 const std::vector<Checkpoint>& signatures) {
  CheckpointTally t;
  t.height = height;
  std::map<PublicKey, std::string> org_of;
  std::set<std::string> orgs;
  for (auto& [key, org] : genesis.NodeOrgs()) {
    org_of[key] = org;
    orgs.insert(org);
  }
  t.quorum = orgs.size() / 2 + 1;
  // For each distinct (block_hash, state_root): the organisations behind it.
  std::vector<std::pair<Checkpoint, std::set<std::string>>> groups;
  for (const auto& c : signatures) {
    auto it = org_of.find(c.node);
    if (c.height != height || it == org_of.end() || !c.Verify(genesis.chain_id)) continue;
    t.signatures.push_back(c);
    auto g = std::find_if(groups.begin(), groups.end(), [&](auto& p) { return p.first.SameAs(c); });
    if (g == groups.end()) {
      groups.push_back({c, {it->second}});
    } else {
      g->second.insert(it->second);
    }
  }
  for (auto& [c, supporters] : groups) {
    if (supporters.size() >= t.quorum) t.certified = c;
  }
  return t;
}

}  // namespace cc

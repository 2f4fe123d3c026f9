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
  // Each organisation backs one (block_hash, state_root) pair: the one its
  // nodes signed. An organisation whose nodes signed different pairs backs
  // none (two pairs can then never both reach a quorum).
  std::map<std::string, std::vector<Checkpoint>> by_org;
  for (const auto& c : signatures) {
    auto it = org_of.find(c.node);
    if (c.height != height || it == org_of.end() || !c.Verify(genesis.chain_id)) continue;
    t.signatures.push_back(c);
    by_org[it->second].push_back(c);
  }
  std::vector<std::pair<Checkpoint, size_t>> backing;  // pair, organisations behind it
  for (const auto& [org, sigs] : by_org) {
    const Checkpoint& first = sigs[0];
    bool split = std::any_of(sigs.begin(), sigs.end(), [&](const Checkpoint& c) { return !c.SameAs(first); });
    if (split) {
      t.split_orgs.push_back(org);
      continue;
    }
    auto g = std::find_if(backing.begin(), backing.end(), [&](auto& p) { return p.first.SameAs(first); });
    if (g == backing.end()) {
      backing.push_back({first, 1});
    } else {
      g->second++;
    }
  }
  for (const auto& [c, n] : backing) {
    if (n >= t.quorum) t.certified = c;
  }
  return t;
}

}  // namespace cc

#include "ordering/etcd_orderer.h"

#include <spdlog/spdlog.h>

#include <unordered_map>
#include <unordered_set>

namespace cc {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The height in a key P"blocks/"%020d or P"checkpoints/"%020d"/...".
std::optional<uint64_t> HeightAt(std::string_view key, size_t pos) {
  if (key.size() < pos + 20) return std::nullopt;
  uint64_t h = 0;
  for (size_t i = pos; i < pos + 20; ++i) {
    if (key[i] < '0' || key[i] > '9') return std::nullopt;
    h = h * 10 + static_cast<uint64_t>(key[i] - '0');
  }
  return h;
}

}  // namespace

EtcdOrderer::EtcdOrderer(Chain* chain, SecretKey node_key, EtcdOrdererOptions options,
                         EtcdPeers peers)
    : chain_(chain),
      node_key_(std::move(node_key)),
      options_(std::move(options)),
      prefix_("/carechain/" + chain->executor().genesis().chain_id + "/"),
      peers_(std::move(peers)),
      mempool_(&chain->store(), options_.mempool_capacity) {
  chain_->OnCommit([this](const BlockPtr& b) { OnCommitted(b); });
}

EtcdOrderer::~EtcdOrderer() { Stop(); }

std::string EtcdOrderer::BlockKey(uint64_t height) const { return prefix_ + "blocks/" + ZeroPadded(height, 20); }
std::string EtcdOrderer::CheckpointPrefix(uint64_t height) const {
  return prefix_ + "checkpoints/" + ZeroPadded(height, 20) + "/";
}

Status EtcdOrderer::Start() {
  CC_ASSIGN_OR_RETURN(client_, etcd::Client::Connect(options_.etcd));
  // The first node to reach etcd names the network; later ones must match.
  const Genesis& g = chain_->executor().genesis();
  CC_ASSIGN_OR_RETURN(bool wrote, client_->CreateIfAbsent(prefix_ + "genesis", g.hash.hex(), nullptr));
  if (!wrote) {
    CC_ASSIGN_OR_RETURN(auto r, client_->Range(prefix_ + "genesis", ""));
    if (r.kvs.empty() || r.kvs[0].value != g.hash.hex()) {
      return Status::Precondition("etcd holds another network's chain under " + prefix_ +
                                  " (genesis hash differs)");
    }
  }
  CC_RETURN_IF_ERROR(client_->Put(prefix_ + "nodes/" + node_key_.public_key().hex(),
                                  nlohmann::json{{"url", options_.advertise_url}}.dump()));
  spdlog::info("etcd ordering: {} endpoint(s), keys under {}", options_.etcd.endpoints.size(), prefix_);
  sync_thread_ = std::thread([this] { SyncLoop(); });
  campaign_thread_ = std::thread([this] { CampaignLoop(); });
  forward_thread_ = std::thread([this] { ForwardLoop(); });
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  return Status::Ok();
}

void EtcdOrderer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  campaign_cancel_.Cancel();
  mempool_.Close();
  for (auto* t : {&campaign_thread_, &sync_thread_, &forward_thread_, &checkpoint_thread_}) {
    if (t->joinable()) t->join();
  }
}

Status EtcdOrderer::Submit(TxPtr tx) {
  if (diverged_) {
    return Status::Unavailable("this node's chain differs from the network's checkpoints; it accepts "
                               "no transactions until an operator re-syncs it");
  }
  CC_RETURN_IF_ERROR(mempool_.Add(tx));
  if (!proposer_) {
    std::lock_guard<std::mutex> lock(mu_);
    forward_queue_.push_back(std::move(tx));
    cv_.notify_all();
  }
  return Status::Ok();
}

void EtcdOrderer::Pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

// ---------------------------------------------------------------------------
// Proposing

void EtcdOrderer::CampaignLoop() {
  const std::string value =
      nlohmann::json{{"node", node_key_.public_key().hex()}, {"url", options_.advertise_url}}.dump();
  while (!stop_) {
    if (diverged_) {
      Pause(milliseconds(1000));
      continue;
    }
    auto lease = client_->GrantLease(options_.lease_ttl_s);
    if (!lease.ok()) {
      spdlog::warn("etcd: cannot get a lease: {}", lease.status().message());
      Pause(milliseconds(500));
      continue;
    }
    auto keeper = client_->KeepAlive(*lease, options_.lease_ttl_s);
    auto leader = client_->Campaign(prefix_ + "proposer", *lease, value, &campaign_cancel_);
    if (leader.ok() && !stop_ && !diverged_) {
      spdlog::info("elected proposer at height {}", chain_->head().height);
      {
        std::lock_guard<std::mutex> lock(mu_);
        leader_url_ = options_.advertise_url;
        leader_node_ = node_key_.public_key().hex();
        forward_queue_.clear();
      }
      proposer_ = true;
      Propose(*leader, *keeper);
      proposer_ = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        leader_url_.clear();
        resend_all_ = true;  // what waits here goes to the next proposer
      }
      cv_.notify_all();
      spdlog::info("no longer the proposer (height {})", chain_->head().height);
      if (!keeper->lost()) client_->Resign(*leader).IgnoreError();
    } else if (!leader.ok() && !stop_) {
      spdlog::warn("etcd campaign: {}", leader.status().message());
      Pause(milliseconds(200));
    }
    keeper.reset();
    client_->RevokeLease(*lease).IgnoreError();  // best effort: it expires anyway
  }
}

void EtcdOrderer::Propose(const etcd::LeaderKey& leader, const etcd::LeaseKeeper& keeper) {
  const size_t max_txs =
      std::min<size_t>(options_.max_block_txs, chain_->executor().genesis().params.max_block_txs);
  bool at_tip = false;
  bool waiting_for_certification = false;
  while (!stop_ && !diverged_ && !keeper.lost()) {
    if (!at_tip) {
      // A new proposer first applies every block already in etcd: built on
      // a stale head, its block would find nonces used and drop good
      // transactions.
      const uint64_t next = chain_->head().height + 1;
      auto r = client_->Range(BlockKey(next), "");
      if (!r.ok()) {
        chain_->WaitForHeight(next, milliseconds(200));
        continue;
      }
      if (!r->kvs.empty()) {
        chain_->WaitForHeight(next, milliseconds(500));
        continue;
      }
      at_tip = true;
    }
    if (Uncertified() > kMaxUncertifiedCheckpoints * options_.checkpoint_interval) {
      // The other organisations do not confirm this node's blocks (they are
      // down, or they refuse them): stop adding to what nobody certified.
      if (!waiting_for_certification) {
        spdlog::warn("{} blocks since the last certified checkpoint: waiting for the other nodes",
                     Uncertified());
      }
      waiting_for_certification = true;
      Pause(milliseconds(200));
      continue;
    }
    waiting_for_certification = false;
    if (mempool_.WaitFor(1, SteadyClock::now() + milliseconds(100)) == 0) continue;
    mempool_.WaitFor(max_txs, SteadyClock::now() + milliseconds(options_.block_interval_ms));
    if (stop_ || keeper.lost()) break;
    uint64_t next;
    {
      std::lock_guard<std::mutex> lock(apply_mu_);
      next = chain_->head().height + 1;
      std::vector<TxPtr> txs = mempool_.Take(max_txs);
      // Keep the block within etcd's request size: each transaction takes
      // its encoding, a length and its result (code and detail).
      const size_t per_tx = 16 + kMaxResultDetail;
      size_t bytes = 1024, fit = 0;  // the header, generously
      while (fit < txs.size() && bytes + txs[fit]->encoded().size() + per_tx <= options_.max_block_bytes) {
        bytes += txs[fit]->encoded().size() + per_tx;
        ++fit;
      }
      if (fit == 0 && !txs.empty()) fit = 1;  // one transaction always fits (max_tx_bytes)
      if (fit < txs.size()) {
        mempool_.Requeue({txs.begin() + static_cast<long>(fit), txs.end()});
        txs.resize(fit);
      }
      if (ProposeBlock(std::move(txs), leader)) continue;
    }
    // Another block took this height, or etcd failed. Still the leader?
    auto r = client_->Range(leader.key, "");
    if (r.ok() && (r->kvs.empty() || r->kvs[0].create_revision != leader.rev)) return;
    chain_->WaitForHeight(next, milliseconds(500));
    at_tip = false;
  }
}

bool EtcdOrderer::ProposeBlock(std::vector<TxPtr> txs, const etcd::LeaderKey& leader) {
  while (!txs.empty()) {
    size_t bad = txs.size();
    auto built = chain_->Build(txs, &bad);
    if (!built.ok()) {
      if (bad >= txs.size()) {
        mempool_.Requeue(txs);
        Alarm("cannot build a block: " + built.status().message());
        return false;
      }
      spdlog::warn("dropping transaction {}: {}", txs[bad]->id().hex(), built.status().message());
      mempool_.Done({txs[bad]}, /*committed=*/false);
      txs.erase(txs.begin() + static_cast<long>(bad));
      continue;
    }
    const BlockPtr& block = built->block;
    const std::string key = BlockKey(block->header().height);
    auto wrote = client_->CreateIfAbsent(key, block->encoded(), &leader);
    if (wrote.ok() && !*wrote) {
      // A retried write may have landed the first time: is it ours?
      auto r = client_->Range(key, "");
      wrote = r.ok() && r->kvs.size() == 1 && r->kvs[0].value == block->encoded();
    }
    if (!wrote.ok() || !*wrote) {
      if (!wrote.ok()) spdlog::warn("etcd write of block {}: {}", block->header().height, wrote.status().message());
      mempool_.Requeue(txs);
      return false;
    }
    Status s = chain_->Commit(*built);
    if (!s.ok()) {
      // etcd has the block; the sync loop applies it once the store works.
      spdlog::error("committing block {} locally failed: {}", block->header().height, s.message());
      mempool_.Requeue(txs);
      return false;
    }
    mempool_.Done(txs, /*committed=*/true);
    return true;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Following

void EtcdOrderer::SyncLoop() {
  const std::string blocks_end = etcd::PrefixEnd(prefix_ + "blocks/");
  const size_t height_pos = (prefix_ + "blocks/").size();
  while (!stop_) {
    if (diverged_) {
      Pause(milliseconds(1000));
      continue;
    }
    auto r = client_->Range(BlockKey(chain_->head().height + 1), blocks_end, 64);
    if (!r.ok()) {
      spdlog::warn("etcd: reading blocks: {}", r.status().message());
      Pause(milliseconds(200));
      continue;
    }
    bool ok = true;
    for (const auto& kv : r->kvs) {
      auto h = HeightAt(kv.key, height_pos);
      if (!h) continue;
      if (*h > chain_->head().height + 1 && !CatchUpFromPeers(*h)) {
        ok = false;
        break;
      }
      if (!ApplyBlock(*h, kv.value)) {
        ok = false;
        break;
      }
    }
    if (!ok) {
      Pause(milliseconds(1000));
      continue;
    }
    if (r->more) continue;
    auto watch = client_->WatchRange(BlockKey(chain_->head().height + 1), blocks_end, r->revision + 1);
    if (!watch.ok()) continue;
    while (!stop_ && !diverged_) {
      auto events = (*watch)->Next(milliseconds(200));
      if (!events.ok()) break;  // read the range again, then watch anew
      bool gap = false;
      for (const auto& e : *events) {
        if (!e.put) continue;
        auto h = HeightAt(e.kv.key, height_pos);
        if (!h || *h <= chain_->head().height) continue;  // ours, or applied already
        if (*h != chain_->head().height + 1 || !ApplyBlock(*h, e.kv.value)) {
          gap = true;
          break;
        }
      }
      if (gap) break;
    }
  }
}

bool EtcdOrderer::CatchUpFromPeers(uint64_t before) {
  std::vector<std::string> urls;
  auto r = client_->Range(prefix_ + "nodes/", etcd::PrefixEnd(prefix_ + "nodes/"));
  if (!r.ok()) return false;
  for (const auto& kv : r->kvs) {
    if (kv.key.ends_with(node_key_.public_key().hex())) continue;
    auto j = nlohmann::json::parse(kv.value, nullptr, false);
    if (j.is_object() && j.contains("url") && j["url"].is_string()) urls.push_back(j["url"]);
  }
  const uint64_t from = chain_->head().height + 1;
  spdlog::info("blocks {}..{} are no longer in etcd: fetching them from {} node(s)", from, before - 1,
               urls.size());
  size_t next_url = 0;
  for (uint64_t h = from; h < before && !stop_;) {
    bool got = false;
    for (size_t tries = 0; tries < urls.size() && !got; ++tries) {
      const std::string& url = urls[next_url % urls.size()];
      auto raw = peers_.fetch(url, h);
      if (!raw.ok()) {
        spdlog::warn("block {} from {}: {}", h, url, raw.status().message());
        ++next_url;  // that node is down or behind: ask the next one
        continue;
      }
      // Checked like a block from etcd: a peer cannot forge one.
      if (!ApplyBlock(h, *raw)) return false;
      got = true;
    }
    if (!got) return false;
    h = chain_->head().height + 1;
  }
  return true;
}

bool EtcdOrderer::ApplyBlock(uint64_t height, const std::string& encoded) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  if (chain_->head().height + 1 != height) return true;  // the proposer committed it here
  auto block = Block::Decode(encoded);
  if (!block.ok()) {
    Alarm("block " + std::to_string(height) + " does not decode: " + block.status().message());
    return false;
  }
  Status s = chain_->Apply(*block);
  if (!s.ok()) {
    Alarm("block " + std::to_string(height) + " proposed by " + (*block)->header().proposer.hex() +
          " is refused: " + s.message());
    return false;
  }
  auto superseded = mempool_.Committed((*block)->txs());
  for (const auto& tx : superseded) {
    spdlog::info("transaction {} dropped: its nonce was used by another transaction", tx->id().hex());
  }
  return true;
}

// ---------------------------------------------------------------------------
// Forwarding

void EtcdOrderer::ForwardLoop() {
  const std::string election = prefix_ + "proposer";
  std::unordered_map<TxId, SteadyClock::time_point, DigestHash> sent_at;
  auto last_look = SteadyClock::now() - std::chrono::seconds(10);
  while (!stop_) {
    bool look = false, resend = false;
    std::string url;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, milliseconds(200), [&] {
        return stop_ || resend_all_ || (!forward_queue_.empty() && !leader_url_.empty());
      });
      if (stop_) break;
      if (proposer_) {
        forward_queue_.clear();
        resend_all_ = false;
        sent_at.clear();
        continue;
      }
      resend = resend_all_;
      resend_all_ = false;
      look = resend || leader_url_.empty() || SteadyClock::now() - last_look > milliseconds(1000);
    }
    if (look) {
      // Who leads? (A change sends everything waiting here again.)
      last_look = SteadyClock::now();
      auto v = client_->LeaderValue(election);
      std::string node, leader_url;
      if (v.ok() && *v) {
        auto j = nlohmann::json::parse(**v, nullptr, false);
        if (j.is_object() && j.contains("url") && j["url"].is_string() && j.contains("node")) {
          leader_url = j["url"].get<std::string>();
          node = j["node"].is_string() ? j["node"].get<std::string>() : "";
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (node != leader_node_) resend = true;
      leader_node_ = node;
      leader_url_ = node == node_key_.public_key().hex() ? "" : leader_url;
    }
    // Everything waiting goes to a new proposer; and what was sent long ago
    // without committing goes again (a forward lost with a proposer that
    // died). Not sooner: a busy proposer holds what it was sent, and a
    // duplicate costs it an admission.
    const auto now = SteadyClock::now();
    if (resend || look) {
      auto queued = mempool_.Snapshot();
      std::unordered_map<TxId, SteadyClock::time_point, DigestHash> still;
      std::deque<TxPtr> again;
      std::unordered_set<TxId, DigestHash> again_ids;
      for (const auto& tx : queued) {
        auto it = sent_at.find(tx->id());
        if (resend || it == sent_at.end() || now - it->second > milliseconds(10000)) {
          again.push_back(tx);
          again_ids.insert(tx->id());
        } else {
          still.emplace(it->first, it->second);
        }
      }
      sent_at = std::move(still);
      std::lock_guard<std::mutex> lock(mu_);
      // Submitted since the snapshot: still to send, after the others.
      for (auto& tx : forward_queue_) {
        if (!again_ids.count(tx->id()) && !sent_at.count(tx->id())) again.push_back(std::move(tx));
      }
      forward_queue_ = std::move(again);
    }
    std::vector<TxPtr> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      url = leader_url_;
      if (url.empty()) continue;
      size_t bytes = 0;
      while (!forward_queue_.empty() && batch.size() < 2000 && bytes < options_.max_block_bytes) {
        bytes += forward_queue_.front()->encoded().size();
        batch.push_back(std::move(forward_queue_.front()));
        forward_queue_.pop_front();
      }
    }
    if (batch.empty()) continue;
    std::vector<std::pair<size_t, Status>> rejected;
    Status s = peers_.forward(url, batch, &rejected);
    if (!s.ok()) {
      spdlog::warn("forwarding {} transaction(s) to the proposer at {}: {}", batch.size(), url, s.message());
      std::lock_guard<std::mutex> lock(mu_);
      leader_url_.clear();  // look again
      forward_queue_.insert(forward_queue_.begin(), batch.begin(), batch.end());
      continue;
    }
    for (const auto& tx : batch) sent_at[tx->id()] = now;
    std::vector<TxPtr> drop;
    for (const auto& [i, st] : rejected) {
      // Refused for what it is (signature, schema, actor): it can never
      // commit. Nonce and capacity refusals may pass later: sent again.
      Code c = st.code();
      if (c == Code::kInvalidArgument || c == Code::kPermissionDenied || c == Code::kTooLarge) {
        spdlog::info("proposer refused transaction {}: {}", batch[i]->id().hex(), st.message());
        drop.push_back(batch[i]);
      }
    }
    if (!drop.empty()) mempool_.Drop(drop);
  }
}

// ---------------------------------------------------------------------------
// Checkpoints

void EtcdOrderer::OnCommitted(const BlockPtr& block) {
  const uint64_t h = block->header().height;
  if (h == 0 || h % options_.checkpoint_interval != 0) return;
  Checkpoint cp = Checkpoint::Sign(chain_->executor().genesis().chain_id, h, block->hash(),
                                   chain_->head().digest.Root(), node_key_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    own_checkpoints_.push_back(cp);
    checkpoints_[h][cp.node] = cp;
  }
  cv_.notify_all();
}

void EtcdOrderer::CheckpointLoop() {
  const std::string all = prefix_ + "checkpoints/";
  const std::string all_end = etcd::PrefixEnd(all);
  const std::string& chain_id = chain_->executor().genesis().chain_id;
  auto take = [&](const etcd::KeyValue& kv) {
    auto j = nlohmann::json::parse(kv.value, nullptr, false);
    auto cp = Checkpoint::FromJson(j);
    if (!cp.ok() || !cp->Verify(chain_id)) {
      spdlog::warn("ignoring a malformed or badly signed checkpoint at {}", kv.key);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Checkpoint& slot = checkpoints_[cp->height][cp->node];
      if (cp->node == node_key_.public_key() && slot.height == cp->height && !slot.SameAs(*cp)) {
        // Signed with this node's key, but not what this node signed.
        spdlog::error("etcd holds a checkpoint for height {} under this node's key that this node did not "
                      "sign: is the node key in other hands? Keeping this node's own.",
                      cp->height);
        return;
      }
      slot = *cp;
    }
    Compare(cp->height);
  };
  std::unique_ptr<etcd::Watch> watch;
  auto last_compact = SteadyClock::now();
  while (!stop_) {
    // Publish this node's own.
    std::deque<Checkpoint> mine;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (watch) cv_.wait_for(lock, milliseconds(50), [&] { return stop_ || !own_checkpoints_.empty(); });
      if (stop_) break;
      mine.swap(own_checkpoints_);
    }
    for (size_t i = 0; i < mine.size(); ++i) {
      const Checkpoint& cp = mine[i];
      Status s = client_->Put(CheckpointPrefix(cp.height) + cp.node.hex(), cp.ToJson().dump());
      if (!s.ok()) {
        spdlog::warn("publishing checkpoint {}: {}", cp.height, s.message());
        std::lock_guard<std::mutex> lock(mu_);
        own_checkpoints_.insert(own_checkpoints_.begin(), mine.begin() + static_cast<long>(i), mine.end());
        break;
      }
      Compare(cp.height);
    }
    if (!watch) {
      auto r = client_->Range(all, all_end);
      if (!r.ok()) continue;
      for (const auto& kv : r->kvs) take(kv);
      auto w = client_->WatchRange(all, all_end, r->revision + 1);
      if (w.ok()) watch = std::move(*w);
      continue;
    }
    auto events = watch->Next(milliseconds(50));
    if (!events.ok()) {
      watch.reset();
      continue;
    }
    for (const auto& e : *events) {
      if (e.put) take(e.kv);
    }
    if (proposer_ && SteadyClock::now() - last_compact > std::chrono::seconds(5)) {
      last_compact = SteadyClock::now();
      Compact();
    }
  }
}

void EtcdOrderer::Compare(uint64_t height) {
  const Genesis& g = chain_->executor().genesis();
  std::vector<Checkpoint> sigs;
  std::optional<Checkpoint> own;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = checkpoints_.find(height);
    if (it == checkpoints_.end()) return;
    for (auto& [node, cp] : it->second) {
      sigs.push_back(cp);
      if (node == node_key_.public_key()) own = cp;
    }
  }
  if (!own) return;  // not there yet: compared when this node gets there
  CheckpointTally t = TallyCheckpoints(g, height, sigs);
  if (t.certified && !t.certified->SameAs(*own)) {
    Alarm("checkpoint " + std::to_string(height) + ": a quorum of organisations signed block " +
          t.certified->block_hash.hex() + " / state " + t.certified->state_root.hex() +
          ", this node has " + own->block_hash.hex() + " / " + own->state_root.hex());
    return;
  }
  for (const auto& cp : t.signatures) {
    if (!cp.SameAs(*own)) {
      spdlog::error("checkpoint {}: node {} signed block {} / state {}, this node has {} / {}", height,
                    cp.node.hex(), cp.block_hash.hex(), cp.state_root.hex(), own->block_hash.hex(),
                    own->state_root.hex());
    }
  }
  if (t.certified) {
    std::lock_guard<std::mutex> lock(mu_);
    last_certified_ = std::max(last_certified_, height);
  }
}

void EtcdOrderer::Compact() {
  // The lowest checkpoint every node has signed: no node needs older blocks
  // or history from etcd (a new node catches up from a peer instead).
  uint64_t lowest = UINT64_MAX;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& key : chain_->executor().genesis().NodeKeys()) {
      uint64_t latest = 0;
      for (auto it = checkpoints_.rbegin(); it != checkpoints_.rend(); ++it) {
        if (it->second.count(key)) {
          latest = it->first;
          break;
        }
      }
      lowest = std::min(lowest, latest);
    }
  }
  if (lowest == 0 || lowest == UINT64_MAX) return;
  auto r = client_->Range(BlockKey(lowest), "");
  if (!r.ok() || r->kvs.empty()) return;
  if (lowest > options_.retain_blocks) {
    const uint64_t cut = lowest - options_.retain_blocks;
    Status s = client_->DeleteRange(BlockKey(0), BlockKey(cut));
    if (s.ok()) s = client_->DeleteRange(CheckpointPrefix(0), CheckpointPrefix(cut));
    if (!s.ok()) spdlog::warn("etcd: deleting blocks below {}: {}", cut, s.message());
    std::lock_guard<std::mutex> lock(mu_);
    checkpoints_.erase(checkpoints_.begin(), checkpoints_.lower_bound(cut));
  }
  const int64_t rev = r->kvs[0].mod_revision;
  if (rev <= compacted_rev_) return;  // nothing new behind it
  Status s = client_->Compact(rev);
  if (!s.ok() && s.code() != Code::kFailedPrecondition) {  // already compacted further
    spdlog::warn("etcd compaction at revision {}: {}", rev, s.message());
    return;
  }
  compacted_rev_ = rev;
}

uint64_t EtcdOrderer::Uncertified() const {
  const uint64_t head = chain_->head().height;
  std::lock_guard<std::mutex> lock(mu_);
  return head > last_certified_ ? head - last_certified_ : 0;
}

void EtcdOrderer::Alarm(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (alarm_.empty()) alarm_ = why;
  }
  if (!diverged_.exchange(true)) {
    spdlog::critical("DIVERGENCE ALARM: {}. This node refuses transactions until it is re-synced.", why);
  }
  cv_.notify_all();
}

nlohmann::json EtcdOrderer::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j = {{"ordering", "etcd"},
                      {"proposer", proposer_.load()},
                      {"leader", leader_node_},
                      {"diverged", diverged_.load()},
                      {"last_certified", last_certified_},
                      {"checkpoint_interval", options_.checkpoint_interval}};
  if (!alarm_.empty()) j["alarm"] = alarm_;
  return j;
}

Result<nlohmann::json> EtcdOrderer::CheckpointInfo(uint64_t height) const {
  if (height == 0 || height % options_.checkpoint_interval != 0) {
    return Status::NotFound("checkpoints are signed every " + std::to_string(options_.checkpoint_interval) +
                            " blocks; " + std::to_string(height) + " is not one of them");
  }
  std::vector<Checkpoint> sigs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = checkpoints_.find(height);
    if (it == checkpoints_.end()) return Status::NotFound("no checkpoint for height " + std::to_string(height) + " yet");
    for (auto& [node, cp] : it->second) sigs.push_back(cp);
  }
  const Genesis& g = chain_->executor().genesis();
  CheckpointTally t = TallyCheckpoints(g, height, sigs);
  std::map<PublicKey, std::string> org_of;
  for (auto& [key, org] : g.NodeOrgs()) org_of[key] = org;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& cp : t.signatures) {
    nlohmann::json e = cp.ToJson();
    e["org"] = org_of[cp.node];
    e["agrees"] = t.certified && t.certified->SameAs(cp);
    list.push_back(std::move(e));
  }
  nlohmann::json j = {{"height", height}, {"quorum", t.quorum}, {"certified", t.certified.has_value()},
                      {"signatures", std::move(list)}};
  if (t.certified) {
    j["block_hash"] = t.certified->block_hash.hex();
    j["state_root"] = t.certified->state_root.hex();
  }
  if (!t.split_orgs.empty()) j["split_orgs"] = t.split_orgs;  // their nodes disagree among themselves
  return j;
}

}  // namespace cc

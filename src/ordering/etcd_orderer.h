// The etcd orderer (DESIGN.md §5): a consortium's nodes agree on one
// sequence of blocks kept in etcd.
//
// Keys, under P = "/carechain/<chain_id>/":
//   P "blocks/" %020d height     the encoded block (docs/formats.md)
//   P "proposer/" ...            etcd's election (v3election) of the proposer;
//                                the leader's value is {"node", "url"}
//   P "checkpoints/" %020d height "/" node-key-hex   a signed checkpoint (JSON)
//   P "nodes/" node-key-hex      {"url"}: where the node's API is, for peers
//   P "genesis"                  the genesis hash: one network per prefix
//
// The elected proposer executes the next block and writes it with one etcd
// transaction: only if P"blocks/"(h+1) does not exist and the proposer's
// election key still exists with its revision. Two proposers can therefore
// never both write a height, and one that lost its lease (paused, cut off)
// cannot write at all. It commits the block locally only after etcd took it,
// and pauses while its head is more than kMaxUncertifiedCheckpoints
// checkpoint intervals above the last certified checkpoint.
// Every other node watches P"blocks/", validates each block (hash link,
// proposer, signatures, re-execution: Chain::Apply) and commits it.
//
// Transactions accepted by a node that is not the proposer wait in its
// mempool and are forwarded to the proposer's API (POST
// /v1/transactions/batch, signed with the node key), and again after a
// change of proposer, until a block commits them.
//
// Every `checkpoint_interval` blocks each node signs a checkpoint and puts
// it in etcd; nodes compare theirs with the others'. A node outside a
// certified quorum raises the divergence alarm and refuses writes. The
// proposer deletes blocks below the lowest checkpoint every node signed
// (keeping `retain_blocks`) and compacts etcd's history behind it; a node
// that needs older blocks (a new one, from genesis) fetches them from the
// other nodes' APIs and validates them like any other.
//
// Thread safety: the Orderer methods are thread-safe. Four internal
// threads: campaign/propose, sync (apply), forward, checkpoints.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "ledger/chain.h"
#include "ledger/checkpoint.h"
#include "ordering/etcd_client.h"
#include "ordering/mempool.h"
#include "ordering/orderer.h"

namespace cc {

struct EtcdOrdererOptions {
  etcd::Options etcd;
  std::string advertise_url;  // this node's API, as the other nodes reach it
  int64_t lease_ttl_s = 2;    // a dead proposer is replaced after at most this
  size_t max_block_txs = 2000;
  size_t max_block_bytes = 1 << 20;  // stays below etcd's --max-request-bytes
  uint64_t block_interval_ms = 10;
  size_t mempool_capacity = 200000;
  uint64_t checkpoint_interval = 100;  // blocks
  uint64_t retain_blocks = 100000;     // kept in etcd below the lowest checkpoint
};

// How a node reaches the other nodes' APIs (node/peer_client.h).
struct EtcdPeers {
  // Sends transactions to the proposer's API at `url`. Fills `rejected` with
  // (index, status) of those the proposer refused; a failed call returns an
  // error and nothing is known of the batch.
  std::function<Status(const std::string& url, const std::vector<TxPtr>& txs,
                       std::vector<std::pair<size_t, Status>>* rejected)>
      forward;
  // The encoded block `height` from the node at `url`.
  std::function<Result<std::string>(const std::string& url, uint64_t height)> fetch;
};

class EtcdOrderer : public Orderer {
 public:
  // `node_key` signs the checkpoints (the chain signs blocks with the same key).
  EtcdOrderer(Chain* chain, SecretKey node_key, EtcdOrdererOptions options, EtcdPeers peers);
  ~EtcdOrderer() override;

  // The URL other nodes forward to, when the options named none (the API's
  // bound address is known only once it listens). Call before Start().
  void set_advertise_url(std::string url) { options_.advertise_url = std::move(url); }

  Status Start() override;
  void Stop() override;
  Status Submit(TxPtr tx) override;
  bool IsPending(const TxId& id) const override { return mempool_.Contains(id); }
  size_t PendingCount() const override { return mempool_.size(); }
  uint64_t NextNonce(const PublicKey& actor) const override { return mempool_.NextNonce(actor); }
  bool healthy() const override { return !diverged_; }
  nlohmann::json Describe() const override;
  Result<nlohmann::json> CheckpointInfo(uint64_t height) const override;

  bool is_proposer() const { return proposer_; }

 private:
  std::string BlockKey(uint64_t height) const;
  std::string CheckpointPrefix(uint64_t height) const;

  void CampaignLoop();
  // Proposes blocks while `leader` holds; returns when it does not.
  void Propose(const etcd::LeaderKey& leader, const etcd::LeaseKeeper& keeper);
  // Builds, writes and commits one block of `txs`. False: the proposer lost
  // its turn (or etcd failed); the transactions are back in the queue.
  bool ProposeBlock(std::vector<TxPtr> txs, const etcd::LeaderKey& leader);

  void SyncLoop();
  // Applies block `height` (read from etcd or a peer), if it is the next
  // one. False when the block is not valid (the node then raises the alarm).
  bool ApplyBlock(uint64_t height, const std::string& encoded);
  // Fetches and applies the blocks up to `before` from the other nodes
  // (they are no longer in etcd). False when no node could serve them.
  bool CatchUpFromPeers(uint64_t before);

  void ForwardLoop();
  void CheckpointLoop();
  void OnCommitted(const BlockPtr& block);
  // Compares the checkpoints known for `height` with this node's.
  void Compare(uint64_t height);
  void Compact();
  void Alarm(const std::string& why);
  // Waits `d`, or less if the orderer stops.
  void Pause(std::chrono::milliseconds d);
  // Blocks above the last checkpoint certified with this node's agreement.
  uint64_t Uncertified() const;

  // The proposer pauses when its head is this many checkpoint intervals
  // above the last certified checkpoint: a chain nobody else confirms (its
  // blocks refused, or a quorum of organisations down) stops growing.
  static constexpr uint64_t kMaxUncertifiedCheckpoints = 10;

  Chain* chain_;
  const SecretKey node_key_;
  EtcdOrdererOptions options_;
  const std::string prefix_;
  EtcdPeers peers_;
  Mempool mempool_;
  std::unique_ptr<etcd::Client> client_;
  etcd::Canceller campaign_cancel_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> proposer_{false};
  std::atomic<bool> diverged_{false};
  // Serialises every change to the chain (own blocks and applied ones).
  std::mutex apply_mu_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string alarm_;                        // GUARDED_BY(mu_)
  std::string leader_url_;                   // GUARDED_BY(mu_), "" unknown
  std::string leader_node_;                  // GUARDED_BY(mu_)
  std::deque<TxPtr> forward_queue_;          // GUARDED_BY(mu_)
  bool resend_all_ = false;                  // GUARDED_BY(mu_)
  std::deque<Checkpoint> own_checkpoints_;   // GUARDED_BY(mu_), to publish
  // Checkpoints seen in etcd (others' and own), by height then node.
  std::map<uint64_t, std::map<PublicKey, Checkpoint>> checkpoints_;  // GUARDED_BY(mu_)
  uint64_t last_certified_ = 0;              // GUARDED_BY(mu_)
  int64_t compacted_rev_ = 0;                // the checkpoint thread's own

  std::thread campaign_thread_, sync_thread_, forward_thread_, checkpoint_thread_;
};

}  // namespace cc

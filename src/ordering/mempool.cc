#include "ordering/mempool.h"

#include <algorithm>

#include "ledger/executor.h"

namespace cc {

Status Mempool::Add(TxPtr tx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Unavailable("node is not accepting transactions (stopping, or ordering failed)");
  if (queue_.size() >= capacity_) return Status::Unavailable("mempool is full, retry later");
  if (ids_.count(tx->id())) return Status::Exists("transaction " + tx->id().hex() + " is already pending");
  const PublicKey& actor = tx->body().actor;
  auto it = actors_.find(actor);
  uint64_t last = it != actors_.end() ? it->second.last_nonce
                                      : Executor::LastNonce(*committed_, actor);
  if (tx->body().nonce != last + 1) {
    return Status::Precondition("nonce " + std::to_string(tx->body().nonce) +
                                (tx->body().nonce <= last ? " was already used" : " is out of order") +
                                "; the actor's next nonce is " + std::to_string(last + 1));
  }
  ActorEntry& e = actors_[actor];
  e.last_nonce = tx->body().nonce;
  e.in_flight++;
  ids_.insert(tx->id());
  queue_.push_back(std::move(tx));
  cv_.notify_all();
  return Status::Ok();
}

std::vector<TxPtr> Mempool::Take(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = std::min(max, queue_.size());
  std::vector<TxPtr> out(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.begin() + n));
  queue_.erase(queue_.begin(), queue_.begin() + n);
  return out;
}

void Mempool::Done(const std::vector<TxPtr>& txs, bool committed) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& tx : txs) DoneLocked(tx, committed);
}

void Mempool::DoneLocked(const TxPtr& tx, bool committed) {
  ids_.erase(tx->id());
  auto it = actors_.find(tx->body().actor);
  if (it == actors_.end()) return;
  if (!committed) {
    // The actor's later in-flight transactions can no longer commit (they
    // are dropped in turn); its next valid nonce is this one again.
    it->second.last_nonce = std::min(it->second.last_nonce, tx->body().nonce - 1);
  }
  if (it->second.in_flight > 0) it->second.in_flight--;
  if (it->second.in_flight == 0) actors_.erase(it);
}

void Mempool::Requeue(const std::vector<TxPtr>& txs) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.insert(queue_.begin(), txs.begin(), txs.end());
  cv_.notify_all();
}

std::vector<TxPtr> Mempool::Committed(const std::vector<TxPtr>& block_txs) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_map<PublicKey, uint64_t, PublicKeyHash> used;  // actor -> highest nonce in the block
  bool any = false;
  for (const auto& tx : block_txs) {
    if (!actors_.count(tx->body().actor)) continue;
    uint64_t& n = used[tx->body().actor];
    n = std::max(n, tx->body().nonce);
    any = true;
  }
  std::vector<TxPtr> dropped;
  if (!any) return dropped;
  std::unordered_set<TxId, DigestHash> in_block;
  for (const auto& tx : block_txs) in_block.insert(tx->id());
  std::deque<TxPtr> keep;
  for (auto& tx : queue_) {
    auto u = used.find(tx->body().actor);
    if (u == used.end() || tx->body().nonce > u->second) {
      keep.push_back(std::move(tx));
    } else if (in_block.count(tx->id())) {
      DoneLocked(tx, /*committed=*/true);
    } else {
      dropped.push_back(std::move(tx));  // its nonce went to another transaction
    }
  }
  queue_ = std::move(keep);
  for (const auto& tx : dropped) {
    ids_.erase(tx->id());
    auto it = actors_.find(tx->body().actor);
    if (it != actors_.end() && it->second.in_flight > 0 && --it->second.in_flight == 0) actors_.erase(it);
  }
  return dropped;
}

void Mempool::Drop(const std::vector<TxPtr>& txs) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_set<TxId, DigestHash> gone;
  for (const auto& tx : txs) gone.insert(tx->id());
  std::erase_if(queue_, [&](const TxPtr& tx) { return gone.count(tx->id()) > 0; });
  for (const auto& tx : txs) {
    if (ids_.count(tx->id())) DoneLocked(tx, /*committed=*/false);
  }
}

std::vector<TxPtr> Mempool::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {queue_.begin(), queue_.end()};
}

size_t Mempool::WaitFor(size_t n, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return closed_ || queue_.size() >= n; });
  return queue_.size();
}

size_t Mempool::WaitAny() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
  return queue_.size();
}

void Mempool::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

uint64_t Mempool::NextNonce(const PublicKey& actor) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actors_.find(actor);
  return (it != actors_.end() ? it->second.last_nonce : Executor::LastNonce(*committed_, actor)) + 1;
}

size_t Mempool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool Mempool::Contains(const TxId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ids_.count(id) > 0;
}

}  // namespace cc

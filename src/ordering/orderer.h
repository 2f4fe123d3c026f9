// The Orderer decides the one sequence of blocks. `solo` (this folder) cuts
// blocks on the local node; `etcd` (consortium clusters) agrees on them
// through etcd.
#pragma once

#include <nlohmann/json.hpp>

#include "ledger/transaction.h"
#include "util/status.h"

namespace cc {

class Orderer {
 public:
  virtual ~Orderer() = default;
  virtual Status Start() = 0;
  // Stops cutting blocks; the block being committed, if any, completes.
  virtual void Stop() = 0;
  // Queues a transaction that passed admission (schema and signature).
  virtual Status Submit(TxPtr tx) = 0;
  virtual bool IsPending(const TxId& id) const = 0;
  virtual size_t PendingCount() const = 0;
  virtual uint64_t NextNonce(const PublicKey& actor) const = 0;
  // False once ordering failed (e.g. the store refused a commit): the node
  // then refuses transactions and /healthz reports it.
  virtual bool healthy() const = 0;
  // For /v1/info and /metrics: {"ordering": "solo"|"etcd", ...}.
  virtual nlohmann::json Describe() const = 0;
  // The checkpoint signatures known for `height` (GET /v1/checkpoints/H).
  virtual Result<nlohmann::json> CheckpointInfo(uint64_t height) const {
    (void)height;
    return Status::NotFound("this node orders alone (solo): it has no checkpoints");
  }
};

}  // namespace cc

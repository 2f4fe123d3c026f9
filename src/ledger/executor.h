// Runs transactions through the modules against a state view.
//
// Thread safety: const methods may be called concurrently.
#pragma once

#include <vector>

#include "crypto/state_digest.h"
#include "ledger/block.h"
#include "ledger/genesis.h"
#include "ledger/module.h"
#include "ledger/state.h"

namespace cc {

struct BlockExecution {
  std::vector<TxResult> results;
  WriteSet writes;
  Hash256 changes_hash;
  StateDigest digest;  // of the whole state after the block
};

class Executor {
 public:
  Executor(const ModuleRegistry* modules, const Genesis* genesis)
      : modules_(modules), genesis_(genesis) {}

  // Stateless admission checks: size, chain id, module, action and payload
  // shape. Does not check the signature (see Transaction::VerifySignature).
  Status CheckTx(const Transaction& tx) const;

  // Executes `txs` as block `height` on top of `base`, whose digest is
  // `before`. A transaction the modules reject is kept with its reason and
  // still consumes its nonce. Fails, making the block invalid, if any
  // transaction fails CheckTx or does not carry its actor's next nonce.
  // `prechecked` skips CheckTx: only for a proposer whose transactions all
  // passed CheckTx at admission.
  Result<BlockExecution> ExecuteBlock(const StateReader& base, const StateDigest& before,
                                      uint64_t height, uint64_t time_ms,
                                      const std::vector<TxPtr>& txs,
                                      size_t* bad_index = nullptr, bool prechecked = false) const;

  // The state the genesis document defines (block 0).
  Result<BlockExecution> ExecuteGenesis(const StateReader& empty) const;

  // Header of the genesis block: tx_root is the genesis document's hash.
  BlockHeader GenesisHeader(const BlockExecution& e) const;

  static Hash256 ChangesHash(const WriteSet& writes);
  static std::string NonceKey(const PublicKey& actor);
  // The last nonce the actor used, 0 if none.
  static uint64_t LastNonce(const StateReader& state, const PublicKey& actor);

  const ModuleRegistry& modules() const { return *modules_; }
  const Genesis& genesis() const { return *genesis_; }

 private:
  StateDigest Advance(const StateReader& base, const StateDigest& before,
                      const WriteSet& writes) const;

  const ModuleRegistry* modules_;
  const Genesis* genesis_;
};

}  // namespace cc

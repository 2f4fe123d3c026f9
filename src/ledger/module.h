// The application module interface and the registry.
//
// A module is deterministic: it sees the transaction, its parsed payload, the
// block's height and time, and a state view. It never reads the clock, the
// disk or the network. Adding a module is one folder under src/apps/ plus one
// line in apps/registry.cc.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/state.h"
#include "ledger/transaction.h"
#include "ledger/tx_result.h"
#include "util/status.h"

namespace cc {

struct TxContext {
  const Transaction& tx;
  const nlohmann::json& payload;
  uint64_t height;
  uint64_t time_ms;  // the block's time
};

// Query parameters from the API's query string.
using QueryParams = std::map<std::string, std::string, std::less<>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;

  // Stateless admission check: the action exists and the payload has the
  // action's shape. Runs before the mempool and again on every node.
  virtual Status Check(std::string_view action, const nlohmann::json& payload) const = 0;

  // Executes a checked transaction. Writes go to `state`; on a non-OK
  // result the executor discards them.
  virtual TxResult Execute(const TxContext& ctx, Overlay& state) const = 0;

  // Initial state from the genesis document.
  virtual Status InitGenesis(const nlohmann::json& genesis, Overlay& state) const {
    (void)genesis;
    (void)state;
    return Status::Ok();
  }

  // Read-only queries: GET /v1/modules/<name>/<path>?params.
  virtual Result<nlohmann::json> Query(std::string_view path, const QueryParams& params,
                                       const StateReader& state) const {
    (void)params;
    (void)state;
    return Status::NotFound("module " + std::string(name()) + " has no query " + std::string(path));
  }
};

// Helpers for modules' state and queries.
// The JSON object stored at `key`; nullopt if absent or not a JSON object.
std::optional<nlohmann::json> ReadJsonObject(const StateReader& state, std::string_view key);
// A query's ?limit=: 1..1000, `fallback` when absent.
size_t LimitParam(const QueryParams& params, size_t fallback);

// Decides whether a key may sign transactions (apps/identity provides it).
class ActorAuthority {
 public:
  virtual ~ActorAuthority() = default;
  virtual bool IsActive(const StateReader& state, const PublicKey& key) const = 0;
  // True if `key` may propose blocks (a node key named in genesis).
  virtual bool IsProposer(const StateReader& state, const PublicKey& key) const = 0;
};

class ModuleRegistry {
 public:
  void Add(std::unique_ptr<Module> m);
  void SetAuthority(const ActorAuthority* a) { authority_ = a; }

  const Module* Find(std::string_view name) const;
  const ActorAuthority* authority() const { return authority_; }
  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }

 private:
  std::vector<std::unique_ptr<Module>> modules_;
  const ActorAuthority* authority_ = nullptr;
};

}  // namespace cc

// A small client for etcd 3.4's gRPC API: the key-value calls, leases,
// watches and elections the etcd orderer needs (docs/architecture.md says
// why gRPC rather than the JSON gateway). gRPC types stay in etcd_client.cc.
//
// Endpoints are tried in turn: a call that finds its member unreachable
// moves on to the next one and is retried there, so a dead member (the etcd
// leader, too) costs one time-out, not the cluster. Every call carries a
// deadline.
//
// Thread safety: Client is thread-safe. A Watch or LeaseKeeper is used from
// one thread (it runs its own reader thread inside).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace cc::etcd {

struct Options {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://host:2379"
  std::string tls_ca;                  // PEM files; https endpoints need tls_ca
  std::string tls_cert;
  std::string tls_key;
  std::chrono::milliseconds timeout{5000};  // per call
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;  // the store's revision when the range was read
  bool more = false;     // the limit cut the range short
};

// Identifies an elected leader (etcd's v3election LeaderKey).
struct LeaderKey {
  std::string name;
  std::string key;
  int64_t rev = 0;
  int64_t lease = 0;
};

// The first key after every key starting with `prefix`.
std::string PrefixEnd(const std::string& prefix);

class Watch;
class LeaseKeeper;

// Lets another thread abandon a blocking call (Campaign) at once.
class Canceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class Client;
  mutable std::mutex mu_;
  void* call_ = nullptr;  // the running call's grpc::ClientContext
  bool cancelled_ = false;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const Options& options);
  ~Client();

  // Keys in [key, end); end "" means `key` alone. limit 0: no limit.
  Result<RangeResult> Range(const std::string& key, const std::string& end, int64_t limit = 0);
  Status Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Writes key=value only if `key` does not exist and, when `guard` is set,
  // the key guard->key still exists with create revision guard->rev (the
  // writer still holds its leadership). Returns whether it wrote.
  Result<bool> CreateIfAbsent(const std::string& key, const std::string& value,
                              const LeaderKey* guard);
  Status DeleteRange(const std::string& key, const std::string& end);
  // Drops history before `revision` (etcd's compaction).
  Status Compact(int64_t revision);

  Result<int64_t> GrantLease(int64_t ttl_s);
  Status RevokeLease(int64_t lease);

  // Joins the election `name` with `value` under `lease` and waits until it
  // wins, the lease ends or `cancel` (may be null) fires (kUnavailable then).
  Result<LeaderKey> Campaign(const std::string& name, int64_t lease, const std::string& value,
                             Canceller* cancel);
  // The current leader's value; nullopt when nobody leads.
  Result<std::optional<std::string>> LeaderValue(const std::string& name);
  Status Resign(const LeaderKey& leader);

  // Revision 0: from now on.
  Result<std::unique_ptr<Watch>> WatchRange(const std::string& key, const std::string& end,
                                            int64_t start_revision);
  // Keeps `lease` alive; see LeaseKeeper.
  std::unique_ptr<LeaseKeeper> KeepAlive(int64_t lease, int64_t ttl_s);

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct WatchEvent {
  bool put = true;  // false: delete
  KeyValue kv;
};

// A stream of changes to a key range, in revision order.
class Watch {
 public:
  virtual ~Watch() = default;
  // Waits up to `wait` for the next batch. An empty batch means nothing came
  // in time; an error means the stream ended (member lost, history
  // compacted): open a new one from the last revision seen + 1.
  virtual Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds wait) = 0;
};

// Refreshes a lease every ttl/3 on its own thread, across members. lost()
// turns true once the lease may have expired (no refresh confirmed within
// its TTL, or etcd says it is gone); it never turns false again.
class LeaseKeeper {
 public:
  virtual ~LeaseKeeper() = default;
  virtual bool lost() const = 0;
  virtual int64_t lease() const = 0;
};

}  // namespace cc::etcd

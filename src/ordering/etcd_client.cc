#include "ordering/etcd_client.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include "etcd/etcdserver/api/v3election/v3electionpb/v3election.grpc.pb.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace cc::etcd {

namespace pb = etcdserverpb;
namespace epb = v3electionpb;

namespace {

using Clock = std::chrono::steady_clock;

// The member is unreachable or between leaders ("etcdserver: leader
// changed", "no leader" are UNAVAILABLE): another member may answer. Plain
// errors (UNKNOWN, e.g. "election: no leader") are answers, not failures.
bool Retriable(grpc::StatusCode c) {
  return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::DEADLINE_EXCEEDED;
}

Status FromGrpc(const std::string& what, const grpc::Status& s) {
  std::string m = "etcd " + what + ": " + s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::NOT_FOUND: return Status::NotFound(m);
    case grpc::StatusCode::INVALID_ARGUMENT: return Status::Invalid(m);
    case grpc::StatusCode::OUT_OF_RANGE:        // compacted revision
    case grpc::StatusCode::FAILED_PRECONDITION: return Status::Precondition(m);
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return Status::TooLarge(m);
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED: return Status::Denied(m);
    default: return Status::Unavailable(m);
  }
}

Result<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KeyValue FromPb(const mvccpb::KeyValue& kv) {
  return {kv.key(), kv.value(), kv.create_revision(), kv.mod_revision()};
}

struct Member {
  std::string target;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<epb::Election::Stub> election;
};

}  // namespace

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention)
}

void Canceller::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (call_) static_cast<grpc::ClientContext*>(call_)->TryCancel();
}

bool Canceller::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

struct Client::Impl {
  std::vector<Member> members;
  std::chrono::milliseconds timeout;
  std::atomic<size_t> current{0};

  // Runs `fn(member, ctx)` on the current member, moving on to the next one
  // while members are unreachable; two rounds at most.
  template <typename Fn>
  Status Call(const std::string& what, Fn fn) {
    const size_t n = members.size();
    const size_t start = current.load();
    grpc::Status last;
    for (size_t attempt = 0; attempt < 2 * n; ++attempt) {
      size_t i = (start + attempt) % n;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + timeout);
      last = fn(members[i], ctx);
      if (last.ok()) {
        current = i;
        return Status::Ok();
      }
      if (!Retriable(last.error_code())) return FromGrpc(what, last);
      spdlog::debug("etcd {} on {}: {}; trying the next member", what, members[i].target,
                    last.error_message());
    }
    return FromGrpc(what + " (no member answered)", last);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const Options& o) {
  if (o.endpoints.empty()) return Status::Invalid("etcd: no endpoints");
  auto impl = std::make_unique<Impl>();
  impl->timeout = o.timeout;
  std::shared_ptr<grpc::ChannelCredentials> tls;
  for (const auto& url : o.endpoints) {
    const bool https = url.starts_with("https://");
    if (!https && !url.starts_with("http://"))
      return Status::Invalid("etcd: endpoint '" + url + "' is not an http(s) URL");
    std::string target = url.substr(url.find("://") + 3);
    while (!target.empty() && target.back() == '/') target.pop_back();
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (https) {
      if (!tls) {
        grpc::SslCredentialsOptions so;
        if (o.tls_ca.empty()) return Status::Invalid("etcd: https endpoints need a CA (etcd.tls_ca)");
        CC_ASSIGN_OR_RETURN(so.pem_root_certs, ReadPem(o.tls_ca));
        if (!o.tls_cert.empty()) {
          CC_ASSIGN_OR_RETURN(so.pem_cert_chain, ReadPem(o.tls_cert));
          CC_ASSIGN_OR_RETURN(so.pem_private_key, ReadPem(o.tls_key));
        }
        tls = grpc::SslCredentials(so);
      }
      creds = tls;
    } else {
      creds = grpc::InsecureChannelCredentials();
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    // Reconnect to a restarted member within a second, not minutes.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    Member m;
    m.target = target;
    m.channel = grpc::CreateCustomChannel(target, creds, args);
    m.kv = pb::KV::NewStub(m.channel);
    m.lease = pb::Lease::NewStub(m.channel);
    m.watch = pb::Watch::NewStub(m.channel);
    m.election = epb::Election::NewStub(m.channel);
    impl->members.push_back(std::move(m));
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<RangeResult> Client::Range(const std::string& key, const std::string& end, int64_t limit) {
  pb::RangeRequest req;
  req.set_key(key);
  if (!end.empty()) req.set_range_end(end);
  req.set_limit(limit);
  pb::RangeResponse resp;
  CC_RETURN_IF_ERROR(impl_->Call("range", [&](Member& m, grpc::ClientContext& ctx) {
    return m.kv->Range(&ctx, req, &resp);
  }));
  RangeResult r;
  r.revision = resp.header().revision();
  r.more = resp.more();
  r.kvs.reserve(resp.kvs_size());
  for (const auto& kv : resp.kvs()) r.kvs.push_back(FromPb(kv));
  return r;
}

Status Client::Put(const std::string& key, const std::string& value, int64_t lease) {
  pb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  pb::PutResponse resp;
  return impl_->Call("put", [&](Member& m, grpc::ClientContext& ctx) {
    return m.kv->Put(&ctx, req, &resp);
  });
}

Result<bool> Client::CreateIfAbsent(const std::string& key, const std::string& value,
                                    const LeaderKey* guard) {
  pb::TxnRequest req;
  pb::Compare* absent = req.add_compare();
  absent->set_key(key);
  absent->set_target(pb::Compare::CREATE);
  absent->set_result(pb::Compare::EQUAL);
  absent->set_create_revision(0);
  if (guard) {
    pb::Compare* held = req.add_compare();
    held->set_key(guard->key);
    held->set_target(pb::Compare::CREATE);
    held->set_result(pb::Compare::EQUAL);
    held->set_create_revision(guard->rev);
  }
  pb::PutRequest* put = req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  pb::TxnResponse resp;
  CC_RETURN_IF_ERROR(impl_->Call("txn", [&](Member& m, grpc::ClientContext& ctx) {
    return m.kv->Txn(&ctx, req, &resp);
  }));
  return resp.succeeded();
}

Status Client::DeleteRange(const std::string& key, const std::string& end) {
  pb::DeleteRangeRequest req;
  req.set_key(key);
  if (!end.empty()) req.set_range_end(end);
  pb::DeleteRangeResponse resp;
  return impl_->Call("delete", [&](Member& m, grpc::ClientContext& ctx) {
    return m.kv->DeleteRange(&ctx, req, &resp);
  });
}

Status Client::Compact(int64_t revision) {
  pb::CompactionRequest req;
  req.set_revision(revision);
  pb::CompactionResponse resp;
  return impl_->Call("compact", [&](Member& m, grpc::ClientContext& ctx) {
    return m.kv->Compact(&ctx, req, &resp);
  });
}

Result<int64_t> Client::GrantLease(int64_t ttl_s) {
  pb::LeaseGrantRequest req;
  req.set_ttl(ttl_s);
  pb::LeaseGrantResponse resp;
  CC_RETURN_IF_ERROR(impl_->Call("lease grant", [&](Member& m, grpc::ClientContext& ctx) {
    return m.lease->LeaseGrant(&ctx, req, &resp);
  }));
  if (!resp.error().empty()) return Status::Unavailable("etcd lease grant: " + resp.error());
  return resp.id();
}

Status Client::RevokeLease(int64_t lease) {
  pb::LeaseRevokeRequest req;
  req.set_id(lease);
  pb::LeaseRevokeResponse resp;
  return impl_->Call("lease revoke", [&](Member& m, grpc::ClientContext& ctx) {
    return m.lease->LeaseRevoke(&ctx, req, &resp);
  });
}

Result<LeaderKey> Client::Campaign(const std::string& name, int64_t lease,
                                   const std::string& value, Canceller* cancel) {
  epb::CampaignRequest req;
  req.set_name(name);
  req.set_lease(lease);
  req.set_value(value);
  epb::CampaignResponse resp;
  Member& m = impl_->members[impl_->current.load() % impl_->members.size()];
  grpc::ClientContext ctx;
  Canceller none;
  if (!cancel) cancel = &none;
  {
    std::lock_guard<std::mutex> lock(cancel->mu_);
    if (cancel->cancelled_) return Status::Unavailable("campaign cancelled");
    cancel->call_ = &ctx;
  }
  grpc::Status s = m.election->Campaign(&ctx, req, &resp);
  {
    std::lock_guard<std::mutex> lock(cancel->mu_);
    cancel->call_ = nullptr;
  }
  if (!s.ok()) {
    if (Retriable(s.error_code())) impl_->current = (impl_->current.load() + 1) % impl_->members.size();
    return FromGrpc("campaign", s);
  }
  const auto& l = resp.leader();
  return LeaderKey{l.name(), l.key(), l.rev(), l.lease()};
}

Result<std::optional<std::string>> Client::LeaderValue(const std::string& name) {
  epb::LeaderRequest req;
  req.set_name(name);
  epb::LeaderResponse resp;
  grpc::Status last;
  Status s = impl_->Call("leader", [&](Member& m, grpc::ClientContext& ctx) {
    last = m.election->Leader(&ctx, req, &resp);
    return last;
  });
  if (!s.ok()) {
    // etcd answers "election: no leader" with an error, not an empty reply.
    if (last.error_message().find("no leader") != std::string::npos) return std::optional<std::string>();
    return s;
  }
  return std::optional<std::string>(resp.kv().value());
}

Status Client::Resign(const LeaderKey& leader) {
  epb::ResignRequest req;
  auto* l = req.mutable_leader();
  l->set_name(leader.name);
  l->set_key(leader.key);
  l->set_rev(leader.rev);
  l->set_lease(leader.lease);
  epb::ResignResponse resp;
  return impl_->Call("resign", [&](Member& m, grpc::ClientContext& ctx) {
    return m.election->Resign(&ctx, req, &resp);
  });
}

namespace {

class GrpcWatch : public Watch {
 public:
  GrpcWatch(Client::Impl* impl, size_t member, pb::WatchRequest req) : impl_(impl), member_(member) {
    Member* m = &impl->members[member];
    stream_ = m->watch->Watch(&ctx_);
    if (!stream_->Write(req)) {
      MoveOn();
      std::lock_guard<std::mutex> lock(mu_);
      error_ = Status::Unavailable("etcd watch: cannot open the stream on " + m->target);
      return;
    }
    reader_ = std::thread([this] { Read(); });
  }
  ~GrpcWatch() override {
    closing_ = true;  // the stream's end is ours, not the member's fault
    ctx_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds wait) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !batches_.empty() || !error_.ok(); });
    if (!batches_.empty()) {
      auto b = std::move(batches_.front());
      batches_.pop_front();
      return b;
    }
    if (!error_.ok()) return error_;
    return std::vector<WatchEvent>();
  }

 private:
  void Read() {
    pb::WatchResponse resp;
    Status end = Status::Unavailable("etcd watch: stream ended");
    while (stream_->Read(&resp)) {
      if (resp.compact_revision() != 0) {
        end = Status::Precondition("etcd watch: history compacted up to revision " +
                                   std::to_string(resp.compact_revision()));
        break;
      }
      if (resp.canceled()) {
        end = Status::Unavailable("etcd watch cancelled: " + resp.cancel_reason());
        break;
      }
      if (resp.events_size() == 0) continue;  // created / progress
      std::vector<WatchEvent> batch;
      batch.reserve(resp.events_size());
      for (const auto& e : resp.events())
        batch.push_back({e.type() == mvccpb::Event::PUT, FromPb(e.kv())});
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(std::move(batch));
      cv_.notify_all();
    }
    // The member is gone or cut off: the next watch goes to another one.
    if (end.code() == Code::kUnavailable && !closing_) MoveOn();
    std::lock_guard<std::mutex> lock(mu_);
    error_ = end;
    cv_.notify_all();
  }

  void MoveOn() {
    size_t expected = member_;
    impl_->current.compare_exchange_strong(expected, (member_ + 1) % impl_->members.size());
  }

  Client::Impl* impl_;
  const size_t member_;
  std::atomic<bool> closing_{false};
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<WatchEvent>> batches_;  // GUARDED_BY(mu_)
  Status error_;                                // GUARDED_BY(mu_)
};

class GrpcLeaseKeeper : public LeaseKeeper {
 public:
  GrpcLeaseKeeper(Client::Impl* impl, int64_t lease, int64_t ttl_s)
      : impl_(impl), lease_(lease), ttl_(std::chrono::seconds(ttl_s)) {
    confirmed_until_ = Clock::now() + ttl_;
    thread_ = std::thread([this] { Run(); });
  }
  ~GrpcLeaseKeeper() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool lost() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_ || Clock::now() >= confirmed_until_;
  }
  int64_t lease() const override { return lease_; }

 private:
  void Run() {
    const auto period = std::chrono::milliseconds(ttl_) / 3;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_ && !lost_) {
      lock.unlock();
      auto sent = Clock::now();
      int64_t ttl = -1;
      Status s = impl_->Call("lease keep-alive", [&](Member& m, grpc::ClientContext& ctx) {
        auto stream = m.lease->LeaseKeepAlive(&ctx);
        pb::LeaseKeepAliveRequest req;
        req.set_id(lease_);
        pb::LeaseKeepAliveResponse resp;
        if (!stream->Write(req) || !stream->Read(&resp)) return stream->Finish();
        ttl = resp.ttl();
        stream->WritesDone();
        ctx.TryCancel();
        return grpc::Status::OK;
      });
      lock.lock();
      if (s.ok() && ttl <= 0) {
        lost_ = true;  // expired or revoked
      } else if (s.ok()) {
        confirmed_until_ = sent + std::chrono::seconds(ttl);
      }
      if (Clock::now() >= confirmed_until_) lost_ = true;
      if (lost_) spdlog::warn("etcd lease {:x} lost", lease_);
      cv_.wait_for(lock, period, [&] { return stop_; });
    }
  }

  Client::Impl* impl_;
  const int64_t lease_;
  const std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Clock::time_point confirmed_until_;  // GUARDED_BY(mu_)
  bool lost_ = false;                  // GUARDED_BY(mu_)
  bool stop_ = false;                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Watch>> Client::WatchRange(const std::string& key, const std::string& end,
                                                  int64_t start_revision) {
  pb::WatchRequest req;
  auto* c = req.mutable_create_request();
  c->set_key(key);
  if (!end.empty()) c->set_range_end(end);
  c->set_start_revision(start_revision);
  size_t i = impl_->current.load() % impl_->members.size();
  auto w = std::make_unique<GrpcWatch>(impl_.get(), i, std::move(req));
  return std::unique_ptr<Watch>(std::move(w));
}

std::unique_ptr<LeaseKeeper> Client::KeepAlive(int64_t lease, int64_t ttl_s) {
  return std::make_unique<GrpcLeaseKeeper>(impl_.get(), lease, ttl_s);
}

}  // namespace cc::etcd

#include "api/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "api/http_util.h"
#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"
#include "codec/canonical_json.h"
#include "codec/varint.h"
#include "ledger/proof.h"

namespace cc::api {
namespace {

constexpr int kListenBacklog = 1024;

constexpr const char* kHex64 = "([0-9a-fA-F]{64})";

}  // namespace

Server::Server(Chain* chain, Orderer* orderer, Metrics* metrics, ApiOptions options, OffchainServices offchain)
    : chain_(chain),
      orderer_(orderer),
      metrics_(metrics),
      options_(std::move(options)),
      gatekeeper_(offchain.gatekeeper),
      documents_(offchain.documents),
      wearables_(offchain.wearables),
      review_texts_(offchain.review_texts),
      authenticator_(Clock::System(), AuthenticatorOptions::Sized(options_.signature_window_s,
                                                                  options_.max_registered_nonces,
                                                                  options_.max_unregistered_nonces)),
      concurrent_(options_.max_concurrent_requests_per_address),
      per_actor_(Clock::System(), options_.requests_per_s_per_actor, 2 * options_.requests_per_s_per_actor),
      per_address_(Clock::System(), options_.requests_per_s_per_address,
                   2 * options_.requests_per_s_per_address),
      pack_checks_(Clock::System(), options_.pack_checks_per_s_per_address,
                   2 * options_.pack_checks_per_s_per_address) {
  if (options_.tls_cert_file.empty()) {
    http_ = std::make_unique<httplib::Server>();
  } else {
    http_ = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                 options_.tls_key_file.c_str());
  }
  if (wearables_) research_ = std::make_unique<offchain::ResearchDesk>(wearables_, Clock::System());
  chain_->OnCommit([this](const BlockPtr& b) { OnCommit(b); });
}

Server::~Server() { Stop(); }

Status Server::Start() {
  if (!http_->is_valid()) {
    return Status::Invalid("cannot load the TLS certificate " + options_.tls_cert_file + " and key " +
                           options_.tls_key_file + " (PEM files, the key matching the certificate)");
  }
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(100000);
  // Short: an idle keep-alive connection holds a pool thread, and a stop
  // waits for it to time out.
  http_->set_keep_alive_timeout(5);
  // httplib writes a response's headers and body separately: without
  // TCP_NODELAY, Nagle + the client's delayed ACK add ~40 ms to every
  // request on a kept-alive connection.
  http_->set_tcp_nodelay(true);
  http_->set_read_timeout(10, 0);
  http_->set_write_timeout(10, 0);
  Routes();
  CC_RETURN_IF_ERROR(MountPortal());
  // Series that exist from the start (a scraper sees zeros, not gaps).
  metrics_->Counter("carechain_http_requests_total", "status=\"200\"");
  metrics_->Counter("carechain_tx_admitted_total");
  metrics_->Counter("carechain_blocks_committed_total");
  // Debian's cpp-httplib is a compiled library that listens with a backlog
  // of 5 whatever CPPHTTPLIB_LISTEN_BACKLOG says here: with more clients
  // connecting at once, the kernel drops SYNs and a client waits its 1 s
  // retransmission. Keep the listening socket and listen again, deeper
  // (Linux updates the backlog of a listening socket).
  int listen_fd = -1;
  http_->set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) return Status::IOError("cannot bind the API to " + options_.host);
  } else {
    if (!http_->bind_to_port(options_.host, options_.port)) {
      return Status::IOError("cannot bind the API to " + options_.host + ":" + std::to_string(options_.port));
    }
    port_ = options_.port;
  }
  authenticator_.SetAuthorities(options_.authorities.empty()
                                    ? DefaultAuthorities(options_.host, port_, !options_.tls_cert_file.empty())
                                    : options_.authorities);
  if (listen_fd >= 0 && ::listen(listen_fd, kListenBacklog) != 0)
    spdlog::warn("could not deepen the API's listen backlog: {}", std::strerror(errno));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so
  // that a Stop() right after Start() cannot leave the thread in accept().
  while (!http_->is_running()) std::this_thread::yield();
  return Status::Ok();
}

void Server::Stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    chain_->Shutdown();  // release long polls and ?wait=commit requests
    http_->stop();
    thread_.join();
  }
}

namespace {
thread_local uint64_t t_request_start_us = 0;

// "/v1/actors/<64 hex>/nonce" -> "/v1/actors/{id}/nonce".
std::string MaskIds(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = i;
    while (j < path.size() && std::isxdigit(static_cast<unsigned char>(path[j]))) ++j;
    if (j - i >= 16) {
      out += "{id}";
    } else {
      out.append(path, i, j - i);
      if (j < path.size()) out += path[j];
      ++j;
    }
    i = j;
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}
// The address whose concurrent-request slot this pool thread holds, if any.
thread_local std::string t_slot_address;
thread_local bool t_holds_slot = false;
}  // namespace

void Server::Routes() {
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start_us = Clock::System()->MonotonicUs();
    if (t_holds_slot) {  // the previous request on this thread ended without the logger
      concurrent_.Release(t_slot_address);
      t_holds_slot = false;
    }
    // One address may not occupy the whole pool (long polls, ?wait=commit,
    // slow uploads): a bound on its concurrent requests.
    if (!concurrent_.Acquire(req.remote_addr)) {
      metrics_->Counter("carechain_http_refused_total", "reason=\"concurrency\"")++;
      ReplyError(res, 429, "rate_limited", "too many concurrent requests from this address");
      return httplib::Server::HandlerResponse::Handled;
    }
    t_slot_address = req.remote_addr;
    t_holds_slot = true;
    // Per address, before the body is read: the cheapest refusal.
    if (!per_address_.Allow(req.remote_addr)) {
      metrics_->Counter("carechain_http_refused_total", "reason=\"rate_address\"")++;
      ReplyError(res, 429, "rate_limited", "too many requests from this address; slow down");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (t_holds_slot) {
      concurrent_.Release(t_slot_address);
      t_holds_slot = false;
    }
    if (t_request_start_us != 0) {
      metrics_->request_latency().Observe(
          static_cast<double>(Clock::System()->MonotonicUs() - t_request_start_us) / 1e6);
      t_request_start_us = 0;  // requests refused before routing are not timed
    }
    metrics_->Counter("carechain_http_requests_total", "status=\"" + std::to_string(res.status) + "\"")++;
    if (res.status >= 400) {
      // Log every refusal, but not whose: keys and ids in the path are
      // pseudonymous personal data, so they are masked (and the query and
      // body are never logged).
      spdlog::info("{} {} -> {}", req.method, MaskIds(req.path), res.status);
    }
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote a JSON error
    if (res.status == 404) {
      ReplyError(res, 404, "not_found", "no such endpoint: " + req.method + " " + req.path);
    } else if (res.status == 413) {
      ReplyError(res, 413, "too_large", "request body is too large");
    } else {
      ReplyError(res, res.status, "http_error", "request refused with HTTP " + std::to_string(res.status));
    }
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("handler failed: {}", what);
    ReplyError(res, 500, "internal", "internal error");
  });

  http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    if (!orderer_->healthy()) {
      nlohmann::json d = orderer_->Describe();
      if (d.value("diverged", false)) {
        return ReplyJson(res, {{"status", "diverged"}, {"height", chain_->head().height},
                               {"message", d.value("alarm", "this node's chain differs from the network's")}},
                         503);
      }
      return ReplyJson(res, {{"status", "failed"}, {"height", chain_->head().height},
                             {"message", "ordering stopped after a failed commit; see the log"}}, 503);
    }
    ReplyJson(res, {{"status", "ok"}, {"height", chain_->head().height}});
  });
  // Patients scanning the code on their medicine: unsigned, rate-limited.
  http_->Get("/v1/packs/check", [this](const httplib::Request& q, httplib::Response& r) { PackCheck(q, r); });
  http_->Get("/metrics", Authed([this](const httplib::Request&, httplib::Response& res, const Principal& c) {
    if (!Refuse(res, Authorize(c, Operation::kReadMetrics), "policy")) return;
    metrics_->SetGauge("carechain_block_height", static_cast<double>(chain_->head().height));
    metrics_->SetGauge("carechain_mempool_size", static_cast<double>(orderer_->PendingCount()));
    nlohmann::json d = orderer_->Describe();
    if (d["ordering"] == "etcd") {
      metrics_->SetGauge("carechain_is_proposer", d.value("proposer", false) ? 1 : 0);
      metrics_->SetGauge("carechain_divergence_alarm", d.value("diverged", false) ? 1 : 0);
      metrics_->SetGauge("carechain_certified_height", d.value("last_certified", 0.0));
    }
    res.set_content(metrics_->Render(), "text/plain; version=0.0.4");
  }));
  http_->Get("/v1/info", Authed([this](const httplib::Request&, httplib::Response& res, const Principal& c) {
    if (!Refuse(res, Authorize(c, Operation::kInfo), "policy")) return;
    ReplyJson(res, Info());
  }));
  http_->Post("/v1/transactions", Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) {
    if (!Refuse(r, Authorize(c, Operation::kSubmit), "policy")) return;
    Submit(q, r);
  }));
  http_->Post("/v1/transactions/batch",
             Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) {
               if (!Refuse(r, Authorize(c, Operation::kSubmit), "policy")) return;
               SubmitBatch(q, r);
             }));
  http_->Get(std::string("/v1/transactions/") + kHex64,
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) { GetTx(q, r, c); }));
  http_->Get(R"(/v1/blocks/(latest|\d{1,19}))",
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) {
              if (!Refuse(r, Authorize(c, Operation::kReadChain), "policy")) return;
              GetBlock(q, r);
            }));
  http_->Get(R"(/v1/checkpoints/(\d{1,19}))",
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) {
              if (!Refuse(r, Authorize(c, Operation::kReadChain), "policy")) return;
              auto info = orderer_->CheckpointInfo(std::strtoull(q.matches[1].str().c_str(), nullptr, 10));
              if (!info.ok()) return ReplyError(r, info.status());
              ReplyJson(r, *info);
            }));
  http_->Get(std::string("/v1/proofs/") + kHex64,
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) { GetProof(q, r, c); }));
  http_->Get(std::string("/v1/actors/") + kHex64 + "/nonce",
            Authed([this](const httplib::Request& req, httplib::Response& res, const Principal& c) {
              PublicKey k = *PublicKey::FromHex(req.matches[1].str());
              if (!Refuse(res, Authorize(c, Operation::kReadNonce, {k, {}, ""}), "policy")) return;
              ReplyJson(res, {{"actor", k.hex()}, {"next_nonce", orderer_->NextNonce(k)}});
            }));
  http_->Get(R"(/v1/state/([a-z0-9_]{1,32}))",
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) {
              if (!Refuse(r, Authorize(c, Operation::kReadState), "policy")) return;
              GetState(q, r);
            }));
  http_->Get(R"(/v1/modules/([a-z0-9_]{1,32})/(.+))",
            Authed([this](const httplib::Request& q, httplib::Response& r, const Principal& c) { ModuleQuery(q, r, c); }));
  RecordRoutes();
  ColdchainRoutes();
  WearablesRoutes();
  ResearchRoutes();
  ReviewsRoutes();
}

// The portal's files are static and public; the pages sign every API call
// in the browser. The headers keep them from loading anything but their own
// files and from being framed.
Status Server::MountPortal() {
  if (options_.portal_dir.empty()) return Status::Ok();
  if (!std::filesystem::is_regular_file(options_.portal_dir + "/index.html"))
    return Status::Invalid("the portal folder " + options_.portal_dir + " holds no index.html (build it: scripts/build-web)");
  if (!http_->set_mount_point("/", options_.portal_dir))
    return Status::Invalid("cannot serve the portal folder " + options_.portal_dir);
  http_->set_file_request_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' "
                   "'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
  });
  return Status::Ok();
}

bool Server::Refuse(httplib::Response& res, const Status& s, std::string_view reason) {
  if (s.ok()) return true;
  metrics_->Counter("carechain_http_refused_total", "reason=\"" + std::string(reason) + "\"")++;
  ReplyError(res, s);
  return false;
}

httplib::Server::Handler Server::Authed(AuthedHandler h) {
  return [this, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    // The signature covers the request target as sent (not URL-decoded).
    std::string_view target = req.target;
    size_t q = target.find('?');
    RequestView view{req.method, target.substr(0, q),
                     q == std::string_view::npos ? std::string_view() : target.substr(q + 1), req.body,
                     [&req](std::string_view name) { return req.get_header_value(std::string(name)); }};
    std::optional<Principal> who;  // resolved once, before the nonce is kept
    auto key = authenticator_.Authenticate(view, req.get_header_value("Host"), [&](const PublicKey& k) {
      who = ResolvePrincipal(chain_->store(), k);
      return who->active || who->node;
    });
    if (!Refuse(res, key.status(), key.status().code() == Code::kUnavailable ? "nonces" : "unauthenticated")) return;
    if (!per_actor_.Allow(std::string(AsChars(key->view())))) {
      metrics_->Counter("carechain_http_refused_total", "reason=\"rate_actor\"")++;
      ReplyError(res, 429, "rate_limited", "too many requests from this key; slow down");
      return;
    }
    h(req, res, who ? *who : ResolvePrincipal(chain_->store(), *key));
  };
}

nlohmann::json Server::Info() const {
  ChainHead h = chain_->head();
  const Genesis& g = chain_->executor().genesis();
  nlohmann::json ordering = orderer_->Describe();
  nlohmann::json j = {{"chain_id", g.chain_id},   {"genesis_hash", g.hash.hex()}, {"height", h.height},
                      {"head_hash", h.hash.hex()}, {"state_root", h.digest.Root().hex()},
                      {"node_key", chain_->node_key().hex()}, {"ordering", ordering["ordering"]},
                      {"max_tx_bytes", g.params.max_tx_bytes}, {"version", "0.1.0"}};
  if (ordering.size() > 1) j["cluster"] = std::move(ordering);
  return j;
}

Status Server::Admit(const TxPtr& tx) {
  Status s = chain_->executor().CheckTx(*tx);
  // The cheap refusals before the signature check (a node forwarding what
  // the proposer has, or a client retrying what committed).
  if (s.ok() && orderer_->IsPending(tx->id())) s = Status::Exists("transaction " + tx->id().hex() + " is already pending");
  if (s.ok() && Executor::LastNonce(chain_->store(), tx->body().actor) >= tx->body().nonce) {
    s = Status::Precondition("nonce " + std::to_string(tx->body().nonce) + " was already used");
  }
  if (s.ok() && !tx->VerifySignature()) s = Status::Invalid("bad signature");
  if (s.ok()) {
    const ActorAuthority* auth = chain_->executor().modules().authority();
    if (auth && !auth->IsActive(chain_->store(), tx->body().actor)) {
      s = Status::Denied("actor " + tx->body().actor.hex() + " is not registered or is revoked");
    }
  }
  if (s.ok()) {
    uint64_t now = Clock::System()->MonotonicUs();
    bool inserted;
    {
      std::lock_guard<std::mutex> lock(admitted_mu_);
      // Bounded: entries of dropped transactions are never erased otherwise.
      if (admitted_us_.size() > 2'000'000) admitted_us_.clear();
      inserted = admitted_us_.emplace(tx->id(), now).second;
    }
    s = orderer_->Submit(tx);
    if (!s.ok() && inserted) {
      std::lock_guard<std::mutex> lock(admitted_mu_);
      admitted_us_.erase(tx->id());
    }
  }
  if (s.ok()) {
    metrics_->Counter("carechain_tx_admitted_total")++;
  } else {
    metrics_->Counter("carechain_tx_refused_total", "reason=\"" + std::string(CodeName(s.code())) + "\"")++;
  }
  return s;
}

void Server::OnCommit(const BlockPtr& block) {
  uint64_t now = Clock::System()->MonotonicUs();
  {
    std::lock_guard<std::mutex> lock(admitted_mu_);
    for (const auto& tx : block->txs()) {
      auto it = admitted_us_.find(tx->id());
      if (it == admitted_us_.end()) continue;
      metrics_->commit_latency().Observe(static_cast<double>(now - it->second) / 1e6);
      admitted_us_.erase(it);
    }
  }
  metrics_->Counter("carechain_blocks_committed_total")++;
  metrics_->Counter("carechain_tx_committed_total") += block->txs().size();
}

void Server::Submit(const httplib::Request& req, httplib::Response& res) {
  Result<TxPtr> tx = Status::Invalid("empty body");
  std::string type = req.get_header_value("Content-Type");
  if (type.starts_with("application/octet-stream")) {
    tx = Transaction::Decode(req.body);
  } else if (type.empty() || type.starts_with("application/json")) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded()) return ReplyError(res, Status::Invalid("body is not valid JSON"));
    tx = Transaction::FromJson(j);
  } else {
    return ReplyError(res, 415, "unsupported_media_type",
                      "send application/json or application/octet-stream");
  }
  if (!tx.ok()) return ReplyError(res, tx.status());
  Status s = Admit(*tx);
  if (!s.ok()) return ReplyError(res, s);
  const TxId id = (*tx)->id();
  if (WantsCommitWait(req)) WaitCommitted(id);
  nlohmann::json st = TxStatus(id, /*with_tx=*/false);
  ReplyJson(res, st, st["status"] == "committed" ? 200 : 202);
}

bool Server::WaitCommitted(const TxId& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.max_wait_ms);
  uint64_t seen = chain_->head().height;
  while (!stopping_ && !chain_->store().FindTx(id) && orderer_->IsPending(id) &&
         std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    seen = chain_->WaitForHeight(seen + 1, std::min(left, std::chrono::milliseconds(200)));
  }
  return chain_->store().FindTx(id).has_value();
}

Result<TxId> Server::SubmitAsNode(std::string_view module, std::string_view action,
                                  const nlohmann::json& payload) {
  CC_ASSIGN_OR_RETURN(std::string canonical, codec::ToCanonicalJson(payload));
  std::lock_guard<std::mutex> lock(node_submit_mu_);
  TxBody b;
  b.chain_id = chain_->executor().genesis().chain_id;
  b.nonce = orderer_->NextNonce(chain_->node_key());
  b.module = std::string(module);
  b.action = std::string(action);
  b.payload = std::move(canonical);
  TxPtr tx = chain_->SignAsNode(std::move(b));
  CC_RETURN_IF_ERROR(Admit(tx));
  return tx->id();
}

// Body: a sequence of (varint length, encoded transaction). Each is admitted
// on its own; the reply lists every id with "pending" or its error.
void Server::SubmitBatch(const httplib::Request& req, httplib::Response& res) {
  codec::Reader r(req.body);
  nlohmann::json results = nlohmann::json::array();
  size_t accepted = 0;
  while (r.remaining() > 0) {
    std::string_view raw;
    Status s = r.Bytes("batch.tx", kMaxEncodedTxBytes, &raw);
    if (!s.ok()) {
      results.push_back({{"error", {{"code", CodeName(s.code())}, {"message", s.message()}}}});
      break;  // framing is lost
    }
    auto tx = Transaction::Decode(raw);
    if (tx.ok()) s = Admit(*tx); else s = tx.status();
    if (s.ok()) {
      accepted++;
      results.push_back({{"id", (*tx)->id().hex()}, {"status", "pending"}});
    } else {
      nlohmann::json e = {{"error", {{"code", CodeName(s.code())}, {"message", s.message()}}}};
      if (tx.ok()) e["id"] = (*tx)->id().hex();
      results.push_back(std::move(e));
    }
  }
  ReplyJson(res, {{"accepted", accepted}, {"results", std::move(results)}}, accepted ? 202 : 400);
}

nlohmann::json Server::TxStatus(const TxId& id, bool with_tx) const {
  auto loc = chain_->store().FindTx(id);
  if (!loc) {
    return {{"id", id.hex()}, {"status", orderer_->IsPending(id) ? "pending" : "unknown"}};
  }
  nlohmann::json j = {{"id", id.hex()}, {"status", "committed"}, {"height", loc->height}, {"index", loc->index}};
  auto block = chain_->store().GetBlock(loc->height);
  if (block.ok() && (loc->index >= (*block)->txs().size() || (*block)->txs()[loc->index]->id() != id)) {
    return {{"id", id.hex()}, {"status", "corrupt"},
            {"message", "the transaction index points at another transaction; run carechain verify"}};
  }
  if (block.ok()) {
    const TxResult& r = (*block)->results()[loc->index];
    j["block_hash"] = (*block)->hash().hex();
    j["block_time_ms"] = (*block)->header().time_ms;
    j["result"] = {{"code", TxCodeName(r.code)}, {"detail", r.detail}};
    if (with_tx) j["tx"] = (*block)->txs()[loc->index]->ToJson();
  }
  return j;
}

void Server::GetTx(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  TxId id = *TxId::FromHex(req.matches[1].str());
  nlohmann::json st = TxStatus(id, /*with_tx=*/true);
  // Chain readers see every transaction; others only their own, and learn
  // nothing about the existence of the rest.
  if (!Authorize(caller, Operation::kReadChain).ok()) {
    std::optional<PublicKey> signer;
    if (st.contains("tx")) signer = PublicKey::FromHex(st["tx"]["actor"].get<std::string>());
    if (!signer || !Authorize(caller, Operation::kReadOwnTx, {signer, {}, ""}).ok()) {
      return ReplyError(res, Status::NotFound("no transaction " + id.hex() + " that this key may read"));
    }
  }
  if (st["status"] == "corrupt") return ReplyError(res, Status::Corruption(st["message"]));
  if (st["status"] == "unknown") return ReplyError(res, Status::NotFound("no transaction " + id.hex()));
  ReplyJson(res, st);
}

void Server::GetBlock(const httplib::Request& req, httplib::Response& res) {
  std::string which = req.matches[1].str();
  uint64_t head = chain_->head().height;
  uint64_t height = which == "latest" ? head : std::strtoull(which.c_str(), nullptr, 10);
  if (height > head && req.has_param("wait_ms")) {
    // Long poll: followers and load drivers wait for the next block.
    uint64_t wait = std::min<uint64_t>(std::strtoull(Param(req, "wait_ms").c_str(), nullptr, 10),
                                       options_.max_wait_ms);
    head = chain_->WaitForHeight(height, std::chrono::milliseconds(wait));
  }
  if (height > head) {
    return ReplyError(res, Status::NotFound("no block " + which + "; the head is at " + std::to_string(head)));
  }
  if (Param(req, "format") == "binary") {
    auto raw = chain_->store().GetBlockRaw(height);
    if (!raw.ok()) return ReplyError(res, raw.status());
    res.set_content(*raw, "application/octet-stream");
    return;
  }
  auto block = chain_->store().GetBlock(height);
  if (!block.ok()) return ReplyError(res, block.status());
  ReplyJson(res, (*block)->ToJson(Param(req, "txs") == "full"));
}

void Server::GetProof(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  TxId id = *TxId::FromHex(req.matches[1].str());
  auto loc = chain_->store().FindTx(id);
  if (!loc) return ReplyError(res, Status::NotFound("transaction " + id.hex() + " is not committed"));
  auto block = chain_->store().GetBlock(loc->height);
  if (!block.ok()) return ReplyError(res, block.status());
  if (loc->index >= (*block)->txs().size() || (*block)->txs()[loc->index]->id() != id) {
    return ReplyError(res, Status::Corruption("the transaction index points at another transaction"));
  }
  const PublicKey signer = (*block)->txs()[loc->index]->body().actor;
  if (!Authorize(caller, Operation::kReadOwnTx, {signer, {}, ""}).ok()) {
    return ReplyError(res, Status::NotFound("transaction " + id.hex() + " is not committed"));
  }
  ReplyJson(res, MakeProof(**block, loc->index));
}

void Server::GetState(const httplib::Request& req, httplib::Response& res) {
  std::string module = req.matches[1].str();
  if (!chain_->executor().modules().Find(module) && module != "ledger") {
    return ReplyError(res, Status::NotFound("no module '" + module + "'"));
  }
  std::string prefix = module + "/" + Param(req, "prefix");
  std::string start = req.has_param("after") ? module + "/" + Param(req, "after") + std::string(1, '\0') : "";
  size_t limit = std::clamp<size_t>(std::strtoull(Param(req, "limit", "100").c_str(), nullptr, 10), 1, 1000);
  nlohmann::json entries = nlohmann::json::array();
  std::string last;
  chain_->store().Scan(prefix, start, [&](std::string_view k, std::string_view v) {
    nlohmann::json value = nlohmann::json::parse(v, nullptr, false);
    if (value.is_discarded()) value = {{"hex", ToHex(AsBytes(v))}};
    last = std::string(k.substr(module.size() + 1));
    entries.push_back({{"key", last}, {"value", std::move(value)}});
    return entries.size() < limit;
  });
  nlohmann::json out = {{"module", module}, {"entries", std::move(entries)}};
  if (out["entries"].size() == limit) out["next_after"] = last;
  ReplyJson(res, out);
}

void Server::ModuleQuery(const httplib::Request& req, httplib::Response& res, const Principal& caller) {
  const Module* m = chain_->executor().modules().Find(req.matches[1].str());
  if (!m) return ReplyError(res, Status::NotFound("no module '" + req.matches[1].str() + "'"));
  QueryParams params;
  for (const auto& [k, v] : req.params) params[k] = v;
  const std::string path = req.matches[2].str();
  Status allowed = AuthorizeQuery(m->name(), path, &params, caller);
  if (!allowed.ok() && allowed.code() != Code::kPermissionDenied) return ReplyError(res, allowed);
  if (!Refuse(res, allowed, "policy")) return;
  auto r = m->Query(req.matches[2].str(), params, chain_->store());
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, *r);
}

// The public check reveals only the verdict: not the pack's owner, history,
// batch or expiry, nor whether a code of a real GTIN exists beyond
// "unknown_serial".
void Server::PackCheck(const httplib::Request& req, httplib::Response& res) {
  if (!pack_checks_.Allow(req.remote_addr)) {
    metrics_->Counter("carechain_http_refused_total", "reason=\"rate_pack_check\"")++;
    return ReplyError(res, 429, "rate_limited", "too many pack checks from this address; slow down");
  }
  if (!req.has_param("code")) return ReplyError(res, Status::Invalid("give the pack's code as ?code="));
  auto code = supply::Parse(req.get_param_value("code"));
  if (!code.ok()) return ReplyError(res, code.status());
  supply::Verdict v = supply::Check(chain_->store(), code->gtin, code->serial, code->batch, code->expiry,
                                    Clock::System()->NowMs());
  metrics_->Counter("carechain_pack_checks_total", "verdict=\"" + v.verdict + "\"")++;
  ReplyJson(res, {{"verdict", v.verdict}});
}

}  // namespace cc::api

#include "api/http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cc::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// The JSON error the server writes itself. `message` is fixed text of ours,
// never request bytes, so it needs no escaping beyond what it has.
std::string ErrorBody(std::string_view code, std::string_view message) {
  return "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}";
}

std::string Seconds(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// A connection as the server's bookkeeping sees it.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Re-polls a parked reply or stream (`stopping`: the server drains).
  virtual void Poke(bool stopping) = 0;
  // Closes the connection if it waits for a next request.
  virtual void CloseIfIdle() = 0;
};

struct Server::Impl {
  Impl(ServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)), tick(ioc) {}

  ServerOptions options;
  Handler handler;
  std::function<void(const Served&)> on_served;
  int port = 0;
  std::atomic<bool> draining{false};

  // Declared before the event loop: connections still queued in it when it
  // is destroyed release themselves here.
  std::mutex mu;
  std::condition_variable all_closed;
  int open = 0;                                            // GUARDED_BY(mu)
  std::unordered_map<std::string, int> per_address;        // GUARDED_BY(mu)
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // GUARDED_BY(mu)
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> parked;    // GUARDED_BY(mu)
  std::optional<ssl::context> tls;

  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  net::steady_timer tick;
  std::vector<std::thread> threads;

  // Counts a new connection from `addr`; false (and nothing counted) over a limit.
  bool Admit(const std::string& addr) {
    std::lock_guard<std::mutex> lock(mu);
    if (open >= options.max_connections) return false;
    int& n = per_address[addr];
    if (n >= options.max_connections_per_address) {
      if (n == 0) per_address.erase(addr);
      return false;
    }
    ++n;
    ++open;
    return true;
  }

  void Release(SessionBase* s, const std::string& addr) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(s);
    parked.erase(s);
    auto it = per_address.find(addr);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
    if (--open == 0) all_closed.notify_all();
  }

  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.emplace(s.get(), s);
  }

  void Park(const std::shared_ptr<SessionBase>& s, bool on) {
    std::lock_guard<std::mutex> lock(mu);
    if (on) parked.emplace(s.get(), s); else parked.erase(s.get());
  }

  std::vector<std::shared_ptr<SessionBase>> Snapshot(bool only_parked) {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [_, w] : only_parked ? parked : sessions) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  void PokeAll(bool stopping) {
    for (auto& s : Snapshot(/*only_parked=*/true)) s->Poke(stopping);
  }

  void Tick() {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([this](beast::error_code ec) {
      if (ec || draining) return;
      PokeAll(false);
      Tick();
    });
  }

  void Accept();
  template <typename Stream>
  void StartSession(Stream stream, std::string addr);
  // A connection over a limit: a fixed 429 and close (plain HTTP), or just close.
  void Reject(tcp::socket socket);
};

namespace {

// One connection. `Stream` is beast::tcp_stream or an ssl_stream over it.
// Every step runs on the connection's strand.
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl* server, Stream stream, std::string addr)
      : server_(server), stream_(std::move(stream)), addr_(std::move(addr)),
        deadline_timer_(stream_.get_executor()), read_timer_(stream_.get_executor()) {}

  ~Session() override {
    if (stream_reply_ && stream_reply_->closed) stream_reply_->closed();
    server_->Release(this, addr_);
  }

  void Run() {
    if constexpr (kTls) {
      Lowest().expires_after(server_->options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->ReadIdle();
                              });
    } else {
      ReadIdle();
    }
  }

  void Poke(bool stopping) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), stopping] {
      if (self->deferred_) self->PollDeferred(stopping);
      else if (self->stream_reply_) self->PollStream(stopping);
    });
  }

  void CloseIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) Lowest(self->stream_).socket().close();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  static beast::tcp_stream& Lowest(Stream& s) {
    if constexpr (kTls) return beast::get_lowest_layer(s); else return s;
  }
  beast::tcp_stream& Lowest() { return Lowest(stream_); }

  // Waits for the first byte of the next request (keep-alive), holding no thread.
  // Waits for the first byte of the next request (keep-alive), holding no
  // thread and, on plain TCP, no buffer: an idle connection costs its socket
  // and this object.
  void ReadIdle() {
    if (buffer_.size() > 0) return ReadHeader();
    if (server_->draining) return Close();
    request_ = Request{};
    response_ = Response{};
    buffer_.shrink_to_fit();
    idle_ = true;
    auto woken = [self = this->shared_from_this()](beast::error_code ec, size_t n = 0) {
      self->idle_ = false;
      self->read_timer_.cancel();
      if (ec) return self->Close();  // idle time-out, the client closed, or a drain
      self->buffer_.commit(n);
      self->ReadHeader();
    };
    ArmReadTimer(server_->options.keepalive_timeout);
    if constexpr (kTls) {
      // Decrypted bytes may wait inside the TLS layer: read, not just wait.
      stream_.async_read_some(buffer_.prepare(1024), woken);
    } else {
      stream_.socket().async_wait(tcp::socket::wait_read, [woken](beast::error_code ec) mutable { woken(ec); });
    }
  }

  void ReadHeader() {
    started_ = SteadyClock::now();
    request_ = Request{};
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    ArmReadTimer(server_->options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_timer_.cancel();
      self->OnHeader(ec);
    });
  }

  void ArmReadTimer(std::chrono::milliseconds d) {
    Lowest().expires_never();
    timed_out_ = false;
    read_timer_.expires_after(d);
    read_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the read finished in time
      self->timed_out_ = true;
      beast::error_code e;
      Lowest(self->stream_).socket().cancel(e);
    });
  }

  // Maps a read error to the reply it deserves; false if the connection is
  // gone and only closing is left.
  bool FailRead(beast::error_code ec, bool in_body) {
    const auto& o = server_->options;
    if (timed_out_ && ec == net::error::operation_aborted) {
      Fail(408, "request_timeout",
           in_body ? "the request body did not arrive within " + Seconds(o.body_timeout)
                   : "the request line and headers did not arrive within " + Seconds(o.header_timeout));
    } else if (ec == bhttp::error::header_limit) {
      Fail(431, "headers_too_large",
           "the request line and headers exceed " + std::to_string(o.max_header_bytes) + " bytes");
    } else if (ec == bhttp::error::body_limit) {
      Fail(413, "too_large", "request body is too large (at most " + std::to_string(o.max_body_bytes) + " bytes)");
    } else if (ec == bhttp::error::partial_message) {
      // The client half-closed mid-request: it may still read the answer.
      Fail(400, "bad_request", in_body ? "the request ended before its body was complete"
                                       : "the request ended before its headers were complete");
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
               ec != bhttp::error::end_of_stream) {
      Fail(400, "bad_request", "malformed HTTP request (" + ec.message() + ")");
    } else {
      Close();  // the client closed or reset the connection
      return false;
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      FailRead(ec, /*in_body=*/false);
      return;
    }
    auto& msg = parser_->get();
    size_t fields = 0;
    for (auto it = msg.begin(); it != msg.end(); ++it) ++fields;
    if (fields > server_->options.max_headers) {
      return Fail(431, "too_many_headers",
                  "more than " + std::to_string(server_->options.max_headers) + " header fields");
    }
    if (parser_->is_done()) return Dispatch();
    if (Lower(msg[bhttp::field::expect]) == "100-continue") {
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      Lowest().expires_after(server_->options.write_timeout);
      net::async_write(stream_, net::buffer(*cont), [self = this->shared_from_this(), cont](beast::error_code e, size_t) {
        if (e) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    ArmReadTimer(server_->options.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_timer_.cancel();
      if (ec) {
        self->FailRead(ec, /*in_body=*/true);
        return;
      }
      self->Dispatch();
    });
  }

  void Dispatch() {
    Lowest().expires_never();
    auto msg = parser_->release();
    parser_.reset();
    request_.method = std::string(msg.method_string());
    SetTarget(&request_, std::string(msg.target()));
    request_.headers.reserve(16);
    for (const auto& f : msg) request_.headers.emplace_back(Lower(f.name_string()), std::string(f.value()));
    request_.body = std::move(msg.body());
    request_.remote_addr = addr_;
    keep_alive_ = msg.keep_alive() && !server_->draining;
    response_ = Response{};
    try {
      server_->handler(request_, response_);
    } catch (const std::exception&) {
      response_ = Response{};
      response_.status = 500;
      response_.SetContent(ErrorBody("internal", "internal error"), "application/json");
    }
    if (response_.deferred) {
      deferred_ = response_.deferred;
      response_.deferred.reset();
      server_->Park(this->shared_from_this(), true);
      deadline_timer_.expires_at(deferred_->deadline);
      deadline_timer_.async_wait([self = this->shared_from_this()](beast::error_code e) {
        if (!e && self->deferred_) self->PollDeferred(/*final=*/true);
      });
      return PollDeferred(server_->draining);  // it may be ready already
    }
    if (response_.stream) return BeginStream();
    Write();
  }

  void PollDeferred(bool final) {
    auto d = deferred_;
    final = final || SteadyClock::now() >= d->deadline;
    bool done = false;
    try {
      done = d->poll(response_, final) || final;
    } catch (const std::exception&) {
      response_ = Response{};
      response_.status = 500;
      response_.SetContent(ErrorBody("internal", "internal error"), "application/json");
      done = true;
    }
    if (!done) return;
    deferred_.reset();
    deadline_timer_.cancel();
    server_->Park(this->shared_from_this(), false);
    Write();
  }

  void Write() {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response_.status));
    res->reason(Reason(response_.status));
    for (auto& [k, v] : response_.headers) res->insert(k, v);
    if (!response_.content_type.empty()) res->set(bhttp::field::content_type, response_.content_type);
    res->body() = std::move(response_.body);
    res->keep_alive(keep_alive_ && !server_->draining);
    res->prepare_payload();
    const bool keep = res->keep_alive();
    Lowest().expires_after(server_->options.write_timeout);
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res, keep](beast::error_code ec, size_t) {
      self->Served(res->result_int());
      if (ec || !keep) return self->Close();
      self->ReadIdle();
    });
  }

  void Served(int status) {
    if (!server_->on_served) return;
    double s = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    server_->on_served(http::Served{request_, status, s});
  }

  // A reply the server writes itself; the connection closes after it.
  void Fail(int status, std::string_view code, const std::string& message) {
    keep_alive_ = false;
    linger_ = true;
    response_ = Response{};
    response_.status = status;
    response_.SetContent(ErrorBody(code, message), "application/json");
    if (status == 408 || status == 429) response_.SetHeader("Retry-After", "1");
    Write();
  }

  void BeginStream() {
    stream_reply_ = response_.stream;
    server_->Park(this->shared_from_this(), true);
    // A pending read holds the connection while the stream waits for events,
    // and ends it when the client goes (or sends anything more).
    auto gone = [self = this->shared_from_this()](beast::error_code, size_t = 0) {
      if (!self->stream_reply_) return;
      self->EndStream();
      self->Close();
    };
    if constexpr (kTls) {
      stream_.async_read_some(buffer_.prepare(1024), gone);
    } else {
      stream_.socket().async_wait(tcp::socket::wait_read, [gone](beast::error_code ec) mutable { gone(ec); });
    }
    std::string head = "HTTP/1.1 " + std::to_string(response_.status) + " " + std::string(Reason(response_.status)) +
                       "\r\nContent-Type: " + response_.content_type + "\r\nTransfer-Encoding: chunked\r\n";
    for (auto& [k, v] : response_.headers) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";
    Served(response_.status);
    SendRaw(std::move(head), /*last=*/false);
  }

  // After each write of a stream: what is due now goes out at once.
  void AfterStreamWrite() {
    if (stream_reply_) PollStream(server_->draining);
  }

  void PollStream(bool stopping) {
    if (writing_ || !stream_reply_) return;  // the next poke comes within a second
    std::string data;
    bool more = false;
    try {
      more = stream_reply_->next(&data, stopping) && !stopping;
    } catch (const std::exception&) {
      more = false;
    }
    std::string out;
    if (!data.empty()) {
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      out = size + data + "\r\n";
    }
    if (!more) {
      out += "0\r\n\r\n";
      EndStream();
    }
    if (!out.empty()) SendRaw(std::move(out), !more);
  }

  void EndStream() {
    if (!stream_reply_) return;
    if (stream_reply_->closed) stream_reply_->closed();
    stream_reply_.reset();
    server_->Park(this->shared_from_this(), false);
  }

  void SendRaw(std::string bytes, bool last) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    writing_ = true;
    Lowest().expires_after(server_->options.write_timeout);
    net::async_write(stream_, net::buffer(*data), [self = this->shared_from_this(), data, last](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) {
        self->EndStream();
        return self->Close();
      }
      if (last) return self->Close();
      self->AfterStreamWrite();
    });
  }

  void Close() {
    EndStream();
    if (deferred_) {
      deferred_.reset();
      deadline_timer_.cancel();
      server_->Park(this->shared_from_this(), false);
    }
    beast::error_code ec;
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code e;
        Lowest(self->stream_).socket().close(e);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (linger_) return Linger();
      stream_.socket().close(ec);
    }
  }

  // After an error reply (nginx's lingering close): reads and drops what the
  // client still sends, up to 1 MiB for at most 2 s, so that closing with
  // unread bytes does not reset the connection and destroy the reply.
  void Linger() {
    linger_ = false;
    ArmReadTimer(std::chrono::seconds(2));
    LingerRead(std::make_shared<std::array<char, 4096>>(), 0);
  }
  void LingerRead(std::shared_ptr<std::array<char, 4096>> buf, size_t total) {
    Lowest().socket().async_read_some(net::buffer(*buf), [self = this->shared_from_this(), buf, total](
                                                            beast::error_code ec, size_t n) {
      if (ec || total + n > (1u << 20)) {
        self->read_timer_.cancel();
        beast::error_code e;
        Lowest(self->stream_).socket().close(e);
        return;
      }
      self->LingerRead(buf, total + n);
    });
  }

  Server::Impl* server_;
  Stream stream_;
  const std::string addr_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  Response response_;
  std::shared_ptr<Deferred> deferred_;
  std::shared_ptr<http::Stream> stream_reply_;
  net::steady_timer deadline_timer_;
  // The header and body deadlines. Not the stream's own expiry, which closes
  // the socket: a request that is too slow still gets its 408.
  net::steady_timer read_timer_;
  bool timed_out_ = false;
  SteadyClock::time_point started_ = SteadyClock::now();
  bool keep_alive_ = true;
  bool linger_ = false;  // the server's own error reply: close lingering
  bool idle_ = false;
  bool writing_ = false;
};

}  // namespace

template <typename Stream>
void Server::Impl::StartSession(Stream stream, std::string addr) {
  auto s = std::make_shared<Session<Stream>>(this, std::move(stream), std::move(addr));
  Register(s);
  s->Run();
}

void Server::Impl::Reject(tcp::socket socket) {
  if (tls) return;  // no TLS session to answer in: the socket closes
  auto sock = std::make_shared<tcp::socket>(std::move(socket));
  static const std::string kReply = [] {
    std::string body = ErrorBody("rate_limited", "too many open connections from this address or in total");
    return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
           "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  net::async_write(*sock, net::buffer(kReply), [sock](beast::error_code, size_t) {
    beast::error_code ec;
    sock->shutdown(tcp::socket::shutdown_send, ec);
    sock->close(ec);
  });
}

void Server::Impl::Accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec && !draining) {
      beast::error_code e;
      auto remote = socket.remote_endpoint(e);
      std::string addr = e ? "" : remote.address().to_string();
      if (!Admit(addr)) {
        Reject(std::move(socket));
      } else {
        socket.set_option(tcp::no_delay(true), e);
        if (tls) {
          StartSession(beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), addr);
        } else {
          StartSession(beast::tcp_stream(std::move(socket)), addr);
        }
      }
    }
    Accept();
  });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

void Server::OnServed(std::function<void(const Served&)> f) { impl_->on_served = std::move(f); }

Status Server::Start() {
  Impl& m = *impl_;
  const ServerOptions& o = m.options;
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    m.tls.emplace(ssl::context::tls_server);
    m.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    m.tls->use_certificate_chain_file(o.tls_cert_file, ec);
    if (!ec) m.tls->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(m.tls->native_handle()) != 1) {
      return Status::Invalid("cannot load the TLS certificate " + o.tls_cert_file + " and key " + o.tls_key_file +
                             " (PEM files, the key matching the certificate)");
    }
  }
  // Each connection is a descriptor: allow as many as the hard limit does
  // (max_connections is the bound that counts).
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  beast::error_code ec;
  auto address = net::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
  if (ec) return Status::Invalid("the API's host must be an IP address, not '" + o.host + "'");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
  m.acceptor.emplace(m.ioc);
  m.acceptor->open(endpoint.protocol(), ec);
  if (!ec) m.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor->bind(endpoint, ec);
  if (!ec) m.acceptor->listen(o.backlog, ec);
  if (ec) return Status::IOError("cannot bind the API to " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  m.port = m.acceptor->local_endpoint().port();
  m.Accept();
  m.Tick();
  for (int i = 0; i < std::max(1, o.threads); ++i) {
    m.threads.emplace_back([&m] { m.ioc.run(); });
  }
  return Status::Ok();
}

void Server::Stop() {
  Impl& m = *impl_;
  if (m.threads.empty()) return;
  m.draining = true;
  net::post(m.ioc, [&m] {
    beast::error_code ec;
    if (m.acceptor) m.acceptor->close(ec);
    m.tick.cancel();
  });
  m.PokeAll(/*stopping=*/true);
  for (auto& s : m.Snapshot(/*only_parked=*/false)) s->CloseIfIdle();
  {
    std::unique_lock<std::mutex> lock(m.mu);
    m.all_closed.wait_for(lock, m.options.drain_timeout, [&m] { return m.open == 0; });
  }
  m.ioc.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
}

void Server::Wake() {
  if (!impl_->threads.empty()) impl_->PokeAll(/*stopping=*/false);
}

int Server::port() const { return impl_->port; }
bool Server::tls() const { return impl_->tls.has_value(); }
int Server::connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->open;
}

}  // namespace cc::http

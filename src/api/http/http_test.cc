// The HTTP adapter over real loopback sockets: deadlines, limits, parked
// replies, streams, drain, and the client's retries.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "api/http/client.h"
#include "api/http/server.h"

namespace cc::http {
namespace {

using namespace std::chrono_literals;

// A raw TCP connection, for what no well-behaved client sends.
class RawConn {
 public:
  explicit RawConn(int port, const char* from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConn() { ::close(fd_); }
  bool connected() const { return connected_; }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void Send(std::string_view s) { ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
  // Everything until the server closes (or 10 s pass).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Until `marker` arrived.
  std::string ReadUntil(std::string_view marker) {
    std::string out;
    char buf[4096];
    while (out.find(marker) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class HttpTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions o, Server::Handler h) {
    server_ = std::make_unique<Server>(std::move(o), std::move(h));
    ASSERT_TRUE(server_->Start().ok());
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void Echo(ServerOptions o = {}) {
    StartServer(o, [](Request& q, Response& r) {
      r.SetContent(q.method + " " + q.path + " " + q.Param("x") + " " + q.body, "text/plain");
    });
  }
  std::unique_ptr<Server> server_;
};

TEST_F(HttpTest, ServesRequestsOnOneKeptAliveConnection) {
  Echo();
  Client c(Url());
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/a%20b?x=1+2", "body" + std::to_string(i), "text/plain");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /a b 1 2 body" + std::to_string(i));
  }
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(HttpTest, SlowHeadersGet408WithJson) {
  ServerOptions o;
  o.header_timeout = 200ms;
  Echo(o);
  RawConn raw(server_->port());
  raw.Send("GET / HTTP/1.1\r\nHo");
  std::string reply = raw.ReadAll();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 408")) << reply;
  EXPECT_NE(reply.find("\"code\":\"request_timeout\""), std::string::npos) << reply;
}

TEST_F(HttpTest, SlowBodyGets408) {
  ServerOptions o;
  o.body_timeout = 200ms;
  Echo(o);
  RawConn raw(server_->port());
  raw.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  std::string reply = raw.ReadAll();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 408")) << reply;
  EXPECT_NE(reply.find("request body did not arrive"), std::string::npos) << reply;
}

TEST_F(HttpTest, TooManyOrTooLargeHeadersGet431) {
  ServerOptions o;
  o.max_headers = 20;
  Echo(o);
  {
    RawConn raw(server_->port());
    std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 50; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
    raw.Send(req + "\r\n");
    std::string reply = raw.ReadAll();
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 431")) << reply;
    EXPECT_NE(reply.find("too_many_headers"), std::string::npos);
  }
  {
    RawConn raw(server_->port());
    raw.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    std::string reply = raw.ReadAll();
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 431")) << reply;
  }
}

TEST_F(HttpTest, RandomBytesGet400WithBody) {
  Echo();
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::string junk(200, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    junk += "\r\n\r\n";
    RawConn raw(server_->port());
    raw.Send(junk);
    std::string reply = raw.ReadAll();
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << i << ": " << reply.substr(0, 80);
    EXPECT_NE(reply.find("\"code\":\"bad_request\""), std::string::npos);
  }
}

TEST_F(HttpTest, ARequestCutShortByAHalfCloseGets400) {
  Echo();
  RawConn raw(server_->port());
  raw.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"chain");
  raw.ShutdownWrite();
  std::string reply = raw.ReadAll();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << reply;
  EXPECT_NE(reply.find("before its body was complete"), std::string::npos) << reply;
}

TEST_F(HttpTest, LargeBodyGets413) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  Echo(o);
  Client c(Url());
  auto r = c.Post("/", std::string(5000, 'x'), "text/plain");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpTest, ConnectionsOverThePerAddressCapGet429) {
  ServerOptions o;
  o.max_connections_per_address = 3;
  Echo(o);
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawConn>(server_->port()));
  // The server counts a connection once it accepted it: a request on each proves it.
  for (auto& h : held) {
    h->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(h->ReadUntil("\r\n\r\n").find("200 OK"), std::string::npos);
  }
  RawConn over(server_->port());
  std::string reply = over.ReadAll();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 429")) << reply;
  EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos);
  // Another address is still served.
  RawConn other(server_->port(), "127.0.0.2");
  other.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(other.ReadAll().starts_with("HTTP/1.1 200"));
}

TEST_F(HttpTest, DeferredReplyWaitsForWakeWithoutAThread) {
  std::atomic<bool> ready{false};
  ServerOptions o;
  o.threads = 1;  // a parked reply must not hold the only thread
  StartServer(o, [&](Request& q, Response& r) {
    if (q.path == "/now") return r.SetContent("now", "text/plain");
    r.Defer(std::chrono::steady_clock::now() + 30s, [&](Response& res, bool final) {
      if (!ready && !final) return false;
      res.SetContent(final && !ready ? "late" : "woken", "text/plain");
      return true;
    });
  });
  std::thread waiter([&] {
    Client c(Url());
    auto r = c.Get("/wait");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "woken");
  });
  Client other(Url());
  auto now = other.Get("/now");  // served while the other request is parked
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->body, "now");
  ready = true;
  server_->Wake();
  waiter.join();
}

TEST_F(HttpTest, DeferredReplyGetsItsFinalPollAtTheDeadline) {
  StartServer({}, [](Request&, Response& r) {
    r.Defer(std::chrono::steady_clock::now() + 100ms, [](Response& res, bool final) {
      if (!final) return false;
      res.status = 202;
      res.SetContent("deadline", "text/plain");
      return true;
    });
  });
  Client c(Url());
  auto r = c.Get("/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->body, "deadline");
}

TEST_F(HttpTest, StreamSendsChunksAndEndsOnStop) {
  std::atomic<int> sent{0};
  std::atomic<bool> closed{false};
  StartServer({}, [&](Request&, Response& r) {
    r.StartStream("text/event-stream", {[&](std::string* out, bool stopping) {
                                          if (!stopping && sent < 2) *out = "data: " + std::to_string(sent++) + "\n\n";
                                          return true;
                                        },
                                        [&] { closed = true; }});
  });
  RawConn raw(server_->port());
  raw.Send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n");
  server_->Wake();
  server_->Wake();
  std::string got = raw.ReadUntil("data: 1");
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("data: 0"), std::string::npos);
  server_->Stop();
  EXPECT_TRUE(closed);
}

// Regression: a stream with nothing to send yet was dropped (nothing held
// its connection), so events raised later never arrived.
TEST_F(HttpTest, IdleStreamStaysOpenForLaterEventsAndEndsWhenTheClientGoes) {
  std::atomic<bool> ready{false};
  std::atomic<bool> closed{false};
  StartServer({}, [&](Request&, Response& r) {
    r.StartStream("text/event-stream", {[&](std::string* out, bool) {
                                          if (ready.exchange(false)) *out = "data: later\n\n";
                                          return true;
                                        },
                                        [&] { closed = true; }});
  });
  {
    RawConn raw(server_->port());
    raw.Send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(raw.ReadUntil("\r\n\r\n").find("200 OK"), std::string::npos);
    ready = true;
    server_->Wake();
    EXPECT_NE(raw.ReadUntil("data: later").find("data: later"), std::string::npos);
    EXPECT_FALSE(closed);
  }
  // The client went: the stream ends (an event, awaited by polling its flag).
  for (int i = 0; i < 1000 && (!closed || server_->connections() != 0); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_->connections(), 0);  // released just after the stream's end
}

TEST_F(HttpTest, StopLetsParkedRequestsFinishAndRefusesNewOnes) {
  std::atomic<bool> entered{false};
  StartServer({}, [&](Request&, Response& r) {
    entered = true;
    r.Defer(std::chrono::steady_clock::now() + 30s, [](Response& res, bool final) {
      if (!final) return false;
      res.SetContent("drained", "text/plain");
      return true;
    });
  });
  const int port = server_->port();
  RawConn raw(port);
  raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (!entered) std::this_thread::sleep_for(1ms);
  std::thread stopper([&] { server_->Stop(); });
  std::string reply = raw.ReadAll();
  stopper.join();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply;
  EXPECT_NE(reply.find("drained"), std::string::npos);
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  RawConn late(port);
  EXPECT_FALSE(late.connected());
}

TEST_F(HttpTest, ClientRetriesAfterRetryAfterAndSignsEachAttempt) {
  std::atomic<int> calls{0};
  StartServer({}, [&](Request& q, Response& r) {
    if (calls++ == 0) {
      r.status = 429;
      r.SetHeader("Retry-After", "0");
      return;
    }
    r.SetContent(q.Header("x-sig") + " " + q.Header("host"), "text/plain");
  });
  int signed_times = 0;
  Client c(Url(), {}, [&](std::string_view, std::string_view authority, std::string_view, std::string_view) {
    return Headers{{"X-Sig", std::to_string(++signed_times) + "@" + std::string(authority)}};
  });
  auto r = c.Get("/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  const std::string auth = "127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(r->body, "2@" + auth + " " + auth);
}

TEST_F(HttpTest, ClientReconnectsWhenTheServerClosedAnIdleConnection) {
  ServerOptions o;
  o.keepalive_timeout = 100ms;
  Echo(o);
  Client c(Url());
  ASSERT_TRUE(c.Get("/1").ok());
  // Wait for the server to close the idle connection (an event: the count drops).
  while (server_->connections() != 0) std::this_thread::sleep_for(10ms);
  auto r = c.Get("/2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "GET /2  ");
}

TEST_F(HttpTest, ClientReportsAnUnreachableServer) {
  Client c("http://127.0.0.1:1");
  auto r = c.Get("/");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  Client bad("ftp://x");
  EXPECT_EQ(bad.Get("/").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cc::http

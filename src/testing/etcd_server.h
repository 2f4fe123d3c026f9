// A one-member etcd for tests: Debian's /usr/bin/etcd (etcd-server 3.4) in a
// fresh folder under /tmp, on free ports of 127.0.0.1, its output in
// DIR/etcd.log. Header-only; compiled only into unit_tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ordering/etcd_client.h"
#include "util/status.h"

namespace cc::testing {

inline constexpr const char* kEtcdBinary = "/usr/bin/etcd";

// Polls `done` every `every` until it holds or `within` has passed; returns
// its last answer. For waiting on an event with a deadline.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds within,
                      std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(every);
  }
  return true;
}

// A TCP port of 127.0.0.1 that was free a moment ago (bound to port 0, then
// closed). Another process may take it before we do: callers retry.
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
inline bool PortOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return open;
}

class EtcdServer {
 public:
  // Starts a member and waits (up to `ready_within`) until it answers a
  // Range. Tries fresh ports a few times if a start fails (a port taken in
  // between). The error says why, with the end of etcd's log.
  static Result<std::unique_ptr<EtcdServer>> Start(
      std::chrono::milliseconds ready_within = std::chrono::seconds(30)) {
    if (::access(kEtcdBinary, X_OK) != 0)
      return Status::Unavailable(std::string(kEtcdBinary) +
                                 " not found: scripts/deps installs Debian's etcd-server");
    Status last = Status::Unavailable("etcd did not start");
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::unique_ptr<EtcdServer> s(new EtcdServer());
      last = s->Launch(ready_within);
      if (last.ok()) return s;
    }
    return last;
  }

  ~EtcdServer() {
    Kill();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // "http://127.0.0.1:PORT"
  const std::string& endpoint() const { return endpoint_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string log_path() const { return (dir_ / "etcd.log").string(); }

  // The last `bytes` of etcd's log, for failure messages.
  std::string LogTail(size_t bytes = 2000) const {
    std::ifstream in(log_path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string all = ss.str();
    return all.size() > bytes ? all.substr(all.size() - bytes) : all;
  }

 private:
  EtcdServer() = default;

  Status Launch(std::chrono::milliseconds ready_within) {
    char tmpl[] = "/tmp/carechain-etcd-XXXXXX";
    if (!::mkdtemp(tmpl)) return Status::IOError(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    const int client_port = FreePort();
    int peer_port = FreePort();
    while (peer_port == client_port) peer_port = FreePort();
    if (client_port == 0 || peer_port == 0) return Status::IOError("no free port on 127.0.0.1");
    const std::string client_url = "http://127.0.0.1:" + std::to_string(client_port);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
    endpoint_ = client_url;

    // Everything the child needs is prepared before fork(): after it, only
    // async-signal-safe calls (this process has threads).
    std::vector<std::string> args = {kEtcdBinary,
                                     "--name", "test",
                                     "--data-dir", (dir_ / "data").string(),
                                     "--listen-client-urls", client_url,
                                     "--advertise-client-urls", client_url,
                                     "--listen-peer-urls", peer_url,
                                     "--initial-advertise-peer-urls", peer_url,
                                     "--initial-cluster", "test=" + peer_url,
                                     "--initial-cluster-state", "new",
                                     "--initial-cluster-token", "carechain-unit-test",
                                     "--listen-metrics-urls", "",
                                     "--logger", "zap",
                                     "--log-outputs", "stderr"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = log_path();
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // Dies with the test binary, should it crash before TearDown.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;

    // Ready: the client port accepts connections (cheap to poll), then a
    // Range is answered (etcd serves clients once it leads and has
    // published itself).
    const auto deadline = std::chrono::steady_clock::now() + ready_within;
    auto time_left = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    };
    bool exited = false;
    bool open = WaitUntil([&] { return (exited = Exited()) || PortOpen(client_port); }, time_left());
    if (exited) return Failed("etcd exited during start-up");
    if (!open) return Failed("etcd's client port did not open in time");
    etcd::Options o;
    o.endpoints = {endpoint_};
    o.timeout = std::chrono::milliseconds(1000);
    auto client = etcd::Client::Connect(o);
    if (!client.ok()) return Failed("cannot connect: " + client.status().ToString());
    Status range = Status::Unavailable("no answer yet");
    bool ready = WaitUntil(
        [&] {
          if ((exited = Exited())) return true;
          auto r = (*client)->Range("/ready-probe", "");
          range = r.status();
          return r.ok();
        },
        time_left(), std::chrono::milliseconds(50));
    if (exited) return Failed("etcd exited during start-up");
    if (!ready) return Failed("etcd did not answer a Range in time: " + range.ToString());
    return Status::Ok();
  }

  // Whether the child has exited (and then reaps it).
  bool Exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return true;
    }
    return false;
  }

  Status Failed(const std::string& why) {
    std::string tail = LogTail();
    Kill();
    return Status::Unavailable(why + " (" + endpoint_ + ", log " + log_path() + "):\n" + tail);
  }

  // SIGTERM, then SIGKILL if it has not gone within 5 s.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!WaitUntil([&] { return Exited(); }, std::chrono::seconds(5), std::chrono::milliseconds(10))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = 0;
  }

  pid_t pid_ = 0;
  std::filesystem::path dir_;
  std::string endpoint_;
};

}  // namespace cc::testing

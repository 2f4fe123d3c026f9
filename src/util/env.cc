#include "util/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cc {
namespace {

class SystemClock : public Clock {
 public:
  uint64_t NowMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  uint64_t MonotonicUs() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Clock* Clock::System() {
  static SystemClock clock;
  return &clock;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode,
                       bool overwrite) {
  if (!overwrite && std::filesystem::exists(path)) {
    return Status::Exists(path + " already exists");
  }
  // A fresh temp file: O_EXCL|O_NOFOLLOW, so nothing planted at a
  // predictable name (a symlink) is followed or reused.
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Errno("cannot create", tmp);
  auto fail = [&](const char* what) {
    Status st = Errno(what, tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  };
  // mkostemp creates 0600; set the bits we were asked for exactly.
  if (::fchmod(fd, mode) != 0) return fail("cannot chmod");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  ::close(fd);
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      Status st = Errno("cannot rename to", path);
      ::unlink(tmp.c_str());
      return st;
    }
  } else {
    // link() fails if `path` appeared meanwhile: never clobber.
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      errno = err;
      if (err == EEXIST) return Status::Exists(path + " already exists");
      return Errno("cannot link to", path);
    }
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ss.str();
}

}  // namespace cc

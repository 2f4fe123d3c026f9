// Time and file access behind a small interface, so that tests can freeze the
// clock or fail a write (LevelDB's Env).
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace cc {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall clock).
  virtual uint64_t NowMs() const = 0;
  // Monotonic microseconds, for latency measurements.
  virtual uint64_t MonotonicUs() const = 0;
  static Clock* System();
};

// A clock tests set by hand.
class ManualClock : public Clock {
 public:
  explicit ManualClock(uint64_t now_ms) : now_ms_(now_ms) {}
  uint64_t NowMs() const override { return now_ms_; }
  uint64_t MonotonicUs() const override { return now_ms_ * 1000; }
  void Advance(uint64_t ms) { now_ms_ += ms; }

 private:
  uint64_t now_ms_;
};

// Writes `data` to `path` atomically (temp file, fsync, rename, fsync of the
// directory) with the given permission bits. Fails if `path` exists and
// `overwrite` is false.
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode,
                       bool overwrite);
Result<std::string> ReadFile(const std::string& path);

}  // namespace cc

// State views for execution and queries.
//
// Keys are byte strings "<module>/<kind>/<id>"; values are the module's
// canonical encoding (usually canonical JSON). Reads of the committed store
// that fail are fatal (fail-stop): execution must never turn an I/O error
// into a different transaction result on one node.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cc {

// An ordered set of writes; nullopt marks a deletion.
using WriteSet = std::map<std::string, std::optional<std::string>, std::less<>>;

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  // Calls fn(key, value) for every key starting with `prefix`, in key order,
  // from `start` (inclusive, empty = the prefix itself) until fn returns false.
  virtual void Scan(std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const = 0;
};

// Writes buffered on top of a reader. Not thread-safe.
class Overlay : public StateReader {
 public:
  explicit Overlay(const StateReader* base) : base_(base) {}

  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix, std::string_view start,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  void Put(std::string_view key, std::string value) { writes_[std::string(key)] = std::move(value); }
  void Delete(std::string_view key) { writes_[std::string(key)] = std::nullopt; }

  const WriteSet& writes() const { return writes_; }
  // Moves `child`'s writes into this overlay (a transaction's writes into its block's).
  void Absorb(Overlay&& child);

 private:
  const StateReader* base_;
  WriteSet writes_;
};

// A read-through cache of point reads over a committed store, kept current
// by Apply() with each committed block's writes. Scans go to the base. Not
// thread-safe: the committing thread owns it.
class CachedReader : public StateReader {
 public:
  CachedReader(const StateReader* base, size_t capacity) : base_(base), capacity_(capacity) {}
  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix, std::string_view start,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    base_->Scan(prefix, start, fn);
  }
  // REQUIRES: `writes` were just committed to the base.
  void Apply(const WriteSet& writes);

 private:
  const StateReader* base_;
  const size_t capacity_;
  mutable std::unordered_map<std::string, std::optional<std::string>> cache_;
};

// A whole state in memory (tests, `carechain verify`).
class MemState : public StateReader {
 public:
  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix, std::string_view start,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  void Apply(const WriteSet& writes);
  const std::map<std::string, std::string, std::less<>>& entries() const { return map_; }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};

}  // namespace cc

#include "ledger/state.h"

namespace cc {

std::optional<std::string> Overlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_->Get(key);
}

void Overlay::Scan(std::string_view prefix, std::string_view start,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const {
  // Merge the base's entries with ours; ours win.
  std::string from(start.empty() ? prefix : start);
  auto w = writes_.lower_bound(from);
  auto in_prefix = [&](std::string_view k) { return k.substr(0, prefix.size()) == prefix; };
  bool stop = false;
  base_->Scan(prefix, start, [&](std::string_view k, std::string_view v) {
    for (; w != writes_.end() && in_prefix(w->first) && w->first < k; ++w) {
      if (w->second && !fn(w->first, *w->second)) { stop = true; return false; }
    }
    if (w != writes_.end() && w->first == k) {
      bool go = !w->second || fn(k, *w->second);
      ++w;
      if (!go) stop = true;
      return go;
    }
    if (!fn(k, v)) { stop = true; return false; }
    return true;
  });
  if (stop) return;
  for (; w != writes_.end() && in_prefix(w->first); ++w) {
    if (w->second && !fn(w->first, *w->second)) return;
  }
}

void Overlay::Absorb(Overlay&& child) {
  for (auto& [k, v] : child.writes_) writes_[k] = std::move(v);
  child.writes_.clear();
}

std::optional<std::string> CachedReader::Get(std::string_view key) const {
  std::string k(key);
  auto it = cache_.find(k);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= capacity_) cache_.clear();  // crude bound; hot keys come back at once
  auto v = base_->Get(key);
  cache_.emplace(std::move(k), v);
  return v;
}

void CachedReader::Apply(const WriteSet& writes) {
  if (cache_.size() + writes.size() > capacity_) cache_.clear();
  for (const auto& [k, v] : writes) cache_[k] = v;
}

std::optional<std::string> MemState::Get(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void MemState::Scan(std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  for (auto it = map_.lower_bound(start.empty() ? prefix : start);
       it != map_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix; ++it) {
    if (!fn(it->first, it->second)) return;
  }
}

void MemState::Apply(const WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    if (v) map_[k] = *v; else map_.erase(k);
  }
}

}  // namespace cc

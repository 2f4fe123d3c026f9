#include "ledger/module.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>

namespace cc {

std::optional<nlohmann::json> ReadJsonObject(const StateReader& state, std::string_view key) {
  auto v = state.Get(key);
  if (!v) return std::nullopt;
  auto j = nlohmann::json::parse(*v, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

size_t LimitParam(const QueryParams& params, size_t fallback) {
  auto it = params.find("limit");
  if (it == params.end()) return fallback;
  return std::clamp<size_t>(std::strtoull(it->second.c_str(), nullptr, 10), 1, 1000);
}

void ModuleRegistry::Add(std::unique_ptr<Module> m) {
  assert(Find(m->name()) == nullptr);
  modules_.push_back(std::move(m));
}

const Module* ModuleRegistry::Find(std::string_view name) const {
  for (const auto& m : modules_) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

}  // namespace cc

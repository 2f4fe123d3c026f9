#include "ledger/module.h"

#include <cassert>

namespace cc {

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

// The list of application modules compiled into the node.
#pragma once

#include "ledger/module.h"

namespace cc::apps {

// Adds every module to `registry` and installs the actor authority.
void RegisterAll(ModuleRegistry* registry);

}  // namespace cc::apps

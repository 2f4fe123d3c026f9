#include "apps/registry.h"

#include "apps/coldchain/coldchain.h"
#include "apps/identity/identity.h"
#include "apps/records/records.h"
#include "apps/research/research.h"
#include "apps/reviews/reviews.h"
#include "apps/supply/supply.h"
#include "apps/token/token.h"
#include "apps/wearables/wearables.h"

namespace cc::apps {

void RegisterAll(ModuleRegistry* registry) {
  auto identity = std::make_unique<identity::IdentityModule>();
  registry->SetAuthority(identity.get());
  registry->Add(std::move(identity));
  registry->Add(std::make_unique<records::RecordsModule>());
  registry->Add(std::make_unique<supply::SupplyModule>());
  registry->Add(std::make_unique<coldchain::ColdchainModule>());
  registry->Add(std::make_unique<wearables::WearablesModule>());
  registry->Add(std::make_unique<research::ResearchModule>());
  registry->Add(std::make_unique<token::TokenModule>());
  registry->Add(std::make_unique<reviews::ReviewsModule>());
}

}  // namespace cc::apps

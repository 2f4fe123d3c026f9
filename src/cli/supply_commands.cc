#include "cli/supply_commands.h"

#include <memory>

#include "apps/supply/gs1.h"
#include "cli/common.h"

namespace cc::cli {
void AddSupplyCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* sup = app->add_subcommand("supply", "Medicine packs: check a scanned code, show a pack's history");
  sup->require_subcommand(1);
  auto code = std::make_shared<std::string>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };

  auto* check = sup->add_subcommand(
      "check", "Ask a node whether a pack is authentic (the public check: unsigned, the verdict only)");
  check->add_option("--node", *node, "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
  check->add_option("--cacert", *ca_file, "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
  check->add_option("code", *code,
                    "The pack's GS1 code: (01)…(21)…, the scanned element string, or a GS1 Digital Link URI")
      ->required();
  check->callback([=] {
    // Refuse a malformed code here, with the parser's reason.
    if (auto c = supply::Parse(*code); !c.ok()) {
      *rc = Fail(c.status());
      return;
    }
    auto r = ConnectUnsigned(conn()).Get("/v1/packs/check?code=" + supply::PercentEncode(*code));
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });

  auto* show = sup->add_subcommand("show", "A pack's owner, status, verdict and history (signed; the supply chain's staff)");
  show->add_option("--node", *node, "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
  show->add_option("--cacert", *ca_file, "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
  show->add_option("--key,-k", *key, "Your key file: signs the request (default: $CARECHAIN_KEY)");
  show->add_option("code", *code, "The pack's GS1 code (any form)")->required();
  show->callback([=] {
    auto c = supply::Parse(*code);
    if (!c.ok()) {
      *rc = Fail(c.status());
      return;
    }
    *rc = GetAndPrint(conn(), "/v1/modules/supply/packs/" + c->gtin + "/" + supply::PercentEncode(c->serial));
  });
}

}  // namespace cc::cli

#include "cli/token_commands.h"

#include <memory>

#include "apps/token/token.h"
#include "cli/common.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string account, to, memo, from_org, after;
  uint64_t amount = 0;
  bool wait = false;
};

// --account, else the signing key's own account.
Result<std::string> AccountOf(const Conn& c, const Opts& o) {
  if (!o.account.empty()) return o.account;
  return OwnKeyHex(c);
}

}  // namespace

void AddTokenCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* token = app->add_subcommand("token", "The network's token: balances, histories, transfers");
  token->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c) { AddConnOptions(c, node, ca_file, key); };
  auto account_opt = [=](CLI::App* c) {
    c->add_option("--account", o->account, "An actor's key or org:<organisation> (default: your own)");
  };

  auto* info = token->add_subcommand("info", "The token's symbol, supply and treasury");
  add_conn(info);
  info->callback([=] { *rc = GetAndPrint(conn(), "/v1/modules/token/meta"); });

  auto* balance = token->add_subcommand("balance", "An account's balance");
  add_conn(balance);
  account_opt(balance);
  balance->callback([=] {
    auto a = AccountOf(conn(), *o);
    *rc = a.ok() ? GetAndPrint(conn(), "/v1/modules/token/accounts/" + *a) : Fail(a.status());
  });

  auto* history = token->add_subcommand("history", "An account's movements, oldest first");
  add_conn(history);
  account_opt(history);
  history->add_option("--after", o->after, "Continue after this entry (the previous page's next_after)");
  history->callback([=] {
    auto a = AccountOf(conn(), *o);
    if (!a.ok()) return void(*rc = Fail(a.status()));
    *rc = GetAndPrint(conn(), "/v1/modules/token/accounts/" + *a + "/history" +
                                  (o->after.empty() ? "" : "?after=" + o->after));
  });

  auto* transfer = token->add_subcommand("transfer", "Transfer tokens you hold (or, as its admin, an organisation's)");
  add_conn(transfer);
  transfer->add_option("--to", o->to, "The receiver: an actor's key or org:<organisation>")->required();
  transfer->add_option("--amount", o->amount, "Whole tokens")->required()->check(CLI::Range(uint64_t{1}, token::kMaxSupply));
  transfer->add_option("--memo", o->memo, "A note kept with the transfer (on chain: no personal data)");
  transfer->add_option("--from-org", o->from_org, "Pay from this organisation's account (you are its admin)");
  transfer->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  transfer->callback([=] {
    nlohmann::json p = {{"to", o->to}, {"amount", o->amount}};
    if (!o->memo.empty()) p["memo"] = o->memo;
    if (!o->from_org.empty()) p["from_org"] = o->from_org;
    *rc = PrintReply(SubmitAction(conn(), token::kModule, "transfer", p, o->wait));
  });
}

}  // namespace cc::cli

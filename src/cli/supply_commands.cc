#include "cli/supply_commands.h"

#include <algorithm>
#include <memory>
#include <set>

#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"
#include "cli/common.h"
#include "cli/pack_file.h"
#include "cli/qr_label.h"
#include "crypto/keys.h"
#include "util/env.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string code, file, to, id, prefix, org, gtin, batch, reason;
  std::vector<std::string> codes, cases;
  std::string png, svg, form = "link", resolver = "https://id.gs1.org";
  int scale = 8;
  bool wait = false;
};

// A code as it may be shown in a message: control characters (GS) visible.
std::string Shown(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '\x1d') {
      out += "<GS>";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

Result<supply::PackCode> ParseCode(std::string_view code) {
  auto c = supply::Parse(code);
  if (!c.ok()) return Status::Invalid("pack code '" + Shown(code) + "': " + c.status().message());
  return c;
}

std::string Name(const supply::PackCode& p) { return "pack " + p.gtin + " serial " + p.serial; }

// Every code parsed, none named twice.
Result<std::vector<supply::PackCode>> ParseCodes(const std::vector<std::string>& codes) {
  std::vector<supply::PackCode> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& code : codes) {
    CC_ASSIGN_OR_RETURN(supply::PackCode p, ParseCode(code));
    if (!seen.emplace(p.gtin, p.serial).second) return Status::Invalid(Name(p) + " is named twice");
    out.push_back(std::move(p));
  }
  return out;
}

nlohmann::json Refs(const std::vector<supply::PackCode>& packs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : packs) out.push_back({{"gtin", p.gtin}, {"serial", p.serial}});
  return out;
}

// A transfer or case id: 32 hex digits, or a new random one if empty.
Result<std::string> IdOrNew(const std::string& flag, const std::string& id) {
  if (id.empty()) {
    uint8_t b[16];
    crypto::Init();
    RandomBytes(b, sizeof b);
    return ToHex(ByteView(b, sizeof b));
  }
  auto bytes = FromHex(id);
  if (!bytes || bytes->size() != 16) return Status::Invalid(flag + " must be 32 hex digits");
  return ToHex(*bytes);
}

// Signs and sends one supply transaction.
Result<nlohmann::json> Send(const Conn& c, const std::string& action, const nlohmann::json& payload,
                            bool wait) {
  return SubmitAction(c, supply::kModule, action, payload, wait);
}

// Why a committed transaction was rejected, or empty.
std::string Rejection(const std::string& action, const nlohmann::json& reply) {
  if (!reply.contains("result") || reply["result"]["code"] == "ok") return "";
  return action + " rejected (" + reply["result"]["code"].get<std::string>() +
         "): " + reply["result"]["detail"].get<std::string>();
}

// Sends, prints the reply with `extra` fields; non-zero if rejected.
int Run(const Conn& c, const std::string& action, const nlohmann::json& payload, bool wait,
        nlohmann::json extra = nlohmann::json::object()) {
  auto r = Send(c, action, payload, wait);
  if (!r.ok()) return Fail(r.status());
  extra.update(*r);
  Print(extra);
  const std::string why = Rejection(action, *r);
  return why.empty() ? 0 : Fail(Status::Precondition(why));
}

int Commission(const Conn& c, const Opts& o) {
  auto packs = ParseCodes(o.codes);
  if (!packs.ok()) return Fail(packs.status());
  if (!o.file.empty()) {
    auto text = ReadFile(o.file);
    if (!text.ok()) return Fail(text.status());
    auto more = ParsePacksCsv(*text, o.file);
    if (!more.ok()) return Fail(more.status());
    packs->insert(packs->end(), more->begin(), more->end());
  }
  if (packs->empty())
    return Fail(Status::Invalid("name the packs: --code CODE (repeatable) and/or --file CSV"));
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& p : *packs) {
    if (p.batch.empty() || p.expiry.empty())
      return Fail(Status::Invalid(
          Name(p) + ": a commissioned pack needs a batch (10) and an expiry date (17)"));
    if (!seen.emplace(p.gtin, p.serial).second)
      return Fail(Status::Invalid(Name(p) + " is named twice"));
  }
  // At most kMaxPacksPerTx packs a transaction, and within the node's
  // max_tx_bytes (less room for the envelope: chain id, key, nonce, signature).
  auto client = Connect(c);
  if (!client.ok()) return Fail(client.status());
  auto info = client->Get("/v1/info");
  if (!info.ok()) return Fail(info.status());
  const size_t budget =
      info->value("max_tx_bytes", size_t{65536}) - 256 - info->value("chain_id", "").size();
  std::vector<nlohmann::json> batches;
  size_t bytes = 0;
  for (const auto& p : *packs) {
    nlohmann::json item = {
        {"batch", p.batch}, {"expiry", p.expiry}, {"gtin", p.gtin}, {"serial", p.serial}};
    const size_t n = item.dump().size() + 1;
    if (batches.empty() || batches.back().size() == supply::kMaxPacksPerTx || bytes + n > budget) {
      batches.push_back(nlohmann::json::array());
      bytes = std::string_view(R"({"packs":[]})").size();
    }
    batches.back().push_back(std::move(item));
    bytes += n;
  }
  nlohmann::json out = {{"packs", packs->size()}, {"transactions", nlohmann::json::array()}};
  for (size_t i = 0; i < batches.size(); ++i) {
    auto r = Send(c, "commission", {{"packs", batches[i]}}, o.wait);
    std::string why = r.ok() ? Rejection("commission", *r) : r.status().message();
    if (r.ok()) out["transactions"].push_back(*r);
    if (!why.empty()) {
      Print(out);
      return Fail(Status::Precondition("transaction " + std::to_string(i + 1) + " of " +
                                       std::to_string(batches.size()) + ": " + why));
    }
  }
  return Print(out);
}

// The verdict and any alarm from a verify transaction's result detail
// ("authentic", "already_dispensed; alarm: verified_after_dispensing").
int Verify(const Conn& c, const Opts& o) {
  auto p = ParseCode(o.code);
  if (!p.ok()) return Fail(p.status());
  nlohmann::json payload = {{"gtin", p->gtin}, {"serial", p->serial}};
  if (!p->batch.empty()) payload["batch"] = p->batch;
  if (!p->expiry.empty()) payload["expiry"] = p->expiry;
  auto r = Send(c, "verify", payload, /*wait=*/true);
  if (!r.ok()) return Fail(r.status());
  if (std::string why = Rejection("verify", *r); !why.empty())
    return Fail(Status::Precondition(why));
  if (!r->contains("result"))
    return Fail(Status::Unavailable("verify " + r->value("id", "") +
                                    " was not committed in time: ask again"));
  const std::string detail = (*r)["result"]["detail"];
  nlohmann::json out = {
      {"gtin", p->gtin}, {"serial", p->serial}, {"tx", (*r)["id"]}, {"height", (*r)["height"]}};
  const size_t alarm = detail.find("; alarm: ");
  out["verdict"] = detail.substr(0, alarm);
  if (alarm != std::string::npos) out["alarm"] = detail.substr(alarm + 9);
  return Print(out);
}

int Recall(const Conn& c, const Opts& o) {
  std::string gtin = o.gtin, batch = o.batch;
  if (!o.code.empty()) {
    if (!gtin.empty() || !batch.empty())
      return Fail(
          Status::Invalid("name the batch by a pack CODE or by --gtin and --batch, not both"));
    auto p = ParseCode(o.code);
    if (!p.ok()) return Fail(p.status());
    if (p->batch.empty())
      return Fail(Status::Invalid("pack code '" + Shown(o.code) + "' carries no batch (10)"));
    gtin = p->gtin;
    batch = p->batch;
  }
  if (gtin.empty() || batch.empty())
    return Fail(Status::Invalid("name the batch: a pack CODE, or --gtin and --batch"));
  auto g = supply::NormalizeGtin(gtin);
  if (!g.ok()) return Fail(g.status());
  if (batch.size() > supply::kMaxBatchLen || !supply::IsCset82(batch))
    return Fail(Status::Invalid("--batch must be 1 to 20 characters of GS1's set 82"));
  return Run(c, "recall", {{"gtin", *g}, {"batch", batch}, {"reason", o.reason}}, o.wait);
}

int Parse(const Opts& o) {
  auto p = ParseCode(o.code);
  if (!p.ok()) return Fail(p.status());
  return Print({{"gtin", p->gtin},
                {"serial", p->serial},
                {"batch", p->batch},
                {"expiry", p->expiry},
                {"human_readable", supply::ToHumanReadable(*p)},
                {"element_string", supply::ToElementString(*p)},
                {"digital_link", supply::ToDigitalLink(*p)}});
}

int Label(const Opts& o) {
  auto p = ParseCode(o.code);
  if (!p.ok()) return Fail(p.status());
  if (o.png.empty() && o.svg.empty())
    return Fail(Status::Invalid("say where to write the label: --png FILE and/or --svg FILE"));
  const LabelForm form = o.form == "element" ? LabelForm::kElementString : LabelForm::kDigitalLink;
  std::string resolver = o.resolver;
  while (resolver.ends_with('/')) resolver.pop_back();
  if (form == LabelForm::kDigitalLink) {
    if (!(resolver.starts_with("https://") || resolver.starts_with("http://")) ||
        resolver.find_first_of("?# ") != std::string::npos)
      return Fail(Status::Invalid("--resolver must be an http(s) URL without a query or fragment"));
  }
  const std::string text = LabelText(*p, form, resolver);
  // What a scanner reads back must be this very pack.
  auto back = supply::Parse(text);
  if (!back.ok() || *back != *p)
    return Fail(Status::Invalid("the label's content '" + Shown(text) +
                                "' does not parse back to the pack (check --resolver)"));
  auto qr = EncodeQr(text, /*gs1=*/form == LabelForm::kElementString);
  if (!qr.ok()) return Fail(qr.status());
  if (!o.png.empty()) {
    auto png = ToPng(*qr, o.scale);
    if (!png.ok()) return Fail(png.status());
    if (Status s = WriteFileAtomic(o.png, *png, 0644, /*overwrite=*/true); !s.ok()) return Fail(s);
  }
  if (!o.svg.empty()) {
    if (Status s = WriteFileAtomic(o.svg, ToSvg(*qr, o.scale), 0644, /*overwrite=*/true); !s.ok())
      return Fail(s);
  }
  nlohmann::json out = {{"content", text}, {"form", o.form}, {"modules", qr->size}};
  if (!o.png.empty()) out["png"] = o.png;
  if (!o.svg.empty()) out["svg"] = o.svg;
  return Print(out);
}

}  // namespace

void AddSupplyCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key,
                       int* rc) {
  auto* sup = app->add_subcommand(
      "supply",
      "Medicine packs (GS1 codes, EU FMD): commission, move, verify, dispense, recall, label");
  sup->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_node = [=](CLI::App* c) {
    c->add_option("--node", *node,
                  "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
    c->add_option("--cacert", *ca_file,
                  "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
  };
  auto add_conn = [=](CLI::App* c) {
    add_node(c);
    c->add_option("--key,-k", *key,
                  "Your key file: signs the transaction (default: $CARECHAIN_KEY)");
  };
  auto add_wait = [=](CLI::App* c) {
    c->add_flag("--wait,-w", o->wait,
                "Wait until the transaction is committed (and see its result)");
  };
  const std::string any_form = "(01)…(21)…, the scanned element string, or a GS1 Digital Link URI";
  auto add_code = [=](CLI::App* c, const std::string& what) {
    return c->add_option("code", o->code, what + ": " + any_form);
  };
  // A command of one pack reference: {gtin, serial}.
  auto one_pack = [=](CLI::App* c, const std::string& action) {
    c->callback([=] {
      auto p = ParseCode(o->code);
      *rc = p.ok() ? Run(conn(), action, {{"gtin", p->gtin}, {"serial", p->serial}}, o->wait)
                   : Fail(p.status());
    });
  };

  auto* check = sup->add_subcommand(
      "check",
      "Ask a node whether a pack is authentic (the public check: unsigned, the verdict only)");
  add_node(check);
  add_code(check, "The pack's GS1 code")->required();
  check->callback([=] {
    // Refuse a malformed code here, with the parser's reason.
    if (auto c = ParseCode(o->code); !c.ok()) {
      *rc = Fail(c.status());
      return;
    }
    auto r = ConnectUnsigned(conn()).Get("/v1/packs/check?code=" + supply::PercentEncode(o->code));
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });

  auto* show = sup->add_subcommand(
      "show", "A pack's owner, status, verdict and history (signed; the supply chain's staff)");
  add_conn(show);
  add_code(show, "The pack's GS1 code")->required();
  show->callback([=] {
    auto c = ParseCode(o->code);
    *rc = !c.ok() ? Fail(c.status())
                  : GetAndPrint(conn(), "/v1/modules/supply/packs/" + c->gtin + "/" +
                                            supply::PercentEncode(c->serial));
  });

  auto* parse = sup->add_subcommand(
      "parse",
      "Parse a GS1 code offline: gtin, serial, batch, expiry and the code's three canonical forms");
  add_code(parse, "The GS1 code")->required();
  parse->callback([=] { *rc = Parse(*o); });

  auto* prefix = sup->add_subcommand(
      "assign-prefix", "Assign a GS1 company prefix to an organisation (a regulator)");
  add_conn(prefix);
  prefix->add_option("--prefix", o->prefix, "The GS1 company prefix, 6 to 12 digits")->required();
  prefix->add_option("--org", o->org, "The organisation that gets it")->required();
  add_wait(prefix);
  prefix->callback([=] {
    if (o->prefix.size() < 6 || o->prefix.size() > 12 || !supply::AllDigits(o->prefix)) {
      *rc = Fail(Status::Invalid("--prefix must be 6 to 12 digits"));
      return;
    }
    *rc = Run(conn(), "assign_prefix", {{"prefix", o->prefix}, {"org", o->org}}, o->wait);
  });

  auto* commission = sup->add_subcommand(
      "commission",
      "Commission packs under your organisation's GS1 prefixes (a manufacturer); up to " +
          std::to_string(supply::kMaxPacksPerTx) + " packs a transaction, more are split");
  add_conn(commission);
  // One value per flag, so that a positional argument after it is not taken.
  commission
      ->add_option("--code", o->codes, "A pack with batch and expiry (repeatable): " + any_form)
      ->allow_extra_args(false);
  commission->add_option(
      "--file,-f", o->file,
      "A CSV file of packs: gtin,serial,batch,expiry (expiry YYMMDD), one a line; a header "
      "line naming the columns is optional");
  add_wait(commission);
  commission->callback([=] { *rc = Commission(conn(), *o); });

  auto* aggregate =
      sup->add_subcommand("aggregate", "Pack your organisation's packs into a sealed case");
  add_conn(aggregate);
  aggregate->add_option("packs", o->codes, "The packs' GS1 codes (any form)")->required();
  aggregate->add_option("--case", o->id,
                        "The case id, 32 hex digits (default: a new random one, printed)");
  add_wait(aggregate);
  aggregate->callback([=] {
    auto packs = ParseCodes(o->codes);
    auto id = IdOrNew("--case", o->id);
    if (!packs.ok() || !id.ok()) {
      *rc = Fail(!packs.ok() ? packs.status() : id.status());
      return;
    }
    *rc = Run(conn(), "aggregate", {{"case", *id}, {"packs", Refs(*packs)}}, o->wait,
              {{"case", *id}});
  });

  auto* disaggregate =
      sup->add_subcommand("disaggregate", "Open a sealed case: its packs move on their own");
  add_conn(disaggregate);
  disaggregate->add_option("case", o->id, "The case id (32 hex digits)")->required();
  add_wait(disaggregate);
  disaggregate->callback([=] {
    auto id = IdOrNew("the case id", o->id);
    *rc = id.ok() ? Run(conn(), "disaggregate", {{"case", *id}}, o->wait) : Fail(id.status());
  });

  auto* transfer = sup->add_subcommand(
      "transfer", "Offer packs and/or cases to another organisation; they move once it accepts");
  add_conn(transfer);
  transfer->add_option("--to", o->to, "The receiving organisation")->required();
  transfer->add_option("packs", o->codes, "The packs' GS1 codes (any form)");
  transfer->add_option("--case", o->cases, "A sealed case to move (repeatable)")
      ->allow_extra_args(false);
  transfer->add_option("--transfer", o->id,
                       "The transfer id, 32 hex digits (default: a new random one, printed)");
  add_wait(transfer);
  transfer->callback([=] {
    auto packs = ParseCodes(o->codes);
    auto id = IdOrNew("--transfer", o->id);
    if (!packs.ok() || !id.ok()) {
      *rc = Fail(!packs.ok() ? packs.status() : id.status());
      return;
    }
    if (packs->empty() && o->cases.empty()) {
      *rc = Fail(Status::Invalid("name what moves: pack codes and/or --case ID"));
      return;
    }
    nlohmann::json p = {{"transfer", *id}, {"to", o->to}};
    if (!packs->empty()) p["packs"] = Refs(*packs);
    if (!o->cases.empty()) {
      p["cases"] = nlohmann::json::array();
      for (const auto& c : o->cases) {
        auto cid = IdOrNew("--case", c);
        if (!cid.ok()) {
          *rc = Fail(cid.status());
          return;
        }
        p["cases"].push_back(*cid);
      }
    }
    *rc = Run(conn(), "transfer", p, o->wait, {{"transfer", *id}});
  });

  for (const auto& [verb, help] : std::vector<std::pair<std::string, std::string>>{
           {"accept", "Accept a transfer offered to your organisation: its packs become yours"},
           {"cancel", "Cancel a transfer your organisation offered"}}) {
    auto* cmd = sup->add_subcommand(verb, help);
    add_conn(cmd);
    cmd->add_option("transfer", o->id, "The transfer id (32 hex digits)")->required();
    add_wait(cmd);
    cmd->callback([=, verb = verb] {
      auto id = IdOrNew("the transfer id", o->id);
      *rc = id.ok() ? Run(conn(), verb, {{"transfer", *id}}, o->wait) : Fail(id.status());
    });
  }

  auto* dispense = sup->add_subcommand(
      "dispense",
      "Dispense a pack to a patient (a pharmacist of its owner); a second time raises an alarm");
  add_conn(dispense);
  add_code(dispense, "The pack's GS1 code")->required();
  add_wait(dispense);
  one_pack(dispense, "dispense");

  auto* verify = sup->add_subcommand("verify",
                                     "Verify a scanned pack on chain (kept in its history; alarms "
                                     "if it was dispensed or is elsewhere). "
                                     "Waits for the transaction and prints the verdict: authentic, "
                                     "already_dispensed, recalled, expired, "
                                     "unknown_product, unknown_serial, ...");
  add_conn(verify);
  add_code(verify, "The pack's GS1 code (its batch and expiry are checked too)")->required();
  verify->callback([=] { *rc = Verify(conn(), *o); });

  auto* recall = sup->add_subcommand("recall", "Recall a batch (its manufacturer or a regulator)");
  add_conn(recall);
  add_code(recall, "A pack of the batch (its code must carry the batch)");
  recall->add_option("--gtin", o->gtin, "Or: the GTIN (with --batch)");
  recall->add_option("--batch", o->batch, "Or: the batch (with --gtin)");
  recall->add_option("--reason", o->reason, "Why (up to 200 characters)")
      ->required()
      ->check([](const std::string& r) {
        return r.empty() || r.size() > 200 ? "--reason must be 1 to 200 characters" : "";
      });
  add_wait(recall);
  recall->callback([=] { *rc = Recall(conn(), *o); });

  auto* label = sup->add_subcommand("label",
                                    "Write a pack's QR code as PNG and/or SVG (offline). By "
                                    "default it carries the GS1 Digital Link URI; "
                                    "--form element writes a GS1 QR Code (the element string, FNC1 "
                                    "in first position), which needs a "
                                    "libqrencode that can write FNC1-first mode: 4.1.1 (Debian 12) "
                                    "cannot, and the command then refuses");
  add_code(label, "The pack's GS1 code")->required();
  label->add_option("--png", o->png, "Write the label as PNG to this file");
  label->add_option("--svg", o->svg, "Write the label as SVG to this file");
  label->add_option("--scale", o->scale, "Pixels per module (default 8)")->check(CLI::Range(1, 64));
  label
      ->add_option("--form", o->form,
                   "link (GS1 Digital Link URI, default) or element (GS1 element string)")
      ->check(CLI::IsMember({"link", "element"}));
  label->add_option("--resolver", o->resolver,
                    "The Digital Link's resolver (default https://id.gs1.org)");
  label->callback([=] { *rc = Label(*o); });
}

}  // namespace cc::cli

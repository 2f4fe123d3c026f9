#include "cli/coldchain_commands.h"

#include <memory>
#include <sstream>

#include "apps/supply/gs1.h"
#include "cli/common.h"
#include "cli/records_commands.h"
#include "codec/canonical_json.h"
#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "ledger/transaction.h"
#include "util/env.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string shipment, carrier, to, route, low, high, mkt_max, file, reason, device, out;
  std::vector<std::string> codes, cases, devices;
  uint64_t max_excursion_s = 0, dh_r = coldchain::kDefaultDhR, seq = 0, index = 0, max_points = 5000;
  bool wait = false, release = false, reject = false, csv = false;
};

std::string RandomShipmentId() {
  uint8_t b[8];
  RandomBytes(b, sizeof b);
  return ToHex(ByteView(b, sizeof b));
}

bool IsShipmentId(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<nlohmann::json> Submit(const Conn& c, const std::string& action, const nlohmann::json& payload, bool wait) {
  return SubmitAction(c, coldchain::kModule, action, payload, wait);
}

// Sends `readings` as the logger's next batches (at most 10,000 each).
int Send(const Conn& c, const std::string& id, const std::vector<coldchain::Reading>& readings, bool wait) {
  crypto::Init();
  auto key_file = KeyFileOf(c);
  if (!key_file.ok()) return Fail(key_file.status());
  auto key = ReadKeyFile(*key_file);
  if (!key.ok()) return Fail(key.status());
  auto client = Connect(c);
  if (!client.ok()) return Fail(client.status());
  auto ship = client->Get("/v1/modules/coldchain/shipments/" + id);
  if (!ship.ok()) return Fail(ship.status());
  const std::string me = key->public_key().hex();
  uint64_t seq = 0;
  for (const auto& lg : (*ship)["loggers"]) {
    if (lg["device"] == me) seq = lg["batches"].get<uint64_t>() + 1;
  }
  if (seq == 0) return Fail(Status::Denied("this key is not a logger of shipment " + id));
  auto info = client->Get("/v1/info");
  if (!info.ok()) return Fail(info.status());
  auto nonce = client->Get("/v1/actors/" + me + "/nonce");
  if (!nonce.ok()) return Fail(nonce.status());
  uint64_t next_nonce = (*nonce)["next_nonce"];
  nlohmann::json sent = nlohmann::json::array();
  for (size_t at = 0; at < readings.size(); at += coldchain::kMaxReadingsPerBatch, ++seq) {
    const size_t end = std::min(readings.size(), at + coldchain::kMaxReadingsPerBatch);
    std::vector<coldchain::Reading> batch(readings.begin() + at, readings.begin() + end);
    auto s = coldchain::Summarize(id, batch, (*ship)["low"], (*ship)["high"], (*ship)["dh_r"]);
    if (!s.ok()) return Fail(Status::Invalid("readings " + std::to_string(at) + "..: " + s.status().message()));
    TxBody body;
    body.chain_id = (*info)["chain_id"];
    body.actor = key->public_key();
    body.nonce = next_nonce++;
    body.module = std::string(coldchain::kModule);
    body.action = "anchor";
    auto canonical = codec::ToCanonicalJson(coldchain::AnchorPayload(id, seq, *s));
    if (!canonical.ok()) return Fail(canonical.status());
    body.payload = *canonical;
    TxPtr tx = Transaction::Sign(std::move(body), *key);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : batch) list.push_back({{"t", r.t}, {"c", r.c}});
    const bool last = end == readings.size();
    auto r = client->Post(std::string("/v1/coldchain/batches") + (wait && last ? "?wait=commit" : ""),
                          nlohmann::json{{"tx", tx->ToJson()}, {"readings", list}}.dump(), "application/json");
    if (!r.ok()) return Fail(r.status());
    (*r)["seq"] = seq;
    (*r)["readings"] = batch.size();
    sent.push_back(*r);
    if (r->contains("result") && (*r)["result"]["code"] != "ok") {
      Print(sent);
      return 1;
    }
  }
  return Print(sent);
}

}  // namespace

Result<int32_t> ParseCentiC(const std::string& text) {
  const std::string bad = "'" + text + "' is not a temperature in °C (like 5, -18.5 or 8.25)";
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  int64_t whole = 0, frac = 0;
  int digits = 0, frac_digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 4; ++i, ++digits)
    whole = whole * 10 + (text[i] - '0');
  if (digits == 0) return Status::Invalid(bad);
  int round_digit = 0;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++frac_digits) {
      if (frac_digits < 2) frac = frac * 10 + (text[i] - '0');
      if (frac_digits == 2) round_digit = text[i] - '0';
    }
    if (frac_digits == 0) return Status::Invalid(bad);
  }
  if (i != text.size()) return Status::Invalid(bad);
  if (frac_digits == 1) frac *= 10;
  int64_t centi = whole * 100 + frac + (round_digit >= 5 ? 1 : 0);
  if (neg) centi = -centi;
  if (centi < coldchain::kMinCentiC || centi > coldchain::kMaxCentiC)
    return Status::Invalid("'" + text + "' is beyond the loggers' range of -100..100 °C");
  return static_cast<int32_t>(centi);
}

Result<std::vector<coldchain::Reading>> ParseReadingsCsv(const std::string& text) {
  std::vector<coldchain::Reading> out;
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "line " + std::to_string(n) + ": ";
    const size_t comma = line.find(',');
    if (comma == std::string::npos) return Status::Invalid(where + "expected time,celsius");
    const std::string t = line.substr(0, comma), c = line.substr(comma + 1);
    if (out.empty() && !t.empty() && !std::isdigit(static_cast<unsigned char>(t[0]))) continue;  // a header
    auto ms = ParseTime(t, 0);
    if (!ms.ok() || t[0] == '+') return Status::Invalid(where + "'" + t + "' is not a time (ms or 2026-11-26T10:00:00Z)");
    auto centi = ParseCentiC(c);
    if (!centi.ok()) return Status::Invalid(where + centi.status().message());
    if (!out.empty() && *ms <= out.back().t) return Status::Invalid(where + "times must increase from line to line");
    out.push_back({*ms, *centi});
  }
  if (out.empty()) return Status::Invalid("no readings in the file");
  return out;
}

Status VerifyReadingProof(const nlohmann::json& p) {
  try {
    const std::string ship = p.at("shipment");
    if (!IsShipmentId(ship)) return Status::Invalid("'shipment' must be 16 hex digits");
    const coldchain::Reading r{p.at("reading").at("t").get<uint64_t>(), p.at("reading").at("c").get<int32_t>()};
    const uint64_t index = p.at("index"), count = p.at("count"), seq = p.at("seq");
    std::vector<Hash256> path;
    for (const auto& h : p.at("path")) {
      auto d = Hash256::FromHex(h.get<std::string>());
      if (!d) return Status::Invalid("'path' holds a malformed hash");
      path.push_back(*d);
    }
    auto root = Hash256::FromHex(p.at("root").get<std::string>());
    if (!root) return Status::Invalid("'root' must be 64 hex digits");
    CC_ASSIGN_OR_RETURN(Hash256 computed, merkle::RootFromProof(coldchain::ReadingLeaf(ship, r), index, count, path));
    if (computed != *root) return Status::Invalid("the reading's Merkle path does not lead to the root");
    CC_ASSIGN_OR_RETURN(TxPtr tx, Transaction::FromJson(p.at("anchor").at("tx")));
    if (!tx->VerifySignature()) return Status::Invalid("the anchor transaction's signature is invalid");
    const TxBody& b = tx->body();
    auto payload = nlohmann::json::parse(b.payload);
    if (b.module != coldchain::kModule || b.action != "anchor" || b.actor.hex() != p.at("device") ||
        payload.at("shipment") != ship || payload.at("seq") != seq || payload.at("root") != root->hex() ||
        payload.at("count") != count)
      return Status::Invalid("the anchor transaction is not this logger's anchor of this batch and root");
    return Status::Ok();
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(std::string("malformed reading proof: ") + e.what());
  }
}

void AddColdchainCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* cold = app->add_subcommand("coldchain", "Temperature-controlled shipments: loggers, excursions, release");
  cold->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c, bool signs = true) {
    c->add_option("--node", *node, "Node API URL (default: $CARECHAIN_NODE or http://127.0.0.1:8080)");
    c->add_option("--cacert", *ca_file, "https: CA certificate(s) to trust, PEM (default: $CARECHAIN_CACERT)");
    if (signs) c->add_option("--key,-k", *key, "Your key file: signs (default: $CARECHAIN_KEY)");
  };
  auto shipment_arg = [=](CLI::App* c) {
    c->add_option("shipment", o->shipment, "The shipment id (16 hex digits)")
        ->required()
        ->check([](const std::string& s) { return IsShipmentId(s) ? "" : "a shipment id is 16 lower-case hex digits"; });
  };

  auto* create = cold->add_subcommand("create", "Send packs under temperature control (the packs' owner)");
  add_conn(create);
  create->add_option("--shipment", o->shipment, "The shipment id, 16 hex digits (default: a new random one)");
  create->add_option("--carrier", o->carrier, "The carrier organisation")->required();
  create->add_option("--to", o->to, "The receiving organisation")->required();
  create->add_option("--route", o->route, "The route, e.g. \"Marburg DC -> Berlin\"")->required();
  create->add_option("--pack", o->codes, "A pack's GS1 code, any form (repeatable)");
  create->add_option("--case", o->cases, "A sealed case id, 32 hex digits (repeatable)");
  create->add_option("--logger", o->devices, "A data logger's key, 64 hex digits (repeatable, 1 to 8)")->required();
  create->add_option("--low", o->low, "Lowest allowed temperature, °C")->required();
  create->add_option("--high", o->high, "Highest allowed temperature, °C")->required();
  create->add_option("--max-excursion", o->max_excursion_s, "Longest time out of range the product allows, seconds")
      ->required();
  create->add_option("--dh-r", o->dh_r, "The product's ΔH/R in kelvin for the MKT (default 10000)");
  create->add_option("--mkt-max", o->mkt_max, "Highest mean kinetic temperature, °C (default: --high)");
  create->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  create->callback([=] {
    if (!o->shipment.empty() && !IsShipmentId(o->shipment))
      return void(*rc = Fail(Status::Invalid("--shipment must be 16 lower-case hex digits")));
    if (o->codes.empty() && o->cases.empty()) return void(*rc = Fail(Status::Invalid("name --pack or --case")));
    nlohmann::json p = {{"shipment", o->shipment.empty() ? RandomShipmentId() : o->shipment},
                        {"carrier", o->carrier}, {"to", o->to}, {"route", o->route},
                        {"devices", o->devices}, {"max_excursion_s", o->max_excursion_s}, {"dh_r", o->dh_r}};
    for (auto [flag, text] : {std::pair{"low", &o->low}, {"high", &o->high}, {"mkt_max", &o->mkt_max}}) {
      if (text->empty()) continue;
      auto c = ParseCentiC(*text);
      if (!c.ok()) return void(*rc = Fail(Status::Invalid(std::string("--") + flag + ": " + c.status().message())));
      p[flag] = *c;
    }
    for (const auto& code : o->codes) {
      auto c = supply::Parse(code);
      if (!c.ok()) return void(*rc = Fail(Status::Invalid("--pack '" + code + "': " + c.status().message())));
      p["packs"].push_back({{"gtin", c->gtin}, {"serial", c->serial}});
    }
    if (!o->cases.empty()) p["cases"] = o->cases;
    auto r = Submit(conn(), "create", p, o->wait);
    if (r.ok()) (*r)["shipment"] = p["shipment"];
    *rc = PrintReply(r);
  });

  auto* send = cold->add_subcommand("send", "A logger's readings from a CSV file (time,celsius), signed by the logger");
  add_conn(send);
  shipment_arg(send);
  send->add_option("--file", o->file, "CSV lines time,celsius (ms or 2026-11-26T10:00:00Z; °C)")->required();
  send->add_flag("--wait", o->wait, "Wait until the last batch is committed");
  send->callback([=] {
    auto text = ReadFile(o->file);
    if (!text.ok()) return void(*rc = Fail(text.status()));
    auto readings = ParseReadingsCsv(*text);
    if (!readings.ok()) return void(*rc = Fail(Status::Invalid(o->file + ": " + readings.status().message())));
    *rc = Send(conn(), o->shipment, *readings, o->wait);
  });

  auto* arrive = cold->add_subcommand("arrive", "Record the shipment's arrival (the receiver or the carrier)");
  add_conn(arrive);
  shipment_arg(arrive);
  arrive->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  arrive->callback([=] { *rc = PrintReply(Submit(conn(), "arrive", {{"shipment", o->shipment}}, o->wait)); });

  auto* decide = cold->add_subcommand("decide", "Release or reject an arrived shipment (the receiver or a regulator)");
  add_conn(decide);
  shipment_arg(decide);
  auto* rel = decide->add_flag("--release", o->release, "Release: refused while the loggers show it out of limits");
  auto* rej = decide->add_flag("--reject", o->reject, "Reject: its packs then verify as rejected_in_transport");
  rel->excludes(rej);
  decide->add_option("--reason", o->reason, "Why (kept on chain; no personal data)")->required();
  decide->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  decide->callback([=] {
    if (!o->release && !o->reject) return void(*rc = Fail(Status::Invalid("give --release or --reject")));
    nlohmann::json p = {{"shipment", o->shipment}, {"decision", o->release ? "release" : "reject"}, {"reason", o->reason}};
    *rc = PrintReply(Submit(conn(), "decide", p, o->wait));
  });

  auto* show = cold->add_subcommand("show", "A shipment: loggers, excursions, MKT, assessment and decision");
  add_conn(show);
  shipment_arg(show);
  show->callback([=] { *rc = GetAndPrint(conn(), "/v1/modules/coldchain/shipments/" + o->shipment); });

  auto* curve = cold->add_subcommand("curve", "A shipment's temperature curve (JSON, or CSV with --csv)");
  add_conn(curve);
  shipment_arg(curve);
  curve->add_option("--logger", o->device, "Only this logger (key, 64 hex digits)");
  curve->add_option("--max-points", o->max_points, "At most this many points per logger (2..100000)");
  curve->add_flag("--csv", o->csv, "Print logger,time_ms,celsius lines");
  curve->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    std::string path = "/v1/coldchain/shipments/" + o->shipment + "/curve?max_points=" + std::to_string(o->max_points);
    if (!o->device.empty()) path += "&device=" + o->device;
    auto r = c->Get(path);
    if (!r.ok()) return void(*rc = Fail(r.status()));
    if (!o->csv) return void(*rc = Print(*r));
    std::printf("logger,time_ms,celsius\n");
    for (const auto& lg : (*r)["loggers"]) {
      for (const auto& p : lg["points"]) {
        const int32_t centi = p[1];
        std::printf("%s,%llu,%s%d.%02d\n", lg["device"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(p[0].get<uint64_t>()), centi < 0 ? "-" : "", std::abs(centi) / 100,
                    std::abs(centi) % 100);
      }
    }
    *rc = 0;
  });

  auto* prove = cold->add_subcommand("prove", "Fetch one reading's proof, check it, and print or save it");
  add_conn(prove);
  shipment_arg(prove);
  prove->add_option("--logger", o->device, "The logger's key (64 hex digits)")->required();
  prove->add_option("--seq", o->seq, "The batch number")->required();
  prove->add_option("--index", o->index, "The reading's position in the batch, from 0")->required();
  prove->add_option("-o,--out", o->out, "Write the proof to this file (JSON)");
  prove->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    auto r = c->Get("/v1/coldchain/shipments/" + o->shipment + "/readings?device=" + o->device +
                    "&seq=" + std::to_string(o->seq) + "&index=" + std::to_string(o->index));
    if (!r.ok()) return void(*rc = Fail(r.status()));
    crypto::Init();
    if (Status s = VerifyReadingProof(*r); !s.ok()) return void(*rc = Fail(s));
    if (!o->out.empty()) {
      Status s = WriteFileAtomic(o->out, r->dump(2) + "\n", 0644, true);
      if (!s.ok()) return void(*rc = Fail(s));
    }
    *rc = Print({{"verified", true}, {"reading", (*r)["reading"]}, {"anchor_tx", (*r)["anchor"]["id"]},
                 {"height", (*r)["anchor"].value("height", nlohmann::json())}});
  });

  auto* verify = cold->add_subcommand("verify-reading", "Check a saved reading proof offline (no node)");
  verify->add_option("file", o->file, "The proof, as `coldchain prove -o` saved it")->required();
  verify->callback([=] {
    auto text = ReadFile(o->file);
    if (!text.ok()) return void(*rc = Fail(text.status()));
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return void(*rc = Fail(Status::Invalid(o->file + " is not JSON")));
    crypto::Init();
    if (Status s = VerifyReadingProof(j); !s.ok()) return void(*rc = Fail(s));
    *rc = Print({{"verified", true}, {"reading", j["reading"]}, {"anchor_tx", j["anchor"]["id"]}});
  });
}

}  // namespace cc::cli

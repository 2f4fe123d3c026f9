#include "cli/wearables_commands.h"

#include <cmath>
#include <memory>
#include <sstream>

#include "apps/wearables/rules.h"
#include "apps/wearables/wearables.h"
#include "cli/common.h"
#include "cli/records_commands.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "util/env.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string device_key, kind = "smart_watch", custodian, model, file, patient, after, device;
  std::vector<std::string> rules, notify;
  uint64_t seq = 0;
  bool wait = false, fhir = false, clear = false, yes = false;
};

// CSV lines "time,metric,value" (time: ms or 2026-11-26T10:00:00Z); an
// optional header; '#' comments. Sorted by time and metric as the device
// signs them.
Result<nlohmann::json> ReadingsCsv(const std::string& text) {
  nlohmann::json out = nlohmann::json::array();
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "line " + std::to_string(n) + ": ";
    const size_t a = line.find(','), b = a == std::string::npos ? a : line.find(',', a + 1);
    if (b == std::string::npos) return Status::Invalid(where + "expected time,metric,value");
    const std::string t = line.substr(0, a), metric = line.substr(a + 1, b - a - 1), value = line.substr(b + 1);
    if (out.empty() && !t.empty() && !std::isdigit(static_cast<unsigned char>(t[0]))) continue;  // a header
    auto ms = ParseTime(t, 0);
    if (!ms.ok() || t[0] == '+') return Status::Invalid(where + "'" + t + "' is not a time");
    if (!wearables::FindMetric(metric)) return Status::Invalid(where + "unknown metric '" + metric + "'");
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(v)) return Status::Invalid(where + "'" + value + "' is not a number");
    out.push_back({{"t", *ms}, {"metric", metric}, {"value", v}});
  }
  if (out.empty()) return Status::Invalid("no readings in the file");
  return out;
}

// Signs `readings` as batch `seq` of the device and returns the request body.
nlohmann::json SignedBatch(const SecretKey& device, uint64_t seq, const nlohmann::json& readings) {
  const auto& metrics = wearables::Metrics();
  std::vector<Hash256> leaves;
  for (const auto& r : readings) {
    const auto* m = wearables::FindMetric(r["metric"].get<std::string>());
    leaves.push_back(wearables::ReadingLeaf(
        device.public_key(),
        {r["t"], static_cast<uint8_t>(m - metrics.data()), std::llround(r["value"].get<double>() * 1000)}));
  }
  const Hash256 root = merkle::Root(std::move(leaves));
  const std::string msg = wearables::BatchMessage(device.public_key().hex(), seq, readings.size(),
                                                  readings.front()["t"], readings.back()["t"], root);
  return {{"device", device.public_key().hex()}, {"seq", seq}, {"readings", readings},
          {"device_sig", device.Sign(AsBytes(msg)).hex()}};
}

int Send(const Conn& c, const Opts& o) {
  crypto::Init();
  auto device = ReadKeyFile(o.device_key);
  if (!device.ok()) return Fail(device.status());
  auto text = ReadFile(o.file);
  if (!text.ok()) return Fail(text.status());
  auto readings = ReadingsCsv(*text);
  if (!readings.ok()) return Fail(Status::Invalid(o.file + ": " + readings.status().message()));
  std::stable_sort(readings->begin(), readings->end(), [](const auto& a, const auto& b) {
    return std::pair(a["t"].template get<uint64_t>(), a["metric"].template get<std::string>()) <
           std::pair(b["t"].template get<uint64_t>(), b["metric"].template get<std::string>());
  });
  auto client = Connect(c);
  if (!client.ok()) return Fail(client.status());
  uint64_t seq = o.seq;
  if (seq == 0) {
    auto d = client->Get("/v1/modules/wearables/devices/" + device->public_key().hex());
    if (!d.ok()) return Fail(d.status());
    seq = (*d)["batches"].get<uint64_t>() + 1;
  }
  nlohmann::json sent = nlohmann::json::array();
  for (size_t at = 0; at < readings->size(); at += wearables::kMaxReadingsPerBatch, ++seq) {
    const size_t end = std::min(readings->size(), at + wearables::kMaxReadingsPerBatch);
    nlohmann::json part(readings->begin() + static_cast<ptrdiff_t>(at), readings->begin() + static_cast<ptrdiff_t>(end));
    const bool last = end == readings->size();
    auto r = client->Post(std::string("/v1/wearables/batches") + (o.wait && last ? "?wait=commit" : ""),
                          SignedBatch(*device, seq, part).dump(), "application/json");
    if (!r.ok()) return Fail(r.status());
    (*r)["seq"] = seq;
    sent.push_back(*r);
  }
  return Print(sent);
}

}  // namespace

void AddWearablesCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* w = app->add_subcommand("wearables", "A patient's wearables: devices, readings, early-warning rules, alerts");
  w->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c) {
    AddConnOptions(c, node, ca_file, key, "Your (the patient's) key file: signs (default: $CARECHAIN_KEY)");
  };
  auto submit = [=](const std::string& action, const nlohmann::json& payload) {
    return PrintReply(SubmitAction(conn(), wearables::kModule, action, payload, o->wait));
  };

  auto* reg = w->add_subcommand("register", "Register a wearable: its own key, and the custodian that keeps its data");
  add_conn(reg);
  reg->add_option("--device-key", o->device_key, "The device's key file (carechain keygen)")->required();
  reg->add_option("--kind", o->kind, "fitness_tracker, smart_watch, ring, chest_strap, pulse_oximeter, thermometer");
  reg->add_option("--custodian", o->custodian, "The organisation whose node keeps the readings")->required();
  reg->add_option("--model", o->model, "The device's model (shown to you only)");
  reg->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  reg->callback([=] {
    crypto::Init();
    auto d = ReadKeyFile(o->device_key);
    if (!d.ok()) return void(*rc = Fail(d.status()));
    nlohmann::json p = {{"device", d->public_key().hex()}, {"kind", o->kind}, {"custodian", o->custodian}};
    if (!o->model.empty()) p["model"] = o->model;
    *rc = submit("register_device", p);
  });

  auto* revoke = w->add_subcommand("revoke", "Revoke a wearable (lost, sold): its batches are refused from now on");
  add_conn(revoke);
  revoke->add_option("device", o->device, "The device's key (64 hex digits)")->required();
  revoke->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  revoke->callback([=] { *rc = submit("revoke_device", {{"device", o->device}}); });

  auto* send = w->add_subcommand("send", "Send a device's readings (CSV time,metric,value), signed by the device");
  add_conn(send);
  send->add_option("--device-key", o->device_key, "The device's key file")->required();
  send->add_option("--file", o->file, "CSV lines time,metric,value; metrics: heart_rate, spo2, steps, "
                                      "skin_temperature, sleep")->required();
  send->add_option("--seq", o->seq, "The first batch number (default: the next after the chain's)");
  send->add_flag("--wait", o->wait, "Wait until the last batch's anchor is committed");
  send->callback([=] { *rc = Send(conn(), *o); });

  auto* rules = w->add_subcommand("rules", "Show your early-warning rules, or set them with --rule");
  add_conn(rules);
  rules->add_option("--rule", o->rules,
                    "A rule as JSON, repeatable, e.g. '{\"id\":\"tachy\",\"metric\":\"heart_rate\",\"above\":100,"
                    "\"for_s\":600}' (replaces all rules)");
  rules->add_option("--notify", o->notify, "A provider's key who also gets your alerts (repeatable)");
  rules->add_flag("--clear", o->clear, "Remove every rule");
  rules->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    if (o->rules.empty() && o->notify.empty() && !o->clear) {
      auto r = c->Get("/v1/wearables/rules");
      return void(*rc = r.ok() ? Print(*r) : Fail(r.status()));
    }
    nlohmann::json body = {{"rules", nlohmann::json::array()}, {"notify", o->notify}};
    for (const auto& text : o->rules) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      auto rule = wearables::Rule::FromJson(j);
      if (!rule.ok()) return void(*rc = Fail(rule.status()));
      body["rules"].push_back(rule->ToJson());
    }
    auto r = c->Put("/v1/wearables/rules", body.dump(), "application/json");
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });

  auto* alerts = w->add_subcommand("alerts", "Your alerts (or a patient's who named you), oldest first");
  add_conn(alerts);
  alerts->add_option("--patient", o->patient, "The patient's key (a provider they named)");
  alerts->add_option("--after", o->after, "Continue after this alert (the 'last' of a previous listing)");
  alerts->callback([=] {
    std::string q;
    if (!o->patient.empty()) q += "&patient=" + o->patient;
    if (!o->after.empty()) q += "&after=" + o->after;
    *rc = GetAndPrint(conn(), "/v1/wearables/alerts" + (q.empty() ? "" : "?" + q.substr(1)));
  });

  auto* readings = w->add_subcommand("readings", "A device's batch of readings, from its custodian (JSON or FHIR)");
  add_conn(readings);
  readings->add_option("device", o->device, "The device's key (64 hex digits)")->required();
  readings->add_option("--seq", o->seq, "The batch number")->required();
  readings->add_flag("--fhir", o->fhir, "As a FHIR Bundle of Observations");
  readings->callback([=] {
    *rc = GetAndPrint(conn(), "/v1/wearables/devices/" + o->device + "/readings?seq=" + std::to_string(o->seq) +
                                  (o->fhir ? "&format=fhir" : ""));
  });

  auto* erase = w->add_subcommand("erase", "Have your wearable data at its custodian destroyed (cannot be undone)");
  add_conn(erase);
  erase->add_flag("--yes", o->yes, "Yes: destroy my readings, rules and alerts there")->required();
  erase->add_flag("--wait", o->wait, "Wait until the node's receipt is committed");
  erase->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    auto r = c->Post(std::string("/v1/wearables/erasure") + (o->wait ? "?wait=commit" : ""), "", "");
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });

  auto* devices = w->add_subcommand("devices", "Your registered devices");
  add_conn(devices);
  devices->callback([=] {
    auto me = OwnKeyHex(conn());
    if (!me.ok()) return void(*rc = Fail(me.status()));
    *rc = GetAndPrint(conn(), "/v1/modules/wearables/patients/" + *me + "/devices");
  });
}

}  // namespace cc::cli

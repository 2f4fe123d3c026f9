#include "offchain/wearables.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "apps/identity/identity.h"
#include "apps/wearables/summary.h"
#include "crypto/merkle.h"
#include "util/env.h"

namespace cc::offchain {
namespace {

constexpr size_t kMaxRules = 32;
constexpr size_t kMaxNotify = 4;

std::string BatchPrefix(const std::string& device, uint64_t seq) {
  return "wearables/batch/" + device + "/" + ZeroPadded(seq, 8) + "/";
}
std::string AlertPrefix(const std::string& patient) { return "wearables/alert/" + patient + "/"; }
std::string DayPrefix(const std::string& patient, uint8_t metric) {
  return "wearables/day/" + patient + "/" + std::string(wearables::Metrics()[metric].name) + "/";
}

Result<std::vector<wearables::Reading>> ParseReadings(const nlohmann::json& list) {
  if (!list.is_array() || list.empty() || list.size() > wearables::kMaxReadingsPerBatch)
    return Status::Invalid("'readings' must be a list of 1 to 10000 readings");
  std::vector<wearables::Reading> out;
  out.reserve(list.size());
  const auto& metrics = wearables::Metrics();
  const uint64_t latest = Clock::System()->NowMs() + kDayMs;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& r = list[i];
    auto where = [i] { return "readings[" + std::to_string(i) + "]: "; };
    // One pass over the object's members (this loop runs for every reading).
    const nlohmann::json *t = nullptr, *metric = nullptr, *value = nullptr;
    if (r.is_object() && r.size() == 3) {
      for (auto it = r.begin(); it != r.end(); ++it) {
        const std::string& k = it.key();
        if (k == "t") {
          t = &*it;
        } else if (k == "metric") {
          metric = &*it;
        } else if (k == "value") {
          value = &*it;
        }
      }
    }
    if (!t || !metric || !value || !t->is_number_unsigned() || *t == 0 || !metric->is_string() ||
        !value->is_number())
      return Status::Invalid(where() + "must be {\"t\": ms since the epoch, \"metric\": name, \"value\": number}");
    const std::string& name = metric->get_ref<const std::string&>();
    const wearables::Metric* m = wearables::FindMetric(name);
    if (!m) return Status::Invalid(where() + "unknown metric '" + name + "'");
    const double v = *value;
    if (!(v >= m->min && v <= m->max))
      return Status::Invalid(where() + std::string(m->name) + " must lie in " + std::to_string(m->min) + ".." +
                             std::to_string(m->max) + " " + std::string(m->unit));
    wearables::Reading x{t->get<uint64_t>(), static_cast<uint8_t>(m - metrics.data()), std::llround(v * 1000)};
    if (x.t > latest)
      return Status::Invalid(where() + "a reading from the future (more than a day ahead of this node's clock)");
    if (!out.empty() && std::pair(x.t, x.metric) <= std::pair(out.back().t, out.back().metric))
      return Status::Invalid(where() + "readings must be in time order (one per metric and time)");
    out.push_back(x);
  }
  return out;
}

}  // namespace

WearableCustodian::WearableCustodian(RecordStore* store, const StateReader* state, AeadKey master, std::string org)
    : store_(store), state_(state), master_(std::move(master)), org_(std::move(org)) {}

Result<AeadKey> WearableCustodian::DataKey(const std::string& patient) const {
  const std::string key = "wearables/key/" + patient;
  auto sealed = store_->GetDocument(key);
  if (sealed.status().code() == Code::kNotFound) {
    // Write once: of two racing writers, the first key stays and both use it.
    const AeadKey fresh = AeadKey::Generate();
    Status put = store_->PutDocument(key, Seal(master_, fresh.bytes(), key));
    if (!put.ok() && put.code() != Code::kAlreadyExists) return put;
    sealed = store_->GetDocument(key);
  }
  if (!sealed.ok()) return sealed.status();
  CC_ASSIGN_OR_RETURN(std::string raw, Open(master_, *sealed, key));
  return AeadKey::FromBytes(raw);
}

Result<nlohmann::json> WearableCustodian::ReadSealed(const std::string& key, const std::string& patient) const {
  CC_ASSIGN_OR_RETURN(std::string sealed, store_->GetDocument(key));
  CC_ASSIGN_OR_RETURN(AeadKey dk, DataKey(patient));
  CC_ASSIGN_OR_RETURN(std::string plain, Open(dk, sealed, key));
  return nlohmann::json::parse(plain);
}

std::shared_ptr<WearableCustodian::Patient> WearableCustodian::PatientOf(const std::string& patient) {
  std::lock_guard<std::mutex> lock(patients_mu_);
  auto& p = patients_[patient];
  if (!p) p = std::make_shared<Patient>();
  return p;
}

Result<wearables::Evaluator*> WearableCustodian::EvaluatorOf(Patient& p, const std::string& patient,
                                                             const AeadKey& dk) {
  if (p.evaluator) return p.evaluator.get();
  std::vector<wearables::Rule> rules;
  auto stored = ReadSealed("wearables/rules/" + patient, patient);
  if (stored.ok()) {
    for (const auto& j : (*stored)["rules"]) rules.push_back(*wearables::Rule::FromJson(j));
  } else if (stored.status().code() != Code::kNotFound) {
    return stored.status();
  }
  const PublicKey key = *PublicKey::FromHex(patient);
  p.evaluator = std::make_unique<wearables::Evaluator>(
      std::move(rules), [this, key](uint8_t metric, uint64_t first, uint64_t last) {
        return DaySummaries(key, metric, first, last);
      });
  // Runs in progress before a restart carry on.
  const std::string runs_key = "wearables/runs/" + patient;
  if (auto sealed = store_->GetDocument(runs_key); sealed.ok()) {
    if (auto plain = Open(dk, *sealed, runs_key); plain.ok())
      p.evaluator->RestoreRuns(nlohmann::json::parse(*plain, nullptr, false));
  }
  return p.evaluator.get();
}

Result<IngestedBatch> WearableCustodian::Ingest(const PublicKey& caller, const nlohmann::json& body) {
  if (!body.is_object() || body.size() != 4 || !body.contains("device") || !body.contains("seq") ||
      !body.contains("readings") || !body.contains("device_sig"))
    return Status::Invalid("body must be {\"device\", \"seq\", \"readings\", \"device_sig\"}");
  auto device = body["device"].is_string() ? PublicKey::FromHex(body["device"].get<std::string>()) : std::nullopt;
  if (!device) return Status::Invalid("'device' must be the device's key (64 hex digits)");
  auto sig = body["device_sig"].is_string() ? Signature::FromHex(body["device_sig"].get<std::string>()) : std::nullopt;
  if (!sig) return Status::Invalid("'device_sig' must be 128 hex digits");
  if (!body["seq"].is_number_unsigned() || body["seq"] == 0 || body["seq"] > UINT32_MAX)
    return Status::Invalid("'seq' must be the batch number, from 1");
  const uint64_t seq = body["seq"];
  auto d = wearables::ReadDevice(*state_, *device);
  if (!d) return Status::NotFound("no such device: register it first");
  const std::string patient = (*d)["patient"];
  if (patient != caller.hex()) return Status::Denied("only the device's patient sends its readings");
  if ((*d)["custodian"] != org_)
    return Status::Precondition("this device's readings go to its custodian, " + (*d)["custodian"].get<std::string>());
  if ((*d)["status"] != "active") return Status::Precondition("the device is revoked");
  if (seq <= (*d)["batches"].get<uint64_t>())
    return Status::Precondition("batch " + std::to_string(seq) + " of this device is on chain already");
  CC_ASSIGN_OR_RETURN(auto readings, ParseReadings(body["readings"]));

  std::vector<Hash256> leaves;
  leaves.reserve(readings.size());
  for (const auto& r : readings) leaves.push_back(wearables::ReadingLeaf(*device, r));
  const Hash256 root = merkle::Root(std::move(leaves));
  const uint64_t first = readings.front().t, last = readings.back().t;
  const std::string msg = wearables::BatchMessage(device->hex(), seq, readings.size(), first, last, root);
  if (!Verify(*device, AsBytes(msg), *sig))
    return Status::Invalid("the device's signature does not match these readings");

  IngestedBatch out;
  out.readings = readings.size();
  out.anchor = {{"device", device->hex()}, {"seq", seq},   {"count", readings.size()}, {"first", first},
                {"last", last},            {"root", root.hex()}, {"device_sig", sig->hex()}};
  const std::string doc = BatchPrefix(device->hex(), seq) + root.hex();

  auto state = PatientOf(patient);
  std::lock_guard<std::mutex> lock(state->mu);
  if (store_->GetDocument(doc).ok()) return out;  // a retry: stored and evaluated before
  CC_ASSIGN_OR_RETURN(auto same_seq, store_->ListDocuments(BatchPrefix(device->hex(), seq), "", 1));
  if (!same_seq.empty())
    return Status::Exists("another batch " + std::to_string(seq) + " of this device was received: number it " +
                          std::to_string(seq + 1) + " or later");
  CC_ASSIGN_OR_RETURN(AeadKey dk, DataKey(patient));

  // The batch, its day summaries (research aggregates, baselines), the
  // alerts it raised and the rules' runs after it: one store transaction.
  // The evaluator advances only once they are stored.
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : readings) list.push_back({r.t, r.metric, r.milli});
  std::vector<DocumentWrite> writes = {{doc, Seal(dk, list.dump(), doc)}};
  for (const auto& [at, summary] : wearables::SummarizeDays(readings)) {
    std::string key = DayPrefix(patient, at.first) + ZeroPadded(at.second, 6) + "/" + device->hex() + "/" +
                      ZeroPadded(seq, 8);
    std::string sealed = Seal(dk, summary.Encode(), key);
    writes.push_back({std::move(key), std::move(sealed)});
  }
  CC_ASSIGN_OR_RETURN(wearables::Evaluator* e, EvaluatorOf(*state, patient, dk));
  const nlohmann::json before = e->SaveRuns();
  Status s = e->rules().empty() ? Status::Ok() : Evaluate(*e, patient, device->hex(), readings, dk, &out, &writes);
  if (s.ok()) s = store_->WriteDocuments(writes);
  if (!s.ok()) {
    e->RestoreRuns(before);  // nothing stored: a retry evaluates the batch again
    return s;
  }
  if (!out.alerts.empty()) {
    std::lock_guard<std::mutex> a(alert_mu_);
    alert_counts_[patient] += out.alerts.size();
    alert_cv_.notify_all();
  }
  return out;
}

Status WearableCustodian::Evaluate(wearables::Evaluator& e, const std::string& patient, const std::string& device,
                                   const std::vector<wearables::Reading>& readings, const AeadKey& dk,
                                   IngestedBatch* out, std::vector<DocumentWrite>* writes) {
  std::map<uint8_t, std::vector<wearables::Sample>> by_metric;
  for (const auto& r : readings) by_metric[r.metric].push_back({r.t, static_cast<double>(r.milli) / 1000});
  for (const auto& [m, samples] : by_metric) {
    CC_ASSIGN_OR_RETURN(auto alerts, e.Feed(wearables::Metrics()[m].name, samples));
    for (auto& a : alerts) out->alerts.push_back(std::move(a));
  }
  std::stable_sort(out->alerts.begin(), out->alerts.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  for (const auto& a : out->alerts) {
    nlohmann::json j = a.ToJson();
    j["device"] = device;
    // (Replace: two devices' readings at one time could raise a rule's alert twice.)
    const std::string key = AlertPrefix(patient) + ZeroPadded(a.at, 16) + "/" + a.rule;
    writes->push_back({key, Seal(dk, j.dump(), key), /*replace=*/true});
  }
  const std::string runs_key = "wearables/runs/" + patient;
  writes->push_back({runs_key, Seal(dk, e.SaveRuns().dump(), runs_key), /*replace=*/true});
  return Status::Ok();
}

Status WearableCustodian::SetRules(const PublicKey& patient, const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("rules") || !body["rules"].is_array() || body["rules"].size() > kMaxRules)
    return Status::Invalid("body must be {\"rules\": [up to 32 rules], \"notify\"?: [provider keys]}");
  for (const auto& [k, _] : body.items()) {
    if (k != "rules" && k != "notify") return Status::Invalid("unknown field '" + k + "'");
  }
  nlohmann::json stored = {{"rules", nlohmann::json::array()}, {"notify", nlohmann::json::array()}};
  std::vector<std::string> ids;
  for (const auto& j : body["rules"]) {
    CC_ASSIGN_OR_RETURN(wearables::Rule r, wearables::Rule::FromJson(j));
    if (std::find(ids.begin(), ids.end(), r.id) != ids.end()) return Status::Invalid("rule id '" + r.id + "' twice");
    ids.push_back(r.id);
    stored["rules"].push_back(r.ToJson());
  }
  if (body.contains("notify")) {
    if (!body["notify"].is_array() || body["notify"].size() > kMaxNotify)
      return Status::Invalid("'notify' must list up to 4 providers' keys");
    for (const auto& k : body["notify"]) {
      auto key = k.is_string() ? PublicKey::FromHex(k.get<std::string>()) : std::nullopt;
      if (!key || !identity::OrgIfRole(*state_, *key, {"provider"}))
        return Status::Invalid("'notify' must list active providers' keys");
      stored["notify"].push_back(key->hex());
    }
  }
  const std::string p = patient.hex();
  auto state = PatientOf(p);
  std::lock_guard<std::mutex> lock(state->mu);
  CC_ASSIGN_OR_RETURN(AeadKey dk, DataKey(p));
  const std::string key = "wearables/rules/" + p;
  CC_RETURN_IF_ERROR(store_->ReplaceDocument(key, Seal(dk, stored.dump(), key)));
  state->evaluator.reset();  // new rules start from fresh runs (their fingerprint differs)
  return Status::Ok();
}

Result<nlohmann::json> WearableCustodian::Rules(const PublicKey& patient) const {
  auto r = ReadSealed("wearables/rules/" + patient.hex(), patient.hex());
  if (r.status().code() == Code::kNotFound)
    return nlohmann::json{{"rules", nlohmann::json::array()}, {"notify", nlohmann::json::array()}};
  return r;
}

bool WearableCustodian::MayReadAlerts(const PublicKey& reader, const PublicKey& patient) const {
  if (reader == patient) return true;
  auto r = Rules(patient);
  if (!r.ok()) return false;
  const auto& n = (*r)["notify"];
  return std::find(n.begin(), n.end(), reader.hex()) != n.end() && identity::OrgIfRole(*state_, reader, {"provider"});
}

Result<nlohmann::json> WearableCustodian::Alerts(const PublicKey& patient, const std::string& after,
                                                 size_t limit) const {
  const std::string p = patient.hex();
  const std::string prefix = AlertPrefix(p);
  CC_ASSIGN_OR_RETURN(auto docs, store_->ListDocuments(prefix, after.empty() ? "" : prefix + after, limit));
  CC_ASSIGN_OR_RETURN(AeadKey dk, DataKey(p));
  nlohmann::json list = nlohmann::json::array();
  std::string last;
  for (const auto& [k, sealed] : docs) {
    CC_ASSIGN_OR_RETURN(std::string plain, Open(dk, sealed, k));
    list.push_back(nlohmann::json::parse(plain));
    last = k.substr(prefix.size());
  }
  nlohmann::json out = {{"patient", p}, {"alerts", list}};
  if (!last.empty()) out["last"] = last;
  if (docs.size() == limit) out["next_after"] = last;
  return out;
}

Result<std::vector<wearables::Reading>> WearableCustodian::Batch(const PublicKey& device, uint64_t seq,
                                                                 const std::string& root) const {
  auto d = wearables::ReadDevice(*state_, device);
  if (!d) return Status::NotFound("no such device");
  CC_ASSIGN_OR_RETURN(nlohmann::json list, ReadSealed(BatchPrefix(device.hex(), seq) + root, (*d)["patient"]));
  std::vector<wearables::Reading> out;
  for (const auto& r : list) out.push_back({r[0], r[1], r[2]});
  return out;
}

Result<size_t> WearableCustodian::Erase(const PublicKey& patient) {
  const std::string p = patient.hex();
  auto state = PatientOf(p);
  std::lock_guard<std::mutex> lock(state->mu);  // no batch half-stored under the old key
  std::vector<std::string> prefixes = {"wearables/key/" + p, "wearables/rules/" + p, "wearables/runs/" + p,
                                       AlertPrefix(p), "wearables/day/" + p + "/"};
  for (const auto& dev : wearables::PatientDevices(*state_, patient)) {
    auto d = wearables::ReadDevice(*state_, dev);
    if (d && (*d)["custodian"] == org_) prefixes.push_back("wearables/batch/" + dev.hex() + "/");
  }
  size_t n = 0;
  for (const auto& prefix : prefixes) {  // the key first: from then on nothing of the rest is readable
    CC_ASSIGN_OR_RETURN(size_t deleted, store_->DeleteDocuments(prefix));
    n += deleted;
  }
  state->evaluator.reset();
  return n;
}

bool WearableCustodian::Keeps(const PublicKey& patient) const {
  for (const auto& dev : wearables::PatientDevices(*state_, patient)) {
    auto d = wearables::ReadDevice(*state_, dev);
    if (d && (*d)["custodian"] == org_) return true;
  }
  return false;
}

Result<wearables::DaySummary> WearableCustodian::DaySummaries(const PublicKey& patient, uint8_t metric,
                                                             uint64_t first_day, uint64_t last_day) const {
  const std::string p = patient.hex(), prefix = DayPrefix(p, metric);
  wearables::DaySummary out;
  auto dk = DataKey(p);
  if (!dk.ok()) return dk.status();
  // Keys run <day>/<device>/<seq>: start just before the first day's.
  std::string after = prefix + ZeroPadded(first_day, 6);
  const std::string end = prefix + ZeroPadded(last_day + 1, 6);
  // Only anchored batches count, as in exports: a batch whose anchor has
  // not committed (or never will) is left out. Keys end <device>/<seq>.
  std::map<std::string, uint64_t, std::less<>> anchored;  // by device
  auto is_anchored = [&](std::string_view key) {
    const std::string_view tail = key.substr(key.size() - 64 - 1 - 8);
    const std::string_view dev = tail.substr(0, 64);
    auto it = anchored.find(dev);
    if (it == anchored.end()) {
      auto d = wearables::ReadDevice(*state_, *PublicKey::FromHex(dev));
      it = anchored.emplace(std::string(dev), d ? (*d)["batches"].get<uint64_t>() : 0).first;
    }
    return std::stoull(std::string(tail.substr(65))) <= it->second;
  };
  for (;;) {
    CC_ASSIGN_OR_RETURN(auto docs, store_->ListDocuments(prefix, after, 1000));
    for (const auto& [k, sealed] : docs) {
      if (k >= end) return out;
      if (!is_anchored(k)) continue;
      CC_ASSIGN_OR_RETURN(std::string plain, Open(*dk, sealed, k));
      CC_ASSIGN_OR_RETURN(auto s, wearables::DaySummary::Decode(plain));
      out.Merge(s);
    }
    if (docs.size() < 1000) return out;
    after = docs.back().first;
  }
}

Result<std::vector<wearables::Reading>> WearableCustodian::PatientReadings(const PublicKey& patient,
                                                                         uint8_t metric) const {
  std::vector<wearables::Reading> out;
  for (const auto& dev : wearables::PatientDevices(*state_, patient)) {
    auto d = wearables::ReadDevice(*state_, dev);
    if (!d || (*d)["custodian"] != org_) continue;
    const uint64_t batches = (*d)["batches"];
    for (uint64_t seq = 1; seq <= batches; ++seq) {
      auto a = wearables::ReadAnchor(*state_, dev, seq);
      if (!a) continue;
      auto batch = Batch(dev, seq, (*a)["root"]);
      if (batch.status().code() == Code::kNotFound) continue;  // anchored, but received by another node
      if (!batch.ok()) return batch.status();
      for (const auto& r : *batch) {
        if (r.metric == metric) out.push_back(r);
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  return out;
}

Hash256 WearableCustodian::Keyed(std::string_view data) const { return SaltedHash(master_.bytes(), data); }

uint64_t WearableCustodian::WaitForAlerts(const std::string& patient, uint64_t seen, uint64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(alert_mu_);
  auto count = [&] {
    auto it = alert_counts_.find(patient);
    return it == alert_counts_.end() ? uint64_t{0} : it->second;
  };
  alert_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return count() > seen; });
  return count();
}

}  // namespace cc::offchain

#include "apps/coldchain/coldchain.h"

#include <cmath>

#include "apps/identity/identity.h"
#include "apps/supply/gs1.h"
#include "apps/supply/supply.h"
#include "crypto/merkle.h"

namespace cc::coldchain {
namespace {

constexpr std::string_view kShipment = "coldchain/shipment/";
constexpr std::string_view kLogger = "coldchain/logger/";      // <shipment>/<device>
constexpr std::string_view kExcursion = "coldchain/excursion/";  // <shipment>/<device>/<n>
constexpr std::string_view kAnchor = "coldchain/anchor/";      // <shipment>/<device>/<seq>
constexpr std::string_view kOnBoard = "coldchain/pack/";       // <gtin>/<serial hex>: undecided shipment
constexpr std::string_view kRejected = "coldchain/rejected/";  // <gtin>/<serial hex>
constexpr double kRefKelvin = 298.15;
constexpr double kZeroCelsius = 273.15;

std::string PackTail(std::string_view gtin, std::string_view serial) {
  return std::string(gtin) + "/" + ToHex(AsBytes(serial));
}
std::string LoggerKey(std::string_view ship, std::string_view dev) {
  return std::string(kLogger) + std::string(ship) + "/" + std::string(dev);
}
std::string ExcursionKey(std::string_view ship, std::string_view dev, uint64_t n) {
  return std::string(kExcursion) + std::string(ship) + "/" + std::string(dev) + "/" + ZeroPadded(n, 6);
}
std::string AnchorKey(std::string_view ship, std::string_view dev, uint64_t seq) {
  return std::string(kAnchor) + std::string(ship) + "/" + std::string(dev) + "/" + ZeroPadded(seq, 8);
}
void WriteJson(Overlay& state, const std::string& key, const nlohmann::json& j) { state.Put(key, j.dump()); }

// How far a reading lies outside [low, high] (0 inside).
int64_t Outside(int32_t c, int32_t low, int32_t high) {
  if (c > high) return int64_t{c} - high;
  if (c < low) return int64_t{low} - c;
  return 0;
}

nlohmann::json RunJson(const Run& r) {
  return {{"from", r.from}, {"to", r.to}, {"peak", r.peak}, {"open", r.open}};
}
Run RunOf(const nlohmann::json& j) {
  return {j["from"].get<uint64_t>(), j["to"].get<uint64_t>(), j["peak"].get<int32_t>(), j["open"].get<bool>()};
}

// The (shipment, pack) list a shipment carries: its packs and its cases' packs.
std::vector<std::pair<std::string, std::string>> PacksOf(const StateReader& state, const nlohmann::json& ship) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : ship["packs"]) out.emplace_back(p["gtin"], p["serial"]);
  for (const auto& cid : ship["cases"]) {
    auto c = supply::ReadCase(state, cid.get<std::string>());
    if (!c) continue;
    for (const auto& p : (*c)["packs"]) out.emplace_back(p["gtin"], p["serial"]);
  }
  return out;
}

// The factor of the MKT limit: a logger's MKT is within `mkt_max` iff its
// factor sum is at most count times this.
double LimitFactor(int32_t mkt_max, uint64_t dh_r) {
  return static_cast<double>(kFactorScale) *
         DetExp(static_cast<double>(dh_r) * (1.0 / kRefKelvin - 1.0 / (kZeroCelsius + mkt_max / 100.0)));
}

// Why the shipment may not be released (empty: it may). Deterministic.
std::vector<std::string> ReleaseBlockers(const StateReader& state, const std::string& id, const nlohmann::json& ship) {
  std::vector<std::string> why;
  const uint64_t dh_r = ship["dh_r"];
  const uint64_t max_ms = ship["max_excursion_s"].get<uint64_t>() * 1000;
  const double limit = LimitFactor(ship["mkt_max"].get<int32_t>(), dh_r);
  for (const auto& d : ship["devices"]) {
    const std::string dev = d;
    const std::string tag = "logger " + dev.substr(0, 8);
    auto lg = ReadJsonObject(state, LoggerKey(id, dev));
    if (!lg || (*lg)["count"].get<uint64_t>() == 0) {
      why.push_back(tag + " sent no readings");
      continue;
    }
    if ((*lg)["excursion_ms"].get<uint64_t>() > max_ms)
      why.push_back(tag + ": " + std::to_string((*lg)["excursion_ms"].get<uint64_t>() / 1000) +
                    " s out of range (the product allows " + std::to_string(max_ms / 1000) + " s)");
    const double sum = static_cast<double>((*lg)["arrhenius"].get<uint64_t>());
    if (sum > static_cast<double>((*lg)["count"].get<uint64_t>()) * limit)
      why.push_back(tag + ": mean kinetic temperature above the product's limit");
  }
  return why;
}

}  // namespace

double DetExp(double x) {
  // x = k·ln2 + r with |r| <= ln2/2; e^r by its Taylor series (Horner);
  // ldexp is exact. ln2 in two parts keeps k·ln2 exact for |k| < 2^11.
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0;
  for (int n = 20; n >= 1; --n) p = 1.0 + p * r / n;
  return std::ldexp(p, static_cast<int>(k));
}

double DetLn(double x) {
  // x = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m−1)/(m+1),
  // |s| < 0.172, so 25 terms of the series are far below an ulp.
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1), s2 = s * s;
  double sum = 0;
  for (int n = 49; n >= 1; n -= 2) sum = 1.0 / n + s2 * sum;
  return e * 6.93147180559945309417e-01 + 2 * s * sum;
}

uint64_t ArrheniusFactor(int32_t centi_c, uint64_t dh_r) {
  const double kelvin = kZeroCelsius + centi_c / 100.0;
  const double f = DetExp(static_cast<double>(dh_r) * (1.0 / kRefKelvin - 1.0 / kelvin));
  return static_cast<uint64_t>(std::floor(f * static_cast<double>(kFactorScale) + 0.5));
}

int32_t MktCentiC(uint64_t arrhenius, uint64_t count, uint64_t dh_r) {
  if (count == 0 || arrhenius == 0) return kMinCentiC;
  const double mean = static_cast<double>(arrhenius) / (static_cast<double>(count) * kFactorScale);
  const double dh = static_cast<double>(dh_r);
  const double kelvin = dh / (dh / kRefKelvin - DetLn(mean));
  return static_cast<int32_t>(std::floor((kelvin - kZeroCelsius) * 100.0 + 0.5));
}

Hash256 ReadingLeaf(const std::string& shipment_hex, const Reading& r) {
  // "coldchain/reading" || shipment (8 bytes) || t (8, big-endian) || c (4, big-endian two's complement)
  std::string data = "coldchain/reading";
  auto id = FromHex(shipment_hex);
  data.append(id ? std::string(id->begin(), id->end()) : shipment_hex);
  AppendBigEndian64(&data, r.t);
  const auto c = static_cast<uint32_t>(r.c);
  for (int i = 3; i >= 0; --i) data.push_back(static_cast<char>((c >> (8 * i)) & 0xff));
  return merkle::LeafHash(AsBytes(data));
}

Result<Summary> Summarize(const std::string& shipment_hex, const std::vector<Reading>& readings, int32_t low,
                          int32_t high, uint64_t dh_r) {
  if (readings.empty() || readings.size() > kMaxReadingsPerBatch)
    return Status::Invalid("a batch holds 1 to " + std::to_string(kMaxReadingsPerBatch) + " readings");
  Summary s;
  s.count = readings.size();
  s.first = readings.front().t;
  s.last = readings.back().t;
  s.min = s.max = readings.front().c;
  std::vector<Hash256> leaves;
  leaves.reserve(readings.size());
  std::optional<Run> run;
  for (size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    if (r.c < kMinCentiC || r.c > kMaxCentiC)
      return Status::Invalid("reading " + std::to_string(i) + ": temperature outside -100.00..100.00 °C");
    if (r.t == 0 || (i > 0 && r.t <= readings[i - 1].t))
      return Status::Invalid("reading " + std::to_string(i) + ": timestamps must increase strictly");
    s.min = std::min(s.min, r.c);
    s.max = std::max(s.max, r.c);
    s.arrhenius += ArrheniusFactor(r.c, dh_r);
    leaves.push_back(ReadingLeaf(shipment_hex, r));
    if (Outside(r.c, low, high) > 0) {
      if (!run) run = Run{r.t, r.t, r.c, true};
      if (Outside(r.c, low, high) > Outside(run->peak, low, high)) run->peak = r.c;
      run->to = r.t;
    } else if (run) {
      run->to = r.t;
      run->open = false;
      s.runs.push_back(*run);
      run.reset();
    }
  }
  if (run) s.runs.push_back(*run);
  s.root = merkle::Root(std::move(leaves));
  return s;
}

nlohmann::json AnchorPayload(const std::string& shipment_hex, uint64_t seq, const Summary& s) {
  nlohmann::json p = {{"shipment", shipment_hex}, {"seq", seq},     {"count", s.count},
                      {"first", s.first},         {"last", s.last}, {"root", s.root.hex()},
                      {"min", s.min},             {"max", s.max},   {"arrhenius", s.arrhenius}};
  if (!s.runs.empty()) {
    p["runs"] = nlohmann::json::array();
    for (const Run& r : s.runs) p["runs"].push_back(RunJson(r));
  }
  return p;
}

Summary SummaryOf(const nlohmann::json& p) {
  Summary s;
  s.count = p["count"];
  s.first = p["first"];
  s.last = p["last"];
  s.min = p["min"];
  s.max = p["max"];
  s.arrhenius = p["arrhenius"];
  s.root = *Hash256::FromHex(p["root"].get<std::string>());
  if (p.contains("runs"))
    for (const auto& r : p["runs"]) s.runs.push_back(RunOf(r));
  return s;
}

std::optional<nlohmann::json> ReadShipment(const StateReader& state, std::string_view shipment_hex) {
  return ReadJsonObject(state, std::string(kShipment) + std::string(shipment_hex));
}

std::optional<nlohmann::json> ReadAnchor(const StateReader& state, std::string_view shipment_hex,
                                         const PublicKey& device, uint64_t seq) {
  return ReadJsonObject(state, AnchorKey(shipment_hex, device.hex(), seq));
}

std::optional<std::string> RejectedIn(const StateReader& state, std::string_view gtin, std::string_view serial) {
  return state.Get(std::string(kRejected) + PackTail(gtin, serial));
}

ColdchainModule::ColdchainModule() {
  PayloadSchema ref;
  ref.String("gtin", 14).String("serial", supply::kMaxSerialLen);
  create_.Hex("shipment", 8)
      .Id("carrier")
      .Id("to")
      .String("route", 200)
      .Objects("packs", ref, supply::kMaxPacksPerTx, false)
      .HexList("cases", 16, 100, false)
      .HexList("devices", 32, 8)
      .Int("low", kMinCentiC, kMaxCentiC)
      .Int("high", kMinCentiC, kMaxCentiC)
      .UInt("max_excursion_s", 0, 30 * 86400)
      .UInt("dh_r", 1000, 20000, false)
      .Int("mkt_max", kMinCentiC, kMaxCentiC, false);
  PayloadSchema run;
  run.UInt("from", 1, UINT64_MAX).UInt("to", 1, UINT64_MAX).Int("peak", kMinCentiC, kMaxCentiC).Bool("open");
  anchor_.Hex("shipment", 8)
      .UInt("seq", 1, kMaxReadingsPerDevice)
      .UInt("count", 1, kMaxReadingsPerBatch)
      .UInt("first", 1, UINT64_MAX)
      .UInt("last", 1, UINT64_MAX)
      .Hex("root", 32)
      .Int("min", kMinCentiC, kMaxCentiC)
      .Int("max", kMinCentiC, kMaxCentiC)
      .UInt("arrhenius", 0, UINT64_MAX)
      .Objects("runs", run, kMaxReadingsPerBatch, false);
  arrive_.Hex("shipment", 8);
  decide_.Hex("shipment", 8).Enum("decision", {"release", "reject"}).String("reason", 500);
}

Status ColdchainModule::Check(std::string_view action, const nlohmann::json& p) const {
  if (action == "create") {
    CC_RETURN_IF_ERROR(create_.Check(p));
    if (p["low"].get<int64_t>() >= p["high"].get<int64_t>()) return Status::Invalid("'low' must be below 'high'");
    if (!p.contains("packs") && !p.contains("cases")) return Status::Invalid("a shipment carries 'packs' or 'cases'");
    if (p.contains("packs")) {
      for (const auto& item : p["packs"]) {
        CC_RETURN_IF_ERROR(supply::NormalizeGtin(item["gtin"].get<std::string>()).status());
        if (!supply::IsCset82(item["serial"].get<std::string>()))
          return Status::Invalid("serial must be characters of GS1's set 82");
      }
    }
    return Status::Ok();
  }
  if (action == "anchor") {
    CC_RETURN_IF_ERROR(anchor_.Check(p));
    const Summary s = SummaryOf(p);
    if (s.first > s.last) return Status::Invalid("'first' is after 'last'");
    if (s.last - s.first < s.count - 1) return Status::Invalid("timestamps of a batch must increase strictly");
    if (s.min > s.max) return Status::Invalid("'min' is above 'max'");
    uint64_t prev_to = 0;
    for (size_t i = 0; i < s.runs.size(); ++i) {
      const Run& r = s.runs[i];
      if (r.from < s.first || r.to > s.last || r.from > r.to || (i > 0 && r.from <= prev_to))
        return Status::Invalid("runs must lie in [first, last], in order, without overlap");
      if (r.open && (i + 1 != s.runs.size() || r.to != s.last))
        return Status::Invalid("only the last run may be open, and it then ends at 'last'");
      if (!r.open && r.to == r.from) return Status::Invalid("a closed run ends at a later reading");
      if (r.peak < s.min || r.peak > s.max) return Status::Invalid("a run's peak lies outside [min, max]");
      prev_to = r.to;
    }
    return Status::Ok();
  }
  if (action == "arrive") return arrive_.Check(p);
  if (action == "decide") return decide_.Check(p);
  return Status::Invalid("unknown action '" + std::string(action) + "'");
}

TxResult ColdchainModule::Execute(const TxContext& ctx, Overlay& state) const {
  const std::string& a = ctx.tx.body().action;
  if (a == "create") return Create(ctx, state);
  if (a == "anchor") return Anchor(ctx, state);
  if (a == "arrive") return Arrive(ctx, state);
  return Decide(ctx, state);
}

TxResult ColdchainModule::Create(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  auto org = identity::OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  if (!org) return TxResult::Reject(TxCode::kUnauthorized, "shipments are sent by a manufacturer, wholesaler or pharmacy");
  const std::string id = p["shipment"];
  if (state.Get(std::string(kShipment) + id)) return TxResult::Reject(TxCode::kAlreadyExists, "shipment id is taken");
  for (const char* f : {"carrier", "to"}) {
    if (!state.Get("identity/org/" + p[f].get<std::string>()))
      return TxResult::Reject(TxCode::kNotFound, "no organisation '" + p[f].get<std::string>() + "'");
  }
  if (p["to"] == *org) return TxResult::Reject(TxCode::kInvalidPayload, "a shipment goes to another organisation");
  for (const auto& d : p["devices"]) {
    auto a = identity::LookupActor(state, *PublicKey::FromHex(d.get<std::string>()));
    if (!a || !a->active || a->role != "device")
      return TxResult::Reject(TxCode::kNotFound, "logger " + d.get<std::string>().substr(0, 8) + " is not an active device");
  }
  nlohmann::json ship = {{"from", *org},
                         {"carrier", p["carrier"]},
                         {"to", p["to"]},
                         {"route", p["route"]},
                         {"packs", nlohmann::json::array()},
                         {"cases", p.value("cases", nlohmann::json::array())},
                         {"devices", p["devices"]},
                         {"low", p["low"]},
                         {"high", p["high"]},
                         {"max_excursion_s", p["max_excursion_s"]},
                         {"dh_r", p.value("dh_r", kDefaultDhR)},
                         {"mkt_max", p.value("mkt_max", p["high"].get<int32_t>())},
                         {"status", "in_transit"},
                         {"created_at", ctx.time_ms},
                         {"created_by", ctx.tx.body().actor.hex()}};
  if (p.contains("packs"))
    for (const auto& item : p["packs"])
      ship["packs"].push_back({{"gtin", *supply::NormalizeGtin(item["gtin"].get<std::string>())}, {"serial", item["serial"]}});
  for (const auto& cid : ship["cases"]) {
    auto c = supply::ReadCase(state, cid.get<std::string>());
    if (!c || (*c)["status"] != "sealed" || (*c)["owner"] != *org)
      return TxResult::Reject(TxCode::kFailedPrecondition, "case " + cid.get<std::string>() + " is not a sealed case of " + *org);
  }
  for (const auto& [gtin, serial] : PacksOf(state, ship)) {
    auto pack = supply::ReadPack(state, gtin, serial);
    if (!pack) return TxResult::Reject(TxCode::kNotFound, "unknown pack " + gtin);
    if ((*pack)["owner"] != *org || (*pack)["status"] != "active")
      return TxResult::Reject(TxCode::kFailedPrecondition, "pack " + gtin + " is not an active pack of " + *org);
    const std::string on_board = std::string(kOnBoard) + PackTail(gtin, serial);
    if (state.Get(on_board)) return TxResult::Reject(TxCode::kFailedPrecondition, "pack " + gtin + " travels in another shipment");
    state.Put(on_board, id);
  }
  WriteJson(state, std::string(kShipment) + id, ship);
  return TxResult::Ok();
}

TxResult ColdchainModule::Anchor(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const std::string id = p["shipment"];
  auto ship = ReadShipment(state, id);
  if (!ship) return TxResult::Reject(TxCode::kNotFound, "no shipment with this id");
  const std::string dev = ctx.tx.body().actor.hex();
  const auto& devs = (*ship)["devices"];
  if (std::find(devs.begin(), devs.end(), dev) == devs.end())
    return TxResult::Reject(TxCode::kUnauthorized, "only the shipment's loggers anchor its readings");
  if ((*ship).contains("decision")) return TxResult::Reject(TxCode::kFailedPrecondition, "the shipment is decided already");
  const Summary s = SummaryOf(p);
  const int32_t low = (*ship)["low"], high = (*ship)["high"];
  const uint64_t dh_r = (*ship)["dh_r"];
  const std::string lkey = LoggerKey(id, dev);
  nlohmann::json lg = ReadJsonObject(state, lkey).value_or(nlohmann::json{
      {"batches", 0}, {"count", 0}, {"first", 0}, {"last", 0}, {"min", 0}, {"max", 0}, {"arrhenius", 0},
      {"excursion_ms", 0}, {"excursions", 0}, {"open", false}});
  const uint64_t batches = lg["batches"], count = lg["count"];
  if (p["seq"].get<uint64_t>() != batches + 1)
    return TxResult::Reject(TxCode::kFailedPrecondition, "expected batch " + std::to_string(batches + 1) + " of this logger");
  if (batches > 0 && s.first <= lg["last"].get<uint64_t>())
    return TxResult::Reject(TxCode::kInvalidPayload, "readings out of order: the batch starts before the previous one ended");
  if (count + s.count > kMaxReadingsPerDevice)
    return TxResult::Reject(TxCode::kFailedPrecondition, "a logger sends at most 10,000,000 readings per shipment");
  // The summary must agree with the shipment's range and factors.
  if (s.runs.empty() != (s.min >= low && s.max <= high))
    return TxResult::Reject(TxCode::kInvalidPayload, "runs disagree with min/max and the allowed range");
  for (const Run& r : s.runs)
    if (Outside(r.peak, low, high) == 0) return TxResult::Reject(TxCode::kInvalidPayload, "a run's peak is inside the range");
  const uint64_t fmin = ArrheniusFactor(s.min, dh_r), fmax = ArrheniusFactor(s.max, dh_r);
  // Each factor may be off by one where a logger rounds differently.
  if (s.arrhenius + s.count < s.count * fmin || s.arrhenius > s.count * fmax + s.count)
    return TxResult::Reject(TxCode::kInvalidPayload, "'arrhenius' does not fit the batch's min and max");
  uint64_t sum = 0;
  if (__builtin_add_overflow(lg["arrhenius"].get<uint64_t>(), s.arrhenius, &sum))
    return TxResult::Reject(TxCode::kFailedPrecondition, "too many hot readings for one logger");

  // Join the batch's runs to the logger's excursions.
  uint64_t n = lg["excursions"], excursion_ms = lg["excursion_ms"];
  size_t i = 0;
  if (lg["open"].get<bool>()) {
    const std::string k = ExcursionKey(id, dev, n - 1);
    Run open = RunOf(*ReadJsonObject(state, k));
    excursion_ms -= open.to - open.from;
    if (!s.runs.empty() && s.runs[0].from == s.first) {  // still outside
      const Run& r = s.runs[i++];
      if (Outside(r.peak, low, high) > Outside(open.peak, low, high)) open.peak = r.peak;
      open.to = r.to;
      open.open = r.open;
    } else {  // back inside at the batch's first reading
      open.to = s.first;
      open.open = false;
    }
    excursion_ms += open.to - open.from;
    WriteJson(state, k, RunJson(open));
    lg["open"] = open.open;
  }
  for (; i < s.runs.size(); ++i) {
    WriteJson(state, ExcursionKey(id, dev, n++), RunJson(s.runs[i]));
    excursion_ms += s.runs[i].to - s.runs[i].from;
    lg["open"] = s.runs[i].open;
  }
  lg["min"] = batches == 0 ? s.min : std::min(lg["min"].get<int32_t>(), s.min);
  lg["max"] = batches == 0 ? s.max : std::max(lg["max"].get<int32_t>(), s.max);
  if (batches == 0) lg["first"] = s.first;
  lg["last"] = s.last;
  lg["batches"] = batches + 1;
  lg["count"] = count + s.count;
  lg["arrhenius"] = sum;
  lg["excursions"] = n;
  lg["excursion_ms"] = excursion_ms;
  WriteJson(state, lkey, lg);
  WriteJson(state, AnchorKey(id, dev, batches + 1),
            {{"root", p["root"]}, {"count", s.count}, {"first", s.first}, {"last", s.last}, {"min", s.min},
             {"max", s.max}, {"tx", ctx.tx.id().hex()}, {"height", ctx.height}});
  return TxResult::Ok();
}

TxResult ColdchainModule::Arrive(const TxContext& ctx, Overlay& state) const {
  const std::string id = ctx.payload["shipment"];
  auto ship = ReadShipment(state, id);
  if (!ship) return TxResult::Reject(TxCode::kNotFound, "no shipment with this id");
  auto receiver = identity::OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  auto carrier = identity::OrgIfRole(state, ctx.tx.body().actor, {"carrier"});
  if (receiver != (*ship)["to"].get<std::string>() && carrier != (*ship)["carrier"].get<std::string>())
    return TxResult::Reject(TxCode::kUnauthorized, "the receiver or the carrier records the arrival");
  if ((*ship)["status"] != "in_transit") return TxResult::Reject(TxCode::kFailedPrecondition, "the shipment has arrived already");
  (*ship)["status"] = "arrived";
  (*ship)["arrived_at"] = ctx.time_ms;
  WriteJson(state, std::string(kShipment) + id, *ship);
  return TxResult::Ok();
}

TxResult ColdchainModule::Decide(const TxContext& ctx, Overlay& state) const {
  const auto& p = ctx.payload;
  const std::string id = p["shipment"];
  auto ship = ReadShipment(state, id);
  if (!ship) return TxResult::Reject(TxCode::kNotFound, "no shipment with this id");
  auto receiver = identity::OrgIfRole(state, ctx.tx.body().actor, {"manufacturer", "wholesaler", "pharmacist"});
  auto regulator = identity::OrgIfRole(state, ctx.tx.body().actor, {"regulator"});
  if (receiver != (*ship)["to"].get<std::string>() && !regulator)
    return TxResult::Reject(TxCode::kUnauthorized, "the receiving organisation or a regulator decides on a shipment");
  if ((*ship)["status"] == "in_transit")
    return TxResult::Reject(TxCode::kFailedPrecondition, "the shipment has not arrived: record its arrival first");
  if (ship->contains("decision")) return TxResult::Reject(TxCode::kFailedPrecondition, "the shipment is decided already");
  const std::string decision = p["decision"];
  if (decision == "release") {
    auto why = ReleaseBlockers(state, id, *ship);
    if (!why.empty()) return TxResult::Reject(TxCode::kFailedPrecondition, "cannot release: " + why.front());
  }
  for (const auto& [gtin, serial] : PacksOf(state, *ship)) {
    const std::string tail = PackTail(gtin, serial);
    state.Delete(std::string(kOnBoard) + tail);
    if (decision == "reject") state.Put(std::string(kRejected) + tail, id);
  }
  // What the decision saw, per logger: kept with it.
  nlohmann::json seen = nlohmann::json::array();
  for (const auto& d : (*ship)["devices"]) {
    auto lg = ReadJsonObject(state, LoggerKey(id, d.get<std::string>()));
    if (!lg) {
      seen.push_back({{"device", d}, {"count", 0}});
      continue;
    }
    seen.push_back({{"device", d}, {"count", (*lg)["count"]}, {"excursion_ms", (*lg)["excursion_ms"]},
                    {"mkt", MktCentiC((*lg)["arrhenius"], (*lg)["count"], (*ship)["dh_r"])}});
  }
  (*ship)["status"] = decision == "release" ? "released" : "rejected";
  (*ship)["decision"] = {{"decision", decision}, {"reason", p["reason"]}, {"by", ctx.tx.body().actor.hex()},
                         {"at", ctx.time_ms}, {"height", ctx.height}, {"loggers", seen}};
  WriteJson(state, std::string(kShipment) + id, *ship);
  return TxResult::Ok();
}

Result<nlohmann::json> ColdchainModule::Query(std::string_view path, const QueryParams& params,
                                              const StateReader& state) const {
  if (!path.starts_with("shipments/")) return Status::NotFound("module coldchain has no query " + std::string(path));
  std::string_view rest = path.substr(10);
  const std::string id(rest.substr(0, rest.find('/')));
  auto ship = ReadShipment(state, id);
  if (!ship) return Status::NotFound("no shipment " + id);
  if (rest.size() == id.size()) {
    nlohmann::json& s = *ship;
    s["shipment"] = id;
    s["loggers"] = nlohmann::json::array();
    for (const auto& d : s["devices"]) {
      const std::string dev = d;
      nlohmann::json l = {{"device", dev}, {"batches", 0}, {"count", 0}, {"excursion_ms", 0}};
      if (auto lg = ReadJsonObject(state, LoggerKey(id, dev))) {
        l = *lg;
        l["device"] = dev;
        l["mkt"] = MktCentiC((*lg)["arrhenius"], (*lg)["count"], s["dh_r"]);
        l.erase("arrhenius");
        l.erase("open");
        nlohmann::json ex = nlohmann::json::array();
        for (uint64_t n = 0; n < (*lg)["excursions"].get<uint64_t>() && n < 1000; ++n)
          ex.push_back(*ReadJsonObject(state, ExcursionKey(id, dev, n)));
        l["excursions"] = ex;
      }
      s["loggers"].push_back(l);
    }
    auto why = ReleaseBlockers(state, id, s);
    s["assessment"] = {{"releasable", why.empty()}, {"reasons", why}};
    return s;
  }
  if (rest.substr(id.size()) == "/anchors") {
    nlohmann::json out = nlohmann::json::array();
    auto want = params.find("device");
    for (const auto& d : (*ship)["devices"]) {
      if (want != params.end() && want->second != d) continue;
      const std::string prefix = std::string(kAnchor) + id + "/" + d.get<std::string>() + "/";
      state.Scan(prefix, "", [&](std::string_view k, std::string_view v) {
        auto a = nlohmann::json::parse(v);
        a["device"] = d;
        a["seq"] = std::stoull(std::string(k.substr(prefix.size())));
        out.push_back(std::move(a));
        return out.size() < 10000;
      });
    }
    return nlohmann::json{{"anchors", out}};
  }
  return Status::NotFound("module coldchain has no query " + std::string(path));
}

}  // namespace cc::coldchain

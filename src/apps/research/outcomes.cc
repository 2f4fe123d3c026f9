#include "apps/research/outcomes.h"

#include <algorithm>

#include "crypto/sha256.h"
#include "util/bytes.h"

namespace cc::research {
namespace {

// No control characters but the whitespace that normalisation removes.
bool IsPlainText(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f;
  });
}

}  // namespace

std::string NormalizeText(std::string_view text) {
  std::string out;
  bool gap = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      gap = !out.empty();
      continue;
    }
    if (gap) out.push_back(' ');
    gap = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::string CanonicalOutcome(const Outcome& o) {
  return NormalizeText(o.title) + "\n" + NormalizeText(o.measure) + "\n" +
         NormalizeText(o.time_frame);
}

std::string Sha256Hex(std::string_view data) {
  const auto d = Sha256(data);
  return ToHex(ByteView(d.data(), d.size()));
}

std::string OutcomeHash(const Outcome& o) { return Sha256Hex(CanonicalOutcome(o)); }

Outcome OutcomeOf(const nlohmann::json& j) {
  return {j.value("title", ""), j.value("measure", ""), j.value("time_frame", "")};
}

nlohmann::json OutcomeJson(const Outcome& o) {
  nlohmann::json j = {{"title", o.title}};
  if (!o.measure.empty()) j["measure"] = o.measure;
  if (!o.time_frame.empty()) j["time_frame"] = o.time_frame;
  return j;
}

std::vector<Outcome> OutcomesOf(const nlohmann::json& list) {
  std::vector<Outcome> out;
  for (const auto& o : list) out.push_back(OutcomeOf(o));
  return out;
}

const nlohmann::json& ListOf(const nlohmann::json& payload, const char* field) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto it = payload.find(field);
  return it == payload.end() ? empty : *it;
}

Status CheckOutcomeLists(const nlohmann::json& p) {
  std::vector<std::string> titles;
  for (const char* cls : {"primary", "secondary"}) {
    const auto& list = ListOf(p, cls);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = std::string(cls) + "[" + std::to_string(i) + "]";
      for (const char* f : {"title", "measure", "time_frame"}) {
        if (!list[i].contains(f)) continue;
        const std::string& text = list[i][f].get_ref<const std::string&>();
        if (!IsPlainText(text))
          return Status::Invalid(where + "." + f + " holds a control character");
        if (NormalizeText(text).empty()) return Status::Invalid(where + "." + f + " is blank");
      }
      std::string title = NormalizeText(list[i]["title"].get<std::string>());
      if (std::find(titles.begin(), titles.end(), title) != titles.end())
        return Status::Invalid(where + ": outcome '" + title +
                               "' is listed twice (a title names one outcome)");
      titles.push_back(std::move(title));
    }
  }
  return Status::Ok();
}

nlohmann::json StoredOutcomes(const nlohmann::json& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : list) {
    const Outcome x = OutcomeOf(o);
    nlohmann::json s = OutcomeJson(x);
    s["canonical"] = CanonicalOutcome(x);
    s["hash"] = OutcomeHash(x);
    out.push_back(std::move(s));
  }
  return out;
}

std::string ResultsCommitment(std::string_view study, std::string_view salt,
                              std::string_view results_hash, const std::vector<Outcome>& primary,
                              const std::vector<Outcome>& secondary) {
  std::string text = "carechain/research/results/v1\n";
  for (std::string_view part : {study, salt, results_hash}) text.append(part).append("\n");
  for (const Outcome& o : primary) text += "primary " + OutcomeHash(o) + "\n";
  for (const Outcome& o : secondary) text += "secondary " + OutcomeHash(o) + "\n";
  return Sha256Hex(text);
}

nlohmann::json CompareOutcomes(const nlohmann::json& a, const nlohmann::json& b,
                               const std::string& a_key, const std::string& b_key) {
  struct Listed {
    std::string cls, title, canonical;
  };
  auto flatten = [](const nlohmann::json& set) {
    std::vector<Listed> out;
    for (std::string cls : {"primary", "secondary"}) {
      for (const auto& o : ListOf(set, cls.c_str())) {
        const std::string c = o["canonical"];
        out.push_back({cls, c.substr(0, c.find('\n')), c});
      }
    }
    return out;
  };
  const std::vector<Listed> as = flatten(a), bs = flatten(b);
  auto find = [](const std::vector<Listed>& v, const std::string& title) -> const Listed* {
    auto it = std::find_if(v.begin(), v.end(), [&](const Listed& l) { return l.title == title; });
    return it == v.end() ? nullptr : &*it;
  };
  nlohmann::json flags = nlohmann::json::array();
  auto flag = [&](const std::string& kind, const Listed* x, const Listed* y) {
    nlohmann::json f = {{"kind", kind}, {"title", (x ? x : y)->title}};
    if (x) f[a_key] = x->canonical;
    if (y) f[b_key] = y->canonical;
    flags.push_back(std::move(f));
  };
  for (const Listed& x : as) {
    const Listed* y = find(bs, x.title);
    if (!y) {
      flag(x.cls + "_dropped", &x, nullptr);
      continue;
    }
    if (y->canonical != x.canonical) flag(x.cls + "_changed", &x, y);
    if (y->cls != x.cls) flag(x.cls == "primary" ? "primary_demoted" : "secondary_promoted", &x, y);
  }
  for (const Listed& y : bs) {
    if (!find(as, y.title)) flag(y.cls + "_added", nullptr, &y);
  }
  return flags;
}

}  // namespace cc::research

#include "apps/supply/gs1.h"

#include <array>
#include <optional>
#include <vector>

namespace cc::supply {

namespace {

constexpr char kGS = '\x1d';

struct Ai {
  std::string_view code;
  size_t fixed;    // 0: variable length
  size_t max_len;  // variable: the most characters
  bool digits;     // numeric only
};

// The AIs a pack code may carry. Those other than 01/21/10/17 (production
// and best-before dates, national reimbursement numbers) are checked and
// then ignored.
constexpr std::array<Ai, 10> kAis = {{
    {"01", 14, 14, true},
    {"10", 0, kMaxBatchLen, false},
    {"11", 6, 6, true},
    {"15", 6, 6, true},
    {"17", 6, 6, true},
    {"21", 0, kMaxSerialLen, false},
    {"710", 0, 20, false},
    {"711", 0, 20, false},
    {"712", 0, 20, false},
    {"714", 0, 20, false},
}};

const Ai* FindAi(std::string_view code) {
  for (const auto& ai : kAis) {
    if (ai.code == code) return &ai;
  }
  return nullptr;
}

// The AI at the start of `s` (2 or 3 digits), or null.
const Ai* AiAt(std::string_view s) {
  for (size_t n : {2, 3}) {
    if (s.size() >= n) {
      if (const Ai* ai = FindAi(s.substr(0, n))) return ai;
    }
  }
  return nullptr;
}


// Collects AI values and checks each; then builds the pack code.
class Fields {
 public:
  Status Add(const Ai& ai, std::string_view value) {
    const std::string name = "(" + std::string(ai.code) + ")";
    if (value.empty()) return Status::Invalid("GS1 code: " + name + " is empty");
    if (ai.fixed && value.size() != ai.fixed)
      return Status::Invalid("GS1 code: " + name + " must have " + std::to_string(ai.fixed) + " digits");
    if (value.size() > ai.max_len)
      return Status::Invalid("GS1 code: " + name + " is longer than " + std::to_string(ai.max_len) + " characters");
    if (ai.digits && !AllDigits(value)) return Status::Invalid("GS1 code: " + name + " must be digits");
    if (!IsCset82(value))
      return Status::Invalid("GS1 code: " + name + " holds a character outside GS1's set 82");
    for (const auto& [code, v] : values_) {
      if (code == ai.code) return Status::Invalid("GS1 code: " + name + " appears twice");
    }
    values_.emplace_back(ai.code, std::string(value));
    return Status::Ok();
  }

  Result<PackCode> Finish() const {
    PackCode c;
    for (const auto& [code, v] : values_) {
      if (code == "01") c.gtin = v;
      if (code == "21") c.serial = v;
      if (code == "10") c.batch = v;
      if (code == "17") c.expiry = v;
    }
    if (c.gtin.empty() || c.serial.empty())
      return Status::Invalid("GS1 code: a pack code needs (01) GTIN and (21) serial number");
    CC_ASSIGN_OR_RETURN(c.gtin, NormalizeGtin(c.gtin));
    if (!c.expiry.empty()) CC_RETURN_IF_ERROR(ExpiryDay(c.expiry).status());
    return c;
  }

 private:
  std::vector<std::pair<std::string_view, std::string>> values_;
};

Result<PackCode> ParseHumanReadable(std::string_view s) {
  Fields f;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '(') return Status::Invalid("GS1 code: expected '(' at position " + std::to_string(i));
    size_t close = s.find(')', i);
    if (close == std::string_view::npos) return Status::Invalid("GS1 code: unclosed '('");
    std::string_view code = s.substr(i + 1, close - i - 1);
    const Ai* ai = FindAi(code);
    if (!ai) return Status::Invalid("GS1 code: unsupported Application Identifier (" + std::string(code) + ")");
    // The value runs to the next "(" + 2 to 4 digits + ")", or the end.
    size_t end = close + 1;
    while (end < s.size()) {
      if (s[end] == '(') {
        size_t c2 = s.find(')', end);
        size_t n = c2 == std::string_view::npos ? 0 : c2 - end - 1;
        if (n >= 2 && n <= 4 && AllDigits(s.substr(end + 1, n))) break;
      }
      ++end;
    }
    CC_RETURN_IF_ERROR(f.Add(*ai, s.substr(close + 1, end - close - 1)));
    i = end;
  }
  return f.Finish();
}

Result<PackCode> ParseElementString(std::string_view s) {
  for (std::string_view sym : {"]d2", "]Q3", "]C1", "]e0", "]J1"}) {
    if (s.starts_with(sym)) {
      s.remove_prefix(sym.size());
      break;
    }
  }
  if (!s.empty() && s.front() == kGS) s.remove_prefix(1);  // a leading FNC1
  Fields f;
  while (!s.empty()) {
    const Ai* ai = AiAt(s);
    if (!ai) {
      return Status::Invalid("GS1 code: unsupported or malformed Application Identifier at '" +
                             std::string(s.substr(0, std::min<size_t>(s.size(), 4))) + "'");
    }
    s.remove_prefix(ai->code.size());
    std::string_view value;
    if (ai->fixed) {
      if (s.size() < ai->fixed) {
        return Status::Invalid("GS1 code: (" + std::string(ai->code) + ") must have " +
                               std::to_string(ai->fixed) + " digits");
      }
      value = s.substr(0, ai->fixed);
      s.remove_prefix(ai->fixed);
      if (!s.empty() && s.front() == kGS) s.remove_prefix(1);  // tolerated after a fixed field
    } else {
      size_t gs = s.find(kGS);
      value = s.substr(0, gs);
      s.remove_prefix(gs == std::string_view::npos ? s.size() : gs + 1);
    }
    CC_RETURN_IF_ERROR(f.Add(*ai, value));
  }
  return f.Finish();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Status::Invalid("GS1 Digital Link: bad %-escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t next = s.find(sep, at);
    if (next == std::string_view::npos) next = s.size();
    out.push_back(s.substr(at, next - at));
    at = next + 1;
  }
  return out;
}

Result<PackCode> ParseDigitalLink(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find("://") + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return Status::Invalid("GS1 Digital Link: no path");
  rest.remove_prefix(slash);
  std::string_view query;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto segs = Split(rest.substr(1), '/');
  // Any path prefix (a resolver's own path) comes before the first "01".
  size_t at = 0;
  while (at < segs.size() && segs[at] != "01") ++at;
  if (at == segs.size()) return Status::Invalid("GS1 Digital Link: no /01/ GTIN in the path");
  Fields f;
  for (; at < segs.size(); at += 2) {
    if (segs[at].empty() && at + 1 == segs.size()) break;  // trailing slash
    if (at + 1 >= segs.size()) return Status::Invalid("GS1 Digital Link: AI " + std::string(segs[at]) + " without a value");
    const Ai* ai = FindAi(segs[at]);
    if (segs[at] == "22") continue;  // consumer product variant: not part of a pack's identity
    if (!ai) return Status::Invalid("GS1 Digital Link: unsupported Application Identifier " + std::string(segs[at]));
    CC_ASSIGN_OR_RETURN(std::string value, PercentDecode(segs[at + 1]));
    if (ai->code == "01") {
      CC_ASSIGN_OR_RETURN(value, NormalizeGtin(value));
    }
    CC_RETURN_IF_ERROR(f.Add(*ai, value));
  }
  if (!query.empty()) {
    for (std::string_view kv : Split(query, '&')) {
      size_t eq = kv.find('=');
      std::string_view key = kv.substr(0, eq);
      if (!AllDigits(key)) continue;  // linkType and other non-AI parameters
      const Ai* ai = FindAi(key);
      if (!ai) continue;              // AIs a pack code does not use
      if (eq == std::string_view::npos) return Status::Invalid("GS1 Digital Link: AI " + std::string(key) + " without a value");
      CC_ASSIGN_OR_RETURN(std::string value, PercentDecode(kv.substr(eq + 1)));
      CC_RETURN_IF_ERROR(f.Add(*ai, value));
    }
  }
  return f.Finish();
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

namespace {

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
      out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
    }
  }
  return out;
}

char GtinCheckDigit(std::string_view first13) {
  int sum = 0;
  for (size_t i = 0; i < first13.size(); ++i) {
    // From the right, the first digit (next to the check digit) weighs 3.
    int weight = ((first13.size() - i) % 2 == 1) ? 3 : 1;
    sum += (first13[i] - '0') * weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

Result<std::string> NormalizeGtin(std::string_view gtin) {
  if (!AllDigits(gtin) || (gtin.size() != 8 && gtin.size() != 12 && gtin.size() != 13 && gtin.size() != 14))
    return Status::Invalid("GTIN must be 8, 12, 13 or 14 digits");
  std::string g = std::string(14 - gtin.size(), '0') + std::string(gtin);
  if (GtinCheckDigit(std::string_view(g).substr(0, 13)) != g[13]) {
    return Status::Invalid("GTIN " + std::string(gtin) + " has a wrong check digit (expected " +
                           std::string(1, GtinCheckDigit(std::string_view(g).substr(0, 13))) + ")");
  }
  return g;
}

bool IsCset82(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) {
      static constexpr std::string_view kPunct = "!\"%&'()*+,-./:;<=>?_";
      ok = kPunct.find(c) != std::string_view::npos;
    }
    if (!ok) return false;
  }
  return true;
}

Result<PackCode> Parse(std::string_view code) {
  if (code.empty()) return Status::Invalid("GS1 code: empty");
  if (code.size() > 512) return Status::Invalid("GS1 code: longer than 512 characters");
  if (code.starts_with("https://") || code.starts_with("http://")) return ParseDigitalLink(code);
  if (code.front() == '(') return ParseHumanReadable(code);
  return ParseElementString(code);
}

std::string ToHumanReadable(const PackCode& c) {
  std::string s = "(01)" + c.gtin;
  if (!c.expiry.empty()) s += "(17)" + c.expiry;
  if (!c.batch.empty()) s += "(10)" + c.batch;
  s += "(21)" + c.serial;
  return s;
}

std::string ToElementString(const PackCode& c) {
  std::string s = "01" + c.gtin;
  if (!c.expiry.empty()) s += "17" + c.expiry;
  if (!c.batch.empty()) s += "10" + c.batch + kGS;
  s += "21" + c.serial;
  return s;
}

std::string ToDigitalLink(const PackCode& c, std::string_view base) {
  std::string s = std::string(base) + "/01/" + c.gtin;
  if (!c.batch.empty()) s += "/10/" + PercentEncode(c.batch);
  s += "/21/" + PercentEncode(c.serial);
  if (!c.expiry.empty()) s += "?17=" + c.expiry;
  return s;
}

Result<int64_t> ExpiryDay(std::string_view yymmdd) {
  if (yymmdd.size() != 6 || !AllDigits(yymmdd)) return Status::Invalid("GS1 code: (17) expiry must be YYMMDD");
  const int yy = (yymmdd[0] - '0') * 10 + (yymmdd[1] - '0');
  const unsigned mm = static_cast<unsigned>((yymmdd[2] - '0') * 10 + (yymmdd[3] - '0'));
  const unsigned dd = static_cast<unsigned>((yymmdd[4] - '0') * 10 + (yymmdd[5] - '0'));
  if (mm < 1 || mm > 12) return Status::Invalid("GS1 code: (17) expiry has month " + std::to_string(mm));
  const int64_t year = 2000 + yy;
  const int64_t first = DaysFromCivil(year, mm, 1);
  const int64_t next = mm == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, mm + 1, 1);
  const unsigned days_in_month = static_cast<unsigned>(next - first);
  if (dd > days_in_month)
    return Status::Invalid("GS1 code: (17) expiry has day " + std::to_string(dd) + " in a month of " +
                           std::to_string(days_in_month) + " days");
  return dd == 0 ? next - 1 : first + dd - 1;
}

}  // namespace cc::supply

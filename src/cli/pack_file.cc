#include "cli/pack_file.h"

#include <algorithm>

namespace cc::cli {

Result<std::vector<std::string>> CsvFields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        out.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && out.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  if (quoted) return Status::Invalid("unclosed quote");
  return out;
}

Result<std::vector<supply::PackCode>> ParsePacksCsv(std::string_view text,
                                                    const std::string& name) {
  const std::vector<std::string> names = {"gtin", "serial", "batch", "expiry"};
  std::vector<size_t> column = {0, 1, 2, 3};
  size_t width = names.size();
  bool first = true;
  std::vector<supply::PackCode> out;
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    auto fields = CsvFields(line);
    if (!fields.ok()) return Status::Invalid(where + fields.status().message());
    const bool header = first && std::find(fields->begin(), fields->end(), "gtin") != fields->end();
    first = false;
    if (header) {
      for (size_t i = 0; i < names.size(); ++i) {
        auto it = std::find(fields->begin(), fields->end(), names[i]);
        if (it == fields->end())
          return Status::Invalid(where + "the header names no '" + names[i] + "' column");
        column[i] = static_cast<size_t>(it - fields->begin());
      }
      width = fields->size();
      continue;
    }
    if (fields->size() != width) {
      return Status::Invalid(where + "expected " + std::to_string(width) + " fields, found " +
                             std::to_string(fields->size()));
    }
    supply::PackCode p{(*fields)[column[0]], (*fields)[column[1]], (*fields)[column[2]],
                       (*fields)[column[3]]};
    auto gtin = supply::NormalizeGtin(p.gtin);
    if (!gtin.ok()) return Status::Invalid(where + gtin.status().message());
    p.gtin = *gtin;
    // The Digital Link carries every field percent-encoded: parsing it back
    // applies the parser's checks to each field.
    auto checked = supply::Parse(supply::ToDigitalLink(p));
    if (!checked.ok()) return Status::Invalid(where + checked.status().message());
    out.push_back(std::move(*checked));
  }
  return out;
}

}  // namespace cc::cli

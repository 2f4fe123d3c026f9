#include "util/date.h"

#include <chrono>
#include <cstdio>

namespace cc {

std::optional<uint64_t> ParseDay(std::string_view iso) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (iso.size() != 10 || std::sscanf(std::string(iso).c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok() || y < 1970) return std::nullopt;
  return static_cast<uint64_t>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

std::string FormatDay(uint64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(day))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace cc

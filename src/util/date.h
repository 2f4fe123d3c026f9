// Calendar days (UTC): the ISO dates of queries and payloads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cc {

inline constexpr uint64_t kDayMs = 86'400'000;

// "2026-10-01" -> days since 1970-01-01; nullopt if not a valid date.
std::optional<uint64_t> ParseDay(std::string_view iso);
// Days since 1970-01-01 -> "2026-10-01".
std::string FormatDay(uint64_t day);

}  // namespace cc

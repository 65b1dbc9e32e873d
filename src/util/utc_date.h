// utc_date.h - strict parsing of ISO 8601 UTC dates and times ("YYYY-MM-DD[THH:MM[:SS]Z]").
// Part of util/: knows nothing of mail. Only real calendar dates from 1970 to 9999 parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace avsink::util {

// A parsed UTC date or instant.
struct UtcTime {
  int64_t seconds = 0;     // unix seconds: the instant, or 00:00:00Z of the date
  bool date_only = false;  // the text was "YYYY-MM-DD" alone
};

// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z": exactly two digits per field, four for the
// year, 1970 <= year <= 9999, a day that exists in that month (leap years included), hours
// 0..23, minutes and seconds 0..59. Returns nullopt for anything else. Pure; thread-safe.
std::optional<UtcTime> parse_utc_time(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (negative before it). Pure; thread-safe.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace avsink::util

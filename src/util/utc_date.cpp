// utc_date.cpp - ISO 8601 UTC date and time parsing without the C library's locale or time zone.
// Fixed-width fields only: no strptime leniency (single digits, spaces) and no normalisation.
#include "util/utc_date.h"

namespace avsink::util {

namespace {

bool parse_digits(std::string_view s, size_t pos, size_t n, int *out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<UtcTime> parse_utc_time(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (text.size() < 10 || !parse_digits(text, 0, 4, &y) || text[4] != '-' ||
      !parse_digits(text, 5, 2, &mo) || text[7] != '-' || !parse_digits(text, 8, 2, &d))
    return std::nullopt;
  const bool date_only = text.size() == 10;
  if (!date_only) {
    if (text[10] != 'T' || !parse_digits(text, 11, 2, &h) || text.size() < 17 || text[13] != ':' ||
        !parse_digits(text, 14, 2, &mi))
      return std::nullopt;
    size_t pos = 16;
    if (pos < text.size() && text[pos] == ':') {
      if (!parse_digits(text, pos + 1, 2, &s)) return std::nullopt;
      pos += 3;
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
  }
  static const int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 ||
      mi > 59 || s > 59)
    return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return UtcTime{days * 86400 + h * 3600 + mi * 60 + s, date_only};
}

}  // namespace avsink::util

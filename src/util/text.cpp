// text.cpp - ASCII case folding and ISO 8601 time stamps (see text.h).
// Locale-free on purpose: std::tolower depends on the C locale a host program may have set.
#include "util/text.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace avsink::util {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace {
std::string utc_seconds(int64_t secs) {
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}
}  // namespace

std::string iso8601_utc(int64_t secs) {
  return utc_seconds(secs) + "Z";
}

std::string iso8601_utc_ms(int64_t millis) {
  int64_t secs = millis / 1000, ms = millis % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return utc_seconds(secs) + frac;
}

std::string iso8601_utc_now_ms() {
  using namespace std::chrono;
  return iso8601_utc_ms(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace avsink::util

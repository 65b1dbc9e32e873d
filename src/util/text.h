// text.h - ASCII case folding and ISO 8601 time stamps, shared by every stage.
// Part of util/: a general layer that knows nothing of mail (like Postfix's util/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avsink::util {

// s with A-Z folded to a-z; every other byte (UTF-8 included) unchanged, whatever the locale.
// Pure; thread-safe.
std::string ascii_lower(std::string_view s);

// ASCII case-insensitive equality (bytes >= 0x80 compare exactly). Pure; thread-safe.
bool ascii_iequals(std::string_view a, std::string_view b);

// Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (UTC). Pure; thread-safe (gmtime_r).
std::string iso8601_utc(int64_t secs);

// As iso8601_utc, with milliseconds: "YYYY-MM-DDTHH:MM:SS.mmmZ". Thread-safe.
std::string iso8601_utc_ms(int64_t millis);

// The current time as iso8601_utc_ms (system clock). Thread-safe.
std::string iso8601_utc_now_ms();

}  // namespace avsink::util

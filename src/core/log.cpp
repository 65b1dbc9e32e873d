// log.cpp - Logger dispatch and log-safe escaping of attacker-controlled strings.
// Every line reaching a sink is free of CR/LF and control bytes.
#include "core/log.h"

#include <cstdio>

namespace avsink {

std::string escape_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void Logger::log(LogLevel level, std::string_view message) const {
  if (!sink_ || level < min_) return;
  sink_(level, escape_for_log(message));
}

}  // namespace avsink

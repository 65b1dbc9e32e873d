// log.h - the library's logger: severities debug..panic routed to one sink (a C callback, stderr,
// or nothing). Never exits; message-derived text is escaped so it cannot forge log lines.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace avsink {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kPanic };

class Logger {
 public:
  using Sink = std::function<void(LogLevel, const std::string &)>;
  Logger() = default;  // discards everything
  Logger(Sink sink, LogLevel min_level) : sink_(std::move(sink)), min_(min_level) {}
  // Thread-safe as long as the sink is (the C ABI documents that the callback must be).
  void log(LogLevel level, std::string_view message) const;
  void info(std::string_view m) const { log(LogLevel::kInfo, m); }
  void warn(std::string_view m) const { log(LogLevel::kWarn, m); }
  void error(std::string_view m) const { log(LogLevel::kError, m); }

 private:
  Sink sink_;
  LogLevel min_ = LogLevel::kInfo;
};

// Replaces CR, LF, other control bytes and backslash with \xNN escapes (HOSTILE #49).
std::string escape_for_log(std::string_view text);

}  // namespace avsink

// lockdown.cpp - reads and writes the lockdown state file (lockdown.h); strict JSON, bounded size.
// A missing file means no lockdown; a broken one is an error, never silently "off".
#include "core/lockdown.h"

#include <cerrno>
#include <ctime>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/read_file.h"

namespace avsink {

std::string_view to_string(LockdownScope s) {
  return s == LockdownScope::kAll ? "all" : "attachments";
}

std::string lockdown_to_json(const LockdownState &s) {
  nlohmann::json j = {
      {"on", s.on},       {"reason", s.reason}, {"scope", std::string(to_string(s.scope))},
      {"since", s.since}, {"until", s.until},   {"by", s.by}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<LockdownState> lockdown_from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::kConfig, "lockdown state: not a JSON object");
  LockdownState s;
  try {
    s.on = j.at("on").get<bool>();
    s.reason = j.value("reason", "");
    std::string scope = j.value("scope", "attachments");
    if (scope == "all")
      s.scope = LockdownScope::kAll;
    else if (scope == "attachments")
      s.scope = LockdownScope::kAttachments;
    else
      return make_error(ErrorCode::kConfig, "lockdown state: scope '" + scope + "'");
    s.since = j.value("since", int64_t{0});
    s.until = j.value("until", int64_t{0});
    s.by = j.value("by", "");
  } catch (const nlohmann::json::exception &e) {
    return make_error(ErrorCode::kConfig, std::string("lockdown state: ") + e.what());
  }
  return s;
}

Result<LockdownState> read_lockdown(const std::string &path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return LockdownState{};
  auto text = read_regular_file(path, 64u << 10);
  if (!text) return text.error();
  auto s = lockdown_from_json(*text);
  if (!s) {
    Error e = s.error();
    e.file = path;
    return e;
  }
  return s;
}

Result<int64_t> parse_lockdown_time(std::string_view t, int64_t now) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "time '" + std::string(t) +
                          "': use YYYY-MM-DDTHH:MM:SSZ (UTC) or +N followed by s, m, h or d");
  };
  if (!t.empty() && t.front() == '+') {
    if (t.size() < 3) return bad();
    int64_t n = 0;
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9' || n > 100000000) return bad();
      n = n * 10 + (t[i] - '0');
    }
    switch (t.back()) {
      case 's':
        return now + n;
      case 'm':
        return now + n * 60;
      case 'h':
        return now + n * 3600;
      case 'd':
        return now + n * 86400;
      default:
        return bad();
    }
  }
  std::tm tm{};
  std::string s(t);
  const char *end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return bad();
  return static_cast<int64_t>(::timegm(&tm));
}

}  // namespace avsink

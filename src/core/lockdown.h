// lockdown.h - the outbreak lockdown state shared by `avsink lockdown` and every gateway process:
// one small JSON file, written whole (rename) by the CLI, watched and re-read by each scanner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace avsink {

enum class LockdownScope { kAttachments, kAll };
std::string_view to_string(LockdownScope s);  // "attachments" / "all"

struct LockdownState {
  bool on = false;
  std::string reason;
  LockdownScope scope = LockdownScope::kAttachments;
  int64_t since = 0;  // unix seconds when it was switched on
  int64_t until = 0;  // unix seconds when it ends by itself; 0 = until switched off
  std::string by;     // who switched it (user name or uid)

  // On, and not yet expired at `now` (unix seconds).
  bool active(int64_t now) const { return on && (until == 0 || now < until); }
};

// {"on":..,"reason":..,"scope":..,"since":..,"until":..,"by":..} on one line.
std::string lockdown_to_json(const LockdownState &s);
// Parses the file's text. Errors: kConfig naming what is wrong (not JSON, bad scope, ...).
Result<LockdownState> lockdown_from_json(std::string_view text);
// Reads `path`: a missing file is "off" (no lockdown was ever switched on); an unreadable or
// invalid file is an error (the caller keeps its last state and logs). Errors: kIo, kConfig.
Result<LockdownState> read_lockdown(const std::string &path);

// "2026-12-03T16:00:00Z" (UTC), "+30m", "+2h", "+1d", "+90s" (relative to `now`) -> unix seconds.
// Errors: kInvalidArgument with the accepted forms.
Result<int64_t> parse_lockdown_time(std::string_view text, int64_t now);

}  // namespace avsink

// raw_pass_merge.cpp - which raw-message-pass findings join the part pass's (raw_pass_merge.h).
// Invariant: a finding that says content went unscanned is never dropped.
#include "session/raw_pass_merge.h"

#include <set>
#include <string>

#include "engines/mail_parser_guard.h"

namespace avsink::session {

void merge_raw_pass_findings(Findings &out, Findings whole, const Logger &logger) {
  std::set<std::string> seen;
  for (const auto &f : out) seen.insert(f.name);
  for (auto &f : whole) {
    const bool held_back = f.name == engines::kMailParserFindingName;
    const bool raw_limit =
        f.kind == FindingKind::kUnscannable && !held_back &&
        (f.name.starts_with("Heuristics.Limits.Exceeded") || f.name.starts_with("Limits.Exceeded"));
    if (raw_limit) {
      logger.log(LogLevel::kDebug, "raw-message pass: " + f.name + " (parts were scanned)");
      continue;
    }
    const bool once = f.kind == FindingKind::kVirus || held_back;
    if (once && seen.count(f.name)) continue;
    seen.insert(f.name);
    out.push_back(std::move(f));
  }
}

}  // namespace avsink::session

// finding.h - one thing an inspector noticed about a message (virus, limit hit, banned name, rule).
// Inspectors only add Findings; the policy stage alone turns them into a Verdict.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"

namespace avsink {

enum class FindingKind {
  kVirus,             // an engine matched a signature
  kUnscannable,       // could not inspect fully: limit hit, encrypted, parse failure, deadline
  kBannedAttachment,  // attachment policy: extension, true type, archive member
  kRule,              // a block/allow rule matched (issue: rules)
  kMalformed,         // MIME parsed as far as possible, but something was wrong (informational)
  kEngineError,       // an engine failed (unreachable, crashed, timed out)
};

std::string_view to_string(FindingKind kind);

struct Finding {
  FindingKind kind = FindingKind::kMalformed;
  std::string inspector;  // "mime", "clamav", "clamd", "hashlist", "attachments", "rules"
  std::string name;       // signature or rule name, e.g. "Eicar-Signature", "Limits.Exceeded.Depth"
  std::string part_path;  // "1.2.3"; empty = the whole message
  std::string filename;   // decoded filename of the part (or archive member path), if any
  std::string detail;     // one human-readable line
  // What the inspector's own configuration asks for (a rule's action, the attachment policy's
  // action); nullopt = let the policy stage's default for this kind decide.
  std::optional<Action> action;
  std::string reply_text;  // SMTP reply text a rule asks for ("" = policy default)
};

using Findings = std::vector<Finding>;

// The whole-message finding (inspector "session", no part path) for a message larger than
// limits.max_message_bytes: only a prefix was kept. The policy refuses such a message with
// 552 5.3.4 whatever else was found (DESIGN.md §4 "whole or nothing").
inline constexpr std::string_view kMessageBytesFinding = "Limits.Exceeded.MessageBytes";

}  // namespace avsink

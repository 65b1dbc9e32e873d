// finding.cpp - names for FindingKind, used in logs, JSON records and the C ABI.
// The strings are part of the operator-visible output: never rename one.
#include "core/finding.h"

namespace avsink {

std::string_view to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::kVirus:
      return "virus";
    case FindingKind::kUnscannable:
      return "unscannable";
    case FindingKind::kBannedAttachment:
      return "banned-attachment";
    case FindingKind::kRule:
      return "rule";
    case FindingKind::kMalformed:
      return "malformed";
    case FindingKind::kEngineError:
      return "engine-error";
  }
  return "unknown";
}

}  // namespace avsink

// action.cpp - names of Actions as used in config files, rule files, logs and JSON records.
// The strings are operator-visible: never rename one.
#include "core/action.h"

namespace avsink {

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kAccept:
      return "accept";
    case Action::kReject:
      return "reject";
    case Action::kTempfail:
      return "tempfail";
    case Action::kQuarantine:
      return "quarantine";
    case Action::kDiscard:
      return "discard";
    case Action::kRewrite:
      return "rewrite";
  }
  return "unknown";
}

std::optional<Action> action_from_string(std::string_view name) {
  if (name == "accept") return Action::kAccept;
  if (name == "reject") return Action::kReject;
  if (name == "tempfail") return Action::kTempfail;
  if (name == "quarantine") return Action::kQuarantine;
  if (name == "discard") return Action::kDiscard;
  if (name == "rewrite" || name == "strip") return Action::kRewrite;
  return std::nullopt;
}

}  // namespace avsink

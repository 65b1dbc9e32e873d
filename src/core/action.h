// action.h - what the MTA is told to do with a message; the C++ side of avsink_action.
// Ordered by precedence is NOT implied by the numbering: policy/ decides precedence explicitly.
#pragma once

#include <optional>
#include <string_view>

namespace avsink {

enum class Action {
  kAccept = 0,
  kReject = 1,
  kTempfail = 2,
  kQuarantine = 3,
  kDiscard = 4,
  kRewrite = 5,  // strip offending parts, deliver the rest with a notice
};

std::string_view to_string(Action action);  // "accept", "reject", ... (lowercase)
// Parses the lowercase names above plus "strip" (= kRewrite); nullopt for anything else.
std::optional<Action> action_from_string(std::string_view name);

}  // namespace avsink

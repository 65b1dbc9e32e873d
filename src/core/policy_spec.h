// policy_spec.h - one named [[policy]] of avsink.toml: who it applies to and what it overrides.
// Data only; parsed with the rest of the config, selected in session/, applied in policy/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/action.h"

namespace avsink {

enum class Direction { kInbound, kOutbound };
std::string_view to_string(Direction d);  // "inbound" / "outbound"

// A [[policy]] table. Every selector that is set must match (AND); a list matches when any of its
// entries does (OR). An unset selector matches everything. The first policy in file order whose
// selectors all match wins (docs/policy.md "Policies").
struct PolicySpec {
  std::string name;  // unique, [A-Za-z0-9._-], not "default"

  // Selectors. Addresses: "user@example.org" (the address, case-insensitive) or "example.org" /
  // "@example.org" (that domain and its subdomains).
  std::vector<std::string> recipients;
  std::vector<std::string> senders;          // envelope sender; "<>" = the null sender
  std::vector<std::string> client_networks;  // CIDRs, checked when the scanner is opened
  std::optional<bool> authenticated;         // SASL-authenticated submission or not
  std::optional<Direction> direction;  // outbound = authenticated or client in trusted_networks

  // Overrides (unset = the global setting).
  std::optional<Action> virus_action, unscannable_action, engine_error_action, banned_action;
  std::vector<std::string> allow_extensions;  // banned-attachment findings for these extensions
                                              // (by the filename's last suffix) are dropped
  std::optional<std::vector<std::string>> rule_files;  // replaces [rules] files ([] = none)
  // Attachment lists (docs/policy.md "Overrides"): attachment_lists replaces [attachments] lists,
  // block, allow and replace_defaults ([] = no list file); attachment_block entries ("ext",
  // "type:NAME") are blocked on top of whichever lists apply. Validated when the scanner opens.
  std::optional<std::vector<std::string>> attachment_lists;
  std::vector<std::string> attachment_block;
  std::vector<std::string> optional_engines;  // engine errors of these engines decide nothing
  bool skip_scan = false;                     // no scanning at all: accept, logged and counted

  // True when this policy judges attachments by lists of its own (not the [attachments] ones).
  bool own_attachment_lists() const { return attachment_lists || !attachment_block.empty(); }
};

}  // namespace avsink

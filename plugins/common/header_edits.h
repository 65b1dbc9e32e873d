// header_edits.h - the message an adapter that relays whole messages passes on: the verdict's
// header edits (ABI 1.2) applied to the received header block, and the new body of a rewrite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "avsink/avsink.h"

namespace avsink::adapter {

// One edit of the received message's top header block, as avsink_verdict_header_edit() gives it
// (kind is an avsink_header_edit_kind; index is the 1-based occurrence of name among the fields
// as received, case-insensitive; value as it follows the colon, folded lines joined by "\n").
struct HeaderEdit {
  int kind = 0;
  std::string name;
  uint32_t index = 0;
  std::string value;
};

// The message to relay: `headers` (name, value; CR/LF-free) prepended as "Name: value\r\n"; then
// the top header block of `received` with `edits` applied (changes and deletes by occurrence, adds
// at the end of the block); then the rest of `received` from its empty line on, or, when `body`
// is set (a rewrite), an empty line and `body`. Everything not edited is byte-identical.
// Returns nullopt for an edit of a kind not known here: the caller must not relay (fail closed).
// Thread-safety: pure. Ownership: the result is the caller's.
std::optional<std::string> prepare_message(
    std::string_view received, const std::vector<HeaderEdit> &edits,
    const std::vector<std::pair<std::string, std::string>> &headers,
    std::optional<std::string_view> body = std::nullopt);

// prepare_message() for an ACCEPT or REWRITE verdict `v` of the scan of `received`: its headers,
// its header edits and, for REWRITE, avsink_verdict_rewritten_body(). Returns nullopt when the
// verdict cannot be applied (another action, a rewrite without a body, an unknown edit): the
// caller tempfails. Thread-safety: as the verdict's scan (one thread at a time).
std::optional<std::string> message_for_verdict(std::string_view received, const avsink_verdict *v);

}  // namespace avsink::adapter

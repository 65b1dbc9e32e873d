// parser.h - the MIME stage's whole interface: raw RFC 5322 bytes in, a MessageTree out.
// Bounded by Limits; malformed input becomes Findings in the tree, never an exception.
#pragma once

#include <string_view>

#include "core/deadline.h"
#include "core/limits.h"
#include "mime/message_tree.h"

namespace avsink::mime {

// Parses `raw` (the whole message, CRLF or LF line ends, any bytes including NUL).
// Never throws (allocation failure aside); never reads outside `raw`.
// Thread-safety: reentrant; no shared state.
// Limits: a limit hit adds a kUnscannable finding named "Limits.Exceeded.<What>" and parsing
// stops descending there; everything already found stays in the tree.
MessageTree parse_message(std::string_view raw, const Limits &limits,
                          const Deadline &deadline = Deadline());

}  // namespace avsink::mime

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
// Ambiguity (HOSTILE #13-15, #24, #26): where the bytes allow a second reading (a second
// Content-Type, another boundary, another Content-Transfer-Encoding, bare CRs as header line ends)
// the primary reading is kept as is and each other reading is added as PartOrigin::kAlternate
// parts "<path>.aN" (at most 4 per entity, +1 for the bare-CR reading, and 32 per message:
// "Limits.Exceeded.Alternates"). They count against max_parts, max_decoded_bytes and
// max_decoded_percent.
// message/partial and message/external-body add kUnscannable "MIME.MessagePartial" /
// "MIME.ExternalBody". A message without any LF is read with CR line ends
// ("MIME.Malformed.BareCR").
MessageTree parse_message(std::string_view raw, const Limits &limits,
                          const Deadline &deadline = Deadline());

}  // namespace avsink::mime

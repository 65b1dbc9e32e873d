// strip_part.h - REWRITE: remove offending parts, put a text/plain notice in their place.
// Byte-exact outside the replaced ranges: every other part, boundary and header stays as it was.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "mime/message_tree.h"

namespace avsink::rewrite {

// Options of a strip. Defaults:
//   added_header  ""  a header field name ("X-Avsink-Stripped"); when set, one field
//                     "<name>: <n> part(s) removed: 1.2 invoice.exe; ..." (ASCII, at most
//                     900 bytes) is put before the first header line (after an mbox "From " line)
//   footer        "If you need the removed file, ask your mail administrator."  last notice line
//   notice_template  ""  when set, the notice text is this template (core/text_template.h) with
//                    ${count} (removed parts), ${removed} (a File/Part/Reason block per part) and
//                    ${footer}; the shipped one is rules/templates/strip-notice.txt
struct StripOptions {
  std::string added_header;
  std::string footer = "If you need the removed file, ask your mail administrator.";
  std::string notice_template;
};

// Returns a new message: `raw` with each part named in `path_and_reason` ({"1.2", "why"}, the
// reason a short line such as "Attachment.DoubleExtension: blocked extension .exe") replaced by a
// text/plain notice naming the file (display-safe) and the reason. `tree` must be
// mime::parse_message(raw, ...).
//
// What is replaced:
//   - a child of a multipart: the whole entity between its delimiter lines (same position; the
//     delimiter lines and every byte outside the entity are kept);
//   - the message itself, or the entity inside a message/rfc822 part: its Content-* header fields
//     and body (other header fields kept byte for byte; MIME-Version added to a top level that
//     has none);
//   - a part with no bytes of its own in `raw` (a uuencoded block "P.uN", a part inside a
//     base64-encoded message/rfc822): the nearest enclosing entity that has them.
// When one requested part contains another, the outer one is replaced and its notice names both.
// Line ends of the notice follow the message (CRLF or LF). Non-ASCII text in the notice is
// quoted-printable.
//
// Thread-safety: reentrant; no shared state. Ownership: the result is the caller's.
// Errors: kInvalidArgument when `path_and_reason` is empty, a path is not in `tree`, or `tree`
// does not describe `raw` (its root length or a part's range does not fit).
Result<std::string> strip_parts(
    std::string_view raw, const mime::MessageTree &tree,
    const std::vector<std::pair<std::string, std::string>> &path_and_reason,
    const StripOptions &options = StripOptions());

}  // namespace avsink::rewrite

// message_tree.h - the normalised MIME tree every inspector reads: one flat list of parts.
// Produced only by mime::parse_message(); immutable afterwards, so inspectors may share it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/finding.h"

namespace avsink::mime {

// One header field as it appeared: name as written, value unfolded (CRLF+WSP removed), undecoded.
struct HeaderField {
  std::string name;
  std::string value;
};

// Where a part's bytes came from.
// Only kMime parts are "the" MIME structure (what other MIME parsers see); every other origin is
// extra material the engines must also scan. New values are only ever appended.
enum class PartOrigin {
  kMime,       // a MIME entity (the message itself, a multipart child, an rfc822 body)
  kUuencode,   // a "begin NNN name" block found inside a text part (or preamble/epilogue)
  kYenc,       // a "=ybegin ... name=" ... "=yend" block found inside a text part
  kBinhex,     // a BinHex 4.0 block ("(This file must be converted with BinHex 4.0)" then
               // ":...:") inside a text part; body = the decoded data fork (a second part holds
               // the resource fork when it is not empty)
  kAlternate,  // another reading of an ambiguous entity (HOSTILE #13-15, #24, #26: UNION): the
               // entity re-read with a second Content-Type, another boundary, another
               // Content-Transfer-Encoding or bare CRs as line ends; and every part below it
};

struct Part {
  std::string path;    // "1" is the message itself; children "1.1", "1.2"; nested "1.2.1".
                       // Embedded blocks of part P: uuencode "P.u1", "P.u2", ...; yEnc "P.y1",
                       // ...; BinHex "P.b1", ... Alternate readings of entity P: "P.a1",
                       // "P.a2", ... (their children "P.a1.1" ...); parts[P.aN].parent is P.
  uint32_t depth = 0;  // 0 for the message, +1 per multipart / message/rfc822 level (and per
                       // embedded block or alternate reading: one more than its parent)
  int parent = -1;     // index into MessageTree::parts, -1 for the root
  PartOrigin origin = PartOrigin::kMime;

  std::string media_type;              // lowercased "type/subtype"; the RFC default when absent
  std::string transfer_encoding;       // lowercased CTE token as given ("" when absent)
  std::string charset;                 // lowercased charset parameter, "" when absent
  std::string disposition;             // lowercased "attachment" / "inline" / "" when absent
  std::string filename_raw;            // filename (or name=) exactly as written, "" when none
  std::vector<std::string> filenames;  // every decoded candidate (UTF-8), best first; the
                                       // attachment policy judges each one
  std::vector<HeaderField> headers;    // this entity's header fields, in order

  bool is_multipart = false;  // a container: its body is split into child parts
  bool is_message = false;    // message/rfc822 (or global): its body is one child part
  std::string body;           // decoded body bytes (leaf parts only; empty for containers)
  uint64_t raw_offset = 0;    // offset of this entity's header start in the raw message
  uint64_t raw_length = 0;    // header + body length in the raw message (0 for uuencode).
                              // yEnc/BinHex parts carry their parent's range, an alternate
                              // reading its entity's range: the bytes that must go if it must
};

struct MessageTree {
  std::vector<Part> parts;     // parts[0] is the message itself; depth-first, document order
  Findings findings;           // kMalformed (what was wrong) and kUnscannable (a limit was hit)
  uint64_t decoded_bytes = 0;  // sum of all decoded bodies

  // Convenience accessors on the top-level header (parts[0].headers); "" when absent.
  // subject() returns the RFC 2047-decoded value (UTF-8).
  std::string header(std::string_view name) const;
  std::string subject() const;
};

}  // namespace avsink::mime

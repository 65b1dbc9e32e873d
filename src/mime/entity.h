// entity.h - one MIME entity's header block: bounded scan/unfold, then the MIME fields' meaning.
// scan_headers() enforces max_header_fields/max_header_bytes before any field reaches mimetic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "mime/decode.h"
#include "mime/message_tree.h"

namespace avsink::mime {

// The header block of one entity, split into unfolded fields.
struct HeaderScan {
  std::vector<HeaderField> fields;    // at most max_header_fields, in order
  size_t body_offset = 0;             // where the body starts, relative to the entity
  bool fields_exceeded = false;       // more than max_header_fields fields
  bool bytes_exceeded = false;        // block or one field longer than max_header_bytes
  std::vector<std::string> problems;  // kMalformed finding names
};

// Scans the header block at the start of `entity` (CRLF or LF line ends; NUL bytes kept).
// The block ends at the first empty line, at the end of `entity`, or at the first line that is
// neither a field nor a continuation (that line starts the body:
// "MIME.Malformed.NoHeaderSeparator"). `allow_mbox_from` skips a leading "From " line (top-level
// message only). Past a limit, fields are no longer stored but the block's end is still found, in
// one linear pass. Thread-safe.
HeaderScan scan_headers(std::string_view entity, bool allow_mbox_from, const Limits &limits);

// Another way to read the same entity's MIME fields (HOSTILE #13-15, #26: UNION). The parser
// re-reads the entity with these four fields replaced and scans that reading too.
struct AltReading {
  std::string type;               // lowercased
  std::string subtype;            // lowercased
  std::string boundary;           // "" when the reading has none
  std::string transfer_encoding;  // lowercased CTE token
  bool fallback_only = false;     // only when the primary reading finds no delimiter line
  std::string why;                // the MIME.Ambiguous.* / MIME.Malformed.* name behind it
  bool prefix = false;            // delimiter lines matched by prefix (split_multipart())
  bool empty_boundary = false;    // `boundary` is empty on purpose: "--" lines delimit
  DecodeDialect dialect = DecodeDialect::kDefault;  // how the body is decoded
};

// What the MIME fields of an entity say.
struct EntityInfo {
  std::string type;                    // lowercased "text"
  std::string subtype;                 // lowercased "plain"
  std::string charset;                 // lowercased charset parameter
  std::string disposition;             // lowercased disposition type
  std::string transfer_encoding;       // lowercased CTE token, comments stripped
  std::string boundary;                // Content-Type boundary ("" when absent)
  std::string filename_raw;            // filename (else name) as written
  std::vector<std::string> filenames;  // decoded candidates, best first, UTF-8
  bool params_exceeded = false;        // a field had more than max_params parameters
  std::vector<std::string> problems;   // kMalformed finding names
  // Readings other than the primary one above, distinct from it and from each other (never
  // capped here; the parser bounds them per message with a finding): a second Content-Type field,
  // every other boundary parameter (duplicates, the RFC 2231 form), a second
  // Content-Transfer-Encoding field, a boundary on Content-Disposition (fallback_only).
  std::vector<AltReading> alternates;
  std::string media_type() const { return type + "/" + subtype; }
};

// Interprets Content-Type (type/subtype read by mimetic::ContentType, cross-checked against our
// tokenizer, which also reads every parameter), Content-Disposition (mimetic::ContentDisposition
// likewise), Content-Transfer-Encoding and the filename parameters. `digest_child` selects the
// multipart/digest default (message/rfc822). Fields are already bounded by scan_headers().
// Never throws: a mimetic exception falls back to our tokenizer and adds a problem. Fills
// `alternates` wherever the fields allow another reading. Thread-safe.
EntityInfo analyze_entity(const std::vector<HeaderField> &fields, bool digest_child,
                          uint32_t max_params);

// Field name normalised for matching: comments and surrounding whitespace removed, lowercased.
std::string normalize_field_name(std::string_view name);

}  // namespace avsink::mime

// message.h - byte-level helpers of avsink-milter: rebuild header lines, diff a rewritten header
// block, clean reply and log text. Pure functions: no libmilter, no avsink, no I/O, no MIME
// parsing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::milter {

// One header field as the MTA handed it to xxfi_header (or as split from a rewritten message).
struct HeaderField {
  std::string name;
  std::string value;  // after the colon; folds as "\n" + whitespace, never "\r"
};

// The bytes of one header field as they were on the wire: "Name:" value "\r\n".
// leadspc: the value keeps its leading whitespace (SMFIP_HDR_LEADSPC negotiated); otherwise the MTA
// removed one space after the colon and it is put back. Every bare "\n" in a folded value becomes
// "\r\n", so the scanned bytes equal the message the MTA queues.
std::string header_bytes(std::string_view name, std::string_view value, bool leadspc);

// A header value as this milter keeps it for comparisons: "\r" removed.
std::string normalize_value(std::string_view value);

// Splits a complete message (from avsink_verdict_rewritten) at the first empty line.
// Returns the header fields of the top block (values as normalize_value, with the leading space
// after the colon kept) and sets *body_offset to the first body byte (== size when no body).
std::vector<HeaderField> split_message(std::string_view message, size_t *body_offset);

// One change to apply with smfi_chgheader / smfi_addheader.
struct HeaderEdit {
  enum Kind { kChange, kAdd, kDelete } kind = kAdd;
  std::string name;
  int index = 0;      // kChange/kDelete: 1-based occurrence of `name` (as smfi_chgheader counts)
  std::string value;  // kChange/kAdd: as libmilter wants it (see HeaderEdit docs in message.cpp)
};

// The edits that turn the original top header block into the rewritten one. Values of both sides
// are compared as they would be on the wire; names case-insensitively, occurrences in order.
// Deletes come last and run from the highest index down, so earlier indexes stay valid.
// leadspc: as for header_bytes; edit values then carry the leading space (or not) to match.
std::vector<HeaderEdit> diff_headers(const std::vector<HeaderField> &original,
                                     const std::vector<HeaderField> &rewritten, bool leadspc);

// True for a header field avsink owns, whoever wrote it: X-Virus-Scanned, X-Virus-Status, any
// X-Avsink-*, or a name in `also` (the names the verdict adds: the configured header names).
// Names compare case-insensitively.
bool is_owned_header(std::string_view name, const std::vector<std::string> &also);

// The deletes that remove every inbound header avsink owns (clamav-milter's "AddHeader Replace"),
// so that only avsink's own copies, added after, reach the recipient. `inbound` is every header
// name in arrival order; deletes run from the highest occurrence of a name down (smfi_chgheader
// indexes stay valid).
std::vector<HeaderEdit> owned_header_deletes(const std::vector<std::string> &inbound,
                                             const std::vector<std::string> &also);

// A rewritten top header block without the owned headers it copied from the inbound message (the
// first N occurrences of each owned name, N = how many arrived); headers the rewrite added stay.
std::vector<HeaderField> drop_inbound_owned(const std::vector<std::string> &inbound,
                                            std::vector<HeaderField> rewritten,
                                            const std::vector<std::string> &also);

// A value for smfi_addheader from a verdict header: control characters (CR, LF, NUL, ...) removed,
// a leading space added when leadspc is on (the MTA then stores it verbatim).
std::string milter_header_value(std::string_view value, bool leadspc);

// Text for smfi_setreply: printable ASCII only (others become '?'), '%' doubled (libmilter
// formats the reply), at most max_len bytes before escaping, never empty.
std::string reply_text(std::string_view text, size_t max_len = 900);

// Text for one syslog line: control and non-ASCII bytes become \xHH, '"' and '\' escaped.
std::string log_escape(std::string_view text);

// "<a@b>" -> "a@b"; "<>" -> ""; surrounding spaces dropped; otherwise unchanged.
std::string strip_angle(std::string_view address);

// A valid enhanced status for reply `code` ("5.7.1" for a 5xx): `verdict_enh` when it is well
// formed and of code's class, else `fallback`.
std::string enhanced_for(int code, const char *verdict_enh, const char *fallback);

}  // namespace avsink::milter

// message.h - byte-level helpers of avsink-milter: rebuild header lines, header edit values,
// clean reply and log text. Pure functions: no libmilter, no avsink, no I/O, no MIME parsing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::milter {

// The bytes of one header field as they were on the wire: "Name:" value "\r\n".
// leadspc: the value keeps its leading whitespace (SMFIP_HDR_LEADSPC negotiated); otherwise the MTA
// removed one space after the colon and it is put back. Every bare "\n" in a folded value becomes
// "\r\n", so the scanned bytes equal the message the MTA queues.
std::string header_bytes(std::string_view name, std::string_view value, bool leadspc);

// A value for smfi_chgheader/smfi_addheader from an avsink_header_edit value (leading whitespace
// kept): without the leading-space extension (leadspc false) the MTA adds one space after the
// colon itself, so one leading space is removed.
std::string edit_value(std::string_view value, bool leadspc);

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

// mail_parser_guard.h - spots messages, parts and archive members libclamav's mail parser would
// stall on, before it runs. Invariant: such data is unscannable (never clean); libclamav is not
// given it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace avsink::engines {

// libclamav's mail parser joins a Content-Type, Content-Transfer-Encoding or Content-Disposition
// field with the lines after it (folded lines, and any line at all while the field ends in ';' or
// holds an odd number of '"'), appending each to the whole with strlcat and splitting the result
// into words by rescanning from the start: quadratic. fuzz_scan found a 230 KB folded CTE that
// costs it 3.4 s and a Content-Type with an open quote that swallowed 58,000 lines (2.1 s); with
// no cap on a flagged message's size the cost has no useful bound. A joined field longer than this
// makes the message unscannable rather than the raw pass skipped: skipping would hand an attacker
// a switch that turns the pass off (the first input hid an EICAR that only the raw pass found).
constexpr size_t kMailParserMaxFieldBytes = 8192;

// The unscannable finding's name for a message, part or archive member held back for this reason.
constexpr std::string_view kMailParserFindingName = "Limits.Exceeded.MimeFieldLength";

// "" when libclamav's mail parser can be given `raw` (the message for the raw pass, or a decoded
// part: libclamav reads a part as a mail file when its first kilobyte looks like one), else why
// not (for the finding). Looks at every line, not only at the header blocks avsink's parser
// found: libclamav's parser may disagree about where a header block is. Linear; pure;
// thread-safe.
std::string mail_parser_hazard(std::string_view raw);

}  // namespace avsink::engines

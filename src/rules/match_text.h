// match_text.h - the strings rules are matched against: header values made UTF-8, decoded,
// stripped of control and invisible characters, and From values split into addresses.
// Pure functions, linear in their input, thread-safe; outputs are bounded (see each function).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace avsink::rules {

// Removes C0 and C1 control characters (NUL included), DEL, and invisible format characters
// (soft hyphen, zero-width spaces and joiners, bidi embeddings/overrides/isolates, word joiner,
// BOM); tab, CR and LF become a space; leading and trailing spaces are trimmed. `utf8` must be
// valid UTF-8 (run it through mime::to_utf8_lenient first); the output is valid UTF-8.
std::string strip_invisible(std::string_view utf8);

// Appends to `out` (skipping strings already there) the readings of one header value that rules
// are matched against:
//   1. the raw value as UTF-8 (Latin-1 when not UTF-8), stripped;
//   2. the RFC 2047-decoded value, stripped;
//   3. the decoded value cut at its first control character, stripped: what a mail client that
//      stops at a NUL or line break shows (Mailsploit, HOSTILE.md #47).
void header_readings(std::string_view raw, std::vector<std::string> *out);

// The addr-specs of an RFC 5322 address list (From, To ...), in order: the content of each
// <...>, or a bare addr-spec with comments and spaces removed. Quoted display names and comments
// may contain '@', ',' and '<' without producing addresses. At most 64 addresses.
std::vector<std::string> extract_addresses(std::string_view value);

// Every domain that follows an '@' in `text` (letters, digits, '-' and '.'; lowercased; a
// trailing '.' removed). Finds addresses in display names and in Mailsploit-style values too.
// At most 64 domains.
std::vector<std::string> domains_after_at(std::string_view text);

// An envelope address as matched: surrounding spaces and one pair of <> removed.
std::string envelope_address(std::string_view text);

// True when `domain` (lowercase) is `parent` or one of its subdomains.
bool domain_within(std::string_view domain, std::string_view parent);

}  // namespace avsink::rules

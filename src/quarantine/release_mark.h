// release_mark.h - the X-Avsink-Release header: proof that an operator released this message.
// An HMAC over id, release time and a canonical digest that survives MTA transit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::quarantine {

inline constexpr std::string_view kReleaseHeader = "X-Avsink-Release";

// Canonical form v1 of a message for the mark (documented in docs/quarantine.md):
//   "avsink-release-canon-1\n"
//   then, for each name in this fixed order: from, to, cc, subject, mime-version, content-type,
//   content-transfer-encoding, content-disposition -- every top-level header field of that name,
//   in message order, as "<lowercase name>:<value>\n" where the value is unfolded (CR and LF
//   removed), runs of spaces/tabs collapsed to one space, and leading/trailing space trimmed;
//   then "\n" and the body with every CRLF turned into LF and all trailing CR/LF removed.
// Every other header field (Received, Return-Path, X-Avsink-Release itself, ...) is ignored, so
// headers that MTAs prepend in transit, CRLF <-> LF conversion, refolding and a final newline
// added by SMTP do not change the digest; any change to the body or to a listed header does.
std::string release_canonical(std::string_view message);
std::string release_digest_hex(std::string_view message);  // hex SHA-256 of release_canonical

// The header value "<id>; <unix time>; <hex HMAC-SHA256(secret, "avsink-release-1\n" id "\n"
// time "\n" release_digest_hex(message))>". Thread-safe (pure).
std::string make_release_mark(std::string_view secret, const std::string &id, int64_t time,
                              std::string_view message);

struct ParsedMark {
  std::string id;
  int64_t time = 0;
  std::string mac_hex;
};
// Strict parse of a header value (surrounding whitespace allowed); nullopt when malformed.
std::optional<ParsedMark> parse_release_mark(std::string_view value);

// True when `value` parses, its time is within [now - max_age_seconds, now + 300] and its HMAC
// matches `message` (with or without the mark header: the canonical form ignores it). Compares
// in constant time.
bool check_release_mark(std::string_view secret, std::string_view value, std::string_view message,
                        int64_t now, int64_t max_age_seconds);

// The same with the message's release_digest_hex() computed once by the caller (several marks).
bool check_release_mark_digest(std::string_view secret, std::string_view value,
                               const std::string &digest_hex, int64_t now, int64_t max_age_seconds);

// At most this many X-Avsink-Release fields of one message are examined (a message stuffed with
// marks costs a bounded amount of work).
inline constexpr size_t kMaxMarksChecked = 8;

// ---- top-level header helpers (the message's own header block, not parts') ----
// Unfolded values of every top-level field named `name` (case-insensitive), in order.
std::vector<std::string> header_values(std::string_view message, std::string_view name);
// The message without any top-level field named `name` (its continuation lines included).
std::string remove_header(std::string_view message, std::string_view name);
// `name: value` prepended, ended with the line ending the message's first line uses.
std::string prepend_header(std::string_view message, std::string_view name, std::string_view value);

}  // namespace avsink::quarantine

// header_words.h - RFC 2045 structured-field tokenizer, RFC 2231 parameters, RFC 2047 words.
// Pure functions over bounded strings: linear time, at most max_params parameters kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mime/decode.h"
#include "util/text.h"

namespace avsink::mime {

// One parameter as written: `name=value` after comment stripping and quote removal.
struct Param {
  std::string name;   // lowercased, as written otherwise ("filename*0*")
  std::string value;  // quotes removed, backslash escapes resolved; RFC 2231 %XX still encoded
  std::string alt;    // a second plausible reading when recovery was needed ("" when none)
};

// A structured MIME field value: `token *( ";" param )`, e.g. a Content-Type.
struct StructuredValue {
  std::string token;                  // lowercased leading token ("multipart/mixed", "attachment")
  std::vector<Param> params;          // in order, duplicates kept
  std::vector<std::string> problems;  // finding names, e.g. "MIME.Malformed.UnbalancedQuote"
  bool params_exceeded = false;       // more than max_params parameters were present
};

// Tokenizes `value` per RFC 2045 (+ RFC 822 comments, erratum 2586): comments "( )" anywhere,
// quoted strings with backslash escapes, whitespace around "=" and ";". Recovers from
// unbalanced quotes/comments and junk after a value (recording a problem and an `alt` reading).
// Keeps at most `max_params` parameters. Thread-safe; no allocation beyond the result.
StructuredValue parse_structured(std::string_view value, uint32_t max_params);

// Removes RFC 822 comments and surrounding whitespace, lowercases (for CTE and similar tokens).
std::string normalize_token(std::string_view value);

// True when `s` is a non-empty RFC 2045 token (no tspecials, controls or spaces).
bool is_token(std::string_view s);

// A parameter looked up by name with RFC 2231 (`name*`, `name*0*`, `name*1`...) and RFC 2047
// decoding applied. All strings are UTF-8 except `raw`.
struct ParamLookup {
  bool found = false;
  std::string value;                    // best reading, decoded to UTF-8
  std::string raw;                      // as written (segments concatenated, undecoded)
  std::vector<std::string> alternates;  // other readings: duplicates, first segment, raw forms
  std::vector<std::string> problems;    // finding names (duplicates, missing segments ...)
};

// Looks up parameter `name` (lowercase) in `params`. The RFC 2231 form wins over a plain one
// when both exist (both are kept: the other one becomes an alternate). Thread-safe.
ParamLookup find_param(const std::vector<Param> &params, std::string_view name);

// Decodes RFC 2047 encoded words (B and Q, any iconv charset) in `text` and returns UTF-8.
// Whitespace between adjacent encoded words is dropped; text outside encoded words is kept
// (8-bit bytes that are not valid UTF-8 are read as Latin-1). Never fails; undecodable words stay
// as written. Thread-safe.
std::string decode_rfc2047(std::string_view text);

// Converts `bytes` in `charset` (any name iconv knows, case-insensitive; "" = unknown) to UTF-8.
// Invalid input sequences become U+FFFD. Returns false (and a best-effort Latin-1 reading in
// *out) when the charset is unknown. Thread-safe (one iconv descriptor per call).
bool charset_to_utf8(std::string_view bytes, std::string_view charset, std::string *out);

// Returns `bytes` if it is valid UTF-8, else its Latin-1 reading as UTF-8. NUL bytes are kept.
std::string to_utf8_lenient(std::string_view bytes);

// A Content-Transfer-Encoding value read leniently, as the most permissive clients do: quotes,
// comments, RFC 2047 words and any whitespace removed, lists ("qp,64") split. Returns every
// encoding the value could name, in order, without duplicates (kIdentity for 7bit/8bit/binary/
// empty; kUnknown never). Thread-safe.
std::vector<TransferEncoding> lenient_transfer_encodings(std::string_view value);

// RFC 2231 %XX decoding: each valid escape (either case) becomes its byte; anything else is kept.
std::string percent_decode(std::string_view s);

// `s` without its RFC 822 comments ("(...)", nested; an unbalanced "(" runs to the end).
std::string strip_comments(std::string_view s);

// Lowercases ASCII letters only (the one definition is util/text.h).
using util::ascii_lower;

}  // namespace avsink::mime

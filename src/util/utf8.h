// utf8.h - UTF-8 decoding, validation and encoding, shared by every stage that reads text.
// Part of util/: a general layer that knows nothing of mail (like Postfix's util/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace avsink::util {

// How utf8_decode treats a sequence that is not valid UTF-8.
enum class Utf8Mode {
  kStrict,  // overlongs, surrogates, bad continuation bytes and > U+10FFFF are invalid (0 returned)
  kLenient,  // a lead byte with enough bytes after it is decoded as written, unchecked
};

// Length of the sequence a lead byte announces: 1 for ASCII, 2-4 for a lead byte, 0 for a
// continuation byte or a byte that never starts a sequence. Pure; thread-safe.
size_t utf8_lead_length(unsigned char b);

// Decodes the sequence at s[i] (i < s.size()) into *cp and returns its length. In kStrict mode an
// invalid or truncated sequence returns 0 and leaves *cp unset. In kLenient mode it never returns
// 0: a byte that does not start a complete sequence is returned alone (length 1, *cp = the byte).
// Pure; thread-safe.
size_t utf8_decode(std::string_view s, size_t i, uint32_t *cp, Utf8Mode mode = Utf8Mode::kStrict);

// True when s is entirely valid (strict) UTF-8. Pure; thread-safe.
bool utf8_valid(std::string_view s);

// Appends cp (<= U+10FFFF) to *out as UTF-8. The caller owns *out.
void utf8_append(std::string *out, uint32_t cp);

// s with every byte that does not begin a valid sequence replaced by U+FFFD. Pure; thread-safe.
std::string utf8_sanitize(std::string_view s);

// ISO-8859-1 bytes as UTF-8 (every byte is a code point). Pure; thread-safe.
std::string latin1_to_utf8(std::string_view s);

}  // namespace avsink::util

// utf8.cpp - the one UTF-8 decoder, validator and encoder (see utf8.h).
// Strict decoding follows RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF.
#include "util/utf8.h"

namespace avsink::util {

size_t utf8_lead_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 0;
}

size_t utf8_decode(std::string_view s, size_t i, uint32_t *cp, Utf8Mode mode) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const size_t len = utf8_lead_length(b0);
  const bool lenient = mode == Utf8Mode::kLenient;
  if (len == 1 || len == 0 || i + len > s.size()) {
    if (len == 1 || lenient) {
      *cp = b0;
      return 1;
    }
    return 0;
  }
  uint32_t v = len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (!lenient && (b & 0xC0) != 0x80) return 0;
    v = v << 6 | (b & 0x3Fu);
  }
  if (!lenient) {
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  }
  *cp = v;
  return len;
}

bool utf8_valid(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_decode(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void utf8_append(std::string *out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | cp >> 18));
    out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_sanitize(std::string_view s) {
  if (utf8_valid(s)) return std::string(s);
  std::string out;
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_decode(s, i, &cp);
    if (n != 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char ch : s) utf8_append(&out, static_cast<unsigned char>(ch));
  return out;
}

}  // namespace avsink::util

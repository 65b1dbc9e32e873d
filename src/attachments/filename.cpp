// filename.cpp - lenient UTF-8 walking, Unicode folding without ICU, and the readings of a name.
// Linear time in the (bounded) name; never reads outside the input.
#include "attachments/filename.h"

#include <cstdint>
#include <cstdio>

#include "mime/header_words.h"
#include "util/utf8.h"

namespace avsink::attachments {
namespace {

bool is_bidi_override(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Invisible "format" characters (and friends) that a display hides but a byte compare sees.
bool is_invisible(uint32_t cp) {
  return cp == 0x00AD || cp == 0x034F || cp == 0x061C || cp == 0x180E ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

bool is_lookalike_dot(uint32_t cp) {
  return cp == 0xFF0E || cp == 0x2024 || cp == 0x3002 || cp == 0xFE52 || cp == 0xFF61;
}

bool is_unicode_space(uint32_t cp) {
  return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::string bounded(std::string_view name) {
  if (name.size() <= kMaxNameBytes) return std::string(name);
  std::string s(name.substr(0, kMaxNameBytes / 2));
  s.append(name.substr(name.size() - kMaxNameBytes / 2));
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%XX" decoded; an RFC 2231 "charset'language'" prefix is dropped first when present.
std::string percent_decode(std::string_view s) {
  const size_t q1 = s.find('\'');
  if (q1 != std::string_view::npos && q1 <= 64) {
    const size_t q2 = s.find('\'', q1 + 1);
    bool charset_ok = true;
    for (size_t i = 0; i < q1 && charset_ok; ++i) {
      const char c = s[i];
      charset_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.' || c == ':';
    }
    if (charset_ok && q2 != std::string_view::npos && q2 - q1 <= 36) s = s.substr(q2 + 1);
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

void add_unique(std::vector<std::string> *out, std::string reading) {
  if (reading.empty()) return;
  for (const auto &r : *out) {
    if (r == reading) return;
  }
  out->push_back(std::move(reading));
}

}  // namespace

std::string normalize_name(std::string_view name) {
  const std::string in = bounded(name);
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    uint32_t cp = 0;
    size_t len = util::utf8_decode(in, i, &cp);
    if (len == 0) {  // not UTF-8: keep the byte (only ASCII matters to the extension test)
      out.push_back(in[i]);
      ++i;
      continue;
    }
    i += len;
    if (is_invisible(cp)) continue;
    if (cp == '\t' || cp == '\r' || cp == '\n' || is_unicode_space(cp)) {
      out.push_back(' ');
    } else if ((cp > 0 && cp < 0x20) || (cp >= 0x7F && cp <= 0x9F)) {
      continue;  // other controls: a Windows name cannot hold them; MUAs drop them
    } else if (is_lookalike_dot(cp)) {
      out.push_back('.');
    } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
      char c = static_cast<char>(cp - 0xFEE0);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    } else if (cp >= 'A' && cp <= 'Z') {
      out.push_back(static_cast<char>(cp - 'A' + 'a'));
    } else {
      util::utf8_append(&out, cp);
    }
  }
  const size_t slash = out.find_last_of("/\\");
  if (slash != std::string::npos) out.erase(0, slash + 1);
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

std::vector<std::string> name_readings(std::string_view name) {
  const std::string in = bounded(name);
  std::vector<std::string> out;
  auto add_with_nul_cut = [&out](std::string_view s) {
    add_unique(&out, normalize_name(s));
    const size_t nul = s.find('\0');
    if (nul != std::string_view::npos) add_unique(&out, normalize_name(s.substr(0, nul)));
  };
  add_with_nul_cut(in);
  if (in.find('%') != std::string::npos) add_with_nul_cut(percent_decode(in));
  if (in.find('(') != std::string::npos) add_with_nul_cut(mime::strip_comments(in));
  const size_t cut = in.find_first_of(";\"");
  if (cut != std::string::npos) add_with_nul_cut(std::string_view(in).substr(0, cut));
  if (!util::utf8_valid(in)) {
    // Bytes that are not UTF-8 dropped: Debian's Info-ZIP unzip writes "setup.e\xffxe" as
    // "setup.exe".
    std::string kept;
    for (size_t i = 0; i < in.size();) {
      uint32_t cp = 0;
      const size_t len = util::utf8_decode(in, i, &cp);
      if (len == 0) {
        ++i;
        continue;
      }
      kept.append(in, i, len);
      i += len;
    }
    add_with_nul_cut(kept);
  }
  // The name a decompressor gives the file inside a lone compressed stream: gunzip, bunzip2,
  // unxz and 7-Zip drop the suffix (invoice.js.gz opens as invoice.js).
  static constexpr std::string_view kSuffixes[] = {".gz", ".bz2", ".xz",  ".lzma",
                                                   ".z",  ".lz",  ".zst", ".lz4"};
  for (size_t i = 0, n = out.size(); i < n; ++i) {
    for (const std::string_view suffix : kSuffixes) {
      const std::string &r = out[i];
      if (r.size() > suffix.size() && r.ends_with(suffix)) {
        add_unique(&out, normalize_name(std::string_view(r).substr(0, r.size() - suffix.size())));
      }
    }
  }
  return out;
}

std::string_view extension_of(std::string_view normalized) {
  const size_t dot = normalized.rfind('.');
  if (dot == std::string_view::npos) return {};
  return normalized.substr(dot + 1);
}

std::string_view previous_extension(std::string_view normalized) {
  const size_t last = normalized.rfind('.');
  if (last == std::string_view::npos || last == 0) return {};
  const size_t prev = normalized.rfind('.', last - 1);
  if (prev == std::string_view::npos) return {};
  std::string_view seg = normalized.substr(prev + 1, last - prev - 1);
  while (!seg.empty() && seg.back() == ' ') seg.remove_suffix(1);
  while (!seg.empty() && seg.front() == ' ') seg.remove_prefix(1);
  return seg;
}

bool has_padded_extension(std::string_view normalized) {
  const size_t last = normalized.rfind('.');
  if (last == std::string_view::npos || last < 3) return false;
  return normalized.compare(last - 3, 3, "   ") == 0;
}

bool is_clsid(std::string_view ext) {
  // {8-4-4-4-12}
  static constexpr std::string_view kShape = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
  if (ext.size() != kShape.size()) return false;
  for (size_t i = 0; i < ext.size(); ++i) {
    if (kShape[i] == 'x') {
      if (hex_value(ext[i]) < 0) return false;
    } else if (ext[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

bool has_bidi_override(std::string_view name) {
  const std::string in = bounded(name);
  for (const std::string &s : {in, percent_decode(in)}) {
    for (size_t i = 0; i < s.size();) {
      uint32_t cp = 0;
      const size_t len = util::utf8_decode(s, i, &cp);
      if (len == 0) {
        ++i;
        continue;
      }
      if (is_bidi_override(cp)) return true;
      i += len;
    }
  }
  return false;
}

std::string display_name(std::string_view name) {
  static constexpr size_t kMax = 512;
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < name.size();) {
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
    uint32_t cp = 0;
    const size_t len = util::utf8_decode(name, i, &cp);
    if (len == 0) {
      const auto b = static_cast<unsigned char>(name[i]);
      out += "<0x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      out += '>';
      ++i;
      continue;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible(cp) || cp == 0x2028 ||
        cp == 0x2029) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(name.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string_view member_basename(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace avsink::attachments

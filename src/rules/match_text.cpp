// match_text.cpp - normalisation of header values and envelope addresses before rule matching.
// Every function makes one pass over its input; outputs are capped, never unbounded.
#include "rules/match_text.h"

#include <algorithm>
#include <cstdint>

#include "mime/header_words.h"
#include "util/utf8.h"

namespace avsink::rules {

namespace {

constexpr size_t kMaxAddresses = 64;

bool invisible(uint32_t cp) {
  return cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

void add_unique(std::vector<std::string> *out, std::string s) {
  if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(std::move(s));
}

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string trim_copy(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string strip_invisible(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp;
    size_t n = util::utf8_decode(utf8, i, &cp, util::Utf8Mode::kLenient);
    if (cp == '\t' || cp == '\r' || cp == '\n') {
      out += ' ';
    } else if (cp >= 0x20 && !invisible(cp)) {
      out.append(utf8.substr(i, n));
    }
    i += n;
  }
  size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  size_t e = out.find_last_not_of(' ');
  return out.substr(b, e - b + 1);
}

void header_readings(std::string_view raw, std::vector<std::string> *out) {
  add_unique(out, strip_invisible(mime::to_utf8_lenient(raw)));
  const std::string decoded = mime::decode_rfc2047(raw);
  add_unique(out, strip_invisible(decoded));
  size_t cut = 0;
  while (cut < decoded.size() &&
         (static_cast<unsigned char>(decoded[cut]) >= 0x20 || decoded[cut] == '\t'))
    ++cut;
  if (cut < decoded.size()) add_unique(out, strip_invisible(decoded.substr(0, cut)));
}

std::vector<std::string> extract_addresses(std::string_view value) {
  std::vector<std::string> out;
  std::string plain, angle;
  bool in_angle = false, had_angle = false, in_quote = false;
  int comment_depth = 0;
  auto flush = [&] {
    if (!had_angle) {
      std::string a;
      for (char c : plain)
        if (!is_ws(c)) a += c;
      if (a.find('@') != std::string::npos && out.size() < kMaxAddresses) add_unique(&out, a);
    }
    plain.clear();
    had_angle = false;
  };
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    std::string &buf = in_angle ? angle : plain;
    if (in_quote) {
      if (c == '\\' && i + 1 < value.size()) {
        buf += value[++i];
      } else {
        buf += c;
        if (c == '"') in_quote = false;
      }
      continue;
    }
    if (comment_depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++comment_depth;
      } else if (c == ')') {
        --comment_depth;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quote = true;
        buf += c;
        break;
      case '(':
        comment_depth = 1;
        break;
      case '<':
        in_angle = true;
        had_angle = true;
        angle.clear();
        break;
      case '>':
        if (in_angle) {
          in_angle = false;
          std::string a = trim_copy(angle);
          if (!a.empty() && out.size() < kMaxAddresses) add_unique(&out, a);
        }
        break;
      case ',':
      case ';':
        if (!in_angle) flush();
        break;
      case ':':
        if (in_angle) {
          angle += c;
        } else {
          plain.clear();  // a group's display name
        }
        break;
      default:
        buf += c;
    }
  }
  if (in_angle) {  // "<user@host" without '>': still an address
    std::string a = trim_copy(angle);
    if (!a.empty() && out.size() < kMaxAddresses) add_unique(&out, a);
  }
  flush();
  return out;
}

std::vector<std::string> domains_after_at(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size() && out.size() < kMaxAddresses; ++i) {
    if (text[i] != '@') continue;
    std::string d;
    size_t j = i + 1;
    for (; j < text.size(); ++j) {
      char c = text[j];
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
        d += c;
      } else if (c >= 'A' && c <= 'Z') {
        d += static_cast<char>(c - 'A' + 'a');
      } else {
        break;
      }
    }
    while (!d.empty() && d.back() == '.') d.pop_back();
    while (!d.empty() && d.front() == '.') d.erase(d.begin());
    if (!d.empty()) add_unique(&out, d);
    i = j - 1;
  }
  return out;
}

std::string envelope_address(std::string_view text) {
  std::string s = trim_copy(text);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>')
    s = trim_copy(s.substr(1, s.size() - 2));
  return strip_invisible(mime::to_utf8_lenient(s));
}

bool domain_within(std::string_view domain, std::string_view parent) {
  if (parent.empty() || domain.size() < parent.size()) return false;
  if (domain.size() == parent.size()) return domain == parent;
  return domain.substr(domain.size() - parent.size()) == parent &&
         domain[domain.size() - parent.size() - 1] == '.';
}

}  // namespace avsink::rules

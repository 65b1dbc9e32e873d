// message.cpp - header reconstruction, header edit values and text cleaning for avsink-milter.
// Byte-level only: never splits, diffs or parses a message (the library's header edits do).
#include "message.h"

#include <algorithm>
#include <cstdio>

namespace avsink::milter {

std::string header_bytes(std::string_view name, std::string_view value, bool leadspc) {
  std::string out;
  out.reserve(name.size() + value.size() + 8);
  out.append(name);
  out.push_back(':');
  if (!leadspc) out.push_back(' ');
  char prev = 0;
  for (char c : value) {
    if (c == '\n' && prev != '\r') out.push_back('\r');
    out.push_back(c);
    prev = c;
  }
  out.append("\r\n");
  return out;
}

std::string edit_value(std::string_view value, bool leadspc) {
  if (!leadspc && !value.empty() && value[0] == ' ') value.remove_prefix(1);
  return std::string(value);
}

std::string milter_header_value(std::string_view value, bool leadspc) {
  std::string out;
  if (leadspc) out.push_back(' ');
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') continue;
    if (u == 0x7f) continue;
    out.push_back(c);
  }
  return out;
}

std::string reply_text(std::string_view text, size_t max_len) {
  std::string out;
  size_t n = std::min(text.size(), max_len);
  for (size_t i = 0; i < n; ++i) {
    unsigned char u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u >= 0x7f) {
      out.push_back('?');
    } else if (u == '%') {
      out.append("%%");
    } else {
      out.push_back(static_cast<char>(u));
    }
  }
  if (out.empty()) out = "rejected";
  return out;
}

std::string log_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out.append(buf);
    } else if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string strip_angle(std::string_view address) {
  while (!address.empty() && address.front() == ' ') address.remove_prefix(1);
  while (!address.empty() && address.back() == ' ') address.remove_suffix(1);
  if (address.size() >= 2 && address.front() == '<') {
    size_t close = address.find('>');
    if (close != std::string_view::npos) return std::string(address.substr(1, close - 1));
  }
  return std::string(address);
}

std::string enhanced_for(int code, const char *verdict_enh, const char *fallback) {
  std::string e = verdict_enh != nullptr ? verdict_enh : "";
  int a = 0, b = 0, c = 0, n = 0;
  if (std::sscanf(e.c_str(), "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 &&
      static_cast<size_t>(n) == e.size() && a == code / 100)
    return e;
  return fallback;
}

}  // namespace avsink::milter

// message.cpp - header reconstruction, header-block diff and text cleaning for avsink-milter.
// Splits only the top header block of a message avsink already rewrote; never parses MIME.
#include "message.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

namespace avsink::milter {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value as the MTA would hand it to a milter under the negotiated leading-space rule.
std::string as_milter_value(std::string_view value, bool leadspc) {
  std::string v = normalize_value(value);
  if (!leadspc && !v.empty() && v[0] == ' ') v.erase(0, 1);
  return v;
}

}  // namespace

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

std::string normalize_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r') out.push_back(c);
  return out;
}

std::vector<HeaderField> split_message(std::string_view message, size_t *body_offset) {
  std::vector<HeaderField> fields;
  size_t pos = 0;
  *body_offset = message.size();
  while (pos < message.size()) {
    size_t eol = message.find('\n', pos);
    size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    if (bare.empty()) {  // the empty line: the body starts after it
      *body_offset = next;
      return fields;
    }
    if ((bare[0] == ' ' || bare[0] == '\t') && !fields.empty()) {
      fields.back().value += "\n";
      fields.back().value += normalize_value(bare);
    } else {
      size_t colon = bare.find(':');
      if (colon != std::string_view::npos) {
        fields.push_back(HeaderField{std::string(bare.substr(0, colon)),
                                     normalize_value(bare.substr(colon + 1))});
      }
      // A line without a colon is not a header field; it has no edit to map to, so it is skipped.
    }
    pos = next;
  }
  return fields;
}

std::vector<HeaderEdit> diff_headers(const std::vector<HeaderField> &original,
                                     const std::vector<HeaderField> &rewritten, bool leadspc) {
  // Occurrences per lowercased name, in order, plus the order in which names first appear.
  struct Values {
    std::string name;  // as first spelled in the rewritten block (or the original)
    std::vector<std::string> before, after;
  };
  std::map<std::string, Values> by_name;
  std::vector<std::string> order;
  auto slot = [&](const std::string &name) -> Values & {
    std::string key = lower(name);
    auto it = by_name.find(key);
    if (it == by_name.end()) {
      order.push_back(key);
      it = by_name.emplace(key, Values{name, {}, {}}).first;
    }
    return it->second;
  };
  for (const auto &f : original) slot(f.name).before.push_back(normalize_value(f.value));
  for (const auto &f : rewritten) slot(f.name).after.push_back(as_milter_value(f.value, leadspc));

  std::vector<HeaderEdit> edits, deletes;
  for (const std::string &key : order) {
    const Values &v = by_name[key];
    size_t common = std::min(v.before.size(), v.after.size());
    for (size_t i = 0; i < common; ++i)
      if (v.before[i] != v.after[i])
        edits.push_back({HeaderEdit::kChange, v.name, static_cast<int>(i + 1), v.after[i]});
    for (size_t i = common; i < v.after.size(); ++i)
      edits.push_back({HeaderEdit::kAdd, v.name, 0, v.after[i]});
    for (size_t i = v.before.size(); i > v.after.size(); --i)
      deletes.push_back({HeaderEdit::kDelete, v.name, static_cast<int>(i), ""});
  }
  edits.insert(edits.end(), deletes.begin(), deletes.end());
  return edits;
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

bool is_owned_header(std::string_view name, const std::vector<std::string> &also) {
  const std::string n = lower(name);
  if (n == "x-virus-scanned" || n == "x-virus-status" || n.rfind("x-avsink-", 0) == 0) return true;
  for (const auto &a : also)
    if (n == lower(a)) return true;
  return false;
}

std::vector<HeaderEdit> owned_header_deletes(const std::vector<std::string> &inbound,
                                             const std::vector<std::string> &also) {
  std::map<std::string, int> seen;  // occurrences so far, per lowercased name
  std::vector<HeaderEdit> out;
  for (const auto &name : inbound) {
    int index = ++seen[lower(name)];
    if (is_owned_header(name, also))
      out.push_back(HeaderEdit{HeaderEdit::kDelete, name, index, ""});
  }
  std::reverse(out.begin(), out.end());  // highest occurrence first, per name and overall
  return out;
}

std::vector<HeaderField> drop_inbound_owned(const std::vector<std::string> &inbound,
                                            std::vector<HeaderField> rewritten,
                                            const std::vector<std::string> &also) {
  std::map<std::string, int> left;  // inbound occurrences still to drop, per lowercased name
  for (const auto &name : inbound)
    if (is_owned_header(name, also)) ++left[lower(name)];
  std::vector<HeaderField> out;
  for (auto &f : rewritten) {
    auto it = left.find(lower(f.name));
    if (it != left.end() && it->second > 0) {
      --it->second;
      continue;
    }
    out.push_back(std::move(f));
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

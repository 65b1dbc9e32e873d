// header_edits.cpp - applies a verdict's header edits and rewritten body to a received message,
// for the adapters that relay whole messages (avsink-smtpd, avsink-opensmtpd).
#include "header_edits.h"

#include <cctype>
#include <map>

namespace avsink::adapter {

namespace {

// Calls f(name, begin, end) for each field of the top header block (end includes its CRLF and
// folded lines). Returns the offset where the header block ends (the empty line, or the size).
template <typename F>
size_t for_each_field(std::string_view m, F f) {
  size_t i = 0;
  while (i < m.size()) {
    if (m[i] == '\r' || m[i] == '\n') return i;  // the empty line
    size_t colon = m.find(':', i);
    size_t eol = m.find('\n', i);
    if (colon == std::string_view::npos || (eol != std::string_view::npos && colon > eol))
      return i;  // not a header line: the body starts here (no empty line)
    size_t end = eol == std::string_view::npos ? m.size() : eol + 1;
    while (end < m.size() && (m[end] == ' ' || m[end] == '\t')) {
      size_t next = m.find('\n', end);
      end = next == std::string_view::npos ? m.size() : next + 1;
    }
    std::string_view name = m.substr(i, colon - i);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    f(name, i, end);
    i = end;
  }
  return i;
}

}  // namespace

std::optional<std::string> prepare_message(
    std::string_view received, const std::vector<HeaderEdit> &edits,
    const std::vector<std::pair<std::string, std::string>> &headers,
    std::optional<std::string_view> body) {
  auto lower = [](std::string_view v) {
    std::string k(v);
    for (char &c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
  };
  // "Name:" + value with its folds as CRLF, and the closing CRLF.
  auto field = [](const std::string &name, const std::string &value) {
    std::string f = name + ":";
    for (char c : value) {
      if (c == '\r' || c == '\0') continue;
      if (c == '\n') f += '\r';
      f += c;
    }
    return f + "\r\n";
  };
  std::map<std::pair<std::string, uint32_t>, const HeaderEdit *> by_occurrence;
  for (const HeaderEdit &e : edits) {
    if (e.kind == AVSINK_HEADER_CHANGE || e.kind == AVSINK_HEADER_DELETE)
      by_occurrence[{lower(e.name), e.index}] = &e;
    else if (e.kind != AVSINK_HEADER_ADD)
      return std::nullopt;
  }
  std::string out;
  out.reserve(received.size() + 256);
  for (const auto &h : headers) {
    out += h.first;
    out += ": ";
    for (char c : h.second)
      if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
    out += "\r\n";
  }
  std::map<std::string, uint32_t> seen;  // lower-cased name -> occurrences so far
  const size_t block_end =
      for_each_field(received, [&](std::string_view name, size_t begin, size_t end) {
        const std::string k = lower(name);
        auto it = by_occurrence.find({k, ++seen[k]});
        if (it == by_occurrence.end())
          out.append(received.substr(begin, end - begin));
        else if (it->second->kind == AVSINK_HEADER_CHANGE)
          out += field(std::string(name), it->second->value);
      });
  for (const HeaderEdit &e : edits)
    if (e.kind == AVSINK_HEADER_ADD) out += field(e.name, e.value);
  if (body) {
    out += "\r\n";
    out.append(*body);
  } else {
    out.append(received.substr(block_end));
  }
  return out;
}

std::optional<std::string> message_for_verdict(std::string_view received, const avsink_verdict *v) {
  const avsink_action action = avsink_verdict_action(v);
  if (action != AVSINK_ACTION_ACCEPT && action != AVSINK_ACTION_REWRITE) return std::nullopt;
  std::optional<std::string_view> body;
  if (action == AVSINK_ACTION_REWRITE) {
    const void *data = nullptr;
    size_t len = 0;
    if (avsink_verdict_rewritten_body(&data, &len, v) != AVSINK_OK) return std::nullopt;
    body = std::string_view(static_cast<const char *>(data), len);
  }
  std::vector<HeaderEdit> edits;
  for (size_t i = 0, n = avsink_verdict_header_edit_count(v); i < n; ++i) {
    const avsink_header_edit *e = avsink_verdict_header_edit(v, i);
    if (e == nullptr) return std::nullopt;
    edits.push_back(HeaderEdit{static_cast<int>(e->kind), e->name ? e->name : "", e->index,
                               e->value ? e->value : ""});
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (size_t i = 0, n = avsink_verdict_header_count(v); i < n; ++i) {
    const char *hn = nullptr, *hv = nullptr;
    if (avsink_verdict_header(&hn, &hv, v, i) != AVSINK_OK) return std::nullopt;
    headers.emplace_back(hn, hv);
  }
  return prepare_message(received, edits, headers, body);
}

}  // namespace avsink::adapter

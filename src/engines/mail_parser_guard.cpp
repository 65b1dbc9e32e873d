// mail_parser_guard.cpp - measures MIME fields the way libclamav's mail parser joins them.
// Invariant: linear in the data; stops at the first field longer than the cap.
#include "engines/mail_parser_guard.h"

#include <strings.h>

#include <algorithm>

namespace avsink::engines {
namespace {

bool starts_with_field(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         strncasecmp(line.data(), name.data(), name.size()) == 0;
}

std::string_view tokenized_field(std::string_view line) {
  static constexpr std::string_view kTokenized[] = {"Content-Type", "Content-Transfer-Encoding",
                                                    "Content-Disposition"};
  for (std::string_view n : kTokenized) {
    if (starts_with_field(line, n)) return n;
  }
  return {};
}

// The line at `pos` without its line end, and where the next one starts.
std::string_view line_at(std::string_view raw, size_t pos, size_t *next) {
  size_t eol = raw.find('\n', pos);
  *next = eol == std::string_view::npos ? raw.size() : eol + 1;
  if (eol == std::string_view::npos) eol = raw.size();
  std::string_view line = raw.substr(pos, eol - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// What libclamav keeps joining on: the field so far ends in ';' or has an open quote.
struct JoinState {
  bool odd_quotes = false;
  char last = 0;  // last character that is not a space or tab
  void add(std::string_view line) {
    odd_quotes ^= (std::count(line.begin(), line.end(), '"') % 2) != 0;
    const size_t end = line.find_last_not_of(" \t");
    if (end != std::string_view::npos) last = line[end];
  }
  bool wants_more() const { return odd_quotes || last == ';'; }
};

}  // namespace

std::string mail_parser_hazard(std::string_view raw) {
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t next = 0;
    const std::string_view first = line_at(raw, pos, &next);
    const std::string_view name = tokenized_field(first);
    if (name.empty()) {
      pos = next;
      continue;
    }
    JoinState state;
    state.add(first);
    size_t joined = first.size();
    while (next < raw.size() && joined <= kMailParserMaxFieldBytes &&
           (raw[next] == ' ' || raw[next] == '\t' || state.wants_more())) {
      const std::string_view more = line_at(raw, next, &next);
      state.add(more);
      joined += more.size();
    }
    if (joined > kMailParserMaxFieldBytes) {
      return "a " + std::string(name) + " field at byte " + std::to_string(pos) +
             " that libclamav's mail parser would join to more than " +
             std::to_string(kMailParserMaxFieldBytes) + " bytes (it is quadratic on them)";
    }
    pos = next;
  }
  return "";
}

}  // namespace avsink::engines

// raw_pass_guard.cpp - cuts the MIME header fields libclamav's mail parser takes quadratic time on.
// Invariant: only continuation lines past the cap are dropped; every other byte is kept in order.
#include "session/raw_pass_guard.h"

#include <strings.h>

namespace avsink::session {
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

// The end of the line starting at `pos` (after its '\n'), or raw.size().
size_t next_line(std::string_view raw, size_t pos) {
  const size_t eol = raw.find('\n', pos);
  return eol == std::string_view::npos ? raw.size() : eol + 1;
}

}  // namespace

std::optional<DefusedMessage> defuse_for_raw_pass(std::string_view raw) {
  std::optional<DefusedMessage> out;
  size_t copied = 0;  // raw[0, copied) is already in out->bytes (once out exists)
  size_t pos = 0;
  while (pos < raw.size()) {
    const std::string_view name = tokenized_field(raw.substr(pos, raw.find('\n', pos) - pos));
    size_t next = next_line(raw, pos);
    if (name.empty()) {
      pos = next;
      continue;
    }
    size_t keep = next;  // the field's lines that fit under the cap
    while (next < raw.size() && (raw[next] == ' ' || raw[next] == '\t')) {
      next = next_line(raw, next);
      if (next - pos <= kRawPassMaxMimeFieldBytes) keep = next;
    }
    if (next - pos > kRawPassMaxMimeFieldBytes) {
      if (!out) {
        out.emplace();
        out->bytes.reserve(raw.size());
        out->why = "a " + std::to_string(next - pos) + "-byte " + std::string(name) +
                   " field at byte " + std::to_string(pos) + " cut to " +
                   std::to_string(keep - pos) + " bytes";
      }
      out->bytes.append(raw.substr(copied, keep - copied));
      copied = next;
    }
    pos = next;
  }
  if (out) out->bytes.append(raw.substr(copied));
  return out;
}

}  // namespace avsink::session

// header_edits.cpp - top-header-block split, owned-header filter and diff for delivery edits.
// Reads only the top header block of messages already scanned; never parses MIME.
#include "session/header_edits.h"

#include <algorithm>
#include <map>

#include "util/text.h"

namespace avsink::session {

namespace {

std::string without_cr(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r') out.push_back(c);
  return out;
}

}  // namespace

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
      fields.back().value += without_cr(bare);
    } else {
      size_t colon = bare.find(':');
      if (colon != std::string_view::npos) {
        fields.push_back(
            HeaderField{std::string(bare.substr(0, colon)), without_cr(bare.substr(colon + 1))});
      }
      // A line without a colon is not a header field; it has no edit to map to, so it is skipped.
    }
    pos = next;
  }
  return fields;
}

bool is_owned_header(std::string_view name, const std::vector<std::string> &also) {
  const std::string n = util::ascii_lower(name);
  if (n == "x-virus-scanned" || n == "x-virus-status" || n.rfind("x-avsink-", 0) == 0) return true;
  for (const auto &a : also)
    if (util::ascii_iequals(n, a)) return true;
  return false;
}

std::vector<HeaderField> drop_inbound_owned(const std::vector<HeaderField> &inbound,
                                            std::vector<HeaderField> fields,
                                            const std::vector<std::string> &also) {
  std::map<std::string, int> left;  // inbound occurrences still to drop, per lowercased name
  for (const auto &f : inbound)
    if (is_owned_header(f.name, also)) ++left[util::ascii_lower(f.name)];
  std::vector<HeaderField> out;
  for (auto &f : fields) {
    auto it = left.find(util::ascii_lower(f.name));
    if (it != left.end() && it->second > 0) {
      --it->second;
      continue;
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<HeaderEdit> diff_headers(const std::vector<HeaderField> &original,
                                     const std::vector<HeaderField> &wanted) {
  // Occurrences per lowercased name, in order, plus the order in which names first appear.
  struct Values {
    std::string name;  // as first spelled in the original block (or the wanted one)
    std::vector<std::string> before, after;
  };
  std::map<std::string, Values> by_name;
  std::vector<std::string> order;
  auto slot = [&](const std::string &name) -> Values & {
    std::string key = util::ascii_lower(name);
    auto it = by_name.find(key);
    if (it == by_name.end()) {
      order.push_back(key);
      it = by_name.emplace(key, Values{name, {}, {}}).first;
    }
    return it->second;
  };
  for (const auto &f : original) slot(f.name).before.push_back(f.value);
  for (const auto &f : wanted) slot(f.name).after.push_back(f.value);

  std::vector<HeaderEdit> edits, deletes;
  for (const std::string &key : order) {
    const Values &v = by_name[key];
    size_t common = std::min(v.before.size(), v.after.size());
    for (size_t i = 0; i < common; ++i)
      if (v.before[i] != v.after[i])
        edits.push_back({HeaderEdit::kChange, v.name, static_cast<uint32_t>(i + 1), v.after[i]});
    for (size_t i = common; i < v.after.size(); ++i)
      edits.push_back({HeaderEdit::kAdd, v.name, 0, v.after[i]});
    for (size_t i = v.before.size(); i > v.after.size(); --i)
      deletes.push_back({HeaderEdit::kDelete, v.name, static_cast<uint32_t>(i), ""});
  }
  edits.insert(edits.end(), deletes.begin(), deletes.end());
  return edits;
}

std::vector<HeaderEdit> delivery_header_edits(std::string_view original,
                                              const std::string *rewritten,
                                              const std::vector<std::string> &also) {
  size_t body = 0;
  const std::vector<HeaderField> inbound = split_message(original, &body);
  std::vector<HeaderField> wanted =
      rewritten != nullptr ? split_message(*rewritten, &body) : inbound;
  return diff_headers(inbound, drop_inbound_owned(inbound, std::move(wanted), also));
}

}  // namespace avsink::session

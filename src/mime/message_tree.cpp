// message_tree.cpp - the MessageTree convenience accessors (top-level header lookup, Subject).
// Read-only over an immutable tree; safe to call from any number of threads at once.
#include "mime/message_tree.h"

#include "mime/entity.h"
#include "mime/header_words.h"

namespace avsink::mime {

std::string MessageTree::header(std::string_view name) const {
  if (parts.empty()) return {};
  const std::string want = ascii_lower(name);
  for (const HeaderField &f : parts[0].headers)
    if (normalize_field_name(f.name) == want) return f.value;
  return {};
}

std::string MessageTree::subject() const {
  return decode_rfc2047(header("Subject"));
}

}  // namespace avsink::mime

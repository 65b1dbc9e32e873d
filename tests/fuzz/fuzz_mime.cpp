// fuzz_mime.cpp - libFuzzer target: mime::parse_message on arbitrary bytes with small Limits.
// Invariant: never crashes, never exceeds a limit it was given, and the tree is well-formed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/limits.h"
#include "mime/parser.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  avsink::Limits lim;
  lim.max_message_bytes = 1 << 20;
  lim.max_mime_depth = 8;
  lim.max_rfc822_depth = 4;
  lim.max_parts = 64;
  lim.max_header_fields = 32;
  lim.max_header_bytes = 4096;
  lim.max_params = 16;
  lim.max_boundary_length = 128;
  lim.max_decoded_bytes = 256 << 10;
  lim.max_file_bytes = 64 << 10;
  const std::string_view raw(reinterpret_cast<const char *>(data), size);
  avsink::mime::MessageTree tree = avsink::mime::parse_message(raw, lim);

  check(!tree.parts.empty());
  check(tree.parts[0].path == "1" && tree.parts[0].parent == -1);
  check(tree.parts.size() <= lim.max_parts);
  check(tree.decoded_bytes <= lim.max_decoded_bytes);
  uint64_t decoded = 0;
  for (size_t i = 0; i < tree.parts.size(); ++i) {
    const auto &p = tree.parts[i];
    check(!p.path.empty());
    check(p.parent < static_cast<int>(i));
    check(p.depth <= lim.max_mime_depth + 1);
    check(p.body.size() <= lim.max_file_bytes);
    check(p.headers.size() <= lim.max_header_fields);
    check(p.raw_offset <= raw.size() && p.raw_length <= raw.size() - p.raw_offset);
    if (p.is_multipart || p.is_message) check(p.body.empty());
    decoded += p.body.size();
  }
  check(decoded <= tree.decoded_bytes);
  for (const auto &f : tree.findings) check(!f.name.empty() && f.inspector == "mime");
  return 0;
}

// fuzz_mime.cpp - libFuzzer target: mime::parse_message on arbitrary bytes with small Limits.
// Invariant: never crashes, never exceeds a limit it was given, and the tree is well-formed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/limits.h"
#include "fuzz_check.h"
#include "mime/parser.h"

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

  FUZZ_CHECK(!tree.parts.empty());
  FUZZ_CHECK(tree.parts[0].path == "1" && tree.parts[0].parent == -1);
  FUZZ_CHECK(tree.parts.size() <= lim.max_parts);
  FUZZ_CHECK(tree.decoded_bytes <= lim.max_decoded_bytes);
  uint64_t decoded = 0;
  for (size_t i = 0; i < tree.parts.size(); ++i) {
    const auto &p = tree.parts[i];
    FUZZ_CHECK(!p.path.empty());
    FUZZ_CHECK(p.parent < static_cast<int>(i));
    FUZZ_CHECK(p.depth <= lim.max_mime_depth + 1);
    FUZZ_CHECK(p.body.size() <= lim.max_file_bytes);
    FUZZ_CHECK(p.headers.size() <= lim.max_header_fields);
    FUZZ_CHECK(p.raw_offset <= raw.size() && p.raw_length <= raw.size() - p.raw_offset);
    if (p.is_multipart || p.is_message) FUZZ_CHECK(p.body.empty());
    decoded += p.body.size();
  }
  FUZZ_CHECK(decoded <= tree.decoded_bytes);
  for (const auto &f : tree.findings) FUZZ_CHECK(!f.name.empty() && f.inspector == "mime");
  return 0;
}

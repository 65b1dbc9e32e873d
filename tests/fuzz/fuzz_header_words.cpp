// fuzz_header_words.cpp - libFuzzer target: RFC 2045 tokenizer, RFC 2231 parameters, RFC 2047
// words. Invariant: linear, never crashes, keeps at most max_params parameters, always returns a
// string.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mime/header_words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace avsink::mime;
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  // The first line (up to 32 bytes) doubles as a charset name for charset_to_utf8.
  const size_t nl = in.find('\n');
  const std::string_view charset = in.substr(0, nl == std::string_view::npos ? 0 : nl);

  constexpr uint32_t kMaxParams = 16;
  StructuredValue sv = parse_structured(in, kMaxParams);
  FUZZ_CHECK(sv.params.size() <= kMaxParams);
  for (const char *name : {"filename", "name", "boundary", "charset"}) {
    ParamLookup p = find_param(sv.params, name);
    if (!p.found) FUZZ_CHECK(p.value.empty());
  }
  (void)decode_rfc2047(in);
  (void)normalize_token(in);
  (void)is_token(in);
  (void)to_utf8_lenient(in);
  std::string out;
  if (charset.size() <= 32) (void)charset_to_utf8(in, charset, &out);
  return 0;
}

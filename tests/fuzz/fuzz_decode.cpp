// fuzz_decode.cpp - libFuzzer target: base64, quoted-printable and uuencode decoders, block finder.
// Invariant: output never exceeds the cap; found blocks always lie inside the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mime/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace avsink::mime;
  if (size < 1) return 0;
  // Byte 0: the cap (0..255 bytes, or unlimited-ish when it is 255) and a prefilled output.
  const uint64_t cap = data[0] == 255 ? (1u << 20) : data[0];
  const std::string_view in(reinterpret_cast<const char *>(data + 1), size - 1);
  const std::string prefix(data[0] % 3, 'p');  // decoders append: the cap counts what was there

  for (TransferEncoding te :
       {TransferEncoding::kBase64, TransferEncoding::kQuotedPrintable, TransferEncoding::kUuencode,
        TransferEncoding::kIdentity, TransferEncoding::kUnknown}) {
    std::string out = prefix;
    DecodeStatus st = decode_transfer(te, in, cap, &out);
    FUZZ_CHECK(out.size() <= std::max<uint64_t>(cap, prefix.size()));
    FUZZ_CHECK(out.compare(0, prefix.size(), prefix) == 0);
    if (st.truncated) FUZZ_CHECK(out.size() >= prefix.size());
  }
  std::string uu;
  (void)decode_uuencode_lines(in, cap, &uu);
  FUZZ_CHECK(uu.size() <= cap);

  for (const UuBlock &b : find_uuencode_blocks(in, 8)) {
    FUZZ_CHECK(b.begin <= b.data_begin && b.data_begin <= b.data_end && b.data_end <= in.size());
    std::string out;
    if (b.base64)
      decode_base64(in.substr(b.data_begin, b.data_end - b.data_begin), cap, &out);
    else
      decode_uuencode_lines(in.substr(b.data_begin, b.data_end - b.data_begin), cap, &out);
    FUZZ_CHECK(out.size() <= cap);
  }
  (void)classify_transfer_encoding(in.substr(0, 32));
  return 0;
}

// decode.h - our own Content-Transfer-Encoding decoders (base64, quoted-printable, uuencode).
// Permissive, linear time, never read outside the input, and never write more than `cap` bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::mime {

// What happened while decoding.
struct DecodeStatus {
  bool malformed = false;  // input had errors that were skipped or repaired
  bool truncated = false;  // output reached `cap` while input still had data to decode
};

// The transfer encodings we can decode.
enum class TransferEncoding { kIdentity, kBase64, kQuotedPrintable, kUuencode, kUnknown };

// Maps a lowercased, comment-stripped Content-Transfer-Encoding token to a decoder.
// "", 7bit, 8bit, binary -> kIdentity; base64; quoted-printable; x-uuencode/uuencode/x-uue/uue;
// anything else -> kUnknown (callers decode it as identity and report it).
TransferEncoding classify_transfer_encoding(std::string_view cte);

// Appends the decoding of `in` to *out, writing at most `cap` bytes in total to *out (counting
// what *out already held). Thread-safe; *out is the caller's.
//
// base64: skips every non-alphabet byte (reporting non-whitespace ones), tolerates missing
// padding, and keeps decoding after a "=" in the middle (as Thunderbird does), reporting it.
DecodeStatus decode_base64(std::string_view in, uint64_t cap, std::string *out);
// quoted-printable: "=XX" in either case, soft breaks "=" [WSP] (CR)LF, an invalid "=" kept
// literally (reported), a trailing "=" dropped safely.
DecodeStatus decode_quoted_printable(std::string_view in, uint64_t cap, std::string *out);
// uuencode data lines (between "begin" and "end", exclusive); stops at an "end" line.
DecodeStatus decode_uuencode_lines(std::string_view in, uint64_t cap, std::string *out);
// Dispatches on `te`; kIdentity and kUnknown copy the input.
DecodeStatus decode_transfer(TransferEncoding te, std::string_view in, uint64_t cap,
                             std::string *out);

// A "begin MODE NAME" ... "end" block (or "begin-base64 MODE NAME" ... "====") in a text.
struct UuBlock {
  size_t begin = 0;       // offset of the "begin" line in the text
  size_t data_begin = 0;  // first data line
  size_t data_end = 0;    // end of data (start of the "end" line, or end of text)
  std::string name;       // file name as written (may be empty)
  bool base64 = false;    // begin-base64 (uuencode -m)
  bool has_end = false;   // a terminating line was found
};

// Finds up to `max_blocks` uuencode blocks in `text` (any line ends). Linear time.
std::vector<UuBlock> find_uuencode_blocks(std::string_view text, size_t max_blocks);

}  // namespace avsink::mime

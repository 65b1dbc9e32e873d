// decode.h - our own decoders: base64, quoted-printable, uuencode, yEnc and BinHex 4.0.
// Permissive, linear time, never read outside the input, and never write more than `cap` bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.h"

namespace avsink::mime {

// What happened while decoding.
struct DecodeStatus {
  bool malformed = false;  // input had errors that were skipped or repaired
  bool truncated = false;  // output reached `cap` while input still had data to decode
  bool timed_out = false;  // the deadline passed: decoding stopped early (the output is a prefix)
};

// The transfer encodings we can decode.
// New values are only ever appended.
enum class TransferEncoding {
  kIdentity,
  kBase64,
  kQuotedPrintable,
  kUuencode,
  kUnknown,
  kBinhex,  // the body is a BinHex 4.0 file (CTE "mac-binhex40", "x-binhex" ...): data fork
  kYenc,    // the body is yEnc data (CTE "x-yencode", "yenc" ...)
};

// How a decoder reads what the standard leaves open. Mail clients differ exactly here, so the
// parser decodes a body once per dialect that could give other bytes (decode_dialects()).
enum class DecodeDialect {
  kDefault,              // the decoders below as documented (Thunderbird-like, permissive)
  kBase64PerLine,        // each line is its own base64 text: a partial quad ends at the line end
  kBase64StopAtPad,      // decoding ends at the first "=" that closes a quad (Python, MIME-tools)
  kBase64SkipJunkLines,  // a line holding any byte outside the alphabet is dropped whole
  kBase64StopAtJunk,     // decoding ends at the first line holding a byte outside the alphabet
  kQpUpperHexOnly,       // "=xx" in lowercase is not an escape: kept literally (RFC 2045 strict)
  kQpDropInvalid,        // an invalid "=" is dropped instead of kept
  kRawBody,              // not decoded at all: readers that do not know the encoding (Python's
                         // email for BinHex and yEnc, MIME-tools, munpack, reformime for most
                         // of their names) or keep what fails to decode (Python: uuencode;
                         // libclamav: base64 with bytes outside the alphabet)
  kRawJoinedLines,       // not decoded, CR and LF removed: Python's email when a base64 body
                         // cannot be decoded (its alphabet characters leave one over a quad)
};

// The dialects other than kDefault that can decode `body` (in `te`) to different bytes. One
// linear pass over the body; empty for ordinary, well-formed base64 and quoted-printable bodies.
// uuencode, BinHex and yEnc bodies always get kRawBody, and so does a base64 body with a byte
// outside the alphabet, "=" and whitespace (libclamav then reads the bytes as they are); a base64
// body whose alphabet characters number 1 more than a multiple of 4 gets kRawJoinedLines.
// Thread-safe.
// With a deadline that passes, the list may be short: the caller must then report the deadline.
std::vector<DecodeDialect> decode_dialects(TransferEncoding te, std::string_view body,
                                           const Deadline *deadline = nullptr);

// decode_transfer() in one dialect (kDefault: the same as decode_transfer()).
// `deadline` (optional) is checked about every MiB of input; past it: timed_out.
DecodeStatus decode_transfer_dialect(TransferEncoding te, DecodeDialect dialect,
                                     std::string_view in, uint64_t cap, std::string *out,
                                     const Deadline *deadline = nullptr);

// Maps a lowercased, comment-stripped Content-Transfer-Encoding token to a decoder.
// "", 7bit, 8bit, binary -> kIdentity; base64; quoted-printable; x-uuencode/uuencode/x-uue/uue;
// mac-binhex40/x-binhex/binhex/binhex40 -> kBinhex; x-yencode/yencode/x-yenc/yenc -> kYenc;
// anything else -> kUnknown (callers decode it as identity and report it).
TransferEncoding classify_transfer_encoding(std::string_view cte);

// Appends the decoding of `in` to *out, writing at most `cap` bytes in total to *out (counting
// what *out already held). Thread-safe; *out is the caller's.
//
// base64: skips every non-alphabet byte (reporting non-whitespace ones), tolerates missing
// padding, and keeps decoding after a "=" in the middle (as Thunderbird does), reporting it.
DecodeStatus decode_base64(std::string_view in, uint64_t cap, std::string *out,
                           const Deadline *deadline = nullptr);
// quoted-printable: "=XX" in either case, soft breaks "=" [WSP] (CR)LF, an invalid "=" kept
// literally (reported), a trailing "=" dropped safely.
DecodeStatus decode_quoted_printable(std::string_view in, uint64_t cap, std::string *out,
                                     const Deadline *deadline = nullptr);
// uuencode data lines (between "begin" and "end", exclusive); stops at an "end" line.
DecodeStatus decode_uuencode_lines(std::string_view in, uint64_t cap, std::string *out,
                                   const Deadline *deadline = nullptr);
// Dispatches on `te`; kIdentity and kUnknown copy the input.
DecodeStatus decode_transfer(TransferEncoding te, std::string_view in, uint64_t cap,
                             std::string *out);

// Heuristics for a body whose Content-Transfer-Encoding is unknown (HOSTILE #26): over the first
// 64 KiB, at least 16 base64 characters and at most 1 other non-space byte per 20 of them; or at
// least one "=XX" escape or "=" soft line break. Linear, bounded.
bool looks_like_base64(std::string_view body);
bool looks_like_quoted_printable(std::string_view body);

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

// A "=ybegin ... name=NAME" ... "=yend" block (yEnc 1.3) in a text.
struct YencBlock {
  size_t begin = 0;       // offset of the "=ybegin" line
  size_t data_begin = 0;  // first line after "=ybegin" (a "=ypart" line there is skipped when
                          // decoding)
  size_t data_end = 0;    // start of the "=yend" line, or end of text
  std::string name;       // name= (the rest of the =ybegin line), may be empty
  bool has_end = false;   // a "=yend" line was found
};

// Finds up to `max_blocks` yEnc blocks in `text` (any line ends). Linear time.
std::vector<YencBlock> find_yenc_blocks(std::string_view text, size_t max_blocks);

// yEnc data lines (between "=ybegin" and "=yend", exclusive): byte - 42, "=" escapes byte - 106;
// CR and LF are line structure, "=ypart"/"=yend" lines are skipped/stop. Never fails; a trailing
// lone "=" is reported.
DecodeStatus decode_yenc_lines(std::string_view in, uint64_t cap, std::string *out);

// A BinHex 4.0 block: the "(This file must be converted with BinHex 4.0)" line, then ":data:".
struct BinhexBlock {
  size_t begin = 0;       // offset of the marker line
  size_t data_begin = 0;  // just after the opening ":"
  size_t data_end = 0;    // the closing ":" (exclusive), or end of text
  bool has_end = false;   // a closing ":" was found
};

// Finds up to `max_blocks` BinHex 4.0 blocks in `text`: a marker line (leading whitespace
// allowed, "BinHex" case-insensitive) and the first later line that starts with ":". Linear time.
std::vector<BinhexBlock> find_binhex_blocks(std::string_view text, size_t max_blocks);

// One decoded BinHex file.
struct BinhexFile {
  std::string name;           // the Mac file name as written (Mac Roman bytes)
  std::string data_fork;      // the data fork
  std::string resource_fork;  // the resource fork (usually empty)
};

// Decodes BinHex 4.0 characters (between the colons; whitespace skipped): 6-bit alphabet, then
// the 0x90 run-length encoding, then the header and both forks. The expanded stream (the
// run-length encoding can grow 255x) never exceeds `cap` bytes. A bad header, bad character or
// short fork is reported as malformed; when the header cannot be read, the whole expanded stream
// becomes the data fork so its bytes still get scanned. CRCs are not enforced.
DecodeStatus decode_binhex(std::string_view in, uint64_t cap, BinhexFile *out);

}  // namespace avsink::mime

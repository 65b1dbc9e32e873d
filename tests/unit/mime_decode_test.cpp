// mime_decode_test.cpp - base64, quoted-printable, uuencode, yEnc, BinHex decoders; block finders.
// Table-driven: input, cap, want output and want malformed/truncated flags ("got X, want Y").
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "mime/decode.h"
#include "test_support.h"

namespace {

using avsink::mime::DecodeStatus;
using avsink::mime::TransferEncoding;

struct Case {
  std::string in;
  std::string want;
  bool malformed;
  uint64_t cap = ~0ull;
  bool truncated = false;
};

std::string show(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

void run(const char *what,
         DecodeStatus (*fn)(std::string_view, uint64_t, std::string *, const avsink::Deadline *),
         const std::vector<Case> &cases) {
  for (const auto &c : cases) {
    std::string out;
    DecodeStatus st = fn(c.in, c.cap, &out, nullptr);
    EXPECT_EQ(out, c.want) << what << "(\"" << show(c.in) << "\"): got \"" << show(out)
                           << "\", want \"" << show(c.want) << "\"";
    EXPECT_EQ(st.malformed, c.malformed) << what << "(\"" << show(c.in) << "\") malformed: got "
                                         << st.malformed << ", want " << c.malformed;
    EXPECT_EQ(st.truncated, c.truncated) << what << "(\"" << show(c.in) << "\") truncated: got "
                                         << st.truncated << ", want " << c.truncated;
  }
}

TEST(MimeDecode, Base64) {
  run("base64", avsink::mime::decode_base64,
      {
          {"", "", false},
          {"YWJj", "abc", false},
          {"YWJjZA==", "abcd", false},
          {"YWJjZGU=", "abcde", false},
          {"YW Jj\r\nZA==\r\n", "abcd", false},
          {"  YWJj\t\r\n\r\n", "abc", false},
          {"YW#Jj", "abc", true},      // junk skipped, reported
          {"Y.W:J-j_%", "abc", true},  // HOSTILE #27 junk set
          {"YWJjZA", "abcd", true},    // missing padding tolerated
          {"YWJjZGU", "abcde", true},  // missing padding tolerated
          {"YQ==YmNk", "abcd", true},  // '=' in the middle: keep decoding
          {"YQ==\r\n====\r\nYmNk", "abcd", true},
          {"Y", "", true},  // one leftover sextet
          {"AA==", std::string(1, '\0'), false},
          {"AAAA", std::string(3, '\0'), false},  // NUL never truncates
          {"YWJjZGVm", "abcd", false, 4, true},   // cap
          {"YWJj", "abc", false, 3, false},       // exactly at the cap
      });
}

// Output is made writable one 1 MiB stride of input at a time: a body of several strides, with
// a prefix already in the output, decodes to what a plain encoder put in, and every cap around a
// stride edge keeps exactly the first cap bytes.
TEST(MimeDecode, Base64AcrossStridesAndCaps) {
  std::string raw(3 * 1024 * 1024 + 1001, '\0');
  uint32_t x = 7;
  for (char &c : raw) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  const std::string enc = avsink::test::base64(raw);
  std::string out = "prefix:";
  DecodeStatus st = avsink::mime::decode_base64(enc, ~0ull, &out, nullptr);
  EXPECT_FALSE(st.malformed);
  EXPECT_FALSE(st.truncated);
  ASSERT_EQ(out.size(), 7 + raw.size());
  EXPECT_TRUE(out == "prefix:" + raw) << "decoded bytes differ";
  for (uint64_t cap : {uint64_t{0}, uint64_t{1}, uint64_t{786431}, uint64_t{786432},
                       uint64_t{786433}, uint64_t{1} << 20, uint64_t{raw.size() - 1}}) {
    std::string capped;
    st = avsink::mime::decode_base64(enc, cap, &capped, nullptr);
    EXPECT_TRUE(st.truncated) << "cap " << cap;
    ASSERT_EQ(capped.size(), cap) << "cap " << cap;
    EXPECT_TRUE(capped == raw.substr(0, cap)) << "cap " << cap;
  }
  std::string exact;
  st = avsink::mime::decode_base64(enc, raw.size(), &exact, nullptr);
  EXPECT_FALSE(st.truncated);
  EXPECT_EQ(exact.size(), raw.size());
}

// The decoder takes four alphabet bytes at a time where it can; the rules are per byte. A plain
// per-byte reading of the documented rules (decode.h) must agree with it on output and flags,
// on seeded random bodies mixing alphabet, "=", line ends, spaces and junk, with random caps.
struct RefBase64 {
  std::string out;
  bool malformed = false, truncated = false;
};
RefBase64 reference_base64(const std::string &in, uint64_t cap) {
  static const std::string kAlpha =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  RefBase64 r;
  uint32_t acc = 0;
  int n = 0;
  bool padded = false;
  auto emit = [&](uint32_t b) {
    if (r.out.size() >= cap) return false;
    r.out.push_back(static_cast<char>(b));
    return true;
  };
  for (unsigned char c : in) {
    const size_t v = kAlpha.find(static_cast<char>(c));
    if (c != 0 && v != std::string::npos) {
      if (padded) r.malformed = true;
      padded = false;
      acc = acc << 6 | static_cast<uint32_t>(v);
      if (++n == 4) {
        if (!emit(acc >> 16) || !emit(acc >> 8) || !emit(acc)) {
          r.truncated = true;
          return r;
        }
        n = 0;
        acc = 0;
      }
    } else if (c == '=') {
      if (n == 2 || n == 3) {
        if (!emit(acc >> (n == 2 ? 4 : 10)) || (n == 3 && !emit(acc >> 2))) {
          r.truncated = true;
          return r;
        }
      } else if (n == 1) {
        r.malformed = true;
      }
      n = 0;
      acc = 0;
      padded = true;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\v' && c != '\f') {
      r.malformed = true;  // whitespace is skipped silently, anything else is reported
    }
  }
  if (n == 1) r.malformed = true;
  if (n == 2 || n == 3) {
    r.malformed = true;
    if (!emit(acc >> (n == 2 ? 4 : 10)) || (n == 3 && !emit(acc >> 2))) r.truncated = true;
  }
  return r;
}

// Seeded bodies for the two tests below: up to `most` pieces, two in three of them one of the first
// two (whole quads, so the four-at-a-time paths and their edges are both taken), the rest any.
struct Pieces {
  std::vector<std::string> pieces;
  uint32_t x;
  uint32_t next(uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 8) % n;
  }
  std::string text(uint32_t most) {
    std::string out;
    for (uint32_t k = next(most); k > 0; --k)
      out += pieces[next(3) != 0 ? next(2) : next(static_cast<uint32_t>(pieces.size()))];
    return out;
  }
};

TEST(MimeDecode, Base64AgreesWithAPerByteReading) {
  Pieces gen{{"QUJD", "YWJj", "x", "+/", "=", "==", "\r\n", "\n", " ", "\t", "#", "\x80", ".", "A",
              "Zm9v", "\v"},
             2026};
  for (int round = 0; round < 20000; ++round) {
    const std::string in = gen.text(60);
    const uint64_t cap = gen.next(4) == 0 ? gen.next(40) : ~0ull;
    const RefBase64 want = reference_base64(in, cap);
    std::string got;
    const DecodeStatus st = avsink::mime::decode_base64(in, cap, &got, nullptr);
    ASSERT_EQ(show(got), show(want.out)) << "input \"" << show(in) << "\" cap " << cap;
    ASSERT_EQ(st.malformed, want.malformed) << "input \"" << show(in) << "\"";
    ASSERT_EQ(st.truncated, want.truncated) << "input \"" << show(in) << "\" cap " << cap;
  }
}

// decode_dialects() scans each line's leading alphabet bytes four at a time: the dialects it
// names must be those a per-byte reading of each line names (decode.h's definitions).
TEST(MimeDecode, Base64DialectsAgreeWithAPerByteReading) {
  using avsink::mime::DecodeDialect;
  Pieces gen{{"QUJD", "YWJj", "x", "=", "\r\n", "\n", " ", "#", "Zm9v", "\t"}, 77};
  for (int round = 0; round < 20000; ++round) {
    const std::string in = gen.text(40);
    bool partial = false, after_pad = false, junk = false, pad = false;
    size_t pos = 0, total = 0;
    while (pos < in.size()) {
      size_t nl = in.find('\n', pos);
      const bool last = nl == std::string::npos || nl + 1 >= in.size();
      std::string line = in.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? in.size() : nl + 1;
      size_t alpha = 0;
      for (char c : line) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') {
          ++alpha;
          after_pad |= pad;
        } else if (c == '=') {
          pad = true;
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f') {
          junk = true;
        }
      }
      if (!last && alpha % 4 != 0) partial = true;
      total += alpha;
    }
    std::vector<DecodeDialect> want;
    if (partial) want.push_back(DecodeDialect::kBase64PerLine);
    if (after_pad) want.push_back(DecodeDialect::kBase64StopAtPad);
    if (junk) {
      want.push_back(DecodeDialect::kBase64SkipJunkLines);
      want.push_back(DecodeDialect::kBase64StopAtJunk);
      want.push_back(DecodeDialect::kRawBody);
    }
    if (total % 4 == 1) want.push_back(DecodeDialect::kRawJoinedLines);
    const auto got = avsink::mime::decode_dialects(TransferEncoding::kBase64, in);
    ASSERT_TRUE(got == want) << "input \"" << show(in) << "\": " << got.size() << " dialects, want "
                             << want.size();
  }
}

TEST(MimeDecode, QuotedPrintable) {
  run("qp", avsink::mime::decode_quoted_printable,
      {
          {"", "", false},
          {"plain text", "plain text", false},
          {"a=3Db", "a=b", false},
          {"a=3db=e9", "a=b\xe9", false},  // lowercase hex
          {"soft=\r\nbreak", "softbreak", false},
          {"soft=\nbreak", "softbreak", false},
          {"pad=  \r\nx", "padx", false},  // transport padding after the soft break
          {"line1\r\nline2\r\n", "line1\r\nline2\r\n", false},
          {"bad=ZZ", "bad=ZZ", true},
          {"bad=4", "bad=4", true},
          {"trail=", "trail", false},  // trailing '=' is safe
          {"=", "", false},
          {"x=\r", "x", false},
          {std::string("a\0b=00", 6), std::string("a\0b\0", 4), false},
          {"abcdef", "abc", false, 3, true},
          {"=41=42=43", "AB", false, 2, true},
      });
}

// uuencode of "Cat" is "#0V%T"; of 45 'a' bytes a full line.
TEST(MimeDecode, Uuencode) {
  run("uu", avsink::mime::decode_uuencode_lines,
      {
          {"#0V%T\n`\nend\n", "Cat", false},
          {"#0V%T\r\n`\r\nend\r\n", "Cat", false},
          {"#0V%T\nend\n#0V%T\n", "Cat", false},                      // stops at "end"
          {"#0V\n", std::string("C\x60\x00", 3).substr(0, 3), true},  // short line: zeros
          {"", "", false},
          {"#0V%T\n", "Ca", false, 2, true},
      });
}

TEST(MimeDecode, ClassifyTransferEncoding) {
  struct C {
    const char *cte;
    TransferEncoding want;
  };
  const C cases[] = {
      {"", TransferEncoding::kIdentity},
      {"7bit", TransferEncoding::kIdentity},
      {"8bit", TransferEncoding::kIdentity},
      {"binary", TransferEncoding::kIdentity},
      {"base64", TransferEncoding::kBase64},
      {"quoted-printable", TransferEncoding::kQuotedPrintable},
      {"x-uuencode", TransferEncoding::kUuencode},
      {"uuencode", TransferEncoding::kUuencode},
      {"x-base64", TransferEncoding::kUnknown},
      {"base64,quoted-printable", TransferEncoding::kUnknown},
  };
  for (const auto &c : cases)
    EXPECT_EQ(avsink::mime::classify_transfer_encoding(c.cte), c.want) << "cte \"" << c.cte << "\"";
}

TEST(MimeDecode, UnknownAndIdentityCopyWithCap) {
  std::string out;
  DecodeStatus st = avsink::mime::decode_transfer(TransferEncoding::kUnknown, "hello", 3, &out);
  EXPECT_EQ(out, "hel");
  EXPECT_TRUE(st.truncated);
  out.clear();
  st = avsink::mime::decode_transfer(TransferEncoding::kIdentity, std::string("a\0b", 3), 10, &out);
  EXPECT_EQ(out, std::string("a\0b", 3)) << "identity must keep NUL bytes";
  EXPECT_FALSE(st.truncated);
}

TEST(MimeDecode, FindUuencodeBlocks) {
  struct C {
    std::string text;
    size_t want_blocks;
    std::string want_name;
    bool want_end;
    bool want_b64;
  };
  const C cases[] = {
      {"hello\nbegin 644 cat.txt\n#0V%T\n`\nend\nbye\n", 1, "cat.txt", true, false},
      {"begin 0644 my file.bin\r\n#0V%T\r\n`\r\nend\r\n", 1, "my file.bin", true, false},
      {"begin 644 open.bin\n#0V%T\n", 1, "open.bin", false, false},
      {"begin-base64 644 b.bin\nQ2F0\n====\n", 1, "b.bin", true, true},
      {"we begin 644 here\n", 0, "", false, false},        // not at line start
      {"begin 64x name\n", 0, "", false, false},           // mode not octal
      {"begin 644\n", 0, "", false, false},                // no name field
      {"begin the meeting at 10\n", 0, "", false, false},  // prose
      {"begin 644 a\nend\nbegin 644 b\nend\n", 2, "a", true, false},
  };
  for (const auto &c : cases) {
    auto blocks = avsink::mime::find_uuencode_blocks(c.text, 10);
    ASSERT_EQ(blocks.size(), c.want_blocks)
        << "text \"" << show(c.text) << "\": got " << blocks.size() << " blocks";
    if (blocks.empty()) continue;
    EXPECT_EQ(blocks[0].name, c.want_name) << show(c.text);
    EXPECT_EQ(blocks[0].has_end, c.want_end) << show(c.text);
    EXPECT_EQ(blocks[0].base64, c.want_b64) << show(c.text);
  }
  // max_blocks bounds the work.
  std::string many;
  for (int i = 0; i < 100; ++i) many += "begin 644 f" + std::to_string(i) + "\nend\n";
  EXPECT_EQ(avsink::mime::find_uuencode_blocks(many, 5).size(), 5u);
}

TEST(MimeDecode, UuencodeBlockRoundTrip) {
  std::string text = "begin 644 cat.txt\n#0V%T\n`\nend\n";
  auto blocks = avsink::mime::find_uuencode_blocks(text, 1);
  ASSERT_EQ(blocks.size(), 1u);
  std::string out;
  avsink::mime::decode_uuencode_lines(
      std::string_view(text).substr(blocks[0].data_begin,
                                    blocks[0].data_end - blocks[0].data_begin),
      100, &out);
  EXPECT_EQ(out, "Cat");
}

// yEnc-encodes `data` into lines of `width` (the critical bytes NUL, LF, CR, "=" escaped).
std::string yencode(const std::string &data, size_t width = 128) {
  std::string out, line;
  for (unsigned char b : data) {
    unsigned char c = static_cast<unsigned char>(b + 42);
    if (c == 0 || c == '\n' || c == '\r' || c == '=') {
      line += '=';
      c = static_cast<unsigned char>(c + 64);
    }
    line += static_cast<char>(c);
    if (line.size() >= width) {
      out += line + "\r\n";
      line.clear();
    }
  }
  if (!line.empty()) out += line + "\r\n";
  return out;
}

TEST(MimeDecode, Yenc) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  all += all;
  run("yenc",
      [](std::string_view in, uint64_t cap, std::string *out, const avsink::Deadline *) {
        return avsink::mime::decode_yenc_lines(in, cap, out);
      },
      {
          {yencode(all), all, false},
          {yencode("Cat") + "=yend size=3\r\n" + yencode("Dog"), "Cat", false},  // stops at =yend
          {"=ypart begin=1 end=3\r\n" + yencode("Cat"), "Cat", false},           // =ypart skipped
          {yencode("Cat", 2), "Cat", false},  // short lines, LF/CRLF
          {"mk~=\r\n", "CAT", true},          // a lone "=" at the end of a line
          {"", "", false},
          {yencode("Cat"), "Ca", false, 2, true},
      });
}

TEST(MimeDecode, FindYencBlocks) {
  const std::string text = "Binary follows:\r\n=ybegin line=128 size=3 name=my cat.txt\r\n" +
                           yencode("Cat") + "=yend size=3\r\nbye\r\n=ybegin size=1 name=b\n";
  auto blocks = avsink::mime::find_yenc_blocks(text, 10);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].name, "my cat.txt");
  EXPECT_TRUE(blocks[0].has_end);
  EXPECT_FALSE(blocks[1].has_end);
  EXPECT_EQ(blocks[1].name, "b");
  std::string out;
  avsink::mime::decode_yenc_lines(
      std::string_view(text).substr(blocks[0].data_begin,
                                    blocks[0].data_end - blocks[0].data_begin),
      100, &out);
  EXPECT_EQ(out, "Cat");
  EXPECT_EQ(avsink::mime::find_yenc_blocks(" =ybegin name=x\n=ybeginning\n", 10).size(), 0u)
      << "only at a line start, and only \"=ybegin \"";
  std::string many;
  for (int i = 0; i < 100; ++i) many += "=ybegin size=0 name=f\n=yend\n";
  EXPECT_EQ(avsink::mime::find_yenc_blocks(many, 5).size(), 5u);
}

// Made by a BinHex 4.0 encoder (Python: binascii.crc_hqx CRCs, 0x90 run-length encoding):
// name "a.txt", data fork "Hello" 0x90 + 20 x "A" + "z" (a literal 0x90 and a run), resource fork
// "RS".
const char kBinhexFile[] = R"x(:"@%ZG(Kd!&4&@&4dG(Kd!*!&'`!!!!*9-%KPE'a[N!""N"4kkA458jr0:)x";

TEST(MimeDecode, Binhex) {
  const std::string text = std::string(
                               "Mac file:\r\n  (This file must be converted with BinHex "
                               "4.0)\r\n\r\n") +
                           kBinhexFile + "\r\nbye\r\n";
  auto blocks = avsink::mime::find_binhex_blocks(text, 10);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_TRUE(blocks[0].has_end);
  std::string_view data = std::string_view(text).substr(blocks[0].data_begin,
                                                        blocks[0].data_end - blocks[0].data_begin);
  avsink::mime::BinhexFile f;
  DecodeStatus st = avsink::mime::decode_binhex(data, 1000, &f);
  EXPECT_FALSE(st.malformed);
  EXPECT_FALSE(st.truncated);
  EXPECT_EQ(f.name, "a.txt");
  EXPECT_EQ(f.data_fork, "Hello\x90" + std::string(20, 'A') + "z");
  EXPECT_EQ(f.resource_fork, "RS");

  // Line breaks and spaces inside the data are skipped.
  std::string folded;
  for (size_t i = 0; i < data.size(); ++i)
    folded += std::string(1, data[i]) + (i % 7 ? "" : "\r\n ");
  avsink::mime::BinhexFile g;
  EXPECT_FALSE(avsink::mime::decode_binhex(folded, 1000, &g).malformed);
  EXPECT_EQ(g.data_fork, f.data_fork);

  // The cap bounds the run-length expansion: "3C$r" is the bytes 'A' 0x90 0xff, i.e. 255 x "A".
  std::string runs;
  for (int i = 0; i < 1000; ++i) runs += "3C$r";
  avsink::mime::BinhexFile h;
  st = avsink::mime::decode_binhex(runs, 10000, &h);
  EXPECT_TRUE(st.truncated);
  EXPECT_EQ(h.data_fork, std::string(10000, 'A'));  // 'A' (65) is no valid name length

  // An unreadable header: the whole expanded stream becomes the data fork (still scanned).
  avsink::mime::BinhexFile bad;
  st = avsink::mime::decode_binhex("!!!!", 100, &bad);
  EXPECT_TRUE(st.malformed);
  EXPECT_EQ(bad.data_fork, std::string(3, '\0'));

  // A truncated block (no closing ":") is still found; prose without the marker is not.
  EXPECT_EQ(avsink::mime::find_binhex_blocks(
                "(This file must be converted with BinHex 4.0)\n:abc\n", 10)[0]
                .has_end,
            false);
  EXPECT_EQ(avsink::mime::find_binhex_blocks("smile :-) and :x:\n", 10).size(), 0u);
}

TEST(MimeDecode, UnknownEncodingHeuristics) {
  EXPECT_TRUE(avsink::mime::looks_like_base64("TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n"));
  EXPECT_FALSE(avsink::mime::looks_like_base64("Hello, world! How are you today?\r\n"));
  EXPECT_FALSE(avsink::mime::looks_like_base64("abc\n"));  // too short to tell
  EXPECT_TRUE(avsink::mime::looks_like_quoted_printable("caf=C3=A9\r\n"));
  EXPECT_TRUE(avsink::mime::looks_like_quoted_printable("long line=\r\nwrapped\r\n"));
  EXPECT_FALSE(avsink::mime::looks_like_quoted_printable("a=b, c=d\r\n"));
}

TEST(MimeDecode, BodiesAnEncodingCannotReadAreAlsoReadAsTheyAre) {
  using avsink::mime::DecodeDialect;
  auto has = [](TransferEncoding te, std::string_view body, DecodeDialect d) {
    const auto got = avsink::mime::decode_dialects(te, body);
    return std::find(got.begin(), got.end(), d) != got.end();
  };
  // Readers that do not know uuencode, BinHex or yEnc (or fail to decode it) keep the body.
  for (TransferEncoding te :
       {TransferEncoding::kUuencode, TransferEncoding::kBinhex, TransferEncoding::kYenc})
    EXPECT_TRUE(has(te, "PK\x03\x04 raw bytes\r\n", DecodeDialect::kRawBody));
  // base64: not for ordinary text; for bytes outside the alphabet (libclamav keeps them); the
  // lines joined when one alphabet character is left over a quad (Python's email).
  const std::string clean = "aGVsbG8gd29ybGQ=\r\naGVsbG8=\r\n";
  EXPECT_FALSE(has(TransferEncoding::kBase64, clean, DecodeDialect::kRawBody));
  EXPECT_FALSE(has(TransferEncoding::kBase64, clean, DecodeDialect::kRawJoinedLines));
  EXPECT_TRUE(
      has(TransferEncoding::kBase64, "PK\x03\x04\x14\x00 zip\r\n", DecodeDialect::kRawBody));
  EXPECT_TRUE(has(TransferEncoding::kBase64, "abcd\r\nabcde\r\n", DecodeDialect::kRawJoinedLines));
  EXPECT_FALSE(
      has(TransferEncoding::kBase64, "abcd\r\nabcdef\r\n", DecodeDialect::kRawJoinedLines));

  std::string out;
  avsink::mime::decode_transfer_dialect(TransferEncoding::kBase64, DecodeDialect::kRawJoinedLines,
                                        "ab\r\ncd\nef\rg\r\n", 100, &out);
  EXPECT_EQ(out, "abcdefg");
  out.clear();
  avsink::mime::decode_transfer_dialect(TransferEncoding::kYenc, DecodeDialect::kRawBody,
                                        "=ybegin\r\nraw\r\n", 100, &out);
  EXPECT_EQ(out, "=ybegin\r\nraw\r\n");
  out.clear();
  const DecodeStatus st = avsink::mime::decode_transfer_dialect(
      TransferEncoding::kBase64, DecodeDialect::kRawJoinedLines, "abc\r\ndef\r\n", 4, &out);
  EXPECT_EQ(out, "abcd");
  EXPECT_TRUE(st.truncated);
}

}  // namespace

// mime_decode_test.cpp - the base64, quoted-printable and uuencode decoders and the block finder.
// Table-driven: input, cap, want output and want malformed/truncated flags ("got X, want Y").
#include <gtest/gtest.h>

#include <string>

#include "mime/decode.h"

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

void run(const char *what, DecodeStatus (*fn)(std::string_view, uint64_t, std::string *),
         const std::vector<Case> &cases) {
  for (const auto &c : cases) {
    std::string out;
    DecodeStatus st = fn(c.in, c.cap, &out);
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

}  // namespace

// smtpd_unit_test.cpp - avsink-smtpd's byte rules: end of DATA (the 2023-24 smuggling variants),
// bare CR/LF, limits, command lines, path arguments and the relayed header block.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "header_edits.h"
#include "protocol.h"
#include "smtp/client.h"

using namespace avsink::smtpd;

namespace {

struct Fed {
  bool done;
  size_t used;
  bool bare;
  std::string msg;
};

Fed feed_all(const std::string &in, size_t chunk = 0, uint64_t max = 1 << 20, size_t line = 998) {
  DataReader d(max, line);
  size_t used = 0;
  if (chunk == 0) {
    used = d.feed(in);
  } else {
    for (size_t i = 0; i < in.size() && !d.done(); i += chunk)
      used += d.feed(std::string_view(in).substr(i, std::min(chunk, in.size() - i)));
  }
  return {d.done(), used, d.bare_eol(), d.message()};
}

}  // namespace

TEST(DataReader, OnlyCrLfDotCrLfEndsData) {
  const std::string tail = "MAIL FROM:<evil@x>\r\n";
  auto f = feed_all("Subject: a\r\n\r\nbody\r\n.\r\n" + tail);
  EXPECT_TRUE(f.done);
  EXPECT_FALSE(f.bare);
  EXPECT_EQ(f.msg, "Subject: a\r\n\r\nbody\r\n");
  EXPECT_EQ(f.used, std::string("Subject: a\r\n\r\nbody\r\n.\r\n").size());
}

// The smuggling variants of the 2023-24 reports: none of them ends the data; each is content
// with a bare CR or LF, so the message is refused whole.
TEST(DataReader, SmugglingVariantsAreContent) {
  const char *variants[] = {"\n.\n",   "\r.\r",     "\n.\r\n",   "\r\n.\n", "\r.\n",
                            "\n.\r",   "\r.\r\n",   "\r\n.\r",   "\r\r\n.\r\r\n",
                            "\n\r.\r\n" /* bare LF then <CR>.<CRLF>: CR here starts CRLF */};
  for (const char *v : variants) {
    std::string in = std::string("Subject: a\r\n\r\nbody") + v +
                     "MAIL FROM:<evil@x>\r\nRCPT TO:<y@z>\r\nDATA\r\n\r\nsmuggled\r\n";
    auto f = feed_all(in);
    EXPECT_FALSE(f.done) << "variant ended the data: " << testing::PrintToString(std::string(v));
    EXPECT_TRUE(f.bare) << testing::PrintToString(std::string(v));
    EXPECT_EQ(f.used, in.size());
    // The real end follows: then it is done, and still marked bare.
    DataReader d(1 << 20, 998);
    d.feed(in);
    d.feed("\r\n.\r\n");
    EXPECT_TRUE(d.done());
    EXPECT_TRUE(d.bare_eol());
  }
}

TEST(DataReader, ChunkBoundariesDoNotMatter) {
  std::string in = "a\r\n..b\r\n.c\r\n\r\n.\r\nQUIT\r\n";
  auto whole = feed_all(in);
  for (size_t chunk = 1; chunk < 8; ++chunk) {
    auto f = feed_all(in, chunk);
    EXPECT_TRUE(f.done);
    EXPECT_EQ(f.msg, whole.msg) << chunk;
    EXPECT_EQ(f.used, whole.used) << chunk;
  }
  EXPECT_EQ(whole.msg, "a\r\n.b\r\nc\r\n\r\n");
}

TEST(DataReader, FirstLineDotEndsEmptyMessage) {
  auto f = feed_all(".\r\nQUIT\r\n");
  EXPECT_TRUE(f.done);
  EXPECT_EQ(f.msg, "");
  EXPECT_EQ(f.used, 3u);
}

TEST(DataReader, DotThenBareCrIsContent) {
  auto f = feed_all("a\r\n.\rX\r\n.\r\n");
  EXPECT_TRUE(f.done);
  EXPECT_TRUE(f.bare);
  EXPECT_EQ(f.msg, "a\r\n.\rX\r\n");
}

TEST(DataReader, LimitsAreRecorded) {
  DataReader d(10, 998);
  d.feed("0123456789abcdef\r\n.\r\n");
  EXPECT_TRUE(d.done());
  EXPECT_TRUE(d.oversize());
  EXPECT_EQ(d.size(), 18u);
  EXPECT_EQ(d.message().size(), 10u);
  DataReader l(1000, 4);
  l.feed("abcd\r\nabcde\r\n.\r\n");
  EXPECT_TRUE(l.overlong());
  DataReader ok(1000, 4);
  ok.feed("abcd\r\n.\r\n");
  EXPECT_FALSE(ok.overlong());
}

// The reader as it was written byte by byte, kept as the reference the line-run reader must
// agree with on every input and every chunking (the runs are an optimisation, not a new rule).
struct ReferenceReader {
  uint64_t max_size = 0, max_line = 0;
  std::string msg;
  uint64_t size = 0;
  size_t line_len = 0;
  int pos = 0;
  bool cr = false, done = false, bare = false, oversize = false, overlong = false;
  void put(char c) {
    if (++size > max_size) {
      oversize = true;
      return;
    }
    msg.push_back(c);
  }
  size_t feed(std::string_view in) {
    size_t i = 0;
    for (; i < in.size() && !done; ++i) {
      const char c = in[i];
      if (cr) {
        cr = false;
        if (c == '\n') {
          if (pos == 1) {
            done = true;
            continue;
          }
          put('\r');
          put('\n');
          pos = 0;
          line_len = 0;
          continue;
        }
        bare = true;
        if (pos == 1) put('.');
        put('\r');
        pos = 2;
        ++line_len;
      }
      if (c == '\r') {
        cr = true;
        continue;
      }
      if (c == '\n') {
        bare = true;
        if (pos == 1) put('.');
        put('\n');
        pos = 2;
        ++line_len;
        continue;
      }
      if (pos == 0 && c == '.') {
        pos = 1;
        continue;
      }
      pos = 2;
      put(c);
      if (++line_len > max_line) overlong = true;
    }
    return i;
  }
};

TEST(DataReader, LineRunsAgreeWithTheByteByByteReader) {
  std::mt19937 rng(20261203);
  const char alphabet[] = {'.', '\r', '\n', 'a', 'b', ' ', '\0', '.'};
  for (int round = 0; round < 4000; ++round) {
    std::string in;
    const size_t len = rng() % 200;
    for (size_t k = 0; k < len; ++k) {
      // Mostly ordinary bytes in runs, with the bytes that matter sprinkled in.
      if (rng() % 4 == 0)
        in += alphabet[rng() % sizeof alphabet];
      else
        in += std::string(1 + rng() % 12, static_cast<char>('c' + rng() % 20));
    }
    if (rng() % 2 == 0) in += "\r\n.\r\n";
    const uint64_t max_size = 1 + rng() % 300;
    const size_t max_line = 1 + rng() % 40;
    const size_t chunk = 1 + rng() % 17;
    ReferenceReader want;
    want.max_size = max_size;
    want.max_line = max_line;
    DataReader got(max_size, max_line);
    size_t used_want = 0, used_got = 0;
    for (size_t i = 0; i < in.size() && !want.done; i += chunk)
      used_want += want.feed(std::string_view(in).substr(i, std::min(chunk, in.size() - i)));
    for (size_t i = 0; i < in.size() && !got.done(); i += chunk)
      used_got += got.feed(std::string_view(in).substr(i, std::min(chunk, in.size() - i)));
    ASSERT_EQ(got.message(), want.msg) << "round " << round;
    ASSERT_EQ(used_got, used_want) << "round " << round;
    ASSERT_EQ(got.done(), want.done) << "round " << round;
    ASSERT_EQ(got.bare_eol(), want.bare) << "round " << round;
    ASSERT_EQ(got.oversize(), want.oversize) << "round " << round;
    ASSERT_EQ(got.overlong(), want.overlong) << "round " << round;
    ASSERT_EQ(got.size(), want.size) << "round " << round;
  }
}

// data_payload as it was written byte by byte: the reference for the line-run version.
std::string reference_payload(std::string_view m) {
  std::string out;
  bool bol = true;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (bol && c == '.') out.push_back('.');
    bol = false;
    if (c == '\n') {
      if (out.empty() || out.back() != '\r') out.push_back('\r');
      out.push_back('\n');
      bol = true;
    } else if (c == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) {
      out += "\r\n";
      bol = true;
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && !(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0))
    out += "\r\n";
  out += ".\r\n";
  return out;
}

TEST(DataPayload, LineRunsAgreeWithTheByteByByteWriter) {
  std::mt19937 rng(20261204);
  const char alphabet[] = {'.', '\r', '\n', 'x', '.', '\r'};
  for (int round = 0; round < 4000; ++round) {
    std::string m;
    const size_t len = rng() % 120;
    for (size_t k = 0; k < len; ++k)
      m += rng() % 3 == 0 ? std::string(1, alphabet[rng() % sizeof alphabet])
                          : std::string(1 + rng() % 9, 'y');
    ASSERT_EQ(avsink::smtp::data_payload(m), reference_payload(m)) << "round " << round;
  }
}

TEST(TakeLine, CrLfOnly) {
  std::string line;
  size_t used = 0;
  EXPECT_EQ(take_line("NOOP\r\nQUIT\r\n", 512, &line, &used), LineResult::kLine);
  EXPECT_EQ(line, "NOOP");
  EXPECT_EQ(used, 6u);
  EXPECT_EQ(take_line("NOOP\nQUIT\r\n", 512, &line, &used), LineResult::kBareLf);
  EXPECT_EQ(used, 5u);
  EXPECT_EQ(take_line("NO\rOP\r\n", 512, &line, &used), LineResult::kBareLf);
  EXPECT_EQ(take_line("NOOP", 512, &line, &used), LineResult::kNone);
  EXPECT_EQ(take_line(std::string(600, 'a'), 512, &line, &used), LineResult::kTooLong);
  EXPECT_EQ(take_line(std::string(511, 'a') + "\r\n", 512, &line, &used), LineResult::kTooLong);
  EXPECT_EQ(take_line(std::string(510, 'a') + "\r\n", 512, &line, &used), LineResult::kLine);
}

TEST(PathArg, ParsesAndRefuses) {
  PathArg p;
  EXPECT_EQ(parse_path_arg("FROM:<a@b> SIZE=10 body=8bitmime SMTPUTF8", "FROM", &p), "");
  EXPECT_EQ(p.address, "a@b");
  ASSERT_EQ(p.params.size(), 3u);
  EXPECT_EQ(p.params[1].first, "BODY");
  EXPECT_EQ(p.params[1].second, "8bitmime");
  EXPECT_EQ(parse_path_arg("from: <>", "FROM", &p), "");
  EXPECT_EQ(p.address, "");
  EXPECT_EQ(parse_path_arg("TO:<@relay:u@h>", "TO", &p), "");
  EXPECT_EQ(p.address, "u@h");
  EXPECT_NE(parse_path_arg("FROM:a@b", "FROM", &p), "");
  EXPECT_NE(parse_path_arg("FROM:<a b@c>", "FROM", &p), "");
  EXPECT_NE(parse_path_arg("TO:<a@b>", "FROM", &p), "");
  EXPECT_NE(parse_path_arg("FROM:<" + std::string(513, 'a') + ">", "FROM", &p), "");
}

TEST(Attributes, XtextAndUnavailable) {
  std::vector<std::pair<std::string, std::string>> a;
  EXPECT_EQ(parse_attributes("ADDR=192.0.2.1 NAME=[UNAVAILABLE] helo=a+2Bb", &a), "");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].second, "192.0.2.1");
  EXPECT_EQ(a[1].second, "");
  EXPECT_EQ(a[2].first, "HELO");
  EXPECT_EQ(a[2].second, "a+b");
  EXPECT_NE(parse_attributes("ADDR=a+0D", &a), "");
  EXPECT_NE(parse_attributes("ADDR=a+4", &a), "");
  EXPECT_NE(parse_attributes("NOEQUALS", &a), "");
}

TEST(PrepareMessage, AppliesTheVerdictsEditsAndKeepsTheRest) {
  using avsink::adapter::HeaderEdit;
  using avsink::adapter::prepare_message;
  const std::string in =
      "X-Virus-Status: Clean (forged)\r\nSubject: s\r\nX-Virus-Scanned: forged\r\n\tfold\r\n"
      "Content-Type: application/x-msdownload\r\n\r\nX-Virus-Status: in body\r\n";
  const std::vector<HeaderEdit> drop = {{AVSINK_HEADER_DELETE, "X-Virus-Status", 1, ""},
                                        {AVSINK_HEADER_DELETE, "x-virus-scanned", 1, ""}};
  auto out =
      prepare_message(in, drop, {{"X-Virus-Scanned", "avsink"}, {"X-Virus-Status", "Clean"}});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "X-Virus-Scanned: avsink\r\nX-Virus-Status: Clean\r\nSubject: s\r\n"
            "Content-Type: application/x-msdownload\r\n\r\nX-Virus-Status: in body\r\n");
  // A rewrite: a changed field (its fold kept), an added one at the end of the block, the new body.
  const std::vector<HeaderEdit> strip = {
      {AVSINK_HEADER_CHANGE, "Content-Type", 1, " text/plain;\n\tcharset=us-ascii"},
      {AVSINK_HEADER_ADD, "X-Avsink-Stripped", 0, " 1 part(s) removed"}};
  out = prepare_message(in, strip, {}, std::string_view("notice\r\n"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "X-Virus-Status: Clean (forged)\r\nSubject: s\r\nX-Virus-Scanned: forged\r\n\tfold\r\n"
            "Content-Type: text/plain;\r\n\tcharset=us-ascii\r\nX-Avsink-Stripped: 1 part(s) "
            "removed\r\n\r\nnotice\r\n");
  // No edits: byte-identical. An edit of an unknown kind: nothing to relay (fail closed).
  EXPECT_EQ(prepare_message(in, {}, {}), in);
  EXPECT_FALSE(prepare_message(in, {{7, "Subject", 1, ""}}, {}).has_value());
}

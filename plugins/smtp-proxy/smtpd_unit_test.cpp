// smtpd_unit_test.cpp - avsink-smtpd's byte rules: end of DATA (the 2023-24 smuggling variants),
// bare CR/LF, limits, command lines, path arguments and the relayed header block.
#include <gtest/gtest.h>

#include <string>

#include "header_edits.h"
#include "protocol.h"

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

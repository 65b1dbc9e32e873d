// milter_unit_test.cpp - table-driven tests of avsink-milter's pure helpers (message.h, options.h).
// No libmilter, no engine: what the header bytes, diffs, replies and socket checks must be.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "message.h"
#include "options.h"

namespace avsink::milter {
namespace {

TEST(HeaderBytes, RebuildsTheWireForm) {
  struct Case {
    const char *name, *value;
    bool leadspc;
    const char *want;
  } cases[] = {
      {"Subject", " hello", true, "Subject: hello\r\n"},
      {"Subject", "hello", true, "Subject:hello\r\n"},
      {"Subject", "  two spaces", true, "Subject:  two spaces\r\n"},
      {"Subject", "hello", false, "Subject: hello\r\n"},
      {"X-Folded", " a\n\tb", true, "X-Folded: a\r\n\tb\r\n"},
      {"X-Folded", " a\r\n b", true, "X-Folded: a\r\n b\r\n"},
      {"X-Empty", "", true, "X-Empty:\r\n"},
  };
  for (const auto &c : cases)
    EXPECT_EQ(header_bytes(c.name, c.value, c.leadspc), c.want) << "name " << c.name;
}

TEST(SplitMessage, TopBlockOnly) {
  std::string m =
      "Subject: one\r\nX-F: a\r\n\tb\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
      "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
  size_t body = 0;
  auto f = split_message(m, &body);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].name, "Subject");
  EXPECT_EQ(f[0].value, " one");
  EXPECT_EQ(f[1].value, " a\n\tb");
  EXPECT_EQ(m.substr(body), "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n");

  std::string lf = "A: 1\n\nbody\n";
  f = split_message(lf, &body);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(lf.substr(body), "body\n");

  std::string no_body = "A: 1\r\n";
  f = split_message(no_body, &body);
  EXPECT_EQ(body, no_body.size());
}

TEST(DiffHeaders, ChangesAddsAndDeletesInSafeOrder) {
  std::vector<HeaderField> before = {{"Subject", " hi"},
                                     {"Content-Type", " multipart/mixed; boundary=x"},
                                     {"Received", " a"},
                                     {"Received", " b"},
                                     {"X-Old", " 1"}};
  std::vector<HeaderField> after = {{"Subject", " hi"},
                                    {"content-type", " text/plain"},
                                    {"Received", " a"},
                                    {"X-Notice", " stripped"}};
  auto edits = diff_headers(before, after, true);
  ASSERT_EQ(edits.size(), 4u);
  EXPECT_EQ(edits[0].kind, HeaderEdit::kChange);
  EXPECT_EQ(edits[0].index, 1);
  EXPECT_EQ(edits[0].value, " text/plain");
  EXPECT_EQ(edits[1].kind, HeaderEdit::kAdd);
  EXPECT_EQ(edits[1].name, "X-Notice");
  // Deletes last, highest index first.
  EXPECT_EQ(edits[2].kind, HeaderEdit::kDelete);
  EXPECT_EQ(edits[2].name, "Received");
  EXPECT_EQ(edits[2].index, 2);
  EXPECT_EQ(edits[3].name, "X-Old");

  // Without the leading-space extension the MTA strips one space: the diff strips it too.
  before = {{"Subject", "hi"}};
  after = {{"Subject", " hi"}, {"X-New", " v"}};
  edits = diff_headers(before, after, false);
  ASSERT_EQ(edits.size(), 1u);
  EXPECT_EQ(edits[0].value, "v");
}

TEST(ReplyAndLogText, NeverCarryControlsOrFormatting) {
  EXPECT_EQ(reply_text("Virus 100% found"), "Virus 100%% found");
  EXPECT_EQ(reply_text("a\r\nb"), "a??b");
  EXPECT_EQ(reply_text(""), "rejected");
  EXPECT_EQ(reply_text(std::string(2000, 'x')).size(), 900u);
  EXPECT_EQ(log_escape("a\nb\"c\\"), "a\\x0ab\\\"c\\\\");
  EXPECT_EQ(log_escape("\xc3\xa9"), "\\xc3\\xa9");
  EXPECT_EQ(milter_header_value("v\r\nInjected: x", true), " vInjected: x");
  EXPECT_EQ(milter_header_value("v", false), "v");
}

TEST(StripAngle, Addresses) {
  EXPECT_EQ(strip_angle("<a@b>"), "a@b");
  EXPECT_EQ(strip_angle("<>"), "");
  EXPECT_EQ(strip_angle(" <a@b> "), "a@b");
  EXPECT_EQ(strip_angle("a@b"), "a@b");
}

TEST(Options, SocketsAreLoopbackOrUnix) {
  struct Case {
    const char *spec;
    bool allow_remote, ok;
  } cases[] = {
      {"unix:/run/avsink/milter.sock", false, true},
      {"local:/run/a.sock", false, true},
      {"unix:relative.sock", false, false},
      {"inet:8890@127.0.0.1", false, true},
      {"inet:8890@localhost", false, true},
      {"inet6:8890@[::1]", false, true},
      {"inet:8890@192.0.2.1", false, false},
      {"inet:8890@192.0.2.1", true, true},
      {"inet:8890", false, false},
      {"inet:0@127.0.0.1", false, false},
      {"tcp:8890", false, false},
      {"", false, false},
  };
  for (const auto &c : cases)
    EXPECT_EQ(check_socket(c.spec, c.allow_remote).empty(), c.ok) << c.spec;
}

TEST(Options, Parse) {
  const char *argv[] = {"avsink-milter",
                        "-s",
                        "unix:/tmp/m.sock",
                        "-c",
                        "/etc/avsink.toml",
                        "-f",
                        "-u",
                        "avsink",
                        "--quarantine-mode",
                        "hold",
                        "--max-connections",
                        "8"};
  Options o;
  EXPECT_EQ(parse_options(12, const_cast<char **>(argv), &o), "");
  EXPECT_EQ(o.socket, "unix:/tmp/m.sock");
  EXPECT_EQ(o.config_path, "/etc/avsink.toml");
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.user, "avsink");
  EXPECT_EQ(o.quarantine_mode, QuarantineMode::kHold);
  EXPECT_EQ(o.max_connections, 8);

  const char *bad_mode[] = {"avsink-milter", "-s", "unix:/tmp/m.sock", "--quarantine-mode", "x"};
  EXPECT_NE(parse_options(5, const_cast<char **>(bad_mode), &o), "");
  const char *missing[] = {"avsink-milter", "-s"};
  EXPECT_NE(parse_options(2, const_cast<char **>(missing), &o), "");
  const char *remote[] = {"avsink-milter", "-s", "inet:10025@0.0.0.0"};
  EXPECT_NE(parse_options(3, const_cast<char **>(remote), &o), "");
}

}  // namespace
}  // namespace avsink::milter

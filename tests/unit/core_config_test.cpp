// core_config_test.cpp - avsink.toml parsing: defaults, every value type, errors with file:line.
// Table-driven: each bad input names the line and a reason fragment it must report.
#include <gtest/gtest.h>

#include "core/config.h"

namespace {

using avsink::Action;
using avsink::parse_config;

TEST(Config, EmptyFileGivesDefaults) {
  auto c = parse_config("", "empty.toml");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->limits.max_mime_depth, 64u);
  EXPECT_EQ(c->virus_action, Action::kReject);
  EXPECT_EQ(c->unscannable_action, Action::kQuarantine);
  EXPECT_TRUE(c->clamav_required);
}

TEST(Config, ValuesAreApplied) {
  auto c = parse_config(
      "[limits]\nmax_mime_depth = 10\nscan_deadline_ms = 5000\n"
      "[actions]\nvirus = \"strip\"\n[rules]\nfiles = [\"a.rules\", \"b.rules\"]\n"
      "[scan]\nadd_header = false\n",
      "x.toml");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->limits.max_mime_depth, 10u);
  EXPECT_EQ(c->limits.scan_deadline_ms, 5000u);
  EXPECT_EQ(c->virus_action, Action::kRewrite);
  ASSERT_EQ(c->rule_files.size(), 2u);
  EXPECT_EQ(c->rule_files[1], "b.rules");
  EXPECT_FALSE(c->add_header);
}

TEST(Config, ErrorsNameLineAndReason) {
  struct Case {
    const char *text;
    uint32_t want_line;
    const char *want_reason;
  } cases[] = {
      {"[scan]\nraw_message_pass = 3\n", 2, "expected true or false"},
      {"[limits]\n\nmax_parts = 0\n", 3, "out of range"},
      {"[nosuch]\nx = 1\n", 1, "unknown section"},
      {"[scan]\nadd_headr = true\n", 2, "unknown key 'add_headr'"},
      {"[actions]\nunscannable = \"strip\"\n", 2, "strip is not possible"},
      {"[actions]\nvirus = \"explode\"\n", 2, "expected accept"},
      {"[scan\n", 1, ""},
      {"[rules]\nfiles = [1]\n", 2, "array of strings"},
      // Issue 18: the quarantine backend is one of the two there are.
      {"[quarantine]\nbackend = \"mysql\"\n", 2, "expected filesystem or postgresql"},
      // Issue 14 item 5: a header name must be a valid RFC 5322 field name.
      {"[scan]\nheader_name = \"X-Virus Scanned\"\n", 2, "not a valid header field name"},
      {"[scan]\nheader_name = \"X-Scanned:\"\n", 2, "not a valid header field name"},
      {"[scan]\nheader_name = \"X-Bad\\r\\nBcc: a@b\"\n", 2, "not a valid header field name"},
      {"[scan]\nheader_name = \"\"\n", 2, "cannot be empty"},
      {"[scan]\nstatus_header_name = \"X-\u00e9\"\n", 2, "not a valid header field name"},
  };
  for (const auto &c : cases) {
    auto r = parse_config(c.text, "bad.toml");
    ASSERT_FALSE(r.ok()) << "accepted: " << c.text;
    EXPECT_EQ(r.error().file, "bad.toml");
    EXPECT_EQ(r.error().line, c.want_line) << "got line " << r.error().line << " for " << c.text;
    EXPECT_NE(r.error().message.find(c.want_reason), std::string::npos)
        << "got '" << r.error().message << "', want it to contain '" << c.want_reason << "'";
  }
}

TEST(Config, HeaderNames) {
  auto c =
      parse_config("[scan]\nheader_name = \"X-Scanned-By\"\nstatus_header_name = \"\"\n", "h.toml");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->header_name, "X-Scanned-By");
  EXPECT_EQ(c->status_header_name, "") << "\"\" turns the status header off";
  auto d = parse_config("", "d.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status_header_name, "X-Virus-Status");
}

TEST(Config, ClamdAddressIsOneOrSeveral) {
  auto one = parse_config("[clamd]\naddress = \"tcp:127.0.0.1:3310\"\n", "a.toml");
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->clamd_addresses, (std::vector<std::string>{"tcp:127.0.0.1:3310"}));
  auto two =
      parse_config("[clamd]\naddress = [\"unix:/a.sock\", \"tcp:127.0.0.1:3310\"]\n", "b.toml");
  ASSERT_TRUE(two.ok()) << two.error().describe();
  EXPECT_EQ(two->clamd_addresses, (std::vector<std::string>{"unix:/a.sock", "tcp:127.0.0.1:3310"}));
  EXPECT_NE(
      avsink::dump_config(*two).find("address = [ \"unix:/a.sock\", \"tcp:127.0.0.1:3310\" ]"),
      std::string::npos)
      << avsink::dump_config(*two);
  EXPECT_FALSE(parse_config("[clamd]\naddress = []\n", "c.toml").ok());
  EXPECT_FALSE(parse_config("[clamd]\naddress = [1]\n", "d.toml").ok());
}

TEST(Config, DumpRoundTrips) {
  auto c = parse_config("[limits]\nmax_parts = 77\n[quarantine]\ndir = \"/q\"\n", "x.toml");
  ASSERT_TRUE(c.ok());
  std::string text = avsink::dump_config(*c);
  auto again = parse_config(text.substr(text.find('\n') + 1), "dump.toml");
  ASSERT_TRUE(again.ok()) << again.error().describe() << "\n" << text;
  EXPECT_EQ(again->limits.max_parts, 77u);
  EXPECT_EQ(again->quarantine_dir, "/q");
}

}  // namespace

namespace {

// The example shipped in docs/ must stay valid and equal to the defaults it claims to show.
TEST(Config, DocumentedExampleIsValidAndShowsTheDefaults) {
  auto c = avsink::load_config(std::string(AVSINK_SOURCE_DIR) + "/docs/avsink.toml");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  avsink::Config defaults;
  auto strip_source = [](std::string s) { return s.substr(s.find('\n') + 1); };
  EXPECT_EQ(strip_source(avsink::dump_config(*c)), strip_source(avsink::dump_config(defaults)));
}

}  // namespace

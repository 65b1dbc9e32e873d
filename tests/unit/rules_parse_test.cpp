// rules_parse_test.cpp - the rule-file language: tokens, patterns, options, diagnostics with line
// numbers, CIDRs, expiry dates and the text normalisation done before matching. Table-driven.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "rules/match_text.h"
#include "rules/rule_engine.h"
#include "rules/rule_file.h"
#include "test_support.h"

namespace avsink::rules {
namespace {

Rule parse_one(const std::string &line) {
  ParsedFile f = parse_rule_text(line + "\n", "t.rules");
  EXPECT_TRUE(f.errors.empty()) << "line: " << line << "\n got error: "
                                << (f.errors.empty() ? "" : f.errors[0].describe());
  EXPECT_EQ(f.rules.size(), 1u) << line;
  return f.rules.empty() ? Rule{} : f.rules[0];
}

std::string first_error(const std::string &text) {
  ParsedFile f = parse_rule_text(text, "t.rules");
  return f.errors.empty() ? "" : f.errors[0].describe();
}

TEST(RulesParse, PatternTypesAndFlags) {
  struct Case {
    std::string line;
    RuleKind kind;
    PatternType type;
    bool nocase;
    std::string regex;
  };
  const std::vector<Case> cases = {
      {"subject /^Invoice [0-9]+$/i reject", RuleKind::kSubject, PatternType::kRegex, true,
       "(?i)^Invoice [0-9]+$"},
      {"subject /a\\/b/ reject", RuleKind::kSubject, PatternType::kRegex, false, "a\\/b"},
      {"subject \"a.b\" reject", RuleKind::kSubject, PatternType::kLiteral, false, "^a\\.b$"},
      {"subject \"Say \\\"hi\\\"\"i reject", RuleKind::kSubject, PatternType::kLiteral, true,
       "(?i)^Say\\ \\\"hi\\\"$"},
      {"rcpt abuse@example.com accept", RuleKind::kRcpt, PatternType::kLiteral, false,
       "^abuse\\@example\\.com$"},
      {"header X-Mailer glob:*Bad?Mailer* quarantine", RuleKind::kHeader, PatternType::kGlob, false,
       "^(?s:.*)Bad(?s:.)Mailer(?s:.*)$"},
      {"helo glob:\"a b*\"i reject", RuleKind::kHelo, PatternType::kGlob, true,
       "(?i)^a\\ b(?s:.*)$"},
      {"helo iglob:**x reject", RuleKind::kHelo, PatternType::kGlob, true, "(?i)^(?s:.*)x$"},
      {"header from /x/ reject", RuleKind::kHeaderFrom, PatternType::kRegex, false, "x"},
      {"header SUBJECT /x/ reject", RuleKind::kSubject, PatternType::kRegex, false, "x"},
      {"FROM /x/ Reject", RuleKind::kFrom, PatternType::kRegex, false, "x"},
      {"envelope-from \"\" quarantine", RuleKind::kEnvelopeFrom, PatternType::kLiteral, false,
       "^$"},
  };
  for (const Case &c : cases) {
    Rule r = parse_one(c.line);
    EXPECT_EQ(r.kind, c.kind) << c.line << ": got kind " << to_string(r.kind) << ", want "
                              << to_string(c.kind);
    EXPECT_EQ(r.type, c.type) << c.line << ": got type " << to_string(r.type) << ", want "
                              << to_string(c.type);
    EXPECT_EQ(r.nocase, c.nocase) << c.line;
    EXPECT_EQ(r.regex, c.regex) << c.line << ": got regex " << r.regex << ", want " << c.regex;
  }
}

TEST(RulesParse, GlobAndLiteralMatchWholeValue) {
  struct Case {
    std::string line;
    std::string text;
    bool want;
  };
  const std::vector<Case> cases = {
      {"subject glob:*lottery* reject", "big lottery win", true},
      {"subject glob:lottery* reject", "big lottery win", false},
      {"subject glob:l?ttery reject", "lottery", true},
      {"subject glob:l?ttery reject", "lttery", false},
      {"subject glob:a\\*b reject", "a*b", true},
      {"subject glob:a\\*b reject", "axxb", false},
      {"subject glob:caf?-x reject", "café-x", true},  // ? is one character, not one byte
      {"subject \"Exact\" reject", "Exact", true},
      {"subject \"Exact\" reject", "Exact!", false},
      {"subject \"Exact\" reject", "exact", false},
      {"subject \"Exact\"i reject", "EXACT", true},
      {"subject \"a.c\" reject", "abc", false},  // literal: '.' is not a wildcard
      {"subject /b/ reject", "abc", true},       // regex: searched, not anchored
      {"subject /^b/ reject", "abc", false},
      {"subject /STRASSE/i reject", "strasse", true},
      {"subject /ÄRGER/i reject", "ärger", true},  // Unicode case folding
  };
  for (const Case &c : cases) {
    Rule r = parse_one(c.line);
    RE2 re(r.regex);
    ASSERT_TRUE(re.ok()) << r.regex;
    EXPECT_EQ(RE2::PartialMatch(c.text, re), c.want)
        << c.line << " on '" << c.text << "': got " << !c.want << ", want " << c.want;
  }
}

TEST(RulesParse, ActionsReplyCommentIdExpires) {
  Rule r = parse_one(
      "subject /x/ reject \"outbreak 2026-11\" expires=2026-12-31 id=ob-1  # seen on the feed");
  EXPECT_EQ(r.action, Action::kReject);
  EXPECT_EQ(r.reply_text, "outbreak 2026-11");
  EXPECT_EQ(r.id, "ob-1");
  EXPECT_EQ(r.name(), "ob-1");
  EXPECT_EQ(r.comment, "seen on the feed");
  EXPECT_EQ(r.expires, 1798761600);  // 2027-01-01T00:00:00Z: applies through 2026-12-31

  r = parse_one("client 10.0.0.0/8 allow comment=\"our own network\"");
  EXPECT_EQ(r.action, Action::kAccept);
  EXPECT_EQ(r.comment, "our own network");
  EXPECT_EQ(r.name(), "t.rules:1");

  const std::vector<std::pair<std::string, Action>> actions = {
      {"reject", Action::kReject},         {"tempfail", Action::kTempfail},
      {"quarantine", Action::kQuarantine}, {"discard", Action::kDiscard},
      {"accept", Action::kAccept},         {"allow", Action::kAccept},
  };
  for (const auto &[word, want] : actions) {
    Rule a = parse_one("helo /x/ " + word);
    EXPECT_EQ(a.action, want) << word << ": got " << to_string(a.action);
  }
  EXPECT_EQ(parse_one("helo /x/ tempfail \"busy\"").reply_text, "busy");
}

TEST(RulesParse, ErrorsCarryFileLineAndReason) {
  const std::string path = test::data_path("rules/broken.rules");
  std::vector<Error> errors = check_file(path);
  struct Want {
    uint32_t line;
    std::string reason_part;
  };
  const std::vector<Want> want = {
      {3, "unknown rule kind 'subjct'"},
      {4, "bad regex /unclosed(/: missing )"},
      {5, "unknown action 'rejekt'"},
      {6, "missing action"},
      {7, "host bits set"},
      {8, "not an IPv4 or IPv6 address"},
      {9, "only allowed after reject or tempfail"},
      {10, "bad expires= date '2026-13-01'"},
      {11, "unknown option 'frobnicate='"},
      {12, "unterminated quoted string"},
      {13, "unknown pattern flag 'z'"},
      {14, "empty regex"},
      {15, "missing pattern"},
      {16, "cannot strip"},
      {17, "printable ASCII"},
      {19, "id=dup used twice"},
      {20, "expires= given twice"},
      {21, "unexpected quoted text"},
      {22, "IPv6 prefix longer than 128"},
      {23, "invalid repetition size"},
      {24, "comment given twice"},
  };
  ASSERT_EQ(errors.size(), want.size())
      << "got " << errors.size() << " errors, want " << want.size();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(errors[i].file, path);
    EXPECT_EQ(errors[i].code, ErrorCode::kRules);
    EXPECT_EQ(errors[i].line, want[i].line) << "error " << i << ": " << errors[i].describe();
    EXPECT_NE(errors[i].message.find(want[i].reason_part), std::string::npos)
        << "got '" << errors[i].describe() << "', want it to contain '" << want[i].reason_part
        << "'";
    EXPECT_EQ(errors[i].describe().rfind(path + ":" + std::to_string(want[i].line) + ": ", 0), 0u)
        << errors[i].describe();
  }
}

TEST(RulesParse, EmptyFileNeedsMarker) {
  EXPECT_NE(first_error("").find("no rules in file"), std::string::npos);
  EXPECT_NE(first_error("# just a comment\n\n").find("# avsink: empty"), std::string::npos);
  ParsedFile f = parse_rule_text("# avsink: empty\n", "e.rules");
  EXPECT_TRUE(f.errors.empty());
  EXPECT_TRUE(f.empty_on_purpose);
  EXPECT_TRUE(check_file(test::data_path("rules/empty-on-purpose.rules")).empty());
  std::vector<Error> e = check_file(test::data_path("rules/only-comments.rules"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].line, 0u);
}

TEST(RulesParse, LimitsAndEncoding) {
  ParseLimits small;
  small.max_line_bytes = 40;
  small.max_file_bytes = 200;
  ParsedFile f = parse_rule_text("subject /" + std::string(50, 'a') + "/ reject\nhelo /x/ reject\n",
                                 "l.rules", small);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 1u);
  EXPECT_NE(f.errors[0].message.find("line longer than 40"), std::string::npos);

  f = parse_rule_text(std::string(201, '#'), "big.rules", small);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_NE(f.errors[0].message.find("larger than 200 bytes"), std::string::npos);

  EXPECT_NE(first_error("helo /x/ reject\nsubject \"a\xff\" reject\n")
                .find("t.rules:2: line is "
                      "not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(first_error(std::string("subject \"a\0b\" reject\n", 22)).find("NUL byte"),
            std::string::npos);
  // CRLF line ends and a UTF-8 BOM are fine.
  ParsedFile crlf = parse_rule_text("\xEF\xBB\xBFsubject /x/ reject\r\nhelo /y/ reject\r\n", "c");
  EXPECT_TRUE(crlf.errors.empty());
  EXPECT_EQ(crlf.rules.size(), 2u);

  // A pattern too big for pattern_max_mem is reported on its own line.
  ParseLimits tiny;
  tiny.pattern_max_mem = 64 << 10;
  f = parse_rule_text("helo /x/ reject\nsubject /((a{100}){100}){10}/ reject\n", "m", tiny);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 2u);
  EXPECT_NE(f.errors[0].message.find("bad regex"), std::string::npos) << f.errors[0].message;
}

TEST(RulesParse, Cidr) {
  struct Case {
    std::string text;
    bool ok;
    bool v6;
    int prefix;
  };
  const std::vector<Case> cases = {
      {"192.0.2.0/24", true, false, 24},  {"192.0.2.1", true, false, 32},
      {"0.0.0.0/0", true, false, 0},      {"2001:db8::/32", true, true, 32},
      {"::1", true, true, 128},           {"2001:db8::1/64", false, true, 0},
      {"192.0.2.1/33", false, false, 0},  {"192.0.2.0/", false, false, 0},
      {"192.0.2.0/x", false, false, 0},   {"example.com", false, false, 0},
      {"192.0.2.0/24/1", false, false, 0}};
  for (const Case &c : cases) {
    auto r = parse_cidr(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.text << ": " << (r.ok() ? "ok" : r.error().message);
    if (r.ok() && c.ok) {
      EXPECT_EQ(r->v6, c.v6) << c.text;
      EXPECT_EQ(r->prefix, c.prefix) << c.text;
    }
  }
  struct Contain {
    std::string net, addr;
    bool want;
  };
  const std::vector<Contain> contains = {
      {"192.0.2.0/24", "192.0.2.200", true},         {"192.0.2.0/24", "192.0.3.1", false},
      {"192.0.2.0/25", "192.0.2.128", false},        {"0.0.0.0/0", "203.0.113.9", true},
      {"192.0.2.0/24", "::ffff:192.0.2.9", true},    {"192.0.2.0/24", "[192.0.2.9]", true},
      {"2001:db8::/32", "2001:db8:ffff::1", true},   {"2001:db8::/32", "2001:db9::1", false},
      {"2001:db8::/32", "[IPv6:2001:db8::5]", true}, {"fe80::/10", "fe80::1%eth0", true},
      {"2001:db8::/32", "192.0.2.1", false},         {"192.0.2.0/24", "junk", false},
  };
  for (const Contain &c : contains) {
    Cidr addr;
    bool parsed = parse_client_address(c.addr, &addr);
    bool got = parsed && cidr_contains(*parse_cidr(c.net), addr);
    EXPECT_EQ(got, c.want) << c.net << " contains " << c.addr << ": got " << got << ", want "
                           << c.want;
  }
}

TEST(RulesParse, Expiry) {
  struct Case {
    std::string text;
    int64_t want;  // -1 = error
  };
  const std::vector<Case> cases = {
      {"1970-01-01", 86400},
      {"2026-12-31", 1798761600},
      {"2024-02-29", 1709251200},
      {"2025-02-29", -1},
      {"2026-12-31T12:00Z", 1798718400},
      {"2026-12-31T12:00:30Z", 1798718430},
      {"2026-12-31T24:00Z", -1},
      {"2026-12-31T12:00", -1},
      {"2026-1-31", -1},
      {"tomorrow", -1},
  };
  for (const Case &c : cases) {
    auto r = parse_expiry(c.text);
    if (c.want < 0) {
      EXPECT_FALSE(r.ok()) << c.text << ": got " << (r.ok() ? *r : 0) << ", want an error";
    } else {
      ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
      EXPECT_EQ(*r, c.want) << c.text;
    }
  }
}

TEST(RulesParse, NormalisationBeforeMatching) {
  EXPECT_EQ(strip_invisible("a\tb\r\nc"), "a b  c");
  EXPECT_EQ(strip_invisible(std::string("ev\0il", 5)), "evil");
  EXPECT_EQ(strip_invisible("In\xE2\x80\x8Bvoice"), "Invoice");              // zero-width space
  EXPECT_EQ(strip_invisible("\xE2\x80\xAEtxt.exe\xE2\x80\xAC"), "txt.exe");  // bidi override
  EXPECT_EQ(strip_invisible("  x  "), "x");

  std::vector<std::string> r;
  header_readings("=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5leGFtcGxl?==?utf-8?Q?=00?=@evil.example", &r);
  EXPECT_NE(std::find(r.begin(), r.end(), "potus@whitehouse.example@evil.example"), r.end());
  EXPECT_NE(std::find(r.begin(), r.end(), "potus@whitehouse.example"), r.end())
      << "the reading a NUL-terminating mail client shows";

  struct Addr {
    std::string value;
    std::vector<std::string> want;
  };
  const std::vector<Addr> addrs = {
      {"Bob <bob@example.com>", {"bob@example.com"}},
      {"bob@example.com (Bob)", {"bob@example.com"}},
      {"\"ceo@corp.example, x\" <a@evil.example>", {"a@evil.example"}},
      {"(c@d.example) e@f.example", {"e@f.example"}},
      {"a@b.example, \"C\" <c@d.example>", {"a@b.example", "c@d.example"}},
      {"team: a@b.example, c@d.example;", {"a@b.example", "c@d.example"}},
      {"Only a name", {}},
  };
  for (const Addr &a : addrs) EXPECT_EQ(extract_addresses(a.value), a.want) << a.value;

  EXPECT_EQ(domains_after_at("\"x@Corp.Example.\" <y@evil.example>"),
            (std::vector<std::string>{"corp.example", "evil.example"}));
  EXPECT_EQ(envelope_address(" <a@b.example> "), "a@b.example");
  EXPECT_TRUE(domain_within("mail.corp.example", "corp.example"));
  EXPECT_TRUE(domain_within("corp.example", "corp.example"));
  EXPECT_FALSE(domain_within("notcorp.example", "corp.example"));
  EXPECT_FALSE(domain_within("corp.example.evil", "corp.example"));
}

TEST(RulesParse, CheckFileReportWarnsAboutExpiredRules) {
  const std::string dir = test::make_temp_dir("avsink-rules-check-");
  const std::string path = dir + "/r.rules";
  std::ofstream(path) << "subject /a/ reject expires=2020-01-01\nsubject /b/ reject\n";
  FileCheck c = check_file_report(path, 1800000000);
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.rule_count, 2u);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].line, 1u);
  EXPECT_NE(c.warnings[0].message.find("expired at 2020-01-02T00:00:00Z"), std::string::npos);

  FileCheck missing = check_file_report(dir + "/nope.rules", 0);
  EXPECT_FALSE(missing.readable);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].code, ErrorCode::kIo);
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace avsink::rules

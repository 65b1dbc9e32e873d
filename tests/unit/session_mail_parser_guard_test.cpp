// session_mail_parser_guard_test.cpp - MIME fields libclamav's mail parser would join past 8 KB
// make a message unscannable (quarantined, the raw pass not run); ordinary long headers do not.
#include <gtest/gtest.h>

#include <string>

#include "engines/mail_parser_guard.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::engines::kMailParserMaxFieldBytes;
using avsink::engines::mail_parser_hazard;

std::string folded_field(const std::string &name, size_t bytes) {
  std::string f = name + ": x";
  while (f.size() < bytes) f += "\r\n y";
  return f + "\r\n";
}

const std::string kHead = "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n";

TEST(MailParserGuard, FieldsLibclamavWouldJoinPastTheCapAreFound) {
  // Folded, in any case of the name.
  for (const std::string name :
       {"Content-Type", "content-transfer-encoding", "CONTENT-DISPOSITION"}) {
    const std::string msg = kHead + folded_field(name, 20000) + "\r\nbody\r\n";
    EXPECT_NE(mail_parser_hazard(msg), "") << name;
  }
  // Not folded at all: an open quote, or a trailing ';', makes libclamav join every next line.
  std::string lines;
  for (int i = 0; i < 3000; ++i) lines += "line " + std::to_string(i) + "\r\n";
  EXPECT_NE(mail_parser_hazard(kHead + "Content-Type: text/plain; name=\"open\r\n" + lines), "");
  std::string semicolons;  // each line ends in ';', so each joins the next
  for (int i = 0; i < 3000; ++i) semicolons += "p" + std::to_string(i) + "=v;\r\n";
  EXPECT_NE(mail_parser_hazard(kHead + "Content-Disposition: attachment;\r\n" + semicolons), "");
  // A trailing ';' alone joins one line only.
  EXPECT_EQ(mail_parser_hazard(kHead + "Content-Disposition: attachment;\r\n" + lines), "");
  // Deep in a body too (libclamav may read a header block where avsink's parser sees text).
  EXPECT_NE(mail_parser_hazard(kHead + "\r\nsome text\r\n" +
                               folded_field("Content-Transfer-Encoding", 20000)),
            "");
}

TEST(MailParserGuard, OrdinaryMessagesPass) {
  EXPECT_EQ(mail_parser_hazard(""), "");
  EXPECT_EQ(mail_parser_hazard("Content-Type: text/plain"), "");  // no line end
  // Long fields of other names (References in a long thread), long body lines, closed quotes.
  std::string lines;
  for (int i = 0; i < 3000; ++i) lines += "line " + std::to_string(i) + "\r\n";
  EXPECT_EQ(mail_parser_hazard(folded_field("References", 50000) +
                               "Content-Type: text/plain; name=\"closed\"\r\n\r\n" +
                               std::string(100000, 'a') + "\r\n" + lines),
            "");
  // A folded Content-Type just under the cap.
  EXPECT_EQ(
      mail_parser_hazard(kHead + folded_field("Content-Type", kMailParserMaxFieldBytes - 200) +
                         "\r\n" + lines),
      "");
}

avsink::Verdict scan_file(const std::string &relative, bool raw_pass) {
  avsink::Config cfg;
  cfg.system_db = false;
  cfg.raw_message_pass = raw_pass;
  auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  if (!s.ok()) return {};
  const std::string msg = avsink::test::read_file(avsink::test::data_path(relative));
  avsink::session::RawMessage raw{msg, msg.size()};
  auto v = (*s)->scan(avsink::Envelope{}, raw);
  EXPECT_TRUE(v.ok()) << v.error().describe();
  return v.ok() ? v.value() : avsink::Verdict{};
}

// fuzz_scan's inputs: a 230 KB folded Content-Transfer-Encoding (3.4 s in libclamav's mail parser,
// and an EICAR only that parser found), and a Content-Type whose open quote swallows 58,000 lines
// (2.1 s, in the scan of a part avsink's parser found no header end in). Neither is accepted, and
// libclamav is given neither the message nor that part.
TEST(MailParserGuard, MessagesItWouldStallOnAreUnscannable) {
  for (const char *file : {"fuzz-large/scan/regression-quadratic-folded-cte.eml",
                           "fuzz-large/scan/regression-quadratic-open-quote.eml"}) {
    // The raw pass (off by default) is where the whole message would reach libclamav's parser.
    for (bool raw_pass : {true, false}) {
      // Unscannable, or rejected: these fuzz outputs quote pieces of other test messages in their
      // text, EICAR parts included, which the entities-in-text reading finds.
      const avsink::Verdict v = scan_file(file, raw_pass);
      EXPECT_TRUE(v.action == avsink::Action::kQuarantine || v.action == avsink::Action::kReject)
          << file << ": " << v.reason;
      size_t found = 0, message = 0, part1 = 0;
      for (const auto &f : v.findings) {
        if (f.name != "Limits.Exceeded.MimeFieldLength") continue;
        ++found;
        message += f.part_path.empty();
        part1 += f.part_path == "1";
      }
      EXPECT_EQ(part1, 1u) << file << ": want part 1 flagged: " << v.reason;
      EXPECT_EQ(message, raw_pass ? 1u : 0u)
          << file << ": want the message flagged when the raw pass runs: " << v.reason;
      EXPECT_GE(found, part1 + message) << file;
    }
  }
}

}  // namespace

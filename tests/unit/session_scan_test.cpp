// session_scan_test.cpp - the whole pipeline on real messages: EICAR plain, zipped, nested,
// uuencoded; clean mail accepted with a header; size limit and spooling; the JSON record.
// Table-driven.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::Action;
using avsink::test::data_path;
using avsink::test::read_file;

std::unique_ptr<avsink::session::Scanner> open_scanner(avsink::Config cfg = {}) {
  cfg.system_db = false;
  auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return s.ok() ? std::move(s.value()) : nullptr;
}

avsink::Verdict scan(const avsink::session::Scanner &s, const std::string &bytes) {
  avsink::session::RawMessage raw{bytes, bytes.size()};
  auto v = s.scan(avsink::Envelope{}, raw);
  EXPECT_TRUE(v.ok()) << v.error().describe();
  return v.ok() ? v.value() : avsink::Verdict{};
}

bool has_virus_in(const avsink::Verdict &v, const std::string &part) {
  for (const auto &f : v.findings)
    if (f.kind == avsink::FindingKind::kVirus && f.name == "Eicar-Test-Signature" &&
        f.part_path == part)
      return true;
  return false;
}

TEST(Session, EicarCaughtWhereverItHides) {
  auto s = open_scanner();
  ASSERT_TRUE(s);
  struct Case {
    const char *file;
    const char *want_part;  // the decoded part the virus must be attributed to
  } cases[] = {
      {"eml/eicar-plain-attachment.eml", "1.2"},
      {"eml/eicar-in-zip.eml", "1.2"},
      {"eml/eicar-nested-rfc822.eml", "1.2.1.1"},
      {"eml/eicar-uuencoded.eml", "1.u1"},
  };
  for (const auto &c : cases) {
    auto v = scan(*s, read_file(data_path(c.file)));
    EXPECT_EQ(v.action, Action::kReject) << c.file << ": got " << to_string(v.action);
    EXPECT_EQ(v.smtp_code, 554) << c.file;
    EXPECT_TRUE(has_virus_in(v, c.want_part))
        << c.file << ": no EICAR in part " << c.want_part << "; reason: " << v.reason;
  }
}

TEST(Session, EicarFoundEvenWithoutTheRawPass) {
  avsink::Config cfg;
  cfg.raw_message_pass = false;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  auto v = scan(*s, read_file(data_path("eml/eicar-nested-rfc822.eml")));
  EXPECT_EQ(v.action, Action::kReject);
}

TEST(Session, CleanMailAcceptedWithHeaderAndRecord) {
  auto s = open_scanner();
  ASSERT_TRUE(s);
  auto v = scan(*s, read_file(data_path("eml/mixed-multiple-attachments.eml")));
  EXPECT_EQ(v.action, Action::kAccept) << v.reason;
  ASSERT_FALSE(v.headers.empty());
  EXPECT_EQ(v.headers[0].first, "X-Virus-Scanned");
  auto j = nlohmann::json::parse(v.json);
  EXPECT_EQ(j["action"], "accept");
  EXPECT_TRUE(j["findings"].is_array());
}

TEST(Session, OversizeMessageIsNeverCleanAndQuarantines) {
  avsink::Config cfg;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  std::string msg = read_file(data_path("eml/plain-text-ascii.eml"));
  avsink::session::RawMessage raw{msg, msg.size() + 1000};  // the spool kept only a prefix
  auto v = s->scan(avsink::Envelope{}, raw);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->action, Action::kQuarantine) << v->reason;
  EXPECT_NE(v->reason.find("Limits.Exceeded.MessageBytes"), std::string::npos) << v->reason;
}

TEST(Session, MimeLimitQuarantinesByDefaultAndFollowsConfig) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
  for (int i = 1; i <= 10; ++i)
    msg += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=b" +
           std::to_string(i) + "\r\n\r\n";
  avsink::Config cfg;
  cfg.limits.max_mime_depth = 5;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  EXPECT_EQ(scan(*s, msg).action, Action::kQuarantine);
  cfg.unscannable_action = Action::kReject;
  auto s2 = open_scanner(cfg);
  ASSERT_TRUE(s2);
  EXPECT_EQ(scan(*s2, msg).action, Action::kReject);
}

TEST(Session, BrokenSignatureDirectoryFailsToOpenWithTheFileNamed) {
  std::string dir = avsink::test::make_temp_dir("avsink-sigs-");
  {
    FILE *f = std::fopen((dir + "/bad.ndb").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a signature\n", f);
    std::fclose(f);
  }
  avsink::Config cfg;
  cfg.signature_dirs = {dir};
  cfg.system_db = false;
  auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find("bad.ndb"), std::string::npos) << s.error().describe();
  std::remove((dir + "/bad.ndb").c_str());
  rmdir(dir.c_str());
}

}  // namespace

namespace {

// Issue 5: every enabled engine scans every part and findings name the engine.
TEST(SessionEngines, HashListFindsTheShippedEicarHash) {
  avsink::Config cfg;
  cfg.hashlist_enabled = true;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  auto v = scan(*s, read_file(data_path("eml/eicar-plain-attachment.eml")));
  EXPECT_EQ(v.action, Action::kReject);
  bool by_clamav = false, by_hashlist = false;
  for (const auto &f : v.findings) {
    by_clamav |= f.kind == avsink::FindingKind::kVirus && f.inspector == "clamav";
    by_hashlist |= f.kind == avsink::FindingKind::kVirus && f.inspector == "hashlist";
  }
  EXPECT_TRUE(by_clamav) << v.reason;
  EXPECT_TRUE(by_hashlist) << v.reason;
}

// A required engine that cannot be reached: TEMPFAIL, never ACCEPT; optional: skipped.
TEST(SessionEngines, UnreachableClamdFailsClosedUnlessOptional) {
  avsink::Config cfg;
  cfg.clamd_enabled = true;
  cfg.clamd_address = "unix:/nonexistent/avsink-test/clamd.sock";
  cfg.clamd_connect_timeout_ms = 200;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  auto v = scan(*s, read_file(data_path("eml/plain-text-ascii.eml")));
  EXPECT_EQ(v.action, Action::kTempfail) << v.reason;
  EXPECT_EQ(v.smtp_code, 451);
  cfg.clamd_required = false;
  auto s2 = open_scanner(cfg);
  ASSERT_TRUE(s2);
  EXPECT_EQ(scan(*s2, read_file(data_path("eml/plain-text-ascii.eml"))).action, Action::kAccept);
}

}  // namespace

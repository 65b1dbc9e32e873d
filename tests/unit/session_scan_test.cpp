// session_scan_test.cpp - the whole pipeline on real messages: EICAR plain, zipped, nested,
// uuencoded; clean mail accepted with a header; size limit and spooling; the JSON record.
// Table-driven.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "quarantine/release_mark.h"
#include "quarantine/store.h"
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

// Identical decoded bytes are scanned once; the answer still names every part that holds them
// (a strip must remove each copy).
TEST(Session, SameBytesTwiceScannedOnceReportedForBoth) {
  auto s = open_scanner();
  ASSERT_TRUE(s);
  const std::string b64 = avsink::test::base64(avsink::test::eicar());
  const std::string msg =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
      "hi\r\n--B\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64 +
      "--B\r\nContent-Type: application/octet-stream; name=\"b.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64 + "--B--\r\n";
  auto v = scan(*s, msg);
  EXPECT_EQ(v.action, Action::kReject) << v.reason;
  EXPECT_TRUE(has_virus_in(v, "1.2")) << v.reason;
  EXPECT_TRUE(has_virus_in(v, "1.3")) << v.reason;
}

// [scan] part_threads: parts scanned on several threads give the verdict and the findings, in
// the same order, that one thread gives -- for every message in the sample and evasion sets, and
// while several messages are scanned at once.
std::string findings_text(const avsink::Verdict &v) {
  std::string t = std::string(to_string(v.action)) + " " + v.reason + "\n";
  for (const auto &f : v.findings)
    t += std::string(to_string(f.kind)) + "|" + f.inspector + "|" + f.name + "|" + f.part_path +
         "|" + f.filename + "|" + f.detail + "\n";
  return t;
}

TEST(Session, PartThreadsGiveTheSameAnswerAsOneThread) {
  avsink::Config one_cfg;
  one_cfg.part_threads = 1;
  avsink::Config many_cfg;
  many_cfg.part_threads = 4;
  auto one = open_scanner(one_cfg);
  auto many = open_scanner(many_cfg);
  ASSERT_TRUE(one && many);
  std::vector<std::string> messages;
  for (const char *dir : {"eml", "evasion"}) {
    for (const auto &e : std::filesystem::directory_iterator(data_path(dir)))
      if (e.path().extension() == ".eml") messages.push_back(read_file(e.path().string()));
  }
  ASSERT_GT(messages.size(), 50u);
  size_t multi = 0;
  for (const auto &m : messages) {
    const std::string want = findings_text(scan(*one, m));
    EXPECT_EQ(findings_text(scan(*many, m)), want);
    multi += std::count(want.begin(), want.end(), '\n') > 2;
  }
  EXPECT_GT(multi, 10u);  // enough messages with several findings to compare their order
  // Several messages at once on the shared helpers.
  std::vector<std::string> want(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) want[i] = findings_text(scan(*one, messages[i]));
  std::atomic<size_t> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < messages.size(); i += 3)
        if (findings_text(scan(*many, messages[i])) != want[i]) wrong++;
    });
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0u);
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

// Issue 14 item 1: the quarantine stored the kept prefix of an oversize message and the milter
// discarded the original. Whole or nothing: whatever the configured actions, a message kept only
// in part is refused with 552 5.3.4 - never quarantined, discarded or accepted.
TEST(Session, OversizeMessageIsRefusedNeverQuarantinedDiscardedOrAccepted) {
  std::string msg = read_file(data_path("eml/plain-text-ascii.eml"));
  std::string eicar_msg = read_file(data_path("eml/eicar-plain-attachment.eml"));
  struct Case {
    const char *label;
    Action unscannable, virus;
    const std::string *bytes;
  };
  const Case cases[] = {
      {"default actions", Action::kQuarantine, Action::kReject, &msg},
      {"unscannable = discard", Action::kDiscard, Action::kReject, &msg},
      {"unscannable = accept", Action::kAccept, Action::kReject, &msg},
      {"virus in the prefix, virus = quarantine", Action::kQuarantine, Action::kQuarantine,
       &eicar_msg},
  };
  for (const auto &c : cases) {
    const std::string qdir = avsink::test::make_temp_dir("avsink-oversize-q-");
    avsink::Config cfg;
    cfg.unscannable_action = c.unscannable;
    cfg.virus_action = c.virus;
    cfg.quarantine_dir = qdir;
    cfg.system_db = false;
    auto opened = avsink::session::Scanner::open(cfg, avsink::Logger(), false);  // with a store
    ASSERT_TRUE(opened) << opened.error().describe();
    auto &s = *opened;
    avsink::session::RawMessage raw{*c.bytes, c.bytes->size() + 1000};  // the spool kept a prefix
    auto v = s->scan(avsink::Envelope{}, raw);
    ASSERT_TRUE(v.ok()) << c.label << ": " << v.error().describe();
    EXPECT_EQ(v->action, Action::kReject) << c.label << ": " << v->reason;
    EXPECT_EQ(v->smtp_code, 552) << c.label;
    EXPECT_EQ(v->enhanced_status, "5.3.4") << c.label;
    EXPECT_EQ(v->quarantine_id, "") << c.label;
    EXPECT_NE(v->reason.find("Limits.Exceeded.MessageBytes"), std::string::npos) << v->reason;
    size_t entries = 0;
    for (const auto &e : std::filesystem::recursive_directory_iterator(qdir))
      entries += e.is_regular_file() && e.path().extension() == ".avq";
    EXPECT_EQ(entries, 0u) << c.label << ": a prefix was stored in the quarantine";
    // The same message whole is not refused.
    auto whole = s->scan(avsink::Envelope{}, avsink::session::RawMessage{msg, msg.size()});
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(whole->action, Action::kAccept) << c.label << ": " << whole->reason;
    std::error_code ec;
    std::filesystem::remove_all(qdir, ec);
  }
}

// Issue 14 item 5: the status header says what was found in mail that is still delivered.
TEST(Session, StatusHeaderCleanOrInfected) {
  avsink::Config cfg;
  cfg.virus_action = Action::kAccept;   // delivered although infected: the header must say so
  cfg.banned_action = Action::kAccept;  // (the attachment is named eicar.com)
  cfg.true_type_action = Action::kAccept;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  auto header = [](const avsink::Verdict &v, const std::string &name) {
    std::string out;
    for (const auto &[n, value] : v.headers)
      if (n == name) out += (out.empty() ? "" : "|") + value;
    return out;
  };
  avsink::Verdict clean = scan(*s, read_file(data_path("eml/plain-text-ascii.eml")));
  EXPECT_EQ(header(clean, "X-Virus-Status"), "Clean");
  avsink::Verdict infected = scan(*s, read_file(data_path("eml/eicar-plain-attachment.eml")));
  EXPECT_EQ(infected.action, Action::kAccept) << infected.reason;
  EXPECT_EQ(header(infected, "X-Virus-Status").rfind("Infected (Eicar-Test-Signature", 0), 0u)
      << header(infected, "X-Virus-Status");
  cfg.status_header_name = "";
  auto off = open_scanner(cfg);
  ASSERT_TRUE(off);
  EXPECT_EQ(header(scan(*off, read_file(data_path("eml/plain-text-ascii.eml"))), "X-Virus-Status"),
            "");
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

TEST(Session, RawPassSkipsScannedPartsUnlessContainerSignaturesNeedThem) {
  // A logical signature that matches only inside a mail (Container:CL_TYPE_MAIL) never matches in
  // the part pass, which scans each decoded part by itself. It matches in the raw pass, and only
  // when that pass rescans the parts it decodes to bytes the part pass scanned already (the
  // default skips them: the trade documented in docs/avsink.toml).
  const std::string marker = "AVSINK-IN-MAIL-ONLY-5e1d";
  std::string hex;
  for (unsigned char c : marker) {
    static const char *digits = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  const std::string dir = avsink::test::make_temp_dir("avsink-sigs-");
  {
    FILE *f = std::fopen((dir + "/in-mail.ldb").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        ("Avsink.Test.InMailOnly;Engine:81-255,Container:CL_TYPE_MAIL,Target:0;0;" + hex + "\n")
            .c_str(),
        f);
    std::fclose(f);
  }
  const std::string msg =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
      "hi\r\n--B\r\nContent-Type: application/octet-stream; name=\"d.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      avsink::test::base64("data before " + marker + " and after\n") + "\r\n--B--\r\n";
  for (bool skips : {true, false}) {
    avsink::Config cfg;
    cfg.signature_dirs = {dir};
    cfg.raw_message_pass = true;  // the option these signatures need (off by default)
    cfg.raw_message_pass_skips_scanned_parts = skips;
    auto s = open_scanner(cfg);
    ASSERT_TRUE(s);
    auto v = scan(*s, msg);
    bool found = false;
    for (const auto &f : v.findings) found |= f.name == "Avsink.Test.InMailOnly";
    EXPECT_EQ(found, !skips) << "skips=" << skips << ": " << v.reason;
    EXPECT_EQ(v.action, skips ? Action::kAccept : Action::kReject) << "skips=" << skips;
  }
  std::remove((dir + "/in-mail.ldb").c_str());
  rmdir(dir.c_str());
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

// The hash list judges archive members too, also those libclamav's own walk unpacked (EICAR
// stored in a zip): it is given every member avsink's listing extracts.
TEST(SessionEngines, HashListJudgesArchiveMembers) {
  avsink::Config cfg;
  cfg.hashlist_enabled = true;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  const std::string zip =
      avsink::test::stored_zip({{"readme.txt", "hello\n"}, {"eicar.com", avsink::test::eicar()}});
  const std::string msg =
      "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: application/zip; name=\"a.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      avsink::test::base64(zip) + "\r\n";
  auto v = scan(*s, msg);
  bool by_hashlist = false;
  for (const auto &f : v.findings)
    by_hashlist |= f.kind == avsink::FindingKind::kVirus && f.inspector == "hashlist" &&
                   f.name == "Avsink.Test.Eicar.SHA256";
  EXPECT_TRUE(by_hashlist) << v.reason;
}

// A required engine that cannot be reached: TEMPFAIL, never ACCEPT; optional: skipped.
TEST(SessionEngines, UnreachableClamdFailsClosedUnlessOptional) {
  avsink::Config cfg;
  cfg.clamd_enabled = true;
  cfg.clamd_addresses = {"unix:/nonexistent/avsink-test/clamd.sock"};
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

namespace {

// Issue 6: a QUARANTINE verdict stores the message; the operator's released copy passes the
// gateway once (not quarantined again); a forged or altered mark is not honoured.
TEST(SessionQuarantine, StoredThenReleasedCopyPassesAndForgeriesDoNot) {
  std::string dir = avsink::test::make_temp_dir("avsink-sq-");
  avsink::Config cfg;
  cfg.system_db = false;
  cfg.quarantine_dir = dir + "/q";
  cfg.limits.max_mime_depth = 2;
  auto opened = avsink::session::Scanner::open(cfg, avsink::Logger(), /*dry_run=*/false);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  auto &scanner = *opened.value();

  std::string body = "Content-Type: text/plain\r\n\r\nhello\r\n";
  for (int i = 0; i < 4; ++i) {
    std::string b = "d" + std::to_string(i);
    body = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + body +
           "--" + b + "--\r\n";
  }
  std::string msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: deep\r\n" + body;
  auto v = scan(scanner, msg);
  ASSERT_EQ(v.action, Action::kQuarantine) << v.reason;
  ASSERT_EQ(v.quarantine_id.size(), 32u);

  // The operator's side: the same store, as `avsink quarantine release` opens it.
  avsink::quarantine::StoreOptions so;
  so.dir = cfg.quarantine_dir;
  auto store = avsink::quarantine::Store::open(so, nullptr);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  auto stored = (*store)->message(v.quarantine_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, msg);
  auto released = (*store)->prepare_release(v.quarantine_id, *stored, {"b@example.net"});
  ASSERT_TRUE(released.ok()) << released.error().describe();
  // In transit the next MTA prepends a Received field; the mark must survive it.
  std::string arrived =
      "Received: from gateway by mx; Tue, 24 Nov 2026 10:00:00 +0000\r\n" + *released;
  avsink::Envelope to_b;
  to_b.rcpt_to = {"<b@example.net>"};
  avsink::Envelope to_eve;
  to_eve.rcpt_to = {"<eve@example.com>"};
  // Issue 14 item 4: a replay to another recipient is not let through...
  auto replay = scanner.scan(to_eve, avsink::session::RawMessage{arrived, arrived.size()});
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->action, Action::kQuarantine) << "a mark let mail to another recipient through";
  auto again = scanner.scan(to_b, avsink::session::RawMessage{arrived, arrived.size()});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->action, Action::kAccept) << again->reason;
  EXPECT_TRUE(again->quarantine_id.empty());
  // ... and the copy goes through once: the same copy to the same recipient is stopped again.
  auto twice = scanner.scan(to_b, avsink::session::RawMessage{arrived, arrived.size()});
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->action, Action::kQuarantine) << "a release mark was honoured twice";

  // Altered content under a valid-looking mark, and a mark with a forged HMAC: quarantined again.
  std::string altered = arrived;
  altered.replace(altered.find("hello"), 5, "HELLO");
  EXPECT_EQ(scan(scanner, altered).action, Action::kQuarantine);
  std::string forged = arrived;
  size_t mark = forged.find(std::string(avsink::quarantine::kReleaseHeader));
  ASSERT_NE(mark, std::string::npos);
  size_t eol = forged.find("\r\n", mark);
  forged[eol - 1] = forged[eol - 1] == 'a' ? 'b' : 'a';  // flip the last hex digit of the HMAC
  EXPECT_EQ(scan(scanner, forged).action, Action::kQuarantine);
  std::filesystem::remove_all(dir);
}

// [attachments] watch governs the list files alone: with rule-file watching off, an edited list is
// still picked up while mail flows (it used to follow [rules] watch).
TEST(Session, AttachmentListsReloadWhateverRulesWatchSays) {
  avsink::test::TempDir dir("avsink-attwatch-");
  const std::string list = dir.write("attachments-site.list", "exe\n");
  avsink::Config cfg;
  cfg.watch_files = false;  // [rules] watch = false
  cfg.attachment_lists = {list};
  cfg.attachment_poll_ms = 50;
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  const std::string msg = avsink::test::crlf(
      "From: a@example.com\nTo: b@example.com\nSubject: t\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n"
      "--b\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename=\"tool.xyz\"\n\nbytes\n--b--\n");
  EXPECT_EQ(scan(*s, msg).action, Action::kAccept);
  dir.write("attachments-site.list.tmp", "exe\nxyz\n");
  std::filesystem::rename(dir.file("attachments-site.list.tmp"), list);
  Action got = Action::kAccept;
  for (int i = 0; i < 500 && got == Action::kAccept; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got = scan(*s, msg).action;
  }
  EXPECT_EQ(got, Action::kReject) << "the edited list was never picked up";

  avsink::Config off;
  off.attachment_watch = false;
  auto quiet = avsink::session::Scanner::open(off, avsink::Logger(), true);
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(nlohmann::json::parse((*quiet)->info_json())["attachment_lists"]["watching"], false);
}

}  // namespace

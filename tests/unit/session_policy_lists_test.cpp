// session_policy_lists_test.cpp - [[policy]] attachment lists of their own (attachment_lists,
// attachment_block): top-level parts and zip members judged per recipient's policy, reloads.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::Action;
using avsink::Config;
using avsink::Envelope;
using avsink::test::base64;
using avsink::test::stored_zip;
using avsink::test::TempDir;

Config parse(const std::string &toml) {
  auto c = avsink::parse_config(toml, "test.toml");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().describe());
  return c.ok() ? c.value() : Config{};
}

// A message with one base64 attachment per (filename, bytes).
std::string message(const std::vector<std::pair<std::string, std::string>> &attachments) {
  std::string m =
      "From: a@x.example\r\nTo: b@example.net\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n--b0\r\n"
      "Content-Type: text/plain\r\n\r\nsee attached\r\n";
  for (const auto &[name, bytes] : attachments)
    m += "--b0\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
         "filename=\"" +
         name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(bytes);
  return m + "--b0--\r\n";
}

Envelope env(std::vector<std::string> rcpts) {
  Envelope e;
  e.client_address = "198.51.100.1";
  e.mail_from = "a@x.example";
  e.rcpt_to = std::move(rcpts);
  return e;
}

// Three recipients, three policies: the global lists; "strict" blocks more (docm, type:... by its
// attachment_block); "devs" replaces the lists with a file of its own that blocks only .scr.
struct Site {
  TempDir dir{"avsink-policy-lists-"};
  std::string devs_list;
  std::mutex log_mu;
  std::vector<std::string> log;  // the scanner's log lines (watcher threads too)
  std::unique_ptr<avsink::session::Scanner> scanner;

  explicit Site(const std::string &extra = "[attachments]\nwatch = false\n") {
    devs_list = dir.write("devs.list", "scr   # screen savers only\n");
    Config cfg = parse(extra + "[audit]\nlog = \"" + dir.file("audit.log") + "\"\n" +
                       "[[policy]]\nname = \"strict\"\nrecipients = [\"strict@example.net\"]\n"
                       "attachment_block = [\"docm\"]\n"
                       "[[policy]]\nname = \"devs\"\nrecipients = [\"devs@example.net\"]\n"
                       "attachment_lists = [\"" +
                       devs_list + "\"]\n");
    cfg.system_db = false;
    avsink::Logger logger(
        [this](avsink::LogLevel, const std::string &m) {
          std::lock_guard<std::mutex> lock(log_mu);
          log.push_back(m);
        },
        avsink::LogLevel::kInfo);
    auto s = avsink::session::Scanner::open(cfg, logger, true);
    EXPECT_TRUE(s.ok()) << s.error().describe();
    if (s.ok()) scanner = std::move(s.value());
  }
  bool logged(const std::string &text) {
    std::lock_guard<std::mutex> lock(log_mu);
    for (const auto &l : log)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }

  // The action of each of default, strict and devs recipients for one message, in that order.
  std::vector<Action> actions(const std::string &msg) const {
    avsink::session::RawMessage raw{msg, msg.size()};
    auto v = scanner->scan(env({"b@example.net", "strict@example.net", "devs@example.net"}), raw);
    EXPECT_TRUE(v.ok()) << v.error().describe();
    std::vector<Action> out;
    if (!v.ok()) return out;
    EXPECT_EQ(v->recipients.size(), 3u);
    for (const auto &r : v->recipients) out.push_back(r.action);
    return out;
  }
};

std::string names(const std::vector<Action> &a) {
  std::string s;
  for (Action x : a) s += std::string(to_string(x)) + " ";
  return s;
}

constexpr Action kA = Action::kAccept, kR = Action::kReject;

TEST(PolicyLists, ParseAndDumpRoundTrip) {
  Config c = parse(
      "[[policy]]\nname = \"p\"\nsenders = [\"x.example\"]\nattachment_lists = []\n"
      "attachment_block = [\"vbs\", \"type:elf\"]\n");
  ASSERT_EQ(c.policies.size(), 1u);
  ASSERT_TRUE(c.policies[0].attachment_lists.has_value());
  EXPECT_TRUE(c.policies[0].attachment_lists->empty());  // [] = no list file, not "unset"
  EXPECT_EQ(c.policies[0].attachment_block, (std::vector<std::string>{"vbs", "type:elf"}));
  Config again = parse(avsink::dump_config(c));
  ASSERT_EQ(again.policies.size(), 1u);
  EXPECT_EQ(again.policies[0].attachment_lists, c.policies[0].attachment_lists);
  EXPECT_EQ(again.policies[0].attachment_block, c.policies[0].attachment_block);
  auto bad = avsink::parse_config(
      "[[policy]]\nname = \"p\"\nsenders = [\"x\"]\nattachment_block = \"vbs\"\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(".attachment_block: expected an array"), std::string::npos)
      << bad.error().message;
  EXPECT_EQ(bad.error().line, 4u);
}

TEST(PolicyLists, TopLevelPartsAreJudgedPerPolicy) {
  Site site;
  ASSERT_TRUE(site.scanner);
  struct Case {
    const char *name;
    std::string bytes;
    std::vector<Action> want;  // default, strict, devs
  } cases[] = {
      {"notes.docm", "PK not really", {kA, kR, kA}},  // strict blocks more
      {"run.vbs", "WScript.Echo 1", {kR, kR, kA}},    // devs' own list has no .vbs
      {"saver.scr", "x", {kR, kR, kR}},               // in every list
      {"readme.txt", "hello", {kA, kA, kA}},
  };
  for (const auto &c : cases)
    EXPECT_EQ(names(site.actions(message({{c.name, c.bytes}}))), names(c.want)) << c.name;
}

TEST(PolicyLists, ZipMembersAreJudgedPerPolicy) {
  Site site;
  ASSERT_TRUE(site.scanner);
  const std::string elf = std::string(
                              "\x7f"
                              "ELF\x02\x01\x01",
                              7) +
                          std::string(120, '\0');
  struct Case {
    const char *label;
    std::string zip;
    std::vector<Action> want;  // default, strict, devs
  } cases[] = {
      {"invoice.vbs in a zip", stored_zip({{"invoice.vbs", "WScript.Echo 1"}}), {kR, kR, kA}},
      {"4-byte setup.exe in a zip", stored_zip({{"setup.exe", "abcd"}}), {kR, kR, kA}},
      {"report.docm in a zip", stored_zip({{"docs/report.docm", "PK not really"}}), {kA, kR, kA}},
      {"ELF named tool.bin in a zip (true type)", stored_zip({{"tool.bin", elf}}), {kR, kR, kA}},
      {"zip in zip, saver.scr",
       stored_zip({{"in.zip", stored_zip({{"saver.scr", "x"}})}}),
       {kR, kR, kR}},
      {"benign zip", stored_zip({{"readme.txt", "hello"}}), {kA, kA, kA}},
  };
  for (const auto &c : cases)
    EXPECT_EQ(names(site.actions(message({{"files.zip", c.zip}}))), names(c.want)) << c.label;

  // Two parts with the same bytes: the second is not walked again; under strict's own list its
  // members are still judged, as the second part's.
  const std::string docm_zip = stored_zip({{"report.docm", "PK not really"}});
  const std::string twice = message({{"a.zip", docm_zip}, {"b.zip", docm_zip}});
  avsink::session::RawMessage raw{twice, twice.size()};
  auto v = site.scanner->scan(env({"strict@example.net"}), raw);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->action, kR);
  std::set<std::string> parts;
  for (const auto &f : v->findings)
    if (f.name == "Attachment.Extension.docm") parts.insert(f.part_path);
  EXPECT_EQ(parts.size(), 2u) << v->json;
}

TEST(PolicyLists, ABrokenPolicyListIsAnErrorWithFileAndLine) {
  TempDir dir("avsink-policy-lists-");
  const std::string list = dir.write("bad.list", "exe\nnot an entry\n");
  Config cfg = parse(
      "[[policy]]\nname = \"devs\"\nrecipients = [\"d@example.net\"]\n"
      "attachment_lists = [\"" +
      list + "\"]\n");
  cfg.system_db = false;
  auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find(list + ":2:"), std::string::npos) << s.error().describe();
  EXPECT_NE(s.error().describe().find("policy.devs"), std::string::npos) << s.error().describe();

  Config bad_entry = parse(
      "[[policy]]\nname = \"s\"\nrecipients = [\"d@example.net\"]\n"
      "attachment_block = [\"type:nonsense\"]\n");
  bad_entry.system_db = false;
  auto s2 = avsink::session::Scanner::open(bad_entry, avsink::Logger(), true);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.error().describe().find("policy.s"), std::string::npos) << s2.error().describe();
}

TEST(PolicyLists, ABrokenReloadKeepsTheLastGoodSet) {
  Site site;
  ASSERT_TRUE(site.scanner);
  const std::string vbs = message({{"files.zip", stored_zip({{"invoice.vbs", "x"}})}});
  ASSERT_EQ(site.actions(vbs)[2], kA);
  site.dir.write("devs.list", "scr\nvbs\nnot an entry\n");
  auto r = site.scanner->reload();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find(site.devs_list + ":3:"), std::string::npos)
      << r.error().describe();
  EXPECT_EQ(site.actions(vbs)[2], kA) << "the broken file must not be half applied";
  site.dir.write("devs.list", "scr\nvbs\n");
  ASSERT_TRUE(site.scanner->reload().ok());
  EXPECT_EQ(names(site.actions(vbs)), names({kR, kR, kR}));
  // Log lines and audit records name the policy whose lists they are.
  EXPECT_TRUE(site.logged("attachments (policy devs): lists generation 2 loaded"));
  const std::string audit = avsink::test::read_file(site.dir.file("audit.log"));
  EXPECT_NE(audit.find("\"policy\":\"devs\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("attachments.reload_failed"), std::string::npos) << audit;
}

// The same FileWatch as the global lists: a changed policy list is picked up without a reload.
TEST(PolicyLists, APolicyListFileIsWatched) {
  Site site("[attachments]\nwatch = true\npoll_ms = 50\n");
  ASSERT_TRUE(site.scanner);
  const std::string vbs = message({{"files.zip", stored_zip({{"invoice.vbs", "x"}})}});
  ASSERT_EQ(site.actions(vbs)[2], kA);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a distinct mtime
  site.dir.write("devs.list", "scr\nvbs   # added\n");
  const auto until =
      std::chrono::steady_clock::now() + avsink::test::scaled(std::chrono::seconds(10));
  Action got = kA;
  while (std::chrono::steady_clock::now() < until) {
    got = site.actions(vbs)[2];
    if (got == kR) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(got, kR) << "the devs list was not reloaded";
}

// `avsink config check` shows a policy's lists and blames a bad line of its list file.
TEST(PolicyLists, ConfigCheckReportsPolicyLists) {
  TempDir dir("avsink-policy-lists-");
  const std::string good = dir.write("good.list", "scr\n");
  const std::string bad = dir.write("bad.list", "scr\n\nnot an entry\n");
  auto run = [&](const std::string &list, std::string *out, std::string *err) {
    const std::string cfg = dir.write(
        "avsink.toml", "[clamav]\nsystem_db = false\n[quarantine]\ndir = \"" + dir.path +
                           "/q\"\n[[policy]]\nname = \"devs\"\nrecipients = [\"d@example.net\"]\n"
                           "attachment_lists = [\"" +
                           list + "\"]\nattachment_block = [\"vbs\"]\n");
    const std::string cmd = std::string("'") + AVSINK_CLI_PATH + "' config check '" + cfg + "' >'" +
                            dir.file("out") + "' 2>'" + dir.file("err") + "' </dev/null";
    int st = std::system(cmd.c_str());
    *out = avsink::test::read_file(dir.file("out"));
    *err = avsink::test::read_file(dir.file("err"));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  std::string out, err;
  ASSERT_EQ(run(good, &out, &err), 0) << err;
  EXPECT_NE(out.find("attachment_lists = [ \"" + good + "\" ]"), std::string::npos) << out;
  EXPECT_NE(out.find("attachment_block = [ \"vbs\" ]"), std::string::npos) << out;
  EXPECT_EQ(run(bad, &out, &err), 1) << out;
  EXPECT_NE(err.find(bad + ":3: "), std::string::npos) << err;
}

}  // namespace

// session_watch_sections_test.cpp - each config section's watch keys govern only its own files:
// [rules] watch/poll_ms reload rule files, [attachments] watch/poll_ms reload attachment lists.
// Issue 19 item 4: [rules] watch used to decide attachment-list reloads as well.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "session/scanner.h"
#include "test_support.h"

namespace avsink {
namespace {

namespace fs = std::filesystem;

const char kMessage[] =
    "From: a@example.org\r\nSubject: Watched\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"x.foo\"\r\n\r\nabc\r\n--b--\r\n";

void write(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::trunc) << text;
}

struct Seen {
  bool rule = false;        // the subject rule added to the rule file matched
  bool attachment = false;  // the .foo entry added to the attachment list matched
};

Seen scan(const session::Scanner &s) {
  const std::string m = kMessage;
  auto v = s.scan(Envelope{}, {m, m.size()});
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().describe());
  Seen seen;
  if (!v.ok()) return seen;
  for (const auto &f : v->findings) {
    seen.rule |= f.inspector == "rules";
    seen.attachment |= f.name == "Attachment.Extension.foo";
  }
  return seen;
}

class WatchSections : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("avsink-watch-sections-");
    rules_ = dir_ + "/site.rules";
    list_ = dir_ + "/site.list";
    write(rules_, "# avsink: empty\n");
    write(list_, "exe\n");
    cfg_.system_db = false;
    cfg_.clamav_watch = false;
    cfg_.rule_files = {rules_};
    cfg_.attachment_lists = {list_};
    cfg_.poll_ms = 50;
    cfg_.attachment_poll_ms = 50;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, rules_, list_;
  Config cfg_;
};

// GetParam(): true = only [rules] watch is on, false = only [attachments] watch is on. Both files
// change at once; only the watched section's change may take effect without a reload().
TEST_P(WatchSections, OnlyTheWatchedSectionReloads) {
  const bool rules_watched = GetParam();
  cfg_.watch_files = rules_watched;
  cfg_.attachment_watch = !rules_watched;
  auto opened = session::Scanner::open(cfg_, Logger(), /*dry_run=*/true);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  const session::Scanner &s = **opened;
  Seen before = scan(s);
  ASSERT_FALSE(before.rule || before.attachment) << "a finding before the files changed";

  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new mtime for the poller
  write(rules_, "subject /^Watched$/ reject \"watched rule\"\n");
  write(list_, "exe\nfoo\n");

  const auto deadline = std::chrono::steady_clock::now() + test::scaled(std::chrono::seconds(10));
  Seen got;
  for (;;) {
    got = scan(s);
    if ((rules_watched ? got.rule : got.attachment) || std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(rules_watched ? got.rule : got.attachment, true)
      << "the watched section's file change was not picked up within 10 s";
  // Ten poll intervals more: the unwatched section must still be on its first generation.
  std::this_thread::sleep_for(test::scaled(std::chrono::milliseconds(500)));
  got = scan(s);
  EXPECT_EQ(rules_watched ? got.attachment : got.rule, false)
      << "got the " << (rules_watched ? "attachment list" : "rule file")
      << " reloaded with its section's watch = false, want it unchanged until reload()";

  // An explicit reload picks up both.
  ASSERT_TRUE(opened.value()->reload().ok());
  got = scan(s);
  EXPECT_TRUE(got.rule && got.attachment) << "reload() did not apply both files";
}

INSTANTIATE_TEST_SUITE_P(Session, WatchSections, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &p) {
                           return p.param ? std::string("RulesWatched")
                                          : std::string("AttachmentsWatched");
                         });

}  // namespace
}  // namespace avsink

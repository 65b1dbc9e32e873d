// attachments_lists_test.cpp - list-file grammar, the shipped defaults, configuration (replace,
// extend, allow), reload keeping the last good generation, audit records and file watching.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "attachments/attachment_policy.h"
#include "attachments/extension_list.h"
#include "core/audit.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using avsink::ErrorCode;
using avsink::Findings;
using namespace avsink::attachments;

void write_file(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

avsink::mime::Part named_part(const std::string &name) {
  avsink::mime::Part p;
  p.path = "1.2";
  p.media_type = "application/octet-stream";
  p.disposition = "attachment";
  p.filename_raw = name;
  p.filenames = {name};
  p.body = "payload";
  return p;
}

bool flags(const AttachmentPolicy &policy, const std::string &name) {
  return !policy.inspect_part(named_part(name)).empty();
}

TEST(AttachmentLists, Grammar) {
  AttachmentLists l;
  ASSERT_TRUE(
      apply_list_text("# comment\n\nexe\n+COM   # MS-DOS\n.scr\n+.bat\r\ntype:pe\n"
                      "-type:pe\ntype:ELF\n-com\n",
                      "t.list", &l));
  EXPECT_TRUE(l.blocks_extension("exe"));
  EXPECT_FALSE(l.blocks_extension("com"));
  EXPECT_TRUE(l.blocks_extension("scr"));
  EXPECT_TRUE(l.blocks_extension("bat"));
  EXPECT_FALSE(l.blocks_type(TrueType::kPe));
  EXPECT_TRUE(l.blocks_type(TrueType::kElf));
  EXPECT_FALSE(l.blocks_extension(""));
}

TEST(AttachmentLists, ErrorsNameFileAndLine) {
  struct Case {
    const char *what;
    const char *text;
    uint32_t want_line;
  } cases[] = {
      {"two entries on a line", "exe\nexe com\n", 2},
      {"bad character", "exe\n\nex/e\n", 3},
      {"unknown type", "type:virus\n", 1},
      {"lone sign", "+\n", 1},
      {"too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1},
      {"no entries", "# nothing here\n", 0},
      {"zero bytes", "", 0},
  };
  for (const auto &c : cases) {
    AttachmentLists l;
    auto r = apply_list_text(c.text, "site.list", &l);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code, ErrorCode::kRules) << c.what;
    EXPECT_EQ(r.error().file, "site.list") << c.what;
    EXPECT_EQ(r.error().line, c.want_line) << c.what << ": " << r.error().describe();
  }
  AttachmentLists l;
  EXPECT_TRUE(
      apply_list_text("# Empty on purpose: this site blocks nothing extra.\n", "e.list", &l));
}

TEST(AttachmentLists, ShippedDefaultsCoverTable52AndModernAdditions) {
  const auto files = shipped_list_files();
  ASSERT_FALSE(files.empty());
  auto lists = build_lists(files, {}, {});
  ASSERT_TRUE(lists) << lists.error().describe();
  // Table 5.2 of the Exchange 2000 operations guide, every entry.
  for (const char *ext :
       {"ade", "adp", "bas", "bat", "chm", "cmd", "com", "cpl", "crt", "exe", "hlp", "hta", "inf",
        "ins", "isp", "js",  "jse", "lnk", "mdb", "mde", "msc", "msi", "msp", "mst", "pcd", "pif",
        "reg", "scr", "sct", "shb", "shs", "url", "vb",  "vbe", "vbs", "wsc", "wsf", "wsh"}) {
    EXPECT_TRUE(lists->blocks_extension(ext)) << ext;
  }
  for (const char *ext : {"ps1", "jar", "iso", "img", "vhd", "vhdx", "one", "appx", "msix",
                          "appxbundle", "msixbundle", "application", "xll", "settingcontent-ms"}) {
    EXPECT_TRUE(lists->blocks_extension(ext)) << ext;
  }
  for (TrueType t : all_true_types()) EXPECT_TRUE(lists->blocks_type(t)) << to_string(t);
  // Ordinary documents are never on the default list.
  for (const char *ext : {"pdf", "docx", "xlsx", "pptx", "doc", "xls", "png", "jpg", "txt", "ics",
                          "zip", "csv", "html", "eml", "xml", "rels"}) {
    EXPECT_FALSE(lists->blocks_extension(ext)) << ext;
  }
  EXPECT_EQ(lists->files.size(), files.size());
  for (const auto &f : lists->files) EXPECT_EQ(f.sha256.size(), 64u) << f.path;
}

TEST(AttachmentLists, ConfigExtendAllowReplace) {
  AttachmentOptions o;
  o.extra_blocked = {"xyz", ".ABC"};
  o.allowed = {"iso", "type:pe"};
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_TRUE(flags(**p, "a.xyz"));
  EXPECT_TRUE(flags(**p, "a.abc"));
  EXPECT_FALSE(flags(**p, "disk.iso"));
  EXPECT_TRUE(flags(**p, "a.exe"));
  EXPECT_FALSE((*p)->lists()->blocks_type(TrueType::kPe));

  AttachmentOptions replace;
  replace.replace_defaults = true;
  replace.extra_blocked = {"exe"};
  auto r = AttachmentPolicy::open(replace, nullptr);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(flags(**r, "a.exe"));
  EXPECT_FALSE(flags(**r, "a.scr"));
  EXPECT_TRUE((*r)->lists()->blocked_types.empty());
  EXPECT_TRUE((*r)->lists()->files.empty());

  AttachmentOptions bad;
  bad.extra_blocked = {"-exe"};
  auto b = AttachmentPolicy::open(bad, nullptr);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kConfig);
  bad.extra_blocked = {"a b"};
  EXPECT_FALSE(AttachmentPolicy::open(bad, nullptr));
}

TEST(AttachmentLists, MissingListFileFailsOpen) {
  AttachmentOptions o;
  o.list_files = {"/nonexistent/avsink/attachments-site.list"};
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kIo);
  EXPECT_EQ(p.error().file, o.list_files[0]);
}

TEST(AttachmentLists, ReloadKeepsLastGoodAndAudits) {
  const std::string dir = avsink::test::make_temp_dir("att-lists");
  const std::string list = dir + "/attachments-site.list";
  const std::string audit_path = dir + "/audit.log";
  write_file(list, "exe\n");
  auto audit = avsink::AuditLog::open(audit_path);
  ASSERT_TRUE(audit) << audit.error().describe();
  AttachmentOptions o;
  o.list_files = {list};
  o.watch = false;
  auto opened = AttachmentPolicy::open(o, *audit);
  ASSERT_TRUE(opened) << opened.error().describe();
  AttachmentPolicy &p = **opened;
  EXPECT_EQ(p.generation(), 1u);
  EXPECT_TRUE(flags(p, "a.exe"));
  EXPECT_FALSE(flags(p, "a.scr"));

  write_file(list, "exe\nscr\n");
  ASSERT_TRUE(p.reload());
  EXPECT_EQ(p.generation(), 2u);
  EXPECT_TRUE(flags(p, "a.scr"));

  const auto held = p.lists();  // a scan in flight keeps its generation
  write_file(list, "exe\nsc/r\n");
  auto bad = p.reload();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kRules);
  EXPECT_EQ(bad.error().line, 2u);
  EXPECT_NE(bad.error().message.find("keeping attachment lists generation 2"), std::string::npos)
      << bad.error().describe();
  EXPECT_EQ(p.generation(), 2u);
  EXPECT_TRUE(flags(p, "a.scr"));
  EXPECT_TRUE(held->blocks_extension("scr"));

  const std::string log = avsink::test::read_file(audit_path);
  EXPECT_NE(log.find("\"attachments.load\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"attachments.reload\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"attachments.reload_failed\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"sha256\""), std::string::npos) << log;
  fs::remove_all(dir);
}

// Waits up to 10 s for the watcher thread to reach `want`.
bool wait_generation(const AttachmentPolicy &p, uint64_t want) {
  for (int i = 0; i < 1000 && p.generation() < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return p.generation() >= want;
}

TEST(AttachmentLists, WatchPicksUpChangedFiles) {
  const std::string dir = avsink::test::make_temp_dir("att-watch");
  const std::string list = dir + "/attachments-site.list";
  write_file(list, "exe\n");
  AttachmentOptions o;
  o.list_files = {list};
  o.poll_ms = 50;
  auto opened = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(opened) << opened.error().describe();
  AttachmentPolicy &p = **opened;
  EXPECT_TRUE(p.watching());
  EXPECT_FALSE(flags(p, "a.scr"));
  write_file(list, "exe\nscr\n");
  ASSERT_TRUE(wait_generation(p, 2)) << "the watcher did not reload";
  EXPECT_TRUE(flags(p, "a.scr"));
  // Unchanged files: no reload.
  auto unchanged = p.reload_if_changed();
  ASSERT_TRUE(unchanged);
  EXPECT_FALSE(*unchanged);
  // A broken edit is tried once, the old lists stay, and it is not retried until it changes.
  write_file(list, "exe\nbad entry\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(p.generation(), 2u);
  EXPECT_TRUE(flags(p, "a.scr"));
  // The watcher may have tried an intermediate state of the write (the truncated file); then
  // the first call here tries the final bytes once. After that, nothing is retried.
  (void)p.reload_if_changed();
  auto again = p.reload_if_changed();
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_FALSE(*again);
  // Fixing the file reloads again; replacing it by rename (as editors do) is seen too.
  write_file(list + ".tmp", "exe\nscr\ncom\n");
  fs::rename(list + ".tmp", list);
  ASSERT_TRUE(wait_generation(p, 3)) << "the watcher did not see the rename";
  EXPECT_TRUE(flags(p, "a.com"));
  opened->reset();  // joins the watcher thread
  fs::remove_all(dir);
}

TEST(AttachmentLists, NoWatcherWhenNotAsked) {
  AttachmentOptions o;
  o.watch = false;
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(p);
  EXPECT_FALSE((*p)->watching());
}

TEST(AttachmentLists, ConcurrentInspectDuringReload) {
  const std::string dir = avsink::test::make_temp_dir("att-conc");
  const std::string list = dir + "/attachments-site.list";
  write_file(list, "exe\n");
  AttachmentOptions o;
  o.list_files = {list};
  o.watch = false;
  auto opened = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(opened);
  AttachmentPolicy &p = **opened;
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!flags(p, "a.exe")) ++misses;  // exe is in every generation
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    write_file(list, i % 2 ? "exe\nscr\n" : "exe\n");
    ASSERT_TRUE(p.reload());
  }
  stop = true;
  for (auto &t : readers) t.join();
  EXPECT_EQ(misses.load(), 0);
  EXPECT_EQ(p.generation(), 51u);
  fs::remove_all(dir);
}

TEST(AttachmentLists, NoNameAndAllowedNamesGiveNothing) {
  auto p = AttachmentPolicy::open(AttachmentOptions{}, nullptr);
  ASSERT_TRUE(p);
  avsink::mime::Part part;
  part.path = "1";
  EXPECT_TRUE((*p)->inspect_part(part).empty());
  for (const char *ok : {"invoice.pdf", "Q1 report.docx", "logo.png", "README", "archive.tar.gz",
                         "setup.exe.txt", "photo.jpg", "version.1.2.3", "Übersicht März.pdf",
                         "\u05D7\u05E9\u05D1\u05D5\u05DF.pdf", "report (final).pdf"}) {
    const Findings f = (*p)->inspect_part(named_part(ok));
    EXPECT_TRUE(f.empty()) << ok << ": " << (f.empty() ? "" : f[0].name);
  }
}

}  // namespace

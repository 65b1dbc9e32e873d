// engines_hash_list_test.cpp - HashListEngine: file format, errors with file:line, matching by the
// SHA-256 of a part, the shipped list, reload swaps (and keeps the old list on a bad file).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.h"
#include "core/finding.h"
#include "core/sha256.h"
#include "engines/hash_list.h"
#include "test_support.h"

using avsink::test::TempDir;

namespace {

namespace fs = std::filesystem;
using avsink::Deadline;
using avsink::ErrorCode;
using avsink::FindingKind;
using avsink::Findings;
using avsink::engines::HashListEngine;
using avsink::engines::HashListOptions;
using avsink::engines::ScanItem;

constexpr const char *kMarker = "AVSINK-TEST-MARKER-7f3c9e";
constexpr const char *kMarkerSha =
    "0613ff106cc6a963e2e58151939338d474dd54a89623ae5e3eaa295405d07156";

std::string fixture(const std::string &name) {
  return avsink::test::data_path("engines/" + name);
}

std::unique_ptr<HashListEngine> open_ok(std::vector<std::string> files) {
  HashListOptions o;
  o.files = std::move(files);
  auto r = HashListEngine::open(o);
  if (!r) {
    ADD_FAILURE() << "open: " << r.error().describe();
    return nullptr;
  }
  return std::move(*r);
}

std::vector<std::string> names(const Findings &f) {
  std::vector<std::string> out;
  for (const auto &x : f) out.push_back(x.name);
  return out;
}

Findings scan_ok(HashListEngine &e, const std::string &data, const Deadline &d = {}) {
  ScanItem item;
  item.data = data;
  item.part_path = "1.2";
  item.filename = "x.bin";
  auto r = e.scan(item, d);
  if (!r) {
    ADD_FAILURE() << "scan: " << r.error().describe();
    return {};
  }
  return *r;
}

TEST(HashList, ParseErrorsNameFileAndLine) {
  TempDir t{"avsink-hash-"};
  const std::string hex(64, 'a');
  struct Case {
    const char *label;
    std::string text;
    uint32_t want_line;
    const char *want_text;
  };
  const Case cases[] = {
      {"short hash", "# c\n# c\nabc123 Name\n", 3, "expected '<64 hex digits> <name>'"},
      {"non-hex", "z" + hex.substr(1) + " Name\n", 1, "not a SHA-256 in hex at column 1"},
      {"no name", "# x\n" + hex + "\n", 2, "missing name"},
      {"only spaces after", hex + "   \n", 1, "missing name"},
      {"sha512-length", hex + hex + " Name\n", 1, "longer than 64 hex digits"},
      {"space in name", hex + " Two words\n", 1, "without whitespace"},
      {"control byte", hex + " Bad\x01Name\n", 1, "printable ASCII"},
      {"crlf then bad", hex + " Ok\r\n" + hex + "\r\n", 2, "missing name"},
  };
  for (const auto &c : cases) {
    const std::string path = t.write("bad.sha256", c.text);
    HashListOptions o;
    o.files = {path};
    auto r = HashListEngine::open(o);
    ASSERT_FALSE(r) << c.label << ": got a loaded list, want an error";
    EXPECT_EQ(r.error().code, ErrorCode::kConfig) << c.label;
    EXPECT_EQ(r.error().file, path) << c.label;
    EXPECT_EQ(r.error().line, c.want_line) << c.label << ": " << r.error().describe();
    EXPECT_NE(r.error().message.find(c.want_text), std::string::npos)
        << c.label << ": got \"" << r.error().message << "\", want it to contain \"" << c.want_text
        << "\"";
  }
}

TEST(HashList, FixtureWithBrokenLineFive) {
  HashListOptions o;
  o.files = {fixture("bad-line5.sha256")};
  auto r = HashListEngine::open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().describe(),
            fixture("bad-line5.sha256") + ":5: not a SHA-256 in hex at column 7");
}

TEST(HashList, EmptyFileInvalidUnlessMarked) {
  TempDir t{"avsink-hash-"};
  struct Case {
    const char *label;
    std::string path;
    bool want_ok;
  };
  const Case cases[] = {
      {"zero bytes", t.write("zero.sha256", ""), false},
      {"blank lines", t.write("blank.sha256", "\n\n  \n"), false},
      {"comments only", fixture("comments-only.sha256"), false},
      {"marked empty", fixture("empty-on-purpose.sha256"), true},
      {"marked, no space", t.write("m.sha256", "#avsink: empty\n"), true},
  };
  for (const auto &c : cases) {
    HashListOptions o;
    o.files = {c.path};
    auto r = HashListEngine::open(o);
    EXPECT_EQ(r.ok(), c.want_ok) << c.label << ": "
                                 << (r ? std::string("loaded") : r.error().describe());
    if (r) {
      EXPECT_EQ((*r)->status().signatures, 0u) << c.label;
      EXPECT_TRUE(scan_ok(**r, kMarker).empty()) << c.label;
    } else {
      EXPECT_NE(r.error().message.find("# avsink: empty"), std::string::npos) << c.label;
    }
  }
}

TEST(HashList, OpenErrors) {
  HashListOptions none;
  auto r = HashListEngine::open(none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);

  HashListOptions missing;
  missing.files = {"/nonexistent/avsink/list.sha256"};
  r = HashListEngine::open(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ(r.error().file, "/nonexistent/avsink/list.sha256");
}

TEST(HashList, MatchesBySha256OfThePart) {
  auto e = open_ok({fixture("site-list.sha256")});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status().signatures, 3u);  // Exact (once), Alias, Empty

  Findings got = scan_ok(*e, kMarker);
  EXPECT_EQ(names(got), (std::vector<std::string>{"Site.Marker.Alias", "Site.Marker.Exact"}));
  for (const auto &f : got) {
    EXPECT_EQ(f.kind, FindingKind::kVirus);
    EXPECT_EQ(f.inspector, "hashlist");
    EXPECT_EQ(f.part_path, "1.2");
    EXPECT_EQ(f.filename, "x.bin");
    EXPECT_NE(f.detail.find(kMarkerSha), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("site-list.sha256:"), std::string::npos) << f.detail;
  }
  // A hash is of the whole part: one byte more or less is another file.
  EXPECT_TRUE(scan_ok(*e, std::string(kMarker) + "\n").empty());
  EXPECT_TRUE(scan_ok(*e, std::string(kMarker).substr(1)).empty());
  EXPECT_TRUE(scan_ok(*e, "").empty());  // the listed empty hash is never looked up
  EXPECT_TRUE(scan_ok(*e, std::string(1 << 20, 'q')).empty());
}

TEST(HashList, ShippedListDetectsEicarAndClamExe) {
  auto e = open_ok({std::string(AVSINK_SOURCE_SIGNATURES_DIR) + "/avsink-test.sha256"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status().signatures, 2u);
  EXPECT_EQ(names(scan_ok(*e, avsink::test::eicar())),
            std::vector<std::string>{"Avsink.Test.Eicar.SHA256"});
  EXPECT_TRUE(scan_ok(*e, avsink::test::eicar() + "\n").empty());
  const std::string clam = "/usr/share/clamav-testfiles/clam.exe";
  if (fs::exists(clam)) {
    EXPECT_EQ(names(scan_ok(*e, avsink::test::read_file(clam))),
              std::vector<std::string>{"Avsink.Test.ClamExe.SHA256"});
  }
}

TEST(HashList, ExpiredDeadlineIsUnscannable) {
  auto e = open_ok({fixture("site-list.sha256")});
  ASSERT_TRUE(e);
  Deadline past = Deadline::after_ms(0);
  Findings got = scan_ok(*e, kMarker, past);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, FindingKind::kUnscannable);
  EXPECT_EQ(got[0].name, "Limits.Exceeded.ScanTime");
}

TEST(HashList, StatusReportsFilesAndVersion) {
  TempDir t{"avsink-hash-"};
  const std::string a = t.write("a.sha256", std::string(kMarkerSha) + " A\n");
  const std::string b = t.write("b.sha256", "# avsink: empty\n");
  auto e = open_ok({a, b});
  ASSERT_TRUE(e);
  auto s = e->status();
  EXPECT_EQ(s.name, "hashlist");
  EXPECT_EQ(s.signatures, 1u);
  EXPECT_EQ(s.generation, 1u);
  EXPECT_TRUE(s.required);
  EXPECT_GT(s.db_time, 0);
  ASSERT_EQ(s.sources.size(), 2u);
  EXPECT_EQ(s.sources[0].path, a);
  ASSERT_EQ(s.sources[0].files.size(), 1u);
  EXPECT_EQ(s.sources[0].files[0].sha256, avsink::sha256_hex(avsink::test::read_file(a)));
  EXPECT_EQ(s.db_version.rfind("sha256:", 0), 0u) << s.db_version;
  EXPECT_EQ(s.db_version.size(), 7u + 12u);
}

TEST(HashList, ReloadSwapsAndKeepsOldOnError) {
  TempDir t{"avsink-hash-"};
  const std::string path = t.write("l.sha256", std::string(kMarkerSha) + " First\n");
  auto e = open_ok({path});
  ASSERT_TRUE(e);
  EXPECT_EQ(names(scan_ok(*e, kMarker)), std::vector<std::string>{"First"});
  const std::string v1 = e->status().db_version;

  t.write("l.sha256", std::string(kMarkerSha) + " Second\n");
  ASSERT_TRUE(e->reload());
  EXPECT_EQ(names(scan_ok(*e, kMarker)), std::vector<std::string>{"Second"});
  EXPECT_EQ(e->status().generation, 2u);
  EXPECT_NE(e->status().db_version, v1);

  t.write("l.sha256", "# ok\nnot-a-hash Third\n");
  auto r = e->reload();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().describe(), path + ":2: expected '<64 hex digits> <name>'");
  EXPECT_EQ(names(scan_ok(*e, kMarker)), std::vector<std::string>{"Second"});
  EXPECT_EQ(e->status().generation, 2u);

  fs::remove(path);
  ASSERT_FALSE(e->reload());
  EXPECT_EQ(names(scan_ok(*e, kMarker)), std::vector<std::string>{"Second"});
}

TEST(HashList, ConcurrentScansDuringReloads) {
  TempDir t{"avsink-hash-"};
  const std::string path = t.write("l.sha256", std::string(kMarkerSha) + " Gen\n");
  auto e = open_ok({path});
  ASSERT_TRUE(e);
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0}, errors{0}, scans{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      ScanItem item;
      item.data = kMarker;
      while (!stop) {
        auto r = e->scan(item, Deadline());
        if (!r) {
          ++errors;
        } else if (r->size() != 1) {
          ++misses;
        }
        ++scans;
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    t.write("l.tmp", std::string(kMarkerSha) + " Gen\n# generation " + std::to_string(i) + "\n");
    fs::rename(t.path + "/l.tmp", path);
    ASSERT_TRUE(e->reload());
  }
  stop = true;
  for (auto &th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(misses.load(), 0);
  EXPECT_GT(scans.load(), 0);
  EXPECT_EQ(e->status().generation, 101u);
}

}  // namespace

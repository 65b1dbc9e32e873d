// engines_clamav_test.cpp - ClamavEngine against the shipped signatures, clamav-testfiles, archives
// built here, limits, deadlines, the member walk, reload and concurrent scans. Key invariant
// checked throughout: content libclamav could not inspect is never reported clean.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.h"
#include "core/finding.h"
#include "engines/clamav_ignored_types.h"
#include "engines/clamav_lib.h"
#include "engines/mail_parser_guard.h"
#include "test_support.h"

using avsink::test::TempDir;

namespace {

namespace fs = std::filesystem;
using avsink::Deadline;
using avsink::ErrorCode;
using avsink::Finding;
using avsink::FindingKind;
using avsink::Findings;
using avsink::engines::ClamavEngine;
using avsink::engines::ClamavOptions;
using avsink::engines::ContainerMember;
using avsink::engines::MemberDecision;
using avsink::engines::ScanItem;

constexpr const char *kTestfiles = "/usr/share/clamav-testfiles";
constexpr const char *kMarker = "AVSINK-TEST-MARKER-7f3c9e";

ClamavOptions shipped_options() {
  ClamavOptions o;
  o.signature_dirs = {AVSINK_SOURCE_SIGNATURES_DIR};
  o.load_system_db = false;  // deterministic: only what the repository ships
  return o;
}

// Tests that only scan share one engine over the shipped signatures, opened once per suite.
class ClamavShipped : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = ClamavEngine::open(shipped_options());
    if (r) {
      engine_ = std::move(*r);
    } else {
      open_error_ = r.error().describe();
    }
  }
  static void TearDownTestSuite() { engine_.reset(); }
  void SetUp() override { ASSERT_TRUE(engine_) << "open: " << open_error_; }
  static ClamavEngine &engine() { return *engine_; }

 private:
  static inline std::unique_ptr<ClamavEngine> engine_;
  static inline std::string open_error_;
};

std::string describe(const Findings &findings) {
  std::string out;
  for (const auto &f : findings) {
    out += "[" + std::string(avsink::to_string(f.kind)) + " " + f.name + "]";
  }
  return out.empty() ? "(none)" : out;
}

bool has(const Findings &findings, FindingKind kind, const std::string &name) {
  for (const auto &f : findings) {
    if (f.kind == kind && f.name == name) return true;
  }
  return false;
}

bool has_kind(const Findings &findings, FindingKind kind) {
  for (const auto &f : findings) {
    if (f.kind == kind) return true;
  }
  return false;
}

Findings scan_ok(ClamavEngine &engine, const ScanItem &item, const Deadline &deadline = {}) {
  auto r = engine.scan(item, deadline);
  if (!r) {
    ADD_FAILURE() << "scan failed: " << r.error().describe();
    return {};
  }
  return *r;
}

Findings scan_bytes(ClamavEngine &engine, const std::string &data, const std::string &name = {}) {
  ScanItem item;
  item.data = data;
  item.filename = name;
  item.part_path = "2";
  return scan_ok(engine, item);
}

// One .ndb line matching `text` anywhere in any file type.
std::string ndb_line(const std::string &name, const std::string &text) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : text) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return name + ":0:*:" + hex + "\n";
}

std::string base64(const std::string &in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

void write_file(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Runs a shell command in `dir`; fails the test when it exits non-zero.
void run_in(const std::string &dir, const std::string &command) {
  std::string full = "cd '" + dir + "' && " + command + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(full.c_str()), 0) << "command failed: " << command;
}

// A temp directory removed at the end of the test.

// EICAR followed by padding, so that zip deflates it and the raw bytes never appear in the archive.
std::string compressible_eicar() {
  return avsink::test::eicar() + std::string(4096, 'x') + "\n";
}

bool have_zip() {
  return std::system("command -v zip >/dev/null 2>&1") == 0;
}

// ---- detection ----

TEST_F(ClamavShipped, ShippedSignaturesInMemory) {
  struct Case {
    const char *label;
    std::string data;
    FindingKind want_kind;
    const char *want_name;  // nullptr = no findings at all
  };
  const std::string eicar = avsink::test::eicar();
  const Case cases[] = {
      {"eicar alone", eicar, FindingKind::kVirus, "Eicar-Test-Signature"},
      {"eicar with trailing newline", eicar + "\r\n", FindingKind::kVirus, "Eicar-Test-Signature"},
      {"eicar inside text", "Dear user,\n" + eicar + "\nregards\n", FindingKind::kVirus,
       "Eicar-Test-Signature"},
      {"marker in a sentence", std::string("this message carries ") + kMarker + " on purpose\n",
       FindingKind::kVirus, "Avsink.Test.Marker"},
      {"clean text", "Hello Bob,\nthe invoice is attached.\n-- \nAlice\n", FindingKind::kVirus,
       nullptr},
      {"truncated marker", std::string(kMarker).substr(0, 20), FindingKind::kVirus, nullptr},
      {"empty", "", FindingKind::kVirus, nullptr},
  };
  for (const auto &c : cases) {
    Findings got = scan_bytes(engine(), c.data, "a.txt");
    if (c.want_name == nullptr) {
      EXPECT_TRUE(got.empty()) << c.label << ": got " << describe(got) << ", want none";
      continue;
    }
    EXPECT_TRUE(has(got, c.want_kind, c.want_name))
        << c.label << ": got " << describe(got) << ", want " << c.want_name;
    for (const auto &f : got) {
      EXPECT_EQ(f.inspector, "clamav") << c.label;
      EXPECT_EQ(f.part_path, "2") << c.label;
      EXPECT_EQ(f.filename, "a.txt") << c.label;
      EXPECT_EQ(f.name.find(".UNOFFICIAL"), std::string::npos) << c.label << ": " << f.name;
    }
  }
}

TEST_F(ClamavShipped, ClamavTestfilesAllFormats) {
  if (!fs::is_directory(kTestfiles)) GTEST_SKIP() << "clamav-testfiles not installed";
  // Every container form Debian ships around clam.exe must be caught by the shipped signatures:
  // the body signature (.ndb) and the whole-file hash (.hsb) of the unpacked clam.exe.
  const char *files[] = {
      "clam.exe",          "clam.zip",        "clam.7z",          "clam.cab",
      "clam.tar.gz",       "clam.arj",        "clam.bz2.zip",     "clam.exe.bz2",
      "clam.exe.rtf",      "clam.ole.doc",    "clam.pdf",         "clam.chm",
      "clam.impl.zip",     "clam.d64.zip",    "clam.newc.cpio",   "clam.odc.cpio",
      "clam.tnef",         "clam.mail",       "clam.exe.mbox.uu", "clam.exe.mbox.base64",
      "clam.exe.binhex",   "clam.exe.html",   "clam.exe.szdd",    "clam.ppt",
      "clam.sis",          "clam-upx.exe",    "clam-aspack.exe",  "clam-fsg.exe",
      "clam-mew.exe",      "clam-nsis.exe",   "clam-pespin.exe",  "clam-petite.exe",
      "clam-upack.exe",    "clam-wwpack.exe", "clam-yc.exe",      "clam_IScab_ext.exe",
      "clam_ISmsi_int.exe"};
  int checked = 0;
  for (const char *name : files) {
    std::string path = std::string(kTestfiles) + "/" + name;
    if (!fs::exists(path)) continue;  // older/newer packages ship slightly different sets
    ++checked;
    std::string data = avsink::test::read_file(path);
    Findings got = scan_bytes(engine(), data, name);
    EXPECT_TRUE(has(got, FindingKind::kVirus, "Avsink.Test.ClamExe"))
        << name << ": got " << describe(got) << ", want Avsink.Test.ClamExe";
    EXPECT_TRUE(has(got, FindingKind::kVirus, "Avsink.Test.ClamExe.SHA256"))
        << name << ": got " << describe(got) << ", want Avsink.Test.ClamExe.SHA256";
  }
  EXPECT_GE(checked, 10) << "too few clamav-testfiles found";
}

TEST_F(ClamavShipped, MembersReadByCallerAreNotUnpacked) {
  // members_read_by_caller: libclamav scans a container's bytes as they are (the caller gives it
  // the members); without it, it unpacks them. clam.exe is found only inside the 7z.
  const std::string path = std::string(kTestfiles) + "/clam.7z";
  if (!fs::exists(path)) GTEST_SKIP() << "clamav-testfiles' clam.7z not installed";
  const std::string data = avsink::test::read_file(path);
  ScanItem item;
  item.data = data;
  item.filename = "clam.7z";
  EXPECT_TRUE(has(scan_ok(engine(), item), FindingKind::kVirus, "Avsink.Test.ClamExe"));
  item.members_read_by_caller = true;
  const Findings got = scan_ok(engine(), item);
  EXPECT_TRUE(got.empty()) << "got " << describe(got);
}

TEST_F(ClamavShipped, RawMessageThroughLibclamavMailParser) {
  // whole_message = true hands libclamav the raw message; its own MIME parser finds the part.
  const std::string b64 = base64(avsink::test::eicar());
  std::string msg =
      "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: "
      "text/plain\r\n\r\n"
      "hi\r\n--b1\r\nContent-Type: application/octet-stream; name=\"x.com\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64 + "\r\n--b1--\r\n";
  ScanItem item;
  item.data = msg;
  item.whole_message = true;
  Findings got = scan_ok(engine(), item);
  EXPECT_TRUE(has(got, FindingKind::kVirus, "Eicar-Test-Signature"))
      << "got " << describe(got) << ", want Eicar-Test-Signature";
  for (const auto &f : got) EXPECT_EQ(f.part_path, "") << "whole message has no part path";
}

TEST_F(ClamavShipped, RawPassSkipsOnlyPartsAlreadyScannedByteForByte) {
  // The raw-message pass decodes the parts again; one equal to bytes in already_scanned is not
  // rescanned (its findings came from that scan), anything else still is.
  const std::string eicar = avsink::test::eicar();
  const std::string msg =
      "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: "
      "application/octet-stream; name=\"x.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      base64(eicar) + "\r\n--b1--\r\n";
  const std::string almost = eicar.substr(0, eicar.size() - 1);  // one byte short
  const std::string longer = eicar + "\n";                       // one byte more
  struct Case {
    const char *what;
    std::vector<std::string_view> scanned;
    bool want_eicar;
  };
  const std::vector<Case> cases = {
      {"nothing scanned before", {}, true},
      {"the same bytes", {eicar}, false},
      {"among other parts", {almost, eicar, longer}, false},
      {"a prefix of it", {almost}, true},
      {"it plus a newline", {longer}, true},
  };
  for (const auto &c : cases) {
    ScanItem item;
    item.data = msg;
    item.whole_message = true;
    item.already_scanned = &c.scanned;
    Findings got = scan_ok(engine(), item);
    EXPECT_EQ(has(got, FindingKind::kVirus, "Eicar-Test-Signature"), c.want_eicar)
        << c.what << ": got " << describe(got);
  }
}

// ---- what cannot be scanned is never clean ----

TEST(ClamavEngine, EncryptedZipIsUnscannable) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  write_file(dir.file("report.txt"), "quarterly numbers\n");
  run_in(dir.path, "zip -q -P secret enc.zip report.txt");
  std::string data = avsink::test::read_file(dir.file("enc.zip"));

  struct Case {
    bool heuristic_encrypted;
    bool want_unscannable;
  };
  for (const Case c : {Case{true, true}, Case{false, false}}) {
    ClamavOptions o = shipped_options();
    o.heuristic_encrypted = c.heuristic_encrypted;
    auto engine = ClamavEngine::open(o);
    ASSERT_TRUE(engine) << engine.error().describe();
    Findings got = scan_bytes(**engine, data, "enc.zip");
    EXPECT_EQ(has(got, FindingKind::kUnscannable, "Heuristics.Encrypted.Zip"), c.want_unscannable)
        << "heuristic_encrypted=" << c.heuristic_encrypted << ": got " << describe(got);
  }
}

TEST(ClamavEngine, LimitsExceededAreUnscannable) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  constexpr uint64_t kLimit = 64 << 10;
  TempDir dir{"avsink-clam-"};
  // Members of max_file_bytes - 1, max_file_bytes and max_file_bytes + 1 bytes, each compressed
  // (so libclamav has to unpack them) and each with EICAR at the very end.
  std::string zips[3];
  for (int i = 0; i < 3; ++i) {
    uint64_t size = kLimit - 1 + static_cast<uint64_t>(i);
    std::string name = "m" + std::to_string(i);
    write_file(dir.file(name + ".txt"),
               std::string(size - avsink::test::eicar().size(), 'A') + avsink::test::eicar());
    run_in(dir.path, "zip -q -9 " + name + ".zip " + name + ".txt");
    zips[i] = avsink::test::read_file(dir.file(name + ".zip"));
  }
  // Far over: beyond max_file_bytes plus the engine's 1 MiB headroom, so libclamav truncates it.
  write_file(dir.file("big.txt"), std::string(3 << 20, 'A') + avsink::test::eicar());
  run_in(dir.path, "zip -q -9 big.zip big.txt && gzip -9 -k big.txt");
  const std::string big_zip = avsink::test::read_file(dir.file("big.zip"));
  const std::string big_gz = avsink::test::read_file(dir.file("big.txt.gz"));
  const std::string plain_at = std::string(kLimit, 'B');
  const std::string plain_over = std::string(kLimit + 1, 'B');
  const std::string plain_far_over = std::string(2 << 20, 'B');
  const std::string max_file = "Heuristics.Limits.Exceeded.MaxFileSize";

  struct Case {
    const char *label;
    uint64_t max_decoded_bytes;
    const std::string *data;
    FindingKind want_kind;
    std::string want;  // "" = no findings
  };
  const Case cases[] = {
      {"zip member at limit-1", 16 << 20, &zips[0], FindingKind::kVirus, "Eicar-Test-Signature"},
      {"zip member at limit", 16 << 20, &zips[1], FindingKind::kVirus, "Eicar-Test-Signature"},
      {"zip member at limit+1", 16 << 20, &zips[2], FindingKind::kUnscannable, max_file},
      {"zip member far over", 16 << 20, &big_zip, FindingKind::kUnscannable, max_file},
      {"gzip member far over", 16 << 20, &big_gz, FindingKind::kUnscannable, max_file},
      {"plain part at limit", 16 << 20, &plain_at, FindingKind::kVirus, ""},
      {"plain part at limit+1", 16 << 20, &plain_over, FindingKind::kUnscannable, max_file},
      {"plain part far over", 16 << 20, &plain_far_over, FindingKind::kUnscannable, max_file},
      {"zip over max scan size", 32 << 10, &zips[0], FindingKind::kUnscannable,
       "Heuristics.Limits.Exceeded.MaxScanSize"},
  };
  ClamavOptions o = shipped_options();
  o.limits.max_file_bytes = kLimit;
  for (const auto &c : cases) {
    o.limits.max_decoded_bytes = c.max_decoded_bytes;
    auto engine = ClamavEngine::open(o);
    ASSERT_TRUE(engine) << engine.error().describe();
    Findings got = scan_bytes(**engine, *c.data, "x");
    if (c.want.empty()) {
      EXPECT_TRUE(got.empty()) << c.label << ": got " << describe(got) << ", want none";
    } else {
      EXPECT_TRUE(has(got, c.want_kind, c.want))
          << c.label << ": got " << describe(got) << ", want " << c.want;
    }
    EXPECT_EQ(
        std::count_if(got.begin(), got.end(), [&](const Finding &f) { return f.name == max_file; }),
        c.want == max_file ? 1 : 0)
        << c.label << ": got " << describe(got);
  }
}

TEST(ClamavEngine, RecursionLimitIsUnscannable) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  // payload.txt ends up at depth 6: l5.zip/l4.zip/l3.zip/l2.zip/l1.zip/l0.zip/payload.txt.
  write_file(dir.file("payload.txt"), compressible_eicar());
  run_in(dir.path, "zip -q -9 l0.zip payload.txt");
  for (int i = 1; i <= 5; ++i) {
    run_in(dir.path, "zip -q l" + std::to_string(i) + ".zip l" + std::to_string(i - 1) + ".zip");
  }
  std::string data = avsink::test::read_file(dir.file("l5.zip"));
  struct Case {
    uint32_t max_recursion;
    FindingKind want_kind;
    const char *want;
  };
  const Case cases[] = {
      {3, FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxRecursion"},
      {5, FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxRecursion"},
      {6, FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxRecursion"},
      {7, FindingKind::kVirus, "Eicar-Test-Signature"},
      {17, FindingKind::kVirus, "Eicar-Test-Signature"},
  };
  for (const auto &c : cases) {
    ClamavOptions o = shipped_options();
    o.limits.max_archive_recursion = c.max_recursion;
    auto engine = ClamavEngine::open(o);
    ASSERT_TRUE(engine) << engine.error().describe();
    Findings got = scan_bytes(**engine, data, "l5.zip");
    EXPECT_TRUE(has(got, c.want_kind, c.want))
        << "max_recursion=" << c.max_recursion << ": got " << describe(got) << ", want " << c.want;
    if (c.want_kind == FindingKind::kVirus) {
      EXPECT_FALSE(has_kind(got, FindingKind::kUnscannable))
          << "max_recursion=" << c.max_recursion << ": got " << describe(got);
    }
  }
}

TEST(ClamavEngine, FileCountLimitIsUnscannable) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  std::string names;
  for (int i = 0; i < 6; ++i) {
    std::string name = "f" + std::to_string(i) + ".txt";
    write_file(dir.file(name), "member " + std::to_string(i) + "\n");
    names += " " + name;
  }
  run_in(dir.path, "zip -q six.zip" + names);
  std::string data = avsink::test::read_file(dir.file("six.zip"));
  struct Case {
    uint32_t max_files;
    bool want_unscannable;
  };
  for (const Case c : {Case{3, true}, Case{5, true}, Case{6, false}, Case{7, false}}) {
    ClamavOptions o = shipped_options();
    o.limits.max_archive_files = c.max_files;
    auto engine = ClamavEngine::open(o);
    ASSERT_TRUE(engine) << engine.error().describe();
    Findings got = scan_bytes(**engine, data, "six.zip");
    EXPECT_EQ(has(got, FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxFiles"),
              c.want_unscannable)
        << "max_files=" << c.max_files << ": got " << describe(got);
    if (!c.want_unscannable) {
      EXPECT_TRUE(got.empty()) << "max_files=" << c.max_files << ": got " << describe(got);
    }
  }
}

TEST_F(ClamavShipped, ExpiredDeadlineIsUnscannable) {
  Deadline expired = Deadline::after_ms(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(expired.expired());
  const std::vector<std::string> inputs = {avsink::test::eicar(), "nothing to see"};
  for (const auto &data : inputs) {
    ScanItem item;
    item.data = data;
    Findings got = scan_ok(engine(), item, expired);
    EXPECT_TRUE(has(got, FindingKind::kUnscannable, "Limits.Exceeded.ScanTime"))
        << "got " << describe(got) << ", want Limits.Exceeded.ScanTime";
  }
}

TEST_F(ClamavShipped, DeadlinePassingMidScanStopsTheWalk) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  write_file(dir.file("a.txt"), "first member\n");
  write_file(dir.file("b.txt"), compressible_eicar());  // deflated: only visible once unpacked
  run_in(dir.path, "zip -q -9 two.zip a.txt b.txt");
  std::string data = avsink::test::read_file(dir.file("two.zip"));
  ScanItem item;
  item.data = data;
  int members = 0;
  // The first member takes longer than the whole deadline; the engine must not go on.
  item.on_member = [&members](const ContainerMember &) {
    ++members;
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    return MemberDecision::kContinue;
  };
  Findings got = scan_ok(engine(), item, Deadline::after_ms(30));
  EXPECT_TRUE(has(got, FindingKind::kUnscannable, "Limits.Exceeded.ScanTime"))
      << "got " << describe(got) << ", want Limits.Exceeded.ScanTime";
  EXPECT_LE(members, 1) << "members reported after the deadline";
  EXPECT_FALSE(has_kind(got, FindingKind::kVirus)) << "got " << describe(got);
}

// One large part and no members: libclamav calls no per-file callback while it matches, and its
// own MAX_SCANTIME is the whole deadline of the shared engine. The deadline passing while the
// part is being read must still end the scan and be reported (#14 item 8). Without the checked
// page reads the scan ran to the end, found the EICAR there and said nothing about the deadline.
TEST_F(ClamavShipped, DeadlinePassingInsideOnePartStopsReadingIt) {
  // 64 MiB and 5 ms: matching takes tens of milliseconds even on a fast idle machine, so the
  // deadline passes mid-read (16 MiB and 20 ms was read whole on an idle machine).
  std::string data(64u << 20, '\0');
  uint32_t x = 12345;  // incompressible, typeless bytes: libclamav only matches them
  for (auto &c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  data += avsink::test::eicar();
  ScanItem item;
  item.data = data;
  Findings got = scan_ok(engine(), item, Deadline::after_ms(5));
  EXPECT_TRUE(has(got, FindingKind::kUnscannable, "Limits.Exceeded.ScanTime"))
      << "got " << describe(got) << ", want Limits.Exceeded.ScanTime";
  EXPECT_FALSE(has_kind(got, FindingKind::kVirus))
      << "the part was read to its end after the deadline: " << describe(got);
  // A deadline that does not pass reads it whole (the control).
  Findings whole = scan_ok(engine(), item, Deadline());
  EXPECT_TRUE(has_kind(whole, FindingKind::kVirus)) << "got " << describe(whole);
  EXPECT_FALSE(has(whole, FindingKind::kUnscannable, "Limits.Exceeded.ScanTime"));
}

// The documented default for [scan] temp_dir = "": $TMPDIR when set, else a writable tmpfs
// (/dev/shm first), else libclamav's own default.
TEST(ClamavEngine, DefaultScratchDirPrefersTmpdirThenTmpfs) {
  const char *saved = std::getenv("TMPDIR");
  const std::string keep = saved != nullptr ? saved : "";
  setenv("TMPDIR", "/some/where", 1);
  EXPECT_EQ(avsink::engines::default_scratch_dir(), "") << "TMPDIR is libclamav's to read";
  unsetenv("TMPDIR");
  const std::string chosen = avsink::engines::default_scratch_dir();
  if (saved != nullptr) setenv("TMPDIR", keep.c_str(), 1);
  struct statfs shm {};
  const bool shm_tmpfs = statfs("/dev/shm", &shm) == 0 && shm.f_type == TMPFS_MAGIC &&
                         access("/dev/shm", W_OK | X_OK) == 0;
  if (shm_tmpfs) {
    EXPECT_EQ(chosen, "/dev/shm");
  } else {
    EXPECT_NE(chosen, "/dev/shm");
  }
  if (!chosen.empty()) {
    struct statfs fs {};
    ASSERT_EQ(statfs(chosen.c_str(), &fs), 0) << chosen;
    EXPECT_EQ(fs.f_type, static_cast<decltype(fs.f_type)>(TMPFS_MAGIC)) << chosen;
  }
}

// ---- the member walk (one archive walk for names, types and viruses) ----

TEST_F(ClamavShipped, OnMemberReportsNestedZip) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  write_file(dir.file("setup.exe"), std::string("MZ\x90\x00\x03\x00\x00\x00\x04", 9));
  run_in(dir.path, "zip -q inner.zip setup.exe && zip -q outer.zip inner.zip");
  std::string data = avsink::test::read_file(dir.file("outer.zip"));

  struct Want {
    std::string path;
    std::string type;
    uint32_t depth;
  };
  const std::vector<Want> want = {{"inner.zip", "CL_TYPE_ZIP", 1},
                                  {"inner.zip/setup.exe", "CL_TYPE_MSEXE", 2}};
  // Twice: the second scan of the same bytes must walk again (no clean-file cache).
  for (int round = 0; round < 2; ++round) {
    std::vector<ContainerMember> got;
    ScanItem item;
    item.data = data;
    item.filename = "outer.zip";
    item.on_member = [&got](const ContainerMember &m) {
      got.push_back(m);
      return MemberDecision::kContinue;
    };
    Findings findings = scan_ok(engine(), item);
    EXPECT_TRUE(findings.empty()) << "got " << describe(findings);
    ASSERT_EQ(got.size(), want.size()) << "round " << round;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].path, want[i].path) << "round " << round << " member " << i;
      EXPECT_EQ(got[i].file_type, want[i].type) << "round " << round << " member " << i;
      EXPECT_EQ(got[i].depth, want[i].depth) << "round " << round << " member " << i;
    }
    EXPECT_EQ(got.back().size, 9u);
  }
}

TEST_F(ClamavShipped, MailFileInAnArchiveIsCheckedBeforeLibclamavParsesIt) {
  // libclamav's mail parser is quadratic on a long folded MIME field (mail_parser_guard.h). Inside
  // an archive the caller cannot look first, so the walk does: such a member is skipped and
  // unscannable; an ordinary mail member is still parsed, and what it carries found.
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  const std::string head = "From: a@example.org\r\nTo: b@example.org\r\nSubject: fwd\r\n";
  const std::string attachment =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
      "Content-Type: application/octet-stream; name=\"x.com\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64(avsink::test::eicar()) + "\r\n--b1--\r\n";
  std::string folded = "X-Pad: 1\r\nContent-Transfer-Encoding: x";
  while (folded.size() < 3 * avsink::engines::kMailParserMaxFieldBytes) folded += "\r\n y";
  folded += "\r\n";
  struct Case {
    const char *what;
    std::string eml;
    bool want_hazard;
    bool want_eicar;
  };
  const std::vector<Case> cases = {
      {"ordinary forwarded mail", head + attachment, false, true},
      {"a CTE folded past the cap", head + folded + "\r\nbody\r\n", true, false},
  };
  for (const auto &c : cases) {
    TempDir dir("avsink-clam-");
    write_file(dir.file("long.eml"), c.eml);
    run_in(dir.path, "zip -q mail.zip long.eml");
    const std::string data = avsink::test::read_file(dir.file("mail.zip"));
    std::vector<std::string> types;
    ScanItem item;
    item.data = data;
    item.filename = "mail.zip";
    item.on_member = [&types](const ContainerMember &m) {
      types.push_back(m.path + "=" + m.file_type);
      return MemberDecision::kContinue;
    };
    Findings got = scan_ok(engine(), item);
    const bool hazard = has(got, FindingKind::kUnscannable, "Limits.Exceeded.MimeFieldLength");
    EXPECT_EQ(hazard, c.want_hazard) << c.what << ": got " << describe(got);
    EXPECT_EQ(has(got, FindingKind::kVirus, "Eicar-Test-Signature"), c.want_eicar)
        << c.what << ": got " << describe(got);
    for (const auto &f : got) {
      if (f.name == "Limits.Exceeded.MimeFieldLength") {
        EXPECT_NE(f.detail.find("member long.eml:"), std::string::npos) << f.detail;
      }
    }
    const std::string all_types = ::testing::PrintToString(types);
    EXPECT_NE(all_types.find("long.eml=CL_TYPE_MAIL"), std::string::npos)
        << c.what << ": the member must be one libclamav types as mail; types " << all_types;
  }
}

TEST_F(ClamavShipped, OnMemberStopEndsTheWalk) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  write_file(dir.file("eicar.txt"), compressible_eicar());
  run_in(dir.path, "zip -q -9 inner.zip eicar.txt && zip -q -9 outer.zip inner.zip");
  std::string data = avsink::test::read_file(dir.file("outer.zip"));

  struct Case {
    const char *stop_at;  // nullptr = never stop
    size_t want_members;
    bool want_virus;
  };
  const Case cases[] = {{nullptr, 2, true}, {"inner.zip", 1, false}};
  for (const auto &c : cases) {
    std::vector<std::string> seen;
    ScanItem item;
    item.data = data;
    item.on_member = [&](const ContainerMember &m) {
      seen.push_back(m.path);
      return (c.stop_at != nullptr && m.path == c.stop_at) ? MemberDecision::kStop
                                                           : MemberDecision::kContinue;
    };
    Findings got = scan_ok(engine(), item);
    std::string stop = c.stop_at ? c.stop_at : "(none)";
    EXPECT_EQ(seen.size(), c.want_members) << "stop at " << stop;
    EXPECT_EQ(has(got, FindingKind::kVirus, "Eicar-Test-Signature"), c.want_virus)
        << "stop at " << stop << ": got " << describe(got);
  }
}

TEST_F(ClamavShipped, OnMemberExceptionIsAnError) {
  std::string data = avsink::test::read_file(std::string(kTestfiles) + "/clam.zip");
  if (data.empty()) GTEST_SKIP() << "clamav-testfiles not installed";
  ScanItem item;
  item.data = data;
  item.on_member = [](const ContainerMember &) -> MemberDecision {
    throw std::runtime_error("policy exploded");
  };
  auto r = engine().scan(item, Deadline());
  ASSERT_FALSE(r.ok()) << "got findings " << describe(*r) << ", want an error";
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_NE(r.error().message.find("policy exploded"), std::string::npos) << r.error().message;
}

// ---- open, status, reload ----

TEST_F(ClamavShipped, StatusCountsShippedSignatures) {
  auto st = engine().status();
  EXPECT_EQ(st.name, "clamav");
  EXPECT_EQ(st.signatures, 4u) << "3 in avsink-test.ndb + 1 in avsink-test.hsb";
  EXPECT_EQ(st.db_version, "avsink-shipped");
  EXPECT_GT(st.db_time, 0);
  EXPECT_GE(st.generation, 1u);
  ASSERT_EQ(st.sources.size(), 1u);
  EXPECT_EQ(st.sources[0].path, AVSINK_SOURCE_SIGNATURES_DIR);
  ASSERT_EQ(st.sources[0].files.size(), 2u);
  EXPECT_EQ(fs::path(st.sources[0].files[0].path).filename(), "avsink-test.hsb");
  EXPECT_EQ(fs::path(st.sources[0].files[1].path).filename(), "avsink-test.ndb");
  for (const auto &f : st.sources[0].files) EXPECT_EQ(f.sha256.size(), 64u) << f.path;
  EXPECT_EQ(ClamavEngine::library_version().substr(0, 2), "1.") << ClamavEngine::library_version();
}

TEST(ClamavEngine, OpenErrors) {
  TempDir dir{"avsink-clam-"};
  fs::create_directory(dir.file("empty-dir"));
  write_file(dir.file("empty.ndb"), "");
  write_file(dir.file("bad.ndb"), "# comment\nGood.Sig:0:*:414243444546474849\nBad.Sig:0:*:zz\n");
  write_file(dir.file("ok.ndb"), "Ok.Sig:0:*:414243444546474849\n");

  struct Case {
    const char *label;
    std::vector<std::string> dirs;
    ErrorCode want_code;
    std::string want_file;  // Error::file ends with this
    uint32_t want_line;
  };
  const Case cases[] = {
      {"nothing exists", {dir.file("missing-a"), dir.file("missing-b")}, ErrorCode::kConfig, "", 0},
      {"nothing configured", {}, ErrorCode::kConfig, "", 0},
      {"empty file", {dir.file("empty.ndb")}, ErrorCode::kEngine, "empty.ndb", 0},
      {"bad line", {dir.file("bad.ndb")}, ErrorCode::kEngine, "bad.ndb", 3},
      {"dir without databases", {dir.file("empty-dir")}, ErrorCode::kEngine, "empty-dir", 0},
  };
  for (const auto &c : cases) {
    ClamavOptions o;
    o.signature_dirs = c.dirs;
    o.load_system_db = false;
    auto r = ClamavEngine::open(o);
    ASSERT_FALSE(r.ok()) << c.label << ": opened, want an error";
    EXPECT_EQ(r.error().code, c.want_code) << c.label << ": " << r.error().describe();
    if (!c.want_file.empty()) {
      const std::string &f = r.error().file;
      EXPECT_TRUE(f.size() >= c.want_file.size() &&
                  f.compare(f.size() - c.want_file.size(), c.want_file.size(), c.want_file) == 0)
          << c.label << ": got file '" << f << "', want ..." << c.want_file;
    }
    EXPECT_EQ(r.error().line, c.want_line) << c.label << ": " << r.error().describe();
  }

  // A missing directory next to an existing one is skipped (installed + source tree layouts).
  ClamavOptions o;
  o.signature_dirs = {dir.file("missing"), dir.file("ok.ndb")};
  o.load_system_db = false;
  auto r = ClamavEngine::open(o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ((*r)->status().signatures, 1u);
}

TEST(ClamavEngine, TempDirHoldsTheUnpackingAndIsChecked) {
  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  fs::create_directory(dir.file("tmp"));
  write_file(dir.file("eicar.com"), avsink::test::eicar());
  run_in(dir.path, "zip -q in.zip eicar.com");
  ClamavOptions o = shipped_options();
  o.temp_dir = dir.file("tmp");
  auto r = ClamavEngine::open(o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // While libclamav walks the zip, its per-scan directory lives in temp_dir; afterwards it is gone.
  size_t entries_during_walk = 0;
  ScanItem item;
  const std::string data = avsink::test::read_file(dir.file("in.zip"));
  item.data = data;
  item.on_member = [&](const ContainerMember &) {
    for ([[maybe_unused]] const auto &e : fs::directory_iterator(dir.file("tmp")))
      ++entries_during_walk;
    return MemberDecision::kContinue;
  };
  Findings f = scan_ok(**r, item);
  EXPECT_FALSE(f.empty()) << "EICAR in a zip not found";
  EXPECT_GE(entries_during_walk, 1u) << "libclamav did not unpack into temp_dir";
  EXPECT_TRUE(fs::is_empty(dir.file("tmp"))) << "libclamav left files in temp_dir";

  // Not a directory, or missing: a config error naming the key.
  write_file(dir.file("plain"), "x");
  for (const std::string &bad : {dir.file("plain"), dir.file("missing")}) {
    o.temp_dir = bad;
    auto e = ClamavEngine::open(o);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::kConfig);
    EXPECT_NE(e.error().message.find("temp_dir"), std::string::npos) << e.error().describe();
  }
}

// libclamav's warnings during a scan reach the engine's logger (not stderr), marked as libclamav's.
TEST(ClamavEngine, LibclamavWarningsGoToTheLogger) {
  std::vector<std::string> lines;
  std::mutex mu;
  ClamavOptions o = shipped_options();
  o.logger = avsink::Logger(
      [&](avsink::LogLevel, const std::string &m) {
        std::lock_guard<std::mutex> lock(mu);
        lines.push_back(m);
      },
      avsink::LogLevel::kDebug);
  auto e = ClamavEngine::open(o);
  ASSERT_TRUE(e.ok()) << e.error().describe();
  // A zlib-compressed SWF whose header declares 100000 bytes; the stream holds 54 bytes of "x".
  const std::string swf = std::string("CWS\x0a\xa0\x86\x01\x00", 8) +
                          std::string("\x78\x9c\xab\xa8\x20\x07\x00\x00\xb8\x6c\x19\x51", 12);
  ScanItem item;
  item.data = swf;
  scan_ok(**e, item);
  bool seen = false;
  for (const auto &l : lines) seen |= l.rfind("libclamav: SWF:", 0) == 0;
  EXPECT_TRUE(seen) << "no libclamav warning logged (" << lines.size() << " lines)";
}

TEST(ClamavEngine, SystemDatabaseLoadedOnlyWhenItHoldsDatabases) {
  TempDir sys{"avsink-clam-"};
  ClamavOptions o = shipped_options();
  o.load_system_db = true;
  o.system_db_dir = sys.path;  // exists, but holds no database: skipped
  write_file(sys.file("freshclam.dat"), "not a database");
  auto r = ClamavEngine::open(o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ((*r)->status().sources.size(), 1u);

  write_file(sys.file("local.ndb"), ndb_line("Local.Sig", "LOCAL-SIG-1"));
  ASSERT_TRUE((*r)->reload().ok());
  auto st = (*r)->status();
  ASSERT_EQ(st.sources.size(), 2u);
  EXPECT_EQ(st.sources[1].path, sys.path);
  EXPECT_EQ(st.signatures, 5u);
  Findings got = scan_bytes(**r, "xx LOCAL-SIG-1 yy");
  EXPECT_TRUE(has(got, FindingKind::kVirus, "Local.Sig")) << "got " << describe(got);
}

TEST(ClamavEngine, ReloadKeepsOldEngineOnBrokenFile) {
  TempDir extra{"avsink-clam-"};
  ClamavOptions o = shipped_options();
  o.signature_dirs.push_back(extra.path);
  write_file(extra.file("site.ndb"), ndb_line("Site.One", "SITE-ONE-SIGNATURE"));
  auto opened = ClamavEngine::open(o);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  ClamavEngine &engine = **opened;
  const uint64_t gen = engine.status().generation;
  EXPECT_EQ(gen, 1u);

  write_file(extra.file("broken.ndb"),
             ndb_line("Broken.One", "BROKEN-ONE-OK-LINE") + "this is not a signature\n");
  auto r = engine.reload();
  ASSERT_FALSE(r.ok()) << "reload accepted a broken file";
  EXPECT_EQ(r.error().code, ErrorCode::kEngine);
  EXPECT_EQ(r.error().file, extra.file("broken.ndb")) << r.error().describe();
  EXPECT_EQ(r.error().line, 2u) << r.error().describe();
  EXPECT_NE(r.error().describe().find("broken.ndb:2:"), std::string::npos) << r.error().describe();

  EXPECT_EQ(engine.status().generation, gen) << "generation moved on a failed reload";
  Findings got = scan_bytes(engine, avsink::test::eicar());
  EXPECT_TRUE(has(got, FindingKind::kVirus, "Eicar-Test-Signature"))
      << "old engine lost: got " << describe(got);
  got = scan_bytes(engine, "xx SITE-ONE-SIGNATURE xx");
  EXPECT_TRUE(has(got, FindingKind::kVirus, "Site.One")) << "got " << describe(got);
}

TEST(ClamavEngine, ReloadPicksUpNewSignature) {
  TempDir extra{"avsink-clam-"};
  ClamavOptions o = shipped_options();
  o.signature_dirs.push_back(extra.path);
  write_file(extra.file("site.ndb"), ndb_line("Site.One", "SITE-ONE-SIGNATURE"));
  auto opened = ClamavEngine::open(o);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  ClamavEngine &engine = **opened;
  const std::string sample = "payload NEW-OUTBREAK-2026 payload";

  Findings before = scan_bytes(engine, sample);
  EXPECT_TRUE(before.empty()) << "got " << describe(before) << " before the new signature";
  write_file(extra.file("outbreak.ndb"), ndb_line("Site.Outbreak", "NEW-OUTBREAK-2026"));
  ASSERT_TRUE(engine.reload().ok());
  auto st = engine.status();
  EXPECT_EQ(st.generation, 2u);
  EXPECT_EQ(st.signatures, 6u);
  Findings after = scan_bytes(engine, sample);
  EXPECT_TRUE(has(after, FindingKind::kVirus, "Site.Outbreak"))
      << "got " << describe(after) << " after reload";
}

TEST(ClamavEngine, ConcurrentScansDuringReloads) {
  auto opened = ClamavEngine::open(shipped_options());
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  ClamavEngine &engine = **opened;
  const std::string eicar = avsink::test::eicar();
  const std::string clean = "just some ordinary text for the scanner\n";
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> scans{0};

  std::vector<std::thread> scanners;
  for (int t = 0; t < 4; ++t) {
    scanners.emplace_back([&] {
      while (!done.load()) {
        for (int infected = 0; infected < 2; ++infected) {
          ScanItem item;
          item.data = infected ? eicar : clean;
          auto r = engine.scan(item, Deadline::after_ms(10000));
          bool ok = r.ok() &&
                    (infected ? has(*r, FindingKind::kVirus, "Eicar-Test-Signature") : r->empty());
          if (!ok) failures.fetch_add(1);
          scans.fetch_add(1);
        }
      }
    });
  }
  int reload_failures = 0;
  for (int i = 0; i < 20; ++i) {
    if (!engine.reload().ok()) ++reload_failures;
  }
  // Let the scanners run on the final generation too.
  while (scans.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done = true;
  for (auto &t : scanners) t.join();
  EXPECT_EQ(reload_failures, 0);
  EXPECT_EQ(failures.load(), 0) << "of " << scans.load() << " scans";
  EXPECT_EQ(engine.status().generation, 21u);
}

}  // namespace

namespace {

// libclamav skips a leading ID3v2 tag; the engine must still see what hides inside it.
TEST(ClamavEngineId3, PayloadInsideALeadingId3TagIsFound) {
  avsink::engines::ClamavOptions o;
  o.signature_dirs = {std::string(AVSINK_SOURCE_DIR) + "/signatures"};
  o.load_system_db = false;
  auto e = avsink::engines::ClamavEngine::open(o);
  ASSERT_TRUE(e.ok()) << e.error().describe();
  // "ID3", version 3.0, no flags, syncsafe size 0x7f7f7f7f: everything after is "tag".
  std::string data = std::string("ID3\x03\x00\x00\x7f\x7f\x7f\x7f", 10) + "padding " +
                     std::string("AVSINK-TEST-") + "MARKER-7f3c9e" + " more";
  avsink::engines::ScanItem item;
  item.data = data;
  auto r = (*e)->scan(item, avsink::Deadline());
  ASSERT_TRUE(r.ok()) << r.error().describe();
  bool found = false;
  for (const auto &f : *r) found |= f.name == "Avsink.Test.Marker";
  EXPECT_TRUE(found) << "marker inside an ID3 tag was not found";
}

// Every magic libclamav's built-in types skip (CL_TYPE_IGNORED): a marker behind it is still found,
// and so is an EICAR zip behind it (unzippers open a zip with data prepended), with its members.
TEST_F(ClamavShipped, NothingHidesBehindAnIgnoredTypeMagic) {
  using namespace std::string_literals;
  const std::vector<std::pair<std::string, std::string>> prefixes = {
      {"MPEG video", "\x00\x00\x01\xb3"s},
      {"MPEG system", "\x00\x00\x01\xba"s},
      {"RealMedia", ".RMF"s},
      {"ID3", "ID3"s},
      {"Ogg", "OggS"s},
      {"MP3 frame", "\xff\xfb\x90"s},
      {"SIP log", "SIP-HIT (SIP/H"s},
      {"Symantec", "SYMC\x01\x00"s},
      {"SQLite WAL 1", "\x37\x7f\x06\x82\x00\x2d\xe2\x18"s},
      {"SQLite WAL 2", "\x37\x7f\x06\x83\x00\x2d\xe2\x18"s},
      {"SQLite", "SQLite format 3\x00"s},
      {"SQLite journal", "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"s},
      {"PDF image at 100", std::string(100, 'x') + "/RGB\nID\n" + std::string(24, '\xff')},
  };
  for (const auto &[label, prefix] : prefixes) {
    EXPECT_NE(avsink::engines::ignored_type_offset(prefix + "tail"), std::string_view::npos)
        << label;
    const std::string data = prefix + " padding " + kMarker + " more";
    ScanItem item;
    item.data = data;
    Findings f = scan_ok(engine(), item);
    EXPECT_TRUE(has(f, FindingKind::kVirus, "Avsink.Test.Marker"))
        << label << ": got " << describe(f);
  }
  EXPECT_EQ(avsink::engines::ignored_type_offset("plain text"), std::string_view::npos);
  EXPECT_EQ(avsink::engines::ignored_type_offset(std::string(129, 'x') + "/RGB\nID\n" +
                                                 std::string(24, '\xff')),
            std::string_view::npos);

  if (!have_zip()) GTEST_SKIP() << "zip not installed";
  TempDir dir{"avsink-clam-"};
  write_file(dir.file("eicar.com"), avsink::test::eicar());
  run_in(dir.path, "zip -q in.zip eicar.com");
  const std::string data = "OggS" + avsink::test::read_file(dir.file("in.zip"));
  std::vector<std::string> members;
  ScanItem item;
  item.data = data;
  item.on_member = [&members](const ContainerMember &m) {
    members.push_back(m.path);
    return MemberDecision::kContinue;
  };
  Findings f = scan_ok(engine(), item);
  EXPECT_TRUE(has(f, FindingKind::kVirus, "Eicar-Test-Signature"))
      << "zip behind OggS: " << describe(f);
  EXPECT_NE(std::find(members.begin(), members.end(), "eicar.com"), members.end())
      << "the hidden zip's members were not reported";

  // Inside an archive: a deflated member "OggS" + marker (its bytes appear nowhere in the zip), and
  // a member "OggS" + a zip holding setup.exe, whose members must be reported under it.
  write_file(dir.file("a.ogg"), "OggS" + std::string(4000, 'p') + kMarker + std::string(4000, 'q'));
  write_file(dir.file("setup.exe"), std::string("MZ\x90\x00\x03\x00\x00\x00\x04", 9));
  run_in(dir.path, "zip -q inner.zip setup.exe");
  write_file(dir.file("b.ogg"), "OggS" + avsink::test::read_file(dir.file("inner.zip")));
  run_in(dir.path, "zip -q -9 outer.zip a.ogg b.ogg");
  const std::string outer = avsink::test::read_file(dir.file("outer.zip"));
  ASSERT_EQ(outer.find(kMarker), std::string::npos) << "the marker must be deflated";
  members.clear();
  item.data = outer;
  f = scan_ok(engine(), item);
  EXPECT_TRUE(has(f, FindingKind::kVirus, "Avsink.Test.Marker"))
      << "member behind OggS: " << describe(f);
  EXPECT_NE(std::find(members.begin(), members.end(), "b.ogg/setup.exe"), members.end())
      << "members of a zip behind OggS inside a zip were not reported";
}

}  // namespace

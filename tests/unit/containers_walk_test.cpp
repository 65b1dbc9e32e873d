// containers_walk_test.cpp - the container walk on its own: every limit at limit-1, limit and
// limit+1 (members, depth, member bytes, all bytes, compression ratio), readings and TNEF.
#include <gtest/gtest.h>

#include <lzma.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "containers/tnef.h"
#include "containers/walk.h"
#include "test_support.h"

namespace {

using avsink::Deadline;
using avsink::Limits;
using avsink::containers::Member;
using avsink::containers::problem_name;
using avsink::containers::read_tnef;
using avsink::containers::Reason;
using avsink::containers::walk;
using avsink::containers::WalkResult;
using avsink::test::put16;
using avsink::test::put32;
using avsink::test::stored_zip;
using avsink::test::tnef_attr;

struct Walked {
  WalkResult result;
  std::vector<Member> members;  // copies, data dropped
  bool has(Reason r) const {
    for (const auto &p : result.problems)
      if (p.reason == r) return true;
    return false;
  }
  std::string describe() const {
    std::string out;
    for (const auto &m : members) out += "\n  member " + m.path;
    for (const auto &p : result.problems)
      out += "\n  " + std::string(problem_name(p.reason)) + " at \"" + p.path + "\": " + p.detail;
    return out.empty() ? "(nothing)" : out;
  }
};

Walked run(const std::string &data, const Limits &limits) {
  Walked w;
  w.result = walk(data, limits, Deadline(), [&w](const Member &m) {
    Member copy = m;
    copy.data = {};
    w.members.push_back(copy);
  });
  return w;
}

std::string zip_of_files(uint32_t n) {
  std::vector<std::pair<std::string, std::string>> m;
  for (uint32_t i = 0; i < n; ++i) m.emplace_back("f" + std::to_string(i) + ".txt", "x");
  return stored_zip(m);
}

// Members at depth n: zips nested n deep around one file.
std::string nested(uint32_t n) {
  std::string z = stored_zip({{"leaf.txt", "hello"}});
  for (uint32_t i = 1; i < n; ++i) z = stored_zip({{"z" + std::to_string(i) + ".zip", z}});
  return z;
}

TEST(ContainersWalk, EveryLimitAtMinusOneExactlyAndPlusOne) {
  struct Case {
    const char *name;
    uint32_t limit;
    Reason reason;
    void (*set)(Limits &, uint32_t);
    std::string (*make)(uint32_t);
  } cases[] = {
      {"max_archive_files", 8, Reason::kFiles,
       [](Limits &l, uint32_t v) { l.max_archive_files = v; }, zip_of_files},
      // Members at depth < max_archive_recursion are listed (ClamAV's MaxRecursion meaning).
      {"max_archive_recursion", 4, Reason::kRecursion,
       [](Limits &l, uint32_t v) { l.max_archive_recursion = v; },
       [](uint32_t n) { return nested(n - 1); }},
      {"max_file_bytes", 2048, Reason::kFileBytes,
       [](Limits &l, uint32_t v) { l.max_file_bytes = v; },
       [](uint32_t n) {
         return stored_zip({{"a.bin", std::string(n, 'a')}});
       }},
      {"max_decoded_bytes", 4096, Reason::kDecodedBytes,
       [](Limits &l, uint32_t v) { l.max_decoded_bytes = v; },
       [](uint32_t n) {
         return stored_zip(
             {{"a.bin", std::string(n / 2, 'a')}, {"b.bin", std::string(n - n / 2, 'b')}});
       }},
  };
  for (const auto &c : cases) {
    Limits limits;
    c.set(limits, c.limit);
    for (uint32_t n : {c.limit - 1, c.limit}) {
      Walked w = run(c.make(n), limits);
      EXPECT_TRUE(w.result.problems.empty())
          << c.name << " at " << n << " (limit " << c.limit << "): got " << w.describe();
    }
    Walked w = run(c.make(c.limit + 1), limits);
    EXPECT_TRUE(w.has(c.reason)) << c.name << " at limit+1: want " << problem_name(c.reason)
                                 << ", got " << w.describe();
  }
}

// A deflated zip of `n` x 32768 zero bytes, padded by its archive comment to exactly 32768
// bytes: its compression ratio is exactly n.
std::string zip_with_ratio(uint32_t n) {
  constexpr size_t kSize = 32768;
  const std::string dir = avsink::test::make_temp_dir("avsink-ratio");
  {
    std::ofstream zeros(dir + "/zeros.bin", std::ios::binary);
    zeros << std::string(size_t(n) * kSize, '\0');
  }
  const std::string cmd = "cd '" + dir + "' && zip -q -9 z.zip zeros.bin";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string z = avsink::test::read_file(dir + "/z.zip");
  std::filesystem::remove_all(dir);
  EXPECT_LT(z.size(), kSize);
  if (z.size() < 22 || z.size() >= kSize) return z;
  const size_t pad = kSize - z.size();
  std::string len;
  put16(len, static_cast<uint32_t>(pad));
  z.replace(z.size() - 2, 2, len);  // the end record's comment length (it had no comment)
  z += std::string(pad, 'c');
  return z;
}

TEST(ContainersWalk, CompressionRatioAtMinusOneExactlyAndPlusOne) {
  Limits limits;
  limits.max_compression_ratio = 64;  // 64 x 32 KiB = 2 MiB, past the 1 MiB floor
  for (uint32_t n : {63u, 64u}) {
    Walked w = run(zip_with_ratio(n), limits);
    EXPECT_FALSE(w.has(Reason::kRatio)) << "ratio " << n << ": " << w.describe();
    ASSERT_EQ(w.members.size(), 1u) << w.describe();
    EXPECT_TRUE(w.members[0].extracted) << "ratio " << n;
  }
  Walked w = run(zip_with_ratio(65), limits);
  EXPECT_TRUE(w.has(Reason::kRatio)) << w.describe();
  ASSERT_EQ(w.members.size(), 1u) << w.describe();
  EXPECT_EQ(w.members[0].path, "zeros.bin") << "the name is still listed";
  EXPECT_FALSE(w.members[0].extracted) << "past the ratio the bytes are not kept";
}

TEST(ContainersWalk, RatioFloorSparesSmallOutput) {
  // 1 MiB of zeros compresses about 1000:1; at the floor it is not measured at all.
  Limits limits;
  limits.max_compression_ratio = 2;
  Walked w = run(stored_zip({{"a.txt", "x"}}), limits);
  EXPECT_TRUE(w.result.problems.empty()) << w.describe();
}

TEST(ContainersWalk, NotContainersAndJunk) {
  const Limits limits;
  for (const std::string &plain :
       {std::string("hello world\r\n"), std::string(5000, 'A'), std::string("MZ\x90\0\x03", 5)}) {
    Walked w = run(plain, limits);
    EXPECT_FALSE(w.result.container) << w.describe();
    EXPECT_TRUE(w.members.empty() && w.result.problems.empty()) << w.describe();
  }
  // Starts like a zip, nothing listable: noted, not unscannable.
  Walked junk = run(std::string("PK\x03\x04", 4) + std::string(200, '\xee'), limits);
  ASSERT_EQ(junk.result.problems.size(), 1u) << junk.describe();
  EXPECT_FALSE(junk.result.problems[0].unscannable) << junk.describe();
  // A real zip cut short after its first member: unscannable.
  const std::string z =
      stored_zip({{"a.txt", std::string(100, 'a')}, {"b.txt", std::string(5000, 'b')}});
  Walked cut = run(z.substr(0, 300), limits);
  EXPECT_TRUE(cut.has(Reason::kCorrupt)) << cut.describe();
  for (const auto &p : cut.result.problems) EXPECT_TRUE(p.unscannable) << cut.describe();
}

TEST(ContainersWalk, CpioNameSizeBeyondTheDataIsNotHandedToLibarchive) {
  // libarchive would allocate a read-ahead buffer of the name size first (4 GiB here; found by
  // fuzz_containers, seed tests/data/fuzz/containers/cpio-name-size-2g).
  std::string h = "070701";
  for (int field = 0; field < 13; ++field) h += field == 11 ? "FFFFFF00" : "00000000";
  h += "a.txt";
  Walked w = run(h + std::string(64, '\0'), Limits());
  ASSERT_TRUE(w.has(Reason::kCorrupt)) << w.describe();
  EXPECT_NE(w.result.problems[0].detail.find("name size"), std::string::npos) << w.describe();
  // A sane header of the same shape is listed.
  std::string ok = "070701";
  for (int field = 0; field < 13; ++field) ok += field == 11 ? "00000006" : "00000000";
  ok += std::string("a.txt") + '\0';
  ok += std::string((4 - ok.size() % 4) % 4, '\0');
  std::string trailer = "070701";
  for (int field = 0; field < 13; ++field) trailer += field == 11 ? "0000000B" : "00000000";
  trailer += std::string("TRAILER!!!") + '\0';
  Walked good = run(ok + trailer + std::string(512, '\0'), Limits());
  EXPECT_FALSE(good.has(Reason::kCorrupt)) << good.describe();
  ASSERT_EQ(good.members.size(), 1u) << good.describe();
  EXPECT_EQ(good.members[0].path, "a.txt");

  // The same huge name in a header one byte off the chain of headers: libarchive resynchronises
  // on the magic and found it (2.5 GB; fuzz_containers with the CI seed). Every header counts.
  std::string off_chain = "070701";
  for (int field = 0; field < 13; ++field) off_chain += field == 11 ? "10000000" : "00000000";
  Walked off = run(ok + '\0' + off_chain + "a.txt" + std::string(64, '\0'), Limits());
  ASSERT_TRUE(off.has(Reason::kCorrupt)) << off.describe();
  EXPECT_NE(off.result.problems[0].detail.find("name size"), std::string::npos) << off.describe();

  // "TRAILER!!!" without its NUL (name size 10) ends nothing for libarchive, which reads on into
  // the next header (2.5 GB asked for; fuzz_containers, seed
  // regression-cpio-trailer-without-nul.cpio). Only the 11-byte name is the trailer.
  std::string fake = "070701";
  for (int field = 0; field < 13; ++field) fake += field == 11 ? "0000000A" : "00000000";
  fake += "TRAILER!!!";
  Walked no_nul = run(fake + off_chain + "a.txt" + std::string(64, '\0'), Limits());
  ASSERT_TRUE(no_nul.has(Reason::kCorrupt)) << no_nul.describe();
  EXPECT_NE(no_nul.result.problems[0].detail.find("name size"), std::string::npos)
      << no_nul.describe();
}

// Walks `data` in a child process and returns how far the child's resident set grew (KiB), so
// that earlier tests' peaks cannot hide the growth; `reason` = the first problem's reason + 1
// (0 = none).
uint64_t walk_growth_kib(const std::string &data, const Limits &limits, int &reason) {
  int fds[2];
  if (pipe(fds) != 0) return UINT64_MAX;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    const WalkResult r = walk(data, limits, Deadline(), [](const Member &) {});
    getrusage(RUSAGE_SELF, &after);
    const uint64_t out[2] = {
        static_cast<uint64_t>(after.ru_maxrss - before.ru_maxrss),
        r.problems.empty() ? 0u : static_cast<uint64_t>(r.problems[0].reason) + 1};
    const bool sent = write(fds[1], out, sizeof out) == static_cast<ssize_t>(sizeof out);
    _exit(sent ? 0 : 1);
  }
  close(fds[1]);
  uint64_t in[2] = {UINT64_MAX, 0};
  const bool got = pid > 0 && read(fds[0], in, sizeof in) == static_cast<ssize_t>(sizeof in);
  close(fds[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  reason = got ? static_cast<int>(in[1]) : -1;
  return got ? in[0] : UINT64_MAX;
}

TEST(ContainersWalk, SevenZipEncodedHeaderIsBoundedBeforeLibarchiveDecodesIt) {
  // 9.6 KB whose LZMA-packed header decodes to 64 MiB of one property: libarchive 3.6.2 decodes
  // the whole header into memory before it lists a member (a 74 KB one held 512 MiB).
  // tests/data/regressions/make_7z_header_bomb.py wrote it.
  const std::string bomb =
      avsink::test::read_file(avsink::test::data_path("regressions/7z-encoded-header-64mib.7z"));
  ASSERT_GT(bomb.size(), 1000u);
  int reason = 0;
  const uint64_t grew = walk_growth_kib(bomb, Limits(), reason);
  EXPECT_LT(grew, 16u << 10) << "the listing decoded the header";
  EXPECT_EQ(reason, static_cast<int>(Reason::kRatio) + 1);
  Walked w = run(bomb, Limits());
  ASSERT_TRUE(w.has(Reason::kRatio)) << w.describe();
  EXPECT_NE(w.result.problems[0].detail.find("67108872"), std::string::npos) << w.describe();
  EXPECT_TRUE(w.members.empty()) << w.describe();

  // Past max_file_bytes, that is the limit named.
  Limits small;
  small.max_file_bytes = 32u << 20;
  small.max_compression_ratio = 100000;
  const Walked over = run(bomb, small);
  EXPECT_TRUE(over.has(Reason::kFileBytes)) << over.describe();
  // Within both limits, libarchive reads it (and finds no member in it).
  Limits roomy;
  roomy.max_compression_ratio = 100000;
  const Walked within = run(bomb, roomy);
  EXPECT_FALSE(within.has(Reason::kRatio) || within.has(Reason::kFileBytes)) << within.describe();

  // libarchive 3.6.2 reads a start header at offset 0 even when its CRC fails: so does the check.
  std::string bad_crc = bomb;
  bad_crc[8] = static_cast<char>(bad_crc[8] ^ 0xff);
  EXPECT_TRUE(run(bad_crc, Limits()).has(Reason::kRatio)) << run(bad_crc, Limits()).describe();

  // In a self-extractor (PE stub, 7z at 0x27000), the same; one whose start header's CRC fails
  // is passed over by libarchive's SFX search, and by the check.
  const std::string stub = "MZ" + std::string(0x27000 - 2, '\0');
  EXPECT_TRUE(run(stub + bomb, Limits()).has(Reason::kRatio))
      << run(stub + bomb, Limits()).describe();
  const uint64_t sfx_grew = walk_growth_kib(stub + bomb, Limits(), reason);
  EXPECT_LT(sfx_grew, 16u << 10) << "the listing decoded the self-extractor's header";
  EXPECT_FALSE(run(stub + bad_crc, Limits()).has(Reason::kRatio))
      << run(stub + bad_crc, Limits()).describe();
}

// 7z's variable-length number (7zFormat.txt).
std::string sz_number(uint64_t v) {
  for (int n = 0; n < 8; ++n) {
    if (v < (uint64_t{1} << (7 * (n + 1)))) {
      std::string out(1, static_cast<char>(((0xff << (8 - n)) & 0xff) | (v >> (8 * n))));
      for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
      return out;
    }
  }
  std::string out(1, '\xff');
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

uint32_t crc32_of(std::string_view d) {
  return static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef *>(d.data()), d.size()));
}

// A 7z archive: `packed` after the start header, then `next` (the header or encoded header).
std::string sevenzip(const std::string &packed, const std::string &next) {
  std::string start;
  auto le = [&start](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) start += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  le(packed.size(), 8);
  le(next.size(), 8);
  le(crc32_of(next), 4);
  std::string out("7z\xbc\xaf\x27\x1c\x00\x04", 8);
  const uint32_t crc = crc32_of(start);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
  return out + start + packed + next;
}

// A header declaring `files` files, all empty (no streams needed): what libarchive allocates
// and walks ~80 bytes for, each.
std::string empty_files_header(uint64_t files) {
  const std::string bits((files + 7) / 8, '\xff');
  return "\x01\x05" + sz_number(files) + "\x0e" + sz_number(bits.size()) + bits +
         std::string("\x00\x00", 2);
}

// `header` packed with raw LZMA (7-Zip's header coder, id 03 01 01), as an encoded header.
std::string lzma_encoded(const std::string &header) {
  lzma_options_lzma opt{};
  lzma_lzma_preset(&opt, 1);
  opt.dict_size = 1u << 16;
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  std::string packed(header.size() + header.size() / 2 + 4096, '\0');
  size_t out = 0;
  EXPECT_EQ(lzma_raw_buffer_encode(filters, nullptr,
                                   reinterpret_cast<const uint8_t *>(header.data()), header.size(),
                                   reinterpret_cast<uint8_t *>(packed.data()), &out, packed.size()),
            LZMA_OK);
  packed.resize(out);
  uint32_t props_size = 0;
  lzma_properties_size(&props_size, &filters[0]);
  std::string props(props_size, '\0');
  lzma_properties_encode(&filters[0], reinterpret_cast<uint8_t *>(props.data()));
  const std::string next = "\x17\x06" + sz_number(0) + sz_number(1) + "\x09" +
                           sz_number(packed.size()) + std::string("\x00\x07\x0b", 3) +
                           sz_number(1) + std::string("\x00\x01\x23\x03\x01\x01", 6) +
                           sz_number(props.size()) + props + "\x0c" + sz_number(header.size()) +
                           std::string("\x00\x00", 2);
  return sevenzip(packed, next);
}

TEST(ContainersWalk, SevenZipFileCountIsBoundedBeforeLibarchiveAllocatesForIt) {
  // libarchive allocates and walks an entry per declared file before listing the first: a
  // 1.25 MB archive declaring 10 million empty files held 878 MB for 10 s (100 million, its own
  // limit, would be 8 GB). The count is held to max_archive_files first, also inside an
  // LZMA-packed header, where 1 million fit in a few KB.
  const std::string plain = sevenzip("", empty_files_header(1000000));
  int reason = 0;
  const uint64_t grew = walk_growth_kib(plain, Limits(), reason);
  EXPECT_LT(grew, 16u << 10) << "libarchive allocated for the declared files";
  EXPECT_EQ(reason, static_cast<int>(Reason::kFiles) + 1);
  const std::string packed = lzma_encoded(empty_files_header(1000000));
  EXPECT_LT(packed.size(), 64u << 10);
  const Walked p = run(packed, Limits());
  ASSERT_TRUE(p.has(Reason::kFiles)) << p.describe();
  EXPECT_NE(p.result.problems[0].detail.find("1000000"), std::string::npos) << p.describe();
  EXPECT_LT(walk_growth_kib(packed, Limits(), reason), 16u << 10);

  // At the limit, libarchive reads it (its members have no names, which the listing reports);
  // one past it is refused.
  Limits hundred;
  hundred.max_archive_files = 100;
  for (const std::string &a :
       {sevenzip("", empty_files_header(100)), lzma_encoded(empty_files_header(100))}) {
    const Walked at = run(a, hundred);
    EXPECT_FALSE(at.has(Reason::kFiles)) << at.describe();
    for (const auto &pr : at.result.problems)
      EXPECT_EQ(pr.detail.find("7-Zip header"), std::string::npos) << at.describe();
  }
  for (const std::string &a :
       {sevenzip("", empty_files_header(101)), lzma_encoded(empty_files_header(101))}) {
    const Walked over = run(a, hundred);
    EXPECT_TRUE(over.has(Reason::kFiles)) << over.describe();
  }

  // Unpacked streams are counted the same way (they take no header bytes either).
  const std::string streams = "\x01\x04\x06" + sz_number(0) + sz_number(1) + "\x09" + sz_number(1) +
                              std::string("\x00\x07\x0b\x01\x00\x01\x01\x00\x0c", 9) +
                              sz_number(1) + std::string("\x00\x08\x0d", 3) + sz_number(50000000) +
                              std::string("\x00\x00\x00", 3);
  const Walked s = run(sevenzip("x", streams), Limits());
  EXPECT_TRUE(s.has(Reason::kFiles)) << s.describe();

  // A header packed with a method avsink does not unpack (BZip2 here) cannot be checked: it is
  // refused, never handed over unread.
  std::string bzip = lzma_encoded(empty_files_header(10));
  const size_t id = bzip.find(std::string("\x23\x03\x01\x01", 4));
  ASSERT_NE(id, std::string::npos);
  bzip.replace(id, 4, std::string("\x23\x04\x02\x02", 4));
  const Walked b = run(bzip, Limits());
  EXPECT_TRUE(b.has(Reason::kUnsupportedMethod)) << b.describe();
}

// A 7z holding one file, `name` (ASCII), stored (Copy coder), with the attribute word `attrib`
// (0x8000 | mode << 16: a Unix mode, as p7zip writes it).
std::string stored_sevenzip(const std::string &name, const std::string &data, uint32_t attrib) {
  std::string name16;
  for (char c : name) name16 += std::string{c, '\0'};
  name16 += std::string(2, '\0');
  std::string attr("\x01\x00", 2);
  for (int i = 0; i < 4; ++i) attr += static_cast<char>((attrib >> (8 * i)) & 0xff);
  const std::string header =
      "\x01\x04\x06" + sz_number(0) + sz_number(1) + "\x09" + sz_number(data.size()) +
      std::string("\x00\x07\x0b\x01\x00\x01\x01\x00\x0c", 9) + sz_number(data.size()) +
      std::string("\x00\x08\x00\x00\x05", 5) + sz_number(1) + "\x11" +
      sz_number(name16.size() + 1) + std::string(1, '\0') + name16 + "\x15" +
      sz_number(attr.size()) + attr + std::string("\x00\x00", 2);
  return sevenzip(data, header);
}

TEST(ContainersWalk, SevenZipEntriesOfEveryTypeHaveTheirDataRead) {
  // 7-Zip extracts an entry's data whatever Unix type its attributes name (a directory, fifo,
  // device or socket with data is written as a file; a symbolic link, where links are not made,
  // as a file holding its target). The walk reads each such entry's data as a member's.
  const std::string payload = "an executable's bytes, stood in for by text";
  std::vector<std::pair<const char *, uint32_t>> types = {{"file", 0100644}, {"dir", 040755},
                                                          {"fifo", 010644},  {"chr", 020644},
                                                          {"sock", 0140644}, {"link", 0120777}};
  for (const auto &[what, mode] : types) {
    const std::string archive = stored_sevenzip("notes.txt", payload, 0x8000u | (mode << 16));
    std::vector<std::string> seen;
    WalkResult r = walk(archive, Limits(), Deadline(), [&seen](const Member &m) {
      if (m.extracted) seen.emplace_back(m.data);
    });
    EXPECT_EQ(seen, std::vector<std::string>{payload})
        << what << ": " << run(archive, Limits()).describe();
    EXPECT_TRUE(r.problems.empty()) << what << ": " << run(archive, Limits()).describe();
  }
}

TEST(ContainersWalk, SevenZipWithADamagedStartHeaderIsCorruptNotJunk) {
  // libarchive lists nothing from a 7z whose start header is zeroed; 7-Zip searches for the
  // real header and extracts the members. Never a clean listing of nothing.
  std::string archive = stored_sevenzip("setup.exe", "MZ and the rest", 0x20);
  ASSERT_TRUE(run(archive, Limits()).result.problems.empty()) << run(archive, Limits()).describe();
  std::fill(archive.begin() + 8, archive.begin() + 32, '\0');
  const Walked w = run(archive, Limits());
  EXPECT_TRUE(w.has(Reason::kCorrupt)) << w.describe();
  // An empty archive (the start header alone, naming no header) is not damaged.
  const std::string empty = sevenzip("", "");
  EXPECT_FALSE(run(empty, Limits()).has(Reason::kCorrupt)) << run(empty, Limits()).describe();
}

// One ustar header block for `name` of `type` and `size`, checksum filled in, then `data` padded
// to the block size.
std::string tar_entry(const std::string &name, char type, const std::string &data) {
  std::string h(512, '\0');
  h.replace(0, std::min<size_t>(name.size(), 100), name.substr(0, 100));
  h.replace(100, 7, "0000644");
  char size[13];
  std::snprintf(size, sizeof size, "%011o", static_cast<unsigned>(data.size()));
  h.replace(124, 11, size);
  h.replace(136, 11, "00000000000");
  h[156] = type;
  h.replace(257, 8,
            std::string("ustar\0"
                        "00",
                        8));
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  h.replace(148, 7, std::string(chk, 6) + '\0');
  return h + data + std::string((512 - data.size() % 512) % 512, '\0');
}

std::string pax_record(const std::string &key, const std::string &value) {
  const std::string body = " " + key + "=" + value + "\n";
  size_t n = body.size() + 1;
  while (std::to_string(n).size() + body.size() != n) ++n;
  return std::to_string(n) + body;
}

TEST(ContainersWalk, TarHeadersAreAlsoReadAsGnuTarAndTarfileReadThem) {
  // libarchive takes a Solaris ACL entry ("A") for metadata of the next entry, skips a volume
  // header ("V", and calls a tar that starts with one damaged), ignores a pax global path and
  // prefers a GNU longname to a pax path; GNU tar and Python's tarfile extract the first two as
  // files and name entries by the others. Every such name is judged, every such data read.
  const std::string payload = "an executable's bytes, stood in for by text";
  const std::string end(1024, '\0');
  struct Case {
    const char *what;
    std::string tar;
    bool data;  // setup.exe comes with the payload as its bytes
  } cases[] = {
      {"Solaris ACL entry",
       tar_entry("setup.exe", 'A', payload) + tar_entry("readme.txt", '0', "hello\n") + end, true},
      {"volume header first",
       tar_entry("setup.exe", 'V', payload) + tar_entry("readme.txt", '0', "hello\n") + end, true},
      {"pax global path",
       tar_entry("pax_global", 'g', pax_record("path", "setup.exe")) +
           tar_entry("readme.txt", '0', payload) + end,
       false},
      {"longname, then a pax path",
       tar_entry("././@LongLink", 'L', std::string("notes.txt\0", 10)) +
           tar_entry("PaxHeader", 'x', pax_record("path", "setup.exe")) +
           tar_entry("notes.txt", '0', payload) + end,
       false},
  };
  // gzip of `d` (zlib with the gzip wrapper).
  auto gzip = [](const std::string &d) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(d.size() + 1024, '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(d.data()));
    z.avail_in = static_cast<uInt>(d.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  };
  std::vector<Case> all(std::begin(cases), std::end(cases));
  for (const auto &c : cases) all.push_back({c.what, gzip(c.tar), c.data});  // and as .tar.gz
  for (const auto &c : all) {
    std::vector<std::pair<std::string, std::string>> seen;
    walk(c.tar, Limits(), Deadline(), [&seen](const Member &m) {
      seen.emplace_back(m.name, m.extracted ? std::string(m.data) : std::string("<name only>"));
    });
    const auto it = std::find_if(seen.begin(), seen.end(),
                                 [](const auto &p) { return p.first == "setup.exe"; });
    ASSERT_NE(it, seen.end()) << c.what << ": " << run(c.tar, Limits()).describe();
    if (c.data) {
      EXPECT_EQ(it->second, payload) << c.what;
    }
  }

  // An ordinary tar, GNU long names and pax paths included, gives no member twice.
  const std::string long_name = std::string(120, 'd') + "/report.pdf";
  const std::string plain = tar_entry("././@LongLink", 'L', long_name + '\0') +
                            tar_entry(long_name.substr(0, 100), '0', payload) +
                            tar_entry("PaxHeader", 'x', pax_record("path", "b/notes.txt")) +
                            tar_entry("b/notes.txt", '0', "hello\n") +
                            tar_entry("c.txt", '0', "bye\n") + end;
  const Walked w = run(plain, Limits());
  EXPECT_EQ(w.members.size(), 3u) << w.describe();
  EXPECT_TRUE(w.result.problems.empty()) << w.describe();
}

// One ARJ header (id, basic header, a CRC left zero, no extended header) for `name` with
// `flags`, `type` (2 = the main header) and stored `data` after it.
std::string arj_header(const std::string &name, uint8_t flags, uint8_t type,
                       const std::string &data = "") {
  std::string h(30, '\0');
  h[0] = 30;  // first_hdr_size
  h[1] = 11;
  h[2] = 1;
  h[4] = static_cast<char>(flags);
  h[5] = 0;  // stored
  h[6] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) {
    h[12 + i] = static_cast<char>((data.size() >> (8 * i)) & 0xff);
    h[16 + i] = static_cast<char>((data.size() >> (8 * i)) & 0xff);
  }
  h += name + std::string(2, '\0');  // the name, then an empty comment
  std::string out("\x60\xea", 2);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + std::string(4, '\0') + std::string(2, '\0') + data;
}

TEST(ContainersWalk, ArjMembersAreListedAndGarbledOnesAreEncrypted) {
  // libarchive has no ARJ reader and libclamav cannot read a garbled (arj -g) member: its name,
  // stored in clear, was judged by nobody. Every name is judged now, a stored member's bytes
  // read, and a garbled one is Container.Encrypted.
  const std::string end("\x60\xea\x00\x00", 4);
  const std::string main = arj_header("files.arj", 0, 2);
  const Walked garbled =
      run(main + arj_header("setup.exe", 0x01, 0, "scrambled bytes") + end, Limits());
  ASSERT_EQ(garbled.members.size(), 1u) << garbled.describe();
  EXPECT_EQ(garbled.members[0].name, "setup.exe");
  EXPECT_TRUE(garbled.has(Reason::kEncrypted)) << garbled.describe();

  std::vector<std::string> data;
  const std::string plain =
      main + arj_header("a.txt", 0, 0, "first") + arj_header("b.txt", 0, 0, "second") + end;
  const WalkResult r = walk(plain, Limits(), Deadline(), [&data](const Member &m) {
    if (m.extracted) data.emplace_back(m.data);
  });
  EXPECT_EQ(data, (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(r.problems.empty()) << run(plain, Limits()).describe();

  // Cut short: the headers end before the end-of-archive header.
  EXPECT_TRUE(run(main + arj_header("a.txt", 0, 0, "first"), Limits()).has(Reason::kCorrupt));
  // Two bytes that merely start like ARJ are not one.
  EXPECT_TRUE(
      run(std::string("\x60\xea") + std::string(100, 'x'), Limits()).result.problems.empty());
}

// A XAR archive whose table of contents lists `files` directories (zlib XML, no heap).
std::string xar_with(uint64_t files, const std::string &prolog = "") {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + prolog + "<xar><toc>";
  for (uint64_t i = 1; i <= files; ++i)
    xml += "<file id=\"" + std::to_string(i) + "\"><name>d" + std::to_string(i) +
           "</name><type>directory</type></file>";
  xml += "</toc></xar>\n";
  uLongf packed_size = compressBound(xml.size());
  std::string packed(packed_size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef *>(packed.data()), &packed_size,
                      reinterpret_cast<const Bytef *>(xml.data()), xml.size(), 9),
            Z_OK);
  packed.resize(packed_size);
  std::string h = "xar!";
  auto be = [&h](uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) h += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  be(28, 2);
  be(1, 2);
  be(packed.size(), 8);
  be(xml.size(), 8);
  be(0, 4);  // no checksum
  return h + packed;
}

TEST(ContainersWalk, XarFileCountIsBoundedBeforeLibarchiveBuildsIt) {
  // libarchive inflates a xar's table of contents and builds every entry before listing one: 71 KB
  // listing half a million files held 231 MB. Counted first, against max_archive_files.
  const std::string big = xar_with(200000);
  int reason = 0;
  EXPECT_LT(walk_growth_kib(big, Limits(), reason), 16u << 10) << "libarchive built the entries";
  EXPECT_EQ(reason, static_cast<int>(Reason::kFiles) + 1);

  Limits ten;
  ten.max_archive_files = 10;
  const Walked at = run(xar_with(10), ten);
  EXPECT_FALSE(at.has(Reason::kFiles) || at.has(Reason::kCorrupt)) << at.describe();
  const Walked over = run(xar_with(11), ten);
  EXPECT_TRUE(over.has(Reason::kFiles)) << over.describe();

  // Entities could add files the count does not see: a DOCTYPE is refused, unread.
  const Walked dtd = run(xar_with(1, "<!DOCTYPE xar [<!ENTITY f \"x\">]>\n"), Limits());
  EXPECT_TRUE(dtd.has(Reason::kUnsupportedMethod)) << dtd.describe();
  // A table of contents said to be longer than the data.
  std::string cut = xar_with(3);
  cut.resize(cut.size() - 5);
  cut[15] = static_cast<char>(cut[15] + 100);  // low byte of the packed length
  const Walked c = run(cut, Limits());
  EXPECT_TRUE(c.has(Reason::kCorrupt)) << c.describe();
}

// An ISO 9660 image with `files` empty files in its root directory (ECMA-119 records; records
// never cross a sector, as the standard requires).
std::string iso_with(uint32_t files) {
  constexpr size_t kSector = 2048;
  auto put = [](std::string &s, size_t at, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto put_both = [&put](std::string &s, size_t at, uint64_t v, int n) {  // LE then BE
    put(s, at, v, n);
    for (int i = 0; i < n; ++i) s[at + n + i] = static_cast<char>((v >> (8 * (n - 1 - i))) & 0xff);
  };
  auto record = [&put_both](uint32_t lba, uint32_t size, bool dir, const std::string &name) {
    std::string r(33 + name.size() + (name.size() % 2 == 0 ? 1 : 0), '\0');
    r[0] = static_cast<char>(r.size());
    put_both(r, 2, lba, 4);
    put_both(r, 10, size, 4);
    r[25] = dir ? 2 : 0;
    put_both(r, 28, 1, 2);  // volume sequence number
    r[32] = static_cast<char>(name.size());
    r.replace(33, name.size(), name);
    return r;
  };
  std::string dir;
  auto add = [&dir](const std::string &r) {
    if (dir.size() / kSector != (dir.size() + r.size() - 1) / kSector)
      dir.resize((dir.size() / kSector + 1) * kSector, '\0');
    dir += r;
  };
  const uint32_t dir_lba = 20;  // 18 and 19: the L and M path tables
  std::vector<std::string> names;
  for (uint32_t i = 0; i < files; ++i) {
    char n[32];
    std::snprintf(n, sizeof n, "F%06u.TXT;1", i);
    names.emplace_back(n);
  }
  // Two passes: the directory's own size goes into its "." record.
  for (int pass = 0; pass < 2; ++pass) {
    const uint32_t dir_size = static_cast<uint32_t>((dir.size() + kSector - 1) / kSector * kSector);
    dir.clear();
    add(record(dir_lba, dir_size, true, std::string(1, '\0')));
    add(record(dir_lba, dir_size, true, std::string(1, '\1')));
    for (const std::string &n : names) add(record(0, 0, false, n));
  }
  dir.resize((dir.size() + kSector - 1) / kSector * kSector, '\0');
  // libarchive's bidder reads 16 sectors past the system area before it looks.
  const uint32_t total =
      std::max<uint32_t>(40, dir_lba + static_cast<uint32_t>(dir.size() / kSector));
  std::string img(dir_lba * kSector, '\0');
  const size_t pvd = 16 * kSector;
  img[pvd] = 1;
  img.replace(pvd + 1, 5, "CD001");
  img[pvd + 6] = 1;
  put_both(img, pvd + 80, total, 4);     // volume space size
  put_both(img, pvd + 120, 1, 2);        // volume set size
  put_both(img, pvd + 124, 1, 2);        // volume sequence number
  put_both(img, pvd + 128, kSector, 2);  // logical block size
  img.replace(pvd + 156, 34,
              record(dir_lba, static_cast<uint32_t>(dir.size()), true, std::string(1, '\0')));
  img[pvd + 881] = 1;               // file structure version
  put_both(img, pvd + 132, 10, 4);  // path table size: the root's entry
  put(img, pvd + 140, 18, 4);       // L path table (little-endian)
  for (int i = 0; i < 4; ++i) img[pvd + 148 + i] = static_cast<char>((19 >> (8 * (3 - i))) & 0xff);
  const std::string l_entry("\x01\x00\x14\x00\x00\x00\x01\x00\x00\x00", 10);
  const std::string m_entry("\x01\x00\x00\x00\x00\x14\x00\x01\x00\x00", 10);
  img.replace(18 * kSector, 10, l_entry);
  img.replace(19 * kSector, 10, m_entry);
  const size_t term = 17 * kSector;
  img[term] = static_cast<char>(255);
  img.replace(term + 1, 5, "CD001");
  img[term + 6] = 1;
  img += dir;
  img.resize(static_cast<size_t>(total) * kSector, '\0');
  return img;
}

TEST(ContainersWalk, IsoEntriesAreCountedBeforeLibarchiveQueuesThem) {
  // libarchive queues every record of a directory it reads: a 2.5 MB image of 50,000 files held
  // 28 MB, ~400 bytes an entry. Counted first, against max_archive_files (directories included).
  int reason = 0;
  EXPECT_LT(walk_growth_kib(iso_with(200000), Limits(), reason), 16u << 10);
  EXPECT_EQ(reason, static_cast<int>(Reason::kFiles) + 1);
  Limits ten;
  ten.max_archive_files = 10;
  const Walked at = run(iso_with(10), ten);
  EXPECT_EQ(at.members.size(), 10u) << at.describe();
  EXPECT_FALSE(at.has(Reason::kFiles) || at.has(Reason::kCorrupt)) << at.describe();
  const Walked over = run(iso_with(11), ten);
  EXPECT_TRUE(over.has(Reason::kFiles)) << over.describe();
  EXPECT_TRUE(over.members.empty()) << over.describe();

  // A directory record claiming more than the image: libarchive would read it ahead whole
  // (3.75 GB asked for by a crafted image).
  std::string past = iso_with(3);
  const size_t root_size = 16 * 2048 + 156 + 10;
  past[root_size + 3] = static_cast<char>(0xf0);
  const Walked p = run(past, Limits());
  ASSERT_TRUE(p.has(Reason::kCorrupt)) << p.describe();
  EXPECT_NE(p.result.problems[0].detail.find("beyond the data"), std::string::npos) << p.describe();
}

TEST(ContainersWalk, SevenZipHeaderPastTheDataIsNotHandedToLibarchive) {
  // A start header claiming a 0x79...72-byte header: libarchive asked for a 4.2 GB read-ahead
  // (fuzz_containers in CI; seed
  // tests/data/fuzz/containers/regression-7z-header-size-past-data.7z).
  const std::string d = avsink::test::read_file(
      avsink::test::data_path("fuzz/containers/regression-7z-header-size-past-data.7z"));
  ASSERT_EQ(d.size(), 162u);
  Walked w = run(d, Limits());
  ASSERT_TRUE(w.has(Reason::kMultiVolume)) << w.describe();
  EXPECT_NE(w.result.problems[0].detail.find("lies beyond the data"), std::string::npos)
      << w.describe();
}

// The zip end record is looked for in the last 64 KiB + 22 bytes only, wherever it sits there:
// right at the end, behind a comment full of 'P's, or at the lowest offset still inside. Its disk
// fields decide whether the zip is one volume of a split archive.
TEST(ContainersWalk, ZipEndRecordFoundAcrossTheWholeWindow) {
  const std::string zip = stored_zip({{"readme.txt", "hello\n"}});
  ASSERT_EQ(zip.compare(zip.size() - 22, 4, "PK\x05\x06"), 0);
  auto set16 = [](std::string &z, size_t at, size_t v) {
    z[at] = static_cast<char>(v & 0xFF);
    z[at + 1] = static_cast<char>(v >> 8);
  };
  auto with_comment = [&](const std::string &comment) {
    std::string z = zip;
    set16(z, z.size() - 2, comment.size());  // the record's comment length
    return z + comment;
  };
  auto split = [&](std::string z, size_t end_at) {
    set16(z, end_at + 4, 1);  // number of this disk
    return z;
  };
  for (const size_t comment : {size_t(0), size_t(1000), size_t(0xFFFF)}) {
    const std::string z = with_comment(std::string(comment, 'P'));
    const size_t end_at = zip.size() - 22;
    const Walked whole = run(z, Limits());
    EXPECT_FALSE(whole.has(Reason::kMultiVolume)) << comment << whole.describe();
    ASSERT_EQ(whole.members.size(), 1u) << comment << whole.describe();
    const Walked part = run(split(z, end_at), Limits());
    EXPECT_TRUE(part.has(Reason::kMultiVolume)) << "comment of " << comment << part.describe();
  }
  // One byte more of comment and the record lies outside the window: libarchive does not find
  // the zip there either, and the disk field is not read.
  std::string outside = zip + std::string(0x10000, 'P');
  const Walked far = run(split(outside, zip.size() - 22), Limits());
  EXPECT_FALSE(far.has(Reason::kMultiVolume)) << far.describe();
}

// The local headers of an ordinary zip all match what its directory lists, so no member is read
// twice: zip's own output (sizes in the headers), its streamed output (sizes in data descriptors
// after the data), with a folder, and a stored zip inside (content, not headers of the outer one).
TEST(ContainersWalk, OrdinaryZipsAreListedOnce) {
  const std::string dir = avsink::test::make_temp_dir("avsink-zipdesc");
  {
    std::filesystem::create_directories(dir + "/docs");
    std::ofstream(dir + "/docs/a.txt", std::ios::binary) << std::string(5000, 'a');
    std::ofstream(dir + "/b.bin", std::ios::binary) << "bb";
    std::ofstream(dir + "/inner.zip", std::ios::binary) << stored_zip({{"c.txt", "c"}});
  }
  const std::string cmd = "cd '" + dir +
                          "' && zip -q -r plain.zip docs b.bin && zip -q -0 -fd - docs/a.txt "
                          "b.bin > streamed.zip && zip -q -0 outer.zip inner.zip b.bin";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::vector<std::pair<std::string, std::vector<std::string>>> want = {
      {"plain.zip", {"docs/a.txt", "b.bin"}},
      {"streamed.zip", {"docs/a.txt", "b.bin"}},
      {"outer.zip", {"inner.zip", "inner.zip/c.txt", "b.bin"}},
  };
  for (const auto &[file, names] : want) {
    const std::string zip = avsink::test::read_file(dir + "/" + file);
    const Walked w = run(zip, Limits());
    std::vector<std::string> got;
    for (const auto &m : w.members) got.push_back(m.path);
    std::vector<std::string> sorted_want = names;
    std::sort(got.begin(), got.end());
    std::sort(sorted_want.begin(), sorted_want.end());
    EXPECT_EQ(got, sorted_want) << file << w.describe();
    EXPECT_TRUE(w.result.problems.empty()) << file << w.describe();
  }
  std::filesystem::remove_all(dir);
}

// One newc member (header, name, data, each 4-byte aligned), as cpio -H newc writes it.
std::string newc_member(const std::string &name, const std::string &data) {
  auto field = [](uint64_t v) {
    char b[9];
    std::snprintf(b, sizeof b, "%08llX", static_cast<unsigned long long>(v));
    return std::string(b, 8);
  };
  std::string m = "070701";
  for (int f = 0; f < 13; ++f)
    m += f == 1    ? field(0100644)
         : f == 6  ? field(data.size())
         : f == 11 ? field(name.size() + 1)
                   : field(0);
  m += name + '\0';
  m += std::string((4 - m.size() % 4) % 4, '\0');
  m += data;
  m += std::string((4 - m.size() % 4) % 4, '\0');
  return m;
}

// The cpio guard follows the chain of headers: the magic inside a member's data is content, and a
// benign archive holding it is listed, not called corrupt (it was: the guard took every magic
// anywhere for a header). Off the chain, every magic still counts (the test above).
TEST(ContainersWalk, CpioMagicInsideMemberDataIsContent) {
  for (const std::string &tail : {std::string("070701"), std::string("070701 not hex at all"),
                                  "070701" + std::string(104, 'F')}) {
    const std::string archive = newc_member("notes.txt", "the magic of cpio is " + tail) +
                                newc_member("TRAILER!!!", "") + std::string(512, '\0');
    Walked w = run(archive, Limits());
    EXPECT_FALSE(w.has(Reason::kCorrupt)) << tail << ": " << w.describe();
    ASSERT_EQ(w.members.size(), 1u) << tail << ": " << w.describe();
    EXPECT_EQ(w.members[0].path, "notes.txt");
  }
}

TEST(ContainersWalk, StoredZipInsideAnotherContainerDoesNotHideIt) {
  // libarchive's seekable zip bidder outbids the others when a zip's end record is near the end
  // (a RAR storing a zip); the outer container's own members must still be listed.
  const std::string dir = avsink::test::make_temp_dir("avsink-tarzip");
  {
    std::ofstream(dir + "/invoice.exe", std::ios::binary) << "MZab";
    std::ofstream(dir + "/inner.zip", std::ios::binary) << stored_zip({{"notes.txt", "hello"}});
  }
  const std::string cmd = "cd '" + dir + "' && tar cf t.tar invoice.exe inner.zip";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string tar = avsink::test::read_file(dir + "/t.tar");
  std::filesystem::remove_all(dir);
  const std::string inner = stored_zip({{"notes.txt", "hello"}});
  const std::string rar = avsink::test::rar5({{"invoice.exe", "MZab"}, {"inner.zip", inner}});
  for (const std::string &container : {tar, rar}) {
    Walked w = run(container, Limits());
    std::vector<std::string> paths;
    for (const auto &m : w.members) paths.push_back(m.path);
    for (const char *want : {"invoice.exe", "inner.zip", "inner.zip/notes.txt"})
      EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end())
          << "want " << want << " in " << w.result.format << ", got " << w.describe();
  }
}

// ---- TNEF ----

std::string tnef_header() {
  std::string t;
  put32(t, 0x223E9F78);
  put16(t, 1);
  return t;
}

TEST(ContainersTnef, NamesFromTitleAndMapiProperties) {
  std::string t = tnef_header();
  tnef_attr(t, 2, 0x00069002, std::string(14, '\0'));
  tnef_attr(t, 2, 0x00018010, std::string("INVOIC~1.PDF") + '\0');
  tnef_attr(t, 2, 0x0006800F, "MZab");
  std::string props;
  put32(props, 2);
  // PR_ATTACH_LONG_FILENAME, PT_STRING8.
  put16(props, 0x001E);
  put16(props, 0x3707);
  put32(props, 1);
  put32(props, 16);
  props += std::string("invoice.pdf.exe") + '\0';
  // A named property before the data object: GUID, kind 1 (a name), the name padded to 4.
  put16(props, 0x0003);
  put16(props, 0x8001);
  props += std::string(16, '\x11');
  put32(props, 1);
  put32(props, 6);
  props += std::string("n\0a\0m", 6) + std::string(2, '\0');
  put32(props, 7);
  tnef_attr(t, 2, 0x00069005, props);
  auto s = read_tnef(t);
  EXPECT_EQ(s.error, "");
  ASSERT_EQ(s.attachments.size(), 1u);
  EXPECT_EQ(s.attachments[0].name, "invoice.pdf.exe");
  ASSERT_EQ(s.attachments[0].names.size(), 2u);
  EXPECT_EQ(s.attachments[0].names[1], "INVOIC~1.PDF");
  EXPECT_EQ(s.attachments[0].data, "MZab");

  // Both names are listed, the data once.
  Walked w = run(t, Limits());
  ASSERT_EQ(w.members.size(), 2u) << w.describe();
  EXPECT_EQ(w.members[0].path, "invoice.pdf.exe");
  EXPECT_TRUE(w.members[0].extracted);
  EXPECT_EQ(w.members[1].path, "INVOIC~1.PDF");
  EXPECT_FALSE(w.members[1].extracted);
}

TEST(ContainersTnef, DamageKeepsWhatWasReadAndSaysSo) {
  std::string t = tnef_header();
  tnef_attr(t, 2, 0x00069002, std::string(14, '\0'));
  tnef_attr(t, 2, 0x00018010, std::string("run.scr") + '\0');
  tnef_attr(t, 2, 0x0006800F, std::string(100, 'x'));
  const std::string whole = t;
  tnef_attr(t, 2, 0x00069002, std::string(14, '\0'));
  t += std::string("\x02\x10\x80\x01\x00\xff\xff\x00\x00", 9);  // a title longer than the rest
  auto s = read_tnef(t);
  EXPECT_NE(s.error, "");
  ASSERT_GE(s.attachments.size(), 1u);
  EXPECT_EQ(s.attachments[0].name, "run.scr");
  Walked w = run(t, Limits());
  EXPECT_TRUE(w.has(Reason::kCorrupt)) << w.describe();
  // Line-end padding after the last attribute is not damage.
  EXPECT_EQ(read_tnef(whole + "\r\n").error, "");
  EXPECT_NE(read_tnef(whole + "\x02\x10").error, "");
}

TEST(ContainersTnef, ClamavSampleListsClamExe) {
  const std::string sample = avsink::test::read_file("/usr/share/clamav-testfiles/clam.tnef");
  Walked w = run(sample, Limits());
  ASSERT_FALSE(w.members.empty()) << w.describe();
  EXPECT_EQ(w.members[0].path, "clam.exe") << w.describe();
  EXPECT_TRUE(w.result.problems.empty()) << w.describe();
}

}  // namespace

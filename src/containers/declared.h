// declared.h - checks what an archive declares about itself (header sizes, member counts) before
// libarchive reads it: libarchive allocates from those declarations before listing a member.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avsink::containers {

// The `n`-byte little-endian field at `at` (n <= 8; the caller has checked the bounds): how the
// archive formats here store their sizes and counts. Thread-safe.
inline uint64_t load_le(std::string_view d, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

// What a check found wrong; `ok` when nothing.
struct DeclaredCheck {
  enum class Bound { kNone, kPastData, kCorrupt, kFileBytes, kRatio, kFiles, kUnchecked };
  Bound bound = Bound::kNone;
  std::string detail;  // one line, for the Problem
  bool ok() const { return bound == Bound::kNone; }
};

struct DeclaredLimits {
  uint64_t max_header_bytes = 0;  // max_file_bytes: an unpacked directory is one extracted item
  uint64_t ratio_bytes = 0;       // what max_compression_ratio allows the archive to yield
  uint64_t max_files = 0;         // max_archive_files
};

// Checks every 7z start header libarchive could read in `d`: one at offset 0 (read whatever its
// CRC says), and in a PE or ELF self-extractor every signature whose start-header CRC holds
// (libarchive's SFX search passes over the others). libarchive sizes its allocations from what
// the header declares before it lists a member (measured: a 74 KB archive held 512 MiB, a
// 1.25 MB one 878 MB and 10 s of CPU), so for each one:
//   - the header it points at must end inside `d` (kPastData; libarchive reads it ahead whole,
//     4.2 GB asked for by a 162-byte fuzzed one);
//   - a packed ("encoded") header must declare no unpacked size above `max_header_bytes`
//     (kFileBytes) nor `ratio_bytes` (kRatio); it is then unpacked here (LZMA or LZMA2, what
//     7-Zip writes; another method is kUnchecked, an encrypted one libarchive's to report);
//   - the header must declare at most `max_files` files and unpacked streams (kFiles:
//     libarchive allocates ~80 bytes per declared file and walks them all before the first);
//   - what it reads must parse (kCorrupt).
// Pure function of its arguments; thread-safe; never throws (std::bad_alloc aside).
DeclaredCheck check_sevenzip(std::string_view d, const DeclaredLimits &limits);

// Checks a XAR archive (magic "xar!" at offset 0): libarchive inflates its table of contents (zlib
// XML) and builds an entry (~450 bytes) for every <file> in it before listing the first (a 71 KB
// archive held 231 MB). The table is inflated here, held to `max_header_bytes` (kFileBytes) and
// `ratio_bytes` (kRatio), and its <file> elements counted against `max_files` (kFiles); a table
// with a DOCTYPE (entities could add elements unseen) is kUnchecked; one that does not inflate,
// or lies past the data, kCorrupt. Anything else: ok. Pure; thread-safe; never throws
// (std::bad_alloc aside).
DeclaredCheck check_xar(std::string_view d, const DeclaredLimits &limits);

// Checks an ISO 9660 image: libarchive queues an entry for every record of a directory it reads,
// so the records of the primary and of the Joliet tree are counted here (each directory extent
// read once, at most 4 x the image's bytes in all) against `max_files` (kFiles; directories
// included). A 2.5 MB image of 50,000 files held 28 MB; 100 MiB of directories would hold ~1 GB.
// A directory that runs past the data is kCorrupt (libarchive reads a directory ahead whole, and
// allocates what its record claims). Anything else: ok (damage is libarchive's to report).
// Pure; thread-safe; never throws.
DeclaredCheck check_iso(std::string_view d, const DeclaredLimits &limits);

}  // namespace avsink::containers

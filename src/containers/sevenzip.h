// sevenzip.h - checks what a 7z archive declares about its own header before libarchive reads it.
// libarchive sizes its buffers from those declarations, so a small archive could claim gigabytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avsink::containers {

// What check_sevenzip found wrong; `ok` when nothing.
struct SevenZipCheck {
  enum class Bound { kNone, kPastData, kCorrupt, kFileBytes, kRatio, kFiles, kUnchecked };
  Bound bound = Bound::kNone;
  std::string detail;  // one line, for the Problem
  bool ok() const { return bound == Bound::kNone; }
};

struct SevenZipLimits {
  uint64_t max_header_bytes = 0;  // max_file_bytes: an unpacked header is one extracted item
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
SevenZipCheck check_sevenzip(std::string_view d, const SevenZipLimits &limits);

}  // namespace avsink::containers

// sevenzip.h - checks what a 7z archive declares about its own header before libarchive reads it.
// libarchive sizes its buffers from those declarations, so a small archive could claim gigabytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avsink::containers {

// What check_sevenzip found wrong; `ok` when nothing.
struct SevenZipCheck {
  enum class Bound { kNone, kPastData, kCorrupt, kFileBytes, kRatio };
  Bound bound = Bound::kNone;
  std::string detail;  // one line, for the Problem
  bool ok() const { return bound == Bound::kNone; }
};

// Checks every 7z start header libarchive could read in `d`: one at offset 0 (read whatever its
// CRC says), and in a PE or ELF self-extractor every signature whose start-header CRC holds
// (libarchive's SFX search passes over the others). For each one:
//   - the header it points at must end inside `d` (kPastData: libarchive reads a header ahead
//     whole and allocates the size the start header claims, 4.2 GB in a 162-byte fuzzed one);
//   - an encoded header (kEncodedHeader: the header itself packed, LZMA as 7-Zip writes it) must
//     declare no unpacked size above `max_header_bytes` (kFileBytes) nor above `ratio_bytes`
//     (kRatio): libarchive decodes that header whole into memory before any member is listed,
//     so the declared size is what the listing would hold (a 74 KB archive held 512 MiB).
//   - an encoded header's description must be readable (kCorrupt otherwise).
// Pure function of its arguments; thread-safe; never throws.
SevenZipCheck check_sevenzip(std::string_view d, uint64_t max_header_bytes, uint64_t ratio_bytes);

}  // namespace avsink::containers

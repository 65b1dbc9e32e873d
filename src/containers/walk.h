// walk.h - lists every member of an archive or TNEF container and extracts what can be read.
// Listing is separate from extraction: every listed name is visited, readable or not; whatever
// is not read whole (encryption, method, damage, volumes, limits) is a Problem, never skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.h"
#include "core/limits.h"

namespace avsink::containers {

// One member as its container's own directory lists it.
struct Member {
  // Path from the walked item, outer to inner, '/' between containers: "inner.zip/setup.exe".
  // A layer without names (the tar inside a .tar.gz, a lone .zst) adds no component.
  std::string path;
  std::string name;      // the member's own name in its container, as written (may be "")
  std::string format;    // the container's format, as libarchive names it ("RAR5", "ZIP 2.0
                         // (deflation)", "TNEF")
  uint32_t depth = 0;    // 1 = member of the walked item
  uint64_t size = 0;     // declared size; 0 when the directory does not say
  bool is_link = false;  // a symlink or hardlink entry (no data of its own)
  // The member's bytes when extracted whole ("" otherwise, or when it is empty); valid only
  // during the visit. `extracted` tells an empty member from one not read.
  bool extracted = false;
  std::string_view data;
};

// Why something could not be read. Each has a fixed finding name (problem_name()).
enum class Reason {
  kEncrypted,          // Container.Encrypted: member data encrypted
  kEncryptedHeaders,   // Container.EncryptedHeaders: the directory itself (RAR5 -hp, 7z -mhe)
  kUnsupportedMethod,  // Container.UnsupportedMethod: a compression method no reader decodes
  kCorrupt,            // Container.Corrupt: damaged or truncated
  kMultiVolume,        // Container.MultiVolume: one volume of a split archive
  kFiles,              // Limits.Exceeded.ArchiveFiles: more members than max_archive_files
  kRecursion,          // Limits.Exceeded.ArchiveRecursion: nested deeper than max_archive_recursion
  kFileBytes,          // Limits.Exceeded.FileBytes: a member bigger than max_file_bytes
  kDecodedBytes,       // Limits.Exceeded.DecodedBytes: all members past max_decoded_bytes
  kRatio,              // Limits.Exceeded.CompressionRatio: past max_compression_ratio
  kScanTime,           // Limits.Exceeded.ScanTime: the deadline passed during the walk
};

// The finding name of `r` (see Reason): a static string. Thread-safe; never fails.
std::string_view problem_name(Reason r);

struct Problem {
  Reason reason = Reason::kCorrupt;
  std::string path;    // the member, or the container ("" = the walked item itself)
  std::string detail;  // one line: what libarchive or the decoder said
  // False only for bytes that start like a container of which no member could be listed at all
  // (no reader opens them; they are scanned as plain bytes): a note, not a reason to hold mail.
  bool unscannable = true;
};

struct WalkResult {
  bool container = false;         // the walked item is a container avsink lists
  std::string format;             // its format, "" when not a container
  uint32_t members = 0;           // members listed, at every depth
  uint64_t bytes = 0;             // member bytes extracted, at every depth
  std::vector<Problem> problems;  // at most 32; each limit once
  uint32_t problems_more = 0;     // problems beyond those (all of them unscannable)
};

// Called for every listed member, outer before inner (a member is visited before the members
// of it are listed). Must not throw through the walk's callers' frames unless they catch.
using Visitor = std::function<void(const Member &)>;

// Lists `data` if it is a container (libarchive: zip/zip64, 7z, RAR 4/5, tar with gz, bz2, xz,
// lzma, zstd, lz4 and compress, cpio, ISO 9660, CAB, LHA, XAR, ar; a lone compressed stream;
// TNEF by our own decoder, tnef.h), visits each member, extracts the readable ones and walks them
// again (containers inside containers, to limits.max_archive_recursion levels). Bounds: members
// across all levels <= max_archive_files; one member <= max_file_bytes; all extracted bytes <=
// max_decoded_bytes; per container, output <= max_compression_ratio x its size once past
// kRatioFloorBytes; the deadline. Every bound hit is a Problem.
// Ownership: `data` is borrowed for the call. Thread-safety: reentrant, no shared state.
// Errors: none thrown by the walk itself; the visitor's exceptions propagate (after cleanup).
WalkResult walk(std::string_view data, const Limits &limits, const Deadline &deadline,
                const Visitor &visit);

// True when `data` is a container whose members walk() alone should read: a 7z archive (it
// starts with the 7z signature). 7z has one directory, which libarchive reads as 7-Zip does, so a
// second reader finds nothing a first one misses; and reading it twice (libarchive, then
// libclamav's own LZMA unpacking) cost 1.44x libclamav alone in bench_archives. zip keeps two
// readers: two directories, and decades of readers that disagree about them. A self-extracting
// 7z (an executable first) is not this: libclamav reads the executable. Thread-safe; never fails.
bool read_alone(std::string_view data);

}  // namespace avsink::containers

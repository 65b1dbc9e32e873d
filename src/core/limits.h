// limits.h - every bound on attacker-controlled input, with its default (the sqlite3_limit idea).
// Exceeding any of them is a Finding of kind kUnscannable, never a crash and never a silent
// "clean".
#pragma once

#include <cstddef>
#include <cstdint>

namespace avsink {

// Defaults (DESIGN.md §7):
//   max_message_bytes       100 MiB   whole raw message
//   max_mime_depth          64        nesting of multipart and message/rfc822 (rspamd 64)
//   max_rfc822_depth        17        nested message/rfc822 chains (ClamAV MaxRecursion)
//   max_parts               1024      entities per message (ClamAV)
//   max_header_fields       1024      header fields per entity (ClamAV)
//   max_header_bytes        256 KiB   header block of one entity, and any one field
//   max_params              256       parameters on one header field
//   max_boundary_length     2048      (Postfix)
//   max_archive_recursion   17        (ClamAV)
//   max_archive_files       10000     members per archive
//   max_compression_ratio   200       bytes a container yields per byte of its own, checked once
//                                     it has yielded more than kRatioFloorBytes (1 MiB)
//   max_decoded_bytes       400 MiB   all decoded bodies of one message
//   max_decoded_percent     125       ... and at most this percentage of the message's own
//                                     size plus kDecodedFloorBytes (8 MiB), whichever is less
//   max_file_bytes          100 MiB   one extracted file or decoded part
//   scan_deadline_ms        120000    per message, below Postfix's 300 s content timeout
//   spool_memory_bytes      8 MiB     a message bigger than this spools to a temp file
//   max_concurrent_scans    32        scans in flight in one process; more: tempfail
//   memory_budget_bytes     2 GiB     3 x size + 16 MiB per scan in flight; more: tempfail
// A container's output is held to max_compression_ratio only past this many bytes, so small
// members of ordinary text (which compress 10-50x, more when tiny) are never flagged.
inline constexpr uint64_t kRatioFloorBytes = 1ull << 20;
// Decoded bodies may always reach this much, whatever max_decoded_percent says of a small message.
inline constexpr uint64_t kDecodedFloorBytes = 8ull << 20;

struct Limits {
  uint64_t max_message_bytes = 100ull << 20;
  uint32_t max_mime_depth = 64;
  uint32_t max_rfc822_depth = 17;
  uint32_t max_parts = 1024;
  uint32_t max_header_fields = 1024;
  uint32_t max_header_bytes = 256u << 10;
  uint32_t max_params = 256;
  uint32_t max_boundary_length = 2048;
  uint32_t max_archive_recursion = 17;
  uint32_t max_archive_files = 10000;
  uint32_t max_compression_ratio = 200;
  uint64_t max_decoded_bytes = 400ull << 20;
  // A scan holds the raw message (1 x size), every decoded body (this bound) and libclamav's copy
  // of the part it is reading (at most 0.75 x size): 125% keeps the whole within the 3 x size +
  // 16 MiB that memory_budget_bytes charges it. Nested base64 message/rfc822 layers or several
  // readings of one body would otherwise hold up to ~4 x size.
  uint32_t max_decoded_percent = 125;
  uint64_t max_file_bytes = 100ull << 20;
  uint32_t scan_deadline_ms = 120000;
  uint64_t spool_memory_bytes = 8ull << 20;
  // Process-wide, not per message (session/scan_budget.h): a message beyond either is tempfailed
  // with Limits.Exceeded.ConcurrentScans or Limits.Exceeded.MemoryBudget.
  uint32_t max_concurrent_scans = 32;
  uint64_t memory_budget_bytes = 2ull << 30;
};

}  // namespace avsink

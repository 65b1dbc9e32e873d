// spool.h - holds one message's bytes: in memory up to a threshold, then in an unlinked temp file.
// Bytes past the message-size cap are counted, never stored; view() maps the stored bytes
// read-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace avsink {

class Spool {
 public:
  // memory_threshold: bytes kept in memory before switching to a file in `dir` ("" = $TMPDIR/tmp).
  // max_bytes: bytes kept at all; more are only counted (truncated() then returns true).
  Spool(std::string dir, uint64_t memory_threshold, uint64_t max_bytes);
  ~Spool();
  Spool(const Spool &) = delete;  // owns a file descriptor and a mapping
  Spool &operator=(const Spool &) = delete;

  // Appends bytes. Errors: kIo when the temp file cannot be created or written (e.g. disk full);
  // the spool is then unusable and the caller must fail closed.
  Result<void> append(std::string_view data);
  // All stored bytes, contiguous. Valid until the Spool is destroyed or appended to.
  // Errors: kIo when the file cannot be mapped.
  Result<std::string_view> view();

  uint64_t total_bytes() const { return total_; }  // every byte appended, stored or not
  bool truncated() const { return total_ > stored_; }
  bool on_disk() const { return fd_ >= 0; }

 private:
  Result<void> spill();
  std::string dir_;
  uint64_t threshold_;
  uint64_t max_;
  std::string memory_;
  int fd_ = -1;
  uint64_t total_ = 0;
  uint64_t stored_ = 0;
  void *map_ = nullptr;
  uint64_t map_len_ = 0;
};

}  // namespace avsink

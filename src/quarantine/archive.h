// archive.h - a minimal POSIX ustar writer and a strict reader, for quarantine export/import.
// The reader accepts only regular-file members with plain relative names; it never touches disk.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace avsink::quarantine {

// Appends one regular-file member (mode 0600, uid/gid 0, `mtime`) to `out`: a 512-byte ustar
// header then the data padded to 512 bytes. `name` must be < 100 bytes. Writes to an fd through
// `sink` so large exports need not sit in memory. Errors: whatever `sink` returns.
using Sink = std::function<Result<void>(std::string_view)>;
Result<void> tar_add(const Sink &sink, const std::string &name, std::string_view data,
                     int64_t mtime);
// The same in three steps, for data that is streamed: the header of a member of `size` bytes,
// then the caller writes exactly `size` bytes through `sink`, then tar_end_member pads them.
Result<void> tar_begin_member(const Sink &sink, const std::string &name, uint64_t size,
                              int64_t mtime);
Result<void> tar_end_member(const Sink &sink, uint64_t size);
// The end-of-archive marker: two zero blocks.
Result<void> tar_finish(const Sink &sink);

// Reads members from `fd` in order and hands each (name, size) to `on_member`, which must read
// exactly `size` bytes through the provided reader (called repeatedly with a buffer) -- or the
// reader helper `read_member`. Errors: kIo "archive: ..." for a bad checksum, a member type other
// than a regular file, a name with "..", a leading "/", or a truncated archive.
struct TarMember {
  std::string name;
  uint64_t size = 0;
};
using MemberReader = std::function<Result<std::string>(size_t max)>;  // "" at member end

// Reads the rest of a member through `read` and hands it to `f` in pieces of at most `piece`
// bytes. Errors: the reader's or `f`'s.
Result<void> tar_member_pieces(const MemberReader &read, size_t piece, const Sink &f);
Result<void> tar_read(
    int fd, const std::string &path,
    const std::function<Result<void>(const TarMember &, const MemberReader &)> &on_member);

}  // namespace avsink::quarantine

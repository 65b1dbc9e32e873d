// read_file.h - the one way avsink reads a file it was configured with (rules, lists, hash lists,
// config, keys, signature files it hashes): regular files only, bounded, never blocking on open.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace avsink {

// Streams `path`, which must be a regular file of at most `max_bytes` bytes, to `sink` in chunks
// of up to 64 KiB. The file is opened O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY, so a FIFO (no
// writer) or a device cannot block the caller; fstat must then say S_ISREG, so /dev/zero, a FIFO,
// a socket or a directory is refused before a byte is read. A file that grows past `max_bytes`
// while it is read is refused too (the sink may have seen max_bytes + 1 bytes by then). `st_out`,
// when not null, receives the fstat of the descriptor that is read (for callers that also check
// the mode or owner) before the first chunk.
// Ownership: the chunks are valid only during the sink call; no descriptor outlives the call.
// Thread-safety: reentrant.
// Errors (each names `path`): kIo "cannot open: <strerror>", "not a regular file (a FIFO)" (or
// a character device, block device, socket, directory), "read failed: <strerror>"; kLimit
// "larger than N bytes".
Result<void> read_regular_file(const std::string &path, uint64_t max_bytes,
                               const std::function<void(std::string_view chunk)> &sink,
                               struct stat *st_out = nullptr);

// The same checks, the whole file returned as one string.
Result<std::string> read_regular_file(const std::string &path, uint64_t max_bytes,
                                      struct stat *st_out = nullptr);

}  // namespace avsink

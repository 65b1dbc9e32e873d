// fs_util.h - small POSIX file helpers for the quarantine: full reads/writes, fsync, durable files.
// Every descriptor is owned by a Fd (closed exactly once); no helper follows a symlink it creates.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace avsink::quarantine {

// An owned file descriptor. Movable, not copyable (one owner closes it).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd &operator=(Fd &&o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// "what: strerror(errno)" as a kIo Error naming `path`.
Error io_error(const std::string &what, const std::string &path);

// write(2)/read(2) until done, retrying EINTR. Errors: kIo.
Result<void> write_all(int fd, std::string_view data, const std::string &path);
Result<std::string> read_all(int fd, const std::string &path, uint64_t max_bytes);
// pread of exactly `n` bytes at `off`. Errors: kIo (short file included).
Result<std::string> pread_exact(int fd, uint64_t off, size_t n, const std::string &path);

// mkdir -p style creation of one directory with mode 0700 (parents must exist); an existing
// directory is accepted. Refuses a directory (new or old) that others may access or that is a
// symlink. Returns an O_DIRECTORY descriptor. Errors: kIo / kConfig.
Result<Fd> open_private_dir(int parent_fd, const std::string &name, const std::string &shown_path);

// fsync a directory descriptor (makes renames/unlinks in it durable). Errors: kIo.
Result<void> fsync_dir(int dir_fd, const std::string &path);

// Writes `data` to `final_name` in `dir_fd` crash-safely: a temp file (mode 0600, O_EXCL) in
// `tmp_dir_fd` named `tmp_name`, write, fsync, rename without replacing, fsync both directories.
// Either the complete file appears under `final_name` or nothing does. Errors: kIo (the temp
// file is removed on failure); kState when `final_name` already exists.
Result<void> durable_create(int tmp_dir_fd, const std::string &tmp_name, int dir_fd,
                            const std::string &final_name, std::string_view data,
                            const std::string &shown_path);

// The same, with the bytes produced by `write`, which hands them to the sink it is given in
// pieces (so a large file never sits in memory). Errors: as above, or whatever `write` returns.
Result<void> durable_create_streamed(
    int tmp_dir_fd, const std::string &tmp_name, int dir_fd, const std::string &final_name,
    const std::function<Result<void>(const std::function<Result<void>(std::string_view)> &)> &write,
    const std::string &shown_path);

// Hands `size` bytes of `fd` (from offset 0) to `out` in pieces of at most `piece` bytes.
// Errors: kIo (short file included), or whatever `out` returns.
Result<void> stream_file(int fd, uint64_t size,
                         const std::function<Result<void>(std::string_view)> &out,
                         const std::string &path, size_t piece);

// Names in a directory (no "." / ".."). Errors: kIo.
Result<std::vector<std::string>> list_dir(int dir_fd, const std::string &path);

// Big-endian integer codecs used by the entry and archive formats.
void put_be(std::string *out, uint64_t v, int bytes);
uint64_t get_be(std::string_view in, size_t off, int bytes);

}  // namespace avsink::quarantine

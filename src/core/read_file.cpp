// read_file.cpp - read_regular_file(): O_NONBLOCK open, fstat S_ISREG check, a size cap.
// A FIFO, a device or a file past the cap is an error naming the file; nothing blocks or grows.
#include "core/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace avsink {

namespace {

const char *kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a file";
}

// Closes the descriptor on every return path.
struct Closer {
  int fd;
  ~Closer() {
    if (fd >= 0) ::close(fd);
  }
};

Error too_big(const std::string &path, uint64_t max_bytes) {
  return make_error(ErrorCode::kLimit, "larger than " + std::to_string(max_bytes) + " bytes", path);
}

}  // namespace

Result<void> read_regular_file(const std::string &path, uint64_t max_bytes,
                               const std::function<void(std::string_view chunk)> &sink,
                               struct stat *st_out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, std::string("cannot open: ") + std::strerror(errno), path);
  }
  Closer closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return make_error(ErrorCode::kIo, std::string("cannot stat: ") + std::strerror(errno), path);
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kIo,
                      std::string("not a regular file (") + kind_of(st.st_mode) + ")", path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_big(path, max_bytes);
  if (st_out != nullptr) *st_out = st;
  std::vector<char> buf(static_cast<size_t>(
      std::min<uint64_t>(64u << 10, std::max<uint64_t>(static_cast<uint64_t>(st.st_size), 1))));
  // The buffer is wiped when it is freed: key files are read through it too.
  struct Wipe {
    std::vector<char> &b;
    ~Wipe() { explicit_bzero(b.data(), b.size()); }
  } wipe{buf};
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return make_error(ErrorCode::kIo, std::string("read failed: ") + std::strerror(errno), path);
    }
    if (n == 0) return {};
    total += static_cast<uint64_t>(n);
    // A file that grows while it is read is still bounded.
    if (total > max_bytes) return too_big(path, max_bytes);
    sink(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
}

Result<std::string> read_regular_file(const std::string &path, uint64_t max_bytes,
                                      struct stat *st_out) {
  std::string data;
  struct stat st {};
  auto r = read_regular_file(
      path, max_bytes,
      [&](std::string_view chunk) {
        if (data.empty()) data.reserve(static_cast<size_t>(st.st_size));
        data.append(chunk);
      },
      &st);
  if (!r) return r.error();
  if (st_out != nullptr) *st_out = st;
  return data;
}

}  // namespace avsink

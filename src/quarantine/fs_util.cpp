// fs_util.cpp - POSIX helpers: EINTR-safe I/O, private directories, temp+fsync+rename+fsync.
// All opens use O_CLOEXEC and O_NOFOLLOW; files are created 0600 and directories 0700.
#include "quarantine/fs_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace avsink::quarantine {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Error io_error(const std::string &what, const std::string &path) {
  return make_error(ErrorCode::kIo, what + ": " + strerror(errno), path);
}

Result<void> write_all(int fd, std::string_view data, const std::string &path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_all(int fd, const std::string &path, uint64_t max_bytes) {
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
      return make_error(ErrorCode::kIo, "file larger than the limit", path);
    out.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read failed", path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      return make_error(ErrorCode::kIo, "file larger than the limit", path);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> pread_exact(int fd, uint64_t off, size_t n, const std::string &path) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("read failed", path);
    }
    if (r == 0) return make_error(ErrorCode::kIo, "truncated file", path);
    done += static_cast<size_t>(r);
  }
  return out;
}

Result<Fd> open_private_dir(int parent_fd, const std::string &name, const std::string &shown_path) {
  bool created = false;
  if (::mkdirat(parent_fd, name.c_str(), 0700) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    return io_error("cannot create directory", shown_path);
  }
  Fd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open directory", shown_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat directory", shown_path);
  if (created) {
    // mkdir's mode is filtered by the umask; set exactly 0700.
    if (::fchmod(fd.get(), 0700) != 0) return io_error("cannot chmod directory", shown_path);
    if (::fsync(parent_fd) != 0) return io_error("cannot fsync parent directory", shown_path);
  } else if ((st.st_mode & S_IRWXO) != 0) {
    return make_error(ErrorCode::kConfig,
                      "directory is accessible by others; the quarantine must be private "
                      "(chmod 700)",
                      shown_path);
  }
  return fd;
}

Result<void> fsync_dir(int dir_fd, const std::string &path) {
  if (::fsync(dir_fd) != 0) return io_error("cannot fsync directory", path);
  return {};
}

Result<void> durable_create(int tmp_dir_fd, const std::string &tmp_name, int dir_fd,
                            const std::string &final_name, std::string_view data,
                            const std::string &shown_path) {
  return durable_create_streamed(
      tmp_dir_fd, tmp_name, dir_fd, final_name,
      [&](const std::function<Result<void>(std::string_view)> &sink) { return sink(data); },
      shown_path);
}

Result<void> durable_create_streamed(
    int tmp_dir_fd, const std::string &tmp_name, int dir_fd, const std::string &final_name,
    const std::function<Result<void>(const std::function<Result<void>(std::string_view)> &)> &write,
    const std::string &shown_path) {
  Fd fd(::openat(tmp_dir_fd, tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600));
  if (!fd.valid()) return io_error("cannot create temp file", shown_path);
  auto fail = [&](Error e) -> Result<void> {
    fd.reset();
    ::unlinkat(tmp_dir_fd, tmp_name.c_str(), 0);
    return e;
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(io_error("cannot chmod temp file", shown_path));
  if (auto w = write([&](std::string_view d) { return write_all(fd.get(), d, shown_path); }); !w)
    return fail(w.error());
  if (::fsync(fd.get()) != 0) return fail(io_error("fsync failed", shown_path));
  fd.reset();
  // RENAME_NOREPLACE: an existing entry is never overwritten (ids are random; this is a guard).
  if (::renameat2(tmp_dir_fd, tmp_name.c_str(), dir_fd, final_name.c_str(), RENAME_NOREPLACE) !=
      0) {
    int err = errno;
    if (err == EEXIST) return fail(make_error(ErrorCode::kState, "already exists", shown_path));
    if (err != EINVAL && err != ENOSYS) {
      errno = err;
      return fail(io_error("rename failed", shown_path));
    }
    // File systems without RENAME_NOREPLACE: link (fails on EEXIST) + unlink.
    if (::linkat(tmp_dir_fd, tmp_name.c_str(), dir_fd, final_name.c_str(), 0) != 0) {
      if (errno == EEXIST) return fail(make_error(ErrorCode::kState, "already exists", shown_path));
      return fail(io_error("link failed", shown_path));
    }
    ::unlinkat(tmp_dir_fd, tmp_name.c_str(), 0);
  }
  if (auto s = fsync_dir(dir_fd, shown_path); !s) return s;
  if (tmp_dir_fd != dir_fd) ::fsync(tmp_dir_fd);
  return {};
}

Result<void> stream_file(int fd, uint64_t size,
                         const std::function<Result<void>(std::string_view)> &out,
                         const std::string &path, size_t piece) {
  for (uint64_t off = 0; off < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - off, piece));
    auto data = pread_exact(fd, off, n, path);
    if (!data) return data.error();
    if (auto r = out(*data); !r) return r;
    off += n;
  }
  return {};
}

Result<std::vector<std::string>> list_dir(int dir_fd, const std::string &path) {
  // A fresh open file description (not dup): concurrent listings must not share an offset.
  int own = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return io_error("cannot open directory", path);
  DIR *d = ::fdopendir(own);
  if (d == nullptr) {
    ::close(own);
    return io_error("cannot read directory", path);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    return io_error("cannot read directory", path);
  }
  return names;
}

void put_be(std::string *out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view in, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(in[off + i]);
  return v;
}

}  // namespace avsink::quarantine

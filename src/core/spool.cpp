// spool.cpp - memory-then-file message spool; the temp file is unlinked at creation (O_TMPFILE or
// mkstemp+unlink) so nothing is left behind even if the process dies.
#include "core/spool.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace avsink {

Spool::Spool(std::string dir, uint64_t memory_threshold, uint64_t max_bytes)
    : dir_(std::move(dir)), threshold_(memory_threshold), max_(max_bytes) {
  if (dir_.empty()) {
    const char *tmp = std::getenv("TMPDIR");
    dir_ = (tmp && *tmp) ? tmp : "/tmp";
  }
}

Spool::~Spool() {
  if (map_ != nullptr) ::munmap(map_, map_len_);
  if (fd_ >= 0) ::close(fd_);
}

Result<void> Spool::spill() {
  fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    std::string tmpl = dir_ + "/avsink-spool-XXXXXX";
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0)
      return make_error(ErrorCode::kIo, "cannot create spool file: " + std::string(strerror(errno)),
                        dir_);
    ::unlink(tmpl.c_str());
  }
  std::string pending;
  pending.swap(memory_);
  std::string_view rest = pending;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error(ErrorCode::kIo, "spool write failed: " + std::string(strerror(errno)),
                        dir_);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> Spool::append(std::string_view data) {
  if (map_ != nullptr) {
    ::munmap(map_, map_len_);
    map_ = nullptr;
  }
  total_ += data.size();
  uint64_t room = max_ > stored_ ? max_ - stored_ : 0;
  if (data.size() > room) data = data.substr(0, room);
  if (data.empty()) return {};
  if (fd_ < 0 && memory_.size() + data.size() > threshold_) {
    if (auto r = spill(); !r) return r;
  }
  if (fd_ < 0) {
    memory_.append(data);
  } else {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return make_error(ErrorCode::kIo, "spool write failed: " + std::string(strerror(errno)),
                          dir_);
      data.remove_prefix(static_cast<size_t>(n));
      stored_ += static_cast<uint64_t>(n);
    }
    return {};
  }
  stored_ += data.size();
  return {};
}

Result<std::string_view> Spool::view() {
  if (fd_ < 0) return std::string_view(memory_);
  if (stored_ == 0) return std::string_view();
  if (map_ == nullptr) {
    void *p = ::mmap(nullptr, stored_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED)
      return make_error(ErrorCode::kIo, "cannot map spool file: " + std::string(strerror(errno)),
                        dir_);
    map_ = p;
    map_len_ = stored_;
  }
  return std::string_view(static_cast<const char *>(map_), map_len_);
}

}  // namespace avsink

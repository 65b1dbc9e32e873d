// audit.cpp - append-only JSON-lines audit log: O_APPEND, one write per record, fdatasync.
// A record is never split across writes, so concurrent writers (threads or processes) never
// interleave.
#include "core/audit.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"

namespace avsink {

Result<std::shared_ptr<AuditLog>> AuditLog::open(const std::string &path) {
  int fd = -1;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return make_error(ErrorCode::kIo, "cannot open audit log: " + std::string(strerror(errno)),
                        path);
  }
  return std::shared_ptr<AuditLog>(new AuditLog(fd, path));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> AuditLog::reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  return reopen_locked();
}

Result<void> AuditLog::reopen_locked() {
  if (fd_ < 0) return {};
  struct stat open_st {
  }, path_st{};
  if (::fstat(fd_, &open_st) == 0 && ::stat(path_.c_str(), &path_st) == 0 &&
      open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino)
    return {};  // still the same file
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(ErrorCode::kIo, "cannot reopen audit log: " + std::string(strerror(errno)),
                      path_);
  ::close(fd_);
  fd_ = fd;
  return {};
}

Result<void> AuditLog::record(std::string_view event, const nlohmann::json &fields) {
  if (fd_ < 0) return {};
  nlohmann::json rec = nlohmann::json::object();
  rec["time"] = util::iso8601_utc_now_ms();
  rec["event"] = std::string(event);
  if (fields.is_object())
    for (auto it = fields.begin(); it != fields.end(); ++it) rec[it.key()] = it.value();
  // Invalid UTF-8 from a message-derived string is replaced, never allowed to throw.
  std::string line = rec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  // After logrotate's move the record goes to the new file; if that fails, to the old one.
  (void)reopen_locked();
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    return make_error(ErrorCode::kIo,
                      "audit write failed: " + std::string(n < 0 ? strerror(errno) : "short write"),
                      path_);
  ::fdatasync(fd_);
  return {};
}

}  // namespace avsink

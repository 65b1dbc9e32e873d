// audit.h - the append-only audit log: one JSON object per line for every security-relevant change.
// Records reloads (with file SHA-256s), rejected reloads, config loads, quarantine release/delete.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace avsink {

class AuditLog {
 public:
  // Opens (creates, mode 0600) `path` for appending. An empty path gives a log that records
  // nothing (auditing disabled). Errors: kIo with the path and strerror.
  static Result<std::shared_ptr<AuditLog>> open(const std::string &path);
  ~AuditLog();
  AuditLog(const AuditLog &) = delete;  // owns a file descriptor
  AuditLog &operator=(const AuditLog &) = delete;

  // Appends {"time": RFC 3339 UTC, "event": event, ...fields} and a newline with one write(2)
  // on an O_APPEND descriptor, then fdatasync. Thread-safe. Errors: kIo (the record is lost,
  // the caller decides whether that matters).
  // Follows a rotation first (reopen()).
  Result<void> record(std::string_view event, const nlohmann::json &fields);

  // Opens the path again when it no longer names the file being written (logrotate moved it:
  // another inode, or none), so records go to the new file. record() does this check itself
  // before each write; call it on SIGHUP too. Thread-safe. Errors: kIo (the old descriptor stays).
  Result<void> reopen();

  const std::string &path() const { return path_; }

 private:
  AuditLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Result<void> reopen_locked();
  int fd_ = -1;
  std::string path_;
  std::mutex mu_;
};

}  // namespace avsink

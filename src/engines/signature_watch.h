// signature_watch.h - reloads an engine when its signature files change (freshclam, an operator).
// A failed reload keeps the running generation and is audited; the watcher never stops on errors.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/audit.h"
#include "core/log.h"
#include "core/result.h"
#include "engines/engine.h"

namespace avsink::engines {

// Watches directories (or single files) with core/file_watch (inotify on each directory and on
// each path's parent, plus a stat poll every poll_ms as the safety net). After a change has been
// quiet for debounce_ms (freshclam writes temp files, then renames: one reload for the whole
// update; never longer than max(4 x debounce_ms, 2 s) after the first event), it compares what a
// reload would read - each watched file, and in each watched directory the files with a ClamAV
// database extension (is_clamav_database_name: not freshclam.dat, temp files or freshclam's tmp.*
// directory) - by name, size, mtime and inode with what it saw at the previous reload, and calls
// reload() only when that differs.
//
// After reload(): on success, audits "signatures.reload" {engine, generation, signatures,
// db_version, files: [{path, sha256, mtime}]} from status() and logs at info; on failure,
// audits "signatures.reload_rejected" {engine, file, line, reason, keeping_generation,
// message: "keeping generation N"} and logs an error. A broken file is not retried until the
// files change again.
//
// Thread-safety: reload() and status() run on the watcher thread, never concurrently with
// themselves; they must be safe to call while other threads scan (ClamavEngine::reload and
// HashListEngine::reload are). The counters may be read from any thread.
// Ownership: owns its thread and descriptors; the callbacks and the audit log are held until
// the destructor returns, which stops and joins the thread (waiting for a reload in progress).
class SignatureWatch {
 public:
  // Starts watching `paths` (need not exist yet). poll_ms: the stat poll interval (> 0);
  // debounce_ms: the quiet time before a reload. `audit` may be null (no audit records).
  // Errors: kInvalidArgument (no paths, an empty path, poll_ms 0, a missing callback);
  // kIo when the thread or its wake-up descriptor cannot be created. Without inotify (no
  // descriptors left) it polls only.
  static Result<std::unique_ptr<SignatureWatch>> start(std::vector<std::string> paths,
                                                       std::function<Result<void>()> reload,
                                                       std::function<EngineStatus()> status,
                                                       std::shared_ptr<AuditLog> audit,
                                                       uint32_t poll_ms, uint32_t debounce_ms = 500,
                                                       Logger logger = {});
  ~SignatureWatch();
  SignatureWatch(const SignatureWatch &) = delete;  // owns a thread and descriptors
  SignatureWatch &operator=(const SignatureWatch &) = delete;

  uint64_t reloads() const;        // successful reloads since start
  uint64_t rejected() const;       // failed reloads since start
  std::string last_error() const;  // describe() of the last failed reload, "" when none
  bool using_inotify() const;

 private:
  struct Impl;
  explicit SignatureWatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::engines

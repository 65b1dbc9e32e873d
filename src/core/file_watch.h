// file_watch.h - watches files and directories for changes: inotify on the parent directories
// plus stat polling; one background thread, a debounced callback. Never throws out of the thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace avsink {

// What to watch and how. Defaults:
//   debounce_ms    200   quiet time after the last event before the callback runs
//   max_delay_ms   2000  the callback runs at most this long after the first event, even while
//                        events keep arriving (a file rewritten without pause still reloads)
//   poll_ms        1000  stat polling interval; also the safety net when inotify is used (it
//                        catches what inotify cannot see: a symlink swapped two levels up, a
//                        parent directory replaced, a watch limit reached)
//   use_inotify    true  false = stat polling only
struct FileWatchOptions {
  // Files or directories. A file is watched through its parent directory, so a replacement by
  // rename (what editors and config managers do) is seen; a directory is watched itself (any
  // entry created, changed, renamed or removed) and through its parent. Paths need not exist yet.
  std::vector<std::string> paths;
  uint32_t debounce_ms = 200;
  uint32_t max_delay_ms = 2000;
  uint32_t poll_ms = 1000;
  bool use_inotify = true;

  // Errors: kInvalidArgument naming the offending key (no paths, empty path, poll_ms 0,
  // max_delay_ms < debounce_ms).
  Result<void> validate() const;
};

// A running watcher. The callback runs on the watcher's own thread, never concurrently with
// itself, with the watched paths that changed (best effort: all of them after an inotify queue
// overflow). Exceptions thrown by the callback are caught and dropped.
// Thread-safety: the public members may be called from any thread.
// Ownership: owns its thread and descriptors; the destructor wakes the thread and joins it, so
// the callback is never running (and never runs again) once the destructor returns. The callback
// must therefore not destroy the FileWatch itself.
class FileWatch {
 public:
  using Callback = std::function<void(const std::vector<std::string> &changed)>;

  // Starts watching. When inotify is unavailable (no descriptors, watch limit) it falls back to
  // stat polling silently; using_inotify() tells which. Errors: kInvalidArgument from validate(),
  // kIo when the thread or wake-up descriptor cannot be created.
  static Result<std::unique_ptr<FileWatch>> start(FileWatchOptions options, Callback on_change);
  ~FileWatch();
  FileWatch(const FileWatch &) = delete;  // owns a thread and descriptors
  FileWatch &operator=(const FileWatch &) = delete;

  bool using_inotify() const;
  uint64_t callbacks_run() const;  // how many times the callback has run (for tests and stats)

 private:
  struct Impl;
  explicit FileWatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink

// hash_list.h - the SHA-256 hash-list engine: a part whose SHA-256 is listed is a kVirus finding.
// The loaded list is an immutable snapshot; reload builds a new one aside and swaps it in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "engines/engine.h"

namespace avsink::engines {

// File format, one entry a line (sha256sum output is accepted as it is):
//   <64 hex digits> <whitespace> <name>      name: printable ASCII, no whitespace
//   # comment                                blank lines are ignored
//   # avsink: empty                          this file has no entries on purpose
// Hex digits may be upper or lower case. A file without entries and without the
// "# avsink: empty" line is invalid (DESIGN.md §7: an empty signature file is a mistake unless it
// says otherwise). The same hash listed twice under one name is one entry; under different names,
// a match reports every name.
//
// Defaults:
//   files     (none)   every file is loaded, in order; at least one is needed
//   required  true     fail closed when this engine errors
struct HashListOptions {
  std::vector<std::string> files;
  bool required = true;

  // The [hashlist] settings of `config`; files empty = the shipped signatures' *.sha256, sorted.
  // Thread-safe (lists a directory).
  static HashListOptions from(const Config &config);
};

// Thread-safety: scan(), status() and reload() may be called from any thread concurrently; a
// scan uses the snapshot that was current when it started. Ownership: owns its snapshot only.
class HashListEngine final : public Engine {
 public:
  // Loads every file. Errors: kConfig when no file is configured; kIo when a file cannot be read
  // (message has strerror, Error::file the path); kConfig with file and line for a bad line or an
  // empty file.
  static Result<std::unique_ptr<HashListEngine>> open(const HashListOptions &options);
  ~HashListEngine() override;
  HashListEngine(const HashListEngine &) = delete;  // owns its snapshot slot and options
  HashListEngine &operator=(const HashListEngine &) = delete;

  std::string_view name() const override { return "hashlist"; }
  bool required() const override;
  // Findings: one kVirus per listed name whose hash equals SHA-256(item.data), inspector
  // "hashlist", detail "sha256 <hex> listed in <file>:<line>"; kUnscannable
  // "Limits.Exceeded.ScanTime" when the deadline has passed before the scan. Empty data is not
  // hashed (nothing to find). Errors: kNoMemory when OpenSSL cannot allocate a digest context.
  Result<Findings> scan(const ScanItem &item, const Deadline &deadline) override;
  // signatures = entries; db_version = "sha256:" + the first 12 hex digits of a digest over the
  // files' digests (equal on two gateways with the same lists); db_time = newest file mtime.
  EngineStatus status() const override;

  // Re-reads every file on the calling thread and swaps the new list in atomically. On error the
  // previous list stays in use and the Error names the file and line.
  Result<void> reload();

  // The configured files, for a signature watcher. Thread-safe.
  const std::vector<std::string> &files() const;

 private:
  struct Impl;
  explicit HashListEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::engines

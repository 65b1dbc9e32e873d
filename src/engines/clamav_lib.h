// clamav_lib.h - libclamav in process: loads signature directories, compiles once, scans parts.
// The compiled engine is an immutable snapshot shared by all threads; reload builds aside and
// swaps.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/result.h"
#include "engines/engine.h"

namespace avsink::engines {

struct ClamavOptions {
  // Directories (or single database files) loaded in order with cl_load(); every ClamAV format.
  // Entries that do not exist are skipped; open() fails with kConfig when nothing is left to load.
  std::vector<std::string> signature_dirs;
  // Also load the system database (cl_retdbdir(), usually /var/lib/clamav) when it holds one;
  // it is loaded after signature_dirs, and skipped when missing or without database files.
  bool load_system_db = true;
  std::string system_db_dir;  // "" = cl_retdbdir()
  bool required = true;       // fail closed when this engine errors
  // Heuristics that turn "cannot inspect" into a finding instead of "clean".
  bool heuristic_exceeds_max = true;  // CL_SCAN_HEURISTIC_EXCEEDS_MAX
  bool heuristic_encrypted = true;    // encrypted archives and documents
  bool scan_raw_message = true;       // also hand libclamav the raw message once (its mail parser)
  Limits limits;                      // scan size, file size, recursion, files, time
  // libclamav's CL_ENGINE_TMPDIR ("" = $TMPDIR or /tmp). open() fails with kConfig when it is
  // set but not a writable directory.
  std::string temp_dir;
  // Where libclamav's own errors and warnings during a scan go (errors at kWarn, warnings at
  // kInfo, prefixed "libclamav: "); outside scans they go to stderr. Default: discarded.
  Logger logger;

  // The [clamav] and [limits] settings of `config` ([clamav] signature_dirs empty = the shipped
  // signatures; [scan] temp_dir empty = default_scratch_dir()). The logger is the caller's to
  // set. Thread-safe (reads the environment).
  static ClamavOptions from(const Config &config);
};

// Where libclamav's per-scan scratch directories go when [scan] temp_dir is "": "" when $TMPDIR
// is set (the operator chose; libclamav reads it); else /dev/shm, then $XDG_RUNTIME_DIR, the first
// that is a writable directory on tmpfs (a mkdir/rmdir per scanned part on a disk file system was
// 24-30% of a scan's CPU, bench/README.md); else "" (libclamav's own default, /tmp). Thread-safe
// (reads the environment). Scratch files on tmpfs take memory; when it is full libclamav's write
// fails and the scan is an engine error (tempfail), never clean.
std::string default_scratch_dir();

// True when cl_load() reads a file of this name from a directory: its extension is a ClamAV
// database format (.cvd .cld .cud .ndb .hdb .hsb .ldb .ign2 ... and .info), in any case. Hidden
// files count too (libclamav does not skip them). For signature watchers. Thread-safe.
bool is_clamav_database_name(std::string_view name);

class ClamavEngine final : public Engine {
 public:
  // Initialises libclamav once per process (cl_init), loads and compiles the databases.
  // Errors: kEngine when a database fails to load/compile (message names the file and reason),
  // kConfig when no signature directory exists at all.
  static Result<std::unique_ptr<ClamavEngine>> open(const ClamavOptions &options);
  ~ClamavEngine() override;
  ClamavEngine(const ClamavEngine &) = delete;  // owns a libclamav engine snapshot
  ClamavEngine &operator=(const ClamavEngine &) = delete;

  std::string_view name() const override { return "clamav"; }
  bool required() const override;
  // Findings: kVirus per signature name (as written in the database, without libclamav's
  // ".UNOFFICIAL"); kUnscannable for "Heuristics.Encrypted.*", "Heuristics.Limits.Exceeded.*"
  // (also raised by avsink for a member larger than max_file_bytes, which libclamav's zip
  // unpacker would silently truncate), "Limits.Exceeded.ScanTime" (deadline), and libclamav's
  // limit errors. Never "clean" for content that was not fully inspected. Errors: kEngine or
  // kNoMemory when libclamav failed and found nothing; kInternal when on_member threw.
  Result<Findings> scan(const ScanItem &item, const Deadline &deadline) override;
  EngineStatus status() const override;

  // Loads and compiles a fresh engine from the same options on the calling thread, then swaps it
  // in atomically. Scans in flight finish on the old one. On error the old engine stays.
  Result<void> reload();

  // What a signature watcher should watch: signature_dirs, then the system database directory
  // when load_system_db is on (even while it is missing or empty: freshclam may fill it later).
  // Thread-safe; the options do not change after open().
  std::vector<std::string> watch_paths() const;

  // libclamav's version string (cl_retver()).
  static std::string library_version();
  // libclamav's compiled-in database directory (cl_retdbdir(), usually /var/lib/clamav).
  static std::string default_system_db_dir();

 private:
  struct Impl;
  explicit ClamavEngine(std::unique_ptr<Impl> impl);
  // `hidden_depth`: how many CL_TYPE_IGNORED layers (clamav_ignored_types.h) this scan is inside;
  // bounded by max_archive_recursion.
  Result<Findings> scan_at(const ScanItem &item, const Deadline &deadline, uint32_t hidden_depth);
  Result<Findings> scan_once(const ScanItem &item, const Deadline &deadline, uint32_t hidden_depth);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::engines

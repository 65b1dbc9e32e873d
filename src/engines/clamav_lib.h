// clamav_lib.h - libclamav in process: loads signature directories, compiles once, scans parts.
// The compiled engine is an immutable snapshot shared by all threads; reload builds aside and
// swaps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/result.h"
#include "engines/engine.h"

namespace avsink::engines {

struct ClamavOptions {
  // Directories (or single database files) loaded in order with cl_load(); every ClamAV format.
  std::vector<std::string> signature_dirs;
  // Also load the system database (cl_retdbdir(), usually /var/lib/clamav) when it holds one.
  bool load_system_db = true;
  std::string system_db_dir;  // "" = cl_retdbdir()
  bool required = true;       // fail closed when this engine errors
  // Heuristics that turn "cannot inspect" into a finding instead of "clean".
  bool heuristic_exceeds_max = true;  // CL_SCAN_HEURISTIC_EXCEEDS_MAX
  bool heuristic_encrypted = true;    // encrypted archives and documents
  bool scan_raw_message = true;       // also hand libclamav the raw message once (its mail parser)
  Limits limits;                      // scan size, file size, recursion, files, time
};

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
  Result<Findings> scan(const ScanItem &item, const Deadline &deadline) override;
  EngineStatus status() const override;

  // Loads and compiles a fresh engine from the same options on the calling thread, then swaps it
  // in atomically. Scans in flight finish on the old one. On error the old engine stays.
  Result<void> reload();

  // libclamav's version string (cl_retver()).
  static std::string library_version();

 private:
  struct Impl;
  explicit ClamavEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::engines

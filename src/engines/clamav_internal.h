// clamav_internal.h - what the two halves of the in-process libclamav engine share; private to
// src/engines. clamav_lib.cpp loads and swaps the compiled engine, clamav_scan.cpp scans with it.
#pragma once

#include <memory>
#include <mutex>

#include <clamav.h>

#include "core/log.h"
#include "core/snapshot.h"
#include "engines/clamav_lib.h"
#include "engines/engine.h"

namespace avsink::engines {
namespace clamav_internal {

struct EngineFree {
  void operator()(cl_engine *e) const {
    if (e != nullptr) cl_engine_free(e);
  }
};
using EnginePtr = std::unique_ptr<cl_engine, EngineFree>;

// One compiled libclamav engine and what was loaded into it. Immutable once published; shared by
// every scan that started while it was current, freed when the last of them ends.
struct ClamavSnapshot {
  EnginePtr engine;
  EngineStatus status;
};

using SnapshotPtr = std::shared_ptr<const ClamavSnapshot>;

// Sets the per-file callbacks (pre-scan, file inspection, virus found) that scan() relies on, on a
// new engine before it is compiled. Not thread-safe for one engine (libclamav's rule: options are
// set before the engine is shared). Defined in clamav_scan.cpp.
void install_scan_callbacks(cl_engine *engine);

// The logger of the scan whose callback context is `context` (libclamav's message callback gets
// it during a scan), or nullptr outside a scan. Thread-safe. Defined in clamav_scan.cpp.
const Logger *scan_logger(void *context);

}  // namespace clamav_internal

struct ClamavEngine::Impl {
  ClamavOptions options;
  Snapshot<clamav_internal::ClamavSnapshot> current;  // scans use it; reload() publishes the next
  std::mutex reload_mu;  // one reload at a time, so generations are strictly increasing

  clamav_internal::SnapshotPtr snapshot() const { return current.get(); }
};

}  // namespace avsink::engines

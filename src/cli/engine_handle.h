// engine_handle.h - the CLI's RAII owners of C ABI handles, and opening an engine with messages
// printed the way an operator reads them (file:line: reason). CLI only.
#pragma once

#include <memory>
#include <string>

#include "avsink/avsink.h"

namespace avsink::cli {

struct EngineDeleter {
  void operator()(avsink_engine *e) const { avsink_engine_free(e); }
};
struct ScanDeleter {
  void operator()(avsink_scan *s) const { avsink_scan_free(s); }
};
using EnginePtr = std::unique_ptr<avsink_engine, EngineDeleter>;
using ScanPtr = std::unique_ptr<avsink_scan, ScanDeleter>;

// Opens an engine from `config_path` ("" = $AVSINK_CONFIG, else embedded defaults); on failure
// prints "avsink: file:line: reason" to stderr and returns null. Logs go to stderr at warn+.
EnginePtr open_engine(const std::string &config_path, uint32_t flags);

}  // namespace avsink::cli

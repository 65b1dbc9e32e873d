// open.h - picks and opens the quarantine backend a configuration names ("filesystem", the
// default, or "postgresql"), so callers hold a Backend and never care which one.
#pragma once

#include <memory>
#include <string>

#include "core/audit.h"
#include "core/result.h"
#include "quarantine/backend.h"
#include "quarantine/pg_store.h"
#include "quarantine/store.h"

namespace avsink::quarantine {

struct BackendOptions {
  std::string backend = "filesystem";  // or "postgresql"
  StoreOptions fs;                     // used when backend = "filesystem"
  PgOptions pg;                        // used when backend = "postgresql"
};

// Opens the chosen backend. Errors: kConfig for an unknown backend name, else the backend's own.
// Thread-safe (no shared state); the returned Backend is owned by the caller.
Result<std::unique_ptr<Backend>> open_backend(const BackendOptions &options,
                                              std::shared_ptr<AuditLog> audit);

// The connection string: `conninfo` when set, else the first non-empty, non-# line of `file`
// (read with read_regular_file: at most 64 KiB, a FIFO never blocks). Errors: kConfig when
// neither is set or the file cannot be read.
Result<std::string> pg_conninfo(const std::string &conninfo, const std::string &file);

}  // namespace avsink::quarantine

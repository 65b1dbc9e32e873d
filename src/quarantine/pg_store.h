// pg_store.h - the quarantine on PostgreSQL (libpq), shared by every gateway of a site: same entry
// format and keys as the filesystem store, one transaction per entry, release marks in a table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quarantine/backend.h"

namespace avsink::quarantine {

// Options (defaults in brackets):
//   conninfo             [required]  a libpq connection string or URI; it may not carry a
//                                    password (libpq reads one from its passfile: ~/.pgpass,
//                                    $PGPASSFILE or passfile=...)
//   key_file             [""]        as StoreOptions: "" = no encryption
//   release_secret_file  [""]        as StoreOptions; "" = derived from key_file; one of the two is
//                                    required (every gateway must share the secret)
//   timeout_ms           [5000]      bound on connecting plus each whole operation (put, read,
//                                    ...): past it the operation fails kTimeout and the
//                                    connection is dropped (the server rolls back)
//   chunk_bytes          [1 MiB]     an entry is stored as rows of at most this many bytes
//   require_connection   [true]      open() fails when the server cannot be reached; false: open
//                                    succeeds and each operation connects (the scan's choice)
struct PgOptions {
  std::string conninfo;
  std::string key_file;
  std::string release_secret_file;
  int64_t retention_seconds = 30 * 86400;
  int64_t release_mark_max_age_seconds = 86400;
  int timeout_ms = 5000;
  size_t chunk_bytes = size_t{1} << 20;
  bool require_connection = true;
  std::function<int64_t()> clock;
};

// The schema version this build reads and writes (the highest pg_migrations/NNN_*.sql).
int pg_schema_version();

// Applies every migration newer than the database's version, each in its own transaction under
// an advisory lock (two migrate runs never interleave). Returns (version before, version after).
// Only `avsink quarantine migrate` calls this; nothing else changes the schema. Errors: kIo (the
// server), kConfig (bad conninfo, a database newer than this build).
Result<std::pair<int, int>> pg_migrate(const std::string &conninfo, int timeout_ms);

// The PostgreSQL backend. Thread-safety: every member may be called from any thread (a small
// pool of connections, one per concurrent operation). Ownership: owns its connections and a copy
// of the key; the AuditLog is shared. A connection is only used after the schema version was
// checked on it: an unmigrated or older schema is kConfig "... run `avsink quarantine migrate`".
// Errors: as Store, plus kTimeout when the server did not answer within timeout_ms and kIo
// "postgresql: ..." when it cannot be reached or fails a statement.
class PgStore final : public Backend {
 public:
  static Result<std::unique_ptr<PgStore>> open(const PgOptions &options,
                                               std::shared_ptr<AuditLog> audit);
  ~PgStore() override;
  PgStore(const PgStore &) = delete;
  PgStore &operator=(const PgStore &) = delete;

  // The entry file (entry.h) is written as rows of avsink_chunks and one avsink_entries row in a
  // single transaction: visible whole on commit, or not at all. The file is produced a chunk at a
  // time (no second copy of the message in memory). The operation ends at timeout_ms or at
  // `deadline`, whichever comes first: past it, kTimeout and nothing is stored.
  Result<std::string> put(std::string_view message, const EntryMeta &meta,
                          const Deadline *deadline = nullptr) override;
  bool exists(const std::string &id) const override;
  Result<EntryMeta> meta(const std::string &id) const override;
  // One read-only snapshot, one chunk row per query; the bytes are checked against the entry
  // row's size, chunk count and SHA-256 (kIo "tampered: ..." at the end when they differ).
  Result<void> stream_entry_file(const std::string &id,
                                 const std::function<Result<void>(uint64_t)> &on_size,
                                 const ByteSink &out) const override;
  Result<std::vector<EntryMeta>> list(Unreadable *unreadable = nullptr) const override;
  Result<void> remove(const std::string &id, const std::string &by) override;
  Result<size_t> purge_older_than(int64_t age_seconds, const std::string &by) override;
  Result<VerifyReport> verify() const override;
  // The same archive format as Store::export_to (either backend imports it).
  Result<void> export_to(const std::string &archive_path) const override;
  // Reads the archive twice: first checks the manifest and fully verifies every entry (streamed:
  // memory bounded by a chunk), then inserts all new entries in one transaction, checking that
  // each member's bytes are still those verified. kState when an id
  // exists with different bytes (nothing is committed).
  Result<size_t> import_from(const std::string &archive_path) override;
  // Release records are rows of avsink_releases; a claim is a conditional UPDATE (used_at IS
  // NULL), so a mark is honoured once across every gateway.
  Result<void> record_release(const std::string &id, int64_t mark_time,
                              const std::vector<std::string> &rcpts) override;
  std::string claim_release(const std::string &id, int64_t mark_time,
                            const std::vector<std::string> &rcpt_keys) override;
  const std::string &dir() const override { return name_; }

  struct Impl;

 private:
  PgStore() = default;
  Result<std::string> read_entry(const std::string &id, bool prefix_only) const;
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

}  // namespace avsink::quarantine

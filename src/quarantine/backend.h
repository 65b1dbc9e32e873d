// backend.h - the quarantine's interface to its callers (scan, CLI, C ABI), whatever the backend:
// the filesystem store (store.h, the default) or PostgreSQL (pg_store.h); open_backend() picks one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/audit.h"
#include "core/deadline.h"
#include "core/result.h"
#include "quarantine/archive.h"
#include "quarantine/entry.h"

namespace avsink::quarantine {

// The export archive's layout, shared by every backend so that one's export is the other's import.
inline constexpr std::string_view kArchiveEntries = "avsink-quarantine/entries/";
inline constexpr std::string_view kArchiveManifest = "avsink-quarantine/manifest.json";
inline constexpr std::string_view kArchiveFormat = "avsink-quarantine-archive";
inline constexpr std::string_view kEntrySuffix = ".avq";

// Where and how Backend::release() sends a released copy.
struct ReleaseOptions {
  std::string host;  // the configured next hop only
  uint16_t port = 25;
  std::vector<std::string> rcpts;        // empty = the entry's original envelope recipients
  std::optional<std::string> mail_from;  // nullopt = the entry's original envelope sender
  std::string by;                        // operator name for the audit log (required)
  int timeout_ms = 30000;
};

// The outcome of looking for release marks in a message that is being scanned.
struct ReleaseCheck {
  bool present = false;  // at least one X-Avsink-Release field in the top-level header
  bool valid = false;    // one of them verifies (HMAC, age, content)
  std::string id;        // the entry id of the valid mark ("" when none)
  std::string refused;   // use_release(): why a valid mark was not honoured ("" otherwise)
};

// A quarantine backend. Every promise of Store (store.h) holds for each backend: an entry is whole
// or absent, encrypted with the same key handling and entry format (entry.h), fully verified on
// read, purged after retention, single-use release marks. Thread-safety: every member may be
// called from any thread at once. Errors are Result values as documented on Store; a backend
// that cannot reach its storage answers kIo or kTimeout (the scan turns both into a tempfail).
class Backend {
 public:
  struct VerifyReport {
    size_t ok = 0;
    std::vector<std::pair<std::string, std::string>> bad;  // id (or file name), reason
    size_t temp_files_removed = 0;
  };
  using Unreadable = std::vector<std::pair<std::string, std::string>>;

  virtual ~Backend();

  // Stores `message`; besides `message` itself, memory holds one kStreamPiece (or chunk) and the
  // metadata. `deadline` (the scan's; null = none): a backend that cannot finish before it fails
  // kTimeout and stores nothing (PostgreSQL; the local filesystem store does not wait on others).
  virtual Result<std::string> put(std::string_view message, const EntryMeta &meta,
                                  const Deadline *deadline = nullptr) = 0;
  virtual bool exists(const std::string &id) const = 0;
  virtual Result<EntryMeta> meta(const std::string &id) const = 0;
  // Streams entry `id`'s stored file (entry.h bytes, not yet verified) from one consistent version
  // of the entry: `on_size` (may be null) gets its size first, then `out` its bytes in pieces of
  // at most kStreamPiece (or the backend's chunk). Errors: kIo "no such quarantine entry: <id>"
  // before any byte; kIo/kTimeout from the storage; whatever a callback returns.
  virtual Result<void> stream_entry_file(const std::string &id,
                                         const std::function<Result<void>(uint64_t)> &on_size,
                                         const ByteSink &out) const = 0;
  // The message decrypted and checked against every digest, tag and its SHA-256, streamed to
  // `out` (null: only checked) with memory bounded by a piece: the bytes `out` got count only
  // when the result is ok (any mismatch is kIo "tampered: ..." at the end at the latest).
  // Returns the metadata and, in `file_sha256` when given, the entry file's SHA-256.
  Result<EntryMeta> read_message(const std::string &id, const ByteSink &out,
                                 std::string *file_sha256 = nullptr) const;
  // read_message into one string (memory: the message).
  Result<std::string> message(const std::string &id) const;
  virtual Result<std::vector<EntryMeta>> list(Unreadable *unreadable = nullptr) const = 0;
  virtual Result<void> remove(const std::string &id, const std::string &by) = 0;
  virtual Result<size_t> purge_older_than(int64_t age_seconds, const std::string &by) = 0;
  Result<size_t> purge_expired(const std::string &by);  // retention 0 = keep: returns 0
  virtual Result<VerifyReport> verify() const = 0;
  virtual Result<void> export_to(const std::string &archive_path) const = 0;
  virtual Result<size_t> import_from(const std::string &archive_path) = 0;
  // Records the release of entry `id` to `rcpts` with the mark made at `mark_time`, durably, in
  // the store every gateway shares (see Store::prepare_release).
  virtual Result<void> record_release(const std::string &id, int64_t mark_time,
                                      const std::vector<std::string> &rcpts) = 0;
  // Uses a recorded release once: checks that every one of `rcpt_keys` (release_rcpt_key form)
  // was released to, then marks the record used; of two concurrent callers one wins. Returns ""
  // when honoured, else why not ("release mark already used", ...).
  virtual std::string claim_release(const std::string &id, int64_t mark_time,
                                    const std::vector<std::string> &rcpt_keys) = 0;
  // A human name for the store: its directory, or "postgresql:<dbname>".
  virtual const std::string &dir() const = 0;
  bool encrypted() const { return key_.has_value(); }
  int64_t now() const;

  // Release marks, the same for every backend (docs in store.h).
  std::string release_mark(const std::string &id, std::string_view message) const;
  std::string release_mark(const std::string &id) const;
  bool verify_release_mark(std::string_view header_value, std::string_view message) const;
  ReleaseCheck check_release(std::string_view message) const;
  ReleaseCheck use_release(std::string_view message, const std::vector<std::string> &rcpt_to);
  Result<std::string> prepare_release(const std::string &id, std::string_view message,
                                      const std::vector<std::string> &rcpts);
  std::string make_released_copy(const std::string &id, std::string_view message) const;
  Result<std::string> release(const std::string &id, const ReleaseOptions &options);

 protected:
  Backend() = default;
  Result<void> audit(std::string_view event, const nlohmann::json &fields);
  // Loads the entry key (key_file; "" = none) and the release secret: release_secret_file, else
  // derived from the key, else left empty for the backend to establish. Errors: kConfig.
  Result<void> load_keys(const std::string &key_file, const std::string &release_secret_file);
  const Key *key() const { return key_ ? &*key_ : nullptr; }

  std::optional<Key> key_;
  std::string release_secret_;
  int64_t retention_seconds_ = 30 * 86400;
  int64_t release_mark_max_age_seconds_ = 86400;
  std::function<int64_t()> clock_;
  std::shared_ptr<AuditLog> audit_;
};

// An envelope address as release records keep it: angle brackets and spaces gone, lowercase.
std::string release_rcpt_key(std::string_view address);

// The release-mark secret from a key file (32 raw bytes or 64 hex), or derived from the entry key.
Result<std::string> load_secret_file(const std::string &path);
std::string derive_release_secret(const Key &key);

// Checks an export archive's manifest against what was read: `seen` maps each entry id to its
// (size, sha256). Errors: kIo "import: ..." naming the first mismatch.
Result<void> check_manifest(
    const std::string &manifest_text,
    const std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> &seen,
    const std::string &archive_path);

// One member of an export archive as both importers read it (Store and PgStore::import_from).
// The manifest: appended to *manifest_text, *have_manifest set; a second one or one over 256 MiB
// is an error, and so is a member that is neither the manifest nor an entry file. An entry file:
// its id in *entry_id, its bytes left for the caller to read. Errors name `archive_path`
// ("import: ..."). Thread-safety: pure apart from its out-parameters.
Result<void> classify_archive_member(const TarMember &m, const MemberReader &read,
                                     const std::string &archive_path, bool *have_manifest,
                                     std::string *manifest_text, std::string *entry_id);

// Writes an export archive (ustar): for each of `ids` (sorted here) the entry file streamed from
// `store` (stream_entry_file) and verified with `key` as it passes, then manifest.json (each
// entry's size and SHA-256); memory is bounded by a piece, not an entry. Written to a temp file
// beside `archive_path`, fsynced, renamed. An id whose read says "no such quarantine entry"
// (deleted meanwhile) is skipped; any other failure refuses the whole export.
Result<void> write_export(const std::string &archive_path, std::vector<std::string> ids,
                          const Backend &store, const Key *key, int64_t now);

// "<id>.avq" -> id, or "" when the name is not an entry file name; and back.
std::string id_of_entry_file(std::string_view name);
std::string entry_file_name(const std::string &id);

// The operator name for audit records: `by` when non-empty, else $SUDO_USER when running as
// root through sudo, else the login name of the real uid, else "uid:<n>".
std::string operator_name(const std::string &by);

}  // namespace avsink::quarantine

// store.h - the quarantine store's whole interface: durable, verifiable, optionally encrypted.
// An entry appears whole or not at all (temp, fsync, rename, fsync dir); ids are 32 hex only.
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
#include "core/envelope.h"
#include "core/finding.h"
#include "core/result.h"
#include "quarantine/crypto.h"
#include "quarantine/entry.h"
#include "quarantine/fs_util.h"

namespace avsink::quarantine {

// Options (defaults in brackets):
//   dir                  [required]   the store; created 0700 if missing; refused when others may
//                                     access it
//   key_file             [""]         "" = no encryption; else 32 raw bytes or 64 hex characters,
//                                     AES-256-GCM for metadata and message
//   release_secret_file  [""]         HMAC key for release marks, same format as key_file; "" =
//                                     derived from key_file, else <dir>/.release-key (generated
//                                     once, 32 random bytes, 0600)
//   retention_seconds    [30 days]    purge_expired() removes entries older than this; 0 = keep
//   release_mark_max_age [1 day]      a release mark older than this is not honoured
//   clock                [null]       Unix seconds; null = the system clock (tests inject one)
struct StoreOptions {
  std::string dir;
  std::string key_file;
  std::string release_secret_file;
  int64_t retention_seconds = 30 * 86400;
  int64_t release_mark_max_age_seconds = 86400;
  std::function<int64_t()> clock;
};

// Where and how Store::release() sends a released copy.
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

// The quarantine store. Thread-safety: every member may be called from any thread at the same
// time (concurrent put() calls never share a file); several processes may use one directory (one
// writes while another lists, verifies or exports). Ownership: the Store owns its directory
// descriptors and a copy of the key; the AuditLog is shared. Not copyable (owns descriptors).
// Errors are Result values: kInvalidArgument (bad id, bad arguments), kIo (disk, "corrupt: ...",
// "tampered: ...", "no such quarantine entry"), kConfig (options, key files, directory modes),
// kState (import conflicts).
class Store {
 public:
  // Opens (creating if needed) the store at options.dir with subdirectories entries/ and tmp/.
  // A null `audit` means release and delete are not audited (tests); the CLI always passes one.
  static Result<std::unique_ptr<Store>> open(const StoreOptions &options,
                                             std::shared_ptr<AuditLog> audit);
  ~Store();
  Store(const Store &) = delete;  // owns directory descriptors and key material
  Store &operator=(const Store &) = delete;

  // Stores `message` with `meta` (id, sha256, size and encrypted are filled in; time when 0).
  // Returns the new id. Durable on return: the entry file and its directory entry are fsynced.
  Result<std::string> put(std::string_view message, const EntryMeta &meta);

  bool exists(const std::string &id) const;  // false for invalid ids
  // Metadata only (reads and checks the header and metadata section, not the message).
  Result<EntryMeta> meta(const std::string &id) const;
  // The message, decrypted and checked against every digest and its SHA-256; any mismatch is
  // kIo "tampered: ...".
  Result<std::string> message(const std::string &id) const;
  // Metadata of every readable entry, oldest first. Entries that cannot be read are skipped and,
  // when `unreadable` is given, reported there as (file name, reason).
  Result<std::vector<EntryMeta>> list(
      std::vector<std::pair<std::string, std::string>> *unreadable = nullptr) const;

  // Deletes an entry. Audited ("quarantine.delete" with id and by) before the file is removed;
  // when the audit record cannot be written nothing is deleted.
  Result<void> remove(const std::string &id, const std::string &by);
  // Deletes every entry whose time (file mtime when its metadata is unreadable) is more than
  // `age_seconds` ago; each deletion audited. Also removes stale temp files. Returns the count.
  Result<size_t> purge_older_than(int64_t age_seconds, const std::string &by);
  // purge_older_than(retention_seconds) when retention is non-zero; 0 otherwise.
  Result<size_t> purge_expired(const std::string &by);

  struct VerifyReport {
    size_t ok = 0;
    std::vector<std::pair<std::string, std::string>> bad;  // id (or file name), reason
    size_t temp_files_removed = 0;
  };
  // Fully verifies every entry (as message() does) and reports unexpected files in entries/.
  // Removes temp files left by dead writers: a temp file whose writer pid no longer exists, or
  // that is older than one hour.
  Result<VerifyReport> verify() const;

  // Writes one archive (ustar; see docs/quarantine.md): every entry file verbatim, then
  // manifest.json with each entry's size and SHA-256. Written to a temp file beside
  // `archive_path`, fsynced, renamed. Encrypted entries stay encrypted.
  Result<void> export_to(const std::string &archive_path) const;
  // Reads an archive, stages every entry in tmp/, checks the manifest (count, sizes, SHA-256,
  // nothing extra, nothing missing) and fully verifies each entry with this store's key; only
  // then renames the entries in. An id already present with identical bytes is skipped; with
  // different bytes the import fails (kState) before anything is committed. Audited
  // ("quarantine.import": archive, added) after the commit. Returns the number of entries added.
  Result<size_t> import_from(const std::string &archive_path);

  // Release marks (see release_mark.h for the canonical form): the header value for a released
  // copy of entry `id` whose bytes (without the mark) are `message`, made now.
  std::string release_mark(const std::string &id, std::string_view message) const;
  // Interface form: the mark for entry `id`'s stored message. "" when the entry cannot be read.
  std::string release_mark(const std::string &id) const;
  // True when `header_value` is a valid mark for `message` (with or without the mark field),
  // made within release_mark_max_age_seconds. The scan calls this.
  bool verify_release_mark(std::string_view header_value, std::string_view message) const;
  // Finds the top-level X-Avsink-Release fields of `message` and checks the first
  // kMaxMarksChecked of them (one canonical digest, however many marks). The scan calls this.
  ReleaseCheck check_release(std::string_view message) const;
  // What the scan calls: check_release(), and then a valid mark is honoured only once, only for
  // the recipients it was released to. release() records each mark it sends in
  // <dir>/releases/<id>.<time> with the release's recipients; here every envelope recipient of
  // the message (angle brackets and case ignored) must be among them, and the record is then
  // renamed to <id>.<time>.used (atomic: of two scans of a replayed copy, one wins) and audited
  // "quarantine.release_used" {id, to}. Otherwise valid = false and `refused` says why (no
  // record, already used, a recipient it was not released to, no recipients); a refusal is
  // audited "quarantine.release_refused". The mark on the message stays (the milter removes it).
  ReleaseCheck use_release(std::string_view message, const std::vector<std::string> &rcpt_to);
  // What release() sends: make_released_copy(), after recording the mark with `rcpts` in
  // <dir>/releases (see use_release). Errors: kInvalidArgument (no recipients), kIo (the record
  // could not be written: nothing may be sent then).
  Result<std::string> prepare_release(const std::string &id, std::string_view message,
                                      const std::vector<std::string> &rcpts);
  // The released copy of `message`: old X-Avsink-Release fields removed, a fresh mark prepended.
  // Without prepare_release()'s record the scan does not honour it.
  std::string make_released_copy(const std::string &id, std::string_view message) const;

  // Sends the released copy of entry `id` with smtp_send() and audits it: "quarantine.release"
  // (id, by, to, next hop) before sending -- refused when that record cannot be written -- and
  // "quarantine.release_result" (ok, reply or error) after. Returns the next hop's final reply.
  Result<std::string> release(const std::string &id, const ReleaseOptions &options);

  const std::string &dir() const { return dir_; }
  bool encrypted() const { return key_.has_value(); }
  int64_t now() const;

 private:
  Store() = default;
  Result<std::string> read_entry_file(const std::string &id, uint64_t max_bytes) const;
  Result<EntryMeta> read_meta(const std::string &file_name) const;
  Result<void> check_id(const std::string &id) const;
  Result<void> audit(std::string_view event, const nlohmann::json &fields);
  size_t remove_stale_temps() const;
  std::string temp_name(const std::string &tag) const;

  StoreOptions opts_;
  std::string dir_;
  Fd dir_fd_, entries_fd_, tmp_fd_, releases_fd_;
  std::optional<Key> key_;
  std::string release_secret_;
  std::shared_ptr<AuditLog> audit_;
};

// The operator name for audit records: `by` when non-empty, else $SUDO_USER when running as
// root through sudo, else the login name of the real uid, else "uid:<n>".
std::string operator_name(const std::string &by);

}  // namespace avsink::quarantine

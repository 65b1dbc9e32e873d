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
#include "quarantine/backend.h"
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

// The quarantine store. Thread-safety: every member may be called from any thread at the same
// time (concurrent put() calls never share a file); several processes may use one directory (one
// writes while another lists, verifies or exports). Ownership: the Store owns its directory
// descriptors and a copy of the key; the AuditLog is shared. Not copyable (owns descriptors).
// Errors are Result values: kInvalidArgument (bad id, bad arguments), kIo (disk, "corrupt: ...",
// "tampered: ...", "no such quarantine entry"), kConfig (options, key files, directory modes),
// kState (import conflicts).
class Store final : public Backend {
 public:
  // Opens (creating if needed) the store at options.dir with subdirectories entries/ and tmp/.
  // A null `audit` means release and delete are not audited (tests); the CLI always passes one.
  static Result<std::unique_ptr<Store>> open(const StoreOptions &options,
                                             std::shared_ptr<AuditLog> audit);
  ~Store() override;
  Store(const Store &) = delete;  // owns directory descriptors and key material
  Store &operator=(const Store &) = delete;

  // Stores `message` with `meta` (id, sha256, size and encrypted are filled in; time when 0).
  // Returns the new id. Durable on return: the entry file and its directory entry are fsynced.
  // The file is written in kStreamPiece pieces (no second copy of the message in memory).
  // `deadline` is not consulted: a local write does not wait on another server.
  Result<std::string> put(std::string_view message, const EntryMeta &meta,
                          const Deadline *deadline = nullptr) override;

  bool exists(const std::string &id) const override;  // false for invalid ids
  // Metadata only (reads and checks the header and metadata section, not the message).
  Result<EntryMeta> meta(const std::string &id) const override;
  // The entry file, read from one open descriptor in kStreamPiece pieces (Backend::read_message
  // and message() decrypt and check it; any mismatch is kIo "tampered: ...").
  Result<void> stream_entry_file(const std::string &id,
                                 const std::function<Result<void>(uint64_t)> &on_size,
                                 const ByteSink &out) const override;
  // Metadata of every readable entry, oldest first. Entries that cannot be read are skipped and,
  // when `unreadable` is given, reported there as (file name, reason).
  Result<std::vector<EntryMeta>> list(Unreadable *unreadable = nullptr) const override;

  // Deletes an entry. Audited ("quarantine.delete" with id and by) before the file is removed;
  // when the audit record cannot be written nothing is deleted.
  Result<void> remove(const std::string &id, const std::string &by) override;
  // Deletes every entry whose time (file mtime when its metadata is unreadable) is more than
  // `age_seconds` ago; each deletion audited. Also removes stale temp files. Returns the count.
  Result<size_t> purge_older_than(int64_t age_seconds, const std::string &by) override;
  // purge_expired() (Backend): purge_older_than(retention_seconds) when retention is non-zero.

  // Fully verifies every entry (as message() does) and reports unexpected files in entries/.
  // Removes temp files left by dead writers: a temp file whose writer pid no longer exists, or
  // that is older than one hour.
  Result<VerifyReport> verify() const override;

  // Writes one archive (ustar; see docs/quarantine.md): every entry file verbatim, then
  // manifest.json with each entry's size and SHA-256. Written to a temp file beside
  // `archive_path`, fsynced, renamed. Encrypted entries stay encrypted.
  Result<void> export_to(const std::string &archive_path) const override;
  // Reads an archive, stages every entry in tmp/, checks the manifest (count, sizes, SHA-256,
  // nothing extra, nothing missing) and fully verifies each entry with this store's key; only
  // then renames the entries in. An id already present with identical bytes is skipped; with
  // different bytes the import fails (kState) before anything is committed. Audited
  // ("quarantine.import": archive, added) after the commit. Returns the number of entries added.
  Result<size_t> import_from(const std::string &archive_path) override;

  // Release marks (Backend implements them; see release_mark.h for the canonical form).
  //   release_mark(id, message): the header value for a released copy of entry `id` whose bytes
  //     (without the mark) are `message`, made now; release_mark(id): for the stored message (""
  //     when the entry cannot be read).
  //   verify_release_mark(): `header_value` is a valid mark for `message` made within
  //     release_mark_max_age_seconds. check_release(): the first kMaxMarksChecked top-level
  //     X-Avsink-Release fields checked (one canonical digest, however many marks).
  //   use_release() (what the scan calls): check_release(), and then a valid mark is honoured only
  //     once, only for the recipients it was released to. release() records each mark it sends in
  //     <dir>/releases/<id>.<time> with the release's recipients; every envelope recipient of the
  //     message (angle brackets and case ignored) must be among them, and the record is then
  //     renamed to <id>.<time>.used (atomic: of two scans of a replayed copy, one wins) and
  //     audited "quarantine.release_used" {id, to}. Otherwise valid = false and `refused` says
  //     why; a refusal is audited "quarantine.release_refused". The mark stays on the message.
  //   prepare_release(): make_released_copy() after recording the mark with `rcpts`. Errors:
  //     kInvalidArgument (no recipients), kIo (the record could not be written: nothing is sent).
  //   make_released_copy(): old X-Avsink-Release fields removed, a fresh mark prepended.
  //   release(): sends the released copy with smtp_send() and audits "quarantine.release" (id, by,
  //     to, next hop) before sending -- refused when that record cannot be written -- and
  //     "quarantine.release_result" after. Returns the next hop's final reply.
  Result<void> record_release(const std::string &id, int64_t mark_time,
                              const std::vector<std::string> &rcpts) override;
  std::string claim_release(const std::string &id, int64_t mark_time,
                            const std::vector<std::string> &rcpt_keys) override;

  const std::string &dir() const override { return dir_; }

 private:
  Store() = default;
  Result<EntryMeta> read_meta(const std::string &file_name) const;
  Result<void> check_id(const std::string &id) const;
  size_t remove_stale_temps() const;
  std::string temp_name(const std::string &tag) const;

  StoreOptions opts_;
  std::string dir_;
  Fd dir_fd_, entries_fd_, tmp_fd_, releases_fd_;
};

}  // namespace avsink::quarantine

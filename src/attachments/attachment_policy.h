// attachment_policy.h - the attachments inspector: banned names, true types, archive members.
// Reads the MIME tree and the engine's member walk, adds Findings; never decides the verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "attachments/extension_list.h"
#include "attachments/true_type.h"
#include "core/action.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/container_member.h"
#include "core/file_watch.h"
#include "core/finding.h"
#include "core/log.h"
#include "core/result.h"
#include "core/snapshot.h"
#include "mime/message_tree.h"

namespace avsink::attachments {

// Configuration of the policy. Defaults:
//   list_files        {}  = the shipped rules/attachments-*.list (shipped_list_files()); when set,
//                          exactly these files, in this order (entries "ext", "+ext", "-ext",
//                          "type:pe", "-type:pe"; see extension_list.h and docs/attachments.md)
//   extra_blocked     {}  extensions (or "type:NAME") blocked on top of the files
//   allowed           {}  extensions (or "type:NAME") allowed even when a file blocks them
//   replace_defaults  false  true + list_files empty: read no file at all; only extra_blocked
//   banned_action     reject      names: Attachment.Extension.*, DoubleExtension, CLSID,
//                                 UnicodeTrick (also for archive members)
//   true_type_action  reject      content: Attachment.TrueType.*
//   encrypted_action  quarantine  Attachment.Encrypted.Zip and the engines' Heuristics.Encrypted.*
//   max_member_depth  17          archive members deeper than this are not judged; one
//                                 kUnscannable "Limits.Exceeded.AttachmentMemberDepth" per part
//   watch             true        a watcher thread (core/file_watch.h: inotify + stat polling)
//   poll_ms           1000        reloads the lists when a file changes, like rule files
//   logger            (discard)   reloads, failed reloads and watcher problems
struct AttachmentOptions {
  std::vector<std::string> list_files;
  std::vector<std::string> extra_blocked;
  std::vector<std::string> allowed;
  bool replace_defaults = false;
  Action banned_action = Action::kReject;
  Action true_type_action = Action::kReject;
  Action encrypted_action = Action::kQuarantine;
  uint32_t max_member_depth = 17;
  bool watch = true;
  uint32_t poll_ms = 1000;
  Logger logger;
  // Called after each reload the file watcher starts (not reload()), with its result; from the
  // watcher thread. For the engine's reload counters and health. May be empty.
  std::function<void(const Result<void> &)> on_watch_reload;
  // The [[policy]] whose lists these are ("" = the global [attachments] lists): named in the log
  // lines and audit records of (re)loads.
  std::string policy;

  // The [attachments] settings of `config` (its own watch and poll_ms, never [rules]'). The
  // logger and on_watch_reload are the caller's to set. Pure.
  static AttachmentOptions from(const Config &config);
};

// A container member as the attachment policy judges it, recorded once during a scan (libclamav's
// walk or avsink's own listing) so that it can be judged again under other lists (a [[policy]]
// with lists of its own) without the member's bytes.
struct MemberRecord {
  std::string part_path;  // the MIME part the member is in
  std::string path;       // as ContainerMember::path
  std::string file_type;  // libclamav's type name, "" when none
  uint32_t depth = 0;
  TrueType type = TrueType::kNone;  // libclamav's type, else the bytes' (detect_true_type)
  bool by_content = false;          // `type` was read from the member's bytes
};

// The record of `m`, a member of part `part_path`: its true type is read now, while m.data is
// valid. Thread-safe (no shared state).
MemberRecord record_member(std::string_view part_path, const ContainerMember &m);

// Every container member of one scan, each recorded once (same part, path, depth and types).
// Ownership: copies everything it keeps. Thread-safety: none (one scan, one thread).
class MemberLog {
 public:
  // Records `m` as a member of `part_path` (record_member()) and returns the record; a member
  // recorded before is not added again.
  MemberRecord add(std::string_view part_path, const ContainerMember &m);
  // Records every member of part `from` again as a member of part `to` (a part whose decoded
  // bytes equal an earlier part's is not walked again).
  void copy_part(std::string_view from, std::string_view to);
  // Records every record of `other`, in its order, except those recorded here before (one part's
  // log, kept while the part was scanned on its own thread, joined to the message's).
  void merge(const MemberLog &other);
  const std::vector<MemberRecord> &records() const { return records_; }

 private:
  void insert(MemberRecord r);
  std::vector<MemberRecord> records_;
  std::set<std::string> keys_;
};

// Finding names this inspector produces (inspector "attachments"):
//   kBannedAttachment  Attachment.Extension.<ext>   a blocked extension
//                      Attachment.DoubleExtension    a blocked extension behind a document-like
//                                                    one ("invoice.pdf.exe") or behind padding
//                      Attachment.CLSID              a ".{CLSID}" extension
//                      Attachment.UnicodeTrick       a bidi override/isolate char in the name
//                      Attachment.TrueType.<T>       PE, ELF, MachO, Script, HTA, LNK, MSI
//   kUnscannable       Attachment.Encrypted.Zip      a zip with encrypted entries
//                      Limits.Exceeded.AttachmentMemberDepth
// Finding::filename is display_name() of the decoded name (archive members: "outer.zip/
// inner.zip/setup.exe"); Finding::detail says why and quotes the name as written and as decoded.
//
// Thread-safety: every const member may be called from any thread at the same time; the lists are
// an immutable snapshot, swapped atomically by reload(), and a scan keeps the one it read.
// Ownership: the policy owns its lists and its watcher thread (stopped and joined by the
// destructor, so no reload runs once it returns); it keeps a shared reference to the audit log.
class AttachmentPolicy {
 public:
  // Builds the first list generation. `audit` may be null (no audit). Errors: kIo (a list file
  // is missing or unreadable), kRules (a bad line: file:line), kConfig (bad extra/allowed entry,
  // or no list file at all when the shipped lists are wanted).
  static Result<std::unique_ptr<AttachmentPolicy>> open(const AttachmentOptions &options,
                                                        std::shared_ptr<AuditLog> audit);
  ~AttachmentPolicy();
  AttachmentPolicy(const AttachmentPolicy &) = delete;  // owns a watcher thread and a snapshot
  AttachmentPolicy &operator=(const AttachmentPolicy &) = delete;

  // Name checks for one part: every filename candidate and filename_raw, each in every reading
  // (filename.h). One finding per finding name per part. Never fails.
  Findings inspect_part(const mime::Part &part) const;
  // True type of the part's decoded body (true_type.h), and the encrypted entries of a zip body
  // (the encryption, plus any blocked name the zip directory shows in clear). Text classes
  // (shebang, HTA) are judged only on attachment-like parts (a filename, disposition
  // "attachment", or a media type other than text/*). Never fails.
  Findings inspect_content(const mime::Part &part) const;
  // inspect_part() + inspect_content() for every part of `tree`, in tree order.
  Findings inspect_message(const mime::MessageTree &tree) const;
  // For ScanItem::on_member during the engine's walk of `part`: judges the member's name (last
  // path component, '/' or '\') by the same lists, and its true type by libclamav's type or,
  // when that says nothing, by the member's bytes (ContainerMember::data); appends to `out`
  // (at most 32 member findings per part; duplicates skipped). Always kContinue: the engine must
  // finish the walk for viruses. Thread-safe; `out` is the caller's (one scan, one thread).
  MemberDecision on_member(const mime::Part &part, const ContainerMember &m, Findings &out) const;
  // on_member() for a recorded member (MemberLog::add): the same findings as on_member() of the
  // member it was recorded from. Thread-safe; `out` is the caller's.
  MemberDecision judge_member(const mime::Part &part, const MemberRecord &m, Findings &out) const;
  // `findings` of one scan with this inspector's own findings (inspector "attachments", made by
  // another AttachmentPolicy with other lists) replaced by this policy's judgement of `tree`
  // (inspect_message) and of every member in `members` (judge_member; a member whose part is not
  // in `tree` is skipped). Every other finding is kept, in order. Thread-safe.
  Findings rejudge(const Findings &findings, const mime::MessageTree &tree,
                   const MemberLog &members) const;
  // Sets encrypted_action on the engines' kUnscannable "Heuristics.Encrypted.*" and the
  // container walk's "Container.Encrypted*" findings that carry no action yet (they report the
  // encryption; this policy owns its action).
  void apply_engine_actions(Findings &findings) const;

  // Re-reads the list files and swaps the new generation in; scans in flight keep the old one.
  // On error the current generation stays, the failure is audited, and the error is returned
  // (kIo, kRules, kConfig as for open()).
  Result<void> reload();
  // Reloads when a list file changed (path set, mtime, size or inode) since the current
  // generation and since the last failed attempt. Returns true when a reload happened. The
  // watcher thread calls this; callers may too.
  Result<bool> reload_if_changed();
  // True while a watcher thread is running (watch = true and it could be started).
  bool watching() const { return watch_ != nullptr; }

  std::shared_ptr<const AttachmentLists> lists() const { return lists_.get(); }
  uint64_t generation() const { return lists_.generation(); }
  const AttachmentOptions &options() const { return options_; }

 private:
  AttachmentPolicy(AttachmentOptions options, std::shared_ptr<AuditLog> audit);
  std::vector<std::string> resolve_files() const;
  Result<AttachmentLists> build() const;
  Result<void> reload_locked(const char *event);
  std::vector<std::string> watch_paths() const;
  void judge_names(const AttachmentLists &lists, const std::vector<std::string> &candidates,
                   const std::string &raw, const std::string &decoded, const std::string &part_path,
                   const std::string &shown_name, const std::string &context, Findings &out) const;

  AttachmentOptions options_;
  std::shared_ptr<AuditLog> audit_;
  Snapshot<AttachmentLists> lists_;
  std::mutex reload_mu_;              // one reload at a time
  std::vector<ListFileInfo> failed_;  // stats of the last failed attempt (under reload_mu_)
  std::unique_ptr<FileWatch> watch_;  // last member: stopped first on destruction
};

}  // namespace avsink::attachments

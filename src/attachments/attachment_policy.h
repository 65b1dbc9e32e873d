// attachment_policy.h - the attachments inspector: banned names, true types, archive members.
// Reads the MIME tree and the engine's member walk, adds Findings; never decides the verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "attachments/extension_list.h"
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

  // The [attachments] settings of `config` (its own watch and poll_ms, never [rules]'). The
  // logger and on_watch_reload are the caller's to set. Pure.
  static AttachmentOptions from(const Config &config);
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

// extension_list.h - the attachment lists: blocked extensions and true types, read from list files.
// A list set is built whole or not at all; a file with an error yields kRules naming file:line.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "attachments/true_type.h"
#include "core/result.h"

namespace avsink::attachments {

// One list file as it was read, for the audit line of a (re)load and for change detection.
struct ListFileInfo {
  std::string path;
  std::string sha256;  // lowercase hex of the bytes that were parsed
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  uint64_t inode = 0;
};

// The effective lists: what is blocked after every file, then `extra_blocked`, then `allowed`.
// Immutable once built; shared by all threads through a Snapshot.
struct AttachmentLists {
  std::set<std::string> blocked_extensions;  // lowercase, without the dot: "exe"
  std::set<TrueType> blocked_types;
  std::vector<ListFileInfo> files;  // in the order they were applied

  bool blocks_extension(std::string_view ext) const {
    return !ext.empty() && blocked_extensions.count(std::string(ext)) > 0;
  }
  bool blocks_type(TrueType t) const { return t != TrueType::kNone && blocked_types.count(t) > 0; }
};

// The list-file grammar, one entry a line ('#' starts a comment, blank lines ignored):
//   exe | +exe | .exe | +.exe    block the extension (lowercased)
//   -exe                         allow it again (removes what an earlier line or file blocked)
//   type:pe | +type:pe           block a true type (true_type.h names)
//   -type:pe                     allow it again
// Extensions are 1-64 characters of [a-z0-9_$~!&{}-] after lowercasing (so a CLSID fits).
// A file with no entry is an error unless a comment says "empty on purpose".
//
// Applies one entry to *lists. Errors: kRules with `file` and `line` (line 0 for config entries).
Result<void> apply_list_entry(std::string_view entry, AttachmentLists *lists,
                              const std::string &file, uint32_t line);

// Applies every entry of one list file's text. Errors: kRules naming file:line.
// all: when non-null, every bad line is appended there and the rest still applied (for
// `avsink config check`); the first error is still returned.
Result<void> apply_list_text(std::string_view text, const std::string &file, AttachmentLists *lists,
                             std::vector<Error> *all = nullptr);

// Reads and applies `files` in order, then `extra_blocked` ("+" implied) and `allowed` ("-"
// implied). Errors: kIo (unreadable or missing file, with path and strerror), kRules (a bad line,
// with file:line), kConfig (a bad extra/allowed entry). Thread-safe (no shared state).
Result<AttachmentLists> build_lists(const std::vector<std::string> &files,
                                    const std::vector<std::string> &extra_blocked,
                                    const std::vector<std::string> &allowed);

// The shipped list files: attachments-*.list in the installed rules directory when it exists,
// else in the source tree's rules/ (uninstalled runs), sorted by name. Empty when none exist.
std::vector<std::string> shipped_list_files();

// Current stat of a list file (mtime, size, inode) for change detection; zeros when missing.
ListFileInfo stat_list_file(const std::string &path);

}  // namespace avsink::attachments

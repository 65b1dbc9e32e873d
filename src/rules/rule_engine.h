// rule_engine.h - the rules stage's whole interface: block/allow rules from files, hot-reloaded,
// plus the spoofed-internal-sender check. Each pattern kind is one RE2::Set (linear-time matching).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/envelope.h"
#include "core/finding.h"
#include "core/log.h"
#include "core/result.h"
#include "mime/message_tree.h"

namespace avsink::rules {

// How the rules stage is set up. Defaults:
//   files              {}        rule files in precedence order: files[0] wins (docs/rules.md)
//   internal_domains   {}        the organisation's own domains (and their subdomains); empty =
//                                no spoofed-sender check
//   trusted_networks   {}        CIDRs whose clients are inside ("127.0.0.0/8", "::1/128")
//   spoof_action       reject    action of the "Spoof.InternalSender" finding
//   watch              true      reload when a file changes (inotify, stat polling fallback)
//   poll_ms            1000      stat polling interval (also the safety net next to inotify)
//   debounce_ms        200       quiet time after a change before reloading
//   force_polling      false     true = stat polling only (tests, filesystems without inotify)
//   set_max_mem        256 MiB   RE2 max_mem of each compiled RE2::Set (one per kind/header)
//   limits             see ParseLimits in rule_file.h (64 MiB per file, 64 KiB per line, ...)
//   logger             discard   info: one line per load/reload; error: each file:line: reason of
//                                a refused load/reload, then "... keeping generation N"
struct RulesOptions {
  std::vector<std::string> files;
  std::vector<std::string> internal_domains;
  std::vector<std::string> trusted_networks;
  Action spoof_action = Action::kReject;
  bool watch = true;
  uint32_t poll_ms = 1000;
  uint32_t debounce_ms = 200;
  bool force_polling = false;
  uint64_t set_max_mem = 256ull << 20;
  uint64_t pattern_max_mem = 8ull << 20;
  uint64_t max_file_bytes = 64ull << 20;
  uint32_t max_line_bytes = 64u << 10;
  Logger logger;
  // Called after each reload the file watcher starts (not reload()), with its result; from the
  // watcher thread. For the engine's reload counters and health. May be empty.
  std::function<void(const Result<void> &)> on_watch_reload;

  // Errors: kConfig naming the key (bad CIDR in trusted_networks, bad domain, poll_ms 0,
  // spoof_action rewrite, empty file name, set_max_mem below 1 MiB).
  Result<void> validate() const;

  // The [rules] settings of `config` for the rule files `files` (the global [rules] files, or a
  // [[policy]]'s own). The logger and on_watch_reload are the caller's to set. Pure.
  static RulesOptions from(const Config &config, const std::vector<std::string> &files);
};

// A compiled, hot-reloadable rule set.
//
// Thread-safety: inspect(), reload(), generation() and rule_count() may be called from any number
// of threads at once. inspect() takes one immutable snapshot for the whole call, so a scan that
// started before a reload finishes on the set it started with; reloads are serialised.
// Ownership: the engine owns its snapshots, its watcher thread (stopped and joined by the
// destructor) and a share of `audit`. The MessageTree and Envelope are only read during inspect().
// Errors: open() and reload() return kRules with file and line for a bad rule file (all errors
// are also logged and audited), kIo for an unreadable one, kConfig for bad options.
class RuleEngine {
 public:
  // Loads and compiles all files; error (kRules, with file+line) if any file is bad. Audits
  // "rules.load" on success and "rules.load_rejected" on failure. `audit` may be null.
  static Result<std::unique_ptr<RuleEngine>> open(const RulesOptions &options,
                                                  std::shared_ptr<AuditLog> audit);
  ~RuleEngine();                            // stops the watcher thread
  RuleEngine(const RuleEngine &) = delete;  // owns a watcher thread and the snapshot chain
  RuleEngine &operator=(const RuleEngine &) = delete;

  // Findings for one message, in precedence order (see docs/rules.md):
  //  - kRule, inspector "rules", name = the rule's id or "<file basename>:<line>", detail = the
  //    rule's comment, action = the rule's action, reply_text = the rule's own text. When the
  //    highest-precedence matching rule is an allow rule (accept), it is the only rule finding;
  //    otherwise every matching block rule above the first matching allow rule is reported.
  //  - kRule "Spoof.InternalSender" (action spoof_action) when a From (header or envelope) is in
  //    internal_domains but the client is neither in trusted_networks nor authenticated; an
  //    allow rule that wins suppresses it.
  //  - kMalformed "Rules.MultipleFrom" (informational) when the message has several From fields.
  //  - kUnscannable "Rules.MatchFailed" if RE2 ran out of memory on this message (fail closed).
  // `now` is unix seconds: rules whose expires= is at or before it are skipped; the first call
  // that finds a rule expired logs a warning and audits "rules.expired" (once per rule, file,
  // line and expiry, across reloads). Never throws
  // (allocation failure aside).
  Findings inspect(const Envelope &env, const mime::MessageTree &tree, int64_t now) const;

  // Re-reads and compiles every file aside, then swaps the new set in atomically. When no file
  // changed (same SHA-256s) nothing is swapped. On any error the last good set stays: the
  // errors are logged with file:line:reason and audited as "rules.reload_rejected" ("keeping
  // generation N"), and the first one is returned.
  Result<void> reload();

  uint64_t generation() const;  // 1 after open(), +1 per successful reload that changed a file
  size_t rule_count() const;    // rules in the current generation (expired ones included)
  bool watching_with_inotify() const;  // false when polling (or not watching)

 private:
  struct Impl;
  explicit RuleEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses and compiles one file without loading it; every error with file:line:reason. For
// `avsink rules check`. An unreadable file gives one kIo error. Thread-safe.
std::vector<Error> check_file(const std::string &path);

// check_file() plus what the CLI prints on success. `now` (unix seconds) decides which rules
// are reported as already expired (a warning, not an error).
struct FileCheck {
  std::vector<Error> errors;    // empty = the file would load
  std::vector<Error> warnings;  // e.g. "rule expired on 2026-01-01" (file and line set)
  size_t rule_count = 0;
  bool readable = false;
  std::string sha256;
};
FileCheck check_file_report(const std::string &path, int64_t now);

}  // namespace avsink::rules

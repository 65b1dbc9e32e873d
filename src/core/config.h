// config.h - avsink.toml parsed into one immutable Config; every key has a default.
// Errors name the file, the line and the reason; an unknown key is an error (typos must not pass).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/action.h"
#include "core/limits.h"
#include "core/policy_spec.h"
#include "core/result.h"

namespace avsink {

// The raw pass's size bound for messages the MIME stage flagged (#14 item 3).
inline constexpr uint64_t kRawPassFlaggedMaxBytes = 4ull << 20;

struct Config {
  std::string source = "(embedded defaults)";  // the file it came from
  // "section.key" -> line in `source`, for messages that blame a key (avsink config check).
  std::map<std::string, uint32_t> key_lines;

  // [scan]
  // Also give libclamav the raw message once (its own mail parser). Off by default since the MIME
  // stage reads every plausible reading (issue 21, docs/hostile-input.md "Readings"); on, for
  // logical signatures that need Container:CL_TYPE_MAIL: when the message is at most
  // raw_message_pass_max_bytes, or whenever the MIME stage flagged its structure (malformed or
  // ambiguous) -- never above max_message_bytes.
  bool raw_message_pass = false;
  uint64_t raw_message_pass_max_bytes = 1ull << 20;
  // (A flagged message gets the raw pass only up to kRawPassFlaggedMaxBytes, or
  // raw_message_pass_max_bytes when that is larger; over it: Limits.Exceeded.RawMessagePass, an
  // informational finding -- the part pass has read every reading of the message.)
  // The raw pass skips a part libclamav decodes to exactly the bytes the part pass scanned (about
  // a third of the CPU of a typical message). false = rescan it inside the mail, so logical
  // signatures conditioned on Container:CL_TYPE_MAIL or Intermediates match those parts too.
  bool raw_message_pass_skips_scanned_parts = true;
  bool add_header = true;                       // add the scanned-by header to accepted mail
  std::string header_name = "X-Virus-Scanned";  // a valid RFC 5322 field name (checked)
  // Added with add_header: "Clean", or "Infected (NAME, ...)" when a virus was found in mail that
  // is still delivered (virus = accept, or a stripped part). "" = not added.
  std::string status_header_name = "X-Virus-Status";
  std::string spool_dir;  // "" = $TMPDIR or /tmp
  // Where libclamav unpacks archives and normalised text (one directory per scanned part;
  // "" = $TMPDIR when set, else /dev/shm or $XDG_RUNTIME_DIR when tmpfs, else /tmp:
  // engines::default_scratch_dir()). On tmpfs it saves a mkdir/rmdir on disk per part.
  std::string temp_dir;
  // Threads that scan one message's parts at the same time, the message's own thread included
  // (session::Scanner, core/helper_pool.h): 1 = one part after another; 0 = one per CPU. Used
  // only while fewer messages than that are being scanned: under load each stays on its thread.
  unsigned part_threads = 0;

  Limits limits;  // [limits]

  // [clamav]
  bool clamav_enabled = true;
  bool clamav_required = true;
  std::vector<std::string> signature_dirs;  // empty = the shipped signatures/ directory
  bool system_db = true;                    // also /var/lib/clamav when it holds a database
  std::string system_db_dir;                // "" = libclamav's default
  bool clamav_watch = true;                 // reload when a database file changes (freshclam)
  uint32_t clamav_watch_poll_ms = 5000;
  uint32_t max_db_age_hours = 48;  // `avsink status` warns about an older database (0 = never)

  // [clamd] (off unless enabled)
  bool clamd_enabled = false;
  bool clamd_required = true;
  // `address` in the file: one string, or an array tried in order (the first is the primary,
  // the others fail-over backups).
  std::vector<std::string> clamd_addresses = {"unix:/run/clamav/clamd.ctl"};
  uint32_t clamd_connect_timeout_ms = 2000;
  uint32_t clamd_read_timeout_ms = 30000;
  uint64_t clamd_stream_max_length = 25ull << 20;  // keep <= clamd.conf StreamMaxLength
  uint32_t clamd_pool_size = 4;
  uint32_t clamd_retries = 1;

  // [hashlist] SHA-256 list engine (off unless enabled)
  bool hashlist_enabled = false;
  bool hashlist_required = true;
  std::vector<std::string> hashlist_files;  // empty = the shipped signatures/*.sha256
  bool hashlist_watch = true;               // reload the hash lists when a file changes
  uint32_t hashlist_poll_ms = 1000;

  // [actions] default action per finding kind
  Action virus_action = Action::kReject;
  Action unscannable_action = Action::kQuarantine;
  Action engine_error_action = Action::kTempfail;

  // [attachments]
  std::vector<std::string> attachment_lists;  // empty = the shipped rules/attachments-*.list
  std::vector<std::string> attachment_block;  // extra extensions to block
  std::vector<std::string> attachment_allow;  // extensions to allow
  bool attachment_replace_defaults = false;
  Action banned_action = Action::kReject;
  Action true_type_action = Action::kReject;
  Action encrypted_action = Action::kQuarantine;
  uint32_t max_member_depth = 17;
  bool attachment_watch = true;  // reload the lists when a file changes ([rules] watch is separate)
  uint32_t attachment_poll_ms = 1000;

  // [rules]
  std::vector<std::string> rule_files;
  std::vector<std::string> internal_domains;
  std::vector<std::string> trusted_networks = {"127.0.0.0/8", "::1/128"};
  Action spoof_action = Action::kReject;
  bool watch_files = true;
  uint32_t poll_ms = 1000;

  // [quarantine]
  std::string quarantine_dir = "/var/lib/avsink/quarantine";
  std::string quarantine_key_file;
  std::string release_secret_file;
  uint32_t retention_days = 30;
  std::string release_next_hop;  // HOST:PORT for `avsink quarantine release` ("" = give --next-hop)
  std::string quarantine_backend = "filesystem";  // or "postgresql" (docs/quarantine.md)
  std::string pg_conninfo;                        // libpq connection string, no password
  std::string pg_conninfo_file;                   // or a file holding it
  uint32_t pg_timeout_ms = 5000;                  // connect + each store operation

  // [audit]
  std::string audit_log;  // "" = no audit log

  // [lockdown] outbreak lockdown (`avsink lockdown on|off`, docs/policy.md "Outbreak lockdown")
  std::string lockdown_state_file;  // "" = no lockdown possible; every gateway watches this file
  Action lockdown_action = Action::kTempfail;  // tempfail or quarantine
  uint32_t lockdown_poll_ms = 1000;

  // [notify] notices through the local MTA (docs/policy.md "Notifications"); off by default
  bool notify_enabled = false;
  std::string notify_next_hop = "127.0.0.1:25";               // the local MTA, plain SMTP
  std::string notify_from = "avsink <postmaster@localhost>";  // the From: header (envelope: <>)
  std::vector<std::string> notify_admins;  // receive virus/banned/quarantine notices
  bool notify_sender = false;  // tell the envelope sender of a quarantine (backscatter risk)
  uint32_t notify_interval_ms = 300000;   // the digest interval
  uint32_t notify_max_per_interval = 10;  // single notices per interval; the rest -> one digest
  std::string notify_templates_dir;       // "" = the shipped rules/templates

  // [[policy]] tables in file order: the first whose selectors match an envelope wins
  // (docs/policy.md "Policies"); none = the settings above.
  std::vector<PolicySpec> policies;

  // Absolute paths of the shipped data, found at run time (core/data_dir.h: the installed copy
  // of this prefix, or the source tree when running from the build tree).
  static std::string shipped_signatures_dir();
  static std::string shipped_rules_dir();
};

// Parses TOML text; `name` is used in error messages. Errors: kConfig with file, line, reason.
// all: when non-null, every bad section, key and value is appended there and parsing goes on
// (a bad key keeps its default); the result is then an error only for a TOML syntax error.
Result<Config> parse_config(std::string_view text, const std::string &name,
                            std::vector<Error> *all = nullptr);
// Reads (read_regular_file) and parses a file. Errors: kConfig (syntax, unknown key, bad value),
// kIo (unreadable, or not a regular file), kLimit (larger than 4 MiB).
Result<Config> load_config(const std::string &path, std::vector<Error> *all = nullptr);
// The effective configuration as TOML text (for `avsink config check`).
std::string dump_config(const Config &config);

// One key of avsink.toml as the parser knows it (the same table parse_config uses), for the
// generated man page avsink.toml(5) and the docs lint. default_value is TOML text.
struct ConfigKeyDoc {
  std::string section, name, kind, default_value, range, description;
};
// Every key parse_config accepts, in table order. Thread-safe; no errors; the caller owns the copy.
std::vector<ConfigKeyDoc> config_key_docs();

}  // namespace avsink

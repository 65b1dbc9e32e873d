// config.cpp - avsink.toml (toml++) -> Config, driven by one table of keys (name, setter, printer).
// Every key is optional; unknown sections/keys, wrong types and out-of-range values are errors.
#include "core/config.h"

#include <sys/stat.h>
#include <algorithm>
#include <functional>
#include <optional>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "core/data_dir.h"
#include "core/policy_toml.h"
#include "core/read_file.h"

namespace avsink {

namespace {

// A key's setter returns "" on success or the reason the value is wrong.
using Setter = std::function<std::string(const toml::node &, Config &)>;
using Printer = std::function<void(const Config &, toml::table &)>;

struct Key {
  Key(std::string sec, std::string key, Setter setter, Printer printer, std::string rng = "")
      : section(std::move(sec)),
        name(std::move(key)),
        set(std::move(setter)),
        print(std::move(printer)),
        range(std::move(rng)) {}
  std::string section;
  std::string name;
  Setter set;
  Printer print;
  std::string range;        // accepted integer range, "" for other kinds (config_key_docs())
  std::string description;  // one line for avsink.toml(5) (config_key_docs())
};

Key described(Key k, const char *description) {
  k.description = description;
  return k;
}

template <typename T>
Key bool_key(const char *sec, const char *name, T Config::*field) {
  return {sec, name,
          [field](const toml::node &n, Config &c) -> std::string {
            if (!n.is_boolean()) return "expected true or false";
            c.*field = *n.value<bool>();
            return "";
          },
          [field, name](const Config &c, toml::table &t) { t.insert_or_assign(name, c.*field); }};
}

template <typename T>
Key uint_key(const char *sec, const char *name, T Config::*field, int64_t lo, int64_t hi) {
  return {sec, name,
          [field, lo, hi](const toml::node &n, Config &c) -> std::string {
            if (!n.is_integer()) return "expected an integer";
            int64_t v = *n.value<int64_t>();
            if (v < lo || v > hi)
              return "out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
            c.*field = static_cast<T>(v);
            return "";
          },
          [field, name](const Config &c, toml::table &t) {
            t.insert_or_assign(name, static_cast<int64_t>(c.*field));
          },
          std::to_string(lo) + ".." + std::to_string(hi)};
}

// A limit inside Config::limits.
template <typename T>
Key limit_key(const char *name, T Limits::*field, int64_t lo, int64_t hi) {
  return {"limits", name,
          [field, lo, hi](const toml::node &n, Config &c) -> std::string {
            if (!n.is_integer()) return "expected an integer";
            int64_t v = *n.value<int64_t>();
            if (v < lo || v > hi)
              return "out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
            c.limits.*field = static_cast<T>(v);
            return "";
          },
          [field, name](const Config &c, toml::table &t) {
            t.insert_or_assign(name, static_cast<int64_t>(c.limits.*field));
          },
          std::to_string(lo) + ".." + std::to_string(hi)};
}

Key string_key(const char *sec, const char *name, std::string Config::*field) {
  return {sec, name,
          [field](const toml::node &n, Config &c) -> std::string {
            if (!n.is_string()) return "expected a string";
            c.*field = *n.value<std::string>();
            return "";
          },
          [field, name](const Config &c, toml::table &t) { t.insert_or_assign(name, c.*field); }};
}

// A header field name (RFC 5322 §3.6.8: printable US-ASCII but ':', at least one character),
// bounded so that it fits a header line; `may_be_empty` for names whose "" means "off".
Key header_name_key(const char *sec, const char *name, std::string Config::*field,
                    bool may_be_empty) {
  return {sec, name,
          [field, may_be_empty](const toml::node &n, Config &c) -> std::string {
            if (!n.is_string()) return "expected a string";
            std::string v = *n.value<std::string>();
            if (v.empty() && !may_be_empty) return "a header field name cannot be empty";
            if (v.size() > 76) return "a header field name longer than 76 characters";
            for (unsigned char ch : v) {
              if (ch < 33 || ch > 126 || ch == ':')
                return "not a valid header field name (RFC 5322: printable ASCII except ':', no "
                       "spaces)";
            }
            c.*field = std::move(v);
            return "";
          },
          [field, name](const Config &c, toml::table &t) { t.insert_or_assign(name, c.*field); }};
}

// A string that must be one of `choices` (e.g. the quarantine backend).
Key choice_key(const char *sec, const char *name, std::string Config::*field,
               std::vector<std::string> choices) {
  return {sec, name,
          [field, choices](const toml::node &n, Config &c) -> std::string {
            auto v = n.value<std::string>();
            if (v && std::find(choices.begin(), choices.end(), *v) != choices.end()) {
              c.*field = *v;
              return "";
            }
            std::string want = "expected ";
            for (size_t i = 0; i < choices.size(); ++i)
              want += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
            return want;
          },
          [field, name](const Config &c, toml::table &t) { t.insert_or_assign(name, c.*field); }};
}

Key list_key(const char *sec, const char *name, std::vector<std::string> Config::*field) {
  return {sec, name,
          [field](const toml::node &n, Config &c) -> std::string {
            const toml::array *arr = n.as_array();
            if (arr == nullptr) return "expected an array of strings";
            std::vector<std::string> out;
            for (const auto &el : *arr) {
              if (!el.is_string()) return "expected an array of strings";
              out.push_back(*el.value<std::string>());
            }
            c.*field = std::move(out);
            return "";
          },
          [field, name](const Config &c, toml::table &t) {
            toml::array arr;
            for (const auto &s : c.*field) arr.push_back(s);
            t.insert_or_assign(name, arr);
          }};
}

// One string or a non-empty array of strings; printed as a string when there is one.
Key string_or_list_key(const char *sec, const char *name, std::vector<std::string> Config::*field) {
  return {sec, name,
          [field](const toml::node &n, Config &c) -> std::string {
            std::vector<std::string> out;
            if (n.is_string()) {
              out.push_back(*n.value<std::string>());
            } else if (const toml::array *arr = n.as_array()) {
              for (const auto &el : *arr) {
                if (!el.is_string()) return "expected a string or an array of strings";
                out.push_back(*el.value<std::string>());
              }
            } else {
              return "expected a string or an array of strings";
            }
            if (out.empty()) return "expected at least one value";
            c.*field = std::move(out);
            return "";
          },
          [field, name](const Config &c, toml::table &t) {
            const auto &v = c.*field;
            if (v.size() == 1) {
              t.insert_or_assign(name, v.front());
              return;
            }
            toml::array arr;
            for (const auto &s : v) arr.push_back(s);
            t.insert_or_assign(name, arr);
          }};
}

Key action_key(const char *sec, const char *name, Action Config::*field, bool allow_strip) {
  return {sec, name,
          [field, allow_strip](const toml::node &n, Config &c) -> std::string {
            auto s = n.value<std::string>();
            auto a = s ? action_from_string(*s) : std::nullopt;
            if (!a) return "expected accept, reject, tempfail, quarantine, discard or strip";
            if (*a == Action::kRewrite && !allow_strip) return "strip is not possible here";
            c.*field = *a;
            return "";
          },
          [field, name](const Config &c, toml::table &t) {
            t.insert_or_assign(name, std::string(to_string(c.*field)));
          }};
}

const std::vector<Key> &keys() {
  static const std::vector<Key> k = {
      described(bool_key("scan", "raw_message_pass", &Config::raw_message_pass),
                "Also give libclamav the raw message once (its own mail parser), for logical "
                "signatures that need Container:CL_TYPE_MAIL."),
      described(uint_key("scan", "raw_message_pass_max_bytes", &Config::raw_message_pass_max_bytes,
                         0, int64_t(1) << 40),
                "With raw_message_pass: only messages at most this big (or whose MIME structure "
                "was flagged malformed or ambiguous) get the raw pass."),
      described(bool_key("scan", "raw_message_pass_skips_scanned_parts",
                         &Config::raw_message_pass_skips_scanned_parts),
                "The raw pass skips parts that decode to bytes already scanned; false rescans them "
                "inside the mail."),
      described(bool_key("scan", "add_header", &Config::add_header),
                "Add the scanned-by header (header_name) to accepted mail."),
      described(header_name_key("scan", "header_name", &Config::header_name, false),
                "Name of the scanned-by header field (RFC 5322 field name)."),
      described(header_name_key("scan", "status_header_name", &Config::status_header_name, true),
                "With add_header: header field set to Clean or Infected (NAME, ...) on delivered "
                "mail; \"\" = not added."),
      described(string_key("scan", "spool_dir", &Config::spool_dir),
                "Where messages larger than [limits] spool_memory_bytes are spooled; \"\" = "
                "$TMPDIR or /tmp."),
      described(string_key("scan", "temp_dir", &Config::temp_dir),
                "Where libclamav unpacks parts; \"\" = $TMPDIR or /tmp (tmpfs is faster)."),
      described(uint_key("scan", "part_threads", &Config::part_threads, 0, 256),
                "Threads that scan one message's parts at once, its own included, while fewer "
                "messages than that are being scanned: 1 = one part after another; 0 = one per "
                "CPU."),
      described(limit_key("max_message_bytes", &Limits::max_message_bytes, 1024, int64_t(1) << 40),
                "Largest message kept; a larger one is refused (552), never scanned in part."),
      described(limit_key("max_mime_depth", &Limits::max_mime_depth, 1, 10000),
                "Deepest MIME multipart nesting; deeper is unscannable."),
      described(limit_key("max_rfc822_depth", &Limits::max_rfc822_depth, 1, 1000),
                "Deepest nesting of attached messages (message/rfc822); deeper is unscannable."),
      described(limit_key("max_parts", &Limits::max_parts, 1, 1000000),
                "Most MIME parts in one message; more is unscannable."),
      described(limit_key("max_header_fields", &Limits::max_header_fields, 8, 1000000),
                "Most header fields in one header block; more is unscannable."),
      described(limit_key("max_header_bytes", &Limits::max_header_bytes, 1024, 64 << 20),
                "Largest header block in bytes; larger is unscannable."),
      described(limit_key("max_params", &Limits::max_params, 1, 100000),
                "Most parameters in one MIME header field; more is unscannable."),
      described(limit_key("max_boundary_length", &Limits::max_boundary_length, 70, 1 << 20),
                "Longest multipart boundary; longer is unscannable."),
      described(limit_key("max_archive_recursion", &Limits::max_archive_recursion, 1, 64),
                "Deepest archive-in-archive nesting; deeper is unscannable."),
      described(limit_key("max_archive_files", &Limits::max_archive_files, 1, 10000000),
                "Most members read from one archive; more is unscannable."),
      described(limit_key("max_compression_ratio", &Limits::max_compression_ratio, 2, 1000000),
                "Largest expansion ratio of a container past 1 MiB; more is unscannable "
                "(decompression bomb)."),
      described(limit_key("max_decoded_bytes", &Limits::max_decoded_bytes, 1024, int64_t(1) << 40),
                "Most bytes decoded from one message in all; more is unscannable."),
      described(limit_key("max_decoded_percent", &Limits::max_decoded_percent, 100, 100000),
                "Most bytes decoded from one message in all, as a percentage of its size, plus 8 "
                "MiB (the lower of this and max_decoded_bytes holds); more is unscannable."),
      described(limit_key("max_file_bytes", &Limits::max_file_bytes, 1024, int64_t(1) << 40),
                "Largest single part or member scanned; larger is unscannable."),
      described(limit_key("scan_deadline_ms", &Limits::scan_deadline_ms, 100, 3600000),
                "Time allowed to scan one message; past it the message is unscannable. Keep below "
                "the MTA's milter content timeout."),
      described(limit_key("spool_memory_bytes", &Limits::spool_memory_bytes, 0, int64_t(1) << 34),
                "Streamed messages up to this size stay in memory; larger ones are spooled to "
                "spool_dir."),
      described(limit_key("max_concurrent_scans", &Limits::max_concurrent_scans, 1, 100000),
                "Scans in flight in one process; a message beyond it is tempfailed (451)."),
      described(
          limit_key("memory_budget_bytes", &Limits::memory_budget_bytes, 16 << 20,
                    int64_t(1) << 44),
          "Memory the scans in flight may hold (each charged 3x its size + 16 MiB); beyond it a "
          "message is tempfailed (451)."),
      described(bool_key("clamav", "enabled", &Config::clamav_enabled), "Scan with libclamav."),
      described(bool_key("clamav", "required", &Config::clamav_required),
                "A libclamav failure tempfails the message (fail closed)."),
      described(list_key("clamav", "signature_dirs", &Config::signature_dirs),
                "Signature directories to load; [] = the shipped test signatures directory."),
      described(bool_key("clamav", "system_db", &Config::system_db),
                "Also load the system ClamAV database when it holds one."),
      described(
          string_key("clamav", "system_db_dir", &Config::system_db_dir),
          "The system ClamAV database directory; \"\" = libclamav's default (/var/lib/clamav)."),
      described(bool_key("clamav", "watch", &Config::clamav_watch),
                "Reload when a database file changes (freshclam replaces files)."),
      described(uint_key("clamav", "watch_poll_ms", &Config::clamav_watch_poll_ms, 50, 3600000),
                "How often the database files are checked for changes, in milliseconds."),
      described(uint_key("clamav", "max_db_age_hours", &Config::max_db_age_hours, 0, 87600),
                "avsink status warns about a database older than this; 0 = never."),
      described(bool_key("clamd", "enabled", &Config::clamd_enabled),
                "Also scan with a clamd daemon (INSTREAM)."),
      described(bool_key("clamd", "required", &Config::clamd_required),
                "clamd unreachable or failing tempfails the message."),
      described(string_or_list_key("clamd", "address", &Config::clamd_addresses),
                "unix:/path or tcp:HOST:PORT; an array is tried in order (fail-over)."),
      described(
          uint_key("clamd", "connect_timeout_ms", &Config::clamd_connect_timeout_ms, 1, 600000),
          "Connect timeout to clamd, in milliseconds."),
      described(uint_key("clamd", "read_timeout_ms", &Config::clamd_read_timeout_ms, 1, 3600000),
                "Time to wait for clamd's answer, in milliseconds."),
      described(uint_key("clamd", "stream_max_length", &Config::clamd_stream_max_length, 1,
                         (int64_t(1) << 32) - 1),
                "Largest part sent to clamd; keep <= clamd.conf StreamMaxLength. Larger parts are "
                "unscannable."),
      described(uint_key("clamd", "pool_size", &Config::clamd_pool_size, 1, 256),
                "Connections kept open to clamd."),
      described(uint_key("clamd", "retries", &Config::clamd_retries, 0, 10),
                "Retries of a failed clamd scan before it counts as an engine error."),
      described(bool_key("hashlist", "enabled", &Config::hashlist_enabled),
                "Scan with SHA-256 lists (\"<64 hex> <name>\" lines, sha256sum output works)."),
      described(bool_key("hashlist", "required", &Config::hashlist_required),
                "A hash-list failure tempfails the message."),
      described(list_key("hashlist", "files", &Config::hashlist_files),
                "Hash list files; [] = the shipped signatures/*.sha256."),
      described(bool_key("hashlist", "watch", &Config::hashlist_watch),
                "Reload the hash lists when a list file changes."),
      described(uint_key("hashlist", "poll_ms", &Config::hashlist_poll_ms, 50, 3600000),
                "Stat poll interval for the hash lists (the safety net under inotify)."),
      described(action_key("actions", "virus", &Config::virus_action, true),
                "Action on a virus: reject, quarantine, discard or strip."),
      described(action_key("actions", "unscannable", &Config::unscannable_action, false),
                "Action on a message that cannot be scanned completely: reject, quarantine, "
                "tempfail or discard."),
      described(action_key("actions", "engine_error", &Config::engine_error_action, false),
                "Action when an engine fails: reject, quarantine, tempfail or discard."),
      described(list_key("attachments", "lists", &Config::attachment_lists),
                "Attachment list files; [] = the shipped rules/attachments-*.list."),
      described(list_key("attachments", "block", &Config::attachment_block),
                "Extra extensions to block, e.g. [\"xll\", \"iqy\"]."),
      described(list_key("attachments", "allow", &Config::attachment_allow),
                "Extensions to let through, e.g. [\"url\"]."),
      described(bool_key("attachments", "replace_defaults", &Config::attachment_replace_defaults),
                "true: use only lists/block/allow, not the shipped lists."),
      described(action_key("attachments", "action", &Config::banned_action, true),
                "Action on a banned attachment: reject, quarantine or strip."),
      described(action_key("attachments", "true_type_action", &Config::true_type_action, true),
                "Action when an attachment's content type contradicts its name."),
      described(action_key("attachments", "encrypted_action", &Config::encrypted_action, false),
                "Action on an encrypted archive or document that cannot be scanned."),
      described(uint_key("attachments", "max_member_depth", &Config::max_member_depth, 1, 64),
                "Deepest archive member checked against the attachment lists."),
      described(bool_key("attachments", "watch", &Config::attachment_watch),
                "Reload the attachment list files when they change (independent of [rules] "
                "watch)."),
      described(uint_key("attachments", "poll_ms", &Config::attachment_poll_ms, 50, 3600000),
                "Stat poll interval for the attachment list files."),
      described(list_key("rules", "files", &Config::rule_files),
                "Rule files, in precedence order (docs/rules.md)."),
      described(list_key("rules", "internal_domains", &Config::internal_domains),
                "Your own domains, for the spoofed-sender check."),
      described(list_key("rules", "trusted_networks", &Config::trusted_networks),
                "Client networks (CIDR) that may send as internal domains."),
      described(action_key("rules", "spoof_action", &Config::spoof_action, false),
                "Action on mail from outside trusted_networks claiming an internal sender."),
      described(bool_key("rules", "watch", &Config::watch_files),
                "Reload rule files when they change."),
      described(uint_key("rules", "poll_ms", &Config::poll_ms, 50, 3600000),
                "How often rule files are checked for changes, in milliseconds."),
      described(string_key("quarantine", "dir", &Config::quarantine_dir),
                "The quarantine directory."),
      described(
          string_key("quarantine", "key_file", &Config::quarantine_key_file),
          "32-byte key file; when set, quarantined messages are encrypted at rest (AES-256-GCM)."),
      described(
          string_key("quarantine", "release_secret_file", &Config::release_secret_file),
          "HMAC key for release marks; \"\" = derived from key_file, else <dir>/.release-key."),
      described(string_key("quarantine", "release_next_hop", &Config::release_next_hop),
                "Where `avsink quarantine release` sends messages (HOST:PORT) when --next-hop and "
                "$AVSINK_QUARANTINE_NEXT_HOP are absent; \"\" = none."),
      described(uint_key("quarantine", "retention_days", &Config::retention_days, 1, 36500),
                "Days a quarantined message is kept before purge deletes it."),
      described(choice_key("quarantine", "backend", &Config::quarantine_backend,
                           {"filesystem", "postgresql"}),
                "Where quarantined messages are kept: filesystem (dir) or postgresql (shared by "
                "gateways)."),
      described(string_key("quarantine", "pg_conninfo", &Config::pg_conninfo),
                "libpq connection string for the postgresql backend, without a password (use a "
                "passfile)."),
      described(string_key("quarantine", "pg_conninfo_file", &Config::pg_conninfo_file),
                "Or a file holding that connection string."),
      described(uint_key("quarantine", "pg_timeout_ms", &Config::pg_timeout_ms, 100, 600000),
                "Connect and per-operation timeout for the postgresql backend, in milliseconds "
                "(capped at the scan deadline)."),
      described(string_key("audit", "log", &Config::audit_log),
                "Audit log file (JSON lines); \"\" = no audit log."),
      described(string_key("lockdown", "state_file", &Config::lockdown_state_file),
                "The outbreak lockdown state file every gateway watches (avsink lockdown on|off); "
                "\"\" = no lockdown possible."),
      described(action_key("lockdown", "action", &Config::lockdown_action, false),
                "What a lockdown does to mail in its scope: tempfail or quarantine."),
      described(uint_key("lockdown", "poll_ms", &Config::lockdown_poll_ms, 50, 3600000),
                "Stat poll interval for the lockdown state file (the safety net under inotify)."),
      described(bool_key("notify", "enabled", &Config::notify_enabled),
                "Send notices (administrator, sender) through the local MTA."),
      described(string_key("notify", "next_hop", &Config::notify_next_hop),
                "The local MTA notices are sent through (HOST:PORT, plain SMTP)."),
      described(string_key("notify", "from", &Config::notify_from),
                "The From: header of notices (the envelope sender is <>)."),
      described(list_key("notify", "admins", &Config::notify_admins),
                "Addresses that receive virus, banned-attachment and quarantine notices."),
      described(
          bool_key("notify", "sender", &Config::notify_sender),
          "Also tell the envelope sender of a quarantine (backscatter risk: forged senders)."),
      described(uint_key("notify", "interval_ms", &Config::notify_interval_ms, 100, 86400000),
                "The notice interval: past max_per_interval notices, the rest go as one digest."),
      described(uint_key("notify", "max_per_interval", &Config::notify_max_per_interval, 0, 100000),
                "Single notices sent per interval; the rest are summed up in one digest."),
      described(string_key("notify", "templates_dir", &Config::notify_templates_dir),
                "Directory of notice templates; \"\" = the shipped rules/templates."),
  };
  return k;
}

const Key *find_key(const std::string &section, const std::string &name) {
  for (const auto &k : keys())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

uint32_t line_of(const toml::node &n) {
  return n.source().begin.line;
}

}  // namespace

std::string Config::shipped_signatures_dir() {
  return shipped_data_dir() + "/signatures";
}

std::string Config::shipped_rules_dir() {
  return shipped_data_dir() + "/rules";
}

Result<Config> parse_config(std::string_view text, const std::string &name,
                            std::vector<Error> *all) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error &e) {
    Error err =
        make_error(ErrorCode::kConfig, std::string(e.description()), name, e.source().begin.line);
    if (all != nullptr) all->push_back(err);
    return err;
  }
  Config cfg;
  cfg.source = name;
  std::optional<Error> first;
  // Without `all` the first error is returned; with it, each is kept and parsing goes on.
  auto fail = [&](Error e) {
    if (all != nullptr) all->push_back(e);
    if (!first) first = std::move(e);
    return all == nullptr;
  };
  for (auto &&[sec_key, sec_node] : root) {
    std::string section(sec_key.str());
    if (section == "policy") {  // [[policy]] tables (policy_toml.h)
      uint32_t line = 0;
      std::string why = parse_policies(sec_node, &cfg.policies, &line);
      if (!why.empty()) return make_error(ErrorCode::kConfig, why, name, line);
      continue;
    }
    const toml::table *table = sec_node.as_table();
    if (table == nullptr) {
      if (fail(make_error(ErrorCode::kConfig, "'" + section + "' must be a [section]", name,
                          line_of(sec_node))))
        return *first;
      continue;
    }
    bool known_section = false;
    for (const auto &k : keys()) known_section |= (k.section == section);
    if (!known_section) {
      if (fail(make_error(ErrorCode::kConfig, "unknown section [" + section + "]", name,
                          line_of(sec_node))))
        return *first;
      continue;
    }
    for (auto &&[key, node] : *table) {
      std::string key_name(key.str());
      const Key *k = find_key(section, key_name);
      if (k == nullptr) {
        if (fail(make_error(ErrorCode::kConfig,
                            "unknown key '" + key_name + "' in [" + section + "]", name,
                            line_of(node))))
          return *first;
        continue;
      }
      cfg.key_lines[section + "." + key_name] = line_of(node);
      std::string why = k->set(node, cfg);
      if (!why.empty() && fail(make_error(ErrorCode::kConfig, section + "." + key_name + ": " + why,
                                          name, line_of(node))))
        return *first;
    }
  }
  if (first && all == nullptr) return *first;
  return cfg;
}

Result<Config> load_config(const std::string &path, std::vector<Error> *all) {
  // A configuration file is a few KiB; 4 MiB leaves room for long lists and no more.
  auto text = read_regular_file(path, 4u << 20);
  if (!text) {
    Error e = text.error();
    e.message = "cannot read configuration file: " + e.message;
    return e;
  }
  return parse_config(*text, path, all);
}

// Basic strings with escapes only: toml++ may print a string holding quotes as a literal or
// multi-line string that does not parse back (a list element with both kinds of quote; found
// by fuzz_config).
constexpr auto kBasicStringsOnly =
    toml::toml_formatter::default_flags &
    ~(toml::format_flags::allow_literal_strings | toml::format_flags::allow_multi_line_strings);

std::vector<ConfigKeyDoc> config_key_docs() {
  std::vector<ConfigKeyDoc> out;
  const Config defaults;
  for (const auto &k : keys()) {
    toml::table t;
    k.print(defaults, t);
    const toml::node *n = t.get(k.name);
    ConfigKeyDoc d{k.section, k.name, "", "", k.range, k.description};
    if (n->is_boolean()) d.kind = "boolean";
    if (n->is_integer()) d.kind = "integer";
    if (n->is_string()) d.kind = "string";
    if (n->is_array()) d.kind = "array of strings";
    std::ostringstream text;
    text << toml::toml_formatter(t, kBasicStringsOnly);
    d.default_value = text.str();
    const auto eq = d.default_value.find(" = ");
    if (eq != std::string::npos) d.default_value = d.default_value.substr(eq + 3);
    while (!d.default_value.empty() && d.default_value.back() == '\n') d.default_value.pop_back();
    out.push_back(std::move(d));
  }
  return out;
}

std::string dump_config(const Config &config) {
  toml::table root;
  for (const auto &k : keys()) {
    if (!root.contains(k.section)) root.insert(k.section, toml::table{});
    k.print(config, *root[k.section].as_table());
  }
  if (!config.policies.empty()) root.insert("policy", dump_policies(config.policies));
  std::ostringstream out;
  out << "# effective configuration (source: " << config.source << ")\n"
      << toml::toml_formatter(root, kBasicStringsOnly) << "\n";
  return out.str();
}

}  // namespace avsink

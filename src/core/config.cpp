// config.cpp - avsink.toml (toml++) -> Config, driven by one table of keys (name, setter, printer).
// Every key is optional; unknown sections/keys, wrong types and out-of-range values are errors.
#include "core/config.h"

#include <sys/stat.h>
#include <functional>
#include <sstream>

#include <toml++/toml.h>

#include "core/read_file.h"

namespace avsink {

namespace {

// A key's setter returns "" on success or the reason the value is wrong.
using Setter = std::function<std::string(const toml::node &, Config &)>;
using Printer = std::function<void(const Config &, toml::table &)>;

struct Key {
  std::string section;
  std::string name;
  Setter set;
  Printer print;
};

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
          }};
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
          }};
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
      bool_key("scan", "raw_message_pass", &Config::raw_message_pass),
      uint_key("scan", "raw_message_pass_max_bytes", &Config::raw_message_pass_max_bytes, 0,
               int64_t(1) << 40),
      bool_key("scan", "raw_message_pass_skips_scanned_parts",
               &Config::raw_message_pass_skips_scanned_parts),
      bool_key("scan", "add_header", &Config::add_header),
      header_name_key("scan", "header_name", &Config::header_name, false),
      header_name_key("scan", "status_header_name", &Config::status_header_name, true),
      string_key("scan", "spool_dir", &Config::spool_dir),
      string_key("scan", "temp_dir", &Config::temp_dir),
      limit_key("max_message_bytes", &Limits::max_message_bytes, 1024, int64_t(1) << 40),
      limit_key("max_mime_depth", &Limits::max_mime_depth, 1, 10000),
      limit_key("max_rfc822_depth", &Limits::max_rfc822_depth, 1, 1000),
      limit_key("max_parts", &Limits::max_parts, 1, 1000000),
      limit_key("max_header_fields", &Limits::max_header_fields, 8, 1000000),
      limit_key("max_header_bytes", &Limits::max_header_bytes, 1024, 64 << 20),
      limit_key("max_params", &Limits::max_params, 1, 100000),
      limit_key("max_boundary_length", &Limits::max_boundary_length, 70, 1 << 20),
      limit_key("max_archive_recursion", &Limits::max_archive_recursion, 1, 64),
      limit_key("max_archive_files", &Limits::max_archive_files, 1, 10000000),
      limit_key("max_compression_ratio", &Limits::max_compression_ratio, 2, 1000000),
      limit_key("max_decoded_bytes", &Limits::max_decoded_bytes, 1024, int64_t(1) << 40),
      limit_key("max_file_bytes", &Limits::max_file_bytes, 1024, int64_t(1) << 40),
      limit_key("scan_deadline_ms", &Limits::scan_deadline_ms, 100, 3600000),
      limit_key("spool_memory_bytes", &Limits::spool_memory_bytes, 0, int64_t(1) << 34),
      limit_key("max_concurrent_scans", &Limits::max_concurrent_scans, 1, 100000),
      limit_key("memory_budget_bytes", &Limits::memory_budget_bytes, 16 << 20, int64_t(1) << 44),
      bool_key("clamav", "enabled", &Config::clamav_enabled),
      bool_key("clamav", "required", &Config::clamav_required),
      list_key("clamav", "signature_dirs", &Config::signature_dirs),
      bool_key("clamav", "system_db", &Config::system_db),
      string_key("clamav", "system_db_dir", &Config::system_db_dir),
      bool_key("clamav", "watch", &Config::clamav_watch),
      uint_key("clamav", "watch_poll_ms", &Config::clamav_watch_poll_ms, 50, 3600000),
      uint_key("clamav", "max_db_age_hours", &Config::max_db_age_hours, 0, 87600),
      bool_key("clamd", "enabled", &Config::clamd_enabled),
      bool_key("clamd", "required", &Config::clamd_required),
      string_or_list_key("clamd", "address", &Config::clamd_addresses),
      uint_key("clamd", "connect_timeout_ms", &Config::clamd_connect_timeout_ms, 1, 600000),
      uint_key("clamd", "read_timeout_ms", &Config::clamd_read_timeout_ms, 1, 3600000),
      uint_key("clamd", "stream_max_length", &Config::clamd_stream_max_length, 1,
               (int64_t(1) << 32) - 1),
      uint_key("clamd", "pool_size", &Config::clamd_pool_size, 1, 256),
      uint_key("clamd", "retries", &Config::clamd_retries, 0, 10),
      bool_key("hashlist", "enabled", &Config::hashlist_enabled),
      bool_key("hashlist", "required", &Config::hashlist_required),
      list_key("hashlist", "files", &Config::hashlist_files),
      action_key("actions", "virus", &Config::virus_action, true),
      action_key("actions", "unscannable", &Config::unscannable_action, false),
      action_key("actions", "engine_error", &Config::engine_error_action, false),
      list_key("attachments", "lists", &Config::attachment_lists),
      list_key("attachments", "block", &Config::attachment_block),
      list_key("attachments", "allow", &Config::attachment_allow),
      bool_key("attachments", "replace_defaults", &Config::attachment_replace_defaults),
      action_key("attachments", "action", &Config::banned_action, true),
      action_key("attachments", "true_type_action", &Config::true_type_action, true),
      action_key("attachments", "encrypted_action", &Config::encrypted_action, false),
      uint_key("attachments", "max_member_depth", &Config::max_member_depth, 1, 64),
      list_key("rules", "files", &Config::rule_files),
      list_key("rules", "internal_domains", &Config::internal_domains),
      list_key("rules", "trusted_networks", &Config::trusted_networks),
      action_key("rules", "spoof_action", &Config::spoof_action, false),
      bool_key("rules", "watch", &Config::watch_files),
      uint_key("rules", "poll_ms", &Config::poll_ms, 50, 3600000),
      string_key("quarantine", "dir", &Config::quarantine_dir),
      string_key("quarantine", "key_file", &Config::quarantine_key_file),
      string_key("quarantine", "release_secret_file", &Config::release_secret_file),
      uint_key("quarantine", "retention_days", &Config::retention_days, 1, 36500),
      string_key("audit", "log", &Config::audit_log),
  };
  return k;
}

const Key *find_key(const std::string &section, const std::string &name) {
  for (const auto &k : keys())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

bool is_dir(const std::string &p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

uint32_t line_of(const toml::node &n) {
  return n.source().begin.line;
}

}  // namespace

std::string Config::shipped_signatures_dir() {
  if (is_dir(AVSINK_INSTALLED_SIGNATURES_DIR)) return AVSINK_INSTALLED_SIGNATURES_DIR;
  return AVSINK_SOURCE_SIGNATURES_DIR;
}

std::string Config::shipped_rules_dir() {
  if (is_dir(AVSINK_INSTALLED_RULES_DIR)) return AVSINK_INSTALLED_RULES_DIR;
  return AVSINK_SOURCE_RULES_DIR;
}

Result<Config> parse_config(std::string_view text, const std::string &name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error &e) {
    return make_error(ErrorCode::kConfig, std::string(e.description()), name,
                      e.source().begin.line);
  }
  Config cfg;
  cfg.source = name;
  for (auto &&[sec_key, sec_node] : root) {
    std::string section(sec_key.str());
    const toml::table *table = sec_node.as_table();
    if (table == nullptr)
      return make_error(ErrorCode::kConfig, "'" + section + "' must be a [section]", name,
                        line_of(sec_node));
    bool known_section = false;
    for (const auto &k : keys()) known_section |= (k.section == section);
    if (!known_section)
      return make_error(ErrorCode::kConfig, "unknown section [" + section + "]", name,
                        line_of(sec_node));
    for (auto &&[key, node] : *table) {
      std::string key_name(key.str());
      const Key *k = find_key(section, key_name);
      if (k == nullptr)
        return make_error(ErrorCode::kConfig, "unknown key '" + key_name + "' in [" + section + "]",
                          name, line_of(node));
      std::string why = k->set(node, cfg);
      if (!why.empty())
        return make_error(ErrorCode::kConfig, section + "." + key_name + ": " + why, name,
                          line_of(node));
    }
  }
  return cfg;
}

Result<Config> load_config(const std::string &path) {
  // A configuration file is a few KiB; 4 MiB leaves room for long lists and no more.
  auto text = read_regular_file(path, 4u << 20);
  if (!text) {
    Error e = text.error();
    e.message = "cannot read configuration file: " + e.message;
    return e;
  }
  return parse_config(*text, path);
}

std::string dump_config(const Config &config) {
  toml::table root;
  for (const auto &k : keys()) {
    if (!root.contains(k.section)) root.insert(k.section, toml::table{});
    k.print(config, *root[k.section].as_table());
  }
  std::ostringstream out;
  // Basic strings with escapes only: toml++ may print a string holding quotes as a literal or
  // multi-line string that does not parse back (a list element with both kinds of quote; found
  // by fuzz_config).
  constexpr auto flags =
      toml::toml_formatter::default_flags &
      ~(toml::format_flags::allow_literal_strings | toml::format_flags::allow_multi_line_strings);
  out << "# effective configuration (source: " << config.source << ")\n"
      << toml::toml_formatter(root, flags) << "\n";
  return out.str();
}

}  // namespace avsink

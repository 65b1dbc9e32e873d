// config_check.cpp - every error an engine built from a Config would hit, found at once with the
// engine's own loaders and parsers (no second copy of their validation).
#include "session/config_check.h"

#include <algorithm>
#include <filesystem>

#include "attachments/extension_list.h"
#include "core/read_file.h"
#include "engines/clamav_lib.h"
#include "engines/hash_list.h"
#include "quarantine/crypto.h"
#include "quarantine/smtp_release.h"
#include "rules/rule_engine.h"

namespace avsink::session {

namespace {

namespace fs = std::filesystem;

struct Checker {
  const Config &cfg;
  const RunAsUser &user;
  std::vector<Error> errors;

  // An error blamed on the config key `key` ("section.name"): the config file's line of it.
  void key_error(const std::string &key, std::string why) {
    if (why.rfind(key + ": ", 0) == 0) why.erase(0, key.size() + 2);  // validate() names it too
    auto it = cfg.key_lines.find(key);
    errors.push_back(make_error(ErrorCode::kConfig, key + ": " + why, cfg.source,
                                it == cfg.key_lines.end() ? 0 : it->second));
  }
  // A file loader's own error: it names its file and line when it knows them.
  void loader_error(const std::string &key, Error e) {
    if (e.line == 0) {
      key_error(key, e.describe());
      return;
    }
    errors.push_back(std::move(e));
  }
  // false (and an error) when `user` cannot access `path` as `need`.
  bool access(const std::string &key, const std::string &path, unsigned need) {
    std::string why = user_access_problem(path, user, need);
    if (why.empty()) return true;
    key_error(key, why);
    return false;
  }
  // A directory the daemon creates files in: it, or the nearest existing parent, writable.
  void writable_dir(const std::string &key, const std::string &dir) {
    std::error_code ec;
    fs::path p = fs::absolute(dir, ec);
    while (!p.empty() && !fs::exists(p, ec) && p != p.parent_path()) p = p.parent_path();
    access(key, p.string(), kNeedWrite | kNeedSearch);
  }

  void rules() {
    for (const auto &f : cfg.rule_files) {
      if (f.empty()) {
        key_error("rules.files", "empty file name");
        continue;
      }
      if (!access("rules.files", f, kNeedRead)) continue;
      for (auto &e : rules::check_file(f)) loader_error("rules.files", std::move(e));
    }
    // One value at a time through the engine's own validation, so every bad one is named.
    for (const auto &n : cfg.trusted_networks) {
      rules::RulesOptions o;
      o.trusted_networks = {n};
      if (auto r = o.validate(); !r) key_error("rules.trusted_networks", r.error().message);
    }
    for (const auto &d : cfg.internal_domains) {
      rules::RulesOptions o;
      o.internal_domains = {d};
      if (auto r = o.validate(); !r) key_error("rules.internal_domains", r.error().message);
    }
  }

  void attachment_lists() {
    std::vector<std::string> files = cfg.attachment_lists;
    if (files.empty() && !cfg.attachment_replace_defaults)
      files = attachments::shipped_list_files();
    list_files("attachments.lists", files);
    block_entries("attachments.block", cfg.attachment_block);
    for (const auto &e : cfg.attachment_allow)
      if (auto r = attachments::build_lists({}, {}, {e}); !r)
        key_error("attachments.allow", r.error().message);
    // A policy's own lists, with the same loader (the global ones are checked above).
    for (const auto &p : cfg.policies) {
      if (p.attachment_lists)
        list_files("policy." + p.name + ".attachment_lists", *p.attachment_lists);
      block_entries("policy." + p.name + ".attachment_block", p.attachment_block);
    }
  }
  // Every bad line of every list file, each with its file and line.
  void list_files(const std::string &key, const std::vector<std::string> &files) {
    for (const auto &f : files) {
      if (!access(key, f, kNeedRead)) continue;
      auto text = read_regular_file(f, 64u << 20);
      if (!text) {
        loader_error(key, text.error());
        continue;
      }
      attachments::AttachmentLists lists;
      std::vector<Error> all;
      (void)attachments::apply_list_text(*text, f, &lists, &all);
      for (auto &e : all) errors.push_back(std::move(e));
    }
  }
  void block_entries(const std::string &key, const std::vector<std::string> &entries) {
    for (const auto &e : entries)
      if (auto r = attachments::build_lists({}, {e}, {}); !r) key_error(key, r.error().message);
  }

  // Every database file of `dir` readable by the user; false when one is not.
  bool database_readable(const std::string &key, const std::string &dir) {
    std::error_code ec;
    if (fs::is_regular_file(dir, ec)) return access(key, dir, kNeedRead);
    if (!access(key, dir, kNeedRead | kNeedSearch)) return false;
    bool ok = true;
    for (const auto &entry : fs::directory_iterator(dir, ec))
      if (engines::is_clamav_database_name(entry.path().filename().string()))
        ok &= access(key, entry.path().string(), kNeedRead);
    return ok;
  }

  void clamav() {
    if (!cfg.clamav_enabled) return;
    std::vector<std::string> dirs = cfg.signature_dirs;
    const bool shipped = dirs.empty();
    if (shipped) dirs.push_back(Config::shipped_signatures_dir());
    const std::string key = shipped ? "clamav" : "clamav.signature_dirs";
    for (const auto &d : dirs) {
      std::error_code ec;
      if (!fs::exists(d, ec)) {
        // The engine skips a missing directory; a configured one that is missing is a mistake.
        key_error(key, d + ": no such file or directory");
        continue;
      }
      if (!database_readable(key, d)) continue;
      engines::ClamavOptions o;
      o.signature_dirs = {d};
      o.load_system_db = false;
      o.limits = cfg.limits;
      o.temp_dir = cfg.temp_dir;
      if (auto e = engines::ClamavEngine::open(o); !e)
        key_error(key, d + ": " + e.error().describe());
    }
    if (cfg.system_db) {
      std::string dir = cfg.system_db_dir;
      if (dir.empty()) dir = engines::ClamavEngine::default_system_db_dir();
      std::error_code ec;
      if (fs::is_directory(dir, ec))
        database_readable("clamav.system_db_dir", dir);
      else if (!cfg.system_db_dir.empty())
        key_error("clamav.system_db_dir", dir + ": not a directory");
    }
    if (!cfg.temp_dir.empty()) access("scan.temp_dir", cfg.temp_dir, kNeedWrite | kNeedSearch);
  }

  void hashlist() {
    if (!cfg.hashlist_enabled) return;
    for (const auto &f : cfg.hashlist_files) {
      if (!access("hashlist.files", f, kNeedRead)) continue;
      engines::HashListOptions o;
      o.files = {f};
      if (auto e = engines::HashListEngine::open(o); !e) loader_error("hashlist.files", e.error());
    }
  }

  void quarantine() {
    for (const auto &[key, path] :
         {std::pair<std::string, std::string>{"quarantine.key_file", cfg.quarantine_key_file},
          {"quarantine.release_secret_file", cfg.release_secret_file}}) {
      if (path.empty()) continue;
      if (!access(key, path, kNeedRead)) continue;
      if (auto k = quarantine::load_key_file(path); !k) key_error(key, k.error().describe());
    }
    std::error_code ec;
    if (fs::exists(cfg.quarantine_dir, ec))
      access("quarantine.dir", cfg.quarantine_dir, kNeedRead | kNeedWrite | kNeedSearch);
    else
      writable_dir("quarantine.dir", fs::path(cfg.quarantine_dir).parent_path().string());
    if (!cfg.release_next_hop.empty())
      if (auto hp = quarantine::parse_host_port(cfg.release_next_hop); !hp)
        key_error("quarantine.release_next_hop",
                  "'" + cfg.release_next_hop + "': " + hp.error().message);
  }

  void paths() {
    if (!cfg.audit_log.empty()) {
      std::error_code ec;
      if (fs::exists(cfg.audit_log, ec))
        access("audit.log", cfg.audit_log, kNeedWrite);
      else
        writable_dir("audit.log", fs::path(cfg.audit_log).parent_path().string());
    }
    if (!cfg.spool_dir.empty()) access("scan.spool_dir", cfg.spool_dir, kNeedWrite | kNeedSearch);
  }
};

}  // namespace

std::vector<Error> check_config(const Config &config, const RunAsUser &user) {
  Checker c{config, user, {}};
  c.rules();
  c.attachment_lists();
  c.clamav();
  c.hashlist();
  c.quarantine();
  c.paths();
  return std::move(c.errors);
}

}  // namespace avsink::session

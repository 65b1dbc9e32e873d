// cmd_quarantine.cpp - `avsink quarantine list|show|extract|release|delete|purge|verify|...`.
// Exit status: 0 ok, 1 verify found problems or no such entry, 2 usage or any other error.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/limits.h"
#include "mime/parser.h"
#include "quarantine/open.h"
#include "quarantine/release_mark.h"
#include "quarantine/smtp_release.h"
#include "util/text.h"

namespace avsink::cli {

namespace {

namespace q = avsink::quarantine;

constexpr int kOk = 0;
constexpr int kProblem = 1;  // verify found bad entries; an id was not found
constexpr int kError = 2;    // usage, configuration, I/O

const char kUsage[] =
    "usage: avsink quarantine COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  list [--since DATE|AGE] [--sender S] [--rcpt R] [--finding NAME] [--json]\n"
    "  show ID [--json]            metadata and MIME part tree\n"
    "  extract ID [-o FILE]        the raw message (stdout by default)\n"
    "  release ID [--to RCPT]... [--from ADDR] [--by NAME]\n"
    "                              re-inject to the next hop with a release mark\n"
    "  delete ID [--by NAME]\n"
    "  purge [--older-than AGE] [--by NAME]   AGE like 30d, 12h, 45m; default: the retention\n"
    "  verify                      check every entry; exit 1 when any is bad\n"
    "  export FILE                 one archive (ustar) of every entry, with a manifest\n"
    "  import FILE                 verify an archive completely, then add its entries\n"
    "  migrate                     create or upgrade the PostgreSQL schema (backend = postgresql)\n"
    "\n"
    "options for every command:\n"
    "  --config FILE        avsink.toml: [quarantine] and [audit] (env AVSINK_CONFIG)\n"
    "  --dir DIR            the store (env AVSINK_QUARANTINE_DIR)\n"
    "  --key-file F         AES-256-GCM key: 32 raw bytes or 64 hex (env "
    "AVSINK_QUARANTINE_KEY_FILE)\n"
    "  --release-secret-file F   HMAC key for release marks (default: derived or "
    "<dir>/.release-key)\n"
    "  --next-hop HOST:PORT SMTP next hop for release (env AVSINK_QUARANTINE_NEXT_HOP,\n"
    "                       else [quarantine] release_next_hop in the config)\n"
    "  --audit-log FILE     audit log (env AVSINK_AUDIT_LOG; default <dir>/audit.log)\n"
    "  --retention AGE      default age for purge (default 30d)\n"
    "  --timeout SECONDS    SMTP timeout per step for release (default 30)\n"
    "\n"
    "Filters match case-insensitive substrings; --since keeps entries at or after the time.\n"
    "Exit status: 0 ok, 1 verify found problems or the entry does not exist, 2 usage or error.\n";

struct Options {
  std::string command;
  std::vector<std::string> positional;
  std::string dir, key_file, secret_file, next_hop, audit_log, by, output, config;
  std::optional<std::string> since, sender, rcpt, finding, older_than, from;
  std::vector<std::string> to;
  std::string retention = "30d";
  int timeout_s = 30;
  bool json = false;
  bool help = false;
};

std::string env_or(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? v : fallback;
}

int usage_error(const std::string &msg) {
  std::cerr << "avsink quarantine: " << msg << "\n(see `avsink quarantine --help`)\n";
  return kError;
}

// Parses options anywhere on the line; "--name=value" and "--name value" both work.
std::optional<std::string> parse(const Args &args, Options *o) {
  static const std::map<std::string, int> kValued = {{"--dir", 0},
                                                     {"--key-file", 1},
                                                     {"--next-hop", 2},
                                                     {"--audit-log", 3},
                                                     {"--by", 4},
                                                     {"-o", 5},
                                                     {"--output", 5},
                                                     {"--since", 6},
                                                     {"--sender", 7},
                                                     {"--rcpt", 8},
                                                     {"--finding", 9},
                                                     {"--older-than", 10},
                                                     {"--to", 11},
                                                     {"--from", 12},
                                                     {"--retention", 13},
                                                     {"--timeout", 14},
                                                     {"--release-secret-file", 15},
                                                     {"--config", 16}};
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> inline_value;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      inline_value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
    }
    if (a == "--json") {
      o->json = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      o->help = true;
      continue;
    }
    auto it = kValued.find(a);
    if (it == kValued.end()) {
      if (a.size() > 1 && a[0] == '-') return "unknown option " + a;
      if (o->command.empty())
        o->command = a;
      else
        o->positional.push_back(a);
      continue;
    }
    std::string v;
    if (inline_value) {
      v = *inline_value;
    } else {
      if (i + 1 >= args.size()) return "option " + a + " needs a value";
      v = args[++i];
    }
    switch (it->second) {
      case 0:
        o->dir = v;
        break;
      case 1:
        o->key_file = v;
        break;
      case 2:
        o->next_hop = v;
        break;
      case 3:
        o->audit_log = v;
        break;
      case 4:
        o->by = v;
        break;
      case 5:
        o->output = v;
        break;
      case 6:
        o->since = v;
        break;
      case 7:
        o->sender = v;
        break;
      case 8:
        o->rcpt = v;
        break;
      case 9:
        o->finding = v;
        break;
      case 10:
        o->older_than = v;
        break;
      case 11:
        o->to.push_back(v);
        break;
      case 12:
        o->from = v;
        break;
      case 13:
        o->retention = v;
        break;
      case 14: {
        char *end = nullptr;
        long t = std::strtol(v.c_str(), &end, 10);
        if (end == v.c_str() || *end != '\0' || t <= 0 || t > 3600) return "bad --timeout " + v;
        o->timeout_s = static_cast<int>(t);
        break;
      }
      case 15:
        o->secret_file = v;
        break;
      case 16:
        o->config = v;
        break;
    }
  }
  return std::nullopt;
}

// "30d", "12h", "45m", "90s", "2w", or a bare number of seconds.
std::optional<int64_t> parse_age(const std::string &s) {
  if (s.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits > 12 || s.size() - digits > 1) return std::nullopt;
  int64_t n = std::stoll(s.substr(0, digits));
  char unit = digits < s.size() ? s[digits] : 's';
  switch (unit) {
    case 's':
      return n;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    case 'w':
      return n * 7 * 86400;
    default:
      return std::nullopt;
  }
}

// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC), or an AGE counted back from now.
std::optional<int64_t> parse_since(const std::string &s, int64_t now) {
  if (auto age = parse_age(s)) return now - *age;
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0, sec = 0;
  char tail[8] = {0};
  int n =
      std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &sec, tail);
  if (n < 3) return std::nullopt;
  if (n == 3 && s.size() != 10) return std::nullopt;
  if (n > 3 && n < 5) return std::nullopt;
  if (n == 7 && std::string(tail) != "Z") return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm));
}

bool contains_ci(const std::string &hay, const std::string &needle) {
  return util::ascii_lower(hay).find(util::ascii_lower(needle)) != std::string::npos;
}

// Terminal-safe: control characters of message-derived strings are shown as '?'.
std::string printable(const std::string &s, size_t max = 0) {
  std::string out;
  for (unsigned char c : s) out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  if (max && out.size() > max) out = out.substr(0, max - 1) + "~";
  return out;
}

std::string join(const std::vector<std::string> &v, const std::string &sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string finding_names(const q::EntryMeta &m) {
  std::vector<std::string> names;
  for (const auto &f : m.findings)
    names.push_back(f.name.empty() ? std::string(to_string(f.kind)) : f.name);
  return join(names, ",");
}

int report(const Error &e) {
  std::cerr << "avsink quarantine: " << e.describe() << "\n";
  if (e.message.rfind("no such quarantine entry", 0) == 0) return kProblem;
  return kError;
}

// The id argument: exactly one, lower-cased (ids are shown in lower case).
std::optional<std::string> one_id(const Options &o) {
  if (o.positional.size() != 1) return std::nullopt;
  return util::ascii_lower(o.positional[0]);
}

int cmd_list(const Options &o, q::Backend &s) {
  std::optional<int64_t> since;
  if (o.since) {
    since = parse_since(*o.since, s.now());
    if (!since) return usage_error("bad --since (want YYYY-MM-DD[THH:MM[:SS]Z] or an age like 7d)");
  }
  std::vector<std::pair<std::string, std::string>> unreadable;
  auto all = s.list(&unreadable);
  if (!all) return report(all.error());
  std::vector<q::EntryMeta> shown;
  for (auto &m : *all) {
    if (since && m.time < *since) continue;
    if (o.sender && !contains_ci(m.envelope.mail_from, *o.sender)) continue;
    if (o.rcpt && std::none_of(m.envelope.rcpt_to.begin(), m.envelope.rcpt_to.end(),
                               [&](const std::string &r) { return contains_ci(r, *o.rcpt); }))
      continue;
    if (o.finding && std::none_of(m.findings.begin(), m.findings.end(), [&](const Finding &f) {
          return contains_ci(f.name, *o.finding) ||
                 contains_ci(std::string(to_string(f.kind)), *o.finding);
        }))
      continue;
    shown.push_back(std::move(m));
  }
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto &m : shown) arr.push_back(q::meta_to_json(m));
    std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::printf("%-32s  %-20s  %9s  %-28s  %-28s  %s\n", "ID", "TIME (UTC)", "SIZE", "SENDER",
                "RECIPIENTS", "FINDINGS");
    for (const auto &m : shown)
      std::printf("%-32s  %-20s  %9llu  %-28s  %-28s  %s\n", m.id.c_str(),
                  util::iso8601_utc(m.time).c_str(), static_cast<unsigned long long>(m.size),
                  printable(m.envelope.mail_from.empty() ? "<>" : m.envelope.mail_from, 28).c_str(),
                  printable(join(m.envelope.rcpt_to, ","), 28).c_str(),
                  printable(finding_names(m)).c_str());
    std::printf("%zu entr%s\n", shown.size(), shown.size() == 1 ? "y" : "ies");
  }
  for (const auto &[name, why] : unreadable)
    std::cerr << "avsink quarantine: warning: unreadable entry " << name << ": " << why << "\n";
  return kOk;
}

int cmd_show(const Options &o, q::Backend &s) {
  auto id = one_id(o);
  if (!id) return usage_error("show needs exactly one ID");
  auto m = s.meta(*id);
  if (!m) return report(m.error());
  auto msg = s.message(*id);
  if (!msg) return report(msg.error());
  mime::MessageTree tree = mime::parse_message(*msg, Limits{});
  if (o.json) {
    nlohmann::json j = q::meta_to_json(*m);
    nlohmann::json parts = nlohmann::json::array();
    for (const auto &p : tree.parts)
      parts.push_back({{"path", p.path},
                       {"depth", p.depth},
                       {"media_type", p.media_type},
                       {"disposition", p.disposition},
                       {"filename", p.filenames.empty() ? "" : p.filenames[0]},
                       {"decoded_bytes", p.body.size()}});
    j["parts"] = parts;
    j["subject"] = tree.subject();
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kOk;
  }
  const auto &e = m->envelope;
  std::printf("id:          %s\n", m->id.c_str());
  std::printf("time:        %s\n", util::iso8601_utc(m->time).c_str());
  std::printf("size:        %llu bytes\n", static_cast<unsigned long long>(m->size));
  std::printf("sha256:      %s\n", m->sha256.c_str());
  std::printf("encrypted:   %s\n", m->encrypted ? "yes" : "no");
  std::printf("action:      %s\n", printable(m->action).c_str());
  std::printf("reason:      %s\n", printable(m->reason).c_str());
  std::printf("client:      %s [%s] helo=%s%s\n", printable(e.client_name).c_str(),
              printable(e.client_address).c_str(), printable(e.helo).c_str(),
              e.auth_user.empty() ? "" : (" auth=" + printable(e.auth_user)).c_str());
  std::printf("mail from:   <%s>\n", printable(e.mail_from).c_str());
  for (const auto &r : e.rcpt_to) std::printf("rcpt to:     <%s>\n", printable(r).c_str());
  if (!e.queue_id.empty()) std::printf("queue id:    %s\n", printable(e.queue_id).c_str());
  std::printf("subject:     %s\n", printable(tree.subject()).c_str());
  std::printf("findings:\n");
  for (const auto &f : m->findings)
    std::printf("  %-17s %-12s %s%s%s%s\n", std::string(to_string(f.kind)).c_str(),
                printable(f.inspector).c_str(), printable(f.name).c_str(),
                f.part_path.empty() ? "" : (" part " + printable(f.part_path)).c_str(),
                f.filename.empty() ? "" : (" \"" + printable(f.filename) + "\"").c_str(),
                f.detail.empty() ? "" : (": " + printable(f.detail)).c_str());
  std::printf("parts:\n");
  for (const auto &p : tree.parts) {
    std::string indent(2 + 2 * p.depth, ' ');
    std::string name = p.filenames.empty() ? "" : " \"" + printable(p.filenames[0]) + "\"";
    std::printf("%s%-8s %s%s%s  %zu bytes\n", indent.c_str(), p.path.c_str(), p.media_type.c_str(),
                p.disposition.empty() ? "" : (" (" + p.disposition + ")").c_str(), name.c_str(),
                p.body.size());
  }
  return kOk;
}

int cmd_extract(const Options &o, q::Backend &s) {
  auto id = one_id(o);
  if (!id) return usage_error("extract needs exactly one ID");
  if (o.output.empty() || o.output == "-") {
    // Standard output cannot take bytes back: the message is checked whole before any is written.
    auto msg = s.message(*id);
    if (!msg) return report(msg.error());
    if (auto w = q::write_all(1, *msg, "stdout"); !w) return report(w.error());
    return kOk;
  }
  // A file: streamed a piece at a time into a temp file beside it, renamed into place only when
  // every check of the entry passed (else removed): memory stays bounded by a piece.
  const std::string tmp = o.output + "." + q::to_hex(q::random_bytes(6)) + ".tmp";
  q::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return report(q::io_error("cannot create", tmp));
  auto m = s.read_message(*id, [&](std::string_view d) { return q::write_all(fd.get(), d, tmp); });
  Result<void> done = m ? Result<void>() : Result<void>(m.error());
  if (done && ::fsync(fd.get()) != 0) done = q::io_error("fsync failed", tmp);
  fd.reset();
  if (done && ::rename(tmp.c_str(), o.output.c_str()) != 0)
    done = q::io_error("cannot rename into place", o.output);
  if (!done) {
    ::unlink(tmp.c_str());
    return report(done.error());
  }
  return kOk;
}

int cmd_release(const Options &o, q::Backend &s) {
  auto id = one_id(o);
  if (!id) return usage_error("release needs exactly one ID");
  const std::string &hop = o.next_hop;
  if (hop.empty())
    return usage_error(
        "release needs a next hop: --next-hop HOST:PORT or [quarantine] release_next_hop");
  auto hp = q::parse_host_port(hop);
  if (!hp) return usage_error(hp.error().message);
  if (!s.exists(*id)) return report(make_error(ErrorCode::kIo, "no such quarantine entry: " + *id));
  q::ReleaseOptions ro;
  ro.host = hp->host;
  ro.port = hp->port;
  ro.rcpts = o.to;
  ro.mail_from = o.from;
  ro.by = q::operator_name(o.by);
  ro.timeout_ms = o.timeout_s * 1000;
  auto reply = s.release(*id, ro);
  if (!reply) return report(reply.error());
  std::printf("released %s to %s: %s\n", id->c_str(), hop.c_str(), reply->c_str());
  return kOk;
}

int cmd_delete(const Options &o, q::Backend &s) {
  auto id = one_id(o);
  if (!id) return usage_error("delete needs exactly one ID");
  if (auto r = s.remove(*id, q::operator_name(o.by)); !r) return report(r.error());
  std::printf("deleted %s\n", id->c_str());
  return kOk;
}

int cmd_purge(const Options &o, q::Backend &s) {
  std::string age_text = o.older_than ? *o.older_than : o.retention;
  auto age = parse_age(age_text);
  if (!age) return usage_error("bad age '" + age_text + "' (want e.g. 30d, 12h, 45m)");
  auto n = s.purge_older_than(*age, q::operator_name(o.by));
  if (!n) return report(n.error());
  std::printf("purged %zu entr%s older than %s\n", *n, *n == 1 ? "y" : "ies", age_text.c_str());
  return kOk;
}

int cmd_verify(const Options &, q::Backend &s) {
  auto rep = s.verify();
  if (!rep) return report(rep.error());
  for (const auto &[id, why] : rep->bad) std::printf("BAD %s: %s\n", id.c_str(), why.c_str());
  std::printf("%zu ok, %zu bad, %zu stale temp file%s removed\n", rep->ok, rep->bad.size(),
              rep->temp_files_removed, rep->temp_files_removed == 1 ? "" : "s");
  return rep->bad.empty() ? kOk : kProblem;
}

int cmd_export(const Options &o, q::Backend &s) {
  if (o.positional.size() != 1) return usage_error("export needs exactly one FILE");
  if (auto r = s.export_to(o.positional[0]); !r) return report(r.error());
  auto l = s.list();
  std::printf("exported %zu entr%s to %s\n", l ? l->size() : 0, l && l->size() == 1 ? "y" : "ies",
              o.positional[0].c_str());
  return kOk;
}

int cmd_import(const Options &o, q::Backend &s) {
  if (o.positional.size() != 1) return usage_error("import needs exactly one FILE");
  auto n = s.import_from(o.positional[0]);
  if (!n) return report(n.error());
  std::printf("imported %zu entr%s from %s\n", *n, *n == 1 ? "y" : "ies", o.positional[0].c_str());
  return kOk;
}

}  // namespace

int cmd_quarantine(const Args &args) {
  Options o;
  if (auto err = parse(args, &o)) return usage_error(*err);
  if (o.help || o.command.empty() || o.command == "help") {
    (o.help || o.command == "help" ? std::cout : std::cerr) << kUsage;
    return o.help || o.command == "help" ? kOk : kError;
  }
  using Handler = int (*)(const Options &, q::Backend &);
  static const std::map<std::string, Handler> kCommands = {
      {"list", cmd_list},       {"show", cmd_show},     {"extract", cmd_extract},
      {"release", cmd_release}, {"delete", cmd_delete}, {"purge", cmd_purge},
      {"verify", cmd_verify},   {"export", cmd_export}, {"import", cmd_import}};
  auto it = kCommands.find(o.command);
  if (it == kCommands.end() && o.command != "migrate")
    return usage_error("unknown command '" + o.command + "'");
  if (o.command != "list" && o.command != "verify" && o.command != "purge" &&
      o.command != "migrate" && o.positional.empty())
    return usage_error(o.command + " needs an argument");

  // Precedence: command-line flags, then environment, then avsink.toml (--config or
  // $AVSINK_CONFIG), so the CLI finds the same store the gateway writes to.
  Config cfg;
  std::string config_path = o.config.empty() ? env_or("AVSINK_CONFIG", "") : o.config;
  if (!config_path.empty()) {
    auto c = load_config(config_path);
    if (!c) return report(c.error());
    cfg = std::move(c.value());
  }
  // The next hop: --next-hop, else $AVSINK_QUARANTINE_NEXT_HOP, else [quarantine] release_next_hop.
  if (o.next_hop.empty()) o.next_hop = env_or("AVSINK_QUARANTINE_NEXT_HOP", cfg.release_next_hop);
  // --dir (or $AVSINK_QUARANTINE_DIR) names a filesystem store; else the config's backend.
  q::BackendOptions bo;
  bo.backend = o.dir.empty() && std::getenv("AVSINK_QUARANTINE_DIR") == nullptr
                   ? cfg.quarantine_backend
                   : "filesystem";
  q::StoreOptions &so = bo.fs;
  so.dir = o.dir.empty()
               ? env_or("AVSINK_QUARANTINE_DIR", config_path.empty() ? "" : cfg.quarantine_dir)
               : o.dir;
  if (bo.backend == "postgresql") {
    auto ci = q::pg_conninfo(cfg.pg_conninfo, cfg.pg_conninfo_file);
    if (!ci) return report(ci.error());
    bo.pg.conninfo = *ci;
    bo.pg.timeout_ms = static_cast<int>(cfg.pg_timeout_ms);
    if (o.command == "migrate") {
      auto m = q::pg_migrate(bo.pg.conninfo, bo.pg.timeout_ms);
      if (!m) return report(m.error());
      if (m->first == m->second)
        std::printf("schema is up to date (version %d)\n", m->second);
      else
        std::printf("schema migrated from version %d to %d\n", m->first, m->second);
      return kOk;
    }
    so.dir = cfg.quarantine_dir;  // the audit log's default home is unchanged
  } else if (o.command == "migrate") {
    return usage_error("migrate applies to [quarantine] backend = \"postgresql\" only");
  }
  if (so.dir.empty())
    return usage_error("no store: give --dir DIR, --config FILE or set AVSINK_QUARANTINE_DIR");
  so.key_file = o.key_file.empty() ? env_or("AVSINK_QUARANTINE_KEY_FILE", cfg.quarantine_key_file)
                                   : o.key_file;
  so.release_secret_file = o.secret_file.empty() ? cfg.release_secret_file : o.secret_file;
  auto retention = parse_age(o.retention);
  if (!retention) return usage_error("bad --retention '" + o.retention + "'");
  so.retention_seconds = *retention;
  bo.pg.key_file = so.key_file;
  bo.pg.release_secret_file = so.release_secret_file;
  bo.pg.retention_seconds = so.retention_seconds;

  std::string audit_path =
      o.audit_log.empty() ? env_or("AVSINK_AUDIT_LOG",
                                   cfg.audit_log.empty() ? so.dir + "/audit.log" : cfg.audit_log)
                          : o.audit_log;
  std::shared_ptr<AuditLog> audit;
  if (bo.backend != "postgresql" && o.audit_log.empty() &&
      std::getenv("AVSINK_AUDIT_LOG") == nullptr && ::access(so.dir.c_str(), F_OK) != 0) {
    // The default audit log lives in the store: create the store first (restore into a new one).
    auto created = q::Store::open(so, nullptr);
    if (!created) return report(created.error());
  }
  if (o.command == "release" || o.command == "delete" || o.command == "purge" ||
      o.command == "import") {
    auto a = AuditLog::open(audit_path);
    if (!a) return report(a.error());
    audit = *a;
  }
  auto store = q::open_backend(bo, audit);
  if (!store) return report(store.error());
  return it->second(o, **store);
}

}  // namespace avsink::cli

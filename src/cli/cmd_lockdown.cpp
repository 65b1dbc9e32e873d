// cmd_lockdown.cpp - `avsink lockdown on|off|status`: writes the outbreak lockdown state file that
// every gateway process watches ([lockdown] state_file); each change is audited.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "cli/commands.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/lockdown.h"
#include "quarantine/fs_util.h"
#include "quarantine/store.h"

namespace avsink::cli {

namespace {

const char kUsage[] =
    "usage: avsink lockdown on --reason TEXT [--until TIME] [--scope attachments|all]\n"
    "                          [--config FILE] [--by NAME]\n"
    "       avsink lockdown off [--config FILE] [--by NAME]\n"
    "       avsink lockdown status [--config FILE]\n"
    "  TIME: YYYY-MM-DDTHH:MM:SSZ (UTC) or +N[s|m|h|d]; without --until it lasts until `off`\n"
    "  FILE: avsink.toml with [lockdown] state_file (default: env AVSINK_CONFIG)\n";

int fail(const std::string &msg) {
  std::fprintf(stderr, "avsink lockdown: %s\n", msg.c_str());
  return 2;
}

// Replaces `path` whole: temp file beside it, fsync, rename, fsync the directory.
Result<void> write_state(const std::string &path, const std::string &text) {
  namespace q = quarantine;
  std::filesystem::path p(path);
  std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::string tmp = dir + "/." + p.filename().string() + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return q::io_error("create", tmp);
  q::Fd f(fd);
  if (auto r = q::write_all(f.get(), text, tmp); !r) {
    ::unlink(tmp.c_str());
    return r;
  }
  if (::fsync(f.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = q::io_error("write", path);
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return q::io_error("open", dir);
  q::Fd d(dfd);
  return q::fsync_dir(d.get(), dir);
}

}  // namespace

int cmd_lockdown(const Args &args) {
  if (args.empty() || args[0] == "--help" ||
      (args[0] != "on" && args[0] != "off" && args[0] != "status")) {
    std::fputs(kUsage, !args.empty() && args[0] == "--help" ? stdout : stderr);
    return !args.empty() && args[0] == "--help" ? 0 : 2;
  }
  const std::string verb = args[0];
  std::string reason, until, scope = "attachments", config, by;
  bool until_set = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a != "--reason" && a != "--until" && a != "--scope" && a != "--config" && a != "--by")
      return fail("unknown argument '" + a + "'\n" + kUsage);
    if (i + 1 >= args.size()) return fail(a + " needs a value");
    const std::string &v = args[++i];
    if (a == "--reason") reason = v;
    if (a == "--until") until = v, until_set = true;
    if (a == "--scope") scope = v;
    if (a == "--config") config = v;
    if (a == "--by") by = v;
  }
  if (config.empty()) {
    const char *e = std::getenv("AVSINK_CONFIG");
    config = e ? e : "";
  }
  if (config.empty()) return fail("no configuration: give --config FILE or set AVSINK_CONFIG");
  auto cfg = load_config(config);
  if (!cfg) return fail(cfg.error().describe());
  const std::string &path = cfg->lockdown_state_file;
  if (path.empty()) return fail(config + ": no [lockdown] state_file, so no gateway watches one");
  const int64_t now = static_cast<int64_t>(std::time(nullptr));

  if (verb == "status") {
    auto st = read_lockdown(path);
    if (!st) return fail(st.error().describe());
    std::printf("%s\n", lockdown_to_json(*st).c_str());
    std::printf("lockdown is %s\n", st->active(now) ? "IN FORCE" : st->on ? "expired" : "off");
    return 0;
  }
  LockdownState s;
  s.by = quarantine::operator_name(by);
  s.since = now;
  if (verb == "on") {
    if (reason.empty()) return fail("on needs --reason TEXT");
    if (scope == "all")
      s.scope = LockdownScope::kAll;
    else if (scope != "attachments")
      return fail("--scope must be attachments or all");
    if (until_set) {
      auto t = parse_lockdown_time(until, now);
      if (!t) return fail(t.error().message);
      if (*t <= now) return fail("--until " + until + " is not in the future");
      s.until = *t;
    }
    s.on = true;
    s.reason = reason;
  }
  auto audit = AuditLog::open(cfg->audit_log);
  if (!audit) return fail(audit.error().describe());
  if (auto w = write_state(path, lockdown_to_json(s)); !w) return fail(w.error().describe());
  auto r = (*audit)->record(s.on ? "lockdown.on" : "lockdown.off",
                            {{"reason", s.reason},
                             {"scope", std::string(to_string(s.scope))},
                             {"until", s.until},
                             {"by", s.by},
                             {"state_file", path}});
  if (!r) std::fprintf(stderr, "avsink lockdown: audit: %s\n", r.error().describe().c_str());
  std::printf("lockdown %s: %s\n", s.on ? "on" : "off", lockdown_to_json(s).c_str());
  return r ? 0 : 2;
}

}  // namespace avsink::cli

// cmd_config.cpp - `avsink config check [FILE] [--user USER] [envelope flags]`: the engine's own
// validation (session/config_check.h) with every error printed at once as file:line: reason, then
// the effective configuration. Exit 1 when anything is wrong, 2 on usage errors or an unreadable
// FILE.
#include <pwd.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "session/config_check.h"
#include "session/policy_select.h"

namespace avsink::cli {

namespace {

constexpr const char *kUsage =
    "usage: avsink config check [FILE] [--user USER]\n"
    "                           [--from ADDR] [--rcpt ADDR]... [--client IP] [--auth USER]\n"
    "  validates FILE (default: the embedded defaults) as the engine would load it: every\n"
    "  key, rule and list file, CIDR, signature directory, key file, path and [[policy]], with\n"
    "  every error printed as file:line: reason; then prints the effective configuration, or,\n"
    "  with envelope flags, which [[policy]] each recipient of that envelope gets.\n"
    "  --user USER  judge file permissions for the daemon's run-as user (default: avsink\n"
    "               when that user exists, else the user running the command)\n";

}  // namespace

int cmd_config(const Args &args) {
  std::string file, user_name;
  bool check = false;
  Envelope env;
  bool envelope = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    const bool env_flag = a == "--from" || a == "--rcpt" || a == "--client" || a == "--auth";
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (check && (env_flag || a == "--user")) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "avsink config check: %s needs a value\n%s", a.c_str(), kUsage);
        return 2;
      }
      const std::string &val = args[++i];
      if (a == "--user") user_name = val;
      if (a == "--from") env.mail_from = val;
      if (a == "--rcpt") env.rcpt_to.push_back(val);
      if (a == "--client") env.client_address = val;
      if (a == "--auth") env.auth_user = val;
      envelope |= env_flag;
    } else if (!check && a == "check") {
      check = true;
    } else if (check && file.empty() && !a.empty() && a[0] != '-') {
      file = a;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (!check) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  RunAsUser user = RunAsUser::current();
  if (!user_name.empty() || ::getpwnam("avsink") != nullptr) {
    auto named = RunAsUser::named(user_name.empty() ? "avsink" : user_name);
    if (!named) {
      std::fprintf(stderr, "avsink config check: %s\n", named.error().message.c_str());
      return 2;
    }
    user = std::move(*named);
  }
  std::vector<Error> errors;
  Result<Config> cfg = file.empty() ? Result<Config>(Config{}) : load_config(file, &errors);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().describe().c_str());
    return cfg.error().code == ErrorCode::kIo ? 2 : 1;
  }
  // A key with a bad value keeps its default, so the files and paths are still checked.
  for (auto &e : session::check_config(*cfg, user)) errors.push_back(std::move(e));
  auto selector = session::PolicySelector::build(*cfg);
  if (!selector) errors.push_back(selector.error());
  for (const auto &e : errors) std::fprintf(stderr, "%s\n", e.describe().c_str());
  if (!errors.empty()) {
    std::fprintf(stderr, "%zu error(s); checked for run-as user %s\n", errors.size(),
                 user.name.c_str());
    return 1;
  }
  if (!envelope) {
    std::printf("# checked for run-as user %s\n", user.name.c_str());
    std::fputs(dump_config(*cfg).c_str(), stdout);
    return 0;
  }
  const auto &sel = **selector;
  std::printf("direction: %s\n", std::string(to_string(sel.direction(env))).c_str());
  if (env.rcpt_to.empty())
    std::printf("policy: %s\n", std::string(session::policy_name(sel.select(env, ""))).c_str());
  for (const auto &r : env.rcpt_to) {
    const PolicySpec *p = sel.select(env, r);
    std::printf("rcpt %s: policy %s%s\n", r.c_str(), std::string(session::policy_name(p)).c_str(),
                p && p->skip_scan ? " (skip_scan: not scanned)" : "");
  }
  return 0;
}

}  // namespace avsink::cli

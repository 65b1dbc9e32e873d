// cmd_config.cpp - `avsink config check [FILE]`: validates a configuration and prints it effective.
// Errors are printed as file:line: reason; exit 1 when the file is invalid, 2 on usage errors.
#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "session/policy_select.h"

namespace avsink::cli {

namespace {

const char kUsage[] =
    "usage: avsink config check [FILE] [--from ADDR] [--rcpt ADDR]... [--client IP] [--auth USER]\n"
    "  validates FILE (default: the embedded defaults) and prints the effective configuration;\n"
    "  with envelope flags, prints instead which [[policy]] each recipient of that envelope gets\n";

}  // namespace

int cmd_config(const Args &args) {
  if (args.empty() || args[0] != "check") {
    std::fputs(kUsage, args.size() == 1 && args[0] == "--help" ? stdout : stderr);
    return args.size() == 1 && args[0] == "--help" ? 0 : 2;
  }
  std::string file;
  Envelope env;
  bool envelope = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    bool flag = a == "--from" || a == "--rcpt" || a == "--client" || a == "--auth";
    if (flag) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "avsink config check: %s needs a value\n%s", a.c_str(), kUsage);
        return 2;
      }
      const std::string &val = args[++i];
      envelope = true;
      if (a == "--from") env.mail_from = val;
      if (a == "--rcpt") env.rcpt_to.push_back(val);
      if (a == "--client") env.client_address = val;
      if (a == "--auth") env.auth_user = val;
    } else if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (file.empty() && a.rfind("--", 0) != 0) {
      file = a;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  Result<Config> cfg = !file.empty() ? load_config(file) : Result<Config>(Config{});
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().describe().c_str());
    return cfg.error().code == ErrorCode::kIo ? 2 : 1;
  }
  auto selector = session::PolicySelector::build(*cfg);
  if (!selector) {
    std::fprintf(stderr, "%s\n", selector.error().describe().c_str());
    return 1;
  }
  if (!envelope) {
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

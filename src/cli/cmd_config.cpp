// cmd_config.cpp - `avsink config check [FILE] [--user USER]`: the engine's own validation
// (session/config_check.h) with every error printed at once as file:line: reason, then the
// effective configuration. Exit 1 when anything is wrong, 2 on usage errors or an unreadable FILE.
#include <pwd.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "session/config_check.h"

namespace avsink::cli {

namespace {

constexpr const char *kUsage =
    "usage: avsink config check [FILE] [--user USER]\n"
    "  validates FILE (default: the embedded defaults) as the engine would load it: every\n"
    "  key, rule and list file, CIDR, signature directory, key file and path, with every\n"
    "  error printed as file:line: reason; then prints the effective configuration.\n"
    "  --user USER  judge file permissions for the daemon's run-as user (default: avsink\n"
    "               when that user exists, else the user running the command)\n";

}  // namespace

int cmd_config(const Args &args) {
  std::string file, user_name;
  bool check = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (args[i] == "--user" && i + 1 < args.size()) {
      user_name = args[++i];
    } else if (!check && args[i] == "check") {
      check = true;
    } else if (check && file.empty() && !args[i].empty() && args[i][0] != '-') {
      file = args[i];
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
  for (const auto &e : errors) std::fprintf(stderr, "%s\n", e.describe().c_str());
  if (!errors.empty()) {
    std::fprintf(stderr, "%zu error(s); checked for run-as user %s\n", errors.size(),
                 user.name.c_str());
    return 1;
  }
  std::printf("# checked for run-as user %s\n", user.name.c_str());
  std::fputs(dump_config(*cfg).c_str(), stdout);
  return 0;
}

}  // namespace avsink::cli

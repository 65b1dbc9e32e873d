// cmd_config.cpp - `avsink config check [FILE]`: validates a configuration and prints it effective.
// Errors are printed as file:line: reason; exit 1 when the file is invalid, 2 on usage errors.
#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"

namespace avsink::cli {

int cmd_config(const Args &args) {
  if (args.empty() || args[0] == "--help" || args[0] != "check" || args.size() > 2) {
    std::fputs(
        "usage: avsink config check [FILE]\n  validates FILE (default: the embedded "
        "defaults) and prints the effective configuration\n",
        args.empty() || args[0] != "--help" ? stderr : stdout);
    return args.size() == 1 && args[0] == "--help" ? 0 : 2;
  }
  Result<Config> cfg = args.size() == 2 ? load_config(args[1]) : Result<Config>(Config{});
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().describe().c_str());
    return cfg.error().code == ErrorCode::kIo ? 2 : 1;
  }
  std::fputs(dump_config(*cfg).c_str(), stdout);
  return 0;
}

}  // namespace avsink::cli

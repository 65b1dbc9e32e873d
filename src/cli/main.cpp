// main.cpp - the `avsink` command: dispatches to one subcommand per source file (commands.h).
// Exit status: 0 success/clean, 1 something found (or a check failed), 2 an error.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

const char kUsage[] =
    "usage: avsink COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  scan [--json] [--config FILE] PATH...|-   scan messages (files, folders, stdin)\n"
    "  version                                    avsink, libclamav and signature versions\n"
    "  status [--json] [--daemon HOST:PORT]       engines: signatures, database age, health\n"
    "  config check [FILE] [--user USER] [--rcpt ADDR...]   validate a configuration, or show "
    "the policy an envelope gets\n"
    "  rules check FILE...                        check rule files: file:line: reason per error\n"
    "  quarantine list|show|extract|release|delete|purge|verify|export|import|migrate ...\n"
    "  backup create|verify|restore FILE ...\n"
    "  lockdown on|off|status ...                 outbreak lockdown at every gateway process\n"
    "\n"
    "Run `avsink COMMAND --help` for a command's options.\n"
    "Exit status: 0 clean/ok, 1 something found or a check failed, 2 an error.\n";

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  avsink::cli::Args args(argv + 2, argv + argc);
  if (cmd == "scan") return avsink::cli::cmd_scan(args);
  if (cmd == "version" || cmd == "--version") return avsink::cli::cmd_version(args);
  if (cmd == "config") return avsink::cli::cmd_config(args);
  if (cmd == "rules") return avsink::cli::cmd_rules(args);
  if (cmd == "status") return avsink::cli::cmd_status(args);
  if (cmd == "quarantine") return avsink::cli::cmd_quarantine(args);
  if (cmd == "lockdown") return avsink::cli::cmd_lockdown(args);
  if (cmd == "backup") return avsink::cli::cmd_backup(args);
  std::fprintf(stderr, "avsink: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

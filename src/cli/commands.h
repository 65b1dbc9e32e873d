// commands.h - the subcommands of the `avsink` command, one source file each (cmd_<name>.cpp).
// Each takes the arguments after its name and returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace avsink::cli {

using Args = std::vector<std::string>;

int cmd_scan(const Args &args);        // cmd_scan.cpp: scan files, folders, stdin
int cmd_version(const Args &args);     // cmd_version.cpp
int cmd_rules(const Args &args);       // cmd_rules.cpp: rules check FILE...
int cmd_config(const Args &args);      // cmd_config.cpp: config check [FILE]
int cmd_status(const Args &args);      // cmd_status.cpp: engines, signatures, ages
int cmd_quarantine(const Args &args);  // cmd_quarantine.cpp: list, show, release, verify, ...
int cmd_lockdown(const Args &args);    // cmd_lockdown.cpp: outbreak lockdown on, off, status
int cmd_backup(const Args &args);      // cmd_backup.cpp: backup create, verify, restore

}  // namespace avsink::cli

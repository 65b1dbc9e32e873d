// cmd_rules.cpp - `avsink rules check FILE...`: parses and compiles rule files, loads nothing.
// Exit status: 0 every file is good, 1 errors found, 2 usage error or an unreadable file.
#include <cstdio>
#include <ctime>
#include <string>

#include "cli/commands.h"
#include "rules/rule_engine.h"

namespace avsink::cli {

namespace {

constexpr const char *kUsage =
    "usage: avsink rules check FILE...\n"
    "\n"
    "Checks rule files the way the engine loads them: every line is parsed, every pattern is\n"
    "compiled (RE2), and the patterns of each kind are compiled together. Nothing is loaded.\n"
    "\n"
    "  errors     printed to stderr as FILE:LINE: REASON (LINE 0 = the file as a whole)\n"
    "  warnings   rules whose expires= date has passed (FILE:LINE: warning: ...)\n"
    "  success    FILE: OK (N rules) on stdout\n"
    "\n"
    "With several files, they are also compiled together, in the given order, as one set.\n"
    "Rule syntax: docs/rules.md.\n"
    "\n"
    "exit status: 0 all files good, 1 errors found, 2 usage error or unreadable file\n";

}  // namespace

int cmd_rules(const Args &args) {
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args[0] != "check") {
    std::fprintf(stderr, "avsink rules: unknown subcommand '%s'\n\n%s", args[0].c_str(), kUsage);
    return 2;
  }
  std::vector<std::string> files;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args[i] == "--") {
      files.insert(files.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (args[i].size() > 1 && args[i][0] == '-') {
      std::fprintf(stderr, "avsink rules check: unknown option '%s'\n\n%s", args[i].c_str(),
                   kUsage);
      return 2;
    }
    files.push_back(args[i]);
  }
  if (files.empty()) {
    std::fprintf(stderr, "avsink rules check: no FILE given\n\n%s", kUsage);
    return 2;
  }

  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  bool errors = false, unreadable = false;
  for (const std::string &file : files) {
    rules::FileCheck c = rules::check_file_report(file, now);
    for (const Error &w : c.warnings) std::fprintf(stderr, "%s\n", w.describe().c_str());
    for (const Error &e : c.errors) std::fprintf(stderr, "%s\n", e.describe().c_str());
    if (!c.readable) {
      unreadable = true;
    } else if (!c.errors.empty()) {
      errors = true;
    } else {
      std::printf("%s: OK (%zu rule%s)\n", file.c_str(), c.rule_count,
                  c.rule_count == 1 ? "" : "s");
    }
  }
  if (!errors && !unreadable && files.size() > 1) {
    // Each file alone fits; check that all of them together do, as the engine will load them.
    rules::RulesOptions o;
    o.files = files;
    o.watch = false;
    auto engine = rules::RuleEngine::open(o, nullptr);
    if (!engine) {
      std::fprintf(stderr, "%s\n", engine.error().describe().c_str());
      if (engine.error().code == ErrorCode::kIo) {
        unreadable = true;
      } else {
        errors = true;
      }
    }
  }
  std::fflush(stdout);
  if (unreadable) return 2;
  return errors ? 1 : 0;
}

}  // namespace avsink::cli

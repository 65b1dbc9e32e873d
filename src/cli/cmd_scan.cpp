// cmd_scan.cpp - `avsink scan PATH...|-`: scans files, folders (recursively) and stdin through the
// C ABI, one line (or one JSON object) per message. Exit 0 all accepted, 1 something found, 2
// error.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_handle.h"

namespace avsink::cli {

namespace {

const char kHelp[] =
    "usage: avsink scan [--json] [--quiet] [--config FILE] [--store] PATH...|-\n"
    "  Scans each message file; folders are walked recursively (sorted); - reads stdin.\n"
    "  --json     one JSON object per message (path, action, smtp, findings, ...)\n"
    "  --quiet    print only messages that are not accepted\n"
    "  --config   avsink.toml to use (default: $AVSINK_CONFIG, else embedded defaults)\n"
    "  --store    really store quarantined messages (default: report the verdict only)\n"
    "Exit status: 0 every message accepted, 1 something found, 2 an error occurred.\n";

struct Options {
  bool json = false;
  bool quiet = false;
  bool store = false;
  std::string config;
  std::vector<std::string> paths;
};

enum class Outcome { kClean, kFound, kError };

// Streams one file descriptor through a scan; fills `verdict` (owned by `scan`).
avsink_status scan_fd(int fd, avsink_engine *engine, ScanPtr &scan, const avsink_verdict **verdict,
                      std::string &err) {
  avsink_scan *raw = nullptr;
  avsink_status st = avsink_scan_begin(&raw, engine, nullptr);
  scan.reset(raw);
  if (st != AVSINK_OK) return st;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = std::strerror(errno);
      return AVSINK_EIO;
    }
    if (n == 0) break;
    st = avsink_scan_write(raw, buf.data(), static_cast<size_t>(n));
    if (st != AVSINK_OK) return st;
  }
  return avsink_scan_end(verdict, raw);
}

void print_verdict(const Options &o, const std::string &path, const avsink_verdict *v) {
  avsink_action action = avsink_verdict_action(v);
  if (o.quiet && action == AVSINK_ACTION_ACCEPT) return;
  if (o.json) {
    auto j = nlohmann::json::parse(avsink_verdict_json(v), nullptr, false);
    j["path"] = path;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s: %s", path.c_str(), avsink_action_name(action));
  if (action == AVSINK_ACTION_REJECT || action == AVSINK_ACTION_TEMPFAIL)
    std::printf(" %d %s", avsink_verdict_smtp_code(v), avsink_verdict_enhanced_status(v));
  std::printf(" (%s)\n", avsink_verdict_reason(v));
  for (size_t i = 0; i < avsink_verdict_finding_count(v); ++i) {
    const avsink_finding *f = avsink_verdict_finding(v, i);
    std::printf("  %s %s %s", f->kind, f->inspector, f->name);
    if (*f->part_path) std::printf(" part=%s", f->part_path);
    if (*f->filename) std::printf(" file=\"%s\"", f->filename);
    if (*f->detail) std::printf(" -- %s", f->detail);
    std::printf("\n");
  }
}

Outcome scan_one(const Options &o, avsink_engine *engine, const std::string &path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "avsink: %s: %s\n", path.c_str(), std::strerror(errno));
    return Outcome::kError;
  }
  ScanPtr scan;
  const avsink_verdict *verdict = nullptr;
  std::string err;
  avsink_status st = scan_fd(fd, engine, scan, &verdict, err);
  if (fd != STDIN_FILENO) ::close(fd);
  if (st != AVSINK_OK) {
    if (err.empty() && scan) err = avsink_scan_errmsg(scan.get());
    std::fprintf(stderr, "avsink: %s: %s%s%s\n", path.c_str(), avsink_strerror(st),
                 err.empty() ? "" : ": ", err.c_str());
    return Outcome::kError;
  }
  print_verdict(o, path == "-" ? "stdin" : path, verdict);
  return avsink_verdict_action(verdict) == AVSINK_ACTION_ACCEPT ? Outcome::kClean : Outcome::kFound;
}

}  // namespace

int cmd_scan(const Args &args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--store") {
      o.store = true;
    } else if (a == "--config" && i + 1 < args.size()) {
      o.config = args[++i];
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::fprintf(stderr, "avsink scan: unknown option '%s'\n%s", a.c_str(), kHelp);
      return 2;
    } else {
      o.paths.push_back(a);
    }
  }
  if (o.paths.empty()) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  EnginePtr engine = open_engine(o.config, o.store ? 0u : AVSINK_ENGINE_DRY_RUN);
  if (!engine) return 2;

  bool found = false, error = false;
  auto account = [&](Outcome r) {
    found |= r == Outcome::kFound;
    error |= r == Outcome::kError;
  };
  namespace fs = std::filesystem;
  for (const auto &p : o.paths) {
    std::error_code ec;
    if (p != "-" && fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path().string());
      if (ec) {
        std::fprintf(stderr, "avsink: %s: %s\n", p.c_str(), ec.message().c_str());
        error = true;
      }
      std::sort(files.begin(), files.end());
      for (const auto &f : files) account(scan_one(o, engine.get(), f));
    } else {
      account(scan_one(o, engine.get(), p));
    }
  }
  std::fflush(stdout);
  return error ? 2 : found ? 1 : 0;
}

}  // namespace avsink::cli

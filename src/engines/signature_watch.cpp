// signature_watch.cpp - reloads an engine when what it would load changed, then audits the result.
// The watching itself (inotify, stat polling, debounce) is core/file_watch's; this decides and
// reloads.
#include "engines/signature_watch.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_watch.h"
#include "engines/clamav_lib.h"

namespace avsink::engines {
namespace {

constexpr size_t kMaxEntries = 100000;  // per directory, in the file-set signature

void append_stat(std::string *out, std::string_view name, const struct stat &st) {
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, "=%llu:%llu:%lld.%ld;",
                        static_cast<unsigned long long>(st.st_ino),
                        static_cast<unsigned long long>(st.st_size),
                        static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
  out->append(name);
  if (n > 0) out->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// What a reload would read: for a directory the database files cl_load() reads from it (not
// freshclam.dat, temp files or freshclam's tmp.* directory), for a file the file itself.
std::string file_set(const std::vector<std::string> &paths) {
  std::string sig;
  for (const std::string &path : paths) {
    sig += path;
    sig += '|';
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      sig += "missing\n";
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      append_stat(&sig, "", st);
      sig += '\n';
      continue;
    }
    DIR *dir = ::opendir(path.c_str());
    if (dir == nullptr) {
      sig += "unreadable\n";
      continue;
    }
    std::vector<std::string> names;
    while (struct dirent *e = ::readdir(dir)) {
      if (!is_clamav_database_name(e->d_name)) continue;
      names.emplace_back(e->d_name);
      if (names.size() >= kMaxEntries) break;
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string &name : names) {
      struct stat fst {};
      if (::stat((path + "/" + name).c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) {
        append_stat(&sig, name, fst);
      }
    }
    sig += '\n';
  }
  return sig;
}

}  // namespace

struct SignatureWatch::Impl {
  std::vector<std::string> paths;
  std::function<Result<void>()> reload;
  std::function<EngineStatus()> status;
  std::shared_ptr<AuditLog> audit;
  Logger logger;
  std::string loaded;  // file set at the last reload attempt (or start); watcher thread only
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  mutable std::mutex error_mu;
  std::string error;
  std::unique_ptr<FileWatch> watch;  // last member: destroyed (and joined) first

  // The watcher's callback: reload only when what a reload reads has changed (freshclam's temp
  // files come and go without a reload). Taken first, so a change during reload() is seen again.
  void on_change() {
    std::string now_set = file_set(paths);
    if (now_set == loaded) return;
    loaded = std::move(now_set);
    reload_now();
  }

  std::string engine_name() {
    try {
      return status().name;
    } catch (...) {
      return "engine";
    }
  }

  void reload_now() {
    Result<void> r = make_error(ErrorCode::kInternal, "reload threw");
    try {
      r = reload();
    } catch (const std::exception &e) {
      r = make_error(ErrorCode::kInternal, std::string("reload threw: ") + e.what());
    } catch (...) {
    }
    try {
      const EngineStatus s = status();
      if (r.ok()) {
        nlohmann::json files = nlohmann::json::array();
        for (const auto &src : s.sources) {
          for (const auto &f : src.files) {
            files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"mtime", f.mtime}});
          }
        }
        if (audit) {
          (void)audit->record("signatures.reload", {{"engine", s.name},
                                                    {"generation", s.generation},
                                                    {"signatures", s.signatures},
                                                    {"db_version", s.db_version},
                                                    {"files", files}});
        }
        logger.info("signatures: " + s.name + " reloaded: generation " +
                    std::to_string(s.generation) + ", " + std::to_string(s.signatures) +
                    " signatures, " + std::to_string(files.size()) + " files");
        {
          std::lock_guard<std::mutex> lock(error_mu);
          error.clear();
        }
        ok.fetch_add(1);  // last: a reader that sees the count sees everything above
      } else {
        const Error &e = r.error();
        const std::string keeping = "keeping generation " + std::to_string(s.generation);
        if (audit) {
          (void)audit->record("signatures.reload_rejected", {{"engine", s.name},
                                                             {"file", e.file},
                                                             {"line", e.line},
                                                             {"reason", e.message},
                                                             {"keeping_generation", s.generation},
                                                             {"message", keeping}});
        }
        logger.error("signatures: " + s.name + " reload rejected: " + escape_for_log(e.describe()) +
                     "; " + keeping);
        {
          std::lock_guard<std::mutex> lock(error_mu);
          error = e.describe();
        }
        failed.fetch_add(1);
      }
    } catch (...) {
      // status() or the audit threw (allocation): nothing may leave this thread.
    }
  }
};

SignatureWatch::SignatureWatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<SignatureWatch>> SignatureWatch::start(std::vector<std::string> paths,
                                                              std::function<Result<void>()> reload,
                                                              std::function<EngineStatus()> status,
                                                              std::shared_ptr<AuditLog> audit,
                                                              uint32_t poll_ms,
                                                              uint32_t debounce_ms, Logger logger) {
  auto bad = [](const std::string &m) { return make_error(ErrorCode::kInvalidArgument, m); };
  if (paths.empty()) return bad("signature watch: no path to watch");
  for (const auto &p : paths) {
    if (p.empty()) return bad("signature watch: empty path");
  }
  if (poll_ms == 0) return bad("signature watch: poll_ms must be > 0");
  if (!reload || !status) return bad("signature watch: reload and status callbacks are required");

  auto impl = std::make_unique<Impl>();
  impl->paths = std::move(paths);
  impl->reload = std::move(reload);
  impl->status = std::move(status);
  impl->audit = std::move(audit);
  impl->logger = std::move(logger);
  impl->loaded = file_set(impl->paths);
  FileWatchOptions fo;
  fo.paths = impl->paths;
  fo.poll_ms = poll_ms;
  fo.debounce_ms = debounce_ms;
  fo.max_delay_ms = std::max<uint32_t>(2000, debounce_ms * 4);
  Impl *raw = impl.get();
  auto w = FileWatch::start(std::move(fo),
                            [raw](const std::vector<std::string> &) { raw->on_change(); });
  if (!w) return make_error(w.error().code, "signature watch: " + w.error().message);
  impl->watch = std::move(w.value());
  return std::unique_ptr<SignatureWatch>(new SignatureWatch(std::move(impl)));
}

SignatureWatch::~SignatureWatch() {
  if (impl_) impl_->watch.reset();  // joins the watcher thread before the callbacks go
}

uint64_t SignatureWatch::reloads() const {
  return impl_->ok.load();
}

uint64_t SignatureWatch::rejected() const {
  return impl_->failed.load();
}

std::string SignatureWatch::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->error_mu);
  return impl_->error;
}

bool SignatureWatch::using_inotify() const {
  return impl_->watch->using_inotify();
}

}  // namespace avsink::engines

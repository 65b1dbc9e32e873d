// signature_watch.cpp - inotify + stat polling, debounce, reload on the watcher thread, audit.
// The file-set signature is taken before reload() runs, so a change during a reload is seen again.
#include "engines/signature_watch.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engines/clamav_lib.h"

namespace avsink::engines {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kInotifyMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                  IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                                  IN_ONLYDIR;
constexpr size_t kMaxEntries = 100000;  // per directory, in the file-set signature

std::string parent_of(const std::string &path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string &path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

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
  uint32_t poll_ms = 1000;
  uint32_t debounce_ms = 500;
  uint32_t max_delay_ms = 2000;

  int inotify_fd = -1;
  int wake_fd = -1;
  std::set<int> watches;
  std::set<std::string> names;  // base names of the watched paths (seen through their parents)
  std::string loaded;           // file set at the last reload attempt (or start)
  std::thread thread;

  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<bool> inotify_ok{false};
  mutable std::mutex error_mu;
  std::string error;

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  // Adds watches for every path that is a directory and every parent; idempotent, so it is
  // simply repeated on each poll (a directory that appears later gets its watch then).
  void refresh_watches() {
    if (inotify_fd < 0) return;
    std::set<int> next;
    auto add = [&](const std::string &dir) {
      int wd = ::inotify_add_watch(inotify_fd, dir.c_str(), kInotifyMask);
      if (wd >= 0) next.insert(wd);
    };
    for (const std::string &p : paths) {
      add(parent_of(p));
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) add(p);
    }
    for (int wd : watches) {
      if (next.count(wd) == 0) ::inotify_rm_watch(inotify_fd, wd);
    }
    watches = std::move(next);
    inotify_ok = !watches.empty();
  }

  // True when an event may concern what a reload reads: a database file, a watched path itself
  // (through its parent), a watched directory (self events), or an overflow.
  bool drain_inotify() {
    alignas(struct inotify_event) char buf[16384];
    bool relevant = false;
    for (;;) {
      ssize_t n = ::read(inotify_fd, buf, sizeof buf);
      if (n <= 0) return relevant;
      for (ssize_t off = 0; off < n;) {
        const auto *ev = reinterpret_cast<const struct inotify_event *>(buf + off);
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
        if (ev->mask & IN_Q_OVERFLOW) {
          relevant = true;
          continue;
        }
        if (ev->len == 0 || is_clamav_database_name(ev->name) || names.count(ev->name) != 0) {
          relevant = true;
        }
      }
    }
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

  void run() {
    bool pending = false;
    Clock::time_point first{}, last{};
    auto next_poll = Clock::now() + std::chrono::milliseconds(poll_ms);
    for (;;) {
      const auto now = Clock::now();
      auto wake = next_poll;
      if (pending) {
        wake = std::min(last + std::chrono::milliseconds(debounce_ms),
                        first + std::chrono::milliseconds(max_delay_ms));
      }
      const long long ms =
          wake <= now
              ? 0
              : std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1;
      struct pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      const int nfds = inotify_fd >= 0 ? 2 : 1;
      const int rc = ::poll(fds, nfds, static_cast<int>(std::min<long long>(ms, 1 << 30)));
      if (rc < 0 && errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (rc > 0 && (fds[0].revents & POLLIN)) return;  // stop requested

      bool changed = false;
      if (rc > 0 && nfds == 2 && (fds[1].revents & POLLIN)) changed = drain_inotify();
      const auto after = Clock::now();
      if (after >= next_poll) {
        refresh_watches();
        if (file_set(paths) != loaded) changed = true;
        next_poll = after + std::chrono::milliseconds(poll_ms);
      }
      if (changed) {
        if (!pending) first = after;
        last = after;
        pending = true;
      }
      if (!pending) continue;
      if (after < last + std::chrono::milliseconds(debounce_ms) &&
          after < first + std::chrono::milliseconds(max_delay_ms)) {
        continue;
      }
      pending = false;
      std::string now_set = file_set(paths);
      if (now_set == loaded) continue;  // only transient files came and went
      loaded = std::move(now_set);      // taken first: a change during reload() is seen again
      refresh_watches();
      reload_now();
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
  for (const auto &p : impl->paths) impl->names.insert(base_of(p));
  impl->reload = std::move(reload);
  impl->status = std::move(status);
  impl->audit = std::move(audit);
  impl->logger = std::move(logger);
  impl->poll_ms = poll_ms;
  impl->debounce_ms = debounce_ms;
  impl->max_delay_ms = std::max<uint32_t>(2000, debounce_ms * 4);
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake_fd < 0) {
    return make_error(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(errno));
  }
  impl->inotify_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);  // -1: poll only
  impl->refresh_watches();
  impl->loaded = file_set(impl->paths);
  Impl *raw = impl.get();
  try {
    raw->thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error &e) {
    return make_error(ErrorCode::kIo, std::string("signature watch: thread: ") + e.what());
  }
  return std::unique_ptr<SignatureWatch>(new SignatureWatch(std::move(impl)));
}

SignatureWatch::~SignatureWatch() {
  if (!impl_) return;
  const uint64_t one = 1;
  ssize_t n = ::write(impl_->wake_fd, &one, sizeof one);
  (void)n;  // an eventfd write fails only on counter overflow, impossible with one write
  if (impl_->thread.joinable()) impl_->thread.join();
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
  return impl_->inotify_ok.load();
}

}  // namespace avsink::engines

// file_watch.cpp - inotify on parent directories + stat-signature polling, debounced callback.
// One thread per watcher, woken by an eventfd to stop; any inotify failure degrades to polling.
#include "core/file_watch.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace avsink {

namespace {

using Clock = std::chrono::steady_clock;

// Entries listed per watched directory in its stat signature; past this the rest is not looked at
// (inotify still sees changes there).
constexpr size_t kMaxDirEntries = 100000;

constexpr uint32_t kInotifyMask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
                                  IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_ONLYDIR;

std::string parent_of(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void append_stat(std::string *out, const struct stat &st) {
  char buf[160];
  int n = std::snprintf(
      buf, sizeof buf, "%llu:%llu:%llu:%lld.%ld:%lld.%ld:%o;",
      static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino),
      static_cast<unsigned long long>(st.st_size), static_cast<long long>(st.st_mtim.tv_sec),
      st.st_mtim.tv_nsec, static_cast<long long>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec,
      static_cast<unsigned>(st.st_mode));
  if (n > 0) out->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// What polling compares: the link itself, what it points to, and for a directory its entries.
std::string signature(const std::string &path) {
  std::string sig;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  append_stat(&sig, st);
  if (::stat(path.c_str(), &st) != 0) return sig + "dangling";
  append_stat(&sig, st);
  if (!S_ISDIR(st.st_mode)) return sig;
  DIR *dir = ::opendir(path.c_str());
  if (dir == nullptr) return sig + "unreadable";
  std::vector<std::string> names;
  while (struct dirent *e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
    if (names.size() >= kMaxDirEntries) break;
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string &name : names) {
    sig += name;
    sig += '=';
    if (::stat((path + "/" + name).c_str(), &st) == 0) append_stat(&sig, st);
  }
  return sig;
}

}  // namespace

Result<void> FileWatchOptions::validate() const {
  if (paths.empty()) return make_error(ErrorCode::kInvalidArgument, "paths: nothing to watch");
  for (const std::string &p : paths)
    if (p.empty()) return make_error(ErrorCode::kInvalidArgument, "paths: empty path");
  if (poll_ms == 0) return make_error(ErrorCode::kInvalidArgument, "poll_ms: must be > 0");
  if (max_delay_ms < debounce_ms)
    return make_error(ErrorCode::kInvalidArgument, "max_delay_ms: must be >= debounce_ms");
  return {};
}

struct FileWatch::Impl {
  FileWatchOptions options;
  Callback callback;
  int inotify_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> inotify_ok{false};
  std::atomic<uint64_t> runs{0};
  std::thread thread;

  // wd -> (directory, and for each watched path seen through it: index + entry name, "" = any)
  struct Dir {
    std::string path;
    std::vector<std::pair<size_t, std::string>> targets;
  };
  std::map<int, Dir> watches;
  std::vector<std::string> sigs;  // per path, as of the last callback (or start)

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  // (Re)establishes the directory watches the paths need now. Cheap when nothing changed:
  // inotify_add_watch on an already watched directory returns its existing descriptor.
  void refresh_watches() {
    if (inotify_fd < 0) return;
    std::map<int, Dir> next;
    auto add = [&](const std::string &dir, size_t index, const std::string &name) {
      int wd = ::inotify_add_watch(inotify_fd, dir.c_str(), kInotifyMask);
      if (wd < 0) return;  // missing for now (re-tried every poll) or out of watches (poll)
      Dir &d = next[wd];
      d.path = dir;
      d.targets.emplace_back(index, name);
    };
    for (size_t i = 0; i < options.paths.size(); ++i) {
      const std::string &p = options.paths[i];
      add(parent_of(p), i, base_of(p));
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) add(p, i, "");
    }
    for (const auto &[wd, dir] : watches)
      if (next.find(wd) == next.end()) ::inotify_rm_watch(inotify_fd, wd);
    watches = std::move(next);
  }

  // Reads pending inotify events; adds the indexes of the paths they concern to `changed`.
  void drain_inotify(std::set<size_t> *changed) {
    alignas(struct inotify_event) char buf[16384];
    for (;;) {
      ssize_t n = ::read(inotify_fd, buf, sizeof buf);
      if (n <= 0) return;  // EAGAIN: drained
      for (ssize_t off = 0; off < n;) {
        const auto *ev = reinterpret_cast<const struct inotify_event *>(buf + off);
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
        if (ev->mask & IN_Q_OVERFLOW) {
          for (size_t i = 0; i < options.paths.size(); ++i) changed->insert(i);
          continue;
        }
        auto it = watches.find(ev->wd);
        if (it == watches.end()) continue;
        const std::string name = ev->len > 0 ? std::string(ev->name) : std::string();
        const bool self = (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0;
        for (const auto &[index, target] : it->second.targets)
          if (self || target.empty() || target == name) changed->insert(index);
      }
    }
  }

  // Indexes of the paths whose signature differs from the stored one.
  void poll_signatures(std::set<size_t> *changed) {
    for (size_t i = 0; i < options.paths.size(); ++i)
      if (signature(options.paths[i]) != sigs[i]) changed->insert(i);
  }

  void run() {
    std::set<size_t> pending;
    Clock::time_point first{}, last{};
    Clock::time_point next_poll = Clock::now() + std::chrono::milliseconds(options.poll_ms);
    for (;;) {
      const Clock::time_point now = Clock::now();
      Clock::time_point wake = next_poll;
      if (!pending.empty()) {
        wake = std::min(last + std::chrono::milliseconds(options.debounce_ms),
                        first + std::chrono::milliseconds(options.max_delay_ms));
      }
      long timeout =
          wake <= now
              ? 0
              : static_cast<long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1);
      struct pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      int nfds = inotify_fd >= 0 ? 2 : 1;
      int rc = ::poll(fds, nfds, static_cast<int>(std::min<long>(timeout, 1 << 30)));
      if (rc < 0 && errno != EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // never spin
      }
      if (fds[0].revents & POLLIN) return;  // stop requested

      std::set<size_t> changed;
      if (nfds == 2 && (fds[1].revents & POLLIN)) drain_inotify(&changed);
      const Clock::time_point after = Clock::now();
      if (after >= next_poll) {
        refresh_watches();
        poll_signatures(&changed);
        next_poll = after + std::chrono::milliseconds(options.poll_ms);
      }
      if (!changed.empty()) {
        if (pending.empty()) first = after;
        last = after;
        pending.insert(changed.begin(), changed.end());
      }
      if (pending.empty()) continue;
      if (after < last + std::chrono::milliseconds(options.debounce_ms) &&
          after < first + std::chrono::milliseconds(options.max_delay_ms))
        continue;

      // Take the signatures before the callback reads anything: a change that lands while the
      // callback runs is then seen again on the next poll, never lost.
      refresh_watches();
      for (size_t i = 0; i < options.paths.size(); ++i) sigs[i] = signature(options.paths[i]);
      std::vector<std::string> paths;
      for (size_t i : pending) paths.push_back(options.paths[i]);
      pending.clear();
      try {
        callback(paths);
      } catch (...) {
        // Never let an exception cross the thread boundary; the callback owns its reporting.
      }
      runs.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

FileWatch::FileWatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<FileWatch>> FileWatch::start(FileWatchOptions options, Callback on_change) {
  if (auto v = options.validate(); !v) return v.error();
  if (!on_change) return make_error(ErrorCode::kInvalidArgument, "callback: empty");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->callback = std::move(on_change);
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake_fd < 0)
    return make_error(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(errno));
  if (impl->options.use_inotify) {
    impl->inotify_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (impl->inotify_fd >= 0) {
      impl->refresh_watches();
      // Without a single watch inotify sees nothing: poll only (watch limit, missing dirs).
      impl->inotify_ok = !impl->watches.empty();
    }
  }
  for (const std::string &p : impl->options.paths) impl->sigs.push_back(signature(p));
  Impl *raw = impl.get();
  try {
    raw->thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error &e) {
    return make_error(ErrorCode::kIo, std::string("cannot start watcher thread: ") + e.what());
  }
  return std::unique_ptr<FileWatch>(new FileWatch(std::move(impl)));
}

FileWatch::~FileWatch() {
  if (!impl_) return;
  uint64_t one = 1;
  ssize_t n = ::write(impl_->wake_fd, &one, sizeof one);
  (void)n;  // an eventfd write only fails on counter overflow, which cannot happen here
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool FileWatch::using_inotify() const {
  return impl_->inotify_ok.load();
}

uint64_t FileWatch::callbacks_run() const {
  return impl_->runs.load();
}

}  // namespace avsink

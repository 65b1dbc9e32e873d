// store.cpp - the quarantine store: entries/<id>.avq written via tmp/; verify, purge, export.
// No entry file is ever modified in place: entries appear by rename and go by unlink.
#include "quarantine/store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "quarantine/archive.h"

namespace avsink::quarantine {

namespace {

constexpr int64_t kStaleTempSeconds = 24 * 3600;
constexpr uint64_t kMaxEntryFile = uint64_t{1} << 36;  // 64 GiB: far beyond any message limit

std::atomic<uint64_t> g_temp_counter{0};

std::string entry_file(const std::string &id) {
  return entry_file_name(id);
}

std::string id_of(std::string_view name) {
  return id_of_entry_file(name);
}

Error not_found(const std::string &id) {
  return make_error(ErrorCode::kIo, "no such quarantine entry: " + id);
}

}  // namespace

Store::~Store() = default;

std::string Store::temp_name(const std::string &tag) const {
  return tag + "." + std::to_string(::getpid()) + "." + std::to_string(++g_temp_counter) + "." +
         to_hex(random_bytes(4)) + ".tmp";
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions &options,
                                           std::shared_ptr<AuditLog> audit) {
  if (options.dir.empty())
    return make_error(ErrorCode::kConfig, "quarantine directory is not configured");
  if (options.retention_seconds < 0 || options.release_mark_max_age_seconds <= 0)
    return make_error(ErrorCode::kConfig, "quarantine retention and mark age must be positive");
  std::unique_ptr<Store> s(new Store());
  s->opts_ = options;
  s->dir_ = options.dir;
  s->audit_ = std::move(audit);
  s->retention_seconds_ = options.retention_seconds;
  s->release_mark_max_age_seconds_ = options.release_mark_max_age_seconds;
  s->clock_ = options.clock;

  // The store directory itself may be a symlink an operator made; its subdirectories may not.
  if (::mkdir(s->dir_.c_str(), 0700) == 0) {
    if (::chmod(s->dir_.c_str(), 0700) != 0) return io_error("cannot chmod", s->dir_);
  } else if (errno != EEXIST) {
    return io_error("cannot create quarantine directory", s->dir_);
  }
  s->dir_fd_ = Fd(::open(s->dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s->dir_fd_.valid()) return io_error("cannot open quarantine directory", s->dir_);
  struct stat st {};
  if (::fstat(s->dir_fd_.get(), &st) != 0) return io_error("cannot stat", s->dir_);
  if ((st.st_mode & S_IRWXO) != 0)
    return make_error(ErrorCode::kConfig,
                      "quarantine directory is accessible by others (chmod 700)", s->dir_);
  auto entries = open_private_dir(s->dir_fd_.get(), "entries", s->dir_ + "/entries");
  if (!entries) return entries.error();
  s->entries_fd_ = std::move(*entries);
  auto releases = open_private_dir(s->dir_fd_.get(), "releases", s->dir_ + "/releases");
  if (!releases) return releases.error();
  s->releases_fd_ = std::move(*releases);
  auto tmp = open_private_dir(s->dir_fd_.get(), "tmp", s->dir_ + "/tmp");
  if (!tmp) return tmp.error();
  s->tmp_fd_ = std::move(*tmp);
  if (::fsync(s->dir_fd_.get()) != 0) return io_error("cannot fsync", s->dir_);

  // The release-mark secret: its own file, else derived from the key, else <dir>/.release-key.
  if (auto k = s->load_keys(options.key_file, options.release_secret_file); !k) return k.error();
  if (s->release_secret_.empty()) {
    const std::string shown = s->dir_ + "/.release-key";
    for (int attempt = 0; attempt < 2 && s->release_secret_.empty(); ++attempt) {
      int fd = ::openat(s->dir_fd_.get(), ".release-key",
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) {
        Fd owned(fd);
        struct stat ks {};
        if (::fstat(fd, &ks) != 0 || !S_ISREG(ks.st_mode) || (ks.st_mode & 077) != 0)
          return make_error(ErrorCode::kConfig, "release key must be a 0600 regular file", shown);
        auto data = read_all(fd, shown, 64);
        if (!data) return data.error();
        if (data->size() != 32)
          return make_error(ErrorCode::kConfig, "release key must be 32 bytes", shown);
        s->release_secret_ = std::move(*data);
      } else if (errno == ENOENT) {
        std::string secret = random_bytes(32);
        auto made = durable_create(s->tmp_fd_.get(), s->temp_name("release-key"), s->dir_fd_.get(),
                                   ".release-key", secret, shown);
        wipe(&secret);
        // kState: another process created it first; read theirs on the next round.
        if (!made && made.error().code != ErrorCode::kState) return made.error();
      } else {
        return io_error("cannot open release key", shown);
      }
    }
    if (s->release_secret_.empty())
      return make_error(ErrorCode::kConfig, "cannot establish the release key", shown);
  }
  return s;
}

Result<void> Store::check_id(const std::string &id) const {
  if (!valid_id(id))
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid quarantine id (want 32 lowercase hex characters)");
  return {};
}

Result<std::string> Store::put(std::string_view message, const EntryMeta &meta,
                               const Deadline * /*deadline*/) {
  EntryMeta m = meta;
  m.sha256 = sha256_hex(message);
  m.size = message.size();
  m.encrypted = key_.has_value();
  if (m.time == 0) m.time = now();
  for (int attempt = 0; attempt < 3; ++attempt) {
    m.id = random_id();
    auto r = durable_create_streamed(
        tmp_fd_.get(), temp_name("put"), entries_fd_.get(), entry_file(m.id),
        [&](const ByteSink &sink) -> Result<void> {
          auto w = write_entry(m, message, key(), sink);
          if (!w) return w.error();
          return {};
        },
        dir_ + "/entries/" + entry_file(m.id));
    if (r) return m.id;
    if (r.error().code != ErrorCode::kState) return r.error();
  }
  return make_error(ErrorCode::kInternal, "could not allocate a unique quarantine id");
}

bool Store::exists(const std::string &id) const {
  if (!valid_id(id)) return false;
  struct stat st {};
  return ::fstatat(entries_fd_.get(), entry_file(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

Result<void> Store::stream_entry_file(const std::string &id,
                                      const std::function<Result<void>(uint64_t)> &on_size,
                                      const ByteSink &out) const {
  if (auto c = check_id(id); !c) return c;
  std::string shown = dir_ + "/entries/" + entry_file(id);
  Fd fd(::openat(entries_fd_.get(), entry_file(id).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return not_found(id);
    return io_error("cannot open", shown);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(ErrorCode::kIo, "corrupt: not a regular file", shown);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxEntryFile)
    return make_error(ErrorCode::kIo, "corrupt: entry file too large", shown);
  if (on_size)
    if (auto r = on_size(size); !r) return r;
  return stream_file(fd.get(), size, out, shown, kStreamPiece);
}

Result<EntryMeta> Store::read_meta(const std::string &name) const {
  std::string shown = dir_ + "/entries/" + name;
  std::string id = id_of(name);
  Fd fd(::openat(entries_fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return not_found(id);
    return io_error("cannot open", shown);
  }
  auto head = pread_exact(fd.get(), 0, kHeaderBytes, shown);
  if (!head) return make_error(ErrorCode::kIo, "corrupt: truncated header");
  auto eh = decode_header(*head);
  if (!eh) return eh.error();
  auto prefix = pread_exact(fd.get(), 0, kHeaderBytes + eh->meta_len + kDigestBytes, shown);
  if (!prefix) return make_error(ErrorCode::kIo, "corrupt: truncated metadata");
  return decode_meta(*prefix, id, key_ ? &*key_ : nullptr);
}

Result<EntryMeta> Store::meta(const std::string &id) const {
  if (auto c = check_id(id); !c) return c.error();
  return read_meta(entry_file(id));
}

Result<std::vector<EntryMeta>> Store::list(
    std::vector<std::pair<std::string, std::string>> *unreadable) const {
  auto names = list_dir(entries_fd_.get(), dir_ + "/entries");
  if (!names) return names.error();
  std::vector<EntryMeta> out;
  for (const auto &name : *names) {
    if (id_of(name).empty()) {
      if (unreadable) unreadable->emplace_back(name, "unexpected file in entries/");
      continue;
    }
    auto m = read_meta(name);
    if (m) {
      out.push_back(std::move(*m));
    } else if (m.error().message.rfind("no such quarantine entry", 0) != 0 && unreadable) {
      unreadable->emplace_back(id_of(name), m.error().message);  // deleted meanwhile: skipped
    }
  }
  std::sort(out.begin(), out.end(), [](const EntryMeta &a, const EntryMeta &b) {
    return a.time != b.time ? a.time < b.time : a.id < b.id;
  });
  return out;
}

Result<void> Store::remove(const std::string &id, const std::string &by) {
  if (auto c = check_id(id); !c) return c;
  if (by.empty()) return make_error(ErrorCode::kInvalidArgument, "delete: operator name missing");
  if (!exists(id)) return not_found(id);
  nlohmann::json rec = {{"id", id}, {"by", by}, {"uid", ::getuid()}};
  if (auto m = meta(id)) {
    rec["sha256"] = m->sha256;
    rec["mail_from"] = m->envelope.mail_from;
    rec["rcpt_to"] = m->envelope.rcpt_to;
  } else {
    rec["note"] = m.error().message;
  }
  if (auto a = audit("quarantine.delete", rec); !a)
    return make_error(ErrorCode::kIo,
                      "not deleted: the audit record could not be written: " + a.error().message);
  if (::unlinkat(entries_fd_.get(), entry_file(id).c_str(), 0) != 0) {
    Error e = errno == ENOENT ? not_found(id) : io_error("cannot delete", dir_ + "/entries/" + id);
    (void)audit("quarantine.delete_failed", {{"id", id}, {"by", by}, {"error", e.message}});
    return e;
  }
  return fsync_dir(entries_fd_.get(), dir_ + "/entries");
}

Result<size_t> Store::purge_older_than(int64_t age_seconds, const std::string &by) {
  if (age_seconds < 0) return make_error(ErrorCode::kInvalidArgument, "purge: negative age");
  if (by.empty()) return make_error(ErrorCode::kInvalidArgument, "purge: operator name missing");
  remove_stale_temps();
  auto names = list_dir(entries_fd_.get(), dir_ + "/entries");
  if (!names) return names.error();
  const int64_t cutoff = now() - age_seconds;
  size_t removed = 0;
  for (const auto &name : *names) {
    std::string id = id_of(name);
    if (id.empty()) continue;
    int64_t t = 0;
    std::string note;
    if (auto m = read_meta(name)) {
      t = m->time;
    } else {
      struct stat st {};
      if (::fstatat(entries_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      t = st.st_mtime;
      note = "metadata unreadable (" + m.error().message + "); file time used";
    }
    if (t >= cutoff) continue;
    nlohmann::json rec = {{"id", id},
                          {"by", by},
                          {"uid", ::getuid()},
                          {"reason", "purge: older than " + std::to_string(age_seconds) + " s"},
                          {"entry_time", t}};
    if (!note.empty()) rec["note"] = note;
    if (auto a = audit("quarantine.delete", rec); !a)
      return make_error(ErrorCode::kIo, "purge stopped after " + std::to_string(removed) +
                                            " entries: audit record failed: " + a.error().message);
    if (::unlinkat(entries_fd_.get(), name.c_str(), 0) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      Error e = io_error("cannot delete", dir_ + "/entries/" + name);
      (void)audit("quarantine.delete_failed", {{"id", id}, {"by", by}, {"error", e.message}});
      return e;
    }
  }
  if (auto s = fsync_dir(entries_fd_.get(), dir_ + "/entries"); !s) return s.error();
  return removed;
}

size_t Store::remove_stale_temps() const {
  auto names = list_dir(tmp_fd_.get(), dir_ + "/tmp");
  if (!names) return 0;
  size_t removed = 0;
  const int64_t t_now = static_cast<int64_t>(std::time(nullptr));
  for (const auto &name : *names) {
    // "<tag>.<pid>.<counter>.<random>.tmp"
    size_t a = name.find('.');
    size_t b = a == std::string::npos ? a : name.find('.', a + 1);
    long pid = 0;
    if (b != std::string::npos)
      pid = std::strtol(name.substr(a + 1, b - a - 1).c_str(), nullptr, 10);
    bool dead = pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    struct stat st {};
    if (::fstatat(tmp_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    bool old = t_now - static_cast<int64_t>(st.st_mtime) > kStaleTempSeconds;
    if ((dead || old || pid <= 0) && ::unlinkat(tmp_fd_.get(), name.c_str(), 0) == 0) ++removed;
  }
  if (removed) ::fsync(tmp_fd_.get());
  return removed;
}

Result<Store::VerifyReport> Store::verify() const {
  VerifyReport rep;
  rep.temp_files_removed = remove_stale_temps();
  auto names = list_dir(entries_fd_.get(), dir_ + "/entries");
  if (!names) return names.error();
  std::sort(names->begin(), names->end());
  for (const auto &name : *names) {
    std::string id = id_of(name);
    if (id.empty()) {
      rep.bad.emplace_back(name, "unexpected file in entries/");
      continue;
    }
    auto e = read_message(id, nullptr);
    if (e)
      ++rep.ok;
    else if (e.error().message.rfind("no such quarantine entry", 0) != 0)  // else deleted
      rep.bad.emplace_back(id, e.error().message);
  }
  return rep;
}

Result<void> Store::record_release(const std::string &id, int64_t mark_time,
                                   const std::vector<std::string> &rcpts) {
  nlohmann::json bound = {{"id", id}, {"to", rcpts}};
  return durable_create(tmp_fd_.get(), temp_name("release"), releases_fd_.get(),
                        id + "." + std::to_string(mark_time), bound.dump(), dir_ + "/releases");
}

std::string Store::claim_release(const std::string &id, int64_t mark_time,
                                 const std::vector<std::string> &rcpt_keys) {
  const std::string name = id + "." + std::to_string(mark_time);
  const std::string used = name + ".used";
  Fd fd(::openat(releases_fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    struct stat st {};
    if (::fstatat(releases_fd_.get(), used.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      return "release mark already used";
    return "no release record for this mark";
  }
  auto text = read_all(fd.get(), dir_ + "/releases/" + name, 1 << 20);
  if (!text) return "release record unreadable: " + text.error().message;
  nlohmann::json rec = nlohmann::json::parse(*text, nullptr, false);
  if (rec.is_discarded() || !rec.contains("to") || !rec["to"].is_array())
    return "release record corrupt";
  std::vector<std::string> allowed;
  for (const auto &t : rec["to"])
    if (t.is_string()) allowed.push_back(release_rcpt_key(t.get<std::string>()));
  for (const auto &r : rcpt_keys) {
    if (std::find(allowed.begin(), allowed.end(), r) == allowed.end())
      return "not released to " + r;
  }
  // Single use: the first scan to rename the record honours the mark.
  if (::renameat(releases_fd_.get(), name.c_str(), releases_fd_.get(), used.c_str()) != 0)
    return "release mark already used";
  (void)fsync_dir(releases_fd_.get(), dir_ + "/releases");
  return {};
}

}  // namespace avsink::quarantine

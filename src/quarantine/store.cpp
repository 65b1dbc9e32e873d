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
#include <map>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/release_mark.h"
#include "quarantine/smtp_release.h"
#include "util/text.h"

namespace avsink::quarantine {

namespace {

constexpr std::string_view kEntrySuffix = ".avq";
constexpr std::string_view kArchiveEntries = "avsink-quarantine/entries/";
constexpr std::string_view kArchiveManifest = "avsink-quarantine/manifest.json";
constexpr std::string_view kArchiveFormat = "avsink-quarantine-archive";
constexpr int64_t kStaleTempSeconds = 24 * 3600;
constexpr uint64_t kMaxEntryFile = uint64_t{1} << 36;  // 64 GiB: far beyond any message limit
constexpr uint64_t kMaxManifest = 256u << 20;

std::atomic<uint64_t> g_temp_counter{0};

std::string entry_file(const std::string &id) {
  return id + std::string(kEntrySuffix);
}

// "<id>.avq" -> id, or "" when the name is not an entry file name.
std::string id_of(std::string_view name) {
  if (name.size() != 32 + kEntrySuffix.size() || name.substr(32) != kEntrySuffix) return {};
  std::string id(name.substr(0, 32));
  return valid_id(id) ? id : std::string();
}

Error not_found(const std::string &id) {
  return make_error(ErrorCode::kIo, "no such quarantine entry: " + id);
}

// Unlinks staged temp files on scope exit (import failure paths); commit() empties the list.
struct StagedFiles {
  int dir_fd = -1;
  std::vector<std::string> names;
  ~StagedFiles() {
    for (const auto &n : names) ::unlinkat(dir_fd, n.c_str(), 0);
  }
};

Result<std::string> load_secret_file(const std::string &path) {
  auto k = load_key_file(path);
  if (!k) return k.error();
  std::string s(reinterpret_cast<const char *>(k->data()), k->size());
  wipe(&*k);
  return s;
}

std::string sha256_of_file_bytes(std::string_view data) {
  return sha256_hex(data);
}

}  // namespace

std::string operator_name(const std::string &by) {
  if (!by.empty()) return by;
  const char *sudo = std::getenv("SUDO_USER");
  if (::getuid() == 0 && sudo != nullptr && *sudo != '\0') return sudo;
  struct passwd pw {};
  struct passwd *res = nullptr;
  char buf[4096];
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &res) == 0 && res != nullptr)
    return res->pw_name;
  return "uid:" + std::to_string(::getuid());
}

Store::~Store() {
  if (key_) wipe(&*key_);
  wipe(&release_secret_);
}

int64_t Store::now() const {
  return opts_.clock ? opts_.clock() : static_cast<int64_t>(std::time(nullptr));
}

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

  if (!options.key_file.empty()) {
    auto key = load_key_file(options.key_file);
    if (!key) return key.error();
    s->key_ = *key;
    wipe(&*key);
  }

  // The release-mark secret: its own file, else derived from the key, else <dir>/.release-key.
  if (!options.release_secret_file.empty()) {
    auto sec = load_secret_file(options.release_secret_file);
    if (!sec) return sec.error();
    s->release_secret_ = std::move(*sec);
  } else if (s->key_) {
    s->release_secret_ =
        hmac_sha256(std::string_view(reinterpret_cast<const char *>(s->key_->data()), 32),
                    "avsink quarantine release secret v1");
  } else {
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

Result<void> Store::audit(std::string_view event, const nlohmann::json &fields) {
  if (!audit_) return {};
  return audit_->record(event, fields);
}

Result<std::string> Store::put(std::string_view message, const EntryMeta &meta) {
  EntryMeta m = meta;
  m.sha256 = sha256_hex(message);
  m.size = message.size();
  m.encrypted = key_.has_value();
  if (m.time == 0) m.time = now();
  for (int attempt = 0; attempt < 3; ++attempt) {
    m.id = random_id();
    std::string data = encode_entry(m, message, key_ ? &*key_ : nullptr);
    auto r = durable_create(tmp_fd_.get(), temp_name("put"), entries_fd_.get(), entry_file(m.id),
                            data, dir_ + "/entries/" + entry_file(m.id));
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

Result<std::string> Store::read_entry_file(const std::string &id, uint64_t max_bytes) const {
  std::string shown = dir_ + "/entries/" + entry_file(id);
  Fd fd(::openat(entries_fd_.get(), entry_file(id).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return not_found(id);
    return io_error("cannot open", shown);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(ErrorCode::kIo, "corrupt: not a regular file", shown);
  return read_all(fd.get(), shown, max_bytes);
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

Result<std::string> Store::message(const std::string &id) const {
  if (auto c = check_id(id); !c) return c.error();
  auto file = read_entry_file(id, kMaxEntryFile);
  if (!file) return file.error();
  auto e = decode_entry(*file, id, key_ ? &*key_ : nullptr);
  if (!e) return e.error();
  return std::move(e->message);
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

Result<size_t> Store::purge_expired(const std::string &by) {
  if (opts_.retention_seconds == 0) return size_t{0};
  return purge_older_than(opts_.retention_seconds, by);
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
    auto file = read_entry_file(id, kMaxEntryFile);
    if (!file) {
      if (file.error().message.rfind("no such quarantine entry", 0) == 0) continue;  // deleted
      rep.bad.emplace_back(id, file.error().message);
      continue;
    }
    auto e = decode_entry(*file, id, key_ ? &*key_ : nullptr);
    if (e)
      ++rep.ok;
    else
      rep.bad.emplace_back(id, e.error().message);
  }
  return rep;
}

Result<void> Store::export_to(const std::string &archive_path) const {
  if (archive_path.empty()) return make_error(ErrorCode::kInvalidArgument, "export: no file name");
  auto names = list_dir(entries_fd_.get(), dir_ + "/entries");
  if (!names) return names.error();
  std::sort(names->begin(), names->end());

  std::string tmp_path = archive_path + "." + to_hex(random_bytes(6)) + ".tmp";
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return io_error("cannot create", tmp_path);
  bool committed = false;
  struct Cleanup {
    const std::string &p;
    bool &done;
    ~Cleanup() {
      if (!done) ::unlink(p.c_str());
    }
  } cleanup{tmp_path, committed};
  if (::fchmod(fd.get(), 0600) != 0) return io_error("cannot chmod", tmp_path);
  Sink sink = [&](std::string_view d) { return write_all(fd.get(), d, tmp_path); };

  nlohmann::json entries = nlohmann::json::array();
  std::vector<std::string> bad;
  for (const auto &name : *names) {
    std::string id = id_of(name);
    if (id.empty()) continue;  // verify() reports strays; they are not part of the store
    auto file = read_entry_file(id, kMaxEntryFile);
    if (!file) {
      if (file.error().message.rfind("no such quarantine entry", 0) == 0) continue;
      bad.push_back(id + ": " + file.error().message);
      continue;
    }
    auto e = decode_entry(*file, id, key_ ? &*key_ : nullptr);
    if (!e) {
      bad.push_back(id + ": " + e.error().message);
      continue;
    }
    std::string member = std::string(kArchiveEntries) + name;
    if (auto r = tar_add(sink, member, *file, e->meta.time); !r) return r;
    entries.push_back({{"id", id},
                       {"file", member},
                       {"size", file->size()},
                       {"sha256", sha256_of_file_bytes(*file)},
                       {"time", e->meta.time}});
  }
  if (!bad.empty()) {
    std::string msg = "export refused: " + std::to_string(bad.size()) +
                      (bad.size() == 1 ? " entry fails" : " entries fail") +
                      " verification (run `avsink quarantine verify`): " + bad[0];
    return make_error(ErrorCode::kIo, msg);
  }
  nlohmann::json manifest = {{"format", kArchiveFormat},
                             {"version", 1},
                             {"created", util::iso8601_utc_now_ms()},
                             {"encrypted", key_.has_value()},
                             {"count", entries.size()},
                             {"entries", entries}};
  if (auto r = tar_add(sink, std::string(kArchiveManifest), manifest.dump(1), now()); !r) return r;
  if (auto r = tar_finish(sink); !r) return r;
  if (::fsync(fd.get()) != 0) return io_error("fsync failed", tmp_path);
  fd.reset();
  if (::rename(tmp_path.c_str(), archive_path.c_str()) != 0)
    return io_error("cannot rename into place", archive_path);
  committed = true;
  std::string parent = archive_path.find('/') == std::string::npos
                           ? "."
                           : archive_path.substr(0, std::max<size_t>(1, archive_path.rfind('/')));
  Fd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (pfd.valid()) ::fsync(pfd.get());
  return {};
}

Result<size_t> Store::import_from(const std::string &archive_path) {
  Fd fd(::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open archive", archive_path);
  auto bad = [&](const std::string &what) {
    return make_error(ErrorCode::kIo, "import: " + what, archive_path);
  };

  struct Staged {
    std::string temp;
    uint64_t size = 0;
    std::string sha256;
  };
  std::map<std::string, Staged> staged;  // id -> staged temp file
  StagedFiles cleanup;
  cleanup.dir_fd = tmp_fd_.get();
  std::string manifest_text;
  bool have_manifest = false;

  auto on_member = [&](const TarMember &m, const MemberReader &read) -> Result<void> {
    if (m.name == kArchiveManifest) {
      if (have_manifest) return bad("two manifests");
      if (m.size > kMaxManifest) return bad("manifest too large");
      have_manifest = true;
      for (;;) {
        auto chunk = read(1 << 20);
        if (!chunk) return chunk.error();
        if (chunk->empty()) break;
        manifest_text += *chunk;
      }
      return {};
    }
    std::string_view n = m.name;
    std::string id =
        n.rfind(kArchiveEntries, 0) == 0 ? id_of(n.substr(kArchiveEntries.size())) : std::string();
    if (id.empty()) return bad("unexpected member " + m.name);
    if (staged.count(id)) return bad("entry twice in the archive: " + id);
    Staged st;
    st.temp = temp_name("import");
    Fd out(::openat(tmp_fd_.get(), st.temp.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return io_error("cannot create staging file", dir_ + "/tmp/" + st.temp);
    cleanup.names.push_back(st.temp);
    Sha256 h;
    for (;;) {
      auto chunk = read(1 << 20);
      if (!chunk) return chunk.error();
      if (chunk->empty()) break;
      h.update(*chunk);
      st.size += chunk->size();
      if (auto w = write_all(out.get(), *chunk, dir_ + "/tmp/" + st.temp); !w) return w;
    }
    if (::fsync(out.get()) != 0) return io_error("fsync failed", dir_ + "/tmp/" + st.temp);
    st.sha256 = h.final_hex();
    staged.emplace(id, std::move(st));
    return {};
  };
  if (auto r = tar_read(fd.get(), archive_path, on_member); !r) return r.error();
  if (!have_manifest) return bad("no manifest");

  // 1. The manifest lists exactly the staged entries, with matching sizes and digests.
  auto j = nlohmann::json::parse(manifest_text, nullptr, false);
  try {
    if (j.is_discarded() || j.at("format") != kArchiveFormat || j.at("version") != 1)
      return bad("not an avsink quarantine archive manifest");
    const auto &list = j.at("entries");
    if (list.size() != staged.size() || j.at("count").get<size_t>() != staged.size())
      return bad("manifest lists " + std::to_string(list.size()) + " entries, archive holds " +
                 std::to_string(staged.size()));
    for (const auto &e : list) {
      std::string id = e.at("id").get<std::string>();
      auto it = staged.find(id);
      if (it == staged.end()) return bad("manifest entry missing from archive: " + id);
      if (e.at("size").get<uint64_t>() != it->second.size ||
          e.at("sha256").get<std::string>() != it->second.sha256)
        return bad("entry does not match the manifest (size or SHA-256): " + id);
    }
  } catch (const nlohmann::json::exception &ex) {
    return bad(std::string("malformed manifest: ") + ex.what());
  }

  // 2. Every entry verifies with this store's key; conflicts with existing entries are found.
  std::vector<std::string> to_commit;
  for (const auto &[id, st] : staged) {
    Fd in(::openat(tmp_fd_.get(), st.temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return io_error("cannot reopen staging file", dir_ + "/tmp/" + st.temp);
    auto data = read_all(in.get(), dir_ + "/tmp/" + st.temp, kMaxEntryFile);
    if (!data) return data.error();
    auto e = decode_entry(*data, id, key_ ? &*key_ : nullptr);
    if (!e) return bad("entry " + id + " does not verify: " + e.error().message);
    if (exists(id)) {
      auto cur = read_entry_file(id, kMaxEntryFile);
      if (cur && *cur == *data) continue;  // already here, identical: nothing to do
      return make_error(ErrorCode::kState,
                        "import: entry " + id + " already exists with different content",
                        archive_path);
    }
    to_commit.push_back(id);
  }

  // 3. Commit: rename each staged file into entries/ (never replacing), then fsync.
  size_t added = 0;
  for (const auto &id : to_commit) {
    const Staged &st = staged.at(id);
    if (::renameat2(tmp_fd_.get(), st.temp.c_str(), entries_fd_.get(), entry_file(id).c_str(),
                    RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST) continue;  // written concurrently by another import
      return io_error("cannot commit entry " + id, dir_ + "/entries");
    }
    ++added;
  }
  if (auto s = fsync_dir(entries_fd_.get(), dir_ + "/entries"); !s) return s.error();
  ::fsync(tmp_fd_.get());
  if (auto a = audit("quarantine.import", {{"archive", archive_path},
                                           {"uid", ::getuid()},
                                           {"added", added},
                                           {"in_archive", staged.size()}});
      !a)
    return make_error(ErrorCode::kIo,
                      "imported " + std::to_string(added) +
                          " entries, but the audit record failed: " + a.error().message);
  return added;
}

std::string Store::release_mark(const std::string &id, std::string_view message) const {
  return make_release_mark(release_secret_, id, now(), message);
}

std::string Store::release_mark(const std::string &id) const {
  auto m = message(id);
  if (!m) return {};
  return release_mark(id, *m);
}

bool Store::verify_release_mark(std::string_view header_value, std::string_view message) const {
  return check_release_mark(release_secret_, header_value, message, now(),
                            opts_.release_mark_max_age_seconds);
}

ReleaseCheck Store::check_release(std::string_view message) const {
  ReleaseCheck rc;
  auto values = header_values(message, kReleaseHeader);
  if (values.empty()) return rc;
  rc.present = true;
  const std::string digest = release_digest_hex(message);  // once, however many marks
  const int64_t t = now();
  for (size_t i = 0; i < values.size() && i < kMaxMarksChecked; ++i) {
    if (check_release_mark_digest(release_secret_, values[i], digest, t,
                                  opts_.release_mark_max_age_seconds)) {
      rc.valid = true;
      rc.id = parse_release_mark(values[i])->id;
      break;
    }
  }
  return rc;
}

namespace {

// An envelope address as release records keep it: angle brackets and spaces gone, lowercase.
std::string rcpt_key(std::string_view a) {
  while (!a.empty() && (a.front() == ' ' || a.front() == '<')) a.remove_prefix(1);
  while (!a.empty() && (a.back() == ' ' || a.back() == '>')) a.remove_suffix(1);
  return util::ascii_lower(a);
}

}  // namespace

ReleaseCheck Store::use_release(std::string_view message, const std::vector<std::string> &rcpt_to) {
  ReleaseCheck rc = check_release(message);
  if (!rc.valid) return rc;
  rc.valid = false;
  std::optional<ParsedMark> mark;
  for (const auto &v : header_values(message, kReleaseHeader)) {
    auto m = parse_release_mark(v);
    if (m && m->id == rc.id) {
      mark = m;
      break;
    }
  }
  auto refuse = [&](std::string why) {
    rc.refused = std::move(why);
    (void)audit("quarantine.release_refused", {{"id", rc.id}, {"reason", rc.refused}});
    return rc;
  };
  if (!mark) return refuse("mark not found");
  const std::string name = rc.id + "." + std::to_string(mark->time);
  const std::string used = name + ".used";
  Fd fd(::openat(releases_fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    struct stat st {};
    if (::fstatat(releases_fd_.get(), used.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      return refuse("release mark already used");
    return refuse("no release record for this mark");
  }
  auto text = read_all(fd.get(), dir_ + "/releases/" + name, 1 << 20);
  if (!text) return refuse("release record unreadable: " + text.error().message);
  nlohmann::json rec = nlohmann::json::parse(*text, nullptr, false);
  if (rec.is_discarded() || !rec.contains("to") || !rec["to"].is_array())
    return refuse("release record corrupt");
  std::vector<std::string> allowed;
  for (const auto &t : rec["to"])
    if (t.is_string()) allowed.push_back(rcpt_key(t.get<std::string>()));
  if (rcpt_to.empty()) return refuse("no envelope recipients to check");
  for (const auto &r : rcpt_to) {
    if (std::find(allowed.begin(), allowed.end(), rcpt_key(r)) == allowed.end())
      return refuse("not released to " + rcpt_key(r));
  }
  // Single use: the first scan to rename the record honours the mark.
  if (::renameat(releases_fd_.get(), name.c_str(), releases_fd_.get(), used.c_str()) != 0)
    return refuse("release mark already used");
  (void)fsync_dir(releases_fd_.get(), dir_ + "/releases");
  nlohmann::json to = nlohmann::json::array();
  for (const auto &r : rcpt_to) to.push_back(rcpt_key(r));
  (void)audit("quarantine.release_used", {{"id", rc.id}, {"to", to}});
  rc.valid = true;
  return rc;
}

Result<std::string> Store::prepare_release(const std::string &id, std::string_view message,
                                           const std::vector<std::string> &rcpts) {
  if (rcpts.empty()) return make_error(ErrorCode::kInvalidArgument, "release: no recipients");
  std::string copy = make_released_copy(id, message);
  // The record that binds this mark to these recipients and lets it through once (use_release).
  auto mark = parse_release_mark(header_values(copy, kReleaseHeader).front());
  if (!mark) return make_error(ErrorCode::kInternal, "release: the new mark does not parse");
  nlohmann::json bound = {{"id", id}, {"to", nlohmann::json::array()}};
  for (const auto &r : rcpts) bound["to"].push_back(rcpt_key(r));
  if (auto w =
          durable_create(tmp_fd_.get(), temp_name("release"), releases_fd_.get(),
                         id + "." + std::to_string(mark->time), bound.dump(), dir_ + "/releases");
      !w)
    return make_error(ErrorCode::kIo, "not released: the release record could not be written: " +
                                          w.error().message);
  return copy;
}

std::string Store::make_released_copy(const std::string &id, std::string_view message) const {
  std::string stripped = remove_header(message, kReleaseHeader);
  std::string mark = release_mark(id, stripped);
  return prepend_header(stripped, kReleaseHeader, mark);
}

Result<std::string> Store::release(const std::string &id, const ReleaseOptions &o) {
  if (auto c = check_id(id); !c) return c.error();
  if (o.by.empty())
    return make_error(ErrorCode::kInvalidArgument, "release: operator name missing");
  if (o.host.empty()) return make_error(ErrorCode::kConfig, "release: no next hop configured");
  auto msg = message(id);
  if (!msg) return msg.error();
  auto m = meta(id);
  if (!m) return m.error();
  std::vector<std::string> rcpts = o.rcpts.empty() ? m->envelope.rcpt_to : o.rcpts;
  if (rcpts.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "release: the entry has no envelope recipients; give --to");
  std::string from = o.mail_from ? *o.mail_from : m->envelope.mail_from;
  std::string hop = o.host + ":" + std::to_string(o.port);
  nlohmann::json rec = {{"id", id},          {"by", o.by},      {"uid", ::getuid()},  {"to", rcpts},
                        {"mail_from", from}, {"next_hop", hop}, {"sha256", m->sha256}};
  if (auto a = audit("quarantine.release", rec); !a)
    return make_error(ErrorCode::kIo,
                      "not released: the audit record could not be written: " + a.error().message);
  auto copy = prepare_release(id, *msg, rcpts);
  if (!copy) return copy.error();
  auto reply = smtp_send(o.host, o.port, from, rcpts, *copy, o.timeout_ms);
  nlohmann::json res = {{"id", id}, {"by", o.by}, {"ok", reply.ok()}, {"next_hop", hop}};
  if (reply)
    res["reply"] = *reply;
  else
    res["error"] = reply.error().message;
  auto a = audit("quarantine.release_result", res);
  if (!reply) return reply.error();
  if (!a)
    return make_error(ErrorCode::kIo,
                      "released (" + *reply +
                          "), but the result record could not be written: " + a.error().message);
  return reply;
}

}  // namespace avsink::quarantine

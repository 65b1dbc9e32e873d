// clamav_lib.cpp - libclamav in process: database loading, versions, the swappable engine snapshot.
// Loads and compiles aside, then publishes; scanning and the archive walk are in clamav_scan.cpp.
#include "engines/clamav_lib.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <clamav.h>

#include "core/read_file.h"
#include "core/sha256.h"
#include "engines/clamav_internal.h"
#include "util/text.h"

namespace avsink::engines {
using namespace clamav_internal;
namespace {

namespace fs = std::filesystem;

// ---- process-wide libclamav state: cl_init and the log callback, set once ----

// While a database load runs on this thread, libclamav's error messages are collected here so the
// Error can name the file and line; at all other times they go to stderr as libclamav would.
thread_local std::vector<std::string> *t_load_messages = nullptr;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

// libclamav's messages: collected while loading (they name the bad database line), logged through
// the engine's logger during a scan (libclamav passes the scan's context, our ScanContext), and
// written to stderr otherwise.
void on_clamav_message(enum cl_msg severity, const char *fullmsg, const char *msg, void *context) {
  if (t_load_messages != nullptr) {
    if (severity == CL_MSG_ERROR && msg != nullptr) t_load_messages->push_back(trim(msg));
    return;
  }
  if (severity != CL_MSG_ERROR && severity != CL_MSG_WARN) return;
  if (const Logger *logger = scan_logger(context); logger != nullptr && msg != nullptr) {
    try {  // nothing may unwind through libclamav's C frames
      logger->log(severity == CL_MSG_ERROR ? LogLevel::kWarn : LogLevel::kInfo,
                  "libclamav: " + trim(msg));
    } catch (...) {
    }
    return;
  }
  if (fullmsg != nullptr) std::fputs(fullmsg, stderr);
}

Result<void> init_libclamav() {
  static std::once_flag once;
  static cl_error_t rc = CL_SUCCESS;
  std::call_once(once, [] {
    cl_set_clcb_msg(on_clamav_message);
    rc = cl_init(CL_INIT_DEFAULT);
  });
  if (rc != CL_SUCCESS) {
    return make_error(ErrorCode::kEngine, std::string("cl_init: ") + cl_strerror(rc));
  }
  return {};
}

// Collects libclamav's error messages for the lifetime of the object (one load or compile).
class MessageCapture {
 public:
  MessageCapture() { t_load_messages = &messages_; }
  ~MessageCapture() { t_load_messages = nullptr; }
  MessageCapture(const MessageCapture &) = delete;  // registers itself in a thread_local
  MessageCapture &operator=(const MessageCapture &) = delete;
  const std::vector<std::string> &messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

// ---- database files ----

// Every extension cl_load() reads from a directory (libclamav's CLI_DBEXT, without the legacy
// ".db" catch-all), plus ".info".
bool is_database_file(const fs::path &p) {
  static const char *const kExtensions[] = {
      ".cvd", ".cld",  ".cud", ".ndb", ".ndu", ".hdb",  ".hdu",  ".hsb", ".hsu", ".mdb",
      ".mdu", ".msb",  ".msu", ".ldb", ".ldu", ".idb",  ".cdb",  ".cfg", ".crb", ".cat",
      ".cbc", ".ftm",  ".fp",  ".sfp", ".gdb", ".wdb",  ".pdb",  ".sdb", ".zmd", ".rmd",
      ".ign", ".ign2", ".imp", ".ioc", ".yar", ".yara", ".pwdb", ".info"};
  const std::string ext = util::ascii_lower(p.extension().string());
  for (const char *e : kExtensions) {
    if (ext == e) return true;
  }
  return false;
}

// Database files directly in `path` (a directory), or `path` itself (a file); sorted.
std::vector<fs::path> database_files(const fs::path &path) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto &entry : fs::directory_iterator(path, ec)) {
      std::error_code ec2;
      if (entry.is_regular_file(ec2) && is_database_file(entry.path())) out.push_back(entry.path());
    }
  } else if (fs::is_regular_file(path, ec)) {
    out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t mtime_of(const fs::path &p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtime);
}

// One signature file at most (main.cvd is ~170 MB today).
constexpr uint64_t kMaxSignatureFileBytes = 4ull << 30;

Result<std::string> sha256_of_file(const fs::path &p) {
  Sha256 h;
  auto r = read_regular_file(p.string(), kMaxSignatureFileBytes,
                             [&](std::string_view chunk) { h.update(chunk); });
  if (!r) return r.error();
  return h.final_hex();
}

// A database-named entry of `path` (or `path` itself) that is not a regular file: libclamav
// would block opening a FIFO or read a device forever, so the source is refused before cl_load.
Result<void> refuse_irregular_entries(const std::string &path) {
  struct stat st {};
  auto check = [&](const fs::path &p) -> Result<void> {
    if (::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return make_error(ErrorCode::kIo, "signature file is not a regular file", p.string());
    }
    return {};
  };
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return check(path);
  for (const auto &entry : fs::directory_iterator(path, ec)) {
    if (!is_database_file(entry.path())) continue;
    if (auto r = check(entry.path()); !r) return r;
  }
  return {};
}

// "daily 27000, main 62" from the CVD/CLD headers among `files`; "" when there are none.
std::string cvd_versions(const std::vector<SignatureSource> &sources) {
  std::string out;
  for (const char *base : {"daily", "main", "bytecode"}) {
    for (const auto &src : sources) {
      bool found = false;
      for (const auto &f : src.files) {
        fs::path p(f.path);
        std::string ext = p.extension().string();
        if (p.stem() != base || (ext != ".cvd" && ext != ".cld")) continue;
        struct cl_cvd *cvd = cl_cvdhead(f.path.c_str());
        if (cvd == nullptr) continue;
        if (!out.empty()) out += ", ";
        out += std::string(base) + " " + std::to_string(cvd->version);
        cl_cvdfree(cvd);
        found = true;
        break;
      }
      if (found) break;
    }
  }
  return out;
}

// Turns libclamav's load messages into an Error naming the file (and line) at fault.
//   "Problem parsing database at line 3", "Can't load /x/bad.ndb: Malformed database",
//   "cli_loaddbdir: error loading database /x/bad.ndb"
Error load_error(const std::string &source, cl_error_t rc, const std::vector<std::string> &msgs) {
  std::string file;
  uint32_t line = 0;
  std::vector<std::string> reasons;
  for (const auto &m : msgs) {
    static constexpr std::string_view kDirLoad = "error loading database ";
    static constexpr std::string_view kCantLoad = "Can't load ";
    if (auto pos = m.find(kDirLoad); pos != std::string::npos) {
      file = m.substr(pos + kDirLoad.size());
      continue;
    }
    if (m.rfind(kCantLoad, 0) == 0) {
      auto colon = m.rfind(": ");
      if (file.empty() && colon != std::string::npos && colon > kCantLoad.size()) {
        file = m.substr(kCantLoad.size(), colon - kCantLoad.size());
      }
      continue;
    }
    unsigned n = 0;
    if (std::sscanf(m.c_str(), "Problem parsing database at line %u", &n) == 1) line = n;
    reasons.push_back(m);
  }
  if (file.empty()) file = source;
  std::string message;
  for (const auto &r : reasons) message += r + "; ";
  message += cl_strerror(rc);
  return make_error(ErrorCode::kEngine, message, file, line);
}

Result<void> set_num(cl_engine *e, cl_engine_field field, long long value, const char *what) {
  cl_error_t rc = cl_engine_set_num(e, field, value);
  if (rc != CL_SUCCESS) {
    return make_error(ErrorCode::kConfig,
                      std::string("cl_engine_set_num(") + what + "): " + cl_strerror(rc));
  }
  return {};
}

constexpr uint64_t kMaxNum = 1ull << 62;  // cl_engine_set_num takes a long long
constexpr uint64_t kFileSizeHeadroom = 1 << 20;

Result<void> apply_limits(cl_engine *e, const Limits &l) {
  struct Setting {
    cl_engine_field field;
    long long value;
    const char *what;
  };
  const uint64_t file_bytes = l.max_file_bytes;
  const Setting settings[] = {
      {CL_ENGINE_MAX_SCANSIZE,
       static_cast<long long>(std::min<uint64_t>(l.max_decoded_bytes, kMaxNum)), "MAX_SCANSIZE"},
      // libclamav's zip unpacker does not skip a member over MAX_FILESIZE: it truncates it to
      // a multiple of 8 KiB at or below the limit, scans that prefix and raises no heuristic
      // (gzip, bzip2 and tar do raise one). With headroom above max_file_bytes, a truncated
      // member is still larger than max_file_bytes, so the file-inspection callback sees it and
      // scan() reports it as unscannable; a member at exactly the limit is scanned whole.
      {CL_ENGINE_MAX_FILESIZE,
       static_cast<long long>(std::min<uint64_t>(file_bytes, kMaxNum) + kFileSizeHeadroom),
       "MAX_FILESIZE"},
      // ClamAV's meaning, kept: with MaxRecursion N, files at depth < N are scanned (measured).
      {CL_ENGINE_MAX_RECURSION, l.max_archive_recursion, "MAX_RECURSION"},
      // libclamav counts every file of one scan, the scanned item itself included, across all
      // nesting levels; max_archive_files counts members.
      {CL_ENGINE_MAX_FILES, static_cast<long long>(l.max_archive_files) + 1, "MAX_FILES"},
      {CL_ENGINE_MAX_SCANTIME, l.scan_deadline_ms, "MAX_SCANTIME"},
      // clamd.conf defaults, each capped by the per-file limit.
      {CL_ENGINE_MAX_EMBEDDEDPE, static_cast<long long>(std::min<uint64_t>(file_bytes, 40 << 20)),
       "MAX_EMBEDDEDPE"},
      {CL_ENGINE_MAX_HTMLNORMALIZE,
       static_cast<long long>(std::min<uint64_t>(file_bytes, 40 << 20)), "MAX_HTMLNORMALIZE"},
      {CL_ENGINE_MAX_HTMLNOTAGS, static_cast<long long>(std::min<uint64_t>(file_bytes, 8 << 20)),
       "MAX_HTMLNOTAGS"},
      {CL_ENGINE_MAX_SCRIPTNORMALIZE,
       static_cast<long long>(std::min<uint64_t>(file_bytes, 20 << 20)), "MAX_SCRIPTNORMALIZE"},
      {CL_ENGINE_MAX_ZIPTYPERCG, static_cast<long long>(std::min<uint64_t>(file_bytes, 1 << 20)),
       "MAX_ZIPTYPERCG"},
      {CL_ENGINE_PCRE_MATCH_LIMIT, 100000, "PCRE_MATCH_LIMIT"},
      {CL_ENGINE_PCRE_RECMATCH_LIMIT, 2000, "PCRE_RECMATCH_LIMIT"},
      {CL_ENGINE_PCRE_MAX_FILESIZE,
       static_cast<long long>(std::min<uint64_t>(file_bytes, 100ull << 20)), "PCRE_MAX_FILESIZE"},
      {CL_ENGINE_MAX_PARTITIONS, 50, "MAX_PARTITIONS"},
      {CL_ENGINE_MAX_ICONSPE, 100, "MAX_ICONSPE"},
      {CL_ENGINE_MAX_RECHWP3, 16, "MAX_RECHWP3"},
      // The clean-file cache would skip files it saw before, and with them the on_member walk,
      // and could remember a file skipped at the deadline as clean. Every scan walks everything.
      {CL_ENGINE_DISABLE_CACHE, 1, "DISABLE_CACHE"},
  };
  for (const auto &s : settings) {
    if (auto r = set_num(e, s.field, s.value, s.what); !r) return r;
  }
  return {};
}

// Loads one directory or file into `engine`; names the file at fault on error.
Result<SignatureSource> load_source(cl_engine *engine, const std::string &path) {
  SignatureSource src;
  src.path = path;
  unsigned int signo = 0;
  cl_error_t rc;
  std::vector<std::string> messages;
  if (auto r = refuse_irregular_entries(path); !r) return r.error();
  {
    MessageCapture capture;
    rc = cl_load(path.c_str(), engine, &signo, CL_DB_STDOPT);
    messages = capture.messages();
  }
  if (rc != CL_SUCCESS) return load_error(path, rc, messages);
  src.signatures = signo;
  for (const auto &p : database_files(path)) {
    auto digest = sha256_of_file(p);
    if (!digest) return digest.error();
    src.files.push_back(SignatureFile{p.string(), std::move(*digest), mtime_of(p)});
  }
  return src;
}

bool writable_tmpfs_dir(const char *path) {
  struct statfs fs {};
  struct stat st {};
  return path != nullptr && *path == '/' && statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
         stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

Result<SnapshotPtr> build_snapshot(const ClamavOptions &options, uint64_t generation) {
  if (auto r = init_libclamav(); !r) return r.error();
  EnginePtr engine(cl_engine_new());
  if (!engine) return make_error(ErrorCode::kNoMemory, "cl_engine_new failed");
  if (auto r = apply_limits(engine.get(), options.limits); !r) return r.error();
  if (!options.temp_dir.empty()) {
    // libclamav makes a 0700 directory per scan inside it, so a shared /tmp-like place is fine.
    struct stat st {};
    const char *why = nullptr;
    if (stat(options.temp_dir.c_str(), &st) != 0)
      why = std::strerror(errno);
    else if (!S_ISDIR(st.st_mode))
      why = "not a directory";
    else if (access(options.temp_dir.c_str(), W_OK | X_OK) != 0)
      why = std::strerror(errno);
    if (why != nullptr) {
      return make_error(ErrorCode::kConfig, "[scan] temp_dir " + options.temp_dir + ": " + why);
    }
    cl_error_t rc = cl_engine_set_str(engine.get(), CL_ENGINE_TMPDIR, options.temp_dir.c_str());
    if (rc != CL_SUCCESS) {
      return make_error(ErrorCode::kEngine,
                        std::string("cl_engine_set_str(TMPDIR): ") + cl_strerror(rc));
    }
  }
  install_scan_callbacks(engine.get());

  std::vector<std::string> paths;
  std::string missing;
  for (const auto &dir : options.signature_dirs) {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
      paths.push_back(dir);
    } else {
      missing += (missing.empty() ? "" : ", ") + dir;
    }
  }
  if (options.load_system_db) {
    std::string dir = options.system_db_dir.empty() ? cl_retdbdir() : options.system_db_dir;
    std::error_code ec;
    if (fs::is_directory(dir, ec) && !database_files(dir).empty()) paths.push_back(dir);
  }
  if (paths.empty()) {
    return make_error(ErrorCode::kConfig,
                      "no signature directory exists" +
                          (missing.empty() ? std::string(" (none configured)") : ": " + missing));
  }

  auto snap = std::make_shared<ClamavSnapshot>();
  snap->status.name = "clamav";
  snap->status.generation = generation;
  for (const auto &p : paths) {
    auto src = load_source(engine.get(), p);
    if (!src) return src.error();
    snap->status.signatures += src->signatures;
    for (const auto &f : src->files) snap->status.db_time = std::max(snap->status.db_time, f.mtime);
    snap->status.sources.push_back(std::move(*src));
  }
  {
    MessageCapture capture;
    cl_error_t rc = cl_engine_compile(engine.get());
    if (rc != CL_SUCCESS) {
      std::string message = "cl_engine_compile: ";
      for (const auto &m : capture.messages()) message += m + "; ";
      message += cl_strerror(rc);
      return make_error(ErrorCode::kEngine, message);
    }
  }
  snap->status.db_version = cvd_versions(snap->status.sources);
  if (snap->status.db_version.empty()) snap->status.db_version = "avsink-shipped";
  snap->engine = std::move(engine);
  return SnapshotPtr(std::move(snap));
}

}  // namespace

bool is_clamav_database_name(std::string_view name) {
  return is_database_file(fs::path(name));
}

ClamavEngine::ClamavEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClamavEngine::~ClamavEngine() = default;

Result<std::unique_ptr<ClamavEngine>> ClamavEngine::open(const ClamavOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto snap = build_snapshot(options, 1);
  if (!snap) return snap.error();
  impl->current.publish(std::move(*snap));
  return std::unique_ptr<ClamavEngine>(new ClamavEngine(std::move(impl)));
}

bool ClamavEngine::required() const {
  return impl_->options.required;
}

Result<void> ClamavEngine::reload() {
  std::lock_guard<std::mutex> lock(impl_->reload_mu);
  auto snap = build_snapshot(impl_->options, impl_->current.generation() + 1);
  if (!snap) {
    // At reload every failure is the databases' (a directory that vanished included): the engine
    // keeps serving the previous generation, and the C ABI reports AVSINK_EENGINE.
    Error e = snap.error();
    e.code = ErrorCode::kEngine;
    e.message += " (keeping generation " + std::to_string(impl_->current.generation()) + ")";
    return e;
  }
  impl_->current.publish(std::move(*snap));  // the old one lives on while a scan holds it
  return {};
}

EngineStatus ClamavEngine::status() const {
  EngineStatus s = impl_->snapshot()->status;
  s.required = impl_->options.required;
  return s;
}

std::vector<std::string> ClamavEngine::watch_paths() const {
  std::vector<std::string> out = impl_->options.signature_dirs;
  if (impl_->options.load_system_db) {
    out.push_back(impl_->options.system_db_dir.empty() ? cl_retdbdir()
                                                       : impl_->options.system_db_dir);
  }
  return out;
}

std::string ClamavEngine::default_system_db_dir() {
  return cl_retdbdir();
}

ClamavOptions ClamavOptions::from(const Config &config) {
  ClamavOptions o;
  o.signature_dirs = config.signature_dirs;
  if (o.signature_dirs.empty()) o.signature_dirs.push_back(Config::shipped_signatures_dir());
  o.load_system_db = config.system_db;
  o.system_db_dir = config.system_db_dir;
  o.required = config.clamav_required;
  o.limits = config.limits;
  o.temp_dir = config.temp_dir.empty() ? default_scratch_dir() : config.temp_dir;
  return o;
}

std::string default_scratch_dir() {
  // The operator's TMPDIR: libclamav reads it itself, as before.
  if (const char *t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') return "";
  const char *const candidates[] = {"/dev/shm", std::getenv("XDG_RUNTIME_DIR")};
  for (const char *dir : candidates)
    if (writable_tmpfs_dir(dir)) return dir;
  return "";
}

std::string ClamavEngine::library_version() {
  const char *v = cl_retver();
  return v != nullptr ? v : "";
}

}  // namespace avsink::engines

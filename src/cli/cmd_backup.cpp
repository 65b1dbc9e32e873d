// cmd_backup.cpp - `avsink backup create|verify|restore`: one archive of a gateway (config, rule
// and list files, sealed key files, the quarantine's export, a manifest), proven by restoring it.
// Exit status: 0 ok, 1 verify found a problem, 2 usage or any other error.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/read_file.h"
#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/crypto.h"
#include "quarantine/fs_util.h"
#include "quarantine/open.h"
#include "rules/rule_engine.h"

namespace avsink::cli {

namespace {

namespace q = avsink::quarantine;
namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kProblem = 1;
constexpr int kError = 2;
constexpr std::string_view kPrefix = "avsink-backup/";
constexpr std::string_view kFormat = "avsink-backup";
constexpr int kKdfIterations = 600000;  // PBKDF2-HMAC-SHA256
constexpr uint64_t kMaxFile = 64u << 20;
constexpr uint64_t kMaxQuarantine = uint64_t{1} << 36;

const char kUsage[] =
    "usage: avsink backup COMMAND FILE [options]\n"
    "\n"
    "  create FILE --config CONF   config, rule and list files, sealed key files, the quarantine\n"
    "                              (either backend) and a manifest with digests, in one archive\n"
    "  verify FILE                 restore into a scratch root and check everything there\n"
    "  restore FILE --root DIR     restore every file under DIR (DIR/<original path>)\n"
    "\n"
    "  --passphrase-file F   the passphrase sealing the key files (else env\n"
    "                        AVSINK_BACKUP_PASSPHRASE; never on the command line)\n"
    "Exit status: 0 ok, 1 verify found a problem, 2 usage or any other error.\n";

struct Options {
  std::string command, file, config, root, passphrase_file;
  bool help = false;
};

int fail(const std::string &msg) {
  std::cerr << "avsink backup: " << msg << "\n";
  return kError;
}

std::optional<std::string> parse(const Args &args, Options *o) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> v;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      v = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
    }
    if (a == "--help" || a == "-h") {
      o->help = true;
      continue;
    }
    std::string *target = a == "--config"            ? &o->config
                          : a == "--root"            ? &o->root
                          : a == "--passphrase-file" ? &o->passphrase_file
                                                     : nullptr;
    if (target) {
      if (!v) {
        if (i + 1 >= args.size()) return a + " needs a value";
        v = args[++i];
      }
      *target = *v;
      continue;
    }
    if (a == "--passphrase") return "a passphrase is never taken from the command line";
    if (a.size() > 1 && a[0] == '-') return "unknown option " + a;
    if (o->command.empty())
      o->command = a;
    else if (o->file.empty())
      o->file = a;
    else
      return "unexpected argument " + a;
  }
  return std::nullopt;
}

Result<std::string> passphrase(const Options &o) {
  std::string p;
  if (!o.passphrase_file.empty()) {
    auto t = read_regular_file(o.passphrase_file, 4096);
    if (!t) return t.error();
    p = *t;
  } else if (const char *e = std::getenv("AVSINK_BACKUP_PASSPHRASE")) {
    p = e;
  }
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  if (p.empty())
    return make_error(ErrorCode::kConfig,
                      "no passphrase: give --passphrase-file F or set AVSINK_BACKUP_PASSPHRASE");
  return p;
}

q::Key derive(const std::string &pass, std::string_view salt) {
  q::Key k{};
  PKCS5_PBKDF2_HMAC(pass.data(), static_cast<int>(pass.size()),
                    reinterpret_cast<const unsigned char *>(salt.data()),
                    static_cast<int>(salt.size()), kKdfIterations, EVP_sha256(),
                    static_cast<int>(k.size()), k.data());
  return k;
}

std::string key_aad(const std::string &path) {
  return "avsink-backup-key-1\n" + path;
}

// The backend options a configuration names, as the gateway opens them (paths under `root`).
q::BackendOptions backend_of(const Config &cfg, const std::string &root) {
  q::BackendOptions bo;
  bo.backend = cfg.quarantine_backend;
  bo.fs.dir = root + cfg.quarantine_dir;
  bo.fs.key_file = cfg.quarantine_key_file.empty() ? "" : root + cfg.quarantine_key_file;
  bo.fs.release_secret_file = cfg.release_secret_file.empty() ? "" : root + cfg.release_secret_file;
  bo.fs.retention_seconds = static_cast<int64_t>(cfg.retention_days) * 86400;
  if (bo.backend == "postgresql") {
    auto ci = q::pg_conninfo(cfg.pg_conninfo, cfg.pg_conninfo_file);
    bo.pg.conninfo = ci ? *ci : "";
    bo.pg.key_file = bo.fs.key_file;
    bo.pg.release_secret_file = bo.fs.release_secret_file;
    bo.pg.timeout_ms = static_cast<int>(cfg.pg_timeout_ms);
  }
  return bo;
}

std::string absolute(const std::string &p) {
  return fs::absolute(p).lexically_normal().string();
}

int create(const Options &o) {
  if (o.config.empty()) return fail("create needs --config CONF");
  auto cfg = load_config(o.config);
  if (!cfg) return fail(cfg.error().describe());
  std::vector<std::pair<std::string, std::string>> plain;  // (kind, absolute path)
  plain.emplace_back("config", absolute(o.config));
  for (const auto &f : cfg->rule_files) plain.emplace_back("rules", absolute(f));
  for (const auto &f : cfg->attachment_lists) plain.emplace_back("attachment_list", absolute(f));
  for (const auto &f : cfg->hashlist_files) plain.emplace_back("hash_list", absolute(f));
  if (!cfg->pg_conninfo_file.empty())
    plain.emplace_back("pg_conninfo", absolute(cfg->pg_conninfo_file));
  std::vector<std::string> keys;
  if (!cfg->quarantine_key_file.empty()) keys.push_back(absolute(cfg->quarantine_key_file));
  if (!cfg->release_secret_file.empty()) keys.push_back(absolute(cfg->release_secret_file));
  std::string pass;
  if (!keys.empty()) {
    auto p = passphrase(o);
    if (!p) return fail(p.error().describe());
    pass = *p;
  }

  // The quarantine, exported by its backend (verified entry by entry) to a temp file.
  auto store = q::open_backend(backend_of(*cfg, ""), nullptr);
  if (!store) return fail("quarantine: " + store.error().describe());
  const std::string qtmp = o.file + ".quarantine." + q::to_hex(q::random_bytes(6)) + ".tmp";
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } qclean{qtmp};
  if (auto r = (*store)->export_to(qtmp); !r) return fail("quarantine: " + r.error().describe());
  auto qdata = read_regular_file(qtmp, kMaxQuarantine);
  if (!qdata) return fail(qdata.error().describe());
  auto entries = (*store)->list();

  const std::string tmp = o.file + "." + q::to_hex(q::random_bytes(6)) + ".tmp";
  q::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return fail("cannot create " + tmp);
  struct Unlink2 {
    std::string p;
    bool keep = false;
    ~Unlink2() {
      if (!keep) ::unlink(p.c_str());
    }
  } tclean{tmp};
  q::Sink sink = [&](std::string_view d) { return q::write_all(fd.get(), d, tmp); };
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  nlohmann::json files = nlohmann::json::array();
  size_t n = 0;
  for (const auto &[kind, path] : plain) {
    struct stat st {};
    auto data = read_regular_file(path, kMaxFile, &st);
    if (!data) return fail(data.error().describe());
    std::string member = std::string(kPrefix) + "files/" + std::to_string(n++);
    if (auto r = q::tar_add(sink, member, *data, now); !r) return fail(r.error().describe());
    files.push_back({{"member", member},
                     {"path", path},
                     {"kind", kind},
                     {"mode", st.st_mode & 07777},
                     {"size", data->size()},
                     {"sha256", sha256_hex(*data)}});
  }
  for (const auto &path : keys) {
    auto data = read_regular_file(path, 4096);
    if (!data) return fail(data.error().describe());
    std::string salt = q::random_bytes(16);
    q::Key k = derive(pass, salt);
    std::string sealed = salt + q::seal(k, *data, key_aad(path));
    q::wipe(&k);
    std::string member = std::string(kPrefix) + "keys/" + std::to_string(n++);
    if (auto r = q::tar_add(sink, member, sealed, now); !r) return fail(r.error().describe());
    files.push_back({{"member", member},
                     {"path", path},
                     {"kind", "key"},
                     {"mode", 0600},
                     {"size", data->size()},
                     {"sha256", sha256_hex(*data)},
                     {"sealed", "pbkdf2-sha256-600000+aes-256-gcm"}});
    q::wipe(&*data);
  }
  std::string qmember = std::string(kPrefix) + "quarantine.tar";
  if (auto r = q::tar_add(sink, qmember, *qdata, now); !r) return fail(r.error().describe());
  nlohmann::json manifest = {{"format", kFormat},
                             {"version", 1},
                             {"created", rfc3339_now()},
                             {"config", absolute(o.config)},
                             {"files", files},
                             {"quarantine",
                              {{"member", qmember},
                               {"backend", cfg->quarantine_backend},
                               {"entries", entries ? entries->size() : 0},
                               {"size", qdata->size()},
                               {"sha256", sha256_hex(*qdata)}}}};
  if (auto r = q::tar_add(sink, std::string(kPrefix) + "manifest.json", manifest.dump(1), now); !r)
    return fail(r.error().describe());
  if (auto r = q::tar_finish(sink); !r) return fail(r.error().describe());
  if (::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), o.file.c_str()) != 0)
    return fail("cannot write " + o.file);
  tclean.keep = true;
  std::printf("backup %s: %zu files, %zu key files (sealed), %zu quarantine entries\n",
              o.file.c_str(), plain.size(), keys.size(), entries ? entries->size() : size_t{0});
  return kOk;
}

// Reads a backup completely and checks every member against the manifest.
struct Backup {
  nlohmann::json manifest;
  std::map<std::string, std::string> members;
};

Result<Backup> read_backup(const std::string &path) {
  q::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ErrorCode::kIo, "cannot open", path);
  Backup b;
  auto on_member = [&](const q::TarMember &m, const q::MemberReader &read) -> Result<void> {
    if (m.name.rfind(kPrefix, 0) != 0 || b.members.count(m.name))
      return make_error(ErrorCode::kIo, "backup: unexpected member " + m.name, path);
    std::string data;
    for (;;) {
      auto c = read(1 << 20);
      if (!c) return c.error();
      if (c->empty()) break;
      data += *c;
    }
    b.members[m.name] = std::move(data);
    return {};
  };
  if (auto r = q::tar_read(fd.get(), path, on_member); !r) return r.error();
  auto it = b.members.find(std::string(kPrefix) + "manifest.json");
  if (it == b.members.end()) return make_error(ErrorCode::kIo, "backup: no manifest", path);
  b.manifest = nlohmann::json::parse(it->second, nullptr, false);
  try {
    if (b.manifest.is_discarded() || b.manifest.at("format") != kFormat ||
        b.manifest.at("version") != 1)
      return make_error(ErrorCode::kIo, "backup: not an avsink backup manifest", path);
    size_t listed = 2;  // the manifest and the quarantine
    for (const auto &f : b.manifest.at("files")) {
      ++listed;
      auto m = b.members.find(f.at("member").get<std::string>());
      if (m == b.members.end())
        return make_error(ErrorCode::kIo, "backup: missing " + f.at("path").get<std::string>(),
                          path);
      if (!f.contains("sealed") && sha256_hex(m->second) != f.at("sha256").get<std::string>())
        return make_error(ErrorCode::kIo,
                          "backup: digest mismatch for " + f.at("path").get<std::string>(), path);
    }
    const auto &qm = b.manifest.at("quarantine");
    auto m = b.members.find(qm.at("member").get<std::string>());
    if (m == b.members.end() || sha256_hex(m->second) != qm.at("sha256").get<std::string>())
      return make_error(ErrorCode::kIo, "backup: the quarantine does not match the manifest", path);
    if (listed != b.members.size())
      return make_error(ErrorCode::kIo, "backup: members not in the manifest", path);
  } catch (const nlohmann::json::exception &e) {
    return make_error(ErrorCode::kIo, std::string("backup: malformed manifest: ") + e.what(), path);
  }
  return b;
}

Result<void> write_file(const std::string &path, std::string_view data, unsigned mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create directory: " + ec.message(), path);
  q::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return q::io_error("cannot create (exists?)", path);
  if (auto w = q::write_all(fd.get(), data, path); !w) return w;
  if (::fchmod(fd.get(), mode & 0777) != 0 || ::fsync(fd.get()) != 0)
    return q::io_error("cannot finish", path);
  return {};
}

struct Restored {
  size_t files = 0, keys = 0, entries = 0;
  std::string config;  // the restored config's path
};

// Restores everything under `root`; the quarantine is imported into a filesystem store at
// root + its directory (filesystem backend), or left as root/avsink-quarantine-export.tar for
// `avsink quarantine import` (PostgreSQL: the database is not under a root).
Result<Restored> restore(const Backup &b, const std::string &root, const std::string &pass) {
  Restored out;
  for (const auto &f : b.manifest.at("files")) {
    const std::string path = f.at("path").get<std::string>();
    const std::string &data = b.members.at(f.at("member").get<std::string>());
    if (f.contains("sealed")) {
      if (data.size() < 16) return make_error(ErrorCode::kIo, "backup: sealed key too short");
      q::Key k = derive(pass, std::string_view(data).substr(0, 16));
      auto plain = q::open_sealed(k, std::string_view(data).substr(16), key_aad(path));
      q::wipe(&k);
      if (!plain)
        return make_error(ErrorCode::kConfig,
                          "key file " + path + " does not decrypt (wrong passphrase?)");
      if (sha256_hex(*plain) != f.at("sha256").get<std::string>())
        return make_error(ErrorCode::kIo, "backup: digest mismatch for key " + path);
      auto w = write_file(root + path, *plain, 0600);
      q::wipe(&*plain);
      if (!w) return w.error();
      ++out.keys;
    } else {
      if (auto w = write_file(root + path, data, f.at("mode").get<unsigned>()); !w)
        return w.error();
      ++out.files;
    }
  }
  out.config = root + b.manifest.at("config").get<std::string>();
  auto cfg = load_config(out.config);
  if (!cfg) return cfg.error();
  const std::string &qdata = b.members.at(b.manifest.at("quarantine").at("member"));
  const std::string qfile = root + "/avsink-quarantine-export.tar";
  if (auto w = write_file(qfile, qdata, 0600); !w) return w.error();
  if (cfg->quarantine_backend != "postgresql") {
    auto bo = backend_of(*cfg, root);
    std::error_code ec;
    fs::create_directories(fs::path(bo.fs.dir).parent_path(), ec);
    auto store = q::open_backend(bo, nullptr);
    if (!store) return store.error();
    auto n = (*store)->import_from(qfile);
    if (!n) return n.error();
    out.entries = *n;
    ::unlink(qfile.c_str());
  }
  return out;
}

int cmd_restore(const Options &o, bool verify_only) {
  auto b = read_backup(o.file);
  if (!b) return fail(b.error().describe());
  bool has_keys = false;
  for (const auto &f : b->manifest.at("files")) has_keys |= f.contains("sealed");
  std::string pass;
  if (has_keys) {
    auto p = passphrase(o);
    if (!p) return fail(p.error().describe());
    pass = *p;
  }
  std::string root = o.root;
  if (verify_only) {
    char tmpl[] = "/tmp/avsink-backup-verify-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail("cannot make a scratch root");
    root = tmpl;
  } else if (root.empty()) {
    return fail("restore needs --root DIR");
  }
  root = absolute(root);
  struct Scratch {
    std::string p;
    bool remove;
    ~Scratch() {
      std::error_code ec;
      if (remove) fs::remove_all(p, ec);
    }
  } scratch{root, verify_only};
  auto r = restore(*b, root, pass);
  if (!r) {
    std::cerr << "avsink backup: restore failed: " << r.error().describe() << "\n";
    return verify_only ? kProblem : kError;
  }
  const auto &qm = b->manifest.at("quarantine");
  std::printf("restores: %zu files, %zu key files, quarantine of %zu entries (%s backend)\n",
              r->files, r->keys, qm.at("entries").get<size_t>(),
              qm.at("backend").get<std::string>().c_str());
  for (const auto &f : b->manifest.at("files"))
    std::printf("  %-16s %s\n", f.at("kind").get<std::string>().c_str(),
                f.at("path").get<std::string>().c_str());
  if (!verify_only) {
    if (qm.at("backend") == "postgresql")
      std::printf(
          "quarantine archive: %s/avsink-quarantine-export.tar (load it with `avsink "
          "quarantine import` into the database)\n",
          root.c_str());
    return kOk;
  }

  // verify: the restored configuration, rules and quarantine, read as the gateway would.
  int problems = 0;
  auto cfg = load_config(r->config);
  if (!cfg) {
    std::printf("config check: FAILED %s\n", cfg.error().describe().c_str());
    return kProblem;
  }
  std::printf("config check: OK\n");
  auto present = [&](const std::vector<std::string> &paths, const char *what) {
    for (const auto &p : paths) {
      if (::access((root + absolute(p)).c_str(), R_OK) != 0) {
        std::printf("config check: %s %s is not in the backup\n", what, p.c_str());
        ++problems;
      }
    }
  };
  present(cfg->rule_files, "rule file");
  present(cfg->attachment_lists, "attachment list");
  present(cfg->hashlist_files, "hash list");
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auto &f : cfg->rule_files) {
    rules::FileCheck c = rules::check_file_report(root + absolute(f), now);
    if (!c.readable || !c.errors.empty()) {
      std::printf("rules check: FAILED %s\n", f.c_str());
      for (const auto &e : c.errors) std::printf("  %s\n", e.describe().c_str());
      ++problems;
    } else {
      std::printf("rules check: %s OK (%zu rules)\n", f.c_str(), c.rule_count);
    }
  }
  // The quarantine with the restored keys: every entry decrypts and verifies.
  auto bo = backend_of(*cfg, root);
  bo.backend = "filesystem";
  bo.fs.dir = root + "/avsink-verify-quarantine";
  auto store = q::open_backend(bo, nullptr);
  if (!store) {
    std::printf("quarantine verify: FAILED %s\n", store.error().describe().c_str());
    return kProblem;
  }
  const std::string qfile = root + "/avsink-quarantine-export.tar";
  if (cfg->quarantine_backend == "postgresql") {
    auto n = (*store)->import_from(qfile);
    if (!n) {
      std::printf("quarantine verify: FAILED %s\n", n.error().describe().c_str());
      return kProblem;
    }
  } else {
    (*store) = nullptr;
    auto real = q::open_backend(backend_of(*cfg, root), nullptr);
    if (!real) {
      std::printf("quarantine verify: FAILED %s\n", real.error().describe().c_str());
      return kProblem;
    }
    store = std::move(real);
  }
  auto v = (*store)->verify();
  if (!v) {
    std::printf("quarantine verify: FAILED %s\n", v.error().describe().c_str());
    return kProblem;
  }
  for (const auto &[id, why] : v->bad)
    std::printf("quarantine verify: BAD %s: %s\n", id.c_str(), why.c_str());
  const size_t want = qm.at("entries").get<size_t>();
  if (!v->bad.empty() || v->ok != want) {
    std::printf("quarantine verify: %zu of %zu entries decrypt and verify\n", v->ok, want);
    ++problems;
  } else {
    std::printf("quarantine verify: %zu entries decrypt and verify with the restored keys\n",
                v->ok);
  }
  std::printf(problems ? "backup verify: FAILED\n" : "backup verify: OK\n");
  return problems ? kProblem : kOk;
}

}  // namespace

int cmd_backup(const Args &args) {
  Options o;
  if (auto err = parse(args, &o)) return fail(*err + "\n" + kUsage);
  if (o.help || o.command.empty()) {
    (o.help ? std::cout : std::cerr) << kUsage;
    return o.help ? kOk : kError;
  }
  if (o.file.empty()) return fail(o.command + " needs FILE");
  if (o.command == "create") return create(o);
  if (o.command == "verify") return cmd_restore(o, true);
  if (o.command == "restore") return cmd_restore(o, false);
  return fail("unknown command '" + o.command + "'\n" + kUsage);
}

}  // namespace avsink::cli

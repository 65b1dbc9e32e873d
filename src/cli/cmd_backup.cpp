// cmd_backup.cpp - `avsink backup create|verify|restore`: one archive of a gateway (config, rule
// and list files, sealed key files, the quarantine's export, a manifest), proven by restoring it.
// Exit status: 0 ok, 1 verify found a problem, 2 usage or any other error.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
#include <openssl/pem.h>

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
#include "util/text.h"

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
constexpr size_t kPiece = size_t{1} << 20;  // what create, verify and restore hold of a member

const char kUsage[] =
    "usage: avsink backup COMMAND FILE [options]\n"
    "\n"
    "  create FILE --config CONF   config, rule and list files, sealed key files, the quarantine\n"
    "                              (either backend) and a manifest with digests, in one archive\n"
    "  verify FILE                 restore into a scratch root and check everything there\n"
    "  restore FILE --root DIR     restore every file under DIR (DIR/<original path>) and the\n"
    "                              quarantine into its store (PostgreSQL: migrated first)\n"
    "\n"
    "  --passphrase-file F   the passphrase sealing the key files (else env\n"
    "                        AVSINK_BACKUP_PASSPHRASE; never on the command line)\n"
    "  --recipient-key PUB   create: seal the key files to an X25519 public key (PEM) instead\n"
    "  --identity KEY        verify, restore: the X25519 private key (PEM) that opens them\n"
    "Exit status: 0 ok, 1 verify found a problem, 2 usage or any other error.\n";

struct Options {
  std::string command, file, config, root, passphrase_file, recipient_key, identity;
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
                          : a == "--recipient-key"   ? &o->recipient_key
                          : a == "--identity"        ? &o->identity
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

constexpr std::string_view kSealPass = "pbkdf2-sha256-600000+aes-256-gcm";
constexpr std::string_view kSealX25519 = "x25519-sha256+aes-256-gcm";

struct PkeyFree {
  void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Reads an X25519 key (PEM) from `path`: public (SubjectPublicKeyInfo) or private (PKCS#8).
Result<Pkey> load_x25519(const std::string &path, bool want_private) {
  struct stat st {};
  auto pem = read_regular_file(path, 16384, &st);
  if (!pem) return pem.error();
  if (want_private && (st.st_mode & 077) != 0)
    return make_error(ErrorCode::kConfig, "identity key must not be readable by others (chmod 600)",
                      path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
  Pkey k(want_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                      : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  q::wipe(&*pem);
  if (!k || EVP_PKEY_get_id(k.get()) != EVP_PKEY_X25519)
    return make_error(ErrorCode::kConfig, "not an X25519 key in PEM form", path);
  return k;
}

std::string raw_public(EVP_PKEY *k) {
  std::string out(32, '\0');
  size_t len = out.size();
  EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char *>(out.data()), &len);
  out.resize(len);
  return out;
}

// The AES key both sides derive: SHA-256 over the X25519 shared secret and both public keys.
Result<q::Key> x25519_key(EVP_PKEY *mine, EVP_PKEY *theirs, const std::string &eph_pub,
                          const std::string &rcpt_pub) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(mine, nullptr),
                                                                  EVP_PKEY_CTX_free);
  std::string shared(32, '\0');
  size_t len = shared.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs) <= 0 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char *>(shared.data()), &len) <= 0)
    return make_error(ErrorCode::kConfig, "X25519 key agreement failed");
  std::string d = sha256_hex("avsink-backup-x25519-1\n" + shared + eph_pub + rcpt_pub);
  q::wipe(&shared);
  std::string raw;
  q::from_hex(d, &raw);
  q::Key k{};
  std::copy(raw.begin(), raw.end(), k.begin());
  q::wipe(&raw);
  return k;
}

// Seals a key file's bytes: salt(16) || seal() under the passphrase, or eph_pub(32) || seal()
// to the recipient. Returns (member data, method).
struct Sealer {
  std::string pass;
  Pkey recipient;
  Result<std::pair<std::string, std::string_view>> seal(const std::string &path,
                                                        const std::string &data) const {
    if (!recipient) {
      std::string salt = q::random_bytes(16);
      q::Key k = derive(pass, salt);
      std::string out = salt + q::seal(k, data, key_aad(path));
      q::wipe(&k);
      return std::make_pair(out, kSealPass);
    }
    Pkey eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    if (!eph) return make_error(ErrorCode::kInternal, "cannot make an X25519 key");
    const std::string eph_pub = raw_public(eph.get());
    auto k = x25519_key(eph.get(), recipient.get(), eph_pub, raw_public(recipient.get()));
    if (!k) return k.error();
    std::string out = eph_pub + q::seal(*k, data, key_aad(path));
    q::wipe(&*k);
    return std::make_pair(out, kSealX25519);
  }
};

// Opens what Sealer::seal made, with the passphrase or the identity key.
struct Opener {
  std::string pass;
  Pkey identity;
  Result<std::string> open(const std::string &path, const std::string &data,
                           const std::string &method) const {
    if (method == kSealPass) {
      if (pass.empty())
        return make_error(ErrorCode::kConfig, "key file " + path + " needs the passphrase");
      if (data.size() < 16) return make_error(ErrorCode::kIo, "backup: sealed key too short");
      q::Key k = derive(pass, std::string_view(data).substr(0, 16));
      auto plain = q::open_sealed(k, std::string_view(data).substr(16), key_aad(path));
      q::wipe(&k);
      if (!plain)
        return make_error(ErrorCode::kConfig,
                          "key file " + path + " does not decrypt (wrong passphrase?)");
      return plain;
    }
    if (method == kSealX25519) {
      if (!identity)
        return make_error(ErrorCode::kConfig, "key file " + path + " needs --identity KEY");
      if (data.size() < 32) return make_error(ErrorCode::kIo, "backup: sealed key too short");
      const std::string eph_pub = data.substr(0, 32);
      Pkey eph(EVP_PKEY_new_raw_public_key(
          EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char *>(eph_pub.data()), 32));
      if (!eph) return make_error(ErrorCode::kIo, "backup: bad ephemeral key for " + path);
      auto k = x25519_key(identity.get(), eph.get(), eph_pub, raw_public(identity.get()));
      if (!k) return k.error();
      auto plain = q::open_sealed(*k, std::string_view(data).substr(32), key_aad(path));
      q::wipe(&*k);
      if (!plain)
        return make_error(ErrorCode::kConfig,
                          "key file " + path + " does not decrypt (wrong identity key?)");
      return plain;
    }
    return make_error(ErrorCode::kIo, "backup: unknown sealing '" + method + "' for " + path);
  }
};

// The backend options a configuration names, as the gateway opens them (paths under `root`).
q::BackendOptions backend_of(const Config &cfg, const std::string &root) {
  q::BackendOptions bo;
  bo.backend = cfg.quarantine_backend;
  bo.fs.dir = root + cfg.quarantine_dir;
  bo.fs.key_file = cfg.quarantine_key_file.empty() ? "" : root + cfg.quarantine_key_file;
  bo.fs.release_secret_file = cfg.release_secret_file.empty() ? "" : root + cfg.release_secret_file;
  bo.fs.retention_seconds = static_cast<int64_t>(cfg.retention_days) * 86400;
  if (bo.backend == "postgresql") {
    auto ci = q::pg_conninfo(cfg.pg_conninfo,
                             cfg.pg_conninfo_file.empty() ? "" : root + cfg.pg_conninfo_file);
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
  Sealer sealer;
  if (!keys.empty() && !o.recipient_key.empty()) {
    auto r = load_x25519(o.recipient_key, false);
    if (!r) return fail(r.error().describe());
    sealer.recipient = std::move(*r);
  } else if (!keys.empty()) {
    auto p = passphrase(o);
    if (!p) return fail(p.error().describe());
    sealer.pass = *p;
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
  q::Fd qfd(::open(qtmp.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat qst {};
  if (!qfd.valid() || ::fstat(qfd.get(), &qst) != 0) return fail("cannot read " + qtmp);
  const auto qsize = static_cast<uint64_t>(qst.st_size);
  if (qsize > kMaxQuarantine) return fail("quarantine export too large: " + qtmp);
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
    auto sealed = sealer.seal(path, *data);
    if (!sealed) return fail(sealed.error().describe());
    std::string member = std::string(kPrefix) + "keys/" + std::to_string(n++);
    if (auto r = q::tar_add(sink, member, sealed->first, now); !r)
      return fail(r.error().describe());
    files.push_back({{"member", member},
                     {"path", path},
                     {"kind", "key"},
                     {"mode", 0600},
                     {"size", data->size()},
                     {"sha256", sha256_hex(*data)},
                     {"sealed", sealed->second}});
    q::wipe(&*data);
  }
  // The quarantine's export, copied a piece at a time (it may be far larger than memory).
  std::string qmember = std::string(kPrefix) + "quarantine.tar";
  Sha256 qhash;
  if (auto r = q::tar_begin_member(sink, qmember, qsize, now); !r)
    return fail(r.error().describe());
  for (uint64_t off = 0; off < qsize;) {
    auto piece = q::pread_exact(qfd.get(), off,
                                static_cast<size_t>(std::min<uint64_t>(qsize - off, kPiece)), qtmp);
    if (!piece) return fail(piece.error().describe());
    qhash.update(*piece);
    if (auto r = sink(*piece); !r) return fail(r.error().describe());
    off += piece->size();
  }
  if (auto r = q::tar_end_member(sink, qsize); !r) return fail(r.error().describe());
  nlohmann::json manifest = {{"format", kFormat},
                             {"version", 1},
                             {"created", util::iso8601_utc_now_ms()},
                             {"config", absolute(o.config)},
                             {"files", files},
                             {"quarantine",
                              {{"member", qmember},
                               {"backend", cfg->quarantine_backend},
                               {"entries", entries ? entries->size() : 0},
                               {"size", qsize},
                               {"sha256", qhash.final_hex()}}}};
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

// A backup checked against its manifest: every member's size and SHA-256 (read a piece at a
// time; only the manifest is kept), nothing missing, nothing extra.
struct Backup {
  std::string path;
  nlohmann::json manifest;
  std::map<std::string, std::pair<uint64_t, std::string>> members;  // name -> (size, SHA-256)
};

// Hands a member to `f` in kPiece pieces.
Result<void> each_piece(const q::MemberReader &read, const q::Sink &f) {
  return q::tar_member_pieces(read, kPiece, f);
}

Result<Backup> read_backup(const std::string &path) {
  q::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ErrorCode::kIo, "cannot open", path);
  Backup b;
  b.path = path;
  const std::string manifest_member = std::string(kPrefix) + "manifest.json";
  std::string manifest_text;
  auto on_member = [&](const q::TarMember &m, const q::MemberReader &read) -> Result<void> {
    if (m.name.rfind(kPrefix, 0) != 0 || b.members.count(m.name))
      return make_error(ErrorCode::kIo, "backup: unexpected member " + m.name, path);
    if (m.name == manifest_member && m.size > kMaxFile)
      return make_error(ErrorCode::kIo, "backup: manifest too large", path);
    Sha256 h;
    auto r = each_piece(read, [&](std::string_view d) -> Result<void> {
      h.update(d);
      if (m.name == manifest_member) manifest_text.append(d);
      return {};
    });
    if (!r) return r;
    b.members[m.name] = {m.size, h.final_hex()};
    return {};
  };
  if (auto r = q::tar_read(fd.get(), path, on_member); !r) return r.error();
  if (!b.members.count(manifest_member))
    return make_error(ErrorCode::kIo, "backup: no manifest", path);
  b.manifest = nlohmann::json::parse(manifest_text, nullptr, false);
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
      if (!f.contains("sealed") && m->second.second != f.at("sha256").get<std::string>())
        return make_error(ErrorCode::kIo,
                          "backup: digest mismatch for " + f.at("path").get<std::string>(), path);
    }
    const auto &qm = b.manifest.at("quarantine");
    auto m = b.members.find(qm.at("member").get<std::string>());
    if (m == b.members.end() || m->second.second != qm.at("sha256").get<std::string>())
      return make_error(ErrorCode::kIo, "backup: the quarantine does not match the manifest", path);
    if (listed != b.members.size())
      return make_error(ErrorCode::kIo, "backup: members not in the manifest", path);
  } catch (const nlohmann::json::exception &e) {
    return make_error(ErrorCode::kIo, std::string("backup: malformed manifest: ") + e.what(), path);
  }
  return b;
}

// Creates `path` (never replacing a file) from a member streamed in pieces; its SHA-256 must be
// `sha256` (the archive may have changed since read_backup checked it): else the file is removed.
Result<void> write_member(const std::string &path, const q::MemberReader &read, unsigned mode,
                          const std::string &sha256) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create directory: " + ec.message(), path);
  q::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return q::io_error("cannot create (exists?)", path);
  Sha256 h;
  auto r = each_piece(read, [&](std::string_view d) {
    h.update(d);
    return q::write_all(fd.get(), d, path);
  });
  if (r && h.final_hex() != sha256)
    r = make_error(ErrorCode::kIo, "backup: changed while restoring", path);
  if (r && (::fchmod(fd.get(), mode & 0777) != 0 || ::fsync(fd.get()) != 0))
    r = q::io_error("cannot finish", path);
  if (!r) ::unlink(path.c_str());
  return r;
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
  std::string config;                           // the restored config's path
  std::optional<std::pair<int, int>> migrated;  // PostgreSQL schema version before, after
  std::string store;                            // where the quarantine went
};

// Restores everything under `root`. The quarantine is imported into a filesystem store at
// root + its directory (filesystem backend), or into the database the restored configuration
// names (PostgreSQL: its schema migrated first, then one verified import). With `scratch` (backup
// verify) a PostgreSQL quarantine is left as root/avsink-quarantine-export.tar instead: a
// verification never writes to a database.
Result<Restored> restore(const Backup &b, const std::string &root, const Opener &opener,
                         bool scratch) {
  Restored out;
  std::map<std::string, const nlohmann::json *> by_member;
  for (const auto &f : b.manifest.at("files")) by_member[f.at("member").get<std::string>()] = &f;
  const std::string qmember = b.manifest.at("quarantine").at("member").get<std::string>();
  const std::string qfile = root + "/avsink-quarantine-export.tar";
  q::Fd fd(::open(b.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ErrorCode::kIo, "cannot open", b.path);
  auto on_member = [&](const q::TarMember &m, const q::MemberReader &read) -> Result<void> {
    const std::string &sha = b.members.count(m.name) ? b.members.at(m.name).second : "";
    if (m.name == qmember) return write_member(qfile, read, 0600, sha);
    auto it = by_member.find(m.name);
    if (it == by_member.end())  // the manifest (checked by read_backup)
      return each_piece(read, [](std::string_view) -> Result<void> { return {}; });
    const nlohmann::json &f = *it->second;
    const std::string path = f.at("path").get<std::string>();
    if (!f.contains("sealed")) {
      if (auto w = write_member(root + path, read, f.at("mode").get<unsigned>(), sha); !w) return w;
      ++out.files;
      return {};
    }
    if (m.size > 65536) return make_error(ErrorCode::kIo, "backup: sealed key too large: " + path);
    std::string data;
    auto r = each_piece(read, [&](std::string_view d) -> Result<void> {
      data.append(d);
      return {};
    });
    if (!r) return r;
    auto plain = opener.open(path, data, f.at("sealed").get<std::string>());
    if (!plain) return plain.error();
    if (sha256_hex(*plain) != f.at("sha256").get<std::string>())
      return make_error(ErrorCode::kIo, "backup: digest mismatch for key " + path);
    auto w = write_file(root + path, *plain, 0600);
    q::wipe(&*plain);
    if (!w) return w.error();
    ++out.keys;
    return {};
  };
  if (auto r = q::tar_read(fd.get(), b.path, on_member); !r) return r.error();
  out.config = root + b.manifest.at("config").get<std::string>();
  auto cfg = load_config(out.config);
  if (!cfg) return cfg.error();
  const bool pg = cfg->quarantine_backend == "postgresql";
  if (pg && scratch) return out;
  auto bo = backend_of(*cfg, root);
  if (pg) {
    if (bo.pg.conninfo.empty())
      return make_error(ErrorCode::kConfig,
                        "restore: the restored configuration names no "
                        "PostgreSQL connection string");
    auto m = q::pg_migrate(bo.pg.conninfo, bo.pg.timeout_ms);
    if (!m) return m.error();
    out.migrated = *m;
  } else {
    std::error_code ec;
    fs::create_directories(fs::path(bo.fs.dir).parent_path(), ec);
  }
  auto store = q::open_backend(bo, nullptr);
  if (!store) return store.error();
  auto n = (*store)->import_from(qfile);
  if (!n) return n.error();
  out.entries = *n;
  out.store = (*store)->dir();
  ::unlink(qfile.c_str());
  return out;
}

int cmd_restore(const Options &o, bool verify_only) {
  auto b = read_backup(o.file);
  if (!b) return fail(b.error().describe());
  bool has_pass_keys = false;
  for (const auto &f : b->manifest.at("files"))
    has_pass_keys |= f.contains("sealed") && f.at("sealed") == kSealPass;
  Opener opener;
  if (!o.identity.empty()) {
    auto k = load_x25519(o.identity, true);
    if (!k) return fail(k.error().describe());
    opener.identity = std::move(*k);
  }
  if (has_pass_keys) {
    auto p = passphrase(o);
    if (!p) return fail(p.error().describe());
    opener.pass = *p;
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
  auto r = restore(*b, root, opener, verify_only);
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
    if (r->migrated)
      std::printf("quarantine schema: version %d -> %d\n", r->migrated->first, r->migrated->second);
    std::printf("quarantine: %zu entries imported into %s\n", r->entries, r->store.c_str());
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

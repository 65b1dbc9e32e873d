// backend.cpp - what every quarantine backend shares: release marks and their single use, the
// audit hook, the export manifest check. Storage itself is the subclasses' (store, pg_store).
#include "quarantine/backend.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <map>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/fs_util.h"
#include "quarantine/release_mark.h"
#include "quarantine/smtp_release.h"
#include "util/text.h"

namespace avsink::quarantine {

Backend::~Backend() {
  if (key_) wipe(&*key_);
  wipe(&release_secret_);
}

int64_t Backend::now() const {
  return clock_ ? clock_() : static_cast<int64_t>(std::time(nullptr));
}

Result<void> Backend::audit(std::string_view event, const nlohmann::json &fields) {
  if (!audit_) return {};
  return audit_->record(event, fields);
}

Result<void> Backend::load_keys(const std::string &key_file,
                                const std::string &release_secret_file) {
  if (!key_file.empty()) {
    auto key = load_key_file(key_file);
    if (!key) return key.error();
    key_ = *key;
    wipe(&*key);
  }
  if (!release_secret_file.empty()) {
    auto sec = load_secret_file(release_secret_file);
    if (!sec) return sec.error();
    release_secret_ = std::move(*sec);
  } else if (key_) {
    release_secret_ = derive_release_secret(*key_);
  }
  return {};
}

Result<size_t> Backend::purge_expired(const std::string &by) {
  if (retention_seconds_ == 0) return size_t{0};
  return purge_older_than(retention_seconds_, by);
}

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

Result<std::string> load_secret_file(const std::string &path) {
  auto k = load_key_file(path);
  if (!k) return k.error();
  std::string s(reinterpret_cast<const char *>(k->data()), k->size());
  wipe(&*k);
  return s;
}

std::string derive_release_secret(const Key &key) {
  return hmac_sha256(std::string_view(reinterpret_cast<const char *>(key.data()), key.size()),
                     "avsink quarantine release secret v1");
}

std::string id_of_entry_file(std::string_view name) {
  if (name.size() != 32 + kEntrySuffix.size() || name.substr(32) != kEntrySuffix) return {};
  std::string id(name.substr(0, 32));
  return valid_id(id) ? id : std::string();
}

std::string entry_file_name(const std::string &id) {
  return id + std::string(kEntrySuffix);
}

Result<void> classify_archive_member(const TarMember &m, const MemberReader &read,
                                     const std::string &archive_path, bool *have_manifest,
                                     std::string *manifest_text, std::string *entry_id) {
  auto bad = [&](const std::string &what) {
    return make_error(ErrorCode::kIo, "import: " + what, archive_path);
  };
  entry_id->clear();
  if (m.name == kArchiveManifest) {
    if (*have_manifest) return bad("two manifests");
    if (m.size > (256u << 20)) return bad("manifest too large");
    *have_manifest = true;
    return tar_member_pieces(read, kStreamPiece, [&](std::string_view d) -> Result<void> {
      manifest_text->append(d);
      return {};
    });
  }
  const std::string_view n = m.name;
  if (n.rfind(kArchiveEntries, 0) == 0)
    *entry_id = id_of_entry_file(n.substr(kArchiveEntries.size()));
  if (entry_id->empty()) return bad("unexpected member " + m.name);
  return {};
}

Result<void> check_manifest(
    const std::string &manifest_text,
    const std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> &seen,
    const std::string &archive_path) {
  auto bad = [&](const std::string &what) {
    return make_error(ErrorCode::kIo, "import: " + what, archive_path);
  };
  std::map<std::string, std::pair<uint64_t, std::string>> by_id(seen.begin(), seen.end());
  auto j = nlohmann::json::parse(manifest_text, nullptr, false);
  try {
    if (j.is_discarded() || j.at("format") != kArchiveFormat || j.at("version") != 1)
      return bad("not an avsink quarantine archive manifest");
    const auto &list = j.at("entries");
    if (list.size() != by_id.size() || j.at("count").get<size_t>() != by_id.size())
      return bad("manifest lists " + std::to_string(list.size()) + " entries, archive holds " +
                 std::to_string(by_id.size()));
    for (const auto &e : list) {
      std::string id = e.at("id").get<std::string>();
      auto it = by_id.find(id);
      if (it == by_id.end()) return bad("manifest entry missing from archive: " + id);
      if (e.at("size").get<uint64_t>() != it->second.first ||
          e.at("sha256").get<std::string>() != it->second.second)
        return bad("entry does not match the manifest (size or SHA-256): " + id);
    }
  } catch (const nlohmann::json::exception &ex) {
    return bad(std::string("malformed manifest: ") + ex.what());
  }
  return {};
}

Result<EntryMeta> Backend::read_message(const std::string &id, const ByteSink &out,
                                        std::string *file_sha256) const {
  if (!valid_id(id))
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid quarantine id (want 32 lowercase hex characters)");
  EntryReader reader(id, key(), out);
  if (auto r = stream_entry_file(id, nullptr, [&](std::string_view d) { return reader.feed(d); });
      !r)
    return r.error();
  auto m = reader.finish();
  if (m && file_sha256) *file_sha256 = reader.file_sha256();
  return m;
}

Result<std::string> Backend::message(const std::string &id) const {
  std::string msg;
  auto m = read_message(id, [&](std::string_view d) -> Result<void> {
    msg.append(d);
    return {};
  });
  if (!m) {
    wipe(&msg);
    return m.error();
  }
  return msg;
}

Result<void> write_export(const std::string &archive_path, std::vector<std::string> ids,
                          const Backend &store, const Key *key, int64_t now) {
  if (archive_path.empty()) return make_error(ErrorCode::kInvalidArgument, "export: no file name");
  std::sort(ids.begin(), ids.end());
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
  for (const auto &id : ids) {
    // The entry's bytes go into the archive and through a verifying reader at the same time; a
    // member that fails leaves a broken archive behind, which is then refused as a whole.
    const std::string member = std::string(kArchiveEntries) + id + std::string(kEntrySuffix);
    EntryReader reader(id, key);
    std::optional<Error> invalid;  // the entry failed verification (not the store)
    uint64_t size = 0;
    auto r = store.stream_entry_file(
        id,
        [&](uint64_t n) {
          size = n;
          return tar_begin_member(sink, member, n, now);
        },
        [&](std::string_view d) -> Result<void> {
          if (auto v = reader.feed(d); !v) {
            invalid = v.error();
            return v;
          }
          return sink(d);
        });
    std::optional<EntryMeta> meta;
    if (r && !invalid) {
      auto m = reader.finish();
      if (m)
        meta = std::move(*m);
      else
        invalid = m.error();
    }
    if (!r && !invalid) {
      if (r.error().message.rfind("no such quarantine entry", 0) == 0) continue;
      if (r.error().code == ErrorCode::kTimeout || r.error().code == ErrorCode::kConfig ||
          r.error().message.rfind("postgresql:", 0) == 0 || reader.bytes_fed() > 0)
        return r.error();  // the store or the archive failed, not this entry
      invalid = r.error();
    }
    if (invalid) {
      bad.push_back(id + ": " + invalid->message);
      continue;
    }
    if (auto e = tar_end_member(sink, size); !e) return e;
    entries.push_back({{"id", id},
                       {"file", member},
                       {"size", size},
                       {"sha256", reader.file_sha256()},
                       {"time", meta->time}});
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
                             {"encrypted", key != nullptr},
                             {"count", entries.size()},
                             {"entries", entries}};
  if (auto r = tar_add(sink, std::string(kArchiveManifest), manifest.dump(1), now); !r) return r;
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

std::string release_rcpt_key(std::string_view a) {
  while (!a.empty() && (a.front() == ' ' || a.front() == '<')) a.remove_prefix(1);
  while (!a.empty() && (a.back() == ' ' || a.back() == '>')) a.remove_suffix(1);
  return util::ascii_lower(a);
}

std::string Backend::release_mark(const std::string &id, std::string_view message) const {
  return make_release_mark(release_secret_, id, now(), message);
}

std::string Backend::release_mark(const std::string &id) const {
  auto m = message(id);
  if (!m) return {};
  return release_mark(id, *m);
}

bool Backend::verify_release_mark(std::string_view header_value, std::string_view message) const {
  return check_release_mark(release_secret_, header_value, message, now(),
                            release_mark_max_age_seconds_);
}

ReleaseCheck Backend::check_release(std::string_view message) const {
  ReleaseCheck rc;
  auto values = header_values(message, kReleaseHeader);
  if (values.empty()) return rc;
  rc.present = true;
  const std::string digest = release_digest_hex(message);  // once, however many marks
  const int64_t t = now();
  for (size_t i = 0; i < values.size() && i < kMaxMarksChecked; ++i) {
    if (check_release_mark_digest(release_secret_, values[i], digest, t,
                                  release_mark_max_age_seconds_)) {
      rc.valid = true;
      rc.id = parse_release_mark(values[i])->id;
      break;
    }
  }
  return rc;
}

ReleaseCheck Backend::use_release(std::string_view message,
                                  const std::vector<std::string> &rcpt_to) {
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
  if (rcpt_to.empty()) return refuse("no envelope recipients to check");
  std::vector<std::string> keys;
  for (const auto &r : rcpt_to) keys.push_back(release_rcpt_key(r));
  if (std::string why = claim_release(rc.id, mark->time, keys); !why.empty()) return refuse(why);
  (void)audit("quarantine.release_used", {{"id", rc.id}, {"to", keys}});
  rc.valid = true;
  return rc;
}

Result<std::string> Backend::prepare_release(const std::string &id, std::string_view message,
                                             const std::vector<std::string> &rcpts) {
  if (rcpts.empty()) return make_error(ErrorCode::kInvalidArgument, "release: no recipients");
  std::string copy = make_released_copy(id, message);
  // The record that binds this mark to these recipients and lets it through once (use_release).
  auto mark = parse_release_mark(header_values(copy, kReleaseHeader).front());
  if (!mark) return make_error(ErrorCode::kInternal, "release: the new mark does not parse");
  std::vector<std::string> keys;
  for (const auto &r : rcpts) keys.push_back(release_rcpt_key(r));
  if (auto w = record_release(id, mark->time, keys); !w)
    return make_error(ErrorCode::kIo, "not released: the release record could not be written: " +
                                          w.error().message);
  return copy;
}

std::string Backend::make_released_copy(const std::string &id, std::string_view message) const {
  std::string stripped = remove_header(message, kReleaseHeader);
  std::string mark = release_mark(id, stripped);
  return prepend_header(stripped, kReleaseHeader, mark);
}

Result<std::string> Backend::release(const std::string &id, const ReleaseOptions &o) {
  if (!valid_id(id))
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid quarantine id (want 32 lowercase hex characters)");
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

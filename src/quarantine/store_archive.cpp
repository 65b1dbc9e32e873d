// store_archive.cpp - the filesystem store's export and import (the archive format of
// archive.h and backend.h): staged in tmp/, verified streamed, committed by rename.
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/store.h"

namespace avsink::quarantine {

namespace {

// Unlinks staged temp files on scope exit (import failure paths); commit() empties the list.
struct StagedFiles {
  int dir_fd = -1;
  std::vector<std::string> names;
  ~StagedFiles() {
    for (const auto &n : names) ::unlinkat(dir_fd, n.c_str(), 0);
  }
};

}  // namespace

Result<void> Store::export_to(const std::string &archive_path) const {
  if (archive_path.empty()) return make_error(ErrorCode::kInvalidArgument, "export: no file name");
  auto names = list_dir(entries_fd_.get(), dir_ + "/entries");
  if (!names) return names.error();
  std::vector<std::string> ids;
  for (const auto &name : *names)
    if (std::string id = id_of_entry_file(name); !id.empty())
      ids.push_back(id);  // strays: verify() says
  return write_export(archive_path, ids, *this, key(), now());
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
    std::string id;
    if (auto c =
            classify_archive_member(m, read, archive_path, &have_manifest, &manifest_text, &id);
        !c || id.empty())
      return c;  // an error, or the manifest (read)
    if (staged.count(id)) return bad("entry twice in the archive: " + id);
    Staged st;
    st.temp = temp_name("import");
    Fd out(::openat(tmp_fd_.get(), st.temp.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return io_error("cannot create staging file", dir_ + "/tmp/" + st.temp);
    cleanup.names.push_back(st.temp);
    Sha256 h;
    auto copied = tar_member_pieces(read, kStreamPiece, [&](std::string_view d) -> Result<void> {
      h.update(d);
      st.size += d.size();
      return write_all(out.get(), d, dir_ + "/tmp/" + st.temp);
    });
    if (!copied) return copied;
    if (::fsync(out.get()) != 0) return io_error("fsync failed", dir_ + "/tmp/" + st.temp);
    st.sha256 = h.final_hex();
    staged.emplace(id, std::move(st));
    return {};
  };
  if (auto r = tar_read(fd.get(), archive_path, on_member); !r) return r.error();
  if (!have_manifest) return bad("no manifest");

  // 1. The manifest lists exactly the staged entries, with matching sizes and digests.
  std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> seen;
  for (const auto &[id, st] : staged) seen.push_back({id, {st.size, st.sha256}});
  if (auto c = check_manifest(manifest_text, seen, archive_path); !c) return c.error();

  // 2. Every entry verifies with this store's key; conflicts with existing entries are found.
  std::vector<std::string> to_commit;
  for (const auto &[id, st] : staged) {
    Fd in(::openat(tmp_fd_.get(), st.temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return io_error("cannot reopen staging file", dir_ + "/tmp/" + st.temp);
    EntryReader reader(id, key());
    auto fed = stream_file(
        in.get(), st.size, [&](std::string_view d) { return reader.feed(d); },
        dir_ + "/tmp/" + st.temp, kStreamPiece);
    auto e = fed ? reader.finish() : Result<EntryMeta>(fed.error());
    if (!e) return bad("entry " + id + " does not verify: " + e.error().message);
    if (exists(id)) {
      Sha256 cur;
      uint64_t cur_size = 0;
      auto r = stream_entry_file(id, nullptr, [&](std::string_view d) -> Result<void> {
        cur.update(d);
        cur_size += d.size();
        return {};
      });
      if (r && cur_size == st.size && cur.final_hex() == st.sha256)
        continue;  // already here, identical: nothing to do
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
    if (::renameat2(tmp_fd_.get(), st.temp.c_str(), entries_fd_.get(), entry_file_name(id).c_str(),
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

}  // namespace avsink::quarantine

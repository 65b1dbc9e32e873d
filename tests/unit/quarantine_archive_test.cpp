// quarantine_archive_test.cpp - export -> wipe -> import -> verify gives identical entries; an
// archive that is damaged, incomplete, unsafe or conflicting commits nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <sys/stat.h>

#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/store.h"
#include "test_support.h"

namespace q = avsink::quarantine;
namespace fs = std::filesystem;

namespace {

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = avsink::test::make_temp_dir("avsink-qarch-");
    opts_.dir = root_ + "/store";
  }
  void TearDown() override { fs::remove_all(root_); }

  // id -> raw entry file bytes, for comparing stores byte by byte.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> out;
    for (const auto &e : fs::directory_iterator(opts_.dir + "/entries"))
      out[e.path().filename().string()] = avsink::test::read_file(e.path().string());
    return out;
  }
  std::vector<std::string> fill(q::Store &s, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      q::EntryMeta m;
      m.time = 1'700'000'000 + i;
      m.envelope.mail_from = "s" + std::to_string(i) + "@example.net";
      m.envelope.rcpt_to = {"r@example.com"};
      avsink::Finding f;
      f.kind = avsink::FindingKind::kBannedAttachment;
      f.inspector = "attachments";
      f.name = "Banned.Extension.exe";
      m.findings = {f};
      std::string msg = "Subject: " + std::to_string(i) + "\n\n" + std::string(i * 977, 'x');
      ids.push_back(s.put(msg, m).value());
    }
    return ids;
  }

  std::string root_;
  q::StoreOptions opts_;
};

TEST_F(ArchiveTest, ExportWipeImportVerifyGivesIdenticalEntries) {
  for (bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted ? "encrypted" : "plain");
    opts_.dir = root_ + (encrypted ? "/enc" : "/plain");
    if (encrypted) {
      opts_.key_file = root_ + "/key";
      std::ofstream(opts_.key_file) << std::string(64, 'a');
      ::chmod(opts_.key_file.c_str(), 0600);
    }
    auto s = q::Store::open(opts_, nullptr).value();
    fill(*s, 12);
    auto before = snapshot();
    auto before_list = s->list().value();
    std::string archive = root_ + (encrypted ? "/enc.tar" : "/plain.tar");
    auto ex = s->export_to(archive);
    ASSERT_TRUE(ex.ok()) << ex.error().describe();
    struct stat st {};
    ASSERT_EQ(::stat(archive.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    s.reset();
    fs::remove_all(opts_.dir);  // wipe (the release key goes too: it is not part of a backup)
    s = q::Store::open(opts_, nullptr).value();
    EXPECT_TRUE(s->list()->empty());
    auto n = s->import_from(archive);
    ASSERT_TRUE(n.ok()) << n.error().describe();
    EXPECT_EQ(*n, 12u);
    auto rep = s->verify().value();
    EXPECT_EQ(rep.ok, 12u);
    EXPECT_TRUE(rep.bad.empty());
    EXPECT_EQ(snapshot(), before) << "entry files differ after the round trip";
    auto after_list = s->list().value();
    ASSERT_EQ(after_list.size(), before_list.size());
    for (size_t i = 0; i < after_list.size(); ++i) {
      EXPECT_EQ(q::meta_to_json(after_list[i]), q::meta_to_json(before_list[i]));
      EXPECT_EQ(s->message(after_list[i].id).value().size(), after_list[i].size);
    }
    // Importing the same archive again adds nothing and changes nothing.
    EXPECT_EQ(s->import_from(archive).value(), 0u);
    EXPECT_EQ(snapshot(), before);
    EXPECT_TRUE(fs::is_empty(opts_.dir + "/tmp"));
  }
}

TEST_F(ArchiveTest, AnyDamageCommitsNothing) {
  auto s = q::Store::open(opts_, nullptr).value();
  fill(*s, 4);
  std::string archive = root_ + "/a.tar";
  ASSERT_TRUE(s->export_to(archive).ok());
  const std::string pristine = avsink::test::read_file(archive);
  auto target_opts = opts_;
  target_opts.dir = root_ + "/target";
  auto target = q::Store::open(target_opts, nullptr).value();

  struct Case {
    const char *what;
    std::string bytes;
  };
  std::vector<Case> cases;
  // A byte of entry data flipped (first member's data starts at 512).
  std::string flipped = pristine;
  flipped[512 + 100] ^= 0x20;
  cases.push_back({"entry byte flipped", flipped});
  cases.push_back({"truncated", pristine.substr(0, pristine.size() / 2)});
  cases.push_back({"no end marker", pristine.substr(0, pristine.size() - 1024)});
  std::string bad_header = pristine;
  bad_header[10] ^= 1;  // name byte: header checksum fails
  cases.push_back({"header checksum", bad_header});
  cases.push_back({"empty file", ""});
  cases.push_back({"not a tar", std::string(4096, 'z')});
  for (const auto &c : cases) {
    std::string p = root_ + "/damaged.tar";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << c.bytes;
    auto r = target->import_from(p);
    EXPECT_FALSE(r.ok()) << c.what << ": import accepted";
    EXPECT_TRUE(target->list()->empty()) << c.what << ": something was committed";
    EXPECT_TRUE(fs::is_empty(target_opts.dir + "/tmp")) << c.what << ": staging files left";
  }
}

TEST_F(ArchiveTest, ManifestMustMatchAndNamesMustBeSafe) {
  auto sink_to = [](std::string *out) {
    return q::Sink([out](std::string_view d) -> avsink::Result<void> {
      out->append(d);
      return {};
    });
  };
  auto s = q::Store::open(opts_, nullptr).value();
  auto ids = fill(*s, 2);
  std::string e0 = avsink::test::read_file(opts_.dir + "/entries/" + ids[0] + ".avq");
  std::string e1 = avsink::test::read_file(opts_.dir + "/entries/" + ids[1] + ".avq");
  auto manifest = [&](std::vector<std::pair<std::string, std::string>> entries) {
    nlohmann::json list = nlohmann::json::array();
    for (auto &[id, bytes] : entries)
      list.push_back({{"id", id},
                      {"file", "avsink-quarantine/entries/" + id + ".avq"},
                      {"size", bytes.size()},
                      {"sha256", avsink::sha256_hex(bytes)}});
    return nlohmann::json{{"format", "avsink-quarantine-archive"},
                          {"version", 1},
                          {"count", list.size()},
                          {"entries", list}}
        .dump();
  };
  auto member = [](const std::string &id) { return "avsink-quarantine/entries/" + id + ".avq"; };
  struct Case {
    const char *what;
    std::function<void(std::string *)> build;
    const char *want = "";  // in the error, when set
  } cases[] = {
      {"entry missing from manifest",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0);
         (void)q::tar_add(sink_to(o), member(ids[1]), e1, 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json", manifest({{ids[0], e0}}),
                          0);
       }},
      {"manifest entry missing from archive",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json",
                          manifest({{ids[0], e0}, {ids[1], e1}}), 0);
       }},
      {"entry under another id's name",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), member(ids[1]), e0, 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json", manifest({{ids[1], e0}}),
                          0);
       }},
      {"no manifest", [&](std::string *o) { (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0); }},
      {"two manifests",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0);
         for (int i = 0; i < 2; ++i)
           (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json", manifest({{ids[0], e0}}),
                            0);
       },
       "two manifests"},
      {"entry twice",
       [&](std::string *o) {
         for (int i = 0; i < 2; ++i) (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json", manifest({{ids[0], e0}}),
                          0);
       },
       "entry twice in the archive"},
      {"a member that is no entry file",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), member(ids[0]), e0, 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/entries/notes.txt", "x", 0);
         (void)q::tar_add(sink_to(o), "avsink-quarantine/manifest.json", manifest({{ids[0], e0}}),
                          0);
       },
       "unexpected member"},
      {"path traversal",
       [&](std::string *o) {
         (void)q::tar_add(sink_to(o), "avsink-quarantine/../../etc/passwd", "x", 0);
       }},
      {"absolute path",
       [&](std::string *o) { (void)q::tar_add(sink_to(o), "/etc/passwd", "x", 0); }},
  };
  auto target_opts = opts_;
  target_opts.dir = root_ + "/target";
  auto target = q::Store::open(target_opts, nullptr).value();
  for (const auto &c : cases) {
    std::string bytes;
    c.build(&bytes);
    (void)q::tar_finish(sink_to(&bytes));
    std::string p = root_ + "/crafted.tar";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    auto r = target->import_from(p);
    EXPECT_FALSE(r.ok()) << c.what << ": import accepted";
    if (!r.ok() && *c.want) {
      EXPECT_NE(r.error().message.find(c.want), std::string::npos)
          << c.what << ": " << r.error().message;
    }
    EXPECT_TRUE(target->list()->empty()) << c.what;
    EXPECT_TRUE(fs::is_empty(target_opts.dir + "/tmp")) << c.what;
  }
  EXPECT_FALSE(fs::exists(root_ + "/etc/passwd"));
}

TEST_F(ArchiveTest, ConflictingEntryAbortsBeforeAnyCommit) {
  auto s = q::Store::open(opts_, nullptr).value();
  auto ids = fill(*s, 3);
  std::string archive = root_ + "/a.tar";
  ASSERT_TRUE(s->export_to(archive).ok());
  // Replace one entry with a different valid entry under the same id (an impossible-in-practice
  // id collision, which import must still refuse rather than overwrite).
  q::EntryMeta m;
  m.id = ids[1];
  m.sha256 = avsink::sha256_hex("other\n");
  m.size = 6;
  ASSERT_TRUE(s->remove(ids[0], "t").ok());
  ASSERT_TRUE(s->remove(ids[1], "t").ok());
  std::ofstream(opts_.dir + "/entries/" + ids[1] + ".avq", std::ios::binary)
      << q::encode_entry(m, "other\n", nullptr);
  auto r = s->import_from(archive);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, avsink::ErrorCode::kState);
  EXPECT_FALSE(s->exists(ids[0])) << "an entry was committed although the import failed";
}

TEST_F(ArchiveTest, ExportRefusesACorruptStore) {
  auto s = q::Store::open(opts_, nullptr).value();
  auto ids = fill(*s, 2);
  std::ofstream(opts_.dir + "/entries/" + ids[0] + ".avq", std::ios::app) << "junk";
  auto r = s->export_to(root_ + "/x.tar");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("verification"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(root_ + "/x.tar"));
  for (const auto &e : fs::directory_iterator(root_))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "temp left: " << e.path();
}

}  // namespace

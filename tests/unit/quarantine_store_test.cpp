// quarantine_store_test.cpp - the quarantine Store: put/get, ids, modes, encryption, tampering,
// delete/purge auditing, verify, concurrent writers. Each test uses its own temp directory.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "quarantine/store.h"
#include "test_support.h"

namespace q = avsink::quarantine;
namespace fs = std::filesystem;

namespace {

const char kMessage[] =
    "From: a@example.net\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody line\r\n";

std::string write_key(const std::string &dir, const std::string &name, std::string contents,
                      mode_t mode = 0600) {
  std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << contents;
  ::chmod(p.c_str(), mode);
  return p;
}

std::string hex_key(char fill) {
  return std::string(64, fill) + "\n";
}

q::EntryMeta sample_meta() {
  q::EntryMeta m;
  m.envelope.client_address = "192.0.2.1";
  m.envelope.helo = "mx.example.net";
  m.envelope.mail_from = "a@example.net";
  m.envelope.rcpt_to = {"b@example.com", "c@example.com"};
  m.envelope.queue_id = "4AbCdE";
  avsink::Finding f;
  f.kind = avsink::FindingKind::kVirus;
  f.inspector = "clamav";
  f.name = "Eicar-Signature";
  f.part_path = "1.2";
  f.filename = "invoice.com";
  f.action = avsink::Action::kQuarantine;
  m.findings.push_back(f);
  m.action = "quarantine";
  m.reason = "virus Eicar-Signature";
  return m;
}

mode_t mode_of(const std::string &p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = avsink::test::make_temp_dir("avsink-q-");
    opts_.dir = root_ + "/store";
    opts_.clock = [this] { return now_.load(); };
    audit_path_ = root_ + "/audit.log";
    audit_ = avsink::AuditLog::open(audit_path_).value();
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<q::Store> open_store() {
    auto s = q::Store::open(opts_, audit_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string entry_path(const std::string &id) { return opts_.dir + "/entries/" + id + ".avq"; }
  void flip_byte(const std::string &path, long offset_from_end_or_start, bool from_end) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    long size = f.tellg();
    long off = from_end ? size - offset_from_end_or_start : offset_from_end_or_start;
    f.seekg(off);
    char c;
    f.read(&c, 1);
    c ^= 0x01;
    f.seekp(off);
    f.write(&c, 1);
  }

  std::string root_;
  q::StoreOptions opts_;
  std::atomic<int64_t> now_{1'800'000'000};
  std::string audit_path_;
  std::shared_ptr<avsink::AuditLog> audit_;
};

TEST_F(StoreTest, PutThenReadBack) {
  auto s = open_store();
  ASSERT_TRUE(s);
  auto id = s->put(kMessage, sample_meta());
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_TRUE(q::valid_id(*id)) << "got id " << *id;
  auto m = s->meta(*id);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->id, *id);
  EXPECT_EQ(m->time, now_.load());
  EXPECT_EQ(m->sha256, avsink::sha256_hex(kMessage));
  EXPECT_EQ(m->size, sizeof kMessage - 1);
  EXPECT_FALSE(m->encrypted);
  EXPECT_EQ(m->envelope.rcpt_to, sample_meta().envelope.rcpt_to);
  ASSERT_EQ(m->findings.size(), 1u);
  EXPECT_EQ(m->findings[0].name, "Eicar-Signature");
  EXPECT_EQ(m->findings[0].action, avsink::Action::kQuarantine);
  EXPECT_EQ(m->reason, "virus Eicar-Signature");
  auto body = s->message(*id);
  ASSERT_TRUE(body.ok()) << body.error().describe();
  EXPECT_EQ(*body, kMessage);
}

TEST_F(StoreTest, BinaryMessagesAndExplicitTimeSurvive) {
  auto s = open_store();
  std::string msg("a\0b\r\n\xff\xfe", 7);
  auto meta = sample_meta();
  meta.time = 12345;
  meta.findings[0].filename = "bad\xff utf8";  // stored with U+FFFD, never a throw
  auto id = s->put(msg, meta);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(s->message(*id).value(), msg);
  EXPECT_EQ(s->meta(*id)->time, 12345);
  auto empty = s->put("", sample_meta());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(s->message(*empty).value(), "");
}

TEST_F(StoreTest, IdsNeverNameAPathOutsideTheStore) {
  auto s = open_store();
  ASSERT_TRUE(s->put(kMessage, sample_meta()).ok());
  const std::string bad[] = {"../x",
                             "/etc/passwd",
                             "",
                             "..",
                             "0123456789abcdef0123456789abcde",    // 31
                             "0123456789abcdef0123456789abcdef0",  // 33
                             "0123456789ABCDEF0123456789ABCDEF",   // upper case
                             "../../../../../../../../etc/passwd",
                             "0123456789abcdef0123456789abc/..",
                             std::string("0123456789abcdef0123456789abcde\0", 32)};
  for (const auto &id : bad) {
    EXPECT_FALSE(q::valid_id(id)) << "id '" << id << "'";
    auto m = s->meta(id);
    ASSERT_FALSE(m.ok()) << "meta accepted '" << id << "'";
    EXPECT_EQ(m.error().code, avsink::ErrorCode::kInvalidArgument) << id;
    EXPECT_FALSE(s->message(id).ok()) << id;
    EXPECT_FALSE(s->remove(id, "tester").ok()) << id;
    EXPECT_FALSE(s->exists(id)) << id;
  }
  auto missing = s->meta("0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no such quarantine entry"), std::string::npos);
}

TEST_F(StoreTest, FilesAre0600AndDirectories0700EvenWithAPermissiveUmask) {
  mode_t old = ::umask(0);
  auto s = open_store();
  auto id = s->put(kMessage, sample_meta());
  ::umask(old);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(mode_of(opts_.dir), 0700u);
  EXPECT_EQ(mode_of(opts_.dir + "/entries"), 0700u);
  EXPECT_EQ(mode_of(opts_.dir + "/tmp"), 0700u);
  EXPECT_EQ(mode_of(entry_path(*id)), 0600u);
  EXPECT_EQ(mode_of(opts_.dir + "/.release-key"), 0600u);
}

TEST_F(StoreTest, RefusesAStoreOthersCanRead) {
  ASSERT_EQ(::mkdir(opts_.dir.c_str(), 0755), 0);
  ::chmod(opts_.dir.c_str(), 0755);
  auto s = q::Store::open(opts_, audit_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, avsink::ErrorCode::kConfig);
}

TEST_F(StoreTest, EncryptionRoundTripAndNothingInTheClear) {
  opts_.key_file = write_key(root_, "key", hex_key('7'));
  auto s = open_store();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->encrypted());
  auto id = s->put(kMessage, sample_meta());
  ASSERT_TRUE(id.ok());
  std::string raw = avsink::test::read_file(entry_path(*id));
  EXPECT_EQ(raw.find("body line"), std::string::npos) << "message stored in the clear";
  EXPECT_EQ(raw.find("example.com"), std::string::npos) << "envelope stored in the clear";
  EXPECT_EQ(s->message(*id).value(), kMessage);
  EXPECT_TRUE(s->meta(*id)->encrypted);

  // A raw 32-byte key file works too, and a different key cannot read the entry.
  opts_.key_file = write_key(root_, "key2", std::string(32, '\x42'));
  auto other = open_store();
  ASSERT_TRUE(other);
  auto m = other->message(*id);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("tampered"), std::string::npos) << m.error().message;
  // No key at all: the entry is reported as encrypted, not as garbage.
  opts_.key_file.clear();
  auto plain = open_store();
  auto pm = plain->meta(*id);
  ASSERT_FALSE(pm.ok());
  EXPECT_NE(pm.error().message.find("encrypted"), std::string::npos) << pm.error().message;
}

TEST_F(StoreTest, KeyFilesAreChecked) {
  struct Case {
    const char *name;
    std::string contents;
    mode_t mode;
  } cases[] = {
      {"short", "abc", 0600},
      {"bad-hex", std::string(64, 'g'), 0600},
      {"world-readable", hex_key('1'), 0644},
      {"group-writable", hex_key('1'), 0620},
  };
  for (const auto &c : cases) {
    opts_.key_file = write_key(root_, c.name, c.contents, c.mode);
    auto s = q::Store::open(opts_, audit_);
    ASSERT_FALSE(s.ok()) << c.name << ": got ok, want kConfig";
    EXPECT_EQ(s.error().code, avsink::ErrorCode::kConfig) << c.name;
  }
  opts_.key_file = write_key(root_, "group-readable", hex_key('1'), 0640);
  EXPECT_TRUE(q::Store::open(opts_, audit_).ok()) << "0640 (root:avsink) must be accepted";
}

// Flipping any byte of an entry -- header, metadata, digest, body, tag -- is detected by
// message() and verify(); flipping one in the metadata is detected by meta() too.
TEST_F(StoreTest, TamperingIsDetectedPlainAndEncrypted) {
  for (bool encrypted : {false, true}) {
    opts_.key_file = encrypted ? write_key(root_, "key", hex_key('9')) : "";
    opts_.dir = root_ + (encrypted ? "/enc" : "/plain");
    auto s = open_store();
    ASSERT_TRUE(s);
    auto id = s->put(kMessage, sample_meta()).value();
    const std::string path = entry_path(id);
    const std::string pristine = avsink::test::read_file(path);
    auto eh = q::decode_header(pristine).value();
    const long meta_at = static_cast<long>(q::kHeaderBytes + eh.meta_len / 2);
    const long body_at =
        static_cast<long>(q::kHeaderBytes + eh.meta_len + q::kDigestBytes + eh.body_len / 2);
    struct Case {
      const char *what;
      long offset;
      bool from_end;
      bool meta_detects;
    } cases[] = {
        {"magic", 0, false, true},
        {"meta length", 9, false, true},
        {"metadata", meta_at, false, true},
        {"metadata digest", static_cast<long>(q::kHeaderBytes + eh.meta_len + 3), false, true},
        {"body (ciphertext)", body_at, false, false},
        {"body tag or last byte", 33, true, false},
        {"file digest", 1, true, false},
    };
    for (const auto &c : cases) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << pristine;
      flip_byte(path, c.offset, c.from_end);
      auto m = s->message(id);
      ASSERT_FALSE(m.ok()) << (encrypted ? "encrypted " : "plain ") << c.what << ": accepted";
      EXPECT_EQ(m.error().code, avsink::ErrorCode::kIo) << c.what;
      auto mm = s->meta(id);
      if (c.meta_detects) {
        EXPECT_FALSE(mm.ok()) << c.what << ": meta() accepted";
      }
      auto rep = s->verify().value();
      ASSERT_EQ(rep.bad.size(), 1u) << c.what;
      EXPECT_EQ(rep.bad[0].first, id);
    }
    // Truncation (a partial write that somehow got its name) is caught as well.
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        << pristine.substr(0, pristine.size() / 2);
    EXPECT_FALSE(s->message(id).ok());
    EXPECT_EQ(s->verify()->bad.size(), 1u);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << pristine;
    EXPECT_TRUE(s->message(id).ok());
    EXPECT_EQ(s->verify()->bad.size(), 0u);
  }
}

// An entry file moved to another id's name, or a plaintext entry planted in an encrypted store,
// is not accepted.
TEST_F(StoreTest, SwappedOrPlantedEntriesAreRefused) {
  opts_.key_file = write_key(root_, "key", hex_key('5'));
  auto s = open_store();
  auto a = s->put("message A\n", sample_meta()).value();
  auto b = s->put("message B\n", sample_meta()).value();
  fs::copy_file(entry_path(a), entry_path(b), fs::copy_options::overwrite_existing);
  auto m = s->message(b);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("tampered"), std::string::npos) << m.error().message;

  q::EntryMeta meta = sample_meta();
  meta.id = "00000000000000000000000000000001";
  meta.sha256 = avsink::sha256_hex("evil\n");
  meta.size = 5;
  std::string planted = q::encode_entry(meta, "evil\n", nullptr);
  std::ofstream(entry_path(meta.id), std::ios::binary) << planted;
  auto p = s->message(meta.id);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("unencrypted entry"), std::string::npos) << p.error().message;
}

TEST_F(StoreTest, ListIsOrderedByTimeAndReportsUnreadable) {
  auto s = open_store();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    now_ = 1'800'000'000 - i * 100;  // later puts are older
    ids.push_back(s->put("m" + std::to_string(i), sample_meta()).value());
  }
  std::ofstream(opts_.dir + "/entries/notes.txt") << "stray";
  std::ofstream(entry_path("ffffffffffffffffffffffffffffffff")) << "garbage";
  std::vector<std::pair<std::string, std::string>> unreadable;
  auto l = s->list(&unreadable).value();
  ASSERT_EQ(l.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(l[i].id, ids[4 - i]) << "position " << i;
  EXPECT_EQ(unreadable.size(), 2u);
  auto rep = s->verify().value();
  EXPECT_EQ(rep.ok, 5u);
  EXPECT_EQ(rep.bad.size(), 2u);
}

TEST_F(StoreTest, DeleteIsAuditedWithTheOperator) {
  auto s = open_store();
  auto id = s->put(kMessage, sample_meta()).value();
  ASSERT_TRUE(s->remove(id, "alice").ok());
  EXPECT_FALSE(s->exists(id));
  EXPECT_FALSE(fs::exists(entry_path(id)));
  auto again = s->remove(id, "alice");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("no such quarantine entry"), std::string::npos);
  std::string log = avsink::test::read_file(audit_path_);
  auto line = nlohmann::json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(line["event"], "quarantine.delete");
  EXPECT_EQ(line["id"], id);
  EXPECT_EQ(line["by"], "alice");
  EXPECT_EQ(line["mail_from"], "a@example.net");
}

TEST_F(StoreTest, DeleteIsRefusedWhenTheAuditLogCannotBeWritten) {
  // /dev/full accepts the open and fails every write with ENOSPC: an audit log that is full.
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto full = avsink::AuditLog::open("/dev/full").value();
  auto s = q::Store::open(opts_, full).value();
  auto id = s->put(kMessage, sample_meta()).value();
  auto r = s->remove(id, "bob");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not deleted"), std::string::npos) << r.error().message;
  EXPECT_TRUE(s->exists(id));
}

TEST_F(StoreTest, PurgeRemovesOnlyOlderEntriesAndAuditsEach) {
  opts_.retention_seconds = 30 * 86400;
  auto s = open_store();
  now_ = 1'800'000'000 - 31 * 86400;
  auto old1 = s->put("old1", sample_meta()).value();
  auto old2 = s->put("old2", sample_meta()).value();
  now_ = 1'800'000'000 - 29 * 86400;
  auto young = s->put("young", sample_meta()).value();
  now_ = 1'800'000'000;
  EXPECT_EQ(s->purge_expired("cron").value(), 2u);
  EXPECT_FALSE(s->exists(old1));
  EXPECT_FALSE(s->exists(old2));
  EXPECT_TRUE(s->exists(young));
  EXPECT_EQ(s->purge_older_than(3600, "carol").value(), 1u);
  EXPECT_FALSE(s->exists(young));
  std::string log = avsink::test::read_file(audit_path_);
  size_t deletes = 0;
  for (size_t pos = 0; (pos = log.find("\"quarantine.delete\"", pos)) != std::string::npos; ++pos)
    ++deletes;
  EXPECT_EQ(deletes, 3u);
  EXPECT_NE(log.find("\"by\":\"carol\""), std::string::npos);
}

TEST_F(StoreTest, VerifyRemovesTempFilesOfDeadWritersOnly) {
  auto s = open_store();
  std::string tmp = opts_.dir + "/tmp/";
  std::ofstream(tmp + "put.999999999.1.abcd.tmp") << "partial";  // pid that cannot exist
  std::string mine = "put." + std::to_string(::getpid()) + ".1.abcd.tmp";
  std::ofstream(tmp + mine) << "in progress";  // a live writer (this process)
  auto rep = s->verify().value();
  EXPECT_EQ(rep.temp_files_removed, 1u);
  EXPECT_FALSE(fs::exists(tmp + "put.999999999.1.abcd.tmp"));
  EXPECT_TRUE(fs::exists(tmp + mine));
}

TEST_F(StoreTest, ConcurrentPutsFromManyThreads) {
  auto s = open_store();
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto id =
            s->put("thread " + std::to_string(t) + " msg " + std::to_string(i), sample_meta());
        if (id) ids[t].push_back(*id);
      }
    });
  for (auto &th : threads) th.join();
  std::set<std::string> all;
  for (auto &v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 200u);
  auto rep = s->verify().value();
  EXPECT_EQ(rep.ok, 200u);
  EXPECT_TRUE(rep.bad.empty());
  EXPECT_TRUE(fs::is_empty(opts_.dir + "/tmp"));
}

TEST(QuarantineOperator, ByWinsElseTheUser) {
  EXPECT_EQ(q::operator_name("dave"), "dave");
  EXPECT_FALSE(q::operator_name("").empty());
}

}  // namespace

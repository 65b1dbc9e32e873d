// capi_faults_test.cpp - faults through the C ABI: disk full while spooling or quarantining, a
// signature directory that breaks. Invariant: a fault is a non-OK status (the adapter tempfails)
// or the old database keeps serving; nothing is lost, nothing is left behind.
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "avsink/avsink.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;

// A small tmpfs mounted on a fresh directory; skipped (not failed) when mounting is not allowed.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string &size) {
    dir_ = avsink::test::make_temp_dir("avsink-tmpfs-");
    const std::string opts = "size=" + size + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount(dir_.c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool mounted() const { return mounted_; }
  const std::string &dir() const { return dir_; }
  // Bytes in use (total - free).
  uint64_t used() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return UINT64_MAX;
    return static_cast<uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
  }
  size_t entries() const {
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(dir_); it != fs::recursive_directory_iterator();
         ++it)
      ++n;
    return n;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

struct EngineGuard {
  avsink_engine *e = nullptr;
  ~EngineGuard() { avsink_engine_free(e); }
};

// Opens an engine on `toml` (written to `dir`/avsink.toml).
avsink_status open_engine(EngineGuard *g, const std::string &dir, const std::string &toml,
                          uint32_t flags, std::string *msg) {
  const std::string path = dir + "/avsink.toml";
  std::ofstream(path) << "[clamav]\nsystem_db = false\n" << toml;
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  o.config_path = path.c_str();
  o.flags = flags;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_status st = avsink_engine_open(&g->e, &o, &err);
  *msg = err.message;
  return st;
}

std::string big_message(size_t body_bytes) {
  std::string m = "From: a@example.org\r\nTo: b@example.net\r\nSubject: big\r\n\r\n";
  for (size_t i = 0; m.size() < body_bytes; ++i) m += "line " + std::to_string(i) + " of text\r\n";
  return m;
}

std::string eicar_message() {
  return "From: a@example.org\r\nSubject: eicar\r\n\r\n" + avsink::test::eicar() + "\r\n";
}

avsink_action action_of(avsink_engine *e, const std::string &bytes, avsink_status *st) {
  const avsink_verdict *v = nullptr;
  avsink_scan *s = nullptr;
  *st = avsink_scan_buffer(&v, &s, e, nullptr, bytes.data(), bytes.size());
  avsink_action a = avsink_verdict_action(v);
  avsink_scan_free(s);
  return a;
}

TEST(CapiFaults, DiskFullWhileSpoolingIsEioAndLeavesNothing) {
  SmallTmpfs tmpfs("256k");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
  const std::string cfgdir = avsink::test::make_temp_dir("avsink-faults-");
  EngineGuard g;
  std::string msg;
  ASSERT_EQ(
      open_engine(&g, cfgdir,
                  "[scan]\nspool_dir = \"" + tmpfs.dir() + "\"\n[limits]\nspool_memory_bytes = 0\n",
                  AVSINK_ENGINE_DRY_RUN, &msg),
      AVSINK_OK)
      << msg;
  const uint64_t used_before = tmpfs.used();
  const std::string m = big_message(1 << 20);

  // Streamed: some write fails with EIO; later calls are refused; end gives no verdict.
  avsink_scan *s = nullptr;
  ASSERT_EQ(avsink_scan_begin(&s, g.e, nullptr), AVSINK_OK);
  avsink_status st = AVSINK_OK;
  for (size_t i = 0; i < m.size() && st == AVSINK_OK; i += 65535)
    st = avsink_scan_write(s, m.data() + i, std::min<size_t>(65535, m.size() - i));
  EXPECT_EQ(st, AVSINK_EIO) << avsink_scan_errmsg(s);
  EXPECT_STRNE(avsink_scan_errmsg(s), "");
  EXPECT_EQ(avsink_scan_write(s, "x", 1), AVSINK_ESTATE);
  const avsink_verdict *v = nullptr;
  EXPECT_NE(avsink_scan_end(&v, s), AVSINK_OK);
  EXPECT_EQ(v, nullptr);
  EXPECT_EQ(avsink_verdict_action(v), AVSINK_ACTION_TEMPFAIL);  // a NULL verdict fails closed
  avsink_scan_free(s);
  EXPECT_EQ(tmpfs.entries(), 0u);
  EXPECT_EQ(tmpfs.used(), used_before);

  // One call: the caller's buffer is read in place, so the full spool directory is not used and
  // the message is scanned.
  avsink_status st2 = AVSINK_EIO;
  action_of(g.e, m, &st2);
  EXPECT_EQ(st2, AVSINK_OK);
  EXPECT_EQ(tmpfs.entries(), 0u);
  EXPECT_EQ(tmpfs.used(), used_before);

  // And once space is there again (a small message fits), streaming works and still catches EICAR.
  const std::string eicar = eicar_message();
  ASSERT_EQ(avsink_scan_begin(&s, g.e, nullptr), AVSINK_OK);
  EXPECT_EQ(avsink_scan_write(s, eicar.data(), eicar.size()), AVSINK_OK) << avsink_scan_errmsg(s);
  v = nullptr;
  EXPECT_EQ(avsink_scan_end(&v, s), AVSINK_OK) << avsink_scan_errmsg(s);
  EXPECT_EQ(avsink_verdict_action(v), AVSINK_ACTION_REJECT);
  avsink_scan_free(s);
  fs::remove_all(cfgdir);
}

// Needs the quarantine stage in the scan session: a QUARANTINE verdict whose entry cannot be
// written must be an error (the adapter tempfails), never an "accepted and stored" that is not.
TEST(CapiFaults, DiskFullWhileQuarantiningIsAnError) {
  SmallTmpfs tmpfs("64k");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
  const std::string cfgdir = avsink::test::make_temp_dir("avsink-faults-");
  const std::string qdir = tmpfs.dir() + "/quarantine";
  fs::create_directories(qdir);
  fs::permissions(qdir, fs::perms::owner_all, fs::perm_options::replace);  // the store insists
  EngineGuard g;
  std::string msg;
  ASSERT_EQ(
      open_engine(&g, cfgdir,
                  "[quarantine]\ndir = \"" + qdir + "\"\n[limits]\nmax_mime_depth = 2\n", 0, &msg),
      AVSINK_OK)
      << msg;
  {  // Fill the file system.
    std::ofstream fill(tmpfs.dir() + "/fill", std::ios::binary);
    std::string block(4096, 'f');
    for (int i = 0; i < 64 && fill; ++i) fill.write(block.data(), block.size());
  }
  // Nested 4 deep with max_mime_depth 2: unscannable -> quarantine.
  std::string m = "From: a@example.org\r\nSubject: deep\r\n";
  std::string body = "Content-Type: text/plain\r\n\r\nx\r\n";
  for (int i = 0; i < 4; ++i) {
    std::string b = "q" + std::to_string(i);
    body = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + body +
           "--" + b + "--\r\n";
  }
  m += body + std::string(8192, 'x');
  const avsink_verdict *v = nullptr;
  avsink_scan *s = nullptr;
  avsink_status st = avsink_scan_buffer(&v, &s, g.e, nullptr, m.data(), m.size());
  if (st == AVSINK_OK) {
    ADD_FAILURE() << "quarantine on a full disk returned OK with action "
                  << avsink_action_name(avsink_verdict_action(v)) << ", quarantine id \""
                  << avsink_verdict_quarantine_id(v) << "\", reason: " << avsink_verdict_reason(v);
  } else {
    EXPECT_EQ(st, AVSINK_EIO) << avsink_scan_errmsg(s);
    EXPECT_STRNE(avsink_scan_errmsg(s), "");
  }
  avsink_scan_free(s);
  // No partial entry: only the directory and the filler remain (temp files cleaned up).
  size_t leftovers = 0;
  for (const auto &e : fs::recursive_directory_iterator(qdir))
    if (e.is_regular_file() && e.path().filename() != ".release-key") {  // the store's own key
      ADD_FAILURE() << "left behind: " << e.path();
      ++leftovers;
    }
  EXPECT_EQ(leftovers, 0u);
  fs::remove_all(cfgdir);
}

class SignatureDirFault : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = avsink::test::make_temp_dir("avsink-sigfault-");
    sigs_ = dir_ + "/signatures";
    fs::create_directories(sigs_);
    for (const auto &e : fs::directory_iterator(AVSINK_SOURCE_DIR "/signatures"))
      if (e.path().extension() != ".md")
        fs::copy_file(e.path(), sigs_ + "/" + e.path().filename().string());
    std::string msg;
    ASSERT_EQ(open_engine(&g_, dir_, "signature_dirs = [\"" + sigs_ + "\"]\n",
                          AVSINK_ENGINE_DRY_RUN, &msg),
              AVSINK_OK)
        << msg;
    ExpectEicarCaught("before the fault");
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(sigs_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  void ExpectEicarCaught(const char *when) {
    avsink_status st = AVSINK_OK;
    EXPECT_EQ(action_of(g_.e, eicar_message(), &st), AVSINK_ACTION_REJECT) << when;
    EXPECT_EQ(st, AVSINK_OK) << when;
  }
  // Reloads; returns the status and the error message.
  avsink_status Reload(std::string *msg) {
    avsink_error err = AVSINK_ERROR_INIT;
    avsink_status st = avsink_engine_reload(g_.e, &err);
    *msg = std::string(err.message) + " | " + err.file;
    return st;
  }

  std::string dir_, sigs_;
  EngineGuard g_;
};

TEST_F(SignatureDirFault, BrokenDatabaseFileKeepsTheOldOne) {
  std::ofstream(sigs_ + "/avsink-test.ndb", std::ios::trunc) << "Broken:0:*:zz-not-hex\n";
  std::string msg;
  EXPECT_EQ(Reload(&msg), AVSINK_EENGINE) << msg;
  EXPECT_NE(msg.find(sigs_), std::string::npos) << "the error must name the path: " << msg;
  ExpectEicarCaught("after a failed reload");
}

TEST_F(SignatureDirFault, DirectoryRenamedAwayKeepsTheOldOne) {
  fs::rename(sigs_, sigs_ + ".gone");
  std::string msg;
  avsink_status st = Reload(&msg);
  EXPECT_NE(st, AVSINK_OK);
  EXPECT_EQ(st, AVSINK_EENGINE) << avsink_strerror(st) << ": " << msg;
  EXPECT_NE(msg.find(sigs_), std::string::npos) << "the error must name the path: " << msg;
  ExpectEicarCaught("after the directory vanished");
  fs::rename(sigs_ + ".gone", sigs_);
}

TEST_F(SignatureDirFault, UnreadableDirectoryKeepsTheOldOne) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  fs::permissions(sigs_, fs::perms::none);
  std::string msg;
  EXPECT_EQ(Reload(&msg), AVSINK_EENGINE) << msg;
  EXPECT_NE(msg.find(sigs_), std::string::npos) << "the error must name the path: " << msg;
  ExpectEicarCaught("after the directory became unreadable");
}

TEST_F(SignatureDirFault, EmptiedDirectoryKeepsTheOldOne) {
  for (const auto &e : fs::directory_iterator(sigs_)) fs::remove(e.path());
  std::string msg;
  EXPECT_NE(Reload(&msg), AVSINK_OK) << msg;
  ExpectEicarCaught("after the directory was emptied");
}

}  // namespace

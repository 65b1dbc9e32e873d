// quarantine_cli_test.cpp - `avsink quarantine ...` end to end: every subcommand, exit codes,
// audit records, release to a loopback SMTP sink, export -> wipe -> import through the command.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <sys/wait.h>

#include "quarantine/release_mark.h"
#include "quarantine/store.h"
#include "test_support.h"

namespace avsink::test {  // defined in quarantine_release_test.cpp
std::shared_ptr<void> start_smtp_sink(uint16_t *port);
std::vector<std::string> smtp_sink_received(const std::shared_ptr<void> &handle);
}  // namespace avsink::test

namespace q = avsink::quarantine;
namespace fs = std::filesystem;

namespace {

// The command under test: $AVSINK_TEST_CLI, else the build's avsink binary.
std::string cli_path() {
  const char *env = std::getenv("AVSINK_TEST_CLI");
  return env && *env ? env : AVSINK_CLI_PATH;
}

struct CliRun {
  int rc = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(cli_path())) GTEST_SKIP() << "no avsink binary at " << cli_path();
    root_ = avsink::test::make_temp_dir("avsink-qcli-");
    dir_ = root_ + "/store";
    CliRun help = run("--help");
    if (help.out.find("usage: avsink quarantine") == std::string::npos)
      GTEST_SKIP() << cli_path()
                   << " has no `quarantine` subcommand yet (cmd_quarantine not "
                      "wired into main.cpp)";
    message_ =
        avsink::test::read_file(avsink::test::data_path("quarantine/invoice-attachment.eml"));
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }

  // Runs `avsink quarantine <args> --dir <store>`; arguments are shell-safe by construction.
  CliRun run(const std::string &args, bool with_dir = true) {
    std::string out = root_ + "/out", err = root_ + "/err";
    std::string cmd =
        "'" + cli_path() + "' quarantine " + args +
        (with_dir ? " --dir '" + dir_ + "' --audit-log '" + root_ + "/audit.log'" : "") + " >'" +
        out + "' 2>'" + err + "' </dev/null";
    int st = std::system(cmd.c_str());
    CliRun r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = avsink::test::read_file(out);
    r.err = avsink::test::read_file(err);
    return r;
  }
  std::string put(const std::string &rcpt, int64_t time = 0, const std::string &key = "") {
    q::StoreOptions o;
    o.dir = dir_;
    o.key_file = key;
    auto s = q::Store::open(o, nullptr).value();
    q::EntryMeta m;
    m.time = time;
    m.envelope.mail_from = "sender@example.net";
    m.envelope.rcpt_to = {rcpt};
    avsink::Finding f;
    f.kind = avsink::FindingKind::kVirus;
    f.inspector = "clamav";
    f.name = rcpt.find("other") != std::string::npos ? "Other.Thing" : "Eicar-Signature";
    m.findings = {f};
    m.action = "quarantine";
    return s->put(message_, m).value();
  }
  std::string audit() { return avsink::test::read_file(root_ + "/audit.log"); }

  std::string root_, dir_, message_;
};

TEST_F(CliTest, UsageAndExitCodes) {
  EXPECT_EQ(run("--help").rc, 0);
  EXPECT_EQ(run("").rc, 2);
  EXPECT_EQ(run("frobnicate").rc, 2);
  EXPECT_EQ(run("list --no-such-option").rc, 2);
  EXPECT_EQ(run("list", /*with_dir=*/false).rc, 2) << "no --dir and no AVSINK_QUARANTINE_DIR";
  EXPECT_EQ(run("show ../../etc/passwd").rc, 2);
  EXPECT_EQ(run("show 0123456789abcdef0123456789abcdef").rc, 1);
  EXPECT_EQ(run("extract 0123456789abcdef0123456789abcdef").rc, 1);
  EXPECT_EQ(run("delete 0123456789abcdef0123456789abcdef").rc, 1);
  EXPECT_EQ(run("purge --older-than soon").rc, 2);
}

TEST_F(CliTest, ListFiltersTableAndJson) {
  std::string a = put("user@example.com", 1'700'000'000);
  std::string b = put("other@example.org");
  CliRun all = run("list");
  ASSERT_EQ(all.rc, 0) << all.err;
  EXPECT_NE(all.out.find(a), std::string::npos);
  EXPECT_NE(all.out.find(b), std::string::npos);
  EXPECT_NE(all.out.find("2 entries"), std::string::npos) << all.out;
  struct Case {
    const char *filter;
    std::vector<std::string> want;
  } cases[] = {
      {"--rcpt OTHER", {b}},
      {"--sender example.net", {a, b}},
      {"--finding eicar", {a}},
      {"--finding virus", {a, b}},
      {"--since 2023-11-14", {a, b}},  // a is 2023-11-14T22:13:20Z
      {"--since 2023-11-15", {b}},
      {"--since 2023-11-14T22:13:20Z", {a, b}},
      {"--since 2023-11-14T22:13:21Z", {b}},
      {"--since 1d", {b}},
      {"--rcpt nobody", {}},
  };
  for (const auto &c : cases) {
    CliRun r = run(std::string("list --json ") + c.filter);
    ASSERT_EQ(r.rc, 0) << c.filter << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    std::vector<std::string> got;
    for (const auto &e : j) got.push_back(e["id"]);
    EXPECT_EQ(got, c.want) << c.filter;
  }
  EXPECT_EQ(run("list --since tomorrowish").rc, 2);
}

TEST_F(CliTest, ShowExtract) {
  std::string id = put("user@example.com");
  CliRun show = run("show " + id);
  ASSERT_EQ(show.rc, 0) << show.err;
  for (const char *want : {"sha256:", "Eicar-Signature", "Invoice 4711 overdue", "parts:", "1.2",
                           "application/octet-stream", "\"invoice.com\""})
    EXPECT_NE(show.out.find(want), std::string::npos) << "show lacks " << want << "\n" << show.out;
  CliRun js = run("show --json " + id);
  ASSERT_EQ(js.rc, 0);
  auto j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["parts"].size(), 3u);
  EXPECT_EQ(j["parts"][2]["filename"], "invoice.com");

  CliRun ex = run("extract " + id);
  ASSERT_EQ(ex.rc, 0);
  EXPECT_EQ(ex.out, message_);
  std::string out = root_ + "/extracted.eml";
  ASSERT_EQ(run("extract " + id + " -o '" + out + "'").rc, 0);
  EXPECT_EQ(avsink::test::read_file(out), message_);
  struct stat st {};
  ::stat(out.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A damaged entry is never extracted, not even in part: no file appears.
  std::string path = dir_ + "/entries/" + id + ".avq";
  std::string data = avsink::test::read_file(path);
  data[data.size() - 40] ^= 1;  // inside the message, before the final digest
  ::chmod(path.c_str(), 0600);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  std::string bad = root_ + "/damaged.eml";
  EXPECT_NE(run("extract " + id + " -o '" + bad + "'").rc, 0);
  EXPECT_FALSE(fs::exists(bad));
  for (const auto &e : fs::directory_iterator(root_))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(CliTest, ReleaseDeliversMarkedCopyAndAudits) {
  std::string id = put("user@example.com");
  EXPECT_EQ(run("release " + id).rc, 2) << "release without a next hop must be refused";
  uint16_t port = 0;
  auto sink = avsink::test::start_smtp_sink(&port);
  CliRun r = run("release " + id + " --next-hop 127.0.0.1:" + std::to_string(port) +
                 " --to analyst@example.com --by alice --timeout 5");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("250 2.0.0"), std::string::npos) << r.out;
  auto got = avsink::test::smtp_sink_received(sink);
  ASSERT_EQ(got.size(), 1u);
  q::StoreOptions o;
  o.dir = dir_;
  auto store = q::Store::open(o, nullptr).value();
  auto check = store->check_release("Received: from localhost\r\n" + got[0]);
  EXPECT_TRUE(check.valid) << "the released copy is not recognised by the gateway";
  EXPECT_EQ(check.id, id);
  std::string log = audit();
  EXPECT_NE(log.find("\"event\":\"quarantine.release\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"by\":\"alice\""), std::string::npos) << log;
  EXPECT_NE(log.find("analyst@example.com"), std::string::npos) << log;
  // The entry stays in the quarantine after a release (an operator deletes it explicitly).
  EXPECT_EQ(run("show " + id).rc, 0);
}

// [quarantine] release_next_hop is the next hop when --next-hop and the environment give none.
TEST_F(CliTest, ReleaseTakesTheNextHopFromTheConfig) {
  std::string id = put("user@example.com");
  uint16_t port = 0;
  auto sink = avsink::test::start_smtp_sink(&port);
  std::string cfg = root_ + "/avsink.toml";
  {
    std::ofstream f(cfg);
    f << "[quarantine]\nrelease_next_hop = \"127.0.0.1:" << port << "\"\n";
  }
  ::unsetenv("AVSINK_QUARANTINE_NEXT_HOP");
  CliRun r = run("release " + id + " --config '" + cfg + "' --to analyst@example.com --timeout 5");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("250 2.0.0"), std::string::npos) << r.out;
  EXPECT_EQ(avsink::test::smtp_sink_received(sink).size(), 1u);
}

TEST_F(CliTest, DeletePurgeVerify) {
  std::string old_id = put("user@example.com", 1'600'000'000);
  std::string a = put("user@example.com");
  std::string b = put("other@example.org");
  ASSERT_EQ(run("delete " + a + " --by bob").rc, 0);
  EXPECT_EQ(run("delete " + a + " --by bob").rc, 1);
  EXPECT_NE(audit().find("\"by\":\"bob\""), std::string::npos);
  CliRun p = run("purge --older-than 30d --by cron");
  ASSERT_EQ(p.rc, 0) << p.err;
  EXPECT_NE(p.out.find("purged 1 entry"), std::string::npos) << p.out;
  EXPECT_EQ(run("show " + old_id).rc, 1);
  CliRun v = run("verify");
  EXPECT_EQ(v.rc, 0) << v.out;
  EXPECT_NE(v.out.find("1 ok, 0 bad"), std::string::npos) << v.out;
  std::ofstream(dir_ + "/entries/" + b + ".avq", std::ios::app) << "x";
  CliRun bad = run("verify");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.out.find("BAD " + b), std::string::npos) << bad.out;
}

TEST_F(CliTest, ExportWipeImportWithEncryption) {
  std::string key = root_ + "/key";
  std::ofstream(key) << std::string(64, 'c') << "\n";
  ::chmod(key.c_str(), 0600);
  std::vector<std::string> ids = {put("user@example.com", 0, key),
                                  put("other@example.org", 0, key)};
  std::string kf = " --key-file '" + key + "'";
  CliRun before = run("list --json" + kf);
  ASSERT_EQ(before.rc, 0) << before.err;
  EXPECT_EQ(run("list --json").out, "[]\n");  // without the key: nothing readable
  EXPECT_NE(run("list").err.find("encrypted"), std::string::npos);
  std::string archive = root_ + "/backup.tar";
  ASSERT_EQ(run("export '" + archive + "'" + kf).rc, 0);
  fs::remove_all(dir_);
  CliRun imp = run("import '" + archive + "'" + kf);
  ASSERT_EQ(imp.rc, 0) << imp.err;
  EXPECT_NE(imp.out.find("imported 2 entries"), std::string::npos) << imp.out;
  EXPECT_EQ(run("verify" + kf).rc, 0);
  CliRun after = run("list --json" + kf);
  EXPECT_EQ(nlohmann::json::parse(after.out), nlohmann::json::parse(before.out));
  // Importing into a store with another key fails verification and adds nothing.
  std::string key2 = root_ + "/key2";
  std::ofstream(key2) << std::string(64, 'd') << "\n";
  ::chmod(key2.c_str(), 0600);
  dir_ = root_ + "/store2";
  EXPECT_EQ(run("import '" + archive + "' --key-file '" + key2 + "'").rc, 2);
  EXPECT_TRUE(fs::is_empty(dir_ + "/entries"));
}

}  // namespace

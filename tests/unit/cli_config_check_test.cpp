// cli_config_check_test.cpp - `avsink config check` runs the engine's own loaders and reports
// every error at once as file:line: reason, including permissions for the run-as user.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "session/config_check.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

struct CheckRun {
  int rc = -1;
  std::string out, err;
};

class ConfigCheck : public ::testing::Test {
 protected:
  void SetUp() override { root_ = avsink::test::make_temp_dir("avsink-cfgcheck-"); }
  void TearDown() override { fs::remove_all(root_); }

  std::string write(const std::string &name, const std::string &text, mode_t mode = 0644) {
    std::string p = root_ + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  CheckRun check(const std::string &args) {
    std::string out = root_ + "/out", err = root_ + "/err";
    std::string cmd = std::string("'") + AVSINK_CLI_PATH + "' config check " + args + " >'" + out +
                      "' 2>'" + err + "' </dev/null";
    int st = std::system(cmd.c_str());
    CheckRun r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = avsink::test::read_file(out);
    r.err = avsink::test::read_file(err);
    return r;
  }
  std::string root_;
};

TEST_F(ConfigCheck, ReportsEveryErrorAtOnceWithFileAndLine) {
  std::string rules = write("bad.rules",
                            "subject /ok/ reject \"fine\"\n"
                            "subject /unterminated reject \"x\"\n"
                            "nonsense-kind /x/ reject \"y\"\n");
  std::string list = write("bad.list", "exe\nnot an entry\n");
  std::string key = write("loose.key", std::string(64, 'a') + "\n", 0644);
  std::string cfg = write("avsink.toml",
                          "[rules]\n"  // 1
                          "files = [\"" +
                              rules + "\", \"" + root_ +
                              "/missing.rules\"]\n"                                      // 2
                              "trusted_networks = [\"10.0.0.0/33\", \"127.0.0.0/8\"]\n"  // 3
                              "[attachments]\n"                                          // 4
                              "lists = [\"" +
                              list +
                              "\"]\n"       // 5
                              "[clamav]\n"  // 6
                              "signature_dirs = [\"" +
                              root_ +
                              "/no-sigs\"]\n"        // 7
                              "system_db = false\n"  // 8
                              "bogus_key = 1\n"      // 9
                              "[quarantine]\n"       // 10
                              "key_file = \"" +
                              key +
                              "\"\n"                                    // 11
                              "release_next_hop = \"host:notaport\"\n"  // 12
                              "dir = \"" +
                              root_ + "/q\"\n");  // 13
  CheckRun r = check("'" + cfg + "' --user root");
  EXPECT_EQ(r.rc, 1) << r.err;
  for (const std::string &want : std::vector<std::string>{
           cfg + ":9: unknown key 'bogus_key' in [clamav]",
           rules + ":2:",
           rules + ":3:",
           cfg + ":2: rules.files: ",  // the missing file, blamed on the key's line
           "missing.rules",
           cfg + ":3: rules.trusted_networks:",
           "10.0.0.0/33",
           list + ":2:",
           cfg + ":7: clamav.signature_dirs: ",
           cfg + ":11: quarantine.key_file: ",
           "chmod 600",
           cfg + ":12: quarantine.release_next_hop:",
       })
    EXPECT_NE(r.err.find(want), std::string::npos) << "missing: " << want << "\n" << r.err;
  EXPECT_EQ(r.err.find(rules + ":1:"), std::string::npos) << "the good rule was blamed\n" << r.err;
}

TEST_F(ConfigCheck, AGoodConfigPassesAndPrintsTheEffectiveConfig) {
  std::string rules = write("good.rules", "subject /^Invoice [0-9]+$/ reject \"outbreak\"\n");
  std::string cfg = write("avsink.toml", "[rules]\nfiles = [\"" + rules +
                                             "\"]\n[clamav]\nsystem_db = false\n[quarantine]\n"
                                             "dir = \"" +
                                             root_ +
                                             "/q\"\n"
                                             "release_next_hop = \"127.0.0.1:2525\"\n");
  CheckRun r = check("'" + cfg + "' --user root");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("release_next_hop = \"127.0.0.1:2525\""), std::string::npos) << r.out;
}

// Files the daemon's user cannot read are errors even when the one running the check can.
TEST_F(ConfigCheck, JudgesReadabilityForTheRunAsUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make files another user cannot read";
  std::string sigs = root_ + "/sigs";
  fs::create_directory(sigs);
  ::chmod(root_.c_str(), 0755);
  ::chmod(sigs.c_str(), 0755);
  fs::copy_file(std::string(AVSINK_SOURCE_DIR) + "/signatures/avsink-test.ndb", sigs + "/main.ndb");
  ::chmod((sigs + "/main.ndb").c_str(), 0600);  // freshclam's 0600 clamav:clamav, as root here
  std::string cfg =
      write("avsink.toml", "[clamav]\nsignature_dirs = [\"" + sigs +
                               "\"]\nsystem_db = false\n[quarantine]\ndir = \"" + root_ + "/q\"\n");
  CheckRun as_root = check("'" + cfg + "' --user root");
  EXPECT_EQ(as_root.rc, 0) << as_root.err;
  CheckRun as_nobody = check("'" + cfg + "' --user nobody");
  EXPECT_EQ(as_nobody.rc, 1);
  EXPECT_NE(as_nobody.err.find(sigs + "/main.ndb (mode 0600, owner 0:0) is not readable by nobody"),
            std::string::npos)
      << as_nobody.err;
}

// The library call the CLI uses: a default config has nothing to complain about.
TEST(ConfigCheckLib, DefaultsAreClean) {
  avsink::Config c;
  c.system_db = false;
  c.quarantine_dir = fs::temp_directory_path().string() + "/avsink-cfgcheck-q";
  auto errors = avsink::session::check_config(c, avsink::RunAsUser::current());
  for (const auto &e : errors) ADD_FAILURE() << e.describe();
}

}  // namespace

// milter_unit_test.cpp - table-driven tests of avsink-milter's pure helpers (message.h, options.h).
// No libmilter, no engine: what the header bytes, edit values, replies and socket checks must be.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "message.h"
#include "options.h"
#include "root_paths.h"

namespace avsink::milter {
namespace {

TEST(HeaderBytes, RebuildsTheWireForm) {
  struct Case {
    const char *name, *value;
    bool leadspc;
    const char *want;
  } cases[] = {
      {"Subject", " hello", true, "Subject: hello\r\n"},
      {"Subject", "hello", true, "Subject:hello\r\n"},
      {"Subject", "  two spaces", true, "Subject:  two spaces\r\n"},
      {"Subject", "hello", false, "Subject: hello\r\n"},
      {"X-Folded", " a\n\tb", true, "X-Folded: a\r\n\tb\r\n"},
      {"X-Folded", " a\r\n b", true, "X-Folded: a\r\n b\r\n"},
      {"X-Empty", "", true, "X-Empty:\r\n"},
  };
  for (const auto &c : cases)
    EXPECT_EQ(header_bytes(c.name, c.value, c.leadspc), c.want) << "name " << c.name;
}

// Header edits come from the library (avsink_verdict_header_edit,
// tests/unit/session_header_edits_test.cpp). Without the leading-space extension the MTA puts one
// space after the colon itself.
TEST(EditValue, FollowsTheLeadingSpaceRule) {
  EXPECT_EQ(edit_value(" v", false), "v");
  EXPECT_EQ(edit_value(" v", true), " v");
  EXPECT_EQ(edit_value("v", false), "v");
  EXPECT_EQ(edit_value("  two\n\tb", false), " two\n\tb");
  EXPECT_EQ(edit_value("", false), "");
}

TEST(ReplyAndLogText, NeverCarryControlsOrFormatting) {
  EXPECT_EQ(reply_text("Virus 100% found"), "Virus 100%% found");
  EXPECT_EQ(reply_text("a\r\nb"), "a??b");
  EXPECT_EQ(reply_text(""), "rejected");
  EXPECT_EQ(reply_text(std::string(2000, 'x')).size(), 900u);
  EXPECT_EQ(log_escape("a\nb\"c\\"), "a\\x0ab\\\"c\\\\");
  EXPECT_EQ(log_escape("\xc3\xa9"), "\\xc3\\xa9");
  EXPECT_EQ(milter_header_value("v\r\nInjected: x", true), " vInjected: x");
  EXPECT_EQ(milter_header_value("v", false), "v");
}

TEST(StripAngle, Addresses) {
  EXPECT_EQ(strip_angle("<a@b>"), "a@b");
  EXPECT_EQ(strip_angle("<>"), "");
  EXPECT_EQ(strip_angle(" <a@b> "), "a@b");
  EXPECT_EQ(strip_angle("a@b"), "a@b");
}

TEST(Options, SocketsAreLoopbackOrUnix) {
  struct Case {
    const char *spec;
    bool allow_remote, ok;
  } cases[] = {
      {"unix:/run/avsink/milter.sock", false, true},
      {"local:/run/a.sock", false, true},
      {"unix:relative.sock", false, false},
      {"inet:8890@127.0.0.1", false, true},
      {"inet:8890@localhost", false, true},
      {"inet6:8890@[::1]", false, true},
      {"inet:8890@192.0.2.1", false, false},
      {"inet:8890@192.0.2.1", true, true},
      {"inet:8890", false, false},
      {"inet:0@127.0.0.1", false, false},
      {"tcp:8890", false, false},
      {"", false, false},
  };
  for (const auto &c : cases)
    EXPECT_EQ(check_socket(c.spec, c.allow_remote).empty(), c.ok) << c.spec;
}

TEST(Options, Parse) {
  const char *argv[] = {"avsink-milter",
                        "-s",
                        "unix:/tmp/m.sock",
                        "-c",
                        "/etc/avsink.toml",
                        "-f",
                        "-u",
                        "avsink",
                        "--quarantine-mode",
                        "hold",
                        "--max-connections",
                        "8"};
  Options o;
  EXPECT_EQ(parse_options(12, const_cast<char **>(argv), &o), "");
  EXPECT_EQ(o.socket, "unix:/tmp/m.sock");
  EXPECT_EQ(o.config_path, "/etc/avsink.toml");
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.user, "avsink");
  EXPECT_EQ(o.quarantine_mode, QuarantineMode::kHold);
  EXPECT_EQ(o.max_connections, 8);

  const char *bad_mode[] = {"avsink-milter", "-s", "unix:/tmp/m.sock", "--quarantine-mode", "x"};
  EXPECT_NE(parse_options(5, const_cast<char **>(bad_mode), &o), "");
  const char *missing[] = {"avsink-milter", "-s"};
  EXPECT_NE(parse_options(2, const_cast<char **>(missing), &o), "");
  const char *remote[] = {"avsink-milter", "-s", "inet:10025@0.0.0.0"};
  EXPECT_NE(parse_options(3, const_cast<char **>(remote), &o), "");
}

// --metrics: loopback IP literals only (unless --allow-remote-inet), a port, 0 = any.
TEST(Options, MetricsAddress) {
  struct Case {
    const char *spec;
    bool allow_remote;
    const char *host;  // nullptr = refused
    int port;
  } cases[] = {
      {"127.0.0.1:9187", false, "127.0.0.1", 9187},
      {"localhost:9187", false, "127.0.0.1", 9187},
      {"[::1]:9187", false, "::1", 9187},
      {"127.0.0.1:0", false, "127.0.0.1", 0},
      {"0.0.0.0:9187", false, nullptr, 0},
      {"192.0.2.1:9187", false, nullptr, 0},
      {"192.0.2.1:9187", true, "192.0.2.1", 9187},
      {"example.org:9187", true, nullptr, 0},
      {"127.0.0.1:70000", false, nullptr, 0},
      {"127.0.0.1", false, nullptr, 0},
      {":9187", false, nullptr, 0},
  };
  for (const auto &c : cases) {
    std::string host;
    int port = -1;
    std::string why = parse_metrics_address(c.spec, c.allow_remote, &host, &port);
    if (c.host == nullptr) {
      EXPECT_NE(why, "") << c.spec;
      continue;
    }
    EXPECT_EQ(why, "") << c.spec;
    EXPECT_EQ(host, c.host) << c.spec;
    EXPECT_EQ(port, c.port) << c.spec;
  }
  const char *argv[] = {"avsink-milter", "-s", "unix:/tmp/m.sock", "--metrics", "127.0.0.1:9187"};
  Options o;
  ASSERT_EQ(parse_options(5, const_cast<char **>(argv), &o), "");
  EXPECT_EQ(o.metrics_host, "127.0.0.1");
  EXPECT_EQ(o.metrics_port, 9187);
  const char *remote[] = {"avsink-milter", "-s", "unix:/tmp/m.sock", "--metrics", "10.0.0.1:9187"};
  EXPECT_NE(parse_options(5, const_cast<char **>(remote), &o), "");
  const char *off[] = {"avsink-milter", "-s", "unix:/tmp/m.sock"};
  ASSERT_EQ(parse_options(3, const_cast<char **>(off), &o), "");
  EXPECT_EQ(o.metrics_port, -1);
}

// ---- the root phase (issue 14 item 2): needs root to make files owned by someone else ----

struct RootDir {
  std::string path;
  RootDir() {
    char tmpl[] = "/tmp/avsink-rootphase-XXXXXX";
    path = ::mkdtemp(tmpl) != nullptr ? tmpl : "";
    ::chmod(path.c_str(), 0755);
  }
  ~RootDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string &name, const std::string &content, mode_t mode) const {
    const std::string p = path + "/" + name;
    std::ofstream(p) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }
};

uid_t nobody_uid() {
  const struct passwd *pw = ::getpwnam("nobody");
  return pw != nullptr ? pw->pw_uid : 65534;
}

#define REQUIRE_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs the tests as root)"

TEST(RootPhase, DirectoriesMustBeRootOwnedAndNotWritableByOthers) {
  REQUIRE_ROOT();
  RootDir d;
  ASSERT_FALSE(d.path.empty());
  const std::string ok = d.path + "/ok", user = d.path + "/user", group = d.path + "/group",
                    below = d.path + "/user/below", link = d.path + "/link";
  ASSERT_EQ(::mkdir(ok.c_str(), 0750), 0);
  ASSERT_EQ(::mkdir(user.c_str(), 0750), 0);
  ASSERT_EQ(::chown(user.c_str(), nobody_uid(), 0), 0);
  ASSERT_EQ(::mkdir(group.c_str(), 0770), 0);
  ::chmod(group.c_str(), 0770);
  ASSERT_EQ(::mkdir(below.c_str(), 0750), 0);  // root-owned, but inside a directory nobody owns
  ASSERT_EQ(::symlink(user.c_str(), link.c_str()), 0);
  struct Case {
    std::string dir;
    const char *want;  // "" = accepted
  } cases[] = {
      {ok, ""},
      // /tmp is fine above (sticky: nobody can rename what root keeps there), not as the directory.
      {"/tmp", "is writable by its group or others (mode 1777)"},
      {user, "is owned by uid"},
      {group, "is writable by its group or others (mode 0770)"},
      {below, "directory above the socket directory"},
      {link, "is owned by uid"},  // resolved: the symlink leads into nobody's directory
      {d.path + "/missing", "No such file or directory"},
  };
  for (const auto &c : cases) {
    std::string got = check_root_owned_dir(c.dir, "socket directory");
    if (*c.want == '\0') {
      EXPECT_EQ(got, "") << c.dir;
    } else {
      EXPECT_NE(got.find(c.want), std::string::npos) << c.dir << ": got \"" << got << "\"";
    }
  }
}

// The start-up checks both daemons make (check_start): -u as root, the user, root-owned dirs.
TEST(RootPhase, StartChecksUserAndRootWrittenDirectories) {
  EXPECT_NE(check_start("no-such-user-avsink", {}).find("unknown user"), std::string::npos);
  if (geteuid() != 0) {
    EXPECT_EQ(check_start("", {{"/tmp/x.pid", "pid file directory"}}), "");
    return;
  }
  EXPECT_NE(check_start("", {}).find("refusing to run as root"), std::string::npos);
  EXPECT_EQ(check_start("nobody", {{"", "socket directory"}, {"/run/x.pid", "pid file directory"}}),
            "");
  const std::string why = check_start("nobody", {{"/tmp/x.pid", "pid file directory"}});
  EXPECT_NE(why.find("pid file directory"), std::string::npos) << why;
}

// The red-team swap: the socket replaced by a symlink to a root-owned 0600 file. The old code's
// chown() followed it and gave the file to the milter user.
TEST(RootPhase, SocketChownNeverFollowsASymlink) {
  REQUIRE_ROOT();
  RootDir d;
  const std::string victim = d.file("victim", "secret\n", 0600);
  const std::string sock = d.path + "/milter.sock";
  ASSERT_EQ(::symlink(victim.c_str(), sock.c_str()), 0);
  std::string why = chown_socket(sock, nobody_uid(), 0);
  EXPECT_NE(why.find("is not a socket"), std::string::npos) << why;
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the symlink's target changed owner";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::lstat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "not even the link itself is given away";

  // A real socket is given to the user.
  ASSERT_EQ(::unlink(sock.c_str()), 0);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, sock.c_str(), sizeof un.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&un), sizeof un), 0);
  EXPECT_EQ(chown_socket(sock, nobody_uid(), 0), "");
  ASSERT_EQ(::lstat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_uid());
  ::close(fd);
}

// The pid file: a symlink planted at the path, or at the temp names (the old code wrote
// "<path>.tmp" with fopen, following a link there), never leads a write outside.
TEST(RootPhase, PidFileNeverWritesThroughASymlink) {
  REQUIRE_ROOT();
  RootDir d;
  const std::string victim = d.file("victim", "secret\n", 0600);
  const std::string pid = d.path + "/milter.pid";
  const long me = static_cast<long>(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), pid.c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (pid + ".tmp").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (pid + ".tmp." + std::to_string(me)).c_str()), 0);
  EXPECT_EQ(write_pid_file(pid, me), "");
  std::ifstream v(victim);
  std::string text((std::istreambuf_iterator<char>(v)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "secret\n") << "the victim was written through a symlink";
  struct stat st {};
  ASSERT_EQ(::lstat(pid.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "the symlink at the pid path is replaced, not followed";
  std::ifstream p(pid);
  long got = 0;
  p >> got;
  EXPECT_EQ(got, me);
}

}  // namespace
}  // namespace avsink::milter

// quarantine_crash_test.cpp - a writer killed with SIGKILL at random points never leaves a partial
// entry, and every id it reported as written (after put() returned) is there afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quarantine/store.h"
#include "test_support.h"

namespace q = avsink::quarantine;

namespace {

// The child: writes `count` entries, printing each id to `fd` after put() returned. Never
// returns (exits with _exit so no GoogleTest state is touched twice).
[[noreturn]] void writer(const q::StoreOptions &opts, int fd, int count, int seed) {
  auto store = q::Store::open(opts, nullptr);
  if (!store) ::_exit(3);
  if (::write(fd, "R\n", 2) != 2) ::_exit(5);  // ready: the kill timer starts now
  std::mt19937 rng(static_cast<unsigned>(seed));
  for (int i = 0; i < count; ++i) {
    // Sizes from a few bytes to ~300 KB, so kills land in writes, fsyncs and renames alike.
    std::string msg = "Subject: crash " + std::to_string(seed) + "/" + std::to_string(i) + "\n\n";
    msg.append(rng() % 3 == 0 ? rng() % 300000 : rng() % 2000, static_cast<char>('a' + i % 26));
    q::EntryMeta meta;
    meta.envelope.mail_from = "writer@example.net";
    meta.envelope.rcpt_to = {"victim@example.com"};
    meta.action = "quarantine";
    auto id = (*store)->put(msg, meta);
    if (!id) ::_exit(4);
    std::string line = *id + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(5);
  }
  ::_exit(0);
}

// Reads everything the (dead) child wrote; only complete lines count as "reported written".
std::vector<std::string> drain(int fd) {
  std::string buf;
  char tmp[4096];
  for (;;) {
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  std::vector<std::string> ids;
  size_t pos = 0;
  for (size_t nl; (nl = buf.find('\n', pos)) != std::string::npos; pos = nl + 1)
    if (nl - pos == 32) ids.push_back(buf.substr(pos, nl - pos));  // skips the "R" line
  return ids;
}

TEST(QuarantineCrash, SigkillAtRandomPointsLeavesNoPartialEntry) {
  const auto started = std::chrono::steady_clock::now();
  std::string root = avsink::test::make_temp_dir("avsink-qcrash-");
  q::StoreOptions opts;
  opts.dir = root + "/store";
  {
    auto init = q::Store::open(opts, nullptr);  // creates the store and its release key once
    ASSERT_TRUE(init.ok()) << init.error().describe();
  }
  std::mt19937 rng(20261124);
  std::set<std::string> reported;
  int killed_mid_run = 0;
  // At least 12 rounds; more (up to ~12 s) until 100 ids were reported, so that slow fsyncs on a
  // busy machine still leave kills landing between, inside and after many puts.
  int rounds = 0;
  for (int round = 0;
       round < 12 || (reported.size() < 100 &&
                      std::chrono::steady_clock::now() - started < std::chrono::seconds(12));
       ++round) {
    ++rounds;
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      writer(opts, fds[1], 500, round);
    }
    ::close(fds[1]);
    pollfd ready{fds[0], POLLIN, 0};
    ASSERT_EQ(::poll(&ready, 1, 10000), 1) << "writer did not start";
    ::usleep(static_cast<useconds_t>((5 + rng() % 46) * 1000));  // 5..50 ms
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      ++killed_mid_run;
    else
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer failed: " << status;
    for (auto &id : drain(fds[0])) reported.insert(id);
    ::close(fds[0]);
  }
  EXPECT_GT(killed_mid_run, rounds / 2) << "the writer finished before most kills";
  EXPECT_FALSE(reported.empty());

  auto store = q::Store::open(opts, nullptr).value();
  auto rep = store->verify();
  ASSERT_TRUE(rep.ok()) << rep.error().describe();
  for (const auto &[id, why] : rep->bad) ADD_FAILURE() << "bad entry " << id << ": " << why;
  EXPECT_TRUE(rep->bad.empty());
  for (const auto &id : reported)
    EXPECT_TRUE(store->exists(id)) << "reported written but missing: " << id;
  // Entries the writer completed but could not report before the kill may exist too (at most
  // one per round); nothing else.
  EXPECT_GE(rep->ok, reported.size());
  EXPECT_LE(rep->ok, reported.size() + rounds);
  EXPECT_TRUE(std::filesystem::is_empty(opts.dir + "/tmp")) << "temp files left after verify";
  auto again = store->verify().value();
  EXPECT_EQ(again.temp_files_removed, 0u);
  EXPECT_EQ(again.ok, rep->ok);
  std::printf(
      "crash test: %d/%d rounds killed mid-run, %zu reported, %zu entries ok, %zu temp "
      "files removed, %.1f s\n",
      killed_mid_run, rounds, reported.size(), rep->ok, rep->temp_files_removed,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            avsink::test::scaled(std::chrono::seconds(20)));
  std::filesystem::remove_all(root);
}

}  // namespace

// rules_reload_test.cpp - hot reload: 200 rewrites under 4 scanning threads (every verdict from one
// generation, never a mix), reload through the watcher (inotify and polling), and FileWatch itself.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/file_watch.h"
#include "mime/parser.h"
#include "rules/rule_engine.h"
#include "test_support.h"

namespace avsink::rules {
namespace {

constexpr int64_t kNow = 1795478400;  // 2026-11-24T00:00:00Z

// The stress test takes well under a second in a release build; sanitizers slow it ~10x.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kStressBoundSeconds = 30.0;
#else
constexpr double kStressBoundSeconds = 10.0;
#endif

void write_file(const std::string &path, const std::string &content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0) << path;
}

// Waits up to `ms` for `done()`; true when it became true.
template <typename F>
bool wait_for(F done, int ms) {
  auto until =
      std::chrono::steady_clock::now() + avsink::test::scaled(std::chrono::milliseconds(ms));
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// Version k of the live file: a subject rule and a From rule that both tag their findings with
// k, plus a k-dependent number of filler rules so that every version compiles a different set.
std::string version(int k) {
  std::string s = "# live.rules version " + std::to_string(k) + "\n";
  for (int i = 0; i < (k % 7) * 4; ++i)
    s += "subject /filler-" + std::to_string(k) + "-" + std::to_string(i) + "/ reject\n";
  const std::string v = std::to_string(k);
  s += "subject /tagged subject/ reject \"v" + v + "\" id=subject-v" + v + " # v" + v + "\n";
  s += "header-from /@tagged\\.example$/ quarantine id=from-v" + v + " comment=\"v" + v + "\"\n";
  return s;
}

class RulesReloadTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("avsink-reload-"); }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(RulesReloadTest, TwoHundredRewritesUnderFourScanningThreads) {
  const std::string path = dir_ + "/live.rules";
  write_file(path, version(0));
  auto audit = AuditLog::open(dir_ + "/audit.jsonl");
  ASSERT_TRUE(audit.ok());
  RulesOptions o;
  o.files = {path};
  o.watch = true;  // the watcher reloads too, concurrently with the explicit reloads below
  o.poll_ms = 20;
  o.debounce_ms = 5;
  auto opened = RuleEngine::open(o, *audit);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  RuleEngine &engine = **opened;

  const mime::MessageTree tree = mime::parse_message(
      "From: Someone <someone@tagged.example>\r\nSubject: a tagged subject "
      "line\r\n\r\nbody\r\n",
      Limits{});
  Envelope env;
  env.client_address = "203.0.113.9";

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> scans{0}, failed{0}, mixed{0}, backwards{0};
  std::atomic<int> max_seen{-1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      int last = -1;
      while (!stop.load(std::memory_order_relaxed)) {
        Findings f = engine.inspect(env, tree, kNow);
        scans.fetch_add(1, std::memory_order_relaxed);
        if (f.size() != 2 || f[0].kind != FindingKind::kRule || f[1].kind != FindingKind::kRule ||
            f[0].detail.size() < 2 || f[1].detail.size() < 2 ||
            f[0].name.rfind("subject-v", 0) != 0 || f[1].name.rfind("from-v", 0) != 0) {
          failed.fetch_add(1);
          continue;
        }
        const int k_subject = std::stoi(f[0].detail.substr(1));
        const int k_from = std::stoi(f[1].detail.substr(1));
        if (k_subject != k_from || f[0].reply_text != f[0].detail ||
            f[0].name != "subject-v" + std::to_string(k_subject) ||
            f[1].name != "from-v" + std::to_string(k_from))
          mixed.fetch_add(1);
        if (k_subject < last) backwards.fetch_add(1);
        last = k_subject;
        int m = max_seen.load();
        while (k_subject > m && !max_seen.compare_exchange_weak(m, k_subject)) {
        }
      }
    });
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t reload_failures = 0;
  for (int k = 1; k <= 200; ++k) {
    write_file(path, version(k));
    if (!engine.reload().ok()) ++reload_failures;
  }
  // Let the scanners see the final version before stopping.
  EXPECT_TRUE(wait_for([&] { return max_seen.load() == 200; }, 5000));
  stop = true;
  for (std::thread &t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_EQ(reload_failures, 0u);
  EXPECT_EQ(failed.load(), 0u) << "scans that did not see exactly the two tagged findings";
  EXPECT_EQ(mixed.load(), 0u) << "verdicts mixing two rule-set versions";
  EXPECT_EQ(backwards.load(), 0u) << "a thread saw an older version after a newer one";
  EXPECT_GT(scans.load(), 1000u);
  EXPECT_GE(engine.generation(), 201u) << "every rewrite changed the file, so each one reloads";
  EXPECT_EQ(engine.rule_count(), (200 % 7) * 4 + 2u);
  EXPECT_LT(secs, kStressBoundSeconds);
  std::printf("[ stress   ] %llu scans, %llu generations in %.2f s\n",
              static_cast<unsigned long long>(scans.load()),
              static_cast<unsigned long long>(engine.generation()), secs);
}

// The watcher reloads on its own, whether it sees the change through inotify or by polling.
void watcher_reloads(const std::string &dir, bool force_polling) {
  const std::string path = dir + "/watched.rules";
  write_file(path, "subject /first/ reject id=first\n");
  RulesOptions o;
  o.files = {path};
  o.watch = true;
  o.force_polling = force_polling;
  o.poll_ms = force_polling ? 50 : 5000;  // with inotify, the event must do the work
  o.debounce_ms = 20;
  std::vector<std::string> log;
  std::mutex log_mu;
  o.logger = Logger(
      [&](LogLevel, const std::string &l) {
        std::lock_guard<std::mutex> lock(log_mu);
        log.push_back(l);
      },
      LogLevel::kDebug);
  auto e = RuleEngine::open(o, nullptr);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->watching_with_inotify(), !force_polling);
  auto names = [&](const std::string &subject) {
    std::vector<std::string> out;
    for (const Finding &f : (*e)->inspect(
             Envelope{}, mime::parse_message("Subject: " + subject + "\r\n\r\n", Limits{}), kNow))
      out.push_back(f.name);
    return out;
  };

  // Replaced by rename (editors, config management).
  write_file(path, "subject /second/ reject id=second\n");
  ASSERT_TRUE(wait_for([&] { return (*e)->generation() == 2; }, 5000));
  EXPECT_EQ(names("second"), std::vector<std::string>{"second"});
  EXPECT_TRUE(names("first").empty());

  // Broken: rejected, generation 2 stays and keeps matching.
  write_file(path, "subject /third/ reject id=third\nsubject /(/ reject\n");
  ASSERT_TRUE(wait_for(
      [&] {
        std::lock_guard<std::mutex> lock(log_mu);
        for (const std::string &l : log)
          if (l.find("keeping generation 2") != std::string::npos) return true;
        return false;
      },
      5000));
  EXPECT_EQ((*e)->generation(), 2u);
  EXPECT_EQ(names("second"), std::vector<std::string>{"second"});

  // Rewritten in place (truncate + write), as `echo > file` does.
  {
    std::ofstream out(path, std::ios::trunc);
    out << "subject /fourth/ reject id=fourth\n";
  }
  ASSERT_TRUE(wait_for([&] { return (*e)->generation() == 3; }, 5000));
  EXPECT_EQ(names("fourth"), std::vector<std::string>{"fourth"});
}

TEST_F(RulesReloadTest, WatcherReloadsWithInotify) {
  watcher_reloads(dir_, false);
}

TEST_F(RulesReloadTest, WatcherReloadsByPolling) {
  watcher_reloads(dir_, true);
}

TEST_F(RulesReloadTest, FileWatchSeesFilesDirectoriesAndLateCreation) {
  for (bool inotify : {true, false}) {
    SCOPED_TRACE(inotify ? "inotify" : "polling");
    const std::string d = dir_ + (inotify ? "/i" : "/p");
    ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((d + "/sigs").c_str(), 0700), 0);
    FileWatchOptions o;
    o.paths = {d + "/later.conf", d + "/sigs"};
    o.use_inotify = inotify;
    o.poll_ms = 40;
    o.debounce_ms = 10;
    std::mutex mu;
    std::vector<std::string> seen;
    auto w = FileWatch::start(o, [&](const std::vector<std::string> &changed) {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(seen.end(), changed.begin(), changed.end());
    });
    ASSERT_TRUE(w.ok()) << w.error().describe();
    EXPECT_EQ((*w)->using_inotify(), inotify);
    auto saw = [&](const std::string &p) {
      return wait_for(
          [&] {
            std::lock_guard<std::mutex> lock(mu);
            for (const std::string &s : seen)
              if (s == p) return true;
            return false;
          },
          3000);
    };
    std::ofstream(d + "/later.conf") << "x";  // did not exist when the watch started
    EXPECT_TRUE(saw(d + "/later.conf"));
    std::ofstream(d + "/sigs/new.ndb") << "y";  // an entry inside a watched directory
    EXPECT_TRUE(saw(d + "/sigs"));
    // Stopping is prompt: the destructor wakes the thread instead of waiting for a poll.
    const auto t0 = std::chrono::steady_clock::now();
    w->reset();
    EXPECT_LT(std::chrono::steady_clock::now() - t0,
              avsink::test::scaled(std::chrono::milliseconds(500)));
  }
  FileWatchOptions bad;
  EXPECT_FALSE(bad.validate().ok());
  bad.paths = {"/x"};
  bad.poll_ms = 0;
  EXPECT_FALSE(FileWatch::start(bad, [](const std::vector<std::string> &) {}).ok());
}

TEST_F(RulesReloadTest, DebounceCoalescesBursts) {
  const std::string p = dir_ + "/burst.conf";
  std::ofstream(p) << "0";
  FileWatchOptions o;
  o.paths = {p};
  o.poll_ms = 5000;
  o.debounce_ms = 300;
  o.max_delay_ms = 5000;
  std::atomic<int> calls{0};
  auto w = FileWatch::start(o, [&](const std::vector<std::string> &) { ++calls; });
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 20; ++i) {
    write_file(p, std::to_string(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(wait_for([&] { return calls.load() >= 1; }, 3000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // One callback when the writes land within the debounce window, which they do unless the
  // machine stalls this thread for 300 ms; allow for one such stall.
  EXPECT_LE(calls.load(), 2) << "20 writes 5 ms apart must coalesce";
}

}  // namespace
}  // namespace avsink::rules

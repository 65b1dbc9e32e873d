// session_health_test.cpp - degraded is visible: test signatures only, a stale database and a
// failed reload show in Scanner::health(), in the metrics and in the log, at open and after
// reload; a scan moves the engine's counters.
#include <gtest/gtest.h>

#include <sys/time.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "session/scanner.h"
#include "test_support.h"

namespace avsink {
namespace {

namespace fs = std::filesystem;

double value_of(const std::string &text, const std::string &series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

bool has_code(const std::vector<session::Scanner::HealthIssue> &issues, const std::string &code) {
  for (const auto &i : issues)
    if (i.code == code) return true;
  return false;
}

struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger logger() {
    return Logger(
        [this](LogLevel, const std::string &m) {
          std::lock_guard<std::mutex> lock(mu);
          lines.push_back(m);
        },
        LogLevel::kInfo);
  }
  bool any(const std::string &needle) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto &l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

class Health : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("avsink-health-");
    sigs_ = dir_ + "/sigs";
    fs::create_directory(sigs_);
    fs::copy_file(std::string(AVSINK_SOURCE_DIR) + "/signatures/avsink-test.ndb",
                  sigs_ + "/site.ndb");
    cfg_.system_db = false;
    cfg_.clamav_watch = false;
    cfg_.watch_files = false;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, sigs_;
  Config cfg_;
};

TEST_F(Health, ShippedTestSignaturesOnlyIsDegradedAndLogged) {
  Captured log;
  auto s = session::Scanner::open(cfg_, log.logger(), true).value();  // the shipped signatures
  auto issues = s->health();
  EXPECT_TRUE(has_code(issues, "test_signatures_only"));
  EXPECT_TRUE(log.any("degraded at start: clamav: only avsink's shipped test signatures"));
  std::string m = s->metrics_text();
  EXPECT_EQ(value_of(m, "avsink_healthy"), 0) << m;
  EXPECT_EQ(value_of(m, "avsink_degraded{reason=\"test_signatures_only\"}"), 1) << m;
  EXPECT_NE(s->info_json().find("\"ok\":false"), std::string::npos) << s->info_json();
}

TEST_F(Health, OwnFreshSignaturesAreHealthyAndScansMoveTheCounters) {
  cfg_.signature_dirs = {sigs_};
  Captured log;
  auto s = session::Scanner::open(cfg_, log.logger(), true).value();
  for (const auto &i : s->health()) ADD_FAILURE() << i.code << ": " << i.text;
  EXPECT_TRUE(log.any("health at start: ok"));
  std::string clean = "From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n";
  std::string virus = "From: a@example.org\r\nSubject: hi\r\n\r\n" + test::eicar() + "\r\n";
  ASSERT_TRUE(s->scan(Envelope{}, {clean, clean.size()}).ok());
  auto v = s->scan(Envelope{}, {virus, virus.size()});
  ASSERT_TRUE(v.ok());
  std::string m = s->metrics_text();
  EXPECT_EQ(value_of(m, "avsink_healthy"), 1) << m;
  EXPECT_EQ(value_of(m, "avsink_messages_total{action=\"accept\"}"), 1) << m;
  EXPECT_EQ(
      value_of(m, "avsink_messages_total{action=\"" + std::string(to_string(v->action)) + "\"}"),
      v->action == Action::kAccept ? 2 : 1);
  EXPECT_GE(value_of(m, "avsink_findings_total{kind=\"virus\",inspector=\"clamav\"}"), 1) << m;
  EXPECT_EQ(value_of(m, "avsink_scanned_bytes_total"), double(clean.size() + virus.size()));
  EXPECT_EQ(value_of(m, "avsink_scan_duration_seconds_count"), 2);
  EXPECT_EQ(value_of(m, "avsink_engine_generation{engine=\"clamav\"}"), 1);
  EXPECT_GE(value_of(m, "avsink_signature_age_seconds{engine=\"clamav\"}"), 0);
}

TEST_F(Health, StaleDatabaseIsDegraded) {
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(72);
  timeval times[2];
  times[0].tv_sec = times[1].tv_sec = std::chrono::system_clock::to_time_t(old);
  times[0].tv_usec = times[1].tv_usec = 0;
  ASSERT_EQ(::utimes((sigs_ + "/site.ndb").c_str(), times), 0);
  cfg_.signature_dirs = {sigs_};
  cfg_.max_db_age_hours = 24;
  Captured log;
  auto s = session::Scanner::open(cfg_, log.logger(), true).value();
  EXPECT_TRUE(has_code(s->health(), "stale_database"));
  EXPECT_FALSE(has_code(s->health(), "test_signatures_only"));
  EXPECT_TRUE(log.any("degraded at start: clamav: signature database is 72 h old"));
  EXPECT_EQ(value_of(s->metrics_text(), "avsink_degraded{reason=\"stale_database\"}"), 1);
}

TEST_F(Health, FailedReloadIsDegradedUntilAReloadSucceeds) {
  cfg_.signature_dirs = {sigs_};
  Captured log;
  auto s = session::Scanner::open(cfg_, log.logger(), true).value();
  ASSERT_TRUE(s->health().empty());
  std::ofstream(sigs_ + "/broken.ndb") << "this is not a signature\n";
  EXPECT_FALSE(s->reload().ok());
  EXPECT_TRUE(has_code(s->health(), "reload_failed"));
  EXPECT_TRUE(log.any("degraded after reload: clamav: last reload failed"));
  std::string m = s->metrics_text();
  EXPECT_EQ(value_of(m, "avsink_reloads_total{part=\"clamav\",result=\"failed\"}"), 1) << m;
  EXPECT_EQ(value_of(m, "avsink_degraded{reason=\"reload_failed\"}"), 1) << m;
  fs::remove(sigs_ + "/broken.ndb");
  EXPECT_TRUE(s->reload().ok());
  EXPECT_TRUE(s->health().empty());
  EXPECT_EQ(value_of(s->metrics_text(), "avsink_reloads_total{part=\"clamav\",result=\"ok\"}"), 1);
}

// A rule file broken by an edit (picked up by the rules watcher, no SIGHUP) is degraded too.
TEST_F(Health, RuleFileBrokenUnderTheWatcherIsDegraded) {
  cfg_.signature_dirs = {sigs_};
  std::string rules = dir_ + "/site.rules";
  std::ofstream(rules) << "subject /^Invoice [0-9]+$/ reject \"outbreak\"\n";
  cfg_.rule_files = {rules};
  cfg_.watch_files = true;
  cfg_.poll_ms = 50;
  Captured log;
  auto s = session::Scanner::open(cfg_, log.logger(), true).value();
  ASSERT_TRUE(s->health().empty());
  std::ofstream(rules) << "subject /unterminated reject \"x\"\n";
  const auto until = std::chrono::steady_clock::now() + test::scaled(std::chrono::seconds(10));
  while (!has_code(s->health(), "reload_failed") && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(has_code(s->health(), "reload_failed"));
  EXPECT_TRUE(log.any("degraded after rules reload: rules: last reload failed"));
  EXPECT_GE(value_of(s->metrics_text(), "avsink_reloads_total{part=\"rules\",result=\"failed\"}"),
            1);
}

}  // namespace
}  // namespace avsink

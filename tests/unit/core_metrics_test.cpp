// core_metrics_test.cpp - the engine's counters: each record moves the right series, and the
// exposition is well-formed Prometheus text (every sample line "name{labels} value").
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/metrics.h"

namespace avsink {
namespace {

// The value of one exact series in the exposition, or -1 when it is missing.
double value_of(const std::string &text, const std::string &series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(Metrics, RecordsMoveTheirSeries) {
  Metrics m;
  Finding virus;
  virus.kind = FindingKind::kVirus;
  virus.inspector = "clamav";
  Finding rule;
  rule.kind = FindingKind::kRule;
  rule.inspector = "rules";
  Finding odd;
  odd.kind = FindingKind::kMalformed;
  odd.inspector = "something-new";
  m.record_scan(Action::kReject, {virus, rule}, 1000, 0.003);
  m.record_scan(Action::kAccept, {odd}, 500, 0.2);
  m.record_scan(Action::kAccept, {}, 24, 200.0);
  m.count_tempfail("engine_error");
  m.count_tempfail("no-such-cause");
  m.count_reload("clamav", true);
  m.count_reload("rules", false);
  std::string t = m.exposition();
  EXPECT_EQ(value_of(t, "avsink_messages_total{action=\"reject\"}"), 1) << t;
  EXPECT_EQ(value_of(t, "avsink_messages_total{action=\"accept\"}"), 2);
  EXPECT_EQ(value_of(t, "avsink_messages_total{action=\"tempfail\"}"), 0);
  EXPECT_EQ(value_of(t, "avsink_findings_total{kind=\"virus\",inspector=\"clamav\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_findings_total{kind=\"rule\",inspector=\"rules\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_findings_total{kind=\"malformed\",inspector=\"other\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_scanned_bytes_total"), 1524);
  EXPECT_EQ(value_of(t, "avsink_scan_duration_seconds_bucket{le=\"0.005\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_scan_duration_seconds_bucket{le=\"0.25\"}"), 2);
  EXPECT_EQ(value_of(t, "avsink_scan_duration_seconds_bucket{le=\"120\"}"), 2);
  EXPECT_EQ(value_of(t, "avsink_scan_duration_seconds_bucket{le=\"+Inf\"}"), 3);
  EXPECT_EQ(value_of(t, "avsink_scan_duration_seconds_count"), 3);
  EXPECT_NEAR(value_of(t, "avsink_scan_duration_seconds_sum"), 200.203, 0.001);
  EXPECT_EQ(value_of(t, "avsink_tempfails_total{cause=\"engine_error\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_tempfails_total{cause=\"other\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_reloads_total{part=\"clamav\",result=\"ok\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_reloads_total{part=\"rules\",result=\"failed\"}"), 1);
  EXPECT_EQ(value_of(t, "avsink_scans_in_flight"), 0);
  {
    Metrics::InFlight a(m), b(m);
    EXPECT_EQ(value_of(m.exposition(), "avsink_scans_in_flight"), 2);
  }
  EXPECT_EQ(value_of(m.exposition(), "avsink_scans_in_flight"), 0);
}

TEST(Metrics, ExpositionIsWellFormed) {
  Metrics m;
  m.record_scan(Action::kQuarantine, {}, 1, 0.01);
  std::istringstream in(m.exposition());
  const std::regex sample(
      R"(^avsink_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$)");
  const std::regex comment(R"(^# (HELP|TYPE) avsink_[a-z_]+ .+$)");
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 60);
}

// Many threads at once: no count is lost (atomics, no lock).
TEST(Metrics, ConcurrentRecordsAreAllCounted) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) m.record_scan(Action::kAccept, {}, 2, 0.001);
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(m.messages(Action::kAccept), 40000u);
  EXPECT_EQ(value_of(m.exposition(), "avsink_scanned_bytes_total"), 80000);
}

}  // namespace
}  // namespace avsink

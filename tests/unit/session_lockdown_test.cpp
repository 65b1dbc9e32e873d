// session_lockdown_test.cpp - the outbreak drill: `avsink lockdown on` under a bounded scanning
// load takes effect without a restart, expires by itself, and `off` ends it; every change is
// audited.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <atomic>
#include <chrono>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/lockdown.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::Action;
using namespace std::chrono_literals;

std::string cli_path() {
  const char *env = std::getenv("AVSINK_TEST_CLI");
  return env && *env ? env : AVSINK_CLI_PATH;
}

struct Drill {
  std::string dir = avsink::test::make_temp_dir("lockdown");
  std::string conf = dir + "/avsink.toml";
  std::string state = dir + "/lockdown.json";
  std::string audit = dir + "/audit.log";

  explicit Drill(const std::string &extra = "") {
    std::ofstream(conf) << "[clamav]\nsystem_db = false\n[audit]\nlog = \"" << audit
                        << "\"\n[lockdown]\nstate_file = \"" << state
                        << "\"\npoll_ms = 100\n" + extra;
  }
  int cli(const std::string &args) const {
    std::string cmd = "'" + cli_path() + "' lockdown " + args + " --config '" + conf +
                      "' --by drill >/dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string audit_text() const { return avsink::test::read_file(audit); }
};

std::unique_ptr<avsink::session::Scanner> open(const std::string &conf) {
  auto cfg = avsink::load_config(conf);
  EXPECT_TRUE(cfg.ok()) << cfg.error().describe();
  auto s = avsink::session::Scanner::open(*cfg, avsink::Logger(), true);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return s.ok() ? std::move(s.value()) : nullptr;
}

Action scan(const avsink::session::Scanner &s, const std::string &bytes) {
  avsink::Envelope e;
  e.rcpt_to = {"bob@example.net"};
  auto v = s.scan(e, {bytes, bytes.size()});
  EXPECT_TRUE(v.ok());
  return v.ok() ? v->action : Action::kReject;
}

// Polls `pred` every 50 ms for at most `limit` (scaled under sanitizers).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + avsink::test::scaled(limit);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

TEST(Lockdown, DrillUnderLoadTakesEffectAndExpires) {
  if (!std::filesystem::exists(cli_path())) GTEST_SKIP() << "no avsink binary";
  Drill d;
  auto s = open(d.conf);
  ASSERT_TRUE(s);
  const std::string att =
      avsink::test::read_file(avsink::test::data_path("eml/mixed-pdf-attachment.eml"));
  const std::string text = "From: a@x.example\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n";
  ASSERT_EQ(scan(*s, att), Action::kAccept);

  // The load: two threads scanning the attachment message until told to stop (bounded).
  std::atomic<bool> stop{false};
  std::atomic<int> tempfails{0}, accepts{0}, others{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t)
    load.emplace_back([&] {
      for (int i = 0; i < 100000 && !stop; ++i) {
        Action a = scan(*s, att);
        (a == Action::kTempfail ? tempfails : a == Action::kAccept ? accepts : others)++;
      }
    });

  // Long enough to be seen in force on a loaded machine, short enough to watch it expire.
  const auto lasts = avsink::test::scaled(6s);
  const auto until = "+" + std::to_string(lasts.count() / 1000) + "s";
  const auto on_at = std::chrono::steady_clock::now();
  ASSERT_EQ(d.cli("on --reason 'drill 2026-12' --until " + until + " --scope attachments"), 0);
  bool took = eventually([&] { return scan(*s, att) == Action::kTempfail; }, 4000ms);
  EXPECT_TRUE(took) << "lockdown not in force 4 s after `lockdown on`";
  EXPECT_EQ(scan(*s, text), Action::kAccept) << "a message without attachments is out of scope";
  bool expired = eventually([&] { return scan(*s, att) == Action::kAccept; }, lasts + 4000ms);
  EXPECT_GE(std::chrono::steady_clock::now() - on_at, lasts - 1500ms) << "ended before --until";
  EXPECT_TRUE(expired) << "lockdown did not expire by itself";
  stop = true;
  for (auto &t : load) t.join();
  EXPECT_GT(tempfails.load(), 0);
  EXPECT_GT(accepts.load(), 0);
  EXPECT_EQ(others.load(), 0);

  // Scope all, then off.
  ASSERT_EQ(d.cli("on --reason all-out --scope all"), 0);
  EXPECT_TRUE(eventually([&] { return scan(*s, text) == Action::kTempfail; }, 2500ms));
  ASSERT_EQ(d.cli("off"), 0);
  EXPECT_TRUE(eventually([&] { return scan(*s, text) == Action::kAccept; }, 2500ms));

  std::string audit = d.audit_text();
  for (const char *ev : {"\"lockdown.on\"", "\"lockdown.applied\"", "\"lockdown.expired\"",
                         "\"lockdown.off\"", "drill 2026-12"})
    EXPECT_NE(audit.find(ev), std::string::npos) << "audit log lacks " << ev << ":\n" << audit;
}

TEST(Lockdown, QuarantineActionAndBadInput) {
  if (!std::filesystem::exists(cli_path())) GTEST_SKIP() << "no avsink binary";
  Drill d("action = \"quarantine\"\n");
  ASSERT_EQ(d.cli("on --reason q --scope all"), 0);
  auto s = open(d.conf);  // started while a lockdown is in force: it applies at once
  ASSERT_TRUE(s);
  EXPECT_EQ(scan(*s, "Subject: x\r\n\r\nhello\r\n"), Action::kQuarantine);
  EXPECT_EQ(d.cli("on --scope all"), 2) << "on without --reason";
  EXPECT_EQ(d.cli("on --reason r --scope some"), 2);
  EXPECT_EQ(d.cli("on --reason r --until yesterday"), 2);
  // A broken state file keeps the last state (fail closed), and is audited.
  std::ofstream(d.state) << "{not json";
  std::this_thread::sleep_for(avsink::test::scaled(600ms));
  EXPECT_EQ(scan(*s, "Subject: x\r\n\r\nhello\r\n"), Action::kQuarantine);
  EXPECT_TRUE(eventually(
      [&] { return d.audit_text().find("lockdown.state_rejected") != std::string::npos; }, 2000ms));
}

TEST(Lockdown, TimeForms) {
  EXPECT_EQ(*avsink::parse_lockdown_time("+90s", 1000), 1090);
  EXPECT_EQ(*avsink::parse_lockdown_time("+2h", 0), 7200);
  EXPECT_EQ(*avsink::parse_lockdown_time("2026-12-03T16:00:00Z", 0), 1796313600);
  for (const char *bad : {"+", "+5", "+5y", "2026-12-03 16:00", "tomorrow", "+-3m"})
    EXPECT_FALSE(avsink::parse_lockdown_time(bad, 0).ok()) << bad;
}

}  // namespace

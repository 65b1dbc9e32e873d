// session_scan_budget_test.cpp - the process-wide bound on scans in flight and bytes held
// (#14 item 3), and the raw pass's size bound for flagged messages: beyond them, a tempfail or a
// finding, never an unbounded scan.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "session/scan_budget.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::Action;
using avsink::session::kScanChargeFactor;
using avsink::session::kScanChargeFixedBytes;
using avsink::session::ScanBudget;

uint64_t charge(uint64_t bytes) {
  return bytes * kScanChargeFactor + kScanChargeFixedBytes;
}

TEST(ScanBudget, ScansInFlightAtLimitMinusOneLimitAndPlusOne) {
  ScanBudget budget(3, 1ull << 40);
  std::vector<ScanBudget::Ticket> held;
  std::string why, detail;
  for (int i = 0; i < 3; ++i) {
    held.push_back(budget.try_admit(1000, &why, &detail));
    EXPECT_TRUE(held.back().admitted()) << "scan " << i + 1 << " of 3: " << detail;
  }
  ScanBudget::Ticket fourth = budget.try_admit(1000, &why, &detail);
  EXPECT_FALSE(fourth.admitted());
  EXPECT_EQ(why, "ConcurrentScans");
  held.pop_back();  // one ends: the next one fits again
  EXPECT_EQ(budget.in_flight(), 2u);
  EXPECT_TRUE(budget.try_admit(1000, &why, &detail).admitted());
  held.clear();
  EXPECT_EQ(budget.in_flight(), 0u);
  EXPECT_EQ(budget.bytes_held(), 0u);
}

TEST(ScanBudget, BytesHeldAtTheBudgetAndOneByteOver) {
  const uint64_t msg = 1u << 20;
  ScanBudget budget(100, 2 * charge(msg));
  std::string why, detail;
  ScanBudget::Ticket a = budget.try_admit(msg, &why, &detail);
  ScanBudget::Ticket b = budget.try_admit(msg, &why, &detail);
  EXPECT_TRUE(a.admitted() && b.admitted()) << detail;
  EXPECT_EQ(budget.bytes_held(), 2 * charge(msg));
  ScanBudget::Ticket c = budget.try_admit(0, &why, &detail);
  EXPECT_FALSE(c.admitted());
  EXPECT_EQ(why, "MemoryBudget");
  EXPECT_NE(detail.find("memory_budget_bytes"), std::string::npos) << detail;

  ScanBudget tight(100, 2 * charge(msg) - 1);
  ScanBudget::Ticket d = tight.try_admit(msg, &why, &detail);
  EXPECT_TRUE(d.admitted());
  EXPECT_FALSE(tight.try_admit(msg, &why, &detail).admitted()) << "one byte over the budget";
}

TEST(ScanBudget, ALoneMessageOverTheBudgetIsStillAdmitted) {
  ScanBudget budget(4, 16u << 20);
  std::string why, detail;
  ScanBudget::Ticket big = budget.try_admit(100u << 20, &why, &detail);
  EXPECT_TRUE(big.admitted()) << "nothing else in flight: " << detail;
  EXPECT_FALSE(budget.try_admit(1, &why, &detail).admitted()) << "but nothing beside it";
}

// Through the scanner: with one scan allowed, a second message arriving while one is in flight is
// tempfailed with the bound named, and accepted again once the first is done. Without the bound
// both were scanned at once, whatever their number.
TEST(Session, ScansBeyondTheProcessBoundAreTempfailed) {
  avsink::Config cfg;
  cfg.system_db = false;
  cfg.limits.max_concurrent_scans = 1;
  auto opened = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  const auto &scanner = *opened.value();
  // A message that takes a while to scan (many decoded parts) keeps one scan in flight.
  std::string slow =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n";
  for (int i = 0; i < 200; ++i)
    slow +=
        "--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        "\r\n" +
        avsink::test::base64(std::string(20000, static_cast<char>('a' + i % 26)) +
                             std::to_string(i)) +
        "\r\n";
  slow += "--B--\r\n";
  const std::string quick =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: q\r\n\r\nhello\r\n";
  std::atomic<bool> stop{false};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread busy([&] {  // until the other side saw a refusal (its own may be refused too)
    while (!stop && std::chrono::steady_clock::now() < until)
      (void)scanner.scan({}, {slow, slow.size()});
  });
  bool refused = false;
  std::string reason;
  while (!refused && std::chrono::steady_clock::now() < until) {
    auto v = scanner.scan({}, {quick, quick.size()});
    ASSERT_TRUE(v.ok()) << v.error().describe();
    if (v->action == Action::kTempfail) {
      refused = true;
      reason = v->reason;
      EXPECT_EQ(v->smtp_code, 451);
    } else {
      EXPECT_EQ(v->action, Action::kAccept) << v->reason;
    }
  }
  stop = true;
  busy.join();
  EXPECT_TRUE(refused) << "no scan was refused while another was in flight";
  EXPECT_NE(reason.find("Limits.Exceeded.ConcurrentScans"), std::string::npos) << reason;
  auto after = scanner.scan({}, {quick, quick.size()});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->action, Action::kAccept) << "the bound is released: " << after->reason;
}

// A message the MIME stage flagged gets the raw pass only up to its bound; over it, a finding says
// the pass was not run (it used to run at any size once flagged).
TEST(Session, RawPassNeverRunsPastItsBoundOnFlaggedMail) {
  avsink::Config cfg;
  cfg.system_db = false;
  cfg.raw_message_pass = true;
  cfg.raw_message_pass_max_bytes = 0;  // flagged messages only
  auto opened = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  for (uint64_t size :
       {avsink::kRawPassFlaggedMaxBytes - 4096, avsink::kRawPassFlaggedMaxBytes + 4096}) {
    // No close delimiter: flagged as malformed (MIME.Malformed.MissingCloseBoundary).
    std::string msg =
        "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: "
        "text/plain\r\n\r\n";
    while (msg.size() < size) msg += "a line of ordinary text, repeated to make it big\r\n";
    auto v = opened.value()->scan({}, {msg, msg.size()});
    ASSERT_TRUE(v.ok()) << v.error().describe();
    bool skipped = false, flagged = false;
    for (const auto &f : v->findings) {
      skipped |= f.name == "Limits.Exceeded.RawMessagePass";
      flagged |= f.name == "MIME.Malformed.MissingCloseBoundary";
    }
    EXPECT_TRUE(flagged) << size;
    EXPECT_EQ(skipped, size > avsink::kRawPassFlaggedMaxBytes) << size << ": " << v->reason;
  }
}

}  // namespace

// session_raw_pass_guard_test.cpp - over-long MIME fields are cut in the raw pass's copy, nothing
// else changes, and the raw pass still runs (a fuzz input whose EICAR only that pass finds).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "session/raw_pass_guard.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::session::defuse_for_raw_pass;
using avsink::session::kRawPassMaxMimeFieldBytes;

std::string folded_field(const std::string &name, size_t bytes) {
  std::string f = name + ": x";
  while (f.size() < bytes) f += "\r\n y";
  return f + "\r\n";
}

TEST(RawPassGuard, LongTokenizedFieldsAreCutAndNothingElse) {
  const std::string head = "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n";
  const std::string tail = "Content-Type: text/plain\r\n\r\nbody line\r\n";
  const std::pair<std::string, std::string> names[] = {
      {"Content-Type", "Content-Type"},
      {"content-transfer-encoding", "Content-Transfer-Encoding"},
      {"CONTENT-DISPOSITION", "Content-Disposition"}};
  for (const auto &[name, canonical] : names) {
    const std::string msg = head + folded_field(name, 20000) + tail;
    auto d = defuse_for_raw_pass(msg);
    ASSERT_TRUE(d.has_value()) << name;
    EXPECT_LT(d->bytes.size(), msg.size()) << name;
    EXPECT_EQ(d->bytes.substr(0, head.size()), head) << name;
    EXPECT_EQ(d->bytes.substr(d->bytes.size() - tail.size()), tail) << name;
    const size_t field = d->bytes.size() - head.size() - tail.size();
    EXPECT_LE(field, kRawPassMaxMimeFieldBytes) << name;
    EXPECT_GT(field, kRawPassMaxMimeFieldBytes - 8) << name << ": cut more than needed";
    EXPECT_NE(d->why.find(canonical + " field"), std::string::npos) << d->why;
  }
  // Two long fields, one deep in a body: both cut; the text between them kept.
  const std::string middle = "\r\n--b\r\n";
  const std::string two = head + folded_field("Content-Type", 9000) + middle +
                          folded_field("Content-Transfer-Encoding", 30000) + tail;
  auto d = defuse_for_raw_pass(two);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->bytes.find(middle), std::string::npos);
  EXPECT_LE(d->bytes.size(),
            head.size() + 2 * kRawPassMaxMimeFieldBytes + middle.size() + tail.size());
}

TEST(RawPassGuard, OrdinaryMessagesAreLeftAlone) {
  EXPECT_FALSE(defuse_for_raw_pass("").has_value());
  EXPECT_FALSE(defuse_for_raw_pass("Content-Type: text/plain").has_value());  // no newline
  // A long field of another name (References in a long thread), and a long body line.
  const std::string msg = folded_field("References", 50000) + "Content-Type: text/plain\r\n\r\n" +
                          std::string(100000, 'a') + "\r\n";
  EXPECT_FALSE(defuse_for_raw_pass(msg).has_value());
  // Exactly at the cap.
  std::string at = folded_field("Content-Type", 100);
  while (at.size() + 4 <= kRawPassMaxMimeFieldBytes) at.insert(at.size() - 2, "\r\n y");
  EXPECT_LE(at.size(), kRawPassMaxMimeFieldBytes);
  EXPECT_FALSE(defuse_for_raw_pass(at + "\r\nbody\r\n").has_value()) << at.size();
}

// fuzz_scan's input: a 230 KB folded Content-Transfer-Encoding (libclamav's mail parser took 3.4 s
// on it) and an EICAR that only the raw pass finds. The pass must still run, on the cut copy.
TEST(RawPassGuard, TheRawPassStillRunsOnTheCutCopy) {
  std::vector<std::string> lines;
  std::mutex mu;
  avsink::Config cfg;
  cfg.system_db = false;
  auto s = avsink::session::Scanner::open(cfg,
                                          avsink::Logger(
                                              [&](avsink::LogLevel, const std::string &m) {
                                                std::lock_guard<std::mutex> lock(mu);
                                                lines.push_back(m);
                                              },
                                              avsink::LogLevel::kDebug),
                                          true);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const std::string msg = avsink::test::read_file(
      avsink::test::data_path("fuzz/scan/regression-quadratic-folded-cte.eml"));
  avsink::session::RawMessage raw{msg, msg.size()};
  auto v = (*s)->scan(avsink::Envelope{}, raw);
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_EQ(v->action, avsink::Action::kReject) << v->reason;
  bool cut = false;
  for (const auto &l : lines) cut |= l.find("Content-Transfer-Encoding field") != std::string::npos;
  EXPECT_TRUE(cut) << "the raw pass's copy was not cut";
}

}  // namespace

// core_audit_rotate_test.cpp - the audit log follows logrotate: after the file is moved away
// (or removed), the next record goes to a new file at the configured path, none is lost.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/audit.h"
#include "test_support.h"

namespace avsink {
namespace {

namespace fs = std::filesystem;

TEST(AuditRotate, NextRecordGoesToTheNewFileAfterAMove) {
  std::string dir = test::make_temp_dir("avsink-audit-rot-");
  std::string path = dir + "/audit.log";
  auto log = AuditLog::open(path).value();
  ASSERT_TRUE(log->record("one", {{"n", 1}}).ok());
  fs::rename(path, path + ".1");  // logrotate's move (no copytruncate)
  ASSERT_TRUE(log->record("two", {{"n", 2}}).ok());
  ASSERT_TRUE(fs::exists(path)) << "no new audit log after the move";
  std::string rotated = test::read_file(path + ".1"), fresh = test::read_file(path);
  EXPECT_NE(rotated.find("\"event\":\"one\""), std::string::npos) << rotated;
  EXPECT_EQ(rotated.find("\"event\":\"two\""), std::string::npos) << rotated;
  EXPECT_NE(fresh.find("\"event\":\"two\""), std::string::npos) << fresh;
  fs::remove_all(dir);
}

TEST(AuditRotate, ReopenFollowsARemovedFileAndKeepsTheSameOne) {
  std::string dir = test::make_temp_dir("avsink-audit-rot-");
  std::string path = dir + "/audit.log";
  auto log = AuditLog::open(path).value();
  ASSERT_TRUE(log->reopen().ok());  // same file: nothing happens
  ASSERT_TRUE(log->record("one", {}).ok());
  fs::remove(path);
  ASSERT_TRUE(log->reopen().ok());  // SIGHUP after the old file was deleted
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE(log->record("two", {}).ok());
  std::string text = test::read_file(path);
  EXPECT_NE(text.find("\"event\":\"two\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"event\":\"one\""), std::string::npos) << text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace avsink

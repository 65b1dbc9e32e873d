// session_nonregular_files_test.cpp - every file avsink is configured to read refuses a FIFO and
// /dev/zero with the file's name, without blocking, and a reload keeps the last good set.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>

#include "attachments/extension_list.h"
#include "core/config.h"
#include "core/deadline.h"
#include "core/result.h"
#include "engines/clamav_lib.h"
#include "engines/hash_list.h"
#include "quarantine/crypto.h"
#include "rules/rule_engine.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using avsink::Error;
using avsink::Result;

struct Dir {
  std::string path = avsink::test::make_temp_dir("avsink-nonreg-");
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string &name, const std::string &content) const {
    std::ofstream(path + "/" + name, std::ios::binary) << content;
    return path + "/" + name;
  }
  std::string fifo(const std::string &name) const {
    const std::string p = path + "/" + name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0) << p;
    return p;
  }
};

// Runs `load` on another thread and returns its error ("" = it succeeded). A load still blocked
// after 3 s fails the test and is released by a writer opening `fifo` (so the test always ends).
std::string bounded(const std::function<Result<void>()> &load, const std::string &fifo) {
  auto fut = std::async(std::launch::async, load);
  if (fut.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked for 3 s on " << fifo;
    int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w >= 0) ::close(w);
  }
  Result<void> r = fut.get();
  return r ? std::string() : r.error().describe();
}

template <typename T>
Result<void> just_status(const Result<T> &r) {
  if (!r) return r.error();
  return {};
}

// Issue 14 item 6 (red-team reproduction): a FIFO as a rule file hung the reload thread (and so
// SIGTERM); a hash list at /dev/zero grew until memory ran out. Each reader, each kind of file.
TEST(NonRegularFiles, EveryConfiguredReaderRefusesFifoAndDevZero) {
  Dir d;
  const std::string fifo = d.fifo("input.fifo");
  struct Reader {
    const char *label;
    std::function<Result<void>(const std::string &path)> load;
  };
  const Reader readers[] = {
      {"config", [](const std::string &p) { return just_status(avsink::load_config(p)); }},
      {"rule file",
       [](const std::string &p) {
         avsink::rules::RulesOptions o;
         o.files = {p};
         o.watch = false;
         return just_status(avsink::rules::RuleEngine::open(o, nullptr));
       }},
      {"rules check",
       [](const std::string &p) -> Result<void> {
         auto errors = avsink::rules::check_file(p);
         if (!errors.empty()) return errors.front();
         return {};
       }},
      {"hash list",
       [](const std::string &p) {
         avsink::engines::HashListOptions o;
         o.files = {p};
         return just_status(avsink::engines::HashListEngine::open(o));
       }},
      {"attachment list",
       [](const std::string &p) {
         return just_status(avsink::attachments::build_lists({p}, {}, {}));
       }},
      {"key file",
       [](const std::string &p) { return just_status(avsink::quarantine::load_key_file(p)); }},
  };
  for (const auto &reader : readers) {
    for (const std::string &path : {fifo, std::string("/dev/zero")}) {
      const std::string err = bounded([&] { return reader.load(path); }, fifo);
      EXPECT_NE(err, "") << reader.label << " " << path << ": loaded, want an error";
      EXPECT_NE(err.find(path), std::string::npos)
          << reader.label << ": the error names the file: " << err;
      EXPECT_NE(err.find("not a regular file"), std::string::npos) << reader.label << ": " << err;
    }
  }
}

TEST(NonRegularFiles, ReloadKeepsTheLastGoodSet) {
  Dir d;
  const std::string rules = d.file("a.rules", "subject /^Invoice overdue$/ reject\n");
  avsink::rules::RulesOptions ro;
  ro.files = {rules};
  ro.watch = false;
  auto re = avsink::rules::RuleEngine::open(ro, nullptr);
  ASSERT_TRUE(re) << re.error().describe();
  const std::string list = d.file("a.sha256", std::string(64, 'a') + "  Test.Name\n");
  avsink::engines::HashListOptions ho;
  ho.files = {list};
  auto he = avsink::engines::HashListEngine::open(ho);
  ASSERT_TRUE(he) << he.error().describe();

  // Both files are replaced by FIFOs (rename, as a config manager would).
  const std::string f1 = d.fifo("new.rules"), f2 = d.fifo("new.sha256");
  ASSERT_EQ(std::rename(f1.c_str(), rules.c_str()), 0);
  ASSERT_EQ(std::rename(f2.c_str(), list.c_str()), 0);
  EXPECT_NE(bounded([&] { return (*re)->reload(); }, rules), "");
  EXPECT_NE(bounded([&] { return (*he)->reload(); }, list), "");
  EXPECT_EQ((*re)->generation(), 1u);
  EXPECT_EQ((*re)->rule_count(), 1u);
  EXPECT_EQ((*he)->status().signatures, 1u) << "the hash list still holds its entry";
}

TEST(NonRegularFiles, SignatureDirectoryEntryThatIsAFifo) {
  Dir d;
  fs::create_directories(d.path + "/db");
  fs::copy_file(std::string(AVSINK_SOURCE_DIR) + "/signatures/avsink-test.ndb",
                d.path + "/db/avsink-test.ndb");
  avsink::engines::ClamavOptions o;
  o.signature_dirs = {d.path + "/db"};
  o.load_system_db = false;
  auto e = avsink::engines::ClamavEngine::open(o);
  ASSERT_TRUE(e) << e.error().describe();
  const std::string fifo = d.fifo("db/extra.ndb");
  const std::string err = bounded([&] { return (*e)->reload(); }, fifo);
  EXPECT_NE(err.find(fifo), std::string::npos) << "the error names the file: " << err;
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
  EXPECT_TRUE((*e)->status().error.empty()) << "the last good database stays";
  const std::string open_err =
      bounded([&] { return just_status(avsink::engines::ClamavEngine::open(o)); }, fifo);
  EXPECT_NE(open_err.find("not a regular file"), std::string::npos) << open_err;
}

}  // namespace

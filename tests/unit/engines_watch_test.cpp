// engines_watch_test.cpp - SignatureWatch over a ClamavEngine and a HashListEngine: freshclam-style
// replacements (write temp + rename) while threads scan. Invariant: zero failed scans across swaps,
// a new signature is live right after its swap, a broken database keeps the old engine and is
// audited.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/audit.h"
#include "core/deadline.h"
#include "core/finding.h"
#include "core/sha256.h"
#include "engines/clamav_lib.h"
#include "engines/hash_list.h"
#include "engines/signature_watch.h"
#include "test_support.h"

using avsink::test::TempDir;

namespace {

namespace fs = std::filesystem;
using avsink::AuditLog;
using avsink::Deadline;
using avsink::FindingKind;
using avsink::Findings;
using avsink::engines::ClamavEngine;
using avsink::engines::ClamavOptions;
using avsink::engines::HashListEngine;
using avsink::engines::HashListOptions;
using avsink::engines::ScanItem;
using avsink::engines::SignatureWatch;
using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool wait_until(const std::function<bool()> &cond, int ms) {
  const auto t0 = Clock::now();
  const long long bound = static_cast<long long>(ms * avsink::test::time_scale());
  while (!cond() && ms_since(t0) < bound) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return cond();
}

void write_file(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// freshclam's way: write a temp file next to the target, then rename it over the target.
void replace_file(const std::string &path, const std::string &data) {
  write_file(path + ".tmp", data);
  fs::rename(path + ".tmp", path);
}

std::string hex(const std::string &text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string update_marker(int n) {
  return "AVSINK-UPDATE-MARKER-" + std::to_string(n) + "-e1d5";
}
std::string update_db(int n) {
  return "# update " + std::to_string(n) + "\nAvsink.Update." + std::to_string(n) +
         ":0:*:" + hex(update_marker(n)) + "\n";
}

bool has(const Findings &f, const std::string &name) {
  for (const auto &x : f) {
    if (x.kind == FindingKind::kVirus && x.name == name) return true;
  }
  return false;
}

Findings scan_ok(avsink::engines::Engine &e, const std::string &data) {
  ScanItem item;
  item.data = data;
  auto r = e.scan(item, Deadline());
  if (!r) {
    ADD_FAILURE() << "scan: " << r.error().describe();
    return {};
  }
  return *r;
}

std::vector<nlohmann::json> audit_records(const std::string &path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// A signature directory with the shipped databases plus update.ndb, a ClamavEngine over it, an
// audit log, and a watcher.
struct ClamavSetup {
  TempDir dir{"avsink-watch-"};
  std::string sigs = dir.file("sigs");
  std::string audit_path = dir.file("audit.log");
  std::unique_ptr<ClamavEngine> engine;
  std::shared_ptr<AuditLog> audit;
  std::unique_ptr<SignatureWatch> watch;

  void open(uint32_t poll_ms, uint32_t debounce_ms) {
    fs::create_directories(sigs);
    for (const char *f : {"avsink-test.ndb", "avsink-test.hsb"}) {
      fs::copy_file(std::string(AVSINK_SOURCE_SIGNATURES_DIR) + "/" + f, sigs + "/" + f);
    }
    write_file(sigs + "/update.ndb", update_db(0));
    ClamavOptions o;
    o.signature_dirs = {sigs};
    o.load_system_db = false;
    auto e = ClamavEngine::open(o);
    ASSERT_TRUE(e) << e.error().describe();
    engine = std::move(*e);
    auto a = AuditLog::open(audit_path);
    ASSERT_TRUE(a) << a.error().describe();
    audit = *a;
    ClamavEngine *raw = engine.get();
    auto w = SignatureWatch::start(
        raw->watch_paths(), [raw] { return raw->reload(); }, [raw] { return raw->status(); }, audit,
        poll_ms, debounce_ms);
    ASSERT_TRUE(w) << w.error().describe();
    watch = std::move(*w);
  }
};

TEST(SignatureWatch, FiftyReplacementsWhileFourThreadsScan) {
  ClamavSetup s;
  ASSERT_NO_FATAL_FAILURE(s.open(/*poll_ms=*/200, /*debounce_ms=*/20));
  ClamavEngine &engine = *s.engine;

  const std::string eicar = avsink::test::eicar();
  std::atomic<bool> stop{false};
  std::atomic<long> scans{0}, failed{0}, missed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      ScanItem item;
      item.data = eicar;
      while (!stop) {
        auto r = engine.scan(item, Deadline());
        if (!r) {
          ++failed;
        } else if (!has(*r, "Eicar-Test-Signature")) {
          ++missed;
        }
        ++scans;
      }
    });
  }

  const auto t0 = Clock::now();
  long long worst_swap_ms = 0;
  int detected_after_swap = 0;
  for (int n = 1; n <= 50; ++n) {
    const auto t = Clock::now();
    replace_file(s.sigs + "/update.ndb", update_db(n));
    ASSERT_TRUE(wait_until([&] { return s.watch->reloads() >= static_cast<uint64_t>(n); }, 5000))
        << "update " << n << " not reloaded; rejected " << s.watch->rejected() << ": "
        << s.watch->last_error();
    worst_swap_ms = std::max(worst_swap_ms, ms_since(t));
    // Right after the swap: the signature the update added is live, the one it removed is gone.
    Findings now = scan_ok(engine, "x " + update_marker(n) + " y");
    if (has(now, "Avsink.Update." + std::to_string(n))) ++detected_after_swap;
    EXPECT_FALSE(
        has(scan_ok(engine, update_marker(n - 1)), "Avsink.Update." + std::to_string(n - 1)))
        << "update " << n;
  }
  const long long total_ms = ms_since(t0);
  stop = true;
  for (auto &th : threads) th.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(missed.load(), 0);
  EXPECT_EQ(detected_after_swap, 50);
  EXPECT_EQ(s.watch->reloads(), 50u);
  EXPECT_EQ(s.watch->rejected(), 0u);
  EXPECT_EQ(engine.status().generation, 51u);
  EXPECT_LT(total_ms, 30000);

  // One audit record per reload, each with the files' SHA-256s; the last names update 50.
  auto records = audit_records(s.audit_path);
  ASSERT_EQ(records.size(), 50u);
  const auto &last = records.back();
  EXPECT_EQ(last["event"], "signatures.reload");
  EXPECT_EQ(last["engine"], "clamav");
  EXPECT_EQ(last["generation"], 51);
  EXPECT_EQ(last["signatures"], 5);
  bool found = false;
  for (const auto &f : last["files"]) {
    if (f["path"] == s.sigs + "/update.ndb") {
      EXPECT_EQ(f["sha256"], avsink::sha256_hex(update_db(50)));
      found = true;
    }
  }
  EXPECT_TRUE(found) << last.dump();
  std::printf("50 swaps in %lld ms (worst %lld ms from rename to live), %ld scans, 0 failed\n",
              total_ms, worst_swap_ms, scans.load());
}

TEST(SignatureWatch, BrokenDatabaseKeepsOldEngineAndIsAudited) {
  ClamavSetup s;
  ASSERT_NO_FATAL_FAILURE(s.open(200, 20));
  replace_file(s.sigs + "/update.ndb", update_db(1));
  ASSERT_TRUE(wait_until([&] { return s.watch->reloads() == 1; }, 5000));
  EXPECT_EQ(s.engine->status().generation, 2u);

  replace_file(s.sigs + "/update.ndb", "Avsink.Update.2:0:*:zz-not-hex\n");
  ASSERT_TRUE(wait_until([&] { return s.watch->rejected() == 1; }, 5000));
  EXPECT_EQ(s.engine->status().generation, 2u);
  EXPECT_TRUE(has(scan_ok(*s.engine, update_marker(1)), "Avsink.Update.1"));
  EXPECT_TRUE(has(scan_ok(*s.engine, avsink::test::eicar()), "Eicar-Test-Signature"));
  EXPECT_NE(s.watch->last_error().find("update.ndb"), std::string::npos) << s.watch->last_error();

  auto records = audit_records(s.audit_path);
  ASSERT_EQ(records.size(), 2u);
  const auto &r = records[1];
  EXPECT_EQ(r["event"], "signatures.reload_rejected");
  EXPECT_EQ(r["engine"], "clamav");
  EXPECT_EQ(r["file"], s.sigs + "/update.ndb") << r.dump();
  EXPECT_EQ(r["line"], 1) << r.dump();
  EXPECT_EQ(r["keeping_generation"], 2);
  EXPECT_EQ(r["message"], "keeping generation 2");
  EXPECT_NE(r["reason"].get<std::string>(), "");

  // Not retried while nothing changes; fixed file -> reloaded.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(s.watch->rejected(), 1u);
  replace_file(s.sigs + "/update.ndb", update_db(3));
  ASSERT_TRUE(wait_until([&] { return s.watch->reloads() == 2; }, 5000));
  EXPECT_TRUE(has(scan_ok(*s.engine, update_marker(3)), "Avsink.Update.3"));
  EXPECT_EQ(s.watch->last_error(), "");
}

TEST(SignatureWatch, BurstOfWritesIsOneReload) {
  ClamavSetup s;
  ASSERT_NO_FATAL_FAILURE(s.open(1000, 300));
  for (int n = 1; n <= 20; ++n) {
    replace_file(s.sigs + "/update.ndb", update_db(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(wait_until([&] { return s.watch->reloads() >= 1; }, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(s.watch->reloads(), 1u);
  EXPECT_TRUE(has(scan_ok(*s.engine, update_marker(20)), "Avsink.Update.20"));
}

TEST(SignatureWatch, FreshclamSideFilesDoNotReload) {
  ClamavSetup s;
  ASSERT_NO_FATAL_FAILURE(s.open(100, 20));
  EXPECT_TRUE(s.watch->using_inotify());
  // What freshclam writes besides databases: its state file, a tmp.* directory, temp files.
  write_file(s.sigs + "/freshclam.dat", "state");
  fs::create_directories(s.sigs + "/tmp.1a2b3c");
  write_file(s.sigs + "/tmp.1a2b3c/daily.cld", "partial");
  write_file(s.sigs + "/daily.cld.tmp", "partial");
  fs::remove(s.sigs + "/daily.cld.tmp");
  fs::remove_all(s.sigs + "/tmp.1a2b3c");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(s.watch->reloads(), 0u);
  EXPECT_EQ(s.watch->rejected(), 0u);
  // A new database file (not a replacement) is picked up too.
  write_file(s.sigs + "/extra.ndb", update_db(7));
  ASSERT_TRUE(wait_until([&] { return s.watch->reloads() == 1; }, 5000)) << s.watch->last_error();
  EXPECT_TRUE(has(scan_ok(*s.engine, update_marker(7)), "Avsink.Update.7"));
}

TEST(SignatureWatch, WatchesAHashListFile) {
  TempDir t{"avsink-watch-"};
  const std::string list = t.file("site.sha256");
  write_file(list, avsink::sha256_hex("one") + " Site.One\n");
  HashListOptions o;
  o.files = {list};
  auto e = HashListEngine::open(o);
  ASSERT_TRUE(e) << e.error().describe();
  HashListEngine *raw = e->get();
  auto w = SignatureWatch::start(
      raw->files(), [raw] { return raw->reload(); }, [raw] { return raw->status(); }, nullptr, 100,
      20);
  ASSERT_TRUE(w) << w.error().describe();
  EXPECT_TRUE(has(scan_ok(*raw, "one"), "Site.One"));
  replace_file(list, avsink::sha256_hex("two") + " Site.Two\n");
  ASSERT_TRUE(wait_until([&] { return (*w)->reloads() == 1; }, 5000));
  EXPECT_TRUE(has(scan_ok(*raw, "two"), "Site.Two"));
  EXPECT_TRUE(scan_ok(*raw, "one").empty());
  // An empty list is a mistake: rejected, the old list stays.
  replace_file(list, "");
  ASSERT_TRUE(wait_until([&] { return (*w)->rejected() == 1; }, 5000));
  EXPECT_TRUE(has(scan_ok(*raw, "two"), "Site.Two"));
}

TEST(EngineStatus, DbAgeWarning) {
  using avsink::engines::EngineStatus;
  const int64_t now = 1795000000;
  const int64_t day = 86400;
  struct Case {
    const char *label;
    int64_t db_time;
    std::string error;
    int64_t max_age;
    std::string want;
  };
  const Case cases[] = {
      {"fresh", now - day, "", 2 * day, ""},
      {"at the limit", now - 2 * day, "", 2 * day, ""},
      {"one second over", now - 2 * day - 1, "", 2 * day,
       "clamav: signature database is 48 h old (limit 48 h)"},
      {"old", now - 5 * day, "", 2 * day, "clamav: signature database is 120 h old (limit 48 h)"},
      {"no age check", now - 500 * day, "", 0, ""},
      {"unknown age", 0, "", 2 * day, ""},
      {"unreachable", 0, "connect: refused", 2 * day, "clamav: connect: refused"},
  };
  for (const auto &c : cases) {
    EngineStatus s;
    s.name = "clamav";
    s.db_time = c.db_time;
    s.error = c.error;
    EXPECT_EQ(avsink::engines::db_age_warning(s, now, c.max_age), c.want) << c.label;
  }
  EngineStatus unknown;
  EXPECT_EQ(avsink::engines::db_age_seconds(unknown, now), -1);
  unknown.db_time = now + 10;  // clock skew: never negative
  EXPECT_EQ(avsink::engines::db_age_seconds(unknown, now), 0);
}

TEST(SignatureWatch, StartErrors) {
  auto ok_reload = [] { return avsink::Result<void>(); };
  auto ok_status = [] { return avsink::engines::EngineStatus(); };
  EXPECT_FALSE(SignatureWatch::start({}, ok_reload, ok_status, nullptr, 100));
  EXPECT_FALSE(SignatureWatch::start({""}, ok_reload, ok_status, nullptr, 100));
  EXPECT_FALSE(SignatureWatch::start({"/tmp"}, ok_reload, ok_status, nullptr, 0));
  EXPECT_FALSE(SignatureWatch::start({"/tmp"}, nullptr, ok_status, nullptr, 100));
  // A path that does not exist yet is fine (freshclam creates it later); stopping is prompt.
  const auto t0 = Clock::now();
  {
    auto w =
        SignatureWatch::start({"/nonexistent/avsink/db"}, ok_reload, ok_status, nullptr, 10000);
    ASSERT_TRUE(w) << w.error().describe();
  }
  EXPECT_LT(ms_since(t0), 500);
}

}  // namespace

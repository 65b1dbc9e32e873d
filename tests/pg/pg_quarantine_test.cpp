// pg_quarantine_test.cpp - the PostgreSQL quarantine backend against a real server (started by
// tests/pg/pg_server.sh): two gateways, release across them, kill -9, server loss, tampering.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <libpq-fe.h>

#include "alloc_counter.h"
#include "core/config.h"
#include "core/sha256.h"
#include "quarantine/open.h"
#include "quarantine/pg_store.h"
#include "quarantine/store.h"
#include "session/scanner.h"
#include "test_support.h"

namespace q = avsink::quarantine;
using avsink::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

// Runs SQL on the server as the superuser; returns the first value of the first row ("" if none).
std::string sql(const std::string &conninfo, const std::string &text) {
  PGconn *c = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult *r = PQexec(c, text.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
      << text << ": " << PQresultErrorMessage(r);
  std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0
                        ? PQgetvalue(r, 0, 0)
                        : "";
  PQclear(r);
  PQfinish(c);
  return out;
}

// A fresh database per test; returns its connection string.
std::string fresh_db(const std::string &name) {
  const std::string admin = env("AVSINK_PG_CONNINFO");
  sql(admin, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  sql(admin, "CREATE DATABASE " + name);
  return "host=" + env("AVSINK_PG_SOCKET_DIR") + " user=avsink dbname=" + name;
}

std::string key_file(const std::string &dir) {
  std::string path = dir + "/key";
  std::ofstream(path) << std::string(64, 'a') << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

q::PgOptions pg_options(const std::string &conninfo, const std::string &dir) {
  q::PgOptions o;
  o.conninfo = conninfo;
  o.key_file = key_file(dir);
  o.timeout_ms = 3000;
  return o;
}

std::unique_ptr<q::PgStore> open_pg(const q::PgOptions &o) {
  auto s = q::PgStore::open(o, nullptr);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return s.ok() ? std::move(*s) : nullptr;
}

q::EntryMeta meta_to(const std::string &rcpt) {
  q::EntryMeta m;
  m.envelope.mail_from = "a@example.org";
  m.envelope.rcpt_to = {rcpt};
  m.action = "quarantine";
  m.reason = "test";
  return m;
}

std::string message(int i, size_t body = 100) {
  return "From: a@example.org\r\nTo: b@example.net\r\nSubject: m" + std::to_string(i) + "\r\n\r\n" +
         std::string(body, static_cast<char>('a' + i % 26)) + "\r\n";
}

int server(const std::string &what) {
  std::string cmd = env("AVSINK_PG_CTL") + " " + what + " " + env("AVSINK_PG_DIR");
  return std::system(cmd.c_str());
}

// Every process of the server: the postmaster (postmaster.pid) and its children.
std::vector<pid_t> server_pids() {
  std::ifstream pf(env("AVSINK_PG_DIR") + "/data/postmaster.pid");
  pid_t master = 0;
  pf >> master;
  std::vector<pid_t> out;
  if (master <= 0) return out;
  out.push_back(master);
  DIR *d = ::opendir("/proc");
  while (struct dirent *e = d ? ::readdir(d) : nullptr) {
    pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
    if (p <= 0) continue;
    std::ifstream st("/proc/" + std::to_string(p) + "/stat");
    std::string line;
    std::getline(st, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == master)
      out.push_back(p);
  }
  if (d) ::closedir(d);
  return out;
}

class PgQuarantine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env("AVSINK_PG_CONNINFO").empty())
        << "run through tests/pg/pg_server.sh (ctest does)";
    dir_ = avsink::test::make_temp_dir("avsink-pg-");
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "t_" + std::string(info->name());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    conninfo_ = fresh_db(name);
  }
  void migrate() {
    auto m = q::pg_migrate(conninfo_, 3000);
    ASSERT_TRUE(m.ok()) << m.error().describe();
  }
  std::string dir_, conninfo_;
};

TEST_F(PgQuarantine, OpensOnlyAMigratedSchemaAndMigrateIsIdempotent) {
  auto before = q::PgStore::open(pg_options(conninfo_, dir_), nullptr);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, ErrorCode::kConfig);
  EXPECT_NE(before.error().message.find("avsink quarantine migrate"), std::string::npos)
      << before.error().message;
  EXPECT_EQ(sql(conninfo_, "SELECT to_regclass('avsink_entries') IS NULL"), "t")
      << "open() changed the schema";
  auto m = q::pg_migrate(conninfo_, 3000);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->first, 0);
  EXPECT_EQ(m->second, q::pg_schema_version());
  auto again = q::pg_migrate(conninfo_, 3000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first, again->second);
  EXPECT_NE(open_pg(pg_options(conninfo_, dir_)), nullptr);
  // A schema newer than this build is refused too.
  sql(conninfo_, "INSERT INTO avsink_schema (version) VALUES (999)");
  auto newer = q::PgStore::open(pg_options(conninfo_, dir_), nullptr);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("999"), std::string::npos);
}

TEST_F(PgQuarantine, PasswordInTheConnectionStringIsRefused) {
  auto o = pg_options(conninfo_ + " password=secret", dir_);
  auto s = q::PgStore::open(o, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConfig);
  EXPECT_NE(s.error().message.find("passfile"), std::string::npos);
}

TEST_F(PgQuarantine, EncryptedChunkedRoundTripAndRetentionPurge) {
  migrate();
  auto o = pg_options(conninfo_, dir_);
  o.chunk_bytes = 64 * 1024;
  int64_t t = 1'000'000'000;
  o.clock = [&] { return t; };
  auto s = open_pg(o);
  ASSERT_NE(s, nullptr);
  const std::string big = message(1, 1 << 20);
  auto id = s->put(big, meta_to("b@example.net"));
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_GE(std::stoi(sql(conninfo_, "SELECT count(*) FROM avsink_chunks")), 16);
  // Encrypted at rest: the body text is not in any row.
  EXPECT_EQ(sql(conninfo_,
                "SELECT count(*) FROM avsink_chunks WHERE position('bbbbbbbbbbbbbbbb'::"
                "bytea in data) > 0"),
            "0");
  auto back = s->message(*id);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(*back, big);
  auto m = s->meta(*id);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->encrypted);
  EXPECT_EQ(m->envelope.rcpt_to, std::vector<std::string>{"b@example.net"});
  t += 40 * 86400;
  auto fresh = s->put(message(2), meta_to("c@example.net"));
  ASSERT_TRUE(fresh.ok());
  auto purged = s->purge_expired("test");
  ASSERT_TRUE(purged.ok()) << purged.error().describe();
  EXPECT_EQ(*purged, 1u);
  EXPECT_FALSE(s->exists(*id));
  EXPECT_TRUE(s->exists(*fresh));
  EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM avsink_entries"), "1");
}

TEST_F(PgQuarantine, TwoGatewaysWriteConcurrently) {
  migrate();
  auto a = open_pg(pg_options(conninfo_, dir_));
  auto b = open_pg(pg_options(conninfo_, dir_));
  ASSERT_TRUE(a && b);
  std::mutex mu;
  std::set<std::string> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    q::Backend *g = t % 2 ? static_cast<q::Backend *>(a.get()) : b.get();
    threads.emplace_back([&, g, t] {
      for (int i = 0; i < 15; ++i) {
        auto id = g->put(message(t * 100 + i, 3000 + i), meta_to("b@example.net"));
        if (!id) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> l(mu);
        ids.insert(*id);
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ids.size(), 90u);
  for (q::Backend *g : {static_cast<q::Backend *>(a.get()), static_cast<q::Backend *>(b.get())}) {
    auto l = g->list();
    ASSERT_TRUE(l.ok()) << l.error().describe();
    std::set<std::string> listed;
    for (const auto &m : *l) listed.insert(m.id);
    EXPECT_EQ(listed, ids);
    auto v = g->verify();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->ok, 90u);
    EXPECT_TRUE(v->bad.empty());
  }
}

TEST_F(PgQuarantine, OneGatewayQuarantinesAnotherReleasesTheMarkWorksOnce) {
  migrate();
  auto a = open_pg(pg_options(conninfo_, dir_));
  auto b = open_pg(pg_options(conninfo_, dir_));
  ASSERT_TRUE(a && b);
  const std::string msg = message(3);
  auto id = a->put(msg, meta_to("b@example.net"));
  ASSERT_TRUE(id.ok());
  auto listed = b->list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, *id);
  auto stored = b->message(*id);
  ASSERT_TRUE(stored.ok());
  auto copy = b->prepare_release(*id, *stored, {"b@example.net"});
  ASSERT_TRUE(copy.ok()) << copy.error().describe();
  std::string arrived = "Received: from gw2 by mx; Tue, 1 Dec 2026 10:00:00 +0000\r\n" + *copy;
  // Not to a recipient it was not released to, on either gateway.
  auto eve = a->use_release(arrived, {"<eve@example.com>"});
  EXPECT_FALSE(eve.valid);
  EXPECT_NE(eve.refused.find("not released to"), std::string::npos) << eve.refused;
  // Gateway A honours it once...
  auto first = a->use_release(arrived, {"<B@example.net>"});
  EXPECT_TRUE(first.valid) << first.refused;
  EXPECT_EQ(first.id, *id);
  // ... and every gateway refuses the second use.
  for (q::Backend *g : {static_cast<q::Backend *>(a.get()), static_cast<q::Backend *>(b.get())}) {
    auto again = g->use_release(arrived, {"<b@example.net>"});
    EXPECT_FALSE(again.valid);
    EXPECT_EQ(again.refused, "release mark already used");
  }
  // Concurrent replays on two gateways: exactly one may win.
  auto copy2 = a->prepare_release(*id, *stored, {"b@example.net"});
  // A second mark in the same second would collide with the first record: wait a second.
  if (!copy2.ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    copy2 = a->prepare_release(*id, *stored, {"b@example.net"});
  }
  ASSERT_TRUE(copy2.ok()) << copy2.error().describe();
  std::atomic<int> wins{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] {
      q::Backend *g = i % 2 ? static_cast<q::Backend *>(a.get()) : b.get();
      if (g->use_release(*copy2, {"b@example.net"}).valid) ++wins;
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(wins.load(), 1);
}

TEST_F(PgQuarantine, KillNineOfAWriterMidEntryLeavesNoPartialEntry) {
  migrate();
  auto o = pg_options(conninfo_, dir_);
  o.conninfo += " application_name=avsink-writer";
  o.chunk_bytes = 16 * 1024;
  o.timeout_ms = 60000;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = q::PgStore::open(o, nullptr);
    if (!s) ::_exit(3);
    std::string big = message(5, 48u << 20);  // thousands of chunk rows: seconds of writing
    for (;;) (void)(*s)->put(big, meta_to("b@example.net"));
  }
  // Wait (bounded) until the writer is inside its transaction with chunks written.
  bool in_txn = false;
  for (int i = 0; i < 300 && !in_txn; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    in_txn = sql(conninfo_,
                 "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                 "'avsink-writer' AND xact_start IS NOT NULL AND query LIKE 'INSERT INTO "
                 "avsink_chunks%'") == "1";
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(in_txn) << "the writer never got mid-entry";
  // The server notices the dead client and rolls back (bounded wait).
  std::string left = "1";
  for (int i = 0; i < 200 && left != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = sql(conninfo_,
               "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'avsink-writer'");
  }
  EXPECT_EQ(left, "0");
  auto s = open_pg(pg_options(conninfo_, dir_));
  ASSERT_NE(s, nullptr);
  auto l = s->list();
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty()) << l->size() << " entries after the kill";
  EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM avsink_chunks"), "0");
  auto v = s->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->bad.empty());
}

TEST_F(PgQuarantine, ServerStoppedMidLoadFailsWithinTheTimeoutAndLosesNothing) {
  migrate();
  auto o = pg_options(conninfo_, dir_);
  o.timeout_ms = 2000;
  auto s = open_pg(o);
  ASSERT_NE(s, nullptr);
  std::vector<std::string> ok_ids;
  int failed = 0;
  bool stopped = false;
  const auto begin = Clock::now();
  for (int i = 0; i < 400 && Clock::now() - begin < std::chrono::seconds(40); ++i) {
    if (i == 30) {
      ASSERT_EQ(server("stop"), 0);
      stopped = true;
    }
    if (i == 60) {
      ASSERT_EQ(server("start"), 0);
      stopped = false;
    }
    const auto t0 = Clock::now();
    auto id = s->put(message(i), meta_to("b@example.net"));
    const auto took = Clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(o.timeout_ms + 1500)) << "put " << i;
    if (id) {
      EXPECT_FALSE(stopped) << "a put succeeded with the server down";
      ok_ids.push_back(*id);
    } else {
      ++failed;
      EXPECT_TRUE(id.error().code == ErrorCode::kIo || id.error().code == ErrorCode::kTimeout);
      EXPECT_EQ(id.error().message.rfind("postgresql:", 0), 0u) << id.error().message;
    }
    if (i >= 60 && ok_ids.size() >= 50) break;
  }
  if (stopped) server("start");
  EXPECT_GE(failed, 30);  // every put while it was down
  EXPECT_GE(ok_ids.size(), 50u);
  auto l = s->list();
  ASSERT_TRUE(l.ok()) << l.error().describe();
  std::set<std::string> listed;
  for (const auto &m : *l) listed.insert(m.id);
  for (const auto &id : ok_ids) EXPECT_TRUE(listed.count(id)) << "lost " << id;
  EXPECT_EQ(listed.size(), ok_ids.size());
  auto v = s->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ok, ok_ids.size());
}

TEST_F(PgQuarantine, AFrozenServerIsATimeoutNotAHang) {
  migrate();
  auto o = pg_options(conninfo_, dir_);
  o.timeout_ms = 1000;
  auto s = open_pg(o);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->put(message(1), meta_to("b@example.net")).ok());
  auto pids = server_pids();
  ASSERT_FALSE(pids.empty());
  for (pid_t p : pids) ::kill(p, SIGSTOP);
  const auto t0 = Clock::now();
  auto id = s->put(message(2), meta_to("b@example.net"));
  const auto took = Clock::now() - t0;
  for (pid_t p : pids) ::kill(p, SIGCONT);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kTimeout) << id.error().describe();
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  auto again = s->put(message(3), meta_to("b@example.net"));
  EXPECT_TRUE(again.ok()) << again.error().describe();
}

// A quarantine write gets what is left of the scan deadline, not a fresh pg_timeout_ms: the MTA
// is waiting on the scan. The entries table is locked by another session, so the write waits.
TEST_F(PgQuarantine, AWriteEndsWithWhatIsLeftOfTheScanDeadline) {
  migrate();
  auto o = pg_options(conninfo_, dir_);
  o.timeout_ms = 20000;  // far beyond the scan's time
  auto s = open_pg(o);
  ASSERT_NE(s, nullptr);
  PGconn *blocker = PQconnectdb(conninfo_.c_str());
  ASSERT_EQ(PQstatus(blocker), CONNECTION_OK) << PQerrorMessage(blocker);
  PQclear(PQexec(blocker, "BEGIN"));
  PGresult *lock = PQexec(blocker, "LOCK TABLE avsink_entries IN ACCESS EXCLUSIVE MODE");
  EXPECT_EQ(PQresultStatus(lock), PGRES_COMMAND_OK) << PQresultErrorMessage(lock);
  PQclear(lock);

  const avsink::Deadline scan = avsink::Deadline::after_ms(1200);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the scan used some of it
  const auto t0 = Clock::now();
  auto id = s->put(message(1), meta_to("b@example.net"), &scan);
  const auto took = Clock::now() - t0;
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kTimeout) << id.error().describe();
  EXPECT_LT(took, std::chrono::milliseconds(4000)) << "waited for the store timeout instead";
  EXPECT_GE(took, std::chrono::milliseconds(500)) << "gave up before the scan deadline";

  // A deadline already passed: nothing is attempted, the verdict tempfails.
  const avsink::Deadline late = avsink::Deadline::after_ms(0);
  auto id2 = s->put(message(2), meta_to("b@example.net"), &late);
  ASSERT_FALSE(id2.ok());
  EXPECT_EQ(id2.error().code, ErrorCode::kTimeout);

  PQclear(PQexec(blocker, "ROLLBACK"));
  PQfinish(blocker);
  EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM avsink_entries"), "0");
  auto ok = s->put(message(3), meta_to("b@example.net"), nullptr);
  EXPECT_TRUE(ok.ok()) << ok.error().describe();
}

TEST_F(PgQuarantine, QuarantineVerdictTempfailsWhenTheServerIsDown) {
  migrate();
  avsink::Config cfg;
  cfg.system_db = false;
  cfg.quarantine_backend = "postgresql";
  cfg.pg_conninfo = conninfo_;
  cfg.quarantine_key_file = key_file(dir_);
  cfg.pg_timeout_ms = 1500;
  cfg.limits.max_mime_depth = 2;  // a deep message is unscannable: the default quarantines
  auto opened = avsink::session::Scanner::open(cfg, avsink::Logger(), false);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  std::string body = "Content-Type: text/plain\r\n\r\nhello\r\n";
  for (int i = 0; i < 4; ++i) {
    std::string b = "d" + std::to_string(i);
    body = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + body +
           "--" + b + "--\r\n";
  }
  std::string msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: deep\r\n" + body;
  avsink::Envelope env;
  env.rcpt_to = {"<b@example.net>"};
  auto v = (*opened)->scan(env, avsink::session::RawMessage{msg, msg.size()});
  ASSERT_TRUE(v.ok()) << v.error().describe();
  ASSERT_EQ(v->action, avsink::Action::kQuarantine);
  EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM avsink_entries"), "1");

  ASSERT_EQ(server("stop"), 0);
  const auto t0 = Clock::now();
  auto down = (*opened)->scan(env, avsink::session::RawMessage{msg, msg.size()});
  const auto took = Clock::now() - t0;
  ASSERT_EQ(server("start"), 0);
  // An error from the scan is what the C ABI and the milter turn into a tempfail.
  ASSERT_FALSE(down.ok()) << "a quarantine verdict without a stored copy";
  EXPECT_NE(down.error().message.find("quarantine write failed"), std::string::npos);
  EXPECT_LT(took, std::chrono::milliseconds(cfg.pg_timeout_ms + 1500));
}

// Big messages with bounded memory on PostgreSQL too: a 24 MiB message goes through put, a
// streamed read, verify, export and import with this process allocating (operator new) under
// 8 MiB besides the message itself. libpq's own buffers hold one chunk row per statement.
TEST_F(PgQuarantine, BigMessageStaysWithinAFewChunks) {
  migrate();
  auto s = open_pg(pg_options(conninfo_, dir_));
  ASSERT_NE(s, nullptr);
  const size_t kSize = size_t{24} << 20;
  const int64_t kBound = int64_t{8} << 20;
  std::string msg = message(5, kSize);
  const std::string sha = avsink::sha256_hex(msg);
  auto report = [](const char *what, int64_t bytes) {
    std::printf("postgresql memory: %s of a 24 MiB message peaked at %.2f MiB\n", what,
                static_cast<double>(bytes) / (1 << 20));
  };
  std::string id;
  {
    avsink::test::PeakAlloc peak;
    auto put = s->put(msg, meta_to("b@example.net"));
    ASSERT_TRUE(put.ok()) << put.error().describe();
    id = *put;
    report("put", peak.peak());
    EXPECT_LT(peak.peak(), kBound) << "put";
  }
  EXPECT_GE(std::stoll(sql(conninfo_, "SELECT chunks FROM avsink_entries")), 24);
  {
    avsink::test::PeakAlloc peak;
    avsink::Sha256 h;
    auto m = s->read_message(id, [&](std::string_view d) -> avsink::Result<void> {
      h.update(d);
      return {};
    });
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ(h.final_hex(), sha);
    report("streamed read", peak.peak());
    EXPECT_LT(peak.peak(), kBound) << "streamed read";
  }
  {
    avsink::test::PeakAlloc peak;
    auto v = s->verify();
    ASSERT_TRUE(v.ok()) << v.error().describe();
    EXPECT_EQ(v->ok, 1u);
    report("verify", peak.peak());
    EXPECT_LT(peak.peak(), kBound) << "verify";
  }
  {
    avsink::test::PeakAlloc peak;
    auto e = s->export_to(dir_ + "/big.tar");
    ASSERT_TRUE(e.ok()) << e.error().describe();
    report("export", peak.peak());
    EXPECT_LT(peak.peak(), kBound) << "export";
  }
  const std::string other = fresh_db("t_big_import");
  ASSERT_TRUE(q::pg_migrate(other, 3000).ok());
  auto target = open_pg(pg_options(other, dir_));
  ASSERT_NE(target, nullptr);
  {
    avsink::test::PeakAlloc peak;
    auto i = target->import_from(dir_ + "/big.tar");
    ASSERT_TRUE(i.ok()) << i.error().describe();
    EXPECT_EQ(*i, 1u);
    report("import", peak.peak());
    EXPECT_LT(peak.peak(), kBound) << "import";
  }
  auto back = target->message(id);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_TRUE(*back == msg);
}

TEST_F(PgQuarantine, TamperingWithARowIsDetected) {
  migrate();
  auto s = open_pg(pg_options(conninfo_, dir_));
  ASSERT_NE(s, nullptr);
  auto a = s->put(message(1, 5000), meta_to("b@example.net"));
  auto b = s->put(message(2, 5000), meta_to("b@example.net"));
  auto c = s->put(message(3, 5000), meta_to("b@example.net"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  // One byte of the sealed body flipped.
  sql(conninfo_,
      "UPDATE avsink_chunks SET data = set_byte(data, 200, get_byte(data, 200) # 1) "
      "WHERE id = '" +
          *a + "'");
  // A chunk row removed behind the entry's back (the entry row says 1 chunk: add a stray).
  sql(conninfo_, "INSERT INTO avsink_chunks (id, seq, data) VALUES ('" + *b + "', 7, 'x')");
  // The entry's recorded digest changed.
  sql(conninfo_, "UPDATE avsink_entries SET sha256 = repeat('0', 64) WHERE id = '" + *c + "'");
  auto ma = s->message(*a);
  ASSERT_FALSE(ma.ok());
  EXPECT_NE(ma.error().message.find("tampered"), std::string::npos) << ma.error().message;
  EXPECT_FALSE(s->message(*b).ok());
  auto v = s->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ok, 0u);
  std::set<std::string> bad;
  for (const auto &[id, why] : v->bad) bad.insert(id);
  EXPECT_EQ(bad, (std::set<std::string>{*a, *b, *c}));
  // And an export refuses to carry a tampered entry.
  auto ex = s->export_to(dir_ + "/out.tar");
  EXPECT_FALSE(ex.ok());
}

TEST_F(PgQuarantine, ExportAndImportBetweenTheBackendsVerified) {
  migrate();
  q::StoreOptions fo;
  fo.dir = dir_ + "/fs";
  fo.key_file = key_file(dir_);
  auto fs = q::Store::open(fo, nullptr);
  ASSERT_TRUE(fs.ok()) << fs.error().describe();
  std::map<std::string, std::string> want;
  for (int i = 0; i < 4; ++i) {
    std::string m = message(i, 1000 * (i + 1));
    auto id = (*fs)->put(m, meta_to("b@example.net"));
    ASSERT_TRUE(id.ok());
    want[*id] = m;
  }
  ASSERT_TRUE((*fs)->export_to(dir_ + "/fs.tar").ok());
  auto o = pg_options(conninfo_, dir_);
  o.chunk_bytes = 1024;  // several chunks per entry
  auto pg = open_pg(o);
  ASSERT_NE(pg, nullptr);
  auto n = pg->import_from(dir_ + "/fs.tar");
  ASSERT_TRUE(n.ok()) << n.error().describe();
  EXPECT_EQ(*n, 4u);
  auto again = pg->import_from(dir_ + "/fs.tar");  // identical entries: nothing added
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
  for (const auto &[id, m] : want) {
    auto got = pg->message(id);
    ASSERT_TRUE(got.ok()) << got.error().describe();
    EXPECT_EQ(*got, m);
  }
  ASSERT_TRUE(pg->export_to(dir_ + "/pg.tar").ok());
  q::StoreOptions fo2 = fo;
  fo2.dir = dir_ + "/fs2";
  auto fs2 = q::Store::open(fo2, nullptr);
  ASSERT_TRUE(fs2.ok());
  auto n2 = (*fs2)->import_from(dir_ + "/pg.tar");
  ASSERT_TRUE(n2.ok()) << n2.error().describe();
  EXPECT_EQ(*n2, 4u);
  for (const auto &[id, m] : want) EXPECT_EQ(*(*fs2)->message(id), m);
  // A corrupted archive is refused whole: nothing is added to PostgreSQL.
  auto pg_empty_db = fresh_db("t_import_corrupt");
  ASSERT_TRUE(q::pg_migrate(pg_empty_db, 3000).ok());
  auto target = open_pg(pg_options(pg_empty_db, dir_));
  std::string tar = avsink::test::read_file(dir_ + "/fs.tar");
  tar[512 + 100] ^= 1;  // inside the first entry's data
  std::ofstream(dir_ + "/bad.tar", std::ios::binary) << tar;
  EXPECT_FALSE(target->import_from(dir_ + "/bad.tar").ok());
  EXPECT_EQ(sql(pg_empty_db, "SELECT count(*) FROM avsink_entries"), "0");
}

}  // namespace

namespace {

struct CliRun {
  int status = -1;
  std::string out;
};

CliRun run_cli(const std::string &args) {
  CliRun r;
  std::string cmd = std::string(AVSINK_CLI_PATH) + " " + args + " 2>&1";
  FILE *p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The documented keys and commands: backend, pg_conninfo_file, pg_timeout_ms, `quarantine
// migrate`, export/import across backends from the CLI, and a clear error when the server is down.
TEST_F(PgQuarantine, CliMigratesListsAndReportsAnUnreachableServer) {
  const std::string conf = dir_ + "/avsink.toml";
  std::ofstream(dir_ + "/conninfo") << "# the quarantine database\n" << conninfo_ << "\n";
  std::ofstream(conf) << "[quarantine]\nbackend = \"postgresql\"\npg_conninfo_file = \"" << dir_
                      << "/conninfo\"\npg_timeout_ms = 2000\nkey_file = \"" << key_file(dir_)
                      << "\"\n[audit]\nlog = \"" << dir_ << "/audit.log\"\n";
  CliRun before = run_cli("quarantine list --config " + conf);
  EXPECT_EQ(before.status, 2) << before.out;
  EXPECT_NE(before.out.find("avsink quarantine migrate"), std::string::npos) << before.out;
  CliRun m = run_cli("quarantine migrate --config " + conf);
  EXPECT_EQ(m.status, 0) << m.out;
  EXPECT_NE(m.out.find("migrated from version 0 to"), std::string::npos) << m.out;
  CliRun m2 = run_cli("quarantine migrate --config " + conf);
  EXPECT_EQ(m2.status, 0) << m2.out;
  EXPECT_NE(m2.out.find("up to date"), std::string::npos) << m2.out;

  // A filesystem store's export imported into PostgreSQL with the CLI.
  q::StoreOptions fo;
  fo.dir = dir_ + "/fs";
  fo.key_file = dir_ + "/key";
  auto fs = q::Store::open(fo, nullptr);
  ASSERT_TRUE(fs.ok());
  auto id = (*fs)->put(message(9), meta_to("b@example.net"));
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(run_cli("quarantine export " + dir_ + "/fs.tar --dir " + fo.dir + " --key-file " +
                    fo.key_file)
                .status,
            0);
  CliRun imp = run_cli("quarantine import " + dir_ + "/fs.tar --config " + conf);
  EXPECT_EQ(imp.status, 0) << imp.out;
  CliRun list = run_cli("quarantine list --config " + conf);
  EXPECT_EQ(list.status, 0) << list.out;
  EXPECT_NE(list.out.find(*id), std::string::npos) << list.out;
  CliRun ver = run_cli("quarantine verify --config " + conf);
  EXPECT_EQ(ver.status, 0) << ver.out;
  EXPECT_NE(ver.out.find("1 ok, 0 bad"), std::string::npos) << ver.out;

  // A backup of a gateway on PostgreSQL carries the quarantine, and verify proves it. Two more
  // entries, one of several chunks, so the drill below restores more than one row per entry.
  std::map<std::string, std::pair<std::string, std::string>> want;  // id -> (message, meta JSON)
  {
    auto pg = open_pg(pg_options(conninfo_, dir_));
    ASSERT_TRUE(pg);
    for (size_t body : {size_t{300}, size_t{2500000}}) {
      auto put = pg->put(message(static_cast<int>(body % 7), body), meta_to("c@example.net"));
      ASSERT_TRUE(put.ok()) << put.error().describe();
    }
    auto all = pg->list();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 3u);
    for (const auto &m : *all) {
      auto msg = pg->message(m.id);
      ASSERT_TRUE(msg.ok()) << msg.error().describe();
      want[m.id] = {*msg, q::meta_to_json(m).dump()};
    }
  }
  std::ofstream(dir_ + "/pass") << "pg backup passphrase\n";
  CliRun b = run_cli("backup create " + dir_ + "/gw.backup --config " + conf +
                     " --passphrase-file " + dir_ + "/pass");
  EXPECT_EQ(b.status, 0) << b.out;
  EXPECT_NE(b.out.find("3 quarantine entries"), std::string::npos) << b.out;
  CliRun bv = run_cli("backup verify " + dir_ + "/gw.backup --passphrase-file " + dir_ + "/pass");
  EXPECT_EQ(bv.status, 0) << bv.out;
  EXPECT_NE(bv.out.find("(postgresql backend)"), std::string::npos) << bv.out;
  EXPECT_NE(bv.out.find("3 entries decrypt and verify"), std::string::npos) << bv.out;
  // verify never writes to the database: still exactly the three rows.
  EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM avsink_entries"), "3");

  // The drill: wipe the quarantine (schema and all), restore, and every entry is back, equal.
  sql(conninfo_, "DROP TABLE avsink_chunks, avsink_entries, avsink_releases, avsink_schema");
  CliRun br = run_cli("backup restore " + dir_ + "/gw.backup --root " + dir_ + "/root" +
                      " --passphrase-file " + dir_ + "/pass");
  EXPECT_EQ(br.status, 0) << br.out;
  EXPECT_NE(br.out.find("quarantine schema: version 0 -> "), std::string::npos) << br.out;
  EXPECT_NE(br.out.find("quarantine: 3 entries imported into postgresql:"), std::string::npos)
      << br.out;
  EXPECT_EQ(avsink::test::read_file(dir_ + "/root" + dir_ + "/conninfo"),
            avsink::test::read_file(dir_ + "/conninfo"));
  struct stat tar_st {};
  EXPECT_NE(::stat((dir_ + "/root/avsink-quarantine-export.tar").c_str(), &tar_st), 0)
      << "the quarantine archive is imported, not left behind";
  {
    auto pg = open_pg(pg_options(conninfo_, dir_));
    ASSERT_TRUE(pg);
    auto all = pg->list();
    ASSERT_TRUE(all.ok()) << all.error().describe();
    EXPECT_EQ(all->size(), want.size());
    for (const auto &m : *all) {
      ASSERT_TRUE(want.count(m.id)) << m.id;
      auto msg = pg->message(m.id);
      ASSERT_TRUE(msg.ok()) << msg.error().describe();
      EXPECT_EQ(*msg, want[m.id].first) << m.id;
      EXPECT_EQ(q::meta_to_json(m).dump(), want[m.id].second) << m.id;
    }
    auto v = pg->verify();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->ok, 3u);
    EXPECT_TRUE(v->bad.empty());
  }

  ASSERT_EQ(server("stop"), 0);
  const auto t0 = Clock::now();
  CliRun down = run_cli("quarantine list --config " + conf);
  const auto took = Clock::now() - t0;
  // A delete with the server down is an error, never "no such entry" (exit 1).
  CliRun del = run_cli("quarantine delete " + *id + " --by test --config " + conf);
  ASSERT_EQ(server("start"), 0);
  EXPECT_EQ(del.status, 2) << del.out;
  EXPECT_NE(del.out.find("postgresql:"), std::string::npos) << del.out;
  EXPECT_EQ(down.status, 2) << down.out;
  EXPECT_NE(down.out.find("postgresql: cannot connect"), std::string::npos) << down.out;
  EXPECT_LT(took, std::chrono::seconds(4));
}

}  // namespace

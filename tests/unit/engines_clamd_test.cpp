// engines_clamd_test.cpp - ClamdEngine against a real clamd (Debian clamav-daemon, started here on
// a unix socket in a temp dir) and against scripted fake servers. Invariant: never "clean" unless
// clamd said "stream: OK"; a stopped clamd is an Error (TEMPFAIL), and scanning resumes after.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <clamav.h>

#include "core/deadline.h"
#include "core/finding.h"
#include "engines/clamd.h"
#include "test_support.h"

extern char **environ;

using avsink::test::TempDir;

namespace {

namespace fs = std::filesystem;
using avsink::Deadline;
using avsink::ErrorCode;
using avsink::FindingKind;
using avsink::Findings;
using avsink::Result;
using avsink::engines::ClamdEngine;
using avsink::engines::ClamdOptions;
using avsink::engines::ScanItem;
using Clock = std::chrono::steady_clock;

constexpr const char *kClamd = "/usr/sbin/clamd";
constexpr const char *kMarker = "AVSINK-TEST-MARKER-7f3c9e";

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// A short private directory: unix socket paths are limited to 107 bytes.

std::string describe(const Findings &findings) {
  std::string out;
  for (const auto &f : findings) {
    out += "[" + std::string(avsink::to_string(f.kind)) + " " + f.name + "]";
  }
  return out.empty() ? "(none)" : out;
}

std::string describe(const Result<Findings> &r) {
  return r ? describe(*r) : "error: " + r.error().describe();
}

bool has(const Findings &findings, FindingKind kind, const std::string &name) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const auto &f) { return f.kind == kind && f.name == name; });
}

Result<Findings> scan(ClamdEngine &e, const std::string &data, const Deadline &d = {}) {
  ScanItem item;
  item.data = data;
  item.part_path = "2";
  item.filename = "a.bin";
  return e.scan(item, d);
}

std::unique_ptr<ClamdEngine> open_engine(ClamdOptions o) {
  auto r = ClamdEngine::open(o);
  if (!r) {
    ADD_FAILURE() << "open: " << r.error().describe();
    return nullptr;
  }
  return std::move(*r);
}

// ---- a real clamd ----

// clamd in the foreground on <dir>/clamd.sock with a copy of the shipped signatures; stopped by pid
// (SIGTERM, then SIGKILL after 5 s) when the object dies.
class ClamdProcess {
 public:
  explicit ClamdProcess(const std::string &dir) : dir_(dir) {
    fs::create_directories(dir_ + "/db");
    for (const auto &entry : fs::directory_iterator(AVSINK_SOURCE_SIGNATURES_DIR)) {
      fs::copy_file(entry.path(), dir_ + "/db/" + entry.path().filename().string(),
                    fs::copy_options::overwrite_existing);
    }
    std::ofstream conf(dir_ + "/clamd.conf");
    conf << "Foreground yes\n"
         << "LocalSocket " << socket() << "\n"
         << "LocalSocketMode 600\n"
         << "DatabaseDirectory " << dir_ << "/db\n"
         << "PidFile " << dir_ << "/clamd.pid\n"
         << "LogFile " << dir_ << "/clamd.log\n"
         << "TemporaryDirectory " << dir_ << "\n"
         << "StreamMaxLength 1M\n"
         << "AlertExceedsMax yes\n"
         << "AlertEncrypted yes\n"
         << "MaxThreads 8\n";
  }
  ~ClamdProcess() { stop(); }
  ClamdProcess(const ClamdProcess &) = delete;  // owns a child process
  ClamdProcess &operator=(const ClamdProcess &) = delete;

  std::string socket() const { return dir_ + "/clamd.sock"; }
  std::string address() const { return "unix:" + socket(); }

  // Starts clamd and waits (at most 20 s) until it answers VERSION. Returns "" or why not.
  std::string start() {
    std::error_code ec;
    fs::remove(socket(), ec);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const std::string conf = dir_ + "/clamd.conf";
    std::vector<char *> argv = {const_cast<char *>(kClamd), const_cast<char *>("-c"),
                                const_cast<char *>(conf.c_str()), nullptr};
    int rc = posix_spawn(&pid_, kClamd, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return std::string("posix_spawn: ") + std::strerror(rc);
    ClamdOptions o;
    o.address = address();
    o.connect_timeout_ms = 500;
    auto probe = ClamdEngine::open(o);
    if (!probe) return probe.error().describe();
    const auto t0 = Clock::now();
    while (ms_since(t0) < 20000) {
      if ((*probe)->status().error.empty()) return {};
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "clamd exited during start; see " + dir_ + "/clamd.log";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "clamd did not answer within 20 s";
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto t0 = Clock::now();
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (ms_since(t0) > 5000) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

bool have_clamd() {
  return access(kClamd, X_OK) == 0;
}

#define SKIP_WITHOUT_CLAMD()                                                                   \
  if (!have_clamd()) {                                                                         \
    GTEST_SKIP() << kClamd << " is missing: install clamav-daemon (CI does) to run this test"; \
  }

TEST(ClamdReal, DetectionThroughClamdAlone) {
  SKIP_WITHOUT_CLAMD();
  TempDir t("avsink-clamd-", true);
  ClamdProcess clamd(t.path);
  ASSERT_EQ(clamd.start(), "");
  ClamdOptions o;
  o.address = clamd.address();
  auto e = open_engine(o);
  ASSERT_TRUE(e);

  struct Case {
    const char *label;
    std::string data;
    const char *want;  // nullptr = clean
  };
  std::vector<Case> cases = {
      {"eicar", avsink::test::eicar(), "Eicar-Test-Signature"},
      {"marker in text", std::string("text ") + kMarker + " text\n", "Avsink.Test.Marker"},
      {"clean text", "Hello Bob,\nthe invoice is attached.\n", nullptr},
      {"clean 600 KiB", std::string(600 << 10, 'z'), nullptr},
      {"eicar after 600 KiB", std::string(600 << 10, 'z') + avsink::test::eicar(),
       "Eicar-Test-Signature"},
  };
  const std::string clam = "/usr/share/clamav-testfiles/clam.exe";
  if (fs::exists(clam))
    cases.push_back({"clam.exe", avsink::test::read_file(clam), "Avsink.Test.ClamExe"});
  for (const auto &c : cases) {
    auto r = scan(*e, c.data);
    ASSERT_TRUE(r) << c.label << ": " << r.error().describe();
    if (c.want == nullptr) {
      EXPECT_TRUE(r->empty()) << c.label << ": got " << describe(*r) << ", want none";
      continue;
    }
    EXPECT_TRUE(has(*r, FindingKind::kVirus, c.want))
        << c.label << ": got " << describe(*r) << ", want " << c.want;
    for (const auto &f : *r) {
      EXPECT_EQ(f.inspector, "clamd") << c.label;
      EXPECT_EQ(f.part_path, "2") << c.label;
      EXPECT_EQ(f.filename, "a.bin") << c.label;
      EXPECT_EQ(f.name.find(".UNOFFICIAL"), std::string::npos) << f.name;
    }
  }
  auto s = e->status();
  EXPECT_EQ(s.name, "clamd");
  EXPECT_EQ(s.error, "");
  EXPECT_FALSE(s.signatures_known);
  EXPECT_EQ(s.db_version, std::string("ClamAV ") + cl_retver());
}

TEST(ClamdReal, OverStreamMaxLengthIsUnscannableNeverClean) {
  SKIP_WITHOUT_CLAMD();
  TempDir t("avsink-clamd-", true);
  ClamdProcess clamd(t.path);  // StreamMaxLength 1M
  ASSERT_EQ(clamd.start(), "");
  ClamdOptions o;
  o.address = clamd.address();  // stream_max_length left at 25 MiB: misconfigured on purpose
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  for (size_t size : {size_t{(1 << 20) + 1}, size_t{2 << 20}, size_t{5 << 20}}) {
    auto r = scan(*e, std::string(size, 'a'));
    ASSERT_TRUE(r) << size << ": " << r.error().describe();
    EXPECT_TRUE(has(*r, FindingKind::kUnscannable, "Limits.Exceeded.StreamMaxLength"))
        << size << ": got " << describe(*r);
  }
  // Below clamd's limit, the same engine scans normally.
  auto r = scan(*e, std::string(512 << 10, 'a') + avsink::test::eicar());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(has(*r, FindingKind::kVirus, "Eicar-Test-Signature")) << describe(*r);
}

TEST(ClamdEngine, LocalStreamLimitRefusesWithoutSending) {
  TempDir t("avsink-clamd-", true);
  ClamdOptions o;
  o.address = "unix:" + t.file("nobody-listens.sock");
  o.stream_max_length = 1000;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  // At the limit the part is sent (and fails: nobody listens); one byte more is refused here.
  auto at = scan(*e, std::string(1000, 'a'));
  ASSERT_FALSE(at) << describe(at);
  auto over = scan(*e, std::string(1001, 'a'));
  ASSERT_TRUE(over) << over.error().describe();
  ASSERT_EQ(over->size(), 1u) << describe(*over);
  EXPECT_EQ((*over)[0].kind, FindingKind::kUnscannable);
  EXPECT_EQ((*over)[0].name, "Limits.Exceeded.StreamMaxLength");
  EXPECT_EQ((*over)[0].inspector, "clamd");
}

TEST(ClamdReal, StoppedMidRunIsAnErrorNeverCleanAndResumes) {
  SKIP_WITHOUT_CLAMD();
  TempDir t("avsink-clamd-", true);
  ClamdProcess clamd(t.path);
  ASSERT_EQ(clamd.start(), "");
  ClamdOptions o;
  o.address = clamd.address();
  o.connect_timeout_ms = 500;
  o.read_timeout_ms = 2000;
  auto e = open_engine(o);
  ASSERT_TRUE(e);

  const std::string eicar = "header\n" + avsink::test::eicar() + "\n" + std::string(64 << 10, 'p');
  const std::string clean = std::string(64 << 10, 'c');
  // Phases by the clock: a scan is "down" when it started after clamd had exited and ended
  // before the restart began; those must all be errors. Scans straddling a change count by the
  // phase they started in, for progress only.
  enum Phase { kUp, kDown, kRestarting, kBack };
  using Ticks = Clock::rep;
  constexpr Ticks kNever = std::numeric_limits<Ticks>::max();
  std::atomic<int> phase{kUp};
  std::atomic<Ticks> stopped_at{kNever}, restart_at{kNever};
  std::atomic<bool> stop{false};
  std::atomic<int> detected[4] = {}, clean_ok[4] = {}, errors[4] = {};
  std::atomic<int> missed{0}, false_positive{0}, bad_error{0}, answered_while_down{0};
  std::mutex mu;
  std::string first_bad;

  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; !stop; ++n) {
        const bool infected = (n + i) % 2 == 0;
        const int p = phase.load();
        const Ticks begin = Clock::now().time_since_epoch().count();
        auto r = scan(*e, infected ? eicar : clean);
        const Ticks end = Clock::now().time_since_epoch().count();
        const bool down = begin > stopped_at.load() && end < restart_at.load();
        if (!r) {
          ++errors[p];
          if (r.error().message.rfind("clamd at " + o.address + ": ", 0) != 0) {
            ++bad_error;
            std::lock_guard<std::mutex> lock(mu);
            first_bad = r.error().describe();
          }
          continue;
        }
        if (down) ++answered_while_down;
        if (infected) {
          if (has(*r, FindingKind::kVirus, "Eicar-Test-Signature")) {
            ++detected[p];
          } else {
            ++missed;  // the one thing that must never happen: infected and "clean"
            std::lock_guard<std::mutex> lock(mu);
            first_bad = "infected part came back " + describe(*r);
          }
        } else if (r->empty()) {
          ++clean_ok[p];
        } else {
          ++false_positive;
        }
      }
    });
  }
  auto wait_until = [](const std::function<bool()> &cond, int ms) {
    const auto t0 = Clock::now();
    while (!cond() && ms_since(t0) < ms) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return cond();
  };
  EXPECT_TRUE(wait_until([&] { return detected[kUp] >= 20 && clean_ok[kUp] >= 20; }, 10000));
  clamd.stop();  // SIGTERM in the middle of the run: scans are in flight
  stopped_at = Clock::now().time_since_epoch().count();
  phase = kDown;
  EXPECT_TRUE(wait_until([&] { return errors[kDown] >= 20; }, 10000));
  phase = kRestarting;
  restart_at = Clock::now().time_since_epoch().count();
  const auto restart = Clock::now();
  ASSERT_EQ(clamd.start(), "");
  phase = kBack;
  EXPECT_TRUE(wait_until([&] { return detected[kBack] >= 20 && clean_ok[kBack] >= 20; }, 10000));
  const long long resumed_ms = ms_since(restart);
  stop = true;
  for (auto &th : threads) th.join();

  EXPECT_EQ(missed.load(), 0) << first_bad;
  EXPECT_EQ(false_positive.load(), 0);
  EXPECT_EQ(bad_error.load(), 0) << first_bad;
  EXPECT_EQ(answered_while_down.load(), 0) << "a scan was answered while clamd was down";
  std::printf(
      "clamd up: %d detected, %d clean; down: %d errors, 0 answered; back after %lld ms: "
      "%d detected, %d clean\n",
      detected[kUp].load(), clean_ok[kUp].load(), errors[kDown].load(), resumed_ms,
      detected[kBack].load(), clean_ok[kBack].load());
}

// ---- scripted servers ----

bool read_exact(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// A listening unix socket at `path` (a stale file removed first); -1 and a test failure if not.
int listen_unix(const std::string &path, int backlog) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr *>(&un), sizeof un) != 0 || ::listen(fd, backlog) != 0) {
    ADD_FAILURE() << "bind/listen " << path << ": " << std::strerror(errno);
  }
  return fd;
}

// A unix-socket server that reads one zINSTREAM request per connection and answers what the
// handler returns (nullopt = close without a word). Counts connections and peak concurrency.
class FakeClamd {
 public:
  using Handler = std::function<std::optional<std::string>(int index, const std::string &data)>;

  FakeClamd(const std::string &path, Handler handler, int delay_ms = 0)
      : handler_(std::move(handler)), delay_ms_(delay_ms) {
    fd_ = listen_unix(path, 64);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeClamd() {
    stop_ = true;
    acceptor_.join();
    for (auto &th : workers_) th.join();
    ::close(fd_);
  }
  FakeClamd(const FakeClamd &) = delete;  // owns threads and a socket
  FakeClamd &operator=(const FakeClamd &) = delete;

  int connections() const { return connections_; }
  int peak() const { return peak_; }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      const int index = connections_++;
      workers_.emplace_back([this, c, index] { serve(c, index); });
    }
  }
  void serve(int c, int index) {
    const int now = ++active_;
    for (int p = peak_; now > p && !peak_.compare_exchange_weak(p, now);) {
    }
    std::string command;
    char ch;
    while (read_exact(c, &ch, 1) && ch != '\0') command += ch;
    std::string data;
    bool complete = command == "zINSTREAM";
    while (complete) {
      unsigned char len[4];
      if (!read_exact(c, reinterpret_cast<char *>(len), 4)) {
        complete = false;
        break;
      }
      const uint32_t n =
          uint32_t{len[0]} << 24 | uint32_t{len[1]} << 16 | uint32_t{len[2]} << 8 | len[3];
      if (n == 0) break;
      std::string chunk(n, '\0');
      if (!read_exact(c, chunk.data(), n)) complete = false;
      data += chunk;
    }
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    // No longer active once the answer is on its way: the client frees its slot on reading it.
    --active_;
    if (complete) {
      if (auto reply = handler_(index, data)) {
        ssize_t w = ::send(c, reply->data(), reply->size(), MSG_NOSIGNAL);
        (void)w;
      }
    }
    ::close(c);
  }

  Handler handler_;
  int delay_ms_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, active_{0}, peak_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor thread only, joined after it
};

std::string z(const std::string &s) {
  return s + std::string(1, '\0');
}

TEST(ClamdEngine, AnswersMapToFindingsOrErrors) {
  TempDir t("avsink-clamd-", true);
  struct Case {
    const char *label;
    std::optional<std::string> answer;
    bool want_error;
    std::vector<std::pair<FindingKind, std::string>> want;
  };
  const std::string limit_files = cl_strerror(CL_EMAXFILES);
  const std::vector<Case> cases = {
      {"clean", z("stream: OK"), false, {}},
      {"virus",
       z("stream: Eicar-Test-Signature FOUND"),
       false,
       {{FindingKind::kVirus, "Eicar-Test-Signature"}}},
      {"unofficial suffix",
       z("stream: Site.Bad.UNOFFICIAL FOUND"),
       false,
       {{FindingKind::kVirus, "Site.Bad"}}},
      {"allmatch: two names then close",
       z("stream: A FOUND") + z("stream: B FOUND"),
       false,
       {{FindingKind::kVirus, "A"}, {FindingKind::kVirus, "B"}}},
      {"encrypted",
       z("stream: Heuristics.Encrypted.Zip FOUND"),
       false,
       {{FindingKind::kUnscannable, "Heuristics.Encrypted.Zip"}}},
      {"exceeds max",
       z("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND"),
       false,
       {{FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxFileSize"}}},
      {"size limit",
       z("INSTREAM size limit exceeded. ERROR"),
       false,
       {{FindingKind::kUnscannable, "Limits.Exceeded.StreamMaxLength"}}},
      {"libclamav limit error",
       z("stream: " + limit_files + " ERROR"),
       false,
       {{FindingKind::kUnscannable, "Limits.Exceeded.Files"}}},
      {"found then error",
       z("stream: A FOUND") + z("stream: Can't allocate memory ERROR"),
       false,
       {{FindingKind::kVirus, "A"}, {FindingKind::kUnscannable, "Unscannable.EngineError"}}},
      {"unterminated OK then close", std::string("stream: OK"), false, {}},
      {"engine error", z("stream: Can't allocate memory ERROR"), true, {}},
      {"unknown command", z("UNKNOWN COMMAND"), true, {}},
      {"garbage", z("hello"), true, {}},
      {"empty answer", z(""), true, {}},
      {"closed without answer", std::nullopt, true, {}},
  };
  for (const auto &c : cases) {
    const std::string path = t.file("fake.sock");
    FakeClamd server(path, [&](int, const std::string &) { return c.answer; });
    ClamdOptions o;
    o.address = "unix:" + path;
    o.read_timeout_ms = 2000;
    auto e = open_engine(o);
    ASSERT_TRUE(e);
    auto r = scan(*e, "payload");
    if (c.want_error) {
      ASSERT_FALSE(r) << c.label << ": got " << describe(r) << ", want an error";
      EXPECT_EQ(r.error().code, ErrorCode::kEngine) << c.label;
      EXPECT_EQ(r.error().message.rfind("clamd at unix:" + path + ": ", 0), 0u)
          << c.label << ": " << r.error().message;
      continue;
    }
    ASSERT_TRUE(r) << c.label << ": " << r.error().describe();
    ASSERT_EQ(r->size(), c.want.size()) << c.label << ": got " << describe(*r);
    for (size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_EQ((*r)[i].kind, c.want[i].first) << c.label << " #" << i;
      EXPECT_EQ((*r)[i].name, c.want[i].second) << c.label << " #" << i;
    }
  }
}

TEST(ClamdEngine, StreamsTheWholePartInChunks) {
  TempDir t("avsink-clamd-", true);
  const std::string path = t.file("fake.sock");
  std::string got;
  std::mutex mu;
  FakeClamd server(path, [&](int, const std::string &data) -> std::optional<std::string> {
    std::lock_guard<std::mutex> lock(mu);
    got = data;
    return z("stream: OK");
  });
  ClamdOptions o;
  o.address = "unix:" + path;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  std::string data;
  for (int i = 0; i < (3 << 20) / 7 + 1; ++i)
    data += static_cast<char>('a' + i % 26) + std::string("\0xyz\n\1", 6);
  auto r = scan(*e, data);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(r->empty());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "the bytes clamd received differ from the part";
}

TEST(ClamdEngine, ReconnectsOnceAfterAConnectionFailure) {
  TempDir t("avsink-clamd-", true);
  const std::string path = t.file("fake.sock");
  // Every other connection is dropped without an answer (a clamd that restarted under us).
  FakeClamd server(path, [](int index, const std::string &) -> std::optional<std::string> {
    if (index % 2 == 0) return std::nullopt;
    return z("stream: Eicar-Test-Signature FOUND");
  });
  ClamdOptions o;
  o.address = "unix:" + path;
  auto e = open_engine(o);  // retries = 1
  ASSERT_TRUE(e);
  for (int i = 0; i < 5; ++i) {
    auto r = scan(*e, "x");
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_TRUE(has(*r, FindingKind::kVirus, "Eicar-Test-Signature")) << describe(*r);
  }
  EXPECT_EQ(server.connections(), 10);

  o.retries = 0;
  auto once = open_engine(o);
  ASSERT_TRUE(once);
  auto r = scan(*once, "x");  // connection 10: dropped, and no second try
  ASSERT_FALSE(r) << describe(r);
  EXPECT_NE(r.error().message.find("connection closed before an answer"), std::string::npos)
      << r.error().message;
}

TEST(ClamdEngine, PoolBoundsConcurrentConnections) {
  TempDir t("avsink-clamd-", true);
  const std::string path = t.file("fake.sock");
  FakeClamd server(
      path, [](int, const std::string &) { return std::optional<std::string>(z("stream: OK")); },
      30);
  ClamdOptions o;
  o.address = "unix:" + path;
  o.pool_size = 2;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 3; ++n) {
        if (auto r = scan(*e, "x"); r && r->empty()) ++ok;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(ok.load(), 24);
  EXPECT_EQ(server.connections(), 24);
  EXPECT_LE(server.peak(), 2);
}

TEST(ClamdEngine, UnreachableAndHungServersAreBoundedErrors) {
  TempDir t("avsink-clamd-", true);
  struct Case {
    const char *label;
    std::function<void(const std::string &path)> setup;  // prepares the socket path
    ErrorCode want_code;
    const char *want_text;
    long long max_ms;
  };
  std::vector<int> keep;  // descriptors held open until the end of the test
  auto listener = [&](const std::string &path, int backlog) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&un), sizeof un), 0);
    EXPECT_EQ(::listen(fd, backlog), 0);
    keep.push_back(fd);
    return un;
  };
  const std::vector<Case> cases = {
      {"no socket file", [](const std::string &) {}, ErrorCode::kEngine,
       "connect: No such file or directory", 200},
      {"stale socket file (clamd killed)",
       [&](const std::string &p) {
         listener(p, 1);
         ::close(keep.back());  // the file stays, nobody listens
         keep.pop_back();
       },
       ErrorCode::kEngine, "connect: Connection refused", 200},
      {"listen queue full (clamd hung)",
       [&](const std::string &p) {
         sockaddr_un un = listener(p, 0);
         for (int i = 0; i < 64; ++i) {  // fill the backlog without accepting
           int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
           if (::connect(c, reinterpret_cast<sockaddr *>(&un), sizeof un) != 0) {
             ::close(c);
             break;
           }
           keep.push_back(c);
         }
       },
       ErrorCode::kTimeout, "connect: listen queue full", 300 + 300},
      {"accepts, never answers", [&](const std::string &p) { listener(p, 16); },
       ErrorCode::kTimeout, "read: no answer", 400 + 300},
  };
  int n = 0;
  for (const auto &c : cases) {
    const std::string path = t.file("s" + std::to_string(n++) + ".sock");
    c.setup(path);
    ClamdOptions o;
    o.address = "unix:" + path;
    o.connect_timeout_ms = 300;
    o.read_timeout_ms = 400;
    auto e = open_engine(o);
    ASSERT_TRUE(e);
    const auto t0 = Clock::now();
    auto r = scan(*e, avsink::test::eicar());
    const long long took = ms_since(t0);
    ASSERT_FALSE(r) << c.label << ": got " << describe(r) << ", want an error";
    EXPECT_EQ(r.error().code, c.want_code) << c.label << ": " << r.error().describe();
    EXPECT_NE(r.error().message.find(c.want_text), std::string::npos)
        << c.label << ": got \"" << r.error().message << "\"";
    EXPECT_LE(took, c.max_ms) << c.label;
    // status() is bounded by connect_timeout_ms as a whole, and reports the failure.
    const auto t1 = Clock::now();
    auto s = e->status();
    EXPECT_LE(ms_since(t1), 300 + 200) << c.label;
    EXPECT_NE(s.error, "") << c.label;
  }
  for (int fd : keep) ::close(fd);
}

TEST(ClamdEngine, DeadlineBeforeTimeoutIsUnscannable) {
  TempDir t("avsink-clamd-", true);
  const std::string path = t.file("slow.sock");
  FakeClamd server(
      path, [](int, const std::string &) { return std::optional<std::string>(z("stream: OK")); },
      1500);
  ClamdOptions o;
  o.address = "unix:" + path;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  const auto t0 = Clock::now();
  auto r = scan(*e, "x", Deadline::after_ms(200));
  const long long took = ms_since(t0);
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(r->size(), 1u) << describe(*r);
  EXPECT_EQ((*r)[0].kind, FindingKind::kUnscannable);
  EXPECT_EQ((*r)[0].name, "Limits.Exceeded.ScanTime");
  EXPECT_LE(took, 200 + 150);
  auto expired = scan(*e, "x", Deadline::after_ms(0));
  ASSERT_TRUE(expired);
  EXPECT_EQ(describe(*expired), "[unscannable Limits.Exceeded.ScanTime]");
}

// A unix-socket server whose every connection is handed to `script` as it is: for the exchanges
// FakeClamd cannot play (answering before the stream ends, closing mid-stream).
class RawServer {
 public:
  using Script = std::function<void(int fd)>;
  RawServer(const std::string &path, Script script) : script_(std::move(script)) {
    fd_ = listen_unix(path, 16);
    acceptor_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        script_(c);
        ::close(c);
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    acceptor_.join();
    ::close(fd_);
  }
  RawServer(const RawServer &) = delete;  // owns a thread and a socket
  RawServer &operator=(const RawServer &) = delete;

 private:
  Script script_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
};

// Issue 14 item 7 (red-team reproduction): a fake clamd answered "stream: OK" before the
// zero-length terminator - at once, or after reading part of the stream and closing - and the
// client took it as clean. A verdict counts only after the whole part and the terminator were
// sent; anything earlier is an engine error (TEMPFAIL), never clean.
TEST(ClamdEngine, AnswerBeforeTheTerminatorIsAnErrorNeverClean) {
  TempDir t("avsink-clamd-", true);
  // More than a socket buffer holds, so the client is still sending when the answer comes.
  std::string part = avsink::test::eicar();
  part += std::string(4u << 20, 'x');
  auto read_command = [](int fd) {
    char ch;
    while (read_exact(fd, &ch, 1) && ch != '\0') {
    }
  };
  auto say = [](int fd, const std::string &s) {
    ssize_t w = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    (void)w;
  };
  struct Case {
    const char *label;
    RawServer::Script script;
  };
  const std::vector<Case> cases = {
      {"OK at once, then close",
       [&](int fd) {
         read_command(fd);
         say(fd, z("stream: OK"));
       }},
      {"OK at once, then read everything",
       [&](int fd) {
         read_command(fd);
         say(fd, z("stream: OK"));
         char buf[65536];
         while (::read(fd, buf, sizeof buf) > 0) {
         }
       }},
      {"OK after half the stream, then close (closed mid-stream)",
       [&](int fd) {
         read_command(fd);
         std::vector<char> buf(1u << 20);
         size_t got = 0;
         while (got < (2u << 20)) {
           ssize_t n = ::read(fd, buf.data(), buf.size());
           if (n <= 0) break;
           got += static_cast<size_t>(n);
         }
         say(fd, z("stream: OK"));
         ::shutdown(fd, SHUT_RDWR);
       }},
      {"unterminated OK at once, then close",
       [&](int fd) {
         read_command(fd);
         say(fd, "stream: OK");
       }},
  };
  int n = 0;
  for (const auto &c : cases) {
    const std::string path = t.file("early" + std::to_string(n++) + ".sock");
    RawServer server(path, c.script);
    ClamdOptions o;
    o.address = "unix:" + path;
    o.read_timeout_ms = 3000;
    o.retries = 0;
    auto e = open_engine(o);
    ASSERT_TRUE(e);
    auto r = scan(*e, part);
    ASSERT_FALSE(r) << c.label << ": got " << describe(r) << ", want an engine error";
    EXPECT_EQ(r.error().code, ErrorCode::kEngine) << c.label;
    EXPECT_NE(r.error().message.find("before the end of the stream"), std::string::npos)
        << c.label << ": " << r.error().message;
  }
  // clamd's own early answer, its StreamMaxLength refusal, still counts: unscannable, not clean.
  const std::string path = t.file("limit.sock");
  RawServer server(path, [&](int fd) {
    read_command(fd);
    say(fd, z("INSTREAM size limit exceeded. ERROR"));
  });
  ClamdOptions o;
  o.address = "unix:" + path;
  o.retries = 0;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  auto r = scan(*e, part);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(describe(*r), "[unscannable Limits.Exceeded.StreamMaxLength]");
}

// Issue 14 item 10: several clamd addresses, tried in order with the same timeouts; the one that
// served is named in the findings and in status().
TEST(ClamdEngine, FailsOverInOrderAndSaysWhichServed) {
  TempDir t("avsink-clamd-", true);
  const std::string down = t.file("down.sock");  // no listener: connect fails at once
  const std::string hung = t.file("hung.sock");  // accepts, never answers: read timeout
  const std::string up = t.file("up.sock");
  const int hung_fd = listen_unix(hung, 16);
  FakeClamd server(up, [](int, const std::string &) {
    return std::optional<std::string>(z("stream: Eicar-Test-Signature FOUND"));
  });
  ClamdOptions o;
  o.address = "unix:" + down;
  o.backup_addresses = {"unix:" + hung, "unix:" + up};
  o.connect_timeout_ms = 300;
  o.read_timeout_ms = 300;
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  const auto t0 = Clock::now();
  auto r = scan(*e, avsink::test::eicar());
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(describe(*r), "[virus Eicar-Test-Signature]");
  EXPECT_EQ((*r)[0].detail, "clamd at unix:" + up + " reported Eicar-Test-Signature");
  EXPECT_LE(ms_since(t0), 300 * 2 + 300) << "the hung clamd costs its read timeout, twice at most";
  EXPECT_EQ(server.connections(), 1);
  // status() says which serves (clamd's VERSION answer is the fake's own: no verdict).
  auto st = e->status();
  ASSERT_EQ(st.sources.size(), 3u);
  EXPECT_EQ(st.sources[0].path.rfind("unix:" + down + " (down: connect:", 0), 0u)
      << st.sources[0].path;
  EXPECT_EQ(st.sources[1].path.rfind("unix:" + hung + " (down: read: no answer", 0), 0u)
      << st.sources[1].path;

  // The primary serves when it is up; the backups are not asked.
  ClamdOptions first = o;
  first.address = "unix:" + up;
  first.backup_addresses = {"unix:" + down};
  auto f = open_engine(first);
  ASSERT_TRUE(f);
  auto rf = scan(*f, "x");
  ASSERT_TRUE(rf);
  EXPECT_EQ((*rf)[0].detail, "clamd at unix:" + up + " reported Eicar-Test-Signature");

  // None answers: one error naming each address and what it did.
  ClamdOptions none = o;
  none.backup_addresses = {"unix:" + hung};
  auto n = open_engine(none);
  ASSERT_TRUE(n);
  auto rn = scan(*n, "x");
  ASSERT_FALSE(rn) << describe(rn);
  EXPECT_NE(rn.error().message.find("no clamd answered: clamd at unix:" + down + ": connect:"),
            std::string::npos)
      << rn.error().message;
  EXPECT_NE(rn.error().message.find("; clamd at unix:" + hung + ": read: no answer"),
            std::string::npos)
      << rn.error().message;
  ::close(hung_fd);
}

TEST(ClamdEngine, OptionsAreValidated) {
  struct Case {
    const char *label;
    std::function<void(ClamdOptions &)> edit;
    const char *want;  // nullptr = valid
  };
  const std::vector<Case> cases = {
      {"unix ok", [](ClamdOptions &o) { o.address = "unix:/run/clamav/clamd.ctl"; }, nullptr},
      {"tcp v4 ok", [](ClamdOptions &o) { o.address = "tcp:127.0.0.1:3310"; }, nullptr},
      {"tcp v6 ok", [](ClamdOptions &o) { o.address = "tcp:[::1]:3310"; }, nullptr},
      {"no scheme", [](ClamdOptions &o) { o.address = "/run/clamd.ctl"; }, "address"},
      {"relative unix", [](ClamdOptions &o) { o.address = "unix:clamd.ctl"; }, "absolute"},
      {"long unix", [](ClamdOptions &o) { o.address = "unix:/" + std::string(200, 'a'); },
       "longer than"},
      {"tcp no port", [](ClamdOptions &o) { o.address = "tcp:127.0.0.1"; }, "port"},
      {"tcp port 0", [](ClamdOptions &o) { o.address = "tcp:127.0.0.1:0"; }, "port"},
      {"tcp port 70000", [](ClamdOptions &o) { o.address = "tcp:127.0.0.1:70000"; }, "port"},
      {"connect timeout", [](ClamdOptions &o) { o.connect_timeout_ms = 0; }, "connect_timeout_ms"},
      {"read timeout", [](ClamdOptions &o) { o.read_timeout_ms = 0; }, "read_timeout_ms"},
      {"pool", [](ClamdOptions &o) { o.pool_size = 0; }, "pool_size"},
      {"stream 0", [](ClamdOptions &o) { o.stream_max_length = 0; }, "stream_max_length"},
      {"stream 4G", [](ClamdOptions &o) { o.stream_max_length = 1ull << 32; }, "stream_max_length"},
      {"bad backup", [](ClamdOptions &o) { o.backup_addresses = {"unix:relative"}; }, "absolute"},
  };
  for (const auto &c : cases) {
    ClamdOptions o;
    o.address = "unix:/run/clamav/clamd.ctl";
    c.edit(o);
    auto r = ClamdEngine::open(o);
    if (c.want == nullptr) {
      EXPECT_TRUE(r) << c.label << ": " << r.error().describe();
      continue;
    }
    ASSERT_FALSE(r) << c.label << ": opened, want an error";
    EXPECT_EQ(r.error().code, ErrorCode::kConfig) << c.label;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos)
        << c.label << ": got \"" << r.error().message << "\"";
  }
}

TEST(ClamdEngine, TcpAddressWorks) {
  // A TCP listener on 127.0.0.1 that answers "stream: OK" once.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&in), sizeof in), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof in;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr *>(&in), &len), 0);
  std::thread server([fd] {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    std::string got;
    while (got.size() < 4 || got.compare(got.size() - 4, 4, std::string(4, '\0')) != 0) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    const std::string reply = z("stream: Tcp.Test FOUND");
    ssize_t w = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    (void)w;
    ::close(c);
  });
  ClamdOptions o;
  o.address = "tcp:127.0.0.1:" + std::to_string(ntohs(in.sin_port));
  auto e = open_engine(o);
  ASSERT_TRUE(e);
  auto r = scan(*e, "payload");
  server.join();
  ::close(fd);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(describe(*r), "[virus Tcp.Test]");
}

}  // namespace

// bench_engines.cpp - engine throughput: libclamav alone vs + hash list vs + clamd (all three).
// Invariant: every configuration must detect every infected part of the generated set; a miss is
// reported and makes the exit status 1. Standalone main(); clamd is started here or skipped.
//
//   bench_engines [--threads N] [--messages N] [--rounds N] [--seed N] [--signatures DIR]
//                 [--clamd PATH] [--no-clamd] [--json]
//
// The set: N messages of 1-6 parts each (text, base64-like, binary; 1 KiB - 512 KiB, sizes
// log-uniform; 2% of the parts carry the EICAR string or the avsink marker, 1% are exactly the
// 68-byte EICAR file, which the shipped hash list knows). Each worker thread takes the next
// message and hands each of its parts to every engine of the configuration in turn, as the scan
// session does. Rounds interleave the configurations; the median round is printed.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.h"
#include "engines/clamav_lib.h"
#include "engines/clamd.h"
#include "engines/engine.h"
#include "engines/hash_list.h"

extern char **environ;

namespace {

namespace fs = std::filesystem;
using avsink::Deadline;
using avsink::engines::ClamavEngine;
using avsink::engines::ClamavOptions;
using avsink::engines::ClamdEngine;
using avsink::engines::ClamdOptions;
using avsink::engines::Engine;
using avsink::engines::HashListEngine;
using avsink::engines::HashListOptions;
using avsink::engines::ScanItem;
using Clock = std::chrono::steady_clock;

struct Args {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int messages = 400;
  int rounds = 3;
  unsigned seed = 20261124;
  std::string signatures = AVSINK_BENCH_SIGNATURES_DIR;
  std::string clamd = "/usr/sbin/clamd";
  bool use_clamd = true;
  bool json = false;
};

[[noreturn]] void die(const std::string &m) {
  std::cerr << "bench_engines: " << m << "\n";
  std::exit(2);
}

Args parse_args(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--threads") {
      a.threads = std::max(1, std::atoi(next().c_str()));
    } else if (k == "--messages") {
      a.messages = std::max(1, std::atoi(next().c_str()));
    } else if (k == "--rounds") {
      a.rounds = std::max(1, std::atoi(next().c_str()));
    } else if (k == "--seed") {
      a.seed = static_cast<unsigned>(std::strtoul(next().c_str(), nullptr, 10));
    } else if (k == "--signatures") {
      a.signatures = next();
    } else if (k == "--clamd") {
      a.clamd = next();
    } else if (k == "--no-clamd") {
      a.use_clamd = false;
    } else if (k == "--json") {
      a.json = true;
    } else {
      die("unknown argument " + k + " (see the comment at the top of bench_engines.cpp)");
    }
  }
  return a;
}

std::string eicar() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

struct Part {
  std::string data;
  bool infected = false;
};
using Message = std::vector<Part>;

std::vector<Message> generate(int count, unsigned seed, uint64_t *total_bytes) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> logsize(std::log(1024.0), std::log(512.0 * 1024));
  std::uniform_int_distribution<int> nparts(1, 6), kind(0, 2), pct(0, 99);
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static const char *const kWords[] = {"invoice ",  "meeting ", "the ",    "report ", "please ",
                                       "attached ", "regards ", "budget ", "and ",    "Q3 "};
  std::vector<Message> out(static_cast<size_t>(count));
  *total_bytes = 0;
  for (auto &m : out) {
    const int n = nparts(rng);
    for (int i = 0; i < n; ++i) {
      Part p;
      const int roll = pct(rng);
      if (roll == 0) {
        p.data = eicar();  // the whole file: libclamav, clamd and the hash list all know it
        p.infected = true;
      } else {
        const size_t size = static_cast<size_t>(std::exp(logsize(rng)));
        p.data.reserve(size + 80);
        switch (kind(rng)) {
          case 0:
            while (p.data.size() < size) p.data += kWords[rng() % 10];
            break;
          case 1:
            while (p.data.size() < size) {
              for (int c = 0; c < 76; ++c) p.data += kB64[rng() % 64];
              p.data += "\r\n";
            }
            break;
          default:
            while (p.data.size() < size) p.data += static_cast<char>(rng() & 0xff);
            break;
        }
        if (roll <= 2) {
          const std::string sig = roll == 1 ? eicar() : std::string("AVSINK-TEST-MARKER-7f3c9e");
          p.data.insert(p.data.size() / 2, "\n" + sig + "\n");
          p.infected = true;
        }
      }
      *total_bytes += p.data.size();
      m.push_back(std::move(p));
    }
  }
  return out;
}

// clamd in the foreground on a temp unix socket with a copy of the signatures.
class Clamd {
 public:
  Clamd(const std::string &binary, const std::string &signatures) {
    char tmpl[] = "/tmp/avsink-bench-clamd-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) die("mkdtemp failed");
    dir_ = tmpl;
    fs::create_directories(dir_ + "/db");
    for (const auto &e : fs::directory_iterator(signatures)) {
      if (e.is_regular_file())
        fs::copy_file(e.path(), dir_ + "/db/" + e.path().filename().string());
    }
    std::ofstream(dir_ + "/clamd.conf")
        << "Foreground yes\nLocalSocket " << dir_ << "/clamd.sock\nDatabaseDirectory " << dir_
        << "/db\nPidFile " << dir_ << "/clamd.pid\nTemporaryDirectory " << dir_
        << "\nStreamMaxLength 25M\nAlertExceedsMax yes\nMaxThreads 16\nDisableCache yes\n";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const std::string conf = dir_ + "/clamd.conf";
    std::vector<char *> argv = {const_cast<char *>(binary.c_str()), const_cast<char *>("-c"),
                                const_cast<char *>(conf.c_str()), nullptr};
    if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Clamd() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 500 && waitpid(pid_, &st, WNOHANG) == 0; ++i) usleep(10000);
      if (waitpid(pid_, &st, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Clamd(const Clamd &) = delete;  // owns a child process
  Clamd &operator=(const Clamd &) = delete;
  bool started() const { return pid_ > 0; }
  // CPU seconds clamd has used so far (utime + stime from /proc), 0 when unknown.
  double cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
      if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::string address() const { return "unix:" + dir_ + "/clamd.sock"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

struct Config {
  std::string name;
  std::vector<Engine *> engines;
};

double self_cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Run {
  double seconds = 0;
  double cpu = 0;  // CPU seconds of this process and of clamd
  uint64_t missed = 0, errors = 0;
};

Run run(const Config &c, const std::vector<Message> &set, int threads, const Clamd *clamd) {
  const double cpu0 = self_cpu_seconds() + (clamd != nullptr ? clamd->cpu_seconds() : 0);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> missed{0}, errors{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < set.size();) {
        for (const Part &p : set[i]) {
          bool found = false;
          for (Engine *e : c.engines) {
            ScanItem item;
            item.data = p.data;
            auto r = e->scan(item, Deadline::after_ms(120000));
            if (!r) {
              ++errors;
            } else if (!r->empty()) {
              found = true;
            }
          }
          if (p.infected && !found) ++missed;
        }
      }
    });
  }
  for (auto &th : pool) th.join();
  Run r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu = self_cpu_seconds() + (clamd != nullptr ? clamd->cpu_seconds() : 0) - cpu0;
  r.missed = missed;
  r.errors = errors;
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  const Args a = parse_args(argc, argv);
  uint64_t bytes = 0;
  const std::vector<Message> set = generate(a.messages, a.seed, &bytes);
  size_t parts = 0, infected = 0;
  for (const auto &m : set) {
    parts += m.size();
    for (const auto &p : m) infected += p.infected;
  }

  ClamavOptions co;
  co.signature_dirs = {a.signatures};
  co.load_system_db = false;
  auto clamav = ClamavEngine::open(co);
  if (!clamav) die("clamav: " + clamav.error().describe());
  HashListOptions ho;
  ho.files = {a.signatures + "/avsink-test.sha256"};
  auto hashlist = HashListEngine::open(ho);
  if (!hashlist) die("hashlist: " + hashlist.error().describe());

  std::unique_ptr<Clamd> daemon;
  std::unique_ptr<ClamdEngine> clamd;
  std::string clamd_note;
  if (!a.use_clamd) {
    clamd_note = "skipped (--no-clamd)";
  } else if (access(a.clamd.c_str(), X_OK) != 0) {
    clamd_note = "skipped: " + a.clamd + " is missing (apt install clamav-daemon)";
  } else {
    daemon = std::make_unique<Clamd>(a.clamd, a.signatures);
    ClamdOptions o;
    o.address = daemon->address();
    o.pool_size = static_cast<uint32_t>(a.threads);
    auto e = ClamdEngine::open(o);
    if (!e) die("clamd: " + e.error().describe());
    clamd = std::move(*e);
    const auto t0 = Clock::now();
    while (!clamd->status().error.empty() && Clock::now() - t0 < std::chrono::seconds(20)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!clamd->status().error.empty()) {
      clamd_note = "skipped: clamd did not start: " + clamd->status().error;
      clamd.reset();
    }
  }

  std::vector<Config> configs = {
      {"libclamav alone", {clamav->get()}},
      {"hash list alone", {hashlist->get()}},
      {"libclamav + hash list", {clamav->get(), hashlist->get()}},
  };
  if (clamd) {
    configs.push_back({"clamd alone", {clamd.get()}});
    configs.push_back({"all three", {clamav->get(), hashlist->get(), clamd.get()}});
  }

  std::vector<std::vector<Run>> runs(configs.size());
  run(configs[0], set, a.threads,
      daemon.get());  // warm-up: page in the set, libclamav's first-scan costs
  for (int r = 0; r < a.rounds; ++r) {
    for (size_t i = 0; i < configs.size(); ++i)
      runs[i].push_back(run(configs[i], set, a.threads, daemon.get()));
  }

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "bench_engines: %d messages, %zu parts (%zu infected), %.1f MB; %d threads; median "
      "of %d rounds\n",
      a.messages, parts, infected, mb, a.threads, a.rounds);
  if (!clamd_note.empty()) std::printf("clamd: %s\n", clamd_note.c_str());
  std::printf("%-24s %8s %8s %9s %7s %10s %9s %7s %6s\n", "engines", "seconds", "MB/s", "msgs/s",
              "ratio", "CPU s/GB", "CPU ratio", "missed", "errors");
  int status = 0;
  double base = 0, base_cpu = 0;
  for (size_t i = 0; i < configs.size(); ++i) {
    auto v = runs[i];
    std::sort(v.begin(), v.end(), [](const Run &x, const Run &y) { return x.seconds < y.seconds; });
    const Run &m = v[v.size() / 2];
    auto c = runs[i];
    std::sort(c.begin(), c.end(), [](const Run &x, const Run &y) { return x.cpu < y.cpu; });
    const double cpu_per_gb = c[c.size() / 2].cpu / (mb / 1000.0);
    uint64_t missed = 0, errors = 0;
    for (const Run &x : runs[i]) {
      missed += x.missed;
      errors += x.errors;
    }
    const double mbps = mb / m.seconds;
    if (i == 0) {
      base = mbps;
      base_cpu = cpu_per_gb;
    }
    // The hash list alone only knows the 68-byte EICAR file: misses there are expected.
    const bool must_detect = configs[i].name != "hash list alone";
    if ((must_detect && missed > 0) || errors > 0) status = 1;
    const std::string missed_text = must_detect ? std::to_string(missed) : "n/a";
    std::printf("%-24s %8.2f %8.1f %9.1f %6.2fx %10.1f %8.2fx %7s %6llu\n", configs[i].name.c_str(),
                m.seconds, mbps, a.messages / m.seconds, mbps / base, cpu_per_gb,
                cpu_per_gb / base_cpu, missed_text.c_str(),
                static_cast<unsigned long long>(errors));
    if (a.json) {
      std::printf(
          "{\"bench\":\"engines\",\"engines\":\"%s\",\"seconds\":%.3f,\"mb_s\":%.2f,"
          "\"msgs_s\":%.2f,\"ratio\":%.3f,\"cpu_s_per_gb\":%.2f,\"missed\":%llu,"
          "\"errors\":%llu}\n",
          configs[i].name.c_str(), m.seconds, mbps, a.messages / m.seconds, mbps / base, cpu_per_gb,
          static_cast<unsigned long long>(must_detect ? missed : 0),
          static_cast<unsigned long long>(errors));
    }
  }
  std::printf(
      "ratio = MB/s relative to libclamav alone (higher is faster); CPU = this process + clamd, "
      "robust to a busy machine\n");
  return status;
}

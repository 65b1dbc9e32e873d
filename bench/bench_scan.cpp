// bench_scan.cpp - corpus throughput: avsink C ABI, libclamav alone, clamd INSTREAM.
// Invariant: detections are checked against the corpus manifest; any mismatch sets "ok":false.
//
// One process measures one (system, threads) pair, so its peak RSS is its own; bench/run
// interleaves the pairs in rounds and turns the JSON lines into the table.
//
//   bench_scan --corpus DIR --system avsink|libclamav|clamd --threads N
//              [--config avsink.toml] [--label NAME] [--signatures DIR] [--socket PATH]
//              [--clamav-defaults] [--chunk BYTES] [--max-seconds S]
//
// avsink: avsink_engine_open(config or NULL, DRY_RUN), then begin / write in --chunk pieces / end
// per message (as an MTA adapter feeds it). libclamav: one cl_engine, cl_scanmap on each whole
// message; with --clamav-defaults the engine and scan options are libclamav's own defaults (as
// clamscan runs it: clean-file cache on, heuristics on, every parser, first match), otherwise
// avsink's settings (cache off, all matches, avsink's limits). clamd: one unix-socket connection
// per message, zINSTREAM with 4-byte big-endian chunk lengths. Output: one JSON object on stdout,
// including "load_s": the seconds the engine (signature load and compile) took to open.
#include <clamav.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "avsink/avsink.h"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

struct Args {
  std::string corpus;
  std::string system = "avsink";
  std::string label;
  std::string config;
  std::string signatures = AVSINK_BENCH_SIGNATURES_DIR;
  std::string socket;
  int threads = 1;
  size_t chunk = 64 * 1024;
  double max_seconds = 300;
  int cpu_pid = 0;               // also count this process's CPU time (the clamd daemon)
  bool clamav_defaults = false;  // libclamav: its own defaults instead of avsink's settings
};

struct Message {
  std::string file;
  std::string expect;  // infected | banned | clean
  std::string kind;
  std::string data;
};

// What a scanner said about one message.
struct Outcome {
  std::string cls;  // infected | banned | clean | other | error
  std::string detail;
};

[[noreturn]] void die(const std::string &m) {
  std::cerr << "bench_scan: " << m << "\n";
  std::exit(2);
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Resident-set high-water mark of this process in KiB (VmHWM), 0 when unknown.
long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// CPU seconds (user + system) used so far by this process, or by `pid` when it is not 0.
double cpu_seconds(int pid = 0) {
  if (pid == 0) {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f && i <= 15; ++i)
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// ---- avsink through the C ABI ----
class AvsinkScanner {
 public:
  AvsinkScanner(const std::string &config, size_t chunk) : chunk_(chunk) {
    avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
    o.config_path = config.empty() ? nullptr : config.c_str();
    o.flags = AVSINK_ENGINE_DRY_RUN;
    avsink_error err = AVSINK_ERROR_INIT;
    if (avsink_engine_open(&engine_, &o, &err) != AVSINK_OK)
      die(std::string("avsink_engine_open: ") + err.message + " " + err.file);
  }
  ~AvsinkScanner() { avsink_engine_free(engine_); }
  AvsinkScanner(const AvsinkScanner &) = delete;  // owns the engine
  AvsinkScanner &operator=(const AvsinkScanner &) = delete;

  Outcome scan(const std::string &data) const {
    avsink_scan *scan = nullptr;
    Outcome out;
    if (avsink_scan_begin(&scan, engine_, nullptr) != AVSINK_OK) return {"error", "scan_begin"};
    for (size_t off = 0; off < data.size(); off += chunk_) {
      size_t n = std::min(chunk_, data.size() - off);
      if (avsink_scan_write(scan, data.data() + off, n) != AVSINK_OK) {
        out = {"error", avsink_scan_errmsg(scan)};
        avsink_scan_free(scan);
        return out;
      }
    }
    const avsink_verdict *v = nullptr;
    if (avsink_scan_end(&v, scan) != AVSINK_OK) {
      out = {"error", avsink_scan_errmsg(scan)};
      avsink_scan_free(scan);
      return out;
    }
    bool virus = false, banned = false;
    for (size_t i = 0; i < avsink_verdict_finding_count(v); ++i) {
      const avsink_finding *f = avsink_verdict_finding(v, i);
      if (std::strcmp(f->kind, "virus") == 0) virus = true;
      if (std::strcmp(f->kind, "banned-attachment") == 0) banned = true;
    }
    if (virus) {
      out.cls = "infected";
    } else if (banned) {
      out.cls = "banned";
    } else if (avsink_verdict_action(v) == AVSINK_ACTION_ACCEPT) {
      out.cls = "clean";
    } else {
      out.cls = "other";
    }
    out.detail = avsink_verdict_reason(v);
    avsink_scan_free(scan);
    return out;
  }

 private:
  avsink_engine *engine_ = nullptr;
  size_t chunk_;
};

// ---- libclamav alone: at its own defaults, or configured as avsink configures it ----
// (avsink's settings: src/engines/clamav_lib.cpp)
class LibclamavScanner {
 public:
  LibclamavScanner(const std::string &sigdir, bool defaults) {
    if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS) die("cl_init");
    engine_ = cl_engine_new();
    if (!defaults) {
      const std::pair<cl_engine_field, long long> settings[] = {
          {CL_ENGINE_MAX_SCANSIZE, 400ll << 20},
          {CL_ENGINE_MAX_FILESIZE, (100ll << 20) + (1 << 20)},
          {CL_ENGINE_MAX_RECURSION, 17},
          {CL_ENGINE_MAX_FILES, 10001},
          {CL_ENGINE_MAX_SCANTIME, 120000},
          {CL_ENGINE_DISABLE_CACHE, 1}};
      for (const auto &[field, value] : settings) cl_engine_set_num(engine_, field, value);
    }
    unsigned int sigs = 0;
    if (cl_load(sigdir.c_str(), engine_, &sigs, CL_DB_STDOPT) != CL_SUCCESS)
      die("cl_load " + sigdir);
    if (cl_engine_compile(engine_) != CL_SUCCESS) die("cl_engine_compile");
    signatures_ = sigs;
    if (defaults) {
      // clamscan's and clamd's defaults: heuristic alerts on, every parser, stop at the first
      // match.
      opts_.general = CL_SCAN_GENERAL_HEURISTICS;
      opts_.parse = ~0u;
    } else {
      opts_.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
      opts_.parse = ~0u;
      opts_.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
                        CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
      opts_.mail = CL_SCAN_MAIL_PARTIAL_MESSAGE;
    }
  }
  unsigned int signatures() const { return signatures_; }
  ~LibclamavScanner() { cl_engine_free(engine_); }
  LibclamavScanner(const LibclamavScanner &) = delete;  // owns the engine
  LibclamavScanner &operator=(const LibclamavScanner &) = delete;

  Outcome scan(const std::string &data) const {
    cl_fmap_t *map = cl_fmap_open_memory(data.data(), data.size());
    if (map == nullptr) return {"error", "cl_fmap_open_memory"};
    const char *virname = nullptr;
    unsigned long scanned = 0;
    struct cl_scan_options o = opts_;
    cl_error_t rc = cl_scanmap_callback(map, nullptr, &virname, &scanned, engine_, &o, nullptr);
    cl_fmap_close(map);
    if (rc == CL_VIRUS) {
      std::string name = virname ? virname : "";
      bool heuristic = name.rfind("Heuristics.", 0) == 0;
      return {heuristic ? "other" : "infected", name};
    }
    if (rc == CL_CLEAN) return {"clean", ""};
    return {"error", cl_strerror(rc)};
  }

 private:
  cl_engine *engine_ = nullptr;
  struct cl_scan_options opts_ {};
  unsigned int signatures_ = 0;
};

// ---- clamd over INSTREAM ----
class ClamdScanner {
 public:
  ClamdScanner(std::string socket, size_t chunk) : socket_(std::move(socket)), chunk_(chunk) {}

  Outcome scan(const std::string &data) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {"error", "socket"};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return {"error", "connect " + socket_ + ": " + std::strerror(errno)};
    }
    bool ok = send_all(fd, "zINSTREAM", 10);
    for (size_t off = 0; ok && off < data.size(); off += chunk_) {
      uint32_t n = static_cast<uint32_t>(std::min(chunk_, data.size() - off));
      unsigned char len[4] = {static_cast<unsigned char>(n >> 24),
                              static_cast<unsigned char>(n >> 16),
                              static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
      ok = send_all(fd, len, 4) && send_all(fd, data.data() + off, n);
    }
    const unsigned char end[4] = {0, 0, 0, 0};
    ok = ok && send_all(fd, end, 4);
    std::string reply;
    char buf[512];
    for (;;) {  // read even after a failed send: clamd may have answered "size limit exceeded"
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      reply.append(buf, static_cast<size_t>(r));
      if (reply.find('\0') != std::string::npos) break;
    }
    ::close(fd);
    if (auto z = reply.find('\0'); z != std::string::npos) reply.resize(z);
    // "stream: OK", "stream: Name FOUND", "... ERROR"
    if (reply.size() > 3 && reply.compare(reply.size() - 3, 3, " OK") == 0) return {"clean", ""};
    if (reply.size() > 6 && reply.compare(reply.size() - 6, 6, " FOUND") == 0) {
      bool heuristic = reply.find(": Heuristics.") != std::string::npos;
      return {heuristic ? "other" : "infected", reply};
    }
    return {"error", reply.empty() ? std::string("no reply") : reply};
  }

 private:
  static bool send_all(int fd, const void *p, size_t n) {
    const char *c = static_cast<const char *>(p);
    while (n > 0) {
      ssize_t w = ::send(fd, c, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      c += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  std::string socket_;
  size_t chunk_;
};

Args parse_args(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--corpus") {
      a.corpus = val();
    } else if (k == "--system") {
      a.system = val();
    } else if (k == "--label") {
      a.label = val();
    } else if (k == "--config") {
      a.config = val();
    } else if (k == "--signatures") {
      a.signatures = val();
    } else if (k == "--socket") {
      a.socket = val();
    } else if (k == "--threads") {
      a.threads = std::max(1, std::stoi(val()));
    } else if (k == "--chunk") {
      a.chunk = std::max<size_t>(1, std::stoul(val()));
    } else if (k == "--cpu-pid") {
      a.cpu_pid = std::stoi(val());
    } else if (k == "--clamav-defaults") {
      a.clamav_defaults = true;
    } else if (k == "--max-seconds") {
      a.max_seconds = std::stod(val());
    } else {
      die("unknown argument " + k);
    }
  }
  if (a.corpus.empty()) die("--corpus DIR is required");
  if (a.label.empty()) a.label = a.system;
  return a;
}

template <typename Scanner>
json run(const Args &a, const Scanner &scanner, const std::vector<Message> &msgs, long base_kib,
         double load_s) {
  // Warm-up (untimed): the first messages once, so page faults and lazy init are not measured.
  for (size_t i = 0; i < std::min<size_t>(10, msgs.size()); ++i) (void)scanner.scan(msgs[i].data);

  std::vector<Outcome> outcomes(msgs.size());
  std::vector<double> latency_ms(msgs.size(), -1);
  std::atomic<size_t> next{0};
  std::atomic<bool> timed_out{false};
  const double cpu0 = cpu_seconds() + (a.cpu_pid ? cpu_seconds(a.cpu_pid) : 0);
  const auto t0 = Clock::now();
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= msgs.size()) return;
      if (std::chrono::duration<double>(Clock::now() - t0).count() > a.max_seconds) {
        timed_out = true;
        return;
      }
      auto s = Clock::now();
      outcomes[i] = scanner.scan(msgs[i].data);
      latency_ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < a.threads; ++t) pool.emplace_back(worker);
  for (auto &t : pool) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() + (a.cpu_pid ? cpu_seconds(a.cpu_pid) : 0) - cpu0;

  // Check against the manifest.
  size_t bytes = 0, done = 0;
  std::vector<double> lat;
  json found = {{"infected", 0}, {"banned", 0}, {"clean", 0}, {"other", 0}, {"error", 0}};
  json missed = json::array(), false_pos = json::array(), unexpected = json::array();
  size_t banned_expected = 0, banned_found_expected = 0, banned_found_total = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (latency_ms[i] < 0) continue;
    ++done;
    bytes += msgs[i].data.size();
    lat.push_back(latency_ms[i]);
    const Outcome &o = outcomes[i];
    found[o.cls] = found[o.cls].get<int>() + 1;
    const std::string &e = msgs[i].expect;
    if (e == "infected" && o.cls != "infected") missed.push_back(msgs[i].file + " (" + o.cls + ")");
    if (e != "infected" && o.cls == "infected") false_pos.push_back(msgs[i].file + ": " + o.detail);
    if (e == "banned") ++banned_expected;
    if (o.cls == "banned") {
      ++banned_found_total;
      if (e == "banned") ++banned_found_expected;
    }
    // A clean message must come out clean; a banned one clean (engines that do not judge names)
    // or banned. Anything else (unscannable, tempfail, engine error) is a failure.
    bool fine = (e == "infected") || o.cls == "clean" || (e == "banned" && o.cls == "banned");
    if (!fine && unexpected.size() < 20)
      unexpected.push_back(msgs[i].file + " (" + e + " -> " + o.cls + ": " + o.detail + ")");
    if (!fine && unexpected.size() >= 20) unexpected.back() = "... (more)";
  }
  size_t infected_expected = 0;
  for (const auto &m : msgs) infected_expected += m.expect == "infected";
  std::string banned_check;
  if (a.system != "avsink") {
    banned_check = "n/a";
  } else if (banned_found_total == 0) {
    banned_check = "pending";  // the attachments stage is not in the pipeline yet
  } else if (banned_found_total == banned_found_expected &&
             banned_found_expected == banned_expected) {
    banned_check = "ok";
  } else {
    banned_check = "mismatch";
  }
  bool complete = done == msgs.size();
  bool ok = complete && missed.empty() && false_pos.empty() && unexpected.empty() &&
            banned_check != "mismatch";

  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  json j;
  j["system"] = a.system;
  j["label"] = a.label;
  j["libclamav"] = cl_retver();
  j["avsink"] = avsink_version_string();
  j["threads"] = a.threads;
  j["messages"] = done;
  j["bytes"] = bytes;
  j["wall_s"] = wall;
  j["msgs_per_s"] = wall > 0 ? static_cast<double>(done) / wall : 0;
  j["mb_per_s"] = wall > 0 ? static_cast<double>(bytes) / 1e6 / wall : 0;
  j["p50_ms"] = percentile(lat, 0.50);
  j["p99_ms"] = percentile(lat, 0.99);
  j["max_ms"] = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  j["cpu_s"] = cpu;  // timed section only; clamd: client + daemon
  j["cpu_ms_per_msg"] = done ? cpu * 1e3 / static_cast<double>(done) : 0;
  j["peak_rss_mb"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  j["base_rss_mb"] = static_cast<double>(base_kib) / 1024.0;  // engine + corpus loaded
  j["load_s"] = load_s;  // opening the engine: signature load and compile (clamd: 0, not ours)
  j["found"] = found;
  j["check"] = {{"infected_expected", infected_expected},
                {"infected_found", found["infected"]},
                {"missed", missed},
                {"false_positives", false_pos},
                {"unexpected", unexpected},
                {"banned_expected", banned_expected},
                {"banned_found", banned_found_total},
                {"banned", banned_check},
                {"complete", complete},
                {"timed_out", timed_out.load()}};
  j["ok"] = ok;
  return j;
}

}  // namespace

int main(int argc, char **argv) {
  Args a = parse_args(argc, argv);
  json manifest = json::parse(read_file(a.corpus + "/manifest.json"));
  std::vector<Message> msgs;
  for (const auto &m : manifest["messages"]) {
    Message msg;
    msg.file = m["file"];
    msg.expect = m["expect"];
    msg.kind = m["kind"];
    msg.data = read_file(a.corpus + "/" + msg.file);
    msgs.push_back(std::move(msg));
  }
  json out;
  const auto t0 = Clock::now();
  auto since = [&t0] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  if (a.system == "avsink") {
    AvsinkScanner s(a.config, a.chunk);
    double load_s = since();
    out = run(a, s, msgs, vm_hwm_kib(), load_s);
  } else if (a.system == "libclamav") {
    LibclamavScanner s(a.signatures, a.clamav_defaults);
    double load_s = since();
    out = run(a, s, msgs, vm_hwm_kib(), load_s);
    out["signatures"] = s.signatures();
  } else if (a.system == "clamd") {
    if (a.socket.empty()) die("--socket is required for clamd");
    ClamdScanner s(a.socket, a.chunk);
    out = run(a, s, msgs, vm_hwm_kib(), 0.0);
  } else {
    die("unknown --system " + a.system);
  }
  std::cout << out.dump() << std::endl;
  return out["ok"].get<bool>() ? 0 : 1;
}

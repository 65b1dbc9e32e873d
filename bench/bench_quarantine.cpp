// bench_quarantine.cpp - the cost of one quarantine write (put) on each backend: the filesystem
// store (fsync, rename) and PostgreSQL (one transaction of chunk rows), encrypted, by message size.
// Usage: bench_quarantine [--count N]; the PostgreSQL rows need $AVSINK_PG_CONNINFO (run it under
// tests/pg/pg_server.sh run DIR -- bench_quarantine); prints one JSON line per row.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "quarantine/open.h"

namespace q = avsink::quarantine;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  double p50_ms = 0, p90_ms = 0, per_s = 0;
  int failed = 0;
};

Row measure(q::Backend &b, size_t size, int count) {
  std::string msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: bench\r\n\r\n";
  msg.resize(size, 'x');
  q::EntryMeta m;
  m.envelope.mail_from = "a@example.org";
  m.envelope.rcpt_to = {"b@example.net"};
  m.action = "quarantine";
  std::vector<double> ms;
  Row r;
  const auto begin = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    if (!b.put(msg, m)) ++r.failed;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double total = std::chrono::duration<double>(Clock::now() - begin).count();
  std::sort(ms.begin(), ms.end());
  r.p50_ms = ms[ms.size() / 2];
  r.p90_ms = ms[ms.size() * 9 / 10];
  r.per_s = count / total;
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  int count = 100;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = std::atoi(argv[++i]);
  if (count < 10) count = 10;
  char tmpl[] = "/tmp/avsink-bench-q-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  const std::string key = dir + "/key";
  std::ofstream(key) << std::string(64, 'b') << "\n";
  ::chmod(key.c_str(), 0600);

  std::vector<std::pair<std::string, q::BackendOptions>> backends;
  q::BackendOptions fs;
  fs.fs.dir = dir + "/store";
  fs.fs.key_file = key;
  backends.emplace_back("filesystem", fs);
  if (const char *ci = std::getenv("AVSINK_PG_CONNINFO")) {
    if (auto m = q::pg_migrate(ci, 5000); !m) {
      std::fprintf(stderr, "bench_quarantine: migrate: %s\n", m.error().describe().c_str());
      return 1;
    }
    q::BackendOptions pg;
    pg.backend = "postgresql";
    pg.pg.conninfo = ci;
    pg.pg.key_file = key;
    pg.pg.timeout_ms = 60000;
    backends.emplace_back("postgresql", pg);
  } else {
    std::fprintf(stderr, "bench_quarantine: no AVSINK_PG_CONNINFO: filesystem rows only\n");
  }
  int rc = 0;
  for (auto &[name, opts] : backends) {
    auto b = q::open_backend(opts, nullptr);
    if (!b) {
      std::fprintf(stderr, "bench_quarantine: %s: %s\n", name.c_str(),
                   b.error().describe().c_str());
      rc = 1;
      continue;
    }
    for (size_t size : {size_t{10} << 10, size_t{1} << 20, size_t{10} << 20}) {
      const int n = size >= (size_t{10} << 20) ? std::max(10, count / 10) : count;
      Row r = measure(**b, size, n);
      std::printf(
          "{\"bench\":\"quarantine_put\",\"backend\":\"%s\",\"bytes\":%zu,\"writes\":%d,"
          "\"failed\":%d,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"writes_per_s\":%.1f}\n",
          name.c_str(), size, n, r.failed, r.p50_ms, r.p90_ms, r.per_s);
      if (r.failed) rc = 1;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

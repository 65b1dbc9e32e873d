// bench_deadline.cpp - issue 14 item 8: how far past scan_deadline_ms one message's scan runs.
// Invariant: a scan that passes its deadline reports Limits.Exceeded.ScanTime and is never
// accepted.
//
//   bench_deadline [--runs N]
//
// For each message shape (one large binary part; many medium parts) and each deadline (50, 100,
// 200 ms), N scans through session::Scanner with that deadline. Overshoot = wall time of the scan
// minus the deadline. Target: the worst overshoot <= 10% of the deadline + 50 ms. A run whose
// deadline did not pass (the scan was quicker) is counted apart and not judged.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/log.h"
#include "session/scanner.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string random_base64(uint32_t seed, size_t raw_bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(raw_bytes * 4 / 3 + raw_bytes / 57 * 2 + 4);
  uint32_t x = seed;
  size_t col = 0;
  for (size_t i = 0; i < raw_bytes * 4 / 3; ++i) {
    x = x * 1103515245u + 12345u;
    out += kAlphabet[(x >> 16) & 63];
    if (++col == 76) {
      out += "\r\n";
      col = 0;
    }
  }
  return out + "\r\n";
}

std::string message(size_t parts, size_t part_bytes) {
  std::string m =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: deadline\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n";
  for (size_t i = 0; i < parts; ++i) {
    m += "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"p" +
         std::to_string(i) + ".bin\"\r\n\r\n" +
         random_base64(static_cast<uint32_t>(i + 7), part_bytes);
  }
  return m + "--b1--\r\n";
}

}  // namespace

int main(int argc, char **argv) {
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
  }
  struct Shape {
    const char *name;
    std::string msg;
  };
  const std::vector<Shape> shapes = {{"one 40 MB part", message(1, 40u << 20)},
                                     {"400 parts of 96 KB", message(400, 96u << 10)}};
  bool met = true;
  bool fail_open = false;
  std::printf("%-20s %8s %6s %10s %10s %10s %8s\n", "message", "deadline", "hit", "worst ms",
              "over ms", "allowed", "met");
  for (const uint32_t deadline_ms : {50u, 100u, 200u}) {
    avsink::Config cfg;
    cfg.signature_dirs = {AVSINK_BENCH_SIGNATURES_DIR};
    cfg.limits.scan_deadline_ms = deadline_ms;
    auto scanner = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
    if (!scanner) {
      std::cerr << "Scanner::open: " << scanner.error().describe() << "\n";
      return 1;
    }
    for (const auto &shape : shapes) {
      double worst = 0;
      int hit = 0;
      for (int r = 0; r < runs; ++r) {
        avsink::Envelope env;
        const auto t0 = Clock::now();
        auto v = (*scanner)->scan(env, {shape.msg, shape.msg.size()});
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!v) {
          std::cerr << "scan error: " << v.error().describe() << "\n";
          return 1;
        }
        const bool late = v->reason.find("ScanTime") != std::string::npos;
        bool has_finding = false;
        for (const auto &f : v->findings) has_finding |= f.name == "Limits.Exceeded.ScanTime";
        if (ms > deadline_ms && !has_finding) fail_open = true;
        if (has_finding && v->action == avsink::Action::kAccept) fail_open = true;
        if (has_finding || late) {
          ++hit;
          worst = std::max(worst, ms);
        }
      }
      const double allowed = deadline_ms * 0.1 + 50;
      const double over = hit > 0 ? worst - deadline_ms : 0;
      const bool ok = over <= allowed;
      met &= ok;
      std::printf("%-20s %8u %3d/%-2d %10.1f %10.1f %10.1f %8s\n", shape.name, deadline_ms, hit,
                  runs, worst, over, allowed,
                  hit == 0 ? "n/a"
                  : ok     ? "yes"
                           : "NO");
    }
  }
  if (fail_open) {
    std::printf("FAIL: a scan past its deadline was accepted or not reported\n");
    return 1;
  }
  std::printf("target (overshoot <= 10%% + 50 ms): %s\n", met ? "met" : "NOT met");
  return met ? 0 : 2;
}

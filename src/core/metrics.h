// metrics.h - one engine's counters (messages, findings, latency, bytes, tempfails, reloads,
// scans in flight) as lock-free atomics, and their Prometheus text exposition.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/action.h"
#include "core/finding.h"

namespace avsink {

// The registry every adapter exposes (through avsink_engine_metrics()). Label values come from
// fixed tables, so a counter is an array slot: recording never allocates or locks.
// Thread-safety: every member may be called from any thread at once (relaxed atomics; a scrape
// may see one message's counters half-updated, never torn values).
// Ownership: owned by the engine (session::Scanner); lives as long as it does.
class Metrics {
 public:
  static constexpr std::array<std::string_view, 9> kInspectors = {
      "mime",     "rules",      "attachments", "clamav", "clamd",
      "hashlist", "containers", "session",     "other"};
  static constexpr size_t kKinds = 6;    // FindingKind values
  static constexpr size_t kActions = 6;  // Action values
  // Causes of a 4xx: the verdict's own (engine_error: a required engine failed; policy: a rule or
  // action said tempfail), the library's (scan_failed: no verdict, e.g. quarantine write or spool),
  // and the adapter's (avsink_engine_count_tempfail()). Unknown names count as "other".
  static constexpr std::array<std::string_view, 8> kTempfailCauses = {
      "engine_error", "policy",      "scan_failed", "scan_begin",
      "scan_write",   "mta_refused", "too_busy",    "other"};
  static constexpr std::array<std::string_view, 4> kReloadParts = {"rules", "attachments", "clamav",
                                                                   "hashlist"};
  // Upper bounds (seconds) of the scan-latency histogram buckets; +Inf is implied.
  static constexpr std::array<double, 13> kLatencyBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120};

  // One finished scan: its verdict's action, findings, message size and wall time.
  void record_scan(Action action, const Findings &findings, uint64_t bytes, double seconds);
  void count_tempfail(std::string_view cause);
  void count_reload(std::string_view part, bool ok);
  // Scans running now (RAII: InFlight's constructor and destructor).
  struct InFlight {
    explicit InFlight(Metrics &m) : m_(m) { m_.in_flight_.fetch_add(1, std::memory_order_relaxed); }
    ~InFlight() { m_.in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    InFlight(const InFlight &) = delete;
    InFlight &operator=(const InFlight &) = delete;

   private:
    Metrics &m_;
  };

  uint64_t messages(Action action) const;
  uint64_t tempfails(std::string_view cause) const;
  uint64_t reloads(std::string_view part, bool ok) const;

  // The counters as Prometheus text exposition format 0.0.4 (# HELP, # TYPE, samples), every
  // metric name prefixed "avsink_".
  std::string exposition() const;

 private:
  using Counter = std::atomic<uint64_t>;
  std::array<Counter, kActions> messages_{};
  std::array<Counter, kKinds * kInspectors.size()> findings_{};
  std::array<Counter, kLatencyBuckets.size() + 1> latency_{};  // per bucket, not cumulative
  Counter latency_sum_us_{0};
  Counter bytes_{0};
  std::array<Counter, kTempfailCauses.size()> tempfails_{};
  std::array<Counter, kReloadParts.size() * 2> reloads_{};  // [part][ok]
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace avsink

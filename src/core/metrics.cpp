// metrics.cpp - lock-free counters of one engine and their Prometheus text format.
// Labels are fixed tables (metrics.h), so a scrape lists every series, including zeros.
#include "core/metrics.h"

#include <cstdio>

namespace avsink {

namespace {

template <size_t N>
size_t index_of(const std::array<std::string_view, N> &table, std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (table[i] == name) return i;
  return N - 1;  // the last entry is the catch-all ("other") where the table has one
}

void head(std::string &out, const char *name, const char *type, const char *help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string &out, const std::string &series, uint64_t v) {
  out += series;
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}

}  // namespace

void Metrics::record_scan(Action action, const Findings &findings, uint64_t bytes, double seconds) {
  auto a = static_cast<size_t>(action);
  if (a < kActions) messages_[a].fetch_add(1, std::memory_order_relaxed);
  for (const auto &f : findings) {
    auto k = static_cast<size_t>(f.kind);
    if (k >= kKinds) continue;
    size_t i = index_of(kInspectors, f.inspector);
    findings_[k * kInspectors.size() + i].fetch_add(1, std::memory_order_relaxed);
  }
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  latency_[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::count_tempfail(std::string_view cause) {
  tempfails_[index_of(kTempfailCauses, cause)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_reload(std::string_view part, bool ok) {
  for (size_t i = 0; i < kReloadParts.size(); ++i)
    if (kReloadParts[i] == part)
      reloads_[i * 2 + (ok ? 1 : 0)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::messages(Action action) const {
  auto a = static_cast<size_t>(action);
  return a < kActions ? messages_[a].load(std::memory_order_relaxed) : 0;
}

uint64_t Metrics::tempfails(std::string_view cause) const {
  return tempfails_[index_of(kTempfailCauses, cause)].load(std::memory_order_relaxed);
}

uint64_t Metrics::reloads(std::string_view part, bool ok) const {
  for (size_t i = 0; i < kReloadParts.size(); ++i)
    if (kReloadParts[i] == part)
      return reloads_[i * 2 + (ok ? 1 : 0)].load(std::memory_order_relaxed);
  return 0;
}

std::string Metrics::exposition() const {
  std::string out;
  out.reserve(8192);
  head(out, "avsink_messages_total", "counter", "Messages scanned, by verdict action.");
  for (size_t a = 0; a < kActions; ++a)
    sample(
        out,
        "avsink_messages_total{action=\"" + std::string(to_string(static_cast<Action>(a))) + "\"}",
        messages_[a].load(std::memory_order_relaxed));
  head(out, "avsink_findings_total", "counter", "Findings, by kind and inspector.");
  for (size_t k = 0; k < kKinds; ++k)
    for (size_t i = 0; i < kInspectors.size(); ++i)
      sample(out,
             "avsink_findings_total{kind=\"" + std::string(to_string(static_cast<FindingKind>(k))) +
                 "\",inspector=\"" + std::string(kInspectors[i]) + "\"}",
             findings_[k * kInspectors.size() + i].load(std::memory_order_relaxed));
  head(out, "avsink_scan_duration_seconds", "histogram", "Wall time of one message's scan.");
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
    cumulative += latency_[b].load(std::memory_order_relaxed);
    char le[32];
    if (b < kLatencyBuckets.size())
      std::snprintf(le, sizeof le, "%g", kLatencyBuckets[b]);
    else
      std::snprintf(le, sizeof le, "+Inf");
    sample(out, std::string("avsink_scan_duration_seconds_bucket{le=\"") + le + "\"}", cumulative);
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6f",
                static_cast<double>(latency_sum_us_.load(std::memory_order_relaxed)) / 1e6);
  out += std::string("avsink_scan_duration_seconds_sum ") + sum + "\n";
  sample(out, "avsink_scan_duration_seconds_count", cumulative);
  head(out, "avsink_scanned_bytes_total", "counter", "Message bytes received for scanning.");
  sample(out, "avsink_scanned_bytes_total", bytes_.load(std::memory_order_relaxed));
  head(out, "avsink_tempfails_total", "counter", "Messages answered 4xx, by cause.");
  for (size_t c = 0; c < kTempfailCauses.size(); ++c)
    sample(out, "avsink_tempfails_total{cause=\"" + std::string(kTempfailCauses[c]) + "\"}",
           tempfails_[c].load(std::memory_order_relaxed));
  head(out, "avsink_scans_in_flight", "gauge", "Scans running now.");
  out +=
      "avsink_scans_in_flight " + std::to_string(in_flight_.load(std::memory_order_relaxed)) + "\n";
  head(out, "avsink_reloads_total", "counter",
       "Reloads by part and result: SIGHUP (avsink_engine_reload) and the file watchers.");
  for (size_t p = 0; p < kReloadParts.size(); ++p)
    for (int ok = 1; ok >= 0; --ok)
      sample(out,
             "avsink_reloads_total{part=\"" + std::string(kReloadParts[p]) + "\",result=\"" +
                 (ok ? "ok" : "failed") + "\"}",
             reloads_[p * 2 + static_cast<size_t>(ok)].load(std::memory_order_relaxed));
  return out;
}

}  // namespace avsink

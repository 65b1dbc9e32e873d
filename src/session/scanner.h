// scanner.h - one configured avsink: config, engines and inspectors, shared by all scanning
// threads. scan() runs MIME -> inspectors -> engines -> policy for one complete message and never
// throws.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/result.h"
#include "policy/verdict.h"

namespace avsink::session {

// The message as handed over: what the spool (or avsink_scan_buffer) kept, and what was sent.
struct RawMessage {
  std::string_view bytes;    // what was kept (at most limits.max_message_bytes)
  uint64_t total_bytes = 0;  // what the MTA sent
};

class Scanner {
 public:
  // Builds every stage from `config`. dry_run: never store anything in the quarantine.
  // Errors: kConfig, kRules, kEngine, kIo with the file and line to blame.
  static Result<std::unique_ptr<Scanner>> open(const Config &config, Logger logger, bool dry_run);
  ~Scanner();
  Scanner(const Scanner &) = delete;  // owns engines and watcher threads
  Scanner &operator=(const Scanner &) = delete;

  // Scans one message. Thread-safe. Errors only when no decision is possible (e.g. the quarantine
  // write failed for a QUARANTINE verdict): the caller must then fail closed.
  Result<Verdict> scan(const Envelope &envelope, const RawMessage &raw) const;

  // Reloads rules, lists and signatures (each built aside and swapped). Thread-safe.
  Result<void> reload();
  // JSON object describing engines, signature counts and generations, and "health":
  // {"ok": bool, "reasons": [{"code", "text"}]} as health() gives it.
  std::string info_json() const;

  // Why this engine is not fit to run unattended; empty = healthy. Codes: "engine_error" (an
  // engine cannot scan), "test_signatures_only" (ClamAV loaded only avsink's shipped test
  // signatures), "stale_database" (newest database older than [clamav] max_db_age_hours),
  // "unreadable_database" (a database file this process cannot read: the next reload cannot
  // load it), "reload_failed" (the last reload of a part failed; the previous generation
  // stays). Thread-safe; lists the signature directories, so not for the scan path.
  struct HealthIssue {
    std::string code, text;
  };
  std::vector<HealthIssue> health() const;
  // Counters and engine gauges as Prometheus text exposition (core/metrics.h plus generations,
  // signature counts and ages, avsink_healthy and avsink_degraded{reason}). Thread-safe.
  std::string metrics_text() const;
  // Counts a 4xx an adapter gave on its own (a cause of Metrics::kTempfailCauses). Thread-safe.
  void count_tempfail(std::string_view cause) const;
  const Config &config() const;
  // The [[policy]] name for `envelope` and one recipient ("default" when none matches). The
  // milter groups recipients by it at RCPT time. Thread-safe.
  std::string policy_for(const Envelope &envelope, std::string_view rcpt) const;
  // True when some policy selects by recipient (recipients of one message may differ).
  bool policies_by_recipient() const;

 private:
  struct Impl;
  explicit Scanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::session

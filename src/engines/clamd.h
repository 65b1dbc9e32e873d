// clamd.h - the clamd engine: each part is streamed to a clamd daemon with zINSTREAM.
// Never reports "clean" without clamd's "stream: OK": every other outcome is a finding or an Error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "engines/engine.h"

namespace avsink::engines {

// Defaults (the rspamd clamav.lua shape: one table, overridden key by key):
//   address              (none)    "unix:/run/clamav/clamd.ctl", "tcp:127.0.0.1:3310",
//                                  "tcp:[::1]:3310" or "tcp:host:3310" (resolved once, at open)
//   required             true      an error of this engine fails the message closed (TEMPFAIL)
//   connect_timeout_ms   2000      connect(), and the whole of a status() probe
//   read_timeout_ms      30000     longest wait for clamd to accept bytes or answer
//   stream_max_length    25 MiB    must not exceed clamd.conf's StreamMaxLength (clamd's own
//                                  default is 100M; Debian's is 25M): a larger part is refused here
//                                  as kUnscannable, without sending it
//   pool_size            4         connections open at once; more scans wait for a slot
//   retries              1         fresh connections tried again after a connection failure
//                                  (refused, reset, closed before the answer); timeouts are not
//                                  retried
struct ClamdOptions {
  std::string address;
  // Further clamds, tried in order when the one before cannot be reached or does not answer (each
  // with the same timeouts and retries; all within the message deadline). Same syntax as address.
  std::vector<std::string> backup_addresses;
  bool required = true;
  uint32_t connect_timeout_ms = 2000;
  uint32_t read_timeout_ms = 30000;
  uint64_t stream_max_length = 25ull << 20;
  uint32_t pool_size = 4;
  uint32_t retries = 1;

  // Errors: kConfig naming the offending key (address syntax of any address, a zero timeout,
  // pool_size 0,
  // stream_max_length 0 or above 4 GiB - 1, a unix path longer than sun_path).
  Result<void> validate() const;

  // The [clamd] settings of `config`: the first address, the others as backups. Pure.
  static ClamdOptions from(const Config &config);
};

// One connection per scan (clamd closes a non-session connection after its answer, so every
// answer is read to EOF - which also collects every name when clamd runs with AllMatchScan).
// Concurrency is bounded by pool_size. No persistent IDSESSION connections: under AllMatchScan
// clamd sends one reply per match and none after the last, so a session cannot tell where an
// answer ends; and a fresh connection is never stale.
//
// Thread-safety: scan() and status() may be called from any number of threads at once.
// Ownership: holds no connection between calls; owns the parsed address only.
class ClamdEngine final : public Engine {
 public:
  // Validates the options and resolves the address (a TCP host name is resolved here, once).
  // Does not connect: clamd may start after avsink. Errors: kConfig (validate(), or the host
  // name does not resolve).
  static Result<std::unique_ptr<ClamdEngine>> open(const ClamdOptions &options);
  ~ClamdEngine() override;
  ClamdEngine(const ClamdEngine &) = delete;  // owns a slot semaphore that scans wait on
  ClamdEngine &operator=(const ClamdEngine &) = delete;

  std::string_view name() const override { return "clamd"; }
  bool required() const override;
  // Failover: the addresses are tried in order (address, then backup_addresses); the first that
  // answers decides, and every finding's detail names it ("clamd at ADDRESS reported NAME"). An
  // Error lists what each address did.
  // Findings (inspector "clamd"): kVirus per "stream: NAME FOUND" (".UNOFFICIAL" stripped, as
  // the clamav engine does); kUnscannable for "Heuristics.Encrypted.*" and
  // "Heuristics.Limits.Exceeded.*" names, for "Limits.Exceeded.StreamMaxLength" (part larger than
  // stream_max_length, or clamd answered "INSTREAM size limit exceeded"), for clamd's limit errors
  // (time, size, files, recursion: the same names the clamav engine uses) and for
  // "Limits.Exceeded.ScanTime" when the deadline passes. Errors: kEngine "clamd at ADDRESS: ..."
  // when clamd cannot be reached, closed the connection before answering, or answered an error;
  // an answer that came before the zero-length terminator was sent (early, or after clamd closed
  // mid-stream) counts as no answer (kEngine "... before the end of the stream"), except clamd's
  // own "INSTREAM size limit exceeded" refusal;
  // kTimeout when clamd did not accept or answer within the configured timeouts, or no slot came
  // free within connect_timeout_ms + read_timeout_ms.
  Result<Findings> scan(const ScanItem &item, const Deadline &deadline) override;
  // Asks clamd "zVERSION" (bounded by connect_timeout_ms per address). db_version is "daily N
  // (ClamAV x.y.z)" or "ClamAV x.y.z" without an official database; db_time from the daily database
  // date; signatures_known = false (clamd does not report a count); error = "" when a clamd
  // answered, else why none could be reached. sources: one per address, in order, path "ADDRESS
  // (serving)" for the first that answered, "ADDRESS (down: why)" for those before it, "ADDRESS
  // (backup)" for those after it (not probed).
  EngineStatus status() const override;

  const std::string &address() const;

 private:
  struct Impl;
  explicit ClamdEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::engines

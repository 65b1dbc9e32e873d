// callbacks.h - the libmilter side of avsink-milter: xxfi_* callbacks and the verdict mapping.
// One avsink_engine for the process, one avsink_scan per message, all state per connection.
#pragma once

#include <libmilter/mfapi.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <avsink/avsink.h>

#include "options.h"

namespace avsink::milter {

// What every callback shares. libmilter callbacks carry no user pointer, so this is the one
// process-wide object; it is filled before smfi_main() and only `active` changes afterwards.
struct Runtime {
  avsink_engine *engine = nullptr;  // thread-safe per the C ABI
  Options options;
  std::mutex mu;  // guards active for the drain wait
  std::condition_variable drained;
  int active = 0;  // connections with state attached (negotiate/connect .. close)
};
Runtime &runtime();

// The filter description for smfi_register(): name "avsink", actions ADDHDRS|CHGHDRS|CHGBODY|
// QUARANTINE, every callback below.
smfiDesc *filter_description();

// Waits until no connection is active or `seconds` pass. Returns true when drained.
bool wait_for_drain(int seconds);

// One syslog line at `prio`, printf-style. With --log-json the line is one JSON object
// {"level": ..., "message": ...} so every line the milter logs parses as JSON.
void mlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// avsink_log_fn that sends the engine's log lines to syslog (facility set by openlog).
void engine_log(void *payload, avsink_log_level level, const char *message);

}  // namespace avsink::milter

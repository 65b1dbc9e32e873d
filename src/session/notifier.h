// notifier.h - notices about verdicts (administrator, optional sender) built from templates and
// sent through the local MTA over SMTP from one background thread; bursts become one digest per
// interval.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/log.h"
#include "core/result.h"

namespace avsink::session {

// What a notice is about (copied; no message bytes).
struct NoticeEvent {
  std::string action, reason, queue_id, mail_from, client, quarantine_id;
  std::vector<std::string> rcpts;
};

// One running notifier. notify() never blocks on the network: it queues (bounded; a full queue
// counts the event into the next digest instead of dropping it silently). The thread sends at most
// config.notify_max_per_interval single notices per interval; later events of that interval are
// sent as one digest when it ends.
// Thread-safety: notify() and sent() may be called from any thread. Ownership: owns its thread;
// the destructor sends what is pending (bounded by the SMTP timeout) and joins it.
class Notifier {
 public:
  // Loads the templates (config.notify_templates_dir, else the shipped rules/templates).
  // Errors: kConfig (no admins, bad next_hop, a template without a Subject line), kIo.
  static Result<std::unique_ptr<Notifier>> start(const Config &config, Logger logger);
  ~Notifier();
  Notifier(const Notifier &) = delete;  // owns a thread
  Notifier &operator=(const Notifier &) = delete;

  void notify(NoticeEvent event);
  uint64_t sent() const;  // messages handed to the MTA (notices and digests)

 private:
  struct Impl;
  explicit Notifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsink::session

// engine.h - the scanning-engine interface: libclamav in process, clamd, the SHA-256 hash list.
// Engines are shared by all scanning threads; scan() must be safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/container_member.h"
#include "core/deadline.h"
#include "core/finding.h"
#include "core/result.h"

namespace avsink::engines {

// The member types live in core (core/container_member.h) so that the attachment policy can judge
// members without including an engine; these names keep the engines' spelling.
using ContainerMember = avsink::ContainerMember;
using MemberDecision = avsink::MemberDecision;

// One thing to scan: a decoded part, or the raw message (whole_message = true).
struct ScanItem {
  std::string_view data;
  std::string_view part_path;  // "" for the whole message
  std::string_view filename;   // decoded filename, "" when none
  bool whole_message = false;
  // The MIME stage read this part as text (text/*). Engines that parse mail (libclamav) do not
  // parse it as a mail: the MIME stage is the mail parser, and mail readers show a text part as
  // text. (libclamav took a Mailman digest's text for 30 nested messages and hit its recursion
  // limit.)
  bool text_part = false;
  // The caller reads this container's members itself and gives each to the engines
  // (session/container_pass.h, containers::read_alone()): an engine that unpacks archives
  // (libclamav) scans these bytes as they are and does not unpack them a second time.
  bool members_read_by_caller = false;
  // Optional: called for every container member the engine unpacks, on the scanning thread.
  // Findings the callback wants recorded go into the Findings the caller owns, not here.
  std::function<MemberDecision(const ContainerMember &)> on_member;
  // Optional, not owned, must outlive the scan: bytes this engine already scanned for this
  // message (the decoded parts). A member whose bytes equal one of them is not scanned again;
  // its findings are those of that earlier scan. Used by the raw-message pass, where libclamav
  // decodes the same parts a second time.
  const std::vector<std::string_view> *already_scanned = nullptr;
};

// One database file an engine loaded, for status and the audit line of a (re)load.
struct SignatureFile {
  std::string path;
  std::string sha256;  // lowercase hex, hashed right after the file was loaded
  int64_t mtime = 0;   // unix time
};

// One directory or file handed to an engine's loader, and what it yielded.
struct SignatureSource {
  std::string path;
  uint64_t signatures = 0;
  std::vector<SignatureFile> files;  // every database file in it, sorted by path
};

// Status of an engine, for `avsink status` and the C ABI.
struct EngineStatus {
  std::string name;
  uint64_t signatures = 0;
  std::string db_version;                // e.g. "daily 27000" or "" when unknown
  int64_t db_time = 0;                   // unix time of the newest database file, 0 when unknown
  uint64_t generation = 0;               // increments on every successful (re)load
  std::vector<SignatureSource> sources;  // in load order; empty when the engine has none
  bool required = true;                  // a failure of this engine fails the message closed
  bool signatures_known = true;          // false when the engine cannot tell (clamd)
  std::string error;                     // "" while the engine can scan; else why it cannot now
};

// Age of the newest database in seconds at unix time `now`; -1 when db_time is unknown (0).
inline int64_t db_age_seconds(const EngineStatus &s, int64_t now) {
  return s.db_time > 0 ? (now > s.db_time ? now - s.db_time : 0) : -1;
}

// The warning `avsink status` prints for one engine, or "" when none is due: unreachable, or a
// database older than `max_age_seconds` (0 = no age check). An unknown age is not warned about.
inline std::string db_age_warning(const EngineStatus &s, int64_t now, int64_t max_age_seconds) {
  if (!s.error.empty()) return s.name + ": " + s.error;
  const int64_t age = db_age_seconds(s, now);
  if (max_age_seconds <= 0 || age < 0 || age <= max_age_seconds) return {};
  return s.name + ": signature database is " + std::to_string(age / 3600) + " h old (limit " +
         std::to_string(max_age_seconds / 3600) + " h)";
}

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  // A required engine's failure makes the verdict TEMPFAIL (fail closed).
  virtual bool required() const = 0;
  // Scans one item. Returns the findings (kVirus, kUnscannable), or an Error when the engine
  // itself failed (then the caller applies the fail-closed policy). Thread-safe.
  virtual Result<Findings> scan(const ScanItem &item, const Deadline &deadline) = 0;
  virtual EngineStatus status() const = 0;
};

}  // namespace avsink::engines

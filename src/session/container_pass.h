// container_pass.h - one decoded part's containers, listed by avsink itself (containers/walk.h):
// every member name judged by the attachment policy, what libclamav did not unpack scanned here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attachments/attachment_policy.h"
#include "core/deadline.h"
#include "core/finding.h"
#include "core/limits.h"
#include "engines/engine.h"
#include "mime/message_tree.h"

namespace avsink::session {

// Runs one engine on one item and appends its findings (or its failure, per the engine's
// fail-closed setting) to the Findings given; false when the engine failed.
using ScanOne = std::function<bool(engines::Engine &, const engines::ScanItem &, Findings &)>;

// The members an engine's own walk scanned, by content: a listed member with the same bytes was
// scanned already, whatever path either reader gives it (libclamav names zip members by their last
// component and TNEF members not at all). Equality is exact: members are indexed by size, and the
// bytes themselves are kept (and compared with memcmp) while `copy_budget` lasts; past it, their
// SHA-256 is kept and a listed member of the same size is hashed once to compare. Copying and
// comparing cost a fraction of hashing both sides. One scan, one thread.
class SeenMembers {
 public:
  static constexpr size_t kDefaultCopyBudget = 4 * 1024 * 1024;
  explicit SeenMembers(size_t copy_budget = kDefaultCopyBudget) : budget_(copy_budget) {}
  // Records `data` (copied or hashed; nothing is kept of an empty member). True when it was
  // recorded now; false when it is empty or the same bytes were recorded before.
  bool add(std::string_view data);
  bool contains(std::string_view data) const;

 private:
  // contains(), leaving in `digest` the SHA-256 of `data` if it had to compute it.
  bool find(std::string_view data, std::string &digest) const;
  struct Seen {
    std::string bytes;   // the member's bytes, or
    std::string digest;  // their SHA-256 (hex) once past the copy budget
  };
  std::unordered_multimap<size_t, Seen> by_size_;
  size_t budget_;
  size_t copied_ = 0;
};

struct ContainerPassContext {
  const Limits *limits = nullptr;
  const Deadline *deadline = nullptr;
  const attachments::AttachmentPolicy *policy = nullptr;  // null: names are not judged
  attachments::MemberLog *member_log = nullptr;           // null: members are judged, not recorded
  engines::Engine *walker_engine = nullptr;       // the engine whose walk `seen` holds (libclamav)
  std::vector<engines::Engine *> member_engines;  // engines given the members it did not see
  ScanOne scan_one;
};

// Walks `part`'s body if it is a container. For every listed member: recorded in `member_log`
// (when set) and judged by the policy (name, and true type when extracted) into `member_findings`.
// Every extracted member is scanned by each member engine once: the walker engine skips bytes in
// `seen` (what its own walk unpacked from the part; what it unpacks from a member is added), the
// others (the hash list) skip only bytes they scanned as an earlier member, since the walker
// engine's walk shows them nothing. Every walk Problem becomes a kUnscannable
// finding in `out` ("Container.*", "Limits.Exceeded.*"; inspector "containers") naming the member
// path. Ownership: nothing kept after return. Thread-safety: as the engines and the policy (the
// scanning thread owns `seen` and the Findings). Errors: none; engines' failures become findings.
void scan_part_containers(const ContainerPassContext &ctx, const mime::Part &part,
                          SeenMembers &seen, Findings &member_findings, Findings &out);

}  // namespace avsink::session

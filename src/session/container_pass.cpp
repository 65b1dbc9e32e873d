// container_pass.cpp - the container walk of one part, wired to the attachment policy and engines.
// A member goes to libclamav unless its own walk handed it over already; to the others once.
#include "session/container_pass.h"

#include <algorithm>

#include "attachments/filename.h"
#include "containers/walk.h"
#include "core/sha256.h"
#include "mime/header_words.h"

namespace avsink::session {
namespace {

// The name a part is shown by in findings, as the attachment policy shows it.
std::string part_shown(const mime::Part &part) {
  const std::string &name = !part.filenames.empty() ? part.filenames.front() : part.filename_raw;
  return attachments::display_name(name);
}

std::string member_shown(const std::string &part_name, const std::string &path) {
  const std::string member = attachments::display_name(mime::to_utf8_lenient(path));
  return part_name.empty() ? member : part_name + "/" + member;
}

}  // namespace

bool SeenMembers::add(std::string_view data) {
  std::string digest;
  if (data.empty() || find(data, digest)) return false;
  Seen s;
  if (copied_ + data.size() <= budget_) {
    s.bytes.assign(data);
    copied_ += data.size();
  } else {
    s.digest = digest.empty() ? sha256_hex(data) : std::move(digest);
  }
  by_size_.emplace(data.size(), std::move(s));
  return true;
}

bool SeenMembers::contains(std::string_view data) const {
  std::string digest;
  return find(data, digest);
}

bool SeenMembers::find(std::string_view data, std::string &digest) const {
  auto [it, end] = by_size_.equal_range(data.size());
  for (; it != end; ++it) {
    const Seen &s = it->second;
    if (s.digest.empty()) {
      if (s.bytes == data) return true;
      continue;
    }
    if (digest.empty()) digest = sha256_hex(data);
    if (s.digest == digest) return true;
  }
  return false;
}

void scan_part_containers(const ContainerPassContext &ctx, const mime::Part &part,
                          SeenMembers &seen, Findings &member_findings, Findings &out) {
  const std::string part_name = part_shown(part);
  auto judge = [&](const engines::ContainerMember &cm) {
    if (ctx.policy == nullptr) return engines::MemberDecision::kContinue;
    if (ctx.member_log == nullptr) return ctx.policy->on_member(part, cm, member_findings);
    return ctx.policy->judge_member(part, ctx.member_log->add(part.path, cm), member_findings);
  };
  SeenMembers others_seen;  // what the member engines other than the walker engine scanned
  const bool others = std::any_of(ctx.member_engines.begin(), ctx.member_engines.end(),
                                  [&ctx](engines::Engine *e) { return e != ctx.walker_engine; });
  auto visit = [&](const containers::Member &m) {
    if (ctx.policy != nullptr) {
      engines::ContainerMember cm;
      cm.path = m.path;
      cm.depth = m.depth;
      cm.size = m.size;
      cm.data = m.data;
      judge(cm);
    }
    if (!m.extracted || m.data.empty()) return;
    // Scanned already, by the walker engine (its own walk, or as an earlier member), or by the
    // others (as an earlier member): each engine sees the same bytes once.
    const bool walker_saw = !seen.add(m.data);
    const bool others_saw = !others || !others_seen.add(m.data);  // no copy without others
    if (walker_saw && others_saw) return;
    if (ctx.deadline->expired()) return;  // the walk reports the deadline itself
    const std::string shown = member_shown(part_name, m.path);
    for (engines::Engine *e : ctx.member_engines) {
      if (e == ctx.walker_engine ? walker_saw : others_saw) continue;
      engines::ScanItem item;
      item.data = m.data;
      item.part_path = part.path;
      item.filename = shown;
      if (e == ctx.walker_engine) {
        item.on_member = [&](const engines::ContainerMember &inner) {
          engines::ContainerMember outer = inner;
          outer.path = inner.path.empty() ? m.path : m.path + "/" + inner.path;
          outer.depth = m.depth + inner.depth;
          seen.add(inner.data);
          return judge(outer);
        };
      }
      ctx.scan_one(*e, item, out);
    }
  };
  const containers::WalkResult r = containers::walk(part.body, *ctx.limits, *ctx.deadline, visit);
  for (const containers::Problem &p : r.problems) {
    Finding f;
    f.kind = p.unscannable ? FindingKind::kUnscannable : FindingKind::kMalformed;
    f.inspector = "containers";
    f.name = std::string(containers::problem_name(p.reason));
    f.part_path = part.path;
    f.filename = p.path.empty() ? part_name : member_shown(part_name, p.path);
    f.detail = p.detail;
    out.push_back(std::move(f));
  }
  if (r.problems_more > 0 && !out.empty() && out.back().inspector == "containers") {
    out.back().detail += " (and " + std::to_string(r.problems_more) + " more problems)";
    out.back().kind = FindingKind::kUnscannable;
  }
}

}  // namespace avsink::session

// clamav_scan.cpp - libclamav in process: one scan of a part and its archive walk (callbacks).
// Never "clean" for content libclamav could not fully inspect: limits, the deadline and engine
// errors become kUnscannable findings or an Error (DESIGN.md §7).
#include "engines/clamav_lib.h"

#include <cerrno>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <clamav.h>

#include "engines/clamav_ignored_types.h"
#include "engines/clamav_internal.h"
#include "engines/mail_parser_guard.h"

namespace avsink::engines {
using namespace clamav_internal;
namespace {

// Per-scan state, handed to libclamav as the callback context. Lives on the scanning thread.
struct ScanContext {
  const ScanItem *item = nullptr;
  const Deadline *deadline = nullptr;
  std::vector<std::string> names;  // every signature libclamav reported, in order, unique
  bool deadline_hit = false;       // a callback saw the deadline pass and skipped the rest
  bool stopped = false;            // on_member said kStop: skip everything after
  uint64_t max_file_bytes = 0;     // 0 = do not check member sizes
  bool oversize = false;           // some file was larger than max_file_bytes (see apply_limits)
  std::string oversize_path;       // the first such file, "" for the item itself
  uint64_t oversize_bytes = 0;
  std::string callback_error;      // on_member threw; the scan fails with kInternal
  const Logger *logger = nullptr;  // libclamav's messages during this scan
  // Members libclamav typed CL_TYPE_IGNORED and so never scanned (clamav_ignored_types.h): their
  // bytes, rescanned by scan_once() after the walk with the magic changed.
  struct HiddenMember {
    std::string path;
    uint32_t depth = 0;
    std::string data;
  };
  std::vector<HiddenMember> hidden;
  uint64_t hidden_bytes = 0;
  uint64_t max_hidden_bytes = 0;  // max_decoded_bytes: more is unscannable, not kept
  bool hidden_overflow = false;
  uint32_t duplicates_skipped = 0;  // members equal to ScanItem::already_scanned, not rescanned
  // Mail-file members libclamav's mail parser would stall on (mail_parser_guard.h): skipped, and
  // reported unscannable as "path: why".
  std::vector<std::string> mail_hazards;
};

ScanContext *context_of(void *p) {
  return static_cast<ScanContext *>(p);
}

// Common gate for the per-file callbacks: skip (CL_BREAK) once stopped or past the deadline.
// CL_BREAK alone would mark the file clean; the flags make scan() report it instead.
bool should_skip(ScanContext *ctx) {
  if (ctx->stopped || !ctx->callback_error.empty()) return true;
  if (ctx->deadline != nullptr && ctx->deadline->expired()) {
    ctx->deadline_hit = true;
    return true;
  }
  return false;
}

// libclamav names content it extracted without a name after its temp file:
// "clamav-<32 hex>.tmp". That name is not the sender's, so it is not part of a member path.
bool is_clamav_temp_name(std::string_view name) {
  static constexpr std::string_view kPrefix = "clamav-";
  static constexpr std::string_view kSuffix = ".tmp";
  if (name.size() != kPrefix.size() + 32 + kSuffix.size()) return false;
  if (!name.starts_with(kPrefix) || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  return std::all_of(name.begin() + kPrefix.size(), name.end() - kSuffix.size(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// The item's bytes as libclamav reads them: through a paged map whose every page read first
// checks the deadline. libclamav's own MAX_SCANTIME belongs to the shared compiled engine (it
// cannot carry one message's time left), and the per-file callbacks fire only between files, so
// without this one large part could run a whole deadline past the message's. A read refused
// here ends libclamav's reading of the item; deadline_hit makes scan_once() report it.
struct DeadlineReader {
  std::string_view data;
  ScanContext *ctx = nullptr;
};

off_t read_unless_expired(void *handle, void *buf, size_t count, off_t offset) {
  auto *r = static_cast<DeadlineReader *>(handle);
  if (r->ctx->deadline != nullptr && r->ctx->deadline->expired()) {
    r->ctx->deadline_hit = true;
    errno = ETIMEDOUT;
    return -1;
  }
  if (offset < 0 || static_cast<uint64_t>(offset) >= r->data.size()) return 0;
  const size_t n = std::min(count, r->data.size() - static_cast<size_t>(offset));
  std::memcpy(buf, r->data.data() + offset, n);
  return static_cast<off_t>(n);
}

cl_error_t on_pre_scan(int, const char *, void *context) {
  ScanContext *ctx = context_of(context);
  if (ctx == nullptr) return CL_CLEAN;
  return should_skip(ctx) ? CL_BREAK : CL_CLEAN;
}

// The member name libclamav reports for a file at recursion_level > 0: ancestors[0] is the
// scanned item itself, so members are named relative to it. Unnamed layers (the tar inside a
// .tar.gz, a decoded stream) and libclamav's own temp-file names add no path component.
std::string member_path(const char **ancestors, const char *file_name, uint32_t recursion_level) {
  std::string path;
  auto append = [&path](const char *component) {
    if (component == nullptr || *component == '\0' || is_clamav_temp_name(component)) return;
    if (!path.empty()) path += '/';
    path += component;
  };
  for (uint32_t i = 1; i < recursion_level && ancestors != nullptr; ++i) append(ancestors[i]);
  append(file_name);
  return path;
}

// True when a member's bytes equal something the caller already scanned with this engine.
bool already_scanned(const ScanContext &ctx, const char *file_buffer, size_t file_size) {
  const std::vector<std::string_view> *seen = ctx.item->already_scanned;
  if (seen == nullptr || file_buffer == nullptr || file_size == 0) return false;
  const std::string_view member(file_buffer, file_size);
  return std::any_of(seen->begin(), seen->end(), [&](std::string_view s) { return s == member; });
}

cl_error_t on_file_inspection(int, const char *type, const char **ancestors, size_t,
                              const char *file_name, size_t file_size, const char *file_buffer,
                              uint32_t recursion_level, uint32_t, void *context) {
  ScanContext *ctx = context_of(context);
  if (ctx == nullptr) return CL_CLEAN;
  if (should_skip(ctx)) return CL_BREAK;
  // Already scanned whole (a decoded part met again in the raw-message pass): CL_BREAK makes
  // libclamav skip it as clean; whatever it holds was reported by the earlier scan.
  if (recursion_level > 0 && already_scanned(*ctx, file_buffer, file_size)) {
    ++ctx->duplicates_skipped;
    return CL_BREAK;
  }
  const bool report = recursion_level > 0 && static_cast<bool>(ctx->item->on_member);
  const bool oversize = ctx->max_file_bytes > 0 && file_size > ctx->max_file_bytes;
  // The item itself is handled by scan(); a member libclamav will skip is kept for a rescan.
  const bool hidden = recursion_level > 0 && type != nullptr &&
                      std::strcmp(type, "CL_TYPE_IGNORED") == 0 && file_buffer != nullptr &&
                      !oversize;
  // A mail file inside an archive meets libclamav's mail parser with no check by the caller
  // first (3.4 s of CPU for a 2.7 KB zip, measured): it is reported, then skipped as unscannable.
  const bool mail = recursion_level > 0 && file_buffer != nullptr && type != nullptr &&
                    std::strcmp(type, "CL_TYPE_MAIL") == 0;
  if (!report && !oversize && !hidden && !mail) return CL_CLEAN;
  try {  // nothing may unwind through libclamav's C frames
    ContainerMember m;
    if (recursion_level > 0) m.path = member_path(ancestors, file_name, recursion_level);
    m.file_type = type != nullptr ? type : "";
    m.depth = recursion_level;
    m.size = file_size;
    if (file_buffer != nullptr) m.data = std::string_view(file_buffer, file_size);
    if (hidden && ctx->hidden_bytes + file_size > ctx->max_hidden_bytes) {
      ctx->hidden_overflow = true;
    } else if (hidden) {
      ctx->hidden_bytes += file_size;
      ctx->hidden.push_back({m.path, recursion_level, std::string(file_buffer, file_size)});
    }
    if (oversize && !ctx->oversize) {
      ctx->oversize = true;
      ctx->oversize_path = m.path;
      ctx->oversize_bytes = file_size;
    }
    if (report && ctx->item->on_member(m) == MemberDecision::kStop) {
      ctx->stopped = true;
      return CL_BREAK;
    }
    if (mail) {
      std::string hazard = mail_parser_hazard(m.data);
      if (!hazard.empty()) {
        ctx->mail_hazards.push_back(m.path + ": " + hazard);
        return CL_BREAK;
      }
    }
  } catch (const std::exception &e) {
    ctx->callback_error = e.what();
    return CL_BREAK;
  } catch (...) {
    ctx->callback_error = "unknown exception";
    return CL_BREAK;
  }
  return CL_CLEAN;
}

void on_virus_found(int, const char *virname, void *context) {
  ScanContext *ctx = context_of(context);
  if (ctx == nullptr || virname == nullptr) return;
  try {
    std::string name(virname);
    if (std::find(ctx->names.begin(), ctx->names.end(), name) == ctx->names.end()) {
      ctx->names.push_back(std::move(name));
    }
  } catch (...) {
    ctx->callback_error = "out of memory recording a signature name";
  }
}

// ---- turning libclamav's answer into findings ----

constexpr std::string_view kUnofficial = ".UNOFFICIAL";
constexpr std::string_view kMaxFileSize = "Heuristics.Limits.Exceeded.MaxFileSize";

Finding make_finding(const ScanItem &item, FindingKind kind, std::string name, std::string detail) {
  Finding f;
  f.kind = kind;
  f.inspector = "clamav";
  f.name = std::move(name);
  f.part_path = std::string(item.part_path);
  f.filename = std::string(item.filename);
  f.detail = std::move(detail);
  return f;
}

// One finding per signature name. libclamav suffixes names from unsigned databases with
// ".UNOFFICIAL"; the finding carries the name as written in the database, the detail the raw one.
Finding finding_for_signature(const ScanItem &item, const std::string &raw) {
  std::string name = raw;
  if (name.size() > kUnofficial.size() &&
      std::string_view(name).substr(name.size() - kUnofficial.size()) == kUnofficial) {
    name.resize(name.size() - kUnofficial.size());
  }
  const bool unscannable =
      name.starts_with("Heuristics.Encrypted") || name.starts_with("Heuristics.Limits.Exceeded");
  return make_finding(item, unscannable ? FindingKind::kUnscannable : FindingKind::kVirus,
                      std::move(name), "libclamav reported " + raw);
}

// The kUnscannable name for a scan that libclamav ended with `rc`, or "" when rc is not a limit.
std::string_view limit_name(cl_error_t rc) {
  switch (rc) {
    case CL_ETIMEOUT:
      return "Limits.Exceeded.ScanTime";
    case CL_EMAXSIZE:
      return "Limits.Exceeded.Size";
    case CL_EMAXFILES:
      return "Limits.Exceeded.Files";
    case CL_EMAXREC:
      return "Limits.Exceeded.Recursion";
    case CL_EFORMAT:
      return "Unscannable.Format";
    default:
      return {};
  }
}

bool has_name(const Findings &findings, std::string_view name) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding &f) { return f.name == name; });
}

}  // namespace

namespace clamav_internal {

const Logger *scan_logger(void *context) {
  return context != nullptr ? context_of(context)->logger : nullptr;
}

void install_scan_callbacks(cl_engine *engine) {
  cl_engine_set_clcb_pre_scan(engine, on_pre_scan);
  cl_engine_set_clcb_file_inspection(engine, on_file_inspection);
  cl_engine_set_clcb_virus_found(engine, on_virus_found);
}

}  // namespace clamav_internal

Result<Findings> ClamavEngine::scan(const ScanItem &item, const Deadline &deadline) {
  return scan_at(item, deadline, 0);
}

Result<Findings> ClamavEngine::scan_at(const ScanItem &item, const Deadline &deadline,
                                       uint32_t hidden_depth) {
  // libclamav never scans data it types as CL_TYPE_IGNORED (an ID3 tag, an Ogg stream, ...), so
  // anything can hide behind such a prefix (found by fuzz_scan). Scan such data a second time with
  // the magic's first byte changed, which makes it plain binary, and keep the union of both
  // readings (HOSTILE: "union").
  const size_t at = ignored_type_offset(item.data);
  if (at == std::string_view::npos) return scan_once(item, deadline, hidden_depth);
  size_t members_seen = 0;
  ScanItem counted = item;
  if (item.on_member) {
    counted.on_member = [&](const ContainerMember &m) {
      ++members_seen;
      return item.on_member(m);
    };
  }
  Result<Findings> first = scan_once(counted, deadline, hidden_depth);
  if (!first.ok()) return first;
  std::string copy(item.data);
  copy[at] = static_cast<char>(copy[at] ^ 0x20);
  ScanItem again = item;
  again.data = copy;
  // Members are judged once: on this walk only when the first one saw none (a skipped prefix
  // hides the whole container; an ID3 tag hides only its own bytes).
  if (members_seen > 0) again.on_member = nullptr;
  Result<Findings> second = scan_once(again, deadline, hidden_depth);
  if (!second.ok()) return second;
  Findings merged = std::move(first.value());
  for (auto &f : second.value()) {
    bool seen = false;
    for (const auto &g : merged) seen |= g.kind == f.kind && g.name == f.name;
    if (!seen) merged.push_back(std::move(f));
  }
  return merged;
}

Result<Findings> ClamavEngine::scan_once(const ScanItem &item, const Deadline &deadline,
                                         uint32_t hidden_depth) {
  Findings findings;
  const Finding scan_time =
      make_finding(item, FindingKind::kUnscannable, "Limits.Exceeded.ScanTime",
                   "the scan deadline passed before libclamav finished");
  if (deadline.expired()) {
    findings.push_back(scan_time);
    return findings;
  }
  if (item.data.empty()) return findings;
  SnapshotPtr snap = impl_->snapshot();  // keeps this engine alive until the scan ends
  const ClamavOptions &o = impl_->options;

  struct cl_scan_options opts {};
  opts.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
  opts.parse = ~0u;
  if (o.heuristic_exceeds_max) opts.heuristic |= CL_SCAN_HEURISTIC_EXCEEDS_MAX;
  if (o.heuristic_encrypted) {
    opts.heuristic |= CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
  }
  if (item.whole_message) opts.mail |= CL_SCAN_MAIL_PARTIAL_MESSAGE;
  if (item.text_part) opts.parse &= ~static_cast<uint32_t>(CL_SCAN_PARSE_MAIL);
  if (item.members_read_by_caller) opts.parse &= ~static_cast<uint32_t>(CL_SCAN_PARSE_ARCHIVE);

  ScanContext ctx;
  ctx.item = &item;
  ctx.deadline = &deadline;
  if (o.heuristic_exceeds_max) ctx.max_file_bytes = o.limits.max_file_bytes;
  ctx.max_hidden_bytes = o.limits.max_decoded_bytes;
  ctx.logger = &o.logger;
  DeadlineReader reader{item.data, &ctx};
  cl_fmap_t *map = cl_fmap_open_handle(&reader, 0, item.data.size(), read_unless_expired, 0);
  if (map == nullptr) return make_error(ErrorCode::kNoMemory, "cl_fmap_open_handle failed");
  const std::string filename(item.filename);
  const char *virname = nullptr;
  unsigned long scanned = 0;
  cl_error_t rc = cl_scanmap_callback(map, filename.empty() ? nullptr : filename.c_str(), &virname,
                                      &scanned, snap->engine.get(), &opts, &ctx);
  cl_fmap_close(map);

  if (!ctx.callback_error.empty()) {
    return make_error(ErrorCode::kInternal, "scan callback failed: " + ctx.callback_error);
  }
  if (ctx.duplicates_skipped > 0) {
    o.logger.log(LogLevel::kDebug, "libclamav: " + std::to_string(ctx.duplicates_skipped) +
                                       " member(s) equal to parts already scanned, not rescanned");
  }
  if (rc == CL_VIRUS && ctx.names.empty() && virname != nullptr) ctx.names.emplace_back(virname);
  for (const auto &n : ctx.names) findings.push_back(finding_for_signature(item, n));

  switch (rc) {
    case CL_CLEAN:
    case CL_VIRUS:
      break;
    case CL_BREAK:  // a callback ended the scan: the flags below say why
      break;
    default: {
      // A read refused at the deadline surfaces as whatever error libclamav makes of it: the
      // deadline is the reason, reported below.
      if (ctx.deadline_hit) break;
      std::string_view limit = limit_name(rc);
      if (!limit.empty()) {
        if (!has_name(findings, limit)) {
          findings.push_back(make_finding(item, FindingKind::kUnscannable, std::string(limit),
                                          std::string("libclamav: ") + cl_strerror(rc)));
        }
      } else if (!findings.empty()) {
        // Something was found before the engine failed: keep it, and say the rest was not seen.
        findings.push_back(make_finding(item, FindingKind::kUnscannable, "Unscannable.EngineError",
                                        std::string("libclamav: ") + cl_strerror(rc)));
      } else {
        return make_error(rc == CL_EMEM ? ErrorCode::kNoMemory : ErrorCode::kEngine,
                          std::string("libclamav: ") + cl_strerror(rc));
      }
    }
  }
  // Members libclamav skipped whole (CL_TYPE_IGNORED): scan each again with its magic changed, as
  // scan() does for the item itself; what they hold is reported as this item's findings.
  const std::string recursion = "Limits.Exceeded.Recursion";
  if (ctx.hidden_overflow && !has_name(findings, "Limits.Exceeded.Size")) {
    findings.push_back(make_finding(item, FindingKind::kUnscannable, "Limits.Exceeded.Size",
                                    "members of skipped types exceed max_decoded_bytes"));
  }
  for (auto &h : ctx.hidden) {
    if (hidden_depth + 1 >= o.limits.max_archive_recursion) {
      if (!has_name(findings, recursion)) {
        findings.push_back(make_finding(item, FindingKind::kUnscannable, recursion,
                                        "member " + h.path + " is a skipped type nested " +
                                            std::to_string(hidden_depth + 1) + " levels deep"));
      }
      break;
    }
    size_t at = ignored_type_offset(h.data);
    if (at == std::string_view::npos) at = 0;  // a type only the database's daily.ftm skips
    h.data[at] = static_cast<char>(h.data[at] ^ 0x20);
    ScanItem inner = item;
    inner.data = h.data;
    if (item.on_member) {
      inner.on_member = [&item, &h](const ContainerMember &m) {
        ContainerMember outer = m;
        outer.path = h.path + "/" + m.path;
        outer.depth = h.depth + m.depth;
        return item.on_member(outer);
      };
    }
    Result<Findings> r = scan_at(inner, deadline, hidden_depth + 1);
    if (!r) return r.error();
    for (auto &f : *r) {
      if (!has_name(findings, f.name)) findings.push_back(std::move(f));
    }
  }
  if (!ctx.mail_hazards.empty()) {  // one finding per name, as for signatures
    std::string detail = "not given to libclamav's mail parser: member ";
    for (size_t i = 0; i < ctx.mail_hazards.size(); ++i)
      detail += (i > 0 ? "; member " : "") + ctx.mail_hazards[i];
    findings.push_back(make_finding(item, FindingKind::kUnscannable,
                                    std::string(kMailParserFindingName), std::move(detail)));
  }
  if (ctx.deadline_hit && !has_name(findings, scan_time.name)) findings.push_back(scan_time);
  if (ctx.oversize && !has_name(findings, kMaxFileSize)) {
    std::string what = ctx.oversize_path.empty() ? "the part" : "member " + ctx.oversize_path;
    findings.push_back(make_finding(item, FindingKind::kUnscannable, std::string(kMaxFileSize),
                                    what + " (" + std::to_string(ctx.oversize_bytes) +
                                        " bytes seen) is larger than max_file_bytes (" +
                                        std::to_string(o.limits.max_file_bytes) + ")"));
  }
  return findings;
}

}  // namespace avsink::engines

// attachment_policy.cpp - judges part names, part contents and archive members against the lists.
// Lists are read only through a Snapshot copy; findings are capped per part (no finding floods).
#include "attachments/attachment_policy.h"

#include <filesystem>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "attachments/filename.h"
#include "attachments/true_type.h"
#include "core/config.h"
#include "mime/header_words.h"
#include "util/utf8.h"

namespace avsink::attachments {
namespace {

constexpr const char *kInspector = "attachments";
constexpr size_t kMaxMemberFindings = 32;  // per part, from the archive walk
constexpr size_t kMaxZipNames = 32;        // encrypted zip entry names judged per part

// Extensions a victim expects to open safely; a blocked extension behind one of these is a
// deliberate disguise ("invoice.pdf.exe") and gets its own finding name.
bool document_like(std::string_view ext) {
  static const std::set<std::string_view> kDocs = {
      "pdf", "doc",  "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf",
      "txt", "csv",  "odt",  "ods",  "odp", "jpg",  "jpeg", "png", "gif",  "bmp",
      "tif", "tiff", "heic", "svg",  "mp3", "mp4",  "wav",  "avi", "mov",  "zip",
      "rar", "7z",   "htm",  "html", "xml", "eml",  "msg",  "ics", "vcf",  "jfif"};
  return kDocs.count(ext) > 0;
}

bool same_stat(const ListFileInfo &a, const ListFileInfo &b) {
  return a.path == b.path && a.mtime_ns == b.mtime_ns && a.size == b.size && a.inode == b.inode;
}

bool has_finding(const Findings &out, const std::string &name, const std::string &part_path,
                 const std::string &filename) {
  for (const auto &f : out) {
    if (f.name == name && f.part_path == part_path && f.filename == filename) return true;
  }
  return false;
}

// The name a part is known by: the best decoded candidate, else the raw parameter.
std::string decoded_name(const mime::Part &part) {
  if (!part.filenames.empty()) return part.filenames.front();
  return part.filename_raw;
}

bool attachment_like(const mime::Part &part) {
  if (!part.filenames.empty() || !part.filename_raw.empty()) return true;
  if (part.disposition == "attachment") return true;
  return part.media_type.rfind("text/", 0) != 0;
}

std::string quote_name(std::string_view s) {
  return "\"" + display_name(s) + "\"";
}

// The verdict on one normalised reading of a name; empty name = nothing wrong.
struct NameJudgement {
  std::string name;
  std::string why;
};

NameJudgement judge_reading(const AttachmentLists &lists, std::string_view reading) {
  const std::string_view ext = extension_of(reading);
  if (is_clsid(ext)) {
    return {"Attachment.CLSID", "the extension is a class id ." + std::string(ext) +
                                    ", which Windows hides and opens with that class's handler"};
  }
  if (!lists.blocks_extension(ext)) return {};
  const std::string_view prev = previous_extension(reading);
  if (has_padded_extension(reading)) {
    return {"Attachment.DoubleExtension", "blocked extension ." + std::string(ext) +
                                              " pushed out of sight by padding after ." +
                                              std::string(prev.empty() ? "(none)" : prev)};
  }
  if (!prev.empty() && document_like(prev)) {
    return {"Attachment.DoubleExtension",
            "blocked extension ." + std::string(ext) + " disguised behind ." + std::string(prev)};
  }
  return {"Attachment.Extension." + std::string(ext), "blocked extension ." + std::string(ext)};
}

}  // namespace

AttachmentPolicy::AttachmentPolicy(AttachmentOptions options, std::shared_ptr<AuditLog> audit)
    : options_(std::move(options)), audit_(std::move(audit)) {}

std::vector<std::string> AttachmentPolicy::resolve_files() const {
  if (!options_.list_files.empty()) return options_.list_files;
  if (options_.replace_defaults) return {};
  return shipped_list_files();
}

Result<AttachmentLists> AttachmentPolicy::build() const {
  if (options_.list_files.empty() && !options_.replace_defaults) {
    if (resolve_files().empty()) {
      return make_error(ErrorCode::kConfig, "no shipped attachment lists (attachments-*.list) in " +
                                                Config::shipped_rules_dir());
    }
  }
  return build_lists(resolve_files(), options_.extra_blocked, options_.allowed);
}

AttachmentPolicy::~AttachmentPolicy() {
  watch_.reset();  // joins the watcher thread before anything it uses goes away
}

std::vector<std::string> AttachmentPolicy::watch_paths() const {
  std::vector<std::string> paths = resolve_files();
  if (options_.list_files.empty() && !options_.replace_defaults && !paths.empty()) {
    // The shipped lists: also notice a list file added to (or removed from) their directory.
    paths.push_back(std::filesystem::path(paths.front()).parent_path().string());
  }
  return paths;
}

AttachmentOptions AttachmentOptions::from(const Config &config) {
  AttachmentOptions o;
  o.list_files = config.attachment_lists;
  o.extra_blocked = config.attachment_block;
  o.allowed = config.attachment_allow;
  o.replace_defaults = config.attachment_replace_defaults;
  o.banned_action = config.banned_action;
  o.true_type_action = config.true_type_action;
  o.encrypted_action = config.encrypted_action;
  o.max_member_depth = config.max_member_depth;
  o.watch = config.attachment_watch;
  o.poll_ms = config.attachment_poll_ms;
  return o;
}

Result<std::unique_ptr<AttachmentPolicy>> AttachmentPolicy::open(const AttachmentOptions &options,
                                                                 std::shared_ptr<AuditLog> audit) {
  std::unique_ptr<AttachmentPolicy> p(new AttachmentPolicy(options, std::move(audit)));
  {
    std::lock_guard<std::mutex> lock(p->reload_mu_);
    if (auto r = p->reload_locked("attachments.load"); !r) return r.error();
  }
  const std::vector<std::string> paths = p->watch_paths();
  if (options.watch && !paths.empty()) {
    FileWatchOptions wo;
    wo.paths = paths;
    wo.poll_ms = options.poll_ms == 0 ? 1 : options.poll_ms;
    AttachmentPolicy *raw = p.get();
    auto w = FileWatch::start(std::move(wo), [raw](const std::vector<std::string> &) {
      auto r = raw->reload_if_changed();  // logs and audits its own failures
      if (raw->options_.on_watch_reload)
        raw->options_.on_watch_reload(r ? Result<void>() : Result<void>(r.error()));
    });
    if (w) {
      p->watch_ = std::move(*w);
    } else {
      // The lists are loaded; only automatic reload is lost (reload() still works).
      options.logger.error("attachments: cannot watch list files, no automatic reload: " +
                           w.error().message);
    }
  }
  return p;
}

Result<void> AttachmentPolicy::reload_locked(const char *event) {
  Result<AttachmentLists> built = build();
  if (!built) {
    failed_.clear();
    for (const auto &path : resolve_files()) failed_.push_back(stat_list_file(path));
    if (audit_ && lists_.get()) {
      nlohmann::json rec = {{"error", built.error().describe()},
                            {"keeping_generation", lists_.generation()}};
      if (!options_.policy.empty()) rec["policy"] = options_.policy;
      (void)audit_->record("attachments.reload_failed", rec);
    }
    if (lists_.get()) {
      Error e = built.error();
      e.message +=
          " (keeping attachment lists generation " + std::to_string(lists_.generation()) + ")";
      return e;
    }
    return built.error();
  }
  failed_.clear();
  auto next = std::make_shared<const AttachmentLists>(std::move(*built));
  nlohmann::json files = nlohmann::json::array();
  for (const auto &f : next->files) files.push_back({{"path", f.path}, {"sha256", f.sha256}});
  const size_t exts = next->blocked_extensions.size();
  const size_t types = next->blocked_types.size();
  const uint64_t gen = lists_.publish(std::move(next));
  const std::string who =
      options_.policy.empty() ? "attachments" : "attachments (policy " + options_.policy + ")";
  options_.logger.info(who + ": lists generation " + std::to_string(gen) + " loaded: " +
                       std::to_string(exts) + " extensions, " + std::to_string(types) +
                       " true types, " + std::to_string(files.size()) + " files");
  if (audit_) {
    nlohmann::json rec = {
        {"files", files}, {"extensions", exts}, {"types", types}, {"generation", gen}};
    if (!options_.policy.empty()) rec["policy"] = options_.policy;
    (void)audit_->record(event, rec);
  }
  return {};
}

Result<void> AttachmentPolicy::reload() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  return reload_locked("attachments.reload");
}

Result<bool> AttachmentPolicy::reload_if_changed() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  const auto current = lists_.get();
  const std::vector<std::string> paths = resolve_files();
  std::vector<ListFileInfo> now;
  now.reserve(paths.size());
  for (const auto &p : paths) now.push_back(stat_list_file(p));
  auto same_as = [&now](const std::vector<ListFileInfo> &seen) {
    if (seen.size() != now.size()) return false;
    for (size_t i = 0; i < now.size(); ++i) {
      if (!same_stat(seen[i], now[i])) return false;
    }
    return true;
  };
  if (current && same_as(current->files)) return false;
  if (!failed_.empty() && same_as(failed_)) return false;  // already tried these bytes
  if (auto r = reload_locked("attachments.reload"); !r) return r.error();
  return true;
}

void AttachmentPolicy::judge_names(const AttachmentLists &lists,
                                   const std::vector<std::string> &candidates,
                                   const std::string &raw, const std::string &decoded,
                                   const std::string &part_path, const std::string &shown_name,
                                   const std::string &context, Findings &out) const {
  std::set<std::string> emitted;
  auto add = [&](const std::string &name, const std::string &why, const std::string &reading) {
    if (!emitted.insert(name).second) return;
    if (has_finding(out, name, part_path, shown_name)) return;
    Finding f;
    f.kind = FindingKind::kBannedAttachment;
    f.inspector = kInspector;
    f.name = name;
    f.part_path = part_path;
    f.filename = shown_name;
    f.detail = context + why + "; name as written: " + quote_name(raw) +
               ", decoded: " + quote_name(decoded);
    if (!reading.empty() && reading != normalize_name(decoded)) {
      f.detail += ", read as: " + quote_name(reading);
    }
    f.action = options_.banned_action;
    out.push_back(std::move(f));
  };
  for (const std::string &c : candidates) {
    if (has_bidi_override(c)) {
      add("Attachment.UnicodeTrick",
          "bidirectional override character in the name (shown reversed to the recipient)", "");
    }
    for (const std::string &reading : name_readings(c)) {
      NameJudgement j = judge_reading(lists, reading);
      if (!j.name.empty()) add(j.name, j.why, reading);
    }
  }
}

Findings AttachmentPolicy::inspect_part(const mime::Part &part) const {
  Findings out;
  if (part.filenames.empty() && part.filename_raw.empty()) return out;
  const auto lists = lists_.get();
  std::vector<std::string> candidates = part.filenames;
  auto add_candidate = [&candidates](const std::string &c) {
    if (c.empty()) return;
    for (const auto &have : candidates) {
      if (have == c) return;
    }
    candidates.push_back(c);
  };
  add_candidate(part.filename_raw);
  add_candidate(mime::decode_rfc2047(part.filename_raw));
  const std::string decoded = decoded_name(part);
  judge_names(*lists, candidates, part.filename_raw, decoded, part.path, display_name(decoded), "",
              out);
  return out;
}

Findings AttachmentPolicy::inspect_content(const mime::Part &part) const {
  Findings out;
  if (part.is_multipart || part.is_message || part.body.empty()) return out;
  const auto lists = lists_.get();
  const std::string decoded = decoded_name(part);
  const std::string shown = display_name(decoded);
  const std::string as_written = part.filename_raw.empty() && decoded.empty()
                                     ? std::string("no name as written or decoded")
                                     : "name as written: " + quote_name(part.filename_raw) +
                                           ", decoded: " + quote_name(decoded);

  const TrueType type = detect_true_type(part.body);
  if (lists->blocks_type(type) && (!is_text_class(type) || attachment_like(part))) {
    Finding f;
    f.kind = FindingKind::kBannedAttachment;
    f.inspector = kInspector;
    f.name = "Attachment.TrueType." + std::string(finding_suffix(type));
    f.part_path = part.path;
    f.filename = shown;
    f.detail = "content is " + std::string(describe(type)) + " (declared " + part.media_type +
               "); " + as_written;
    f.action = options_.true_type_action;
    out.push_back(std::move(f));
  }

  const ZipDirectoryScan zip = scan_zip_directory(part.body, kMaxZipNames);
  // A local header may name an entry differently from the central directory: judge both names.
  for (const std::string &member : zip.mismatched_names) {
    const std::string utf8 = mime::to_utf8_lenient(member);
    const std::string base(member_basename(utf8));
    if (base.empty()) continue;
    const std::string path_shown = (shown.empty() ? "" : shown + "/") + display_name(utf8);
    judge_names(*lists, {base}, member, utf8, part.path, path_shown,
                "zip entry named differently in its local header and central directory: ", out);
  }
  if (zip.any_encrypted) {
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = kInspector;
    f.name = "Attachment.Encrypted.Zip";
    f.part_path = part.path;
    f.filename = shown;
    f.detail = "zip archive with encrypted entries cannot be scanned; " + as_written;
    f.action = options_.encrypted_action;
    out.push_back(std::move(f));
    // Entry names are stored in clear even when the data is encrypted: judge them too.
    for (const std::string &member : zip.encrypted_names) {
      const std::string member_name(member_basename(member));
      if (member_name.empty()) continue;
      const std::string utf8 = mime::to_utf8_lenient(member);
      const std::string path_shown = (shown.empty() ? "" : shown + "/") + display_name(utf8);
      judge_names(*lists, {std::string(member_basename(utf8))}, member, utf8, part.path, path_shown,
                  "encrypted zip entry: ", out);
    }
  }
  return out;
}

Findings AttachmentPolicy::inspect_message(const mime::MessageTree &tree) const {
  Findings out;
  for (const auto &part : tree.parts) {
    Findings names = inspect_part(part);
    Findings content = inspect_content(part);
    for (auto &f : names) out.push_back(std::move(f));
    for (auto &f : content) out.push_back(std::move(f));
  }
  return out;
}

MemberRecord record_member(std::string_view part_path, const ContainerMember &m) {
  MemberRecord r;
  r.part_path = std::string(part_path);
  r.path = m.path;
  r.file_type = m.file_type;
  r.depth = m.depth;
  // libclamav's type first; its bytes when libclamav calls it text or OLE2 (a script, an HTA and
  // an MSI have no type of their own there).
  r.type = true_type_of_clamav(m.file_type);
  r.by_content = r.type == TrueType::kNone && !m.data.empty();
  if (r.by_content) r.type = detect_true_type(m.data);
  return r;
}

MemberRecord MemberLog::add(std::string_view part_path, const ContainerMember &m) {
  MemberRecord r = record_member(part_path, m);
  insert(r);
  return r;
}

void MemberLog::insert(MemberRecord r) {
  std::string key = r.part_path + '\0' + r.path + '\0' + r.file_type + '\0' +
                    std::to_string(r.depth) + '\0' + std::string(to_string(r.type)) +
                    (r.by_content ? "c" : "");
  if (keys_.insert(std::move(key)).second) records_.push_back(std::move(r));
}

void MemberLog::copy_part(std::string_view from, std::string_view to) {
  const size_t n = records_.size();
  for (size_t i = 0; i < n; ++i) {
    if (records_[i].part_path != from) continue;
    MemberRecord r = records_[i];
    r.part_path = std::string(to);
    insert(std::move(r));
  }
}

void MemberLog::merge(const MemberLog &other) {
  for (const auto &r : other.records_) insert(r);
}

MemberDecision AttachmentPolicy::on_member(const mime::Part &part, const ContainerMember &m,
                                           Findings &out) const {
  return judge_member(part, record_member(part.path, m), out);
}

MemberDecision AttachmentPolicy::judge_member(const mime::Part &part, const MemberRecord &m,
                                              Findings &out) const {
  size_t mine = 0;
  for (const auto &f : out) {
    if (f.inspector == kInspector && f.part_path == part.path) ++mine;
  }
  if (mine >= kMaxMemberFindings) return MemberDecision::kContinue;
  const std::string part_name = display_name(decoded_name(part));
  const std::string member_utf8 = mime::to_utf8_lenient(m.path);
  const std::string shown = (part_name.empty() ? "" : part_name + "/") + display_name(member_utf8);

  if (m.depth > options_.max_member_depth) {
    const std::string name = "Limits.Exceeded.AttachmentMemberDepth";
    for (const auto &f : out) {
      if (f.name == name && f.part_path == part.path) return MemberDecision::kContinue;
    }
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = kInspector;
    f.name = name;
    f.part_path = part.path;
    f.filename = shown;
    f.detail = "archive member at depth " + std::to_string(m.depth) +
               " is deeper than max_member_depth " + std::to_string(options_.max_member_depth) +
               "; its name and type were not judged";
    out.push_back(std::move(f));
    return MemberDecision::kContinue;
  }

  const auto lists = lists_.get();
  const std::string base(member_basename(member_utf8));
  if (!base.empty()) {
    // A name that is not UTF-8 is read as Latin-1 and also as its bytes (name_readings() then
    // drops those that are not UTF-8, as Info-ZIP unzip does).
    std::vector<std::string> candidates{base};
    if (!util::utf8_valid(m.path)) candidates.emplace_back(member_basename(m.path));
    judge_names(*lists, candidates, m.path, member_utf8, part.path, shown,
                "archive member (depth " + std::to_string(m.depth) + "): ", out);
  }
  const TrueType type = m.type;
  const bool by_content = m.by_content;
  if (lists->blocks_type(type)) {
    const std::string name = "Attachment.TrueType." + std::string(finding_suffix(type));
    if (!has_finding(out, name, part.path, shown)) {
      Finding f;
      f.kind = FindingKind::kBannedAttachment;
      f.inspector = kInspector;
      f.name = name;
      f.part_path = part.path;
      f.filename = shown;
      f.detail = "archive member (depth " + std::to_string(m.depth) + ") is " +
                 std::string(describe(type)) + (by_content ? " (by its content; " : " (") +
                 "libclamav type " + display_name(m.file_type) +
                 "); member path as written: " + quote_name(m.path);
      f.action = options_.true_type_action;
      out.push_back(std::move(f));
    }
  }
  return MemberDecision::kContinue;
}

Findings AttachmentPolicy::rejudge(const Findings &findings, const mime::MessageTree &tree,
                                   const MemberLog &members) const {
  Findings out;
  out.reserve(findings.size());
  for (const auto &f : findings)
    if (f.inspector != kInspector) out.push_back(f);
  Findings mine = inspect_message(tree);
  out.insert(out.end(), mine.begin(), mine.end());
  // As in a scan: members are judged apart from the parts (the per-part cap counts members only).
  std::map<std::string_view, const mime::Part *> parts;
  for (const auto &p : tree.parts) parts.emplace(p.path, &p);
  Findings member_findings;
  for (const MemberRecord &m : members.records()) {
    auto it = parts.find(m.part_path);
    if (it != parts.end()) (void)judge_member(*it->second, m, member_findings);
  }
  out.insert(out.end(), member_findings.begin(), member_findings.end());
  return out;
}

void AttachmentPolicy::apply_engine_actions(Findings &findings) const {
  for (auto &f : findings) {
    if (f.kind == FindingKind::kUnscannable && !f.action &&
        (f.name.rfind("Heuristics.Encrypted.", 0) == 0 ||
         f.name.rfind("Container.Encrypted", 0) == 0)) {
      f.action = options_.encrypted_action;
    }
  }
}

}  // namespace avsink::attachments

// scanner.cpp - the per-message pipeline: parse once, run every inspector and engine over the
// decoded parts (and the raw message once), then let the policy decide. Fails closed throughout.
#include "session/scanner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "attachments/attachment_policy.h"
#include "containers/walk.h"
#include "core/audit.h"
#include "core/deadline.h"
#include "core/file_watch.h"
#include "core/helper_pool.h"
#include "core/lockdown.h"
#include "core/metrics.h"
#include "core/read_file.h"
#include "core/user_access.h"
#include "engines/clamav_lib.h"
#include "engines/clamd.h"
#include "engines/hash_list.h"
#include "engines/mail_parser_guard.h"
#include "engines/signature_watch.h"
#include "mime/parser.h"
#include "policy/policy.h"
#include "quarantine/open.h"
#include "rewrite/strip_part.h"
#include "rules/rule_engine.h"
#include "session/container_pass.h"
#include "session/notifier.h"
#include "session/policy_select.h"
#include "session/raw_pass_merge.h"
#include "session/scan_budget.h"

namespace avsink::session {

struct Scanner::Impl {
  Config config;
  Logger logger;
  // Declared before the watchers that update them, so they outlive those threads.
  mutable Metrics metrics;
  mutable std::mutex reload_mu;                      // guards reload_errors
  std::map<std::string, std::string> reload_errors;  // part -> why its last reload failed
  // Counts a reload of `part`, remembers or clears its failure, and logs the health after it.
  void note_reload(const std::string &part, const Result<void> &r, bool log_after);
  std::vector<HealthIssue> health() const;
  void log_health(const char *when) const;
  bool dry_run = false;
  std::shared_ptr<AuditLog> audit;
  std::unique_ptr<engines::ClamavEngine> clamav;
  std::unique_ptr<engines::ClamdEngine> clamd;
  std::unique_ptr<engines::HashListEngine> hashlist;
  std::vector<engines::Engine *> engines;  // every enabled engine, in scan order
  // Declared after the engines they reload, so they stop (and join) first.
  std::vector<std::unique_ptr<engines::SignatureWatch>> watches;
  std::unique_ptr<rules::RuleEngine> rules;  // null when no rule file and no spoof check
  std::unique_ptr<attachments::AttachmentPolicy> attachments;
  std::unique_ptr<quarantine::Backend> store;  // null in dry-run mode
  std::unique_ptr<PolicySelector> selector;
  // Policies with their own rule_files; a null engine = that policy has no rules.
  std::map<std::string, std::unique_ptr<rules::RuleEngine>> policy_rules;
  // Policies with attachment lists of their own (PolicySpec::own_attachment_lists), by name.
  std::map<std::string, std::unique_ptr<attachments::AttachmentPolicy>> policy_attachments;
  mutable std::atomic<uint64_t> skipped{0};  // messages a skip_scan policy let through unscanned
  std::unique_ptr<Notifier> notifier;        // null unless [notify] enabled
  std::string strip_template;                // templates/strip-notice.txt ("" = the built-in text)

  // The rule findings under policy p (its own rule engine, or the global one).
  Findings rule_findings(const PolicySpec *p, const Envelope &env, const mime::MessageTree &tree,
                         int64_t now) const;
  std::unique_ptr<ScanBudget> budget;  // [limits] max_concurrent_scans, memory_budget_bytes
  // [scan] part_threads - 1 helpers that scan a message's parts beside its own thread.
  std::unique_ptr<HelperPool> part_pool;

  // One distinct decoded body of a message, scanned by scan_part() on some thread.
  struct PartScan {
    const mime::Part *part = nullptr;
    Findings found;                     // in the order the serial loop made them
    attachments::MemberLog members;     // its members, joined to the message's log in part order
    bool clamav_scanned = false;        // libclamav read it whole (the raw pass may skip it)
    bool ran = false;                   // false: the deadline passed before it started
    size_t out_begin = 0, out_end = 0;  // where `found` went in the message's findings
  };
  // Every engine on one part, then avsink's own listing of its containers. Touches only `scan`
  // and shared read-only state, so parts run on different threads at once.
  void scan_part(PartScan &scan, const Deadline &deadline, bool record_members) const;

  // members: when set, every container member met is recorded there (judged again per policy).
  Findings scan_parts(const mime::MessageTree &tree, const RawMessage &raw,
                      const Deadline &deadline, attachments::MemberLog *members) const;
  // Carries out QUARANTINE and REWRITE: stores the original, builds the stripped copy.
  Result<void> act(const Envelope &env, const RawMessage &raw, const mime::MessageTree &tree,
                   const Deadline &deadline, Verdict &v) const;
  // Runs one engine on one item; false when the engine failed (its finding is in `out`).
  bool scan_one(engines::Engine &engine, const engines::ScanItem &item, const Deadline &deadline,
                Findings &out) const;
  // Archives and TNEF listed by avsink itself (container_pass.h): every member name judged,
  // members libclamav did not unpack (`seen` lacks their bytes) scanned by libclamav and the
  // hash list.
  void scan_containers(const mime::Part &part, SeenMembers &seen, Findings &members,
                       const Deadline &deadline, attachments::MemberLog *member_log,
                       Findings &out) const;
  std::string scanned_header_value() const;

  // Outbreak lockdown ([lockdown] state_file): the current state, swapped whole by the watcher.
  mutable std::mutex lockdown_mu;
  std::shared_ptr<const LockdownState> lockdown;
  mutable std::atomic<bool> lockdown_expiry_noted{false};
  std::unique_ptr<FileWatch> lockdown_watch;  // last member: stopped before the rest goes
  // Re-reads the state file; logs and audits a change (a broken file keeps the last state).
  void load_lockdown();
  std::shared_ptr<const LockdownState> lockdown_now() const {
    std::lock_guard<std::mutex> lock(lockdown_mu);
    return lockdown;
  }
  std::string record(const Envelope &env, const Verdict &v, uint64_t size, double ms) const;
};

namespace {

bool is_leaf(const mime::Part &p) {
  return !p.is_multipart && !p.is_message;
}

// What mail_parser_guard.h reports: `part_path` ("" = the whole message) is unscannable.
Finding mail_parser_finding(std::string_view part_path, std::string detail) {
  Finding f;
  f.kind = FindingKind::kUnscannable;
  f.inspector = "session";
  f.name = std::string(engines::kMailParserFindingName);
  f.part_path = std::string(part_path);
  f.detail = std::move(detail);
  return f;
}

nlohmann::json finding_json(const Finding &f) {
  nlohmann::json j = {
      {"kind", std::string(to_string(f.kind))}, {"inspector", f.inspector}, {"name", f.name}};
  if (!f.part_path.empty()) j["part"] = f.part_path;
  if (!f.filename.empty()) j["filename"] = f.filename;
  if (!f.detail.empty()) j["detail"] = f.detail;
  if (f.action) j["action"] = std::string(to_string(*f.action));
  return j;
}

}  // namespace

bool Scanner::Impl::scan_one(engines::Engine &engine, const engines::ScanItem &item,
                             const Deadline &deadline, Findings &out) const {
  auto r = engine.scan(item, deadline);
  if (r.ok()) {
    out.insert(out.end(), r->begin(), r->end());
    return true;
  }
  std::string what = std::string(engine.name()) + ": " + r.error().describe();
  if (!engine.required()) {
    logger.warn("optional engine failed, skipped: " + what);
    return false;
  }
  Finding f;
  f.kind = FindingKind::kEngineError;
  f.inspector = std::string(engine.name());
  f.name = "Engine.Error." + std::string(engine.name());
  f.part_path = std::string(item.part_path);
  f.detail = what;
  out.push_back(std::move(f));
  return false;
}

void Scanner::Impl::scan_part(PartScan &scan, const Deadline &deadline, bool record_members) const {
  const mime::Part &part = *scan.part;
  attachments::MemberLog *member_log = record_members ? &scan.members : nullptr;
  Findings &out = scan.found;
  engines::ScanItem item;
  item.data = part.body;
  item.part_path = part.path;
  item.filename = part.filenames.empty() ? std::string_view() : part.filenames.front();
  item.text_part = part.media_type.rfind("text/", 0) == 0;
  // The container pass below reads its members and gives each to the engines.
  item.members_read_by_caller = containers::read_alone(part.body);
  Findings members;  // archive members judged by the attachment policy during the walk
  // What libclamav's walk unpacked, by content (container_pass.h).
  SeenMembers clamav_members;
  // A part libclamav would read as a mail file and stall on is unscannable (mail_parser_guard.h);
  // the other engines still see it.
  std::string hazard = clamav ? engines::mail_parser_hazard(part.body) : "";
  if (!hazard.empty())
    out.push_back(mail_parser_finding(part.path, "not given to libclamav: " + hazard));
  for (engines::Engine *e : engines) {
    if (!hazard.empty() && e == clamav.get()) continue;
    if (attachments && e == clamav.get())
      item.on_member = [&](const engines::ContainerMember &m) {
        clamav_members.add(m.data);
        if (member_log)
          return attachments->judge_member(part, member_log->add(part.path, m), members);
        return attachments->on_member(part, m, members);
      };
    else
      item.on_member = nullptr;
    if (scan_one(*e, item, deadline, out) && e == clamav.get()) scan.clamav_scanned = true;
  }
  // avsink's own listing of the part's containers (container_pass.h).
  scan_containers(part, clamav_members, members, deadline, member_log, out);
  out.insert(out.end(), members.begin(), members.end());
}

Findings Scanner::Impl::scan_parts(const mime::MessageTree &tree, const RawMessage &raw,
                                   const Deadline &deadline,
                                   attachments::MemberLog *member_log) const {
  Findings out;
  // Parts libclamav scanned whole: its raw-message pass decodes most of them again and skips
  // those it decodes to the same bytes (measured on the milter corpus: the raw pass went from
  // 1.8 to 1.05 ms of CPU per message). Bytes it decodes differently are still scanned. What is
  // lost: logical signatures that require the mail as container (see Config).
  std::vector<std::string_view> clamav_scanned;
  // Bytes already given to the engines: the same decoded bytes again (alternate readings often
  // decode an entity to the same bytes; so do repeated attachments) get the same answer, so they
  // are scanned once and that answer is repeated for this part (a strip must remove both).
  std::vector<PartScan> scans;
  std::unordered_map<std::string_view, size_t> scan_of;  // body -> its index in scans
  for (const auto &part : tree.parts) {
    if (!is_leaf(part) || part.body.empty()) continue;
    if (scan_of.emplace(part.body, scans.size()).second) scans.emplace_back().part = &part;
  }
  // The distinct bodies at once, on this thread and idle helpers (core/helper_pool.h); each keeps
  // its findings apart, and they are joined below in part order, as one thread would make them.
  part_pool->run(scans.size(), [&](size_t i) {
    if (deadline.expired()) return;  // the caller reports Limits.Exceeded.ScanTime
    scan_part(scans[i], deadline, member_log != nullptr);
    scans[i].ran = true;
  });
  for (const auto &part : tree.parts) {
    if (!is_leaf(part) || part.body.empty()) continue;
    PartScan &scan = scans[scan_of.at(part.body)];
    if (!scan.ran) continue;
    if (scan.part != &part) {  // the same bytes as an earlier part: its answer, for this part too
      for (size_t i = scan.out_begin; i < scan.out_end; ++i) {
        Finding f = out[i];
        f.part_path = part.path;
        out.push_back(std::move(f));
      }
      if (member_log) member_log->copy_part(scan.part->path, part.path);
      continue;
    }
    scan.out_begin = out.size();
    out.insert(out.end(), std::make_move_iterator(scan.found.begin()),
               std::make_move_iterator(scan.found.end()));
    scan.out_end = out.size();
    if (member_log) member_log->merge(scan.members);
    if (scan.clamav_scanned) clamav_scanned.push_back(part.body);
  }
  // The raw message once, so libclamav's own mail handling sees it too (defense in depth).
  bool structure_flagged = false;
  for (const auto &f : tree.findings)
    structure_flagged |= f.kind == FindingKind::kMalformed || f.kind == FindingKind::kUnscannable;
  // Never past its size bound, flagged or not (#14 item 3: a flagged 10 MB message took the raw
  // pass's memory on top of the part pass's). A flagged message over the bound says so; the part
  // pass has read every reading of it, so this decides nothing by itself.
  const uint64_t raw_bound =
      structure_flagged ? std::max(config.raw_message_pass_max_bytes, kRawPassFlaggedMaxBytes)
                        : config.raw_message_pass_max_bytes;
  bool raw_pass = config.raw_message_pass && raw.bytes.size() <= raw_bound;
  if (config.raw_message_pass && structure_flagged && !raw_pass) {
    Finding f;
    f.kind = FindingKind::kMalformed;
    f.inspector = "session";
    f.name = "Limits.Exceeded.RawMessagePass";
    f.detail = "raw-message pass not run: the message (" + std::to_string(raw.bytes.size()) +
               " bytes) is over the raw pass's bound for flagged messages " +
               std::to_string(raw_bound);
    out.push_back(std::move(f));
  }
  if (raw_pass && clamav) {
    // A message libclamav's mail parser would stall on is unscannable, not clean
    // (mail_parser_guard.h).
    if (std::string hazard = engines::mail_parser_hazard(raw.bytes); !hazard.empty()) {
      out.push_back(mail_parser_finding("", "raw-message pass not run: " + hazard));
      raw_pass = false;
    }
  }
  if (raw_pass && clamav && !raw.bytes.empty() && !deadline.expired()) {
    engines::ScanItem item;
    item.data = raw.bytes;
    item.whole_message = true;
    if (config.raw_message_pass_skips_scanned_parts) item.already_scanned = &clamav_scanned;
    Findings whole;
    scan_one(*clamav, item, deadline, whole);
    merge_raw_pass_findings(out, std::move(whole), logger);
  }
  return out;
}

void Scanner::Impl::scan_containers(const mime::Part &part, SeenMembers &seen, Findings &members,
                                    const Deadline &deadline, attachments::MemberLog *member_log,
                                    Findings &out) const {
  ContainerPassContext ctx;
  ctx.member_log = member_log;
  ctx.limits = &config.limits;
  ctx.deadline = &deadline;
  ctx.policy = attachments.get();
  ctx.walker_engine = clamav.get();
  if (clamav) ctx.member_engines.push_back(clamav.get());
  if (hashlist) ctx.member_engines.push_back(hashlist.get());
  ctx.scan_one = [&](engines::Engine &e, const engines::ScanItem &item, Findings &found) {
    return scan_one(e, item, deadline, found);
  };
  scan_part_containers(ctx, part, seen, members, out);
}

std::string Scanner::Impl::scanned_header_value() const {
  std::string v = "avsink " AVSINK_VERSION_STRING;
  if (clamav) {
    auto st = clamav->status();
    v += " (libclamav " + engines::ClamavEngine::library_version() + "; " +
         std::to_string(st.signatures) + " signatures, generation " +
         std::to_string(st.generation) + ")";
  }
  return v;
}

std::string Scanner::Impl::record(const Envelope &env, const Verdict &v, uint64_t size,
                                  double ms) const {
  nlohmann::json j;
  j["queue_id"] = env.queue_id;
  j["client"] = env.client_address;
  j["helo"] = env.helo;
  j["mail_from"] = env.mail_from;
  j["rcpt_to"] = env.rcpt_to;
  if (!env.auth_user.empty()) j["auth"] = env.auth_user;
  j["size"] = size;
  j["action"] = std::string(to_string(v.action));
  j["smtp"] = std::to_string(v.smtp_code) + " " + v.enhanced_status;
  j["reason"] = v.reason;
  j["findings"] = nlohmann::json::array();
  nlohmann::json limits = nlohmann::json::array();
  for (const auto &f : v.findings) {
    j["findings"].push_back(finding_json(f));
    if (f.name.rfind("Limits.Exceeded.", 0) == 0) limits.push_back(f.name);
  }
  j["limits_hit"] = limits;
  if (!v.quarantine_id.empty()) j["quarantine_id"] = v.quarantine_id;
  j["policy"] = v.policy;
  bool mixed = false;
  for (const auto &r : v.recipients) mixed |= r.policy != v.policy || r.action != v.action;
  if (mixed) {
    j["recipients"] = nlohmann::json::array();
    for (const auto &r : v.recipients)
      j["recipients"].push_back({{"rcpt", r.address},
                                 {"policy", r.policy},
                                 {"action", std::string(to_string(r.action))}});
  }
  j["ms"] = static_cast<int64_t>(ms * 1000) / 1000.0;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> Scanner::Impl::act(const Envelope &env, const RawMessage &raw,
                                const mime::MessageTree &tree, const Deadline &deadline,
                                Verdict &v) const {
  if (v.action == Action::kRewrite) {
    rewrite::StripOptions options;
    options.added_header = "X-Avsink-Stripped";
    options.notice_template = strip_template;
    auto stripped = rewrite::strip_parts(raw.bytes, tree, v.strip, options);
    if (stripped.ok()) {
      v.rewritten = std::move(stripped.value());
    } else {
      // The parts could not be cut out cleanly: keep the whole message instead of delivering it.
      logger.warn("strip failed, quarantining instead: " + stripped.error().describe());
      v.action = Action::kQuarantine;
      v.reason += " (strip failed: " + stripped.error().message + ")";
    }
  }
  // Quarantine keeps the message; a strip keeps the original so it can still be released whole.
  if ((v.action == Action::kQuarantine || v.action == Action::kRewrite) && !dry_run) {
    if (!store) return make_error(ErrorCode::kIo, "quarantine store unavailable");
    quarantine::EntryMeta meta;
    meta.envelope = env;
    meta.findings = v.findings;
    meta.action = std::string(to_string(v.action));
    meta.reason = v.reason;
    // A shared store (PostgreSQL) gets what is left of the scan deadline, not a fresh timeout.
    auto id = store->put(raw.bytes, meta, &deadline);
    if (!id) {
      // Nothing may be lost: without a durable copy the MTA must keep the message (tempfail).
      return make_error(ErrorCode::kIo, "quarantine write failed: " + id.error().describe());
    }
    v.quarantine_id = id.value();
  }
  return {};
}

void Scanner::Impl::load_lockdown() {
  auto st = read_lockdown(config.lockdown_state_file);
  if (!st) {
    logger.error("lockdown state unreadable, keeping the current state: " + st.error().describe());
    if (auto a = audit->record("lockdown.state_rejected", {{"error", st.error().describe()}}); !a)
      logger.error("audit: " + a.error().describe());
    return;
  }
  auto next = std::make_shared<const LockdownState>(*st);
  std::shared_ptr<const LockdownState> prev;
  {
    std::lock_guard<std::mutex> lock(lockdown_mu);
    prev = lockdown;
    lockdown = next;
  }
  if (prev && lockdown_to_json(*prev) == lockdown_to_json(*next)) return;
  lockdown_expiry_noted = false;
  if (!prev && !next->on) return;  // started without a lockdown: nothing to say
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (next->active(now))
    logger.warn("outbreak lockdown ON (scope " + std::string(to_string(next->scope)) + ", " +
                std::string(to_string(config.lockdown_action)) +
                (next->until ? ", until " + std::to_string(next->until) : std::string()) + ", by " +
                next->by + "): " + next->reason);
  else
    logger.warn(next->on ? "outbreak lockdown state read, already expired"
                         : "outbreak lockdown OFF (by " + next->by + ")");
  if (auto a = audit->record("lockdown.applied", {{"on", next->on},
                                                  {"active", next->active(now)},
                                                  {"reason", next->reason},
                                                  {"scope", std::string(to_string(next->scope))},
                                                  {"until", next->until},
                                                  {"by", next->by},
                                                  {"state_file", config.lockdown_state_file}});
      !a)
    logger.error("audit: " + a.error().describe());
}

Findings Scanner::Impl::rule_findings(const PolicySpec *p, const Envelope &env,
                                      const mime::MessageTree &tree, int64_t now) const {
  const rules::RuleEngine *engine = rules.get();
  if (p != nullptr && p->rule_files) {
    auto it = policy_rules.find(p->name);
    engine = it == policy_rules.end() ? nullptr : it->second.get();
  }
  return engine ? engine->inspect(env, tree, now) : Findings{};
}

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

const Config &Scanner::config() const {
  return impl_->config;
}

std::string Scanner::policy_for(const Envelope &envelope, std::string_view rcpt) const {
  return std::string(policy_name(impl_->selector->select(envelope, rcpt)));
}

bool Scanner::policies_by_recipient() const {
  return impl_->selector->by_recipient();
}

namespace {

// The [quarantine] settings of `config` as the store's BackendOptions; for the file system store
// it also creates the store's parent directory. Errors: those of quarantine::pg_conninfo.
Result<quarantine::BackendOptions> backend_options(const Config &config) {
  quarantine::BackendOptions bo;
  bo.backend = config.quarantine_backend;
  quarantine::StoreOptions &so = bo.fs;
  so.dir = config.quarantine_dir;
  so.key_file = config.quarantine_key_file;
  so.release_secret_file = config.release_secret_file;
  so.retention_seconds = static_cast<int64_t>(config.retention_days) * 86400;
  if (bo.backend == "postgresql") {
    auto ci = quarantine::pg_conninfo(config.pg_conninfo, config.pg_conninfo_file);
    if (!ci) return ci.error();
    bo.pg.conninfo = *ci;
    bo.pg.key_file = so.key_file;
    bo.pg.release_secret_file = so.release_secret_file;
    bo.pg.retention_seconds = so.retention_seconds;
    // A store write that cannot finish within the scan deadline fails (the MTA tempfails).
    bo.pg.timeout_ms =
        static_cast<int>(std::min<uint64_t>(config.pg_timeout_ms, config.limits.scan_deadline_ms));
    bo.pg.require_connection = false;  // a server that is down now tempfails quarantines
  } else {
    std::error_code ec;  // the store's parent (e.g. /var/lib/avsink) may not exist yet
    std::filesystem::create_directories(std::filesystem::path(so.dir).parent_path(), ec);
  }
  return bo;
}

}  // namespace

Result<std::unique_ptr<Scanner>> Scanner::open(const Config &config, Logger logger, bool dry_run) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->budget = std::make_unique<ScanBudget>(config.limits.max_concurrent_scans,
                                              config.limits.memory_budget_bytes);
  {
    unsigned threads = config.part_threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    impl->part_pool = std::make_unique<HelperPool>(threads - 1);
  }
  impl->logger = std::move(logger);
  impl->dry_run = dry_run;
  if (config.clamav_enabled) {
    engines::ClamavOptions o = engines::ClamavOptions::from(config);
    o.logger = impl->logger;
    auto e = engines::ClamavEngine::open(o);
    if (!e) return e.error();
    impl->clamav = std::move(e.value());
    impl->engines.push_back(impl->clamav.get());
  }
  if (config.clamd_enabled) {
    auto e = engines::ClamdEngine::open(engines::ClamdOptions::from(config));
    if (!e) return e.error();
    impl->clamd = std::move(e.value());
    impl->engines.push_back(impl->clamd.get());
  }
  if (config.hashlist_enabled) {
    auto e = engines::HashListEngine::open(engines::HashListOptions::from(config));
    if (!e) return e.error();
    impl->hashlist = std::move(e.value());
    impl->engines.push_back(impl->hashlist.get());
  }
  auto audit = AuditLog::open(config.audit_log);
  if (!audit) return audit.error();
  impl->audit = audit.value();
  if (impl->clamav && config.clamav_watch) {
    engines::ClamavEngine *e = impl->clamav.get();
    auto w = engines::SignatureWatch::start(
        e->watch_paths(),
        [e, ip = impl.get()] {
          auto r = e->reload();
          ip->note_reload("clamav", r, true);
          return r;
        },
        [e] { return e->status(); }, impl->audit, config.clamav_watch_poll_ms, 200, impl->logger);
    if (!w) return w.error();
    impl->watches.push_back(std::move(w.value()));
  }
  if (impl->hashlist && config.hashlist_watch) {
    engines::HashListEngine *e = impl->hashlist.get();
    auto w = engines::SignatureWatch::start(
        e->files(),
        [e, ip = impl.get()] {
          auto r = e->reload();
          ip->note_reload("hashlist", r, true);
          return r;
        },
        [e] { return e->status(); }, impl->audit, config.hashlist_poll_ms, 200, impl->logger);
    if (!w) return w.error();
    impl->watches.push_back(std::move(w.value()));
  }
  if (auto r = impl->audit->record("config.load", {{"source", config.source}}); !r)
    impl->logger.error("audit: " + r.error().describe());

  // The rules of `files` with the [rules] settings; null when there is nothing to check.
  auto open_rules =
      [&](const std::vector<std::string> &files) -> Result<std::unique_ptr<rules::RuleEngine>> {
    if (files.empty() && config.internal_domains.empty())
      return std::unique_ptr<rules::RuleEngine>();
    rules::RulesOptions ro = rules::RulesOptions::from(config, files);
    ro.logger = impl->logger;
    ro.on_watch_reload = [ip = impl.get()](const Result<void> &r) {
      ip->note_reload("rules", r, true);
    };
    return rules::RuleEngine::open(ro, impl->audit);
  };
  auto global_rules = open_rules(config.rule_files);
  if (!global_rules) return global_rules.error();
  impl->rules = std::move(global_rules.value());
  if (!config.lockdown_state_file.empty()) {
    if (config.lockdown_action != Action::kTempfail &&
        config.lockdown_action != Action::kQuarantine)
      return make_error(ErrorCode::kConfig, "lockdown.action: tempfail or quarantine",
                        config.source);
    impl->load_lockdown();
    FileWatchOptions wo;
    wo.paths = {config.lockdown_state_file};
    wo.poll_ms = config.lockdown_poll_ms;
    wo.debounce_ms = std::min<uint32_t>(200, config.lockdown_poll_ms);
    Impl *raw_impl = impl.get();
    auto w = FileWatch::start(
        wo, [raw_impl](const std::vector<std::string> &) { raw_impl->load_lockdown(); });
    if (!w) return w.error();
    impl->lockdown_watch = std::move(w.value());
  }
  {
    std::string path =
        (config.notify_templates_dir.empty() ? Config::shipped_rules_dir() + "/templates"
                                             : config.notify_templates_dir) +
        "/strip-notice.txt";
    auto t = read_regular_file(path, 64u << 10);
    if (t)
      impl->strip_template = std::move(t.value());
    else if (!config.notify_templates_dir.empty())
      return t.error();  // an operator's template directory must be complete
    else
      impl->logger.warn("strip notice template unreadable, using the built-in text: " +
                        t.error().describe());
  }
  if (config.notify_enabled) {
    auto n = Notifier::start(config, impl->logger);
    if (!n) return n.error();
    impl->notifier = std::move(n.value());
  }
  auto selector = PolicySelector::build(config);
  if (!selector) return selector.error();
  impl->selector = std::move(selector.value());
  for (const auto &p : config.policies) {
    if (!p.rule_files) continue;
    auto engine = open_rules(*p.rule_files);
    if (!engine) return engine.error();
    impl->policy_rules.emplace(p.name, std::move(engine.value()));
  }

  attachments::AttachmentOptions ao = attachments::AttachmentOptions::from(config);
  ao.logger = impl->logger;
  ao.on_watch_reload = [ip = impl.get()](const Result<void> &r) {
    ip->note_reload("attachments", r, true);
  };
  auto a = attachments::AttachmentPolicy::open(ao, impl->audit);
  if (!a) return a.error();
  impl->attachments = std::move(a.value());
  // A policy's own lists: the same loader, matcher and file watch (docs/policy.md "Overrides").
  for (const auto &p : config.policies) {
    if (!p.own_attachment_lists()) continue;
    attachments::AttachmentOptions po = ao;
    po.policy = p.name;
    if (p.attachment_lists) {
      po.list_files = *p.attachment_lists;
      po.extra_blocked.clear();
      po.allowed.clear();
      po.replace_defaults = true;  // [] = no list file
    }
    po.extra_blocked.insert(po.extra_blocked.end(), p.attachment_block.begin(),
                            p.attachment_block.end());
    auto pa = attachments::AttachmentPolicy::open(po, impl->audit);
    if (!pa) {
      Error e = pa.error();
      e.message = "policy." + p.name + ": " + e.message;
      return e;
    }
    impl->policy_attachments.emplace(p.name, std::move(pa.value()));
  }

  if (!dry_run) {
    auto bo_or = backend_options(config);
    if (!bo_or) return bo_or.error();
    const quarantine::BackendOptions &bo = *bo_or;
    auto st = quarantine::open_backend(bo, impl->audit);
    if (st) {
      impl->store = std::move(st.value());
    } else if (bo.backend != "postgresql" && config.quarantine_dir == Config().quarantine_dir) {
      // The embedded default could not be used (e.g. not root): scanning still works, and a
      // verdict that needs the store fails closed at scan time (the MTA tempfails).
      impl->logger.warn("quarantine unavailable, quarantine verdicts will tempfail: " +
                        st.error().describe());
    } else {
      return st.error();  // an operator-chosen store that does not work is a configuration error
    }
  }
  impl->log_health("at start");
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

Result<Verdict> Scanner::scan(const Envelope &envelope, const RawMessage &raw) const {
  const auto started = std::chrono::steady_clock::now();
  Metrics::InFlight in_flight(impl_->metrics);
  const Config &cfg = impl_->config;

  // The policy of each recipient (one for the envelope when it names none).
  std::vector<const PolicySpec *> rcpt_policy;
  if (envelope.rcpt_to.empty()) rcpt_policy.push_back(impl_->selector->select(envelope, ""));
  for (const auto &r : envelope.rcpt_to)
    rcpt_policy.push_back(impl_->selector->select(envelope, r));
  std::vector<const PolicySpec *> groups;  // distinct policies, first-seen order
  for (const PolicySpec *p : rcpt_policy)
    if (std::find(groups.begin(), groups.end(), p) == groups.end()) groups.push_back(p);
  // An outbreak lockdown in force also covers sources whose policy skips scanning.
  const int64_t started_unix = static_cast<int64_t>(std::time(nullptr));
  const auto lockdown = impl_->lockdown_now();
  const bool lockdown_active = lockdown && lockdown->active(started_unix);
  if (lockdown && lockdown->on && !lockdown_active &&
      !impl_->lockdown_expiry_noted.exchange(true)) {
    impl_->logger.warn("outbreak lockdown expired (was: " + lockdown->reason + ")");
    if (auto a = impl_->audit->record("lockdown.expired",
                                      {{"reason", lockdown->reason}, {"until", lockdown->until}});
        !a)
      impl_->logger.error("audit: " + a.error().describe());
  }
  const bool all_skip =
      !lockdown_active && std::all_of(groups.begin(), groups.end(),
                                      [](const PolicySpec *p) { return p && p->skip_scan; });
  auto skip_verdict = [&](const PolicySpec *p) {
    Verdict s;
    s.action = Action::kAccept;
    s.smtp_code = 250;
    s.enhanced_status = "2.0.0";
    s.text = "OK";
    s.reason = "not scanned: policy " + p->name + " skips scanning";
    s.policy = p->name;
    return s;
  };
  auto note_skip = [&](const PolicySpec *p, std::string_view who) {
    uint64_t n = ++impl_->skipped;
    impl_->logger.info(
        "policy " + p->name + " skipped scanning for " + std::string(who) + " (queue id " +
        (envelope.queue_id.empty() ? "-" : envelope.queue_id) + ", client " +
        (envelope.client_address.empty() ? "-" : envelope.client_address) + ", from <" +
        envelope.mail_from + ">; skips so far: " + std::to_string(n) + ")");
  };
  if (all_skip) {
    Verdict v = skip_verdict(groups.front());
    for (size_t i = 0; i < envelope.rcpt_to.size(); ++i)
      v.recipients.push_back({envelope.rcpt_to[i], rcpt_policy[i]->name, v.action, v.smtp_code,
                              v.enhanced_status, v.text, skip_verdict(rcpt_policy[i]).reason});
    note_skip(groups.front(), "the whole message");
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    v.json = impl_->record(envelope, v, raw.total_bytes, ms);
    return v;
  }
  // Beyond the process-wide bound the message is not started: a tempfail the MTA retries, never a
  // scan that could take the process out of memory (scan_budget.h).
  std::string busy, busy_detail;
  ScanBudget::Ticket ticket = impl_->budget->try_admit(raw.bytes.size(), &busy, &busy_detail);
  if (!ticket.admitted()) {
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = "session";
    f.name = "Limits.Exceeded." + busy;
    f.detail = busy_detail;
    f.action = Action::kTempfail;
    Verdict v = policy::decide({f}, cfg);
    impl_->logger.warn("scan refused, tempfail: " + f.name + " (" + busy_detail + ")");
    v.json = impl_->record(envelope, v, raw.total_bytes, 0);
    return v;
  }
  Deadline deadline = Deadline::after_ms(cfg.limits.scan_deadline_ms);

  mime::MessageTree tree = mime::parse_message(raw.bytes, cfg.limits, deadline);
  Findings findings = tree.findings;
  if (raw.total_bytes > raw.bytes.size()) {
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = "session";
    f.name = std::string(kMessageBytesFinding);  // the policy refuses it: 552 5.3.4
    f.detail = "message of " + std::to_string(raw.total_bytes) + " bytes exceeds the limit of " +
               std::to_string(cfg.limits.max_message_bytes);
    findings.push_back(std::move(f));
  }
  const int64_t now = started_unix;
  if (lockdown_active) {
    bool in_scope = lockdown->scope == LockdownScope::kAll;
    for (const auto &part : tree.parts)
      in_scope |= is_leaf(part) && (!part.filenames.empty() || part.disposition == "attachment" ||
                                    (part.media_type.rfind("text/", 0) != 0));
    if (in_scope) {
      Finding f;
      f.kind = FindingKind::kUnscannable;
      f.inspector = "lockdown";
      f.name = "Lockdown.Outbreak";
      f.detail = lockdown->reason;
      f.action = cfg.lockdown_action;
      f.reply_text = "avsink: outbreak lockdown in effect, try again later";
      findings.push_back(std::move(f));
    }
  }
  if (impl_->attachments) {
    Findings a = impl_->attachments->inspect_message(tree);
    findings.insert(findings.end(), a.begin(), a.end());
  }
  // Container members, recorded once when some policy judges them by lists of its own.
  attachments::MemberLog members;
  const bool record_members = impl_->attachments && !impl_->policy_attachments.empty();
  Findings engine_findings =
      impl_->scan_parts(tree, raw, deadline, record_members ? &members : nullptr);
  findings.insert(findings.end(), engine_findings.begin(), engine_findings.end());
  if (impl_->attachments) impl_->attachments->apply_engine_actions(findings);
  if (deadline.expired()) {
    bool have = false;
    for (const auto &f : findings) have |= f.name == "Limits.Exceeded.ScanTime";
    if (!have) {
      Finding f;
      f.kind = FindingKind::kUnscannable;
      f.inspector = "session";
      f.name = "Limits.Exceeded.ScanTime";
      f.detail = "scan deadline of " + std::to_string(cfg.limits.scan_deadline_ms) + " ms passed";
      findings.push_back(std::move(f));
    }
  }

  // One verdict per policy group; the message's is the strictest (what an adapter that does not
  // read per-recipient verdicts applies to everyone: fail closed).
  std::map<const PolicySpec *, Verdict> by_policy;
  std::map<const PolicySpec *, Findings> group_findings;  // what each group's verdict rests on
  auto decide_group = [&](const PolicySpec *p, std::string_view released_from) {
    Verdict pv = policy::decide(group_findings[p], cfg, p, released_from);
    pv.policy = std::string(policy_name(p));
    by_policy[p] = std::move(pv);
  };
  for (const PolicySpec *p : groups) {
    if (p && p->skip_scan && !lockdown_active) {
      by_policy.emplace(p, skip_verdict(p));
      note_skip(p, "its recipients");
      continue;
    }
    auto own = p ? impl_->policy_attachments.find(p->name) : impl_->policy_attachments.end();
    Findings all = own == impl_->policy_attachments.end()
                       ? findings
                       : own->second->rejudge(findings, tree, members);
    Findings r = impl_->rule_findings(p, envelope, tree, now);
    all.insert(all.end(), r.begin(), r.end());
    group_findings[p] = std::move(all);
    decide_group(p, "");
  }
  const PolicySpec *deciding = groups.front();
  for (const PolicySpec *p : groups)
    if (policy::stricter(by_policy[p].action, by_policy[deciding].action)) deciding = p;
  // A release mark (an HMAC over the content, made by `avsink quarantine release`) is checked
  // only when the message would be stopped, and used once, only for the recipients it was
  // released to (Store::use_release); the policy then decides with it (policy::decide).
  const Action stopped = by_policy[deciding].action;
  if (impl_->store && stopped != Action::kAccept && stopped != Action::kTempfail &&
      raw.total_bytes <= raw.bytes.size()) {
    quarantine::ReleaseCheck rc = impl_->store->use_release(raw.bytes, envelope.rcpt_to);
    if (!rc.refused.empty())
      impl_->logger.warn("release mark of " + rc.id + " not honoured: " + rc.refused);
    if (rc.valid)
      for (const PolicySpec *p : groups)
        if (group_findings.count(p)) decide_group(p, rc.id);
  }
  Verdict v = by_policy[deciding];
  for (size_t i = 0; i < envelope.rcpt_to.size(); ++i) {
    const Verdict &pv = by_policy[rcpt_policy[i]];
    v.recipients.push_back({envelope.rcpt_to[i], pv.policy, pv.action, pv.smtp_code,
                            pv.enhanced_status, pv.text, pv.reason});
  }
  if (auto r = impl_->act(envelope, raw, tree, deadline, v); !r) {
    // No verdict: the adapter tempfails the message.
    impl_->metrics.record_scan(
        Action::kTempfail, v.findings, raw.total_bytes,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return r.error();  // avsink_scan_end counts the tempfail (cause scan_failed)
  }
  // A strip that could not be made became a quarantine of the message (act()).
  for (auto &r : v.recipients)
    if (r.action == Action::kRewrite && v.action != Action::kRewrite) {
      r.action = v.action;
      r.reason = v.reason;
    }
  bool delivered_to_some = v.action == Action::kAccept || v.action == Action::kRewrite;
  for (const auto &r : v.recipients)
    delivered_to_some |= r.action == Action::kAccept || r.action == Action::kRewrite;
  if (cfg.add_header && delivered_to_some) {
    v.headers.emplace_back(cfg.header_name, impl_->scanned_header_value());
    if (!cfg.status_header_name.empty()) {
      std::string names;
      for (const auto &f : v.findings)
        if (f.kind == FindingKind::kVirus) names += (names.empty() ? "" : ", ") + f.name;
      v.headers.emplace_back(cfg.status_header_name,
                             names.empty() ? "Clean" : "Infected (" + names + ")");
    }
  }

  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  v.json = impl_->record(envelope, v, raw.total_bytes, ms);
  impl_->metrics.record_scan(v.action, v.findings, raw.total_bytes, ms / 1000.0);
  if (v.action == Action::kTempfail) {
    bool engine_failed = false;
    for (const auto &f : v.findings) engine_failed |= f.kind == FindingKind::kEngineError;
    impl_->metrics.count_tempfail(engine_failed ? "engine_error" : "policy");
  }
  if (impl_->notifier) {
    // Administrator notices: viruses, banned attachments, quarantines (docs/policy.md).
    bool notable = v.action == Action::kQuarantine;
    if (v.action != Action::kAccept && v.action != Action::kTempfail)
      for (const auto &f : v.findings)
        notable |= f.kind == FindingKind::kVirus || f.kind == FindingKind::kBannedAttachment;
    for (const auto &r : v.recipients) notable |= r.action == Action::kQuarantine;
    if (notable)
      impl_->notifier->notify({std::string(to_string(v.action)), v.reason, envelope.queue_id,
                               envelope.mail_from, envelope.client_address, v.quarantine_id,
                               envelope.rcpt_to});
  }
  return v;
}

Result<void> Scanner::reload() {
  // Every part reloads even when another fails; the first failure is returned.
  std::optional<Error> first;
  auto part = [&](const char *name, Result<void> r) {
    impl_->note_reload(name, r, false);
    if (!r && !first) first = r.error();
    return r;
  };
  if (impl_->audit)
    if (auto r = impl_->audit->reopen(); !r) impl_->logger.error("audit: " + r.error().describe());
  if (impl_->rules) (void)part("rules", impl_->rules->reload());
  if (impl_->attachments) (void)part("attachments", impl_->attachments->reload());
  for (auto &[name, lists] : impl_->policy_attachments) (void)part("attachments", lists->reload());
  if (impl_->hashlist) (void)part("hashlist", impl_->hashlist->reload());
  for (auto &[name, engine] : impl_->policy_rules)
    if (engine) (void)part("rules", engine->reload());
  if (impl_->clamav) {
    auto r = part("clamav", impl_->clamav->reload());
    if (!r) {
      impl_->logger.error("signature reload failed, keeping the previous generation: " +
                          r.error().describe());
      if (auto a =
              impl_->audit->record("signatures.reload_rejected",
                                   {{"error", r.error().describe()},
                                    {"keeping_generation", impl_->clamav->status().generation}});
          !a)
        impl_->logger.error("audit: " + a.error().describe());
    }
  }
  impl_->log_health("after reload");
  if (first) return *first;
  return {};
}

void Scanner::Impl::note_reload(const std::string &part, const Result<void> &r, bool log_after) {
  metrics.count_reload(part, r.ok());
  {
    std::lock_guard<std::mutex> lock(reload_mu);
    if (r.ok())
      reload_errors.erase(part);
    else
      reload_errors[part] = r.error().describe();
  }
  // The SIGHUP path logs once for all parts (Scanner::reload); a watcher logs for its part.
  if (log_after) log_health(("after " + part + " reload").c_str());
}

std::vector<Scanner::HealthIssue> Scanner::Impl::health() const {
  std::vector<HealthIssue> out;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const engines::Engine *e : engines) {
    auto st = e->status();
    if (!st.error.empty()) {
      out.push_back({"engine_error", st.name + ": " + st.error});
      continue;
    }
    if (e == hashlist.get()) continue;  // hand-kept lists are legitimately old
    std::string warn = engines::db_age_warning(st, now, int64_t(config.max_db_age_hours) * 3600);
    if (!warn.empty()) out.push_back({"stale_database", warn});
  }
  if (clamav) {
    auto st = clamav->status();
    std::error_code ec;
    const auto shipped = std::filesystem::weakly_canonical(Config::shipped_signatures_dir(), ec);
    bool only_shipped = !st.sources.empty();
    for (const auto &src : st.sources)
      only_shipped &= std::filesystem::weakly_canonical(src.path, ec) == shipped;
    if (only_shipped)
      out.push_back(
          {"test_signatures_only",
           "clamav: only avsink's shipped test signatures are loaded (" +
               std::to_string(st.signatures) +
               "); install a ClamAV database (freshclam) or set [clamav] signature_dirs"});
    // Database files this process cannot read: the next reload would fail on them.
    const RunAsUser me = RunAsUser::current();
    for (const auto &dir : clamav->watch_paths()) {
      if (!std::filesystem::is_directory(dir, ec)) continue;
      for (const auto &f : std::filesystem::directory_iterator(dir, ec)) {
        if (!engines::is_clamav_database_name(f.path().filename().string())) continue;
        std::string why = user_access_problem(f.path().string(), me, kNeedRead);
        if (!why.empty())
          out.push_back({"unreadable_database", "clamav: " + why +
                                                    "; the engine keeps generation " +
                                                    std::to_string(st.generation)});
      }
    }
  }
  std::lock_guard<std::mutex> lock(reload_mu);
  for (const auto &[part, why] : reload_errors)
    out.push_back({"reload_failed", part + ": last reload failed (" + why +
                                        "); the previous generation stays in use"});
  return out;
}

void Scanner::Impl::log_health(const char *when) const {
  auto issues = health();
  if (issues.empty()) {
    logger.info(std::string("health ") + when + ": ok");
    return;
  }
  for (const auto &i : issues) logger.warn(std::string("degraded ") + when + ": " + i.text);
}

std::vector<Scanner::HealthIssue> Scanner::health() const {
  return impl_->health();
}

void Scanner::count_tempfail(std::string_view cause) const {
  impl_->metrics.count_tempfail(cause);
}

std::string Scanner::metrics_text() const {
  std::string out = impl_->metrics.exposition();
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  out +=
      "# HELP avsink_engine_generation Loads of this engine's signatures (1 = first load).\n"
      "# TYPE avsink_engine_generation gauge\n";
  std::string sigs =
      "# HELP avsink_signatures Signatures loaded, by engine.\n"
      "# TYPE avsink_signatures gauge\n";
  std::string age =
      "# HELP avsink_signature_age_seconds Age of the newest database file, by engine.\n"
      "# TYPE avsink_signature_age_seconds gauge\n";
  for (const engines::Engine *e : impl_->engines) {
    auto st = e->status();
    std::string label = "{engine=\"" + st.name + "\"}";
    out += "avsink_engine_generation" + label + " " + std::to_string(st.generation) + "\n";
    if (st.signatures_known)
      sigs += "avsink_signatures" + label + " " + std::to_string(st.signatures) + "\n";
    if (int64_t a = engines::db_age_seconds(st, now); a >= 0)
      age += "avsink_signature_age_seconds" + label + " " + std::to_string(a) + "\n";
  }
  out += sigs + age;
  if (impl_->rules)
    out +=
        "# HELP avsink_rules_generation Loads of the rule files.\n"
        "# TYPE avsink_rules_generation gauge\navsink_rules_generation " +
        std::to_string(impl_->rules->generation()) + "\n";
  if (impl_->attachments)
    out +=
        "# HELP avsink_attachment_lists_generation Loads of the attachment lists.\n"
        "# TYPE avsink_attachment_lists_generation gauge\navsink_attachment_lists_generation " +
        std::to_string(impl_->attachments->generation()) + "\n";
  auto issues = impl_->health();
  out +=
      "# HELP avsink_healthy 1 when every engine is loaded and fresh (see avsink_degraded).\n"
      "# TYPE avsink_healthy gauge\navsink_healthy " +
      std::string(issues.empty() ? "1" : "0") + "\n";
  out +=
      "# HELP avsink_degraded 1 for each reason the engine is degraded.\n"
      "# TYPE avsink_degraded gauge\n";
  for (const char *code : {"engine_error", "test_signatures_only", "stale_database",
                           "unreadable_database", "reload_failed"}) {
    bool on = false;
    for (const auto &i : issues) on |= i.code == code;
    out += std::string("avsink_degraded{reason=\"") + code + "\"} " + (on ? "1" : "0") + "\n";
  }
  return out;
}

std::string Scanner::info_json() const {
  nlohmann::json j;
  j["version"] = AVSINK_VERSION_STRING;
  j["config"] = impl_->config.source;
  j["engines"] = nlohmann::json::array();
  for (const engines::Engine *e : impl_->engines) {
    auto st = e->status();
    nlohmann::json ej = {{"name", st.name},
                         {"required", e->required()},
                         {"signatures", st.signatures},
                         {"db_version", st.db_version},
                         {"db_time", st.db_time},
                         {"generation", st.generation}};
    ej["state"] = st.error.empty() ? "ok" : "error";
    if (!st.error.empty()) ej["error"] = st.error;
    ej["signatures_known"] = st.signatures_known;
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    ej["db_age_seconds"] = engines::db_age_seconds(st, now);
    // Hand-kept hash lists are legitimately old; the age warning is for ClamAV databases.
    std::string warn = engines::db_age_warning(
        st, now, e == impl_->hashlist.get() ? 0 : int64_t(impl_->config.max_db_age_hours) * 3600);
    if (!warn.empty()) ej["warning"] = warn;
    ej["sources"] = nlohmann::json::array();
    for (const auto &src : st.sources) ej["sources"].push_back(src.path);
    j["engines"].push_back(ej);
  }
  if (impl_->clamav) j["libclamav"] = engines::ClamavEngine::library_version();
  if (impl_->rules)
    j["rules"] = {{"generation", impl_->rules->generation()},
                  {"rules", impl_->rules->rule_count()}};
  if (impl_->attachments)
    j["attachment_lists"] = {{"generation", impl_->attachments->generation()},
                             {"watching", impl_->attachments->watching()}};
  j["quarantine"] = impl_->store ? impl_->store->dir() : "";
  auto issues = impl_->health();
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto &i : issues) reasons.push_back({{"code", i.code}, {"text", i.text}});
  j["health"] = {{"ok", issues.empty()}, {"reasons", reasons}};
  j["policies"] = nlohmann::json::array();
  for (const auto &p : impl_->config.policies) j["policies"].push_back(p.name);
  j["policy_skips"] = impl_->skipped.load();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace avsink::session

// scanner.cpp - the per-message pipeline: parse once, run every inspector and engine over the
// decoded parts (and the raw message once), then let the policy decide. Fails closed throughout.
#include "session/scanner.h"

#include <chrono>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/deadline.h"
#include "engines/clamav_lib.h"
#include "mime/parser.h"
#include "policy/policy.h"

namespace avsink::session {

struct Scanner::Impl {
  Config config;
  Logger logger;
  bool dry_run = false;
  std::unique_ptr<engines::ClamavEngine> clamav;
  std::vector<engines::Engine *> engines;  // every enabled engine, in scan order

  Findings scan_parts(const mime::MessageTree &tree, const RawMessage &raw,
                      const Deadline &deadline) const;
  void scan_one(engines::Engine &engine, const engines::ScanItem &item, const Deadline &deadline,
                Findings &out) const;
  std::string scanned_header_value() const;
  std::string record(const Envelope &env, const Verdict &v, uint64_t size, double ms) const;
};

namespace {

bool is_leaf(const mime::Part &p) {
  return !p.is_multipart && !p.is_message;
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

void Scanner::Impl::scan_one(engines::Engine &engine, const engines::ScanItem &item,
                             const Deadline &deadline, Findings &out) const {
  auto r = engine.scan(item, deadline);
  if (r.ok()) {
    out.insert(out.end(), r->begin(), r->end());
    return;
  }
  std::string what = std::string(engine.name()) + ": " + r.error().describe();
  if (!engine.required()) {
    logger.warn("optional engine failed, skipped: " + what);
    return;
  }
  Finding f;
  f.kind = FindingKind::kEngineError;
  f.inspector = std::string(engine.name());
  f.name = "Engine.Error." + std::string(engine.name());
  f.part_path = std::string(item.part_path);
  f.detail = what;
  out.push_back(std::move(f));
}

Findings Scanner::Impl::scan_parts(const mime::MessageTree &tree, const RawMessage &raw,
                                   const Deadline &deadline) const {
  Findings out;
  for (const auto &part : tree.parts) {
    if (!is_leaf(part) || part.body.empty()) continue;
    if (deadline.expired()) break;
    engines::ScanItem item;
    item.data = part.body;
    item.part_path = part.path;
    item.filename = part.filenames.empty() ? std::string_view() : part.filenames.front();
    for (engines::Engine *e : engines) scan_one(*e, item, deadline, out);
  }
  // The raw message once, so libclamav's own mail handling sees it too (defense in depth).
  if (config.raw_message_pass && clamav && !raw.bytes.empty() && !deadline.expired()) {
    engines::ScanItem item;
    item.data = raw.bytes;
    item.whole_message = true;
    Findings whole;
    scan_one(*clamav, item, deadline, whole);
    std::set<std::string> seen;
    for (const auto &f : out) seen.insert(f.name);
    for (auto &f : whole)
      if (f.kind != FindingKind::kVirus || !seen.count(f.name)) out.push_back(std::move(f));
  }
  return out;
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
  j["ms"] = static_cast<int64_t>(ms * 1000) / 1000.0;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

const Config &Scanner::config() const {
  return impl_->config;
}

Result<std::unique_ptr<Scanner>> Scanner::open(const Config &config, Logger logger, bool dry_run) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->logger = std::move(logger);
  impl->dry_run = dry_run;
  if (config.clamav_enabled) {
    engines::ClamavOptions o;
    o.signature_dirs = config.signature_dirs;
    if (o.signature_dirs.empty()) o.signature_dirs.push_back(Config::shipped_signatures_dir());
    o.load_system_db = config.system_db;
    o.system_db_dir = config.system_db_dir;
    o.required = config.clamav_required;
    o.limits = config.limits;
    auto e = engines::ClamavEngine::open(o);
    if (!e) return e.error();
    impl->clamav = std::move(e.value());
    impl->engines.push_back(impl->clamav.get());
  }
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

Result<Verdict> Scanner::scan(const Envelope &envelope, const RawMessage &raw) const {
  const auto started = std::chrono::steady_clock::now();
  const Config &cfg = impl_->config;
  Deadline deadline = Deadline::after_ms(cfg.limits.scan_deadline_ms);

  mime::MessageTree tree = mime::parse_message(raw.bytes, cfg.limits, deadline);
  Findings findings = tree.findings;
  if (raw.total_bytes > raw.bytes.size()) {
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = "session";
    f.name = "Limits.Exceeded.MessageBytes";
    f.detail = "message of " + std::to_string(raw.total_bytes) + " bytes exceeds the limit of " +
               std::to_string(cfg.limits.max_message_bytes);
    findings.push_back(std::move(f));
  }
  Findings engine_findings = impl_->scan_parts(tree, raw, deadline);
  findings.insert(findings.end(), engine_findings.begin(), engine_findings.end());
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

  Verdict v = policy::decide(findings, cfg);
  if (cfg.add_header && (v.action == Action::kAccept || v.action == Action::kRewrite))
    v.headers.emplace_back(cfg.header_name, impl_->scanned_header_value());

  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  v.json = impl_->record(envelope, v, raw.total_bytes, ms);
  return v;
}

Result<void> Scanner::reload() {
  if (impl_->clamav) {
    auto r = impl_->clamav->reload();
    if (!r) {
      impl_->logger.error("signature reload failed, keeping the previous generation: " +
                          r.error().describe());
      return r;
    }
  }
  return {};
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
    ej["sources"] = nlohmann::json::array();
    for (const auto &src : st.sources) ej["sources"].push_back(src.path);
    j["engines"].push_back(ej);
  }
  if (impl_->clamav) j["libclamav"] = engines::ClamavEngine::library_version();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace avsink::session

// rule_engine.cpp - compiles rule files into one RE2::Set per kind (and header name) + a CIDR
// table, published as immutable snapshots; a reload with any error publishes nothing.
#include "rules/rule_engine.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <re2/re2.h>
#include <re2/set.h>

#include "core/file_watch.h"
#include "core/snapshot.h"
#include "mime/entity.h"
#include "mime/header_words.h"
#include "rules/match_text.h"
#include "rules/rule_file.h"
#include "util/text.h"

namespace avsink::rules {

namespace {

// One RE2::Set over the patterns of one kind (or one header name), and which rule each is.
struct Matcher {
  std::unique_ptr<RE2::Set> set;  // null when the kind has no rule
  std::vector<uint32_t> rule_of;  // set index -> index into RuleSet::rules

  bool empty() const { return set == nullptr; }
  // Appends the rules whose pattern matches `text`. False when RE2 gave up (DFA out of memory):
  // the caller must treat the message as not fully inspected.
  bool match(std::string_view text, std::vector<uint32_t> *hits, std::vector<int> *scratch) const {
    if (!set) return true;
    scratch->clear();
    RE2::Set::ErrorInfo info{};
    if (!set->Match(re2::StringPiece(text.data(), text.size()), scratch, &info))
      return info.kind == RE2::Set::kNoError;
    for (int i : *scratch) hits->push_back(rule_of[static_cast<size_t>(i)]);
    return true;
  }
};

// Patterns collected for one Matcher before compiling.
struct MatcherInput {
  std::vector<uint32_t> rules;
};

// Client networks by prefix length: one hash lookup per distinct prefix length present, so the
// cost does not grow with the number of client rules.
class CidrTable {
 public:
  void add(const Cidr &net, uint32_t rule) {
    Level *level = nullptr;
    for (Level &l : levels_)
      if (l.v6 == net.v6 && l.prefix == net.prefix) level = &l;
    if (level == nullptr) {
      levels_.push_back(Level{net.v6, net.prefix, {}});
      level = &levels_.back();
    }
    level->nets[key(net, net.prefix)].push_back(rule);
  }
  void match(const Cidr &addr, std::vector<uint32_t> *hits) const {
    for (const Level &l : levels_) {
      if (l.v6 != addr.v6) continue;
      auto it = l.nets.find(key(addr, l.prefix));
      if (it != l.nets.end()) hits->insert(hits->end(), it->second.begin(), it->second.end());
    }
  }
  bool empty() const { return levels_.empty(); }

 private:
  struct Level {
    bool v6;
    uint8_t prefix;
    std::unordered_map<std::string, std::vector<uint32_t>> nets;
  };
  static std::string key(const Cidr &c, int prefix) {
    std::string k(c.v6 ? 16 : 4, '\0');
    for (size_t b = 0; b < k.size(); ++b) {
      int keep = std::max(0, std::min(8, prefix - static_cast<int>(b) * 8));
      k[b] =
          static_cast<char>(keep == 0 ? 0 : c.addr[b] & static_cast<uint8_t>(0xFF << (8 - keep)));
    }
    return k;
  }
  std::vector<Level> levels_;
};

struct FileSummary {
  std::string path;
  std::string sha256;
  uint64_t bytes = 0;
  size_t rules = 0;
  std::map<std::string, size_t> by_kind;
};

// One generation: immutable once built.
struct RuleSet {
  std::vector<Rule> rules;  // precedence order: files in the given order, lines in file order
  Matcher subject, header_from, envelope_from, rcpt, helo;
  std::unordered_map<std::string, Matcher> headers;  // lowercased field name -> matcher
  CidrTable clients;
  std::vector<FileSummary> files;
};

Result<Matcher> compile_matcher(const std::vector<Rule> &rules, const MatcherInput &in,
                                uint64_t max_mem, const std::string &what) {
  Matcher m;
  if (in.rules.empty()) return m;
  RE2::Options opt;
  opt.set_log_errors(false);
  opt.set_max_mem(static_cast<int64_t>(max_mem));
  auto set = std::make_unique<RE2::Set>(opt, RE2::UNANCHORED);
  for (uint32_t idx : in.rules) {
    const Rule &r = rules[idx];
    std::string err;
    if (set->Add(r.regex, &err) < 0)
      return make_error(ErrorCode::kRules, "bad pattern " + r.pattern + ": " + err, r.file, r.line);
    m.rule_of.push_back(idx);
  }
  if (!set->Compile()) {
    const Rule &first = rules[in.rules.front()];
    return make_error(ErrorCode::kRules,
                      "the " + std::to_string(in.rules.size()) + " " + what +
                          " patterns together exceed the RE2 set memory limit (" +
                          std::to_string(max_mem >> 20) + " MiB); simplify or split them",
                      first.file, 0);
  }
  m.set = std::move(set);
  return m;
}

// Compiles parsed files (all error-free) into one generation.
Result<std::shared_ptr<const RuleSet>> build_rule_set(std::vector<ParsedFile> files,
                                                      uint64_t set_max_mem) {
  auto rs = std::make_shared<RuleSet>();
  MatcherInput subject, header_from, envelope_from, rcpt, helo;
  std::map<std::string, MatcherInput> headers;
  for (ParsedFile &f : files) {
    FileSummary sum;
    sum.path = f.path;
    sum.sha256 = f.sha256;
    sum.bytes = f.bytes;
    sum.rules = f.rules.size();
    for (Rule &r : f.rules) {
      const auto idx = static_cast<uint32_t>(rs->rules.size());
      ++sum.by_kind[std::string(to_string(r.kind))];
      switch (r.kind) {
        case RuleKind::kSubject:
          subject.rules.push_back(idx);
          break;
        case RuleKind::kFrom:
          header_from.rules.push_back(idx);
          envelope_from.rules.push_back(idx);
          break;
        case RuleKind::kHeaderFrom:
          header_from.rules.push_back(idx);
          break;
        case RuleKind::kEnvelopeFrom:
          envelope_from.rules.push_back(idx);
          break;
        case RuleKind::kRcpt:
          rcpt.rules.push_back(idx);
          break;
        case RuleKind::kHelo:
          helo.rules.push_back(idx);
          break;
        case RuleKind::kHeader:
          headers[r.header_name].rules.push_back(idx);
          break;
        case RuleKind::kClient:
          rs->clients.add(r.cidr, idx);
          break;
      }
      rs->rules.push_back(std::move(r));
    }
    rs->files.push_back(std::move(sum));
  }
  struct Job {
    Matcher *out;
    const MatcherInput *in;
    std::string what;
  };
  std::vector<Job> jobs = {{&rs->subject, &subject, "subject"},
                           {&rs->header_from, &header_from, "header-from"},
                           {&rs->envelope_from, &envelope_from, "envelope-from"},
                           {&rs->rcpt, &rcpt, "rcpt"},
                           {&rs->helo, &helo, "helo"}};
  for (auto &[name, in] : headers) jobs.push_back({&rs->headers[name], &in, "header " + name});
  for (const Job &j : jobs) {
    auto m = compile_matcher(rs->rules, *j.in, set_max_mem, j.what);
    if (!m) return m.error();
    *j.out = std::move(*m);
  }
  return std::shared_ptr<const RuleSet>(std::move(rs));
}

ParseLimits limits_from(const RulesOptions &o) {
  ParseLimits l;
  l.max_file_bytes = o.max_file_bytes;
  l.max_line_bytes = o.max_line_bytes;
  l.pattern_max_mem = o.pattern_max_mem;
  return l;
}

nlohmann::json files_json(const RuleSet &rs) {
  nlohmann::json files = nlohmann::json::array();
  for (const FileSummary &f : rs.files) {
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto &[k, n] : f.by_kind) kinds[k] = n;
    files.push_back({{"path", f.path},
                     {"sha256", f.sha256},
                     {"bytes", f.bytes},
                     {"rules", f.rules},
                     {"by_kind", kinds}});
  }
  return files;
}

Finding rule_finding(const Rule &r) {
  Finding f;
  f.kind = FindingKind::kRule;
  f.inspector = "rules";
  f.name = r.name();
  f.detail = !r.comment.empty() ? r.comment
                                : std::string(to_string(r.kind)) +
                                      (r.header_name.empty() ? "" : " " + r.header_name) + " " +
                                      r.pattern + " matched";
  f.action = r.action;
  f.reply_text = r.reply_text;
  return f;
}

}  // namespace

RulesOptions RulesOptions::from(const Config &config, const std::vector<std::string> &files) {
  RulesOptions o;
  o.files = files;
  o.internal_domains = config.internal_domains;
  o.trusted_networks = config.trusted_networks;
  o.spoof_action = config.spoof_action;
  o.watch = config.watch_files;
  o.poll_ms = config.poll_ms;
  return o;
}

Result<void> RulesOptions::validate() const {
  for (const std::string &f : files)
    if (f.empty()) return make_error(ErrorCode::kConfig, "rules.files: empty file name");
  for (const std::string &d : internal_domains) {
    if (d.empty() || d.find_first_of(" @\t<>") != std::string::npos)
      return make_error(ErrorCode::kConfig, "rules.internal_domains: bad domain '" + d + "'");
  }
  for (const std::string &n : trusted_networks) {
    auto c = parse_cidr(n);
    if (!c) return make_error(ErrorCode::kConfig, "rules.trusted_networks: " + c.error().message);
  }
  if (spoof_action == Action::kRewrite)
    return make_error(ErrorCode::kConfig, "rules.spoof_action: rewrite is not a rule action");
  if (poll_ms == 0) return make_error(ErrorCode::kConfig, "rules.poll_ms: must be > 0");
  if (set_max_mem < (1u << 20))
    return make_error(ErrorCode::kConfig, "rules.set_max_mem: must be at least 1 MiB");
  if (max_line_bytes == 0 || max_file_bytes == 0)
    return make_error(ErrorCode::kConfig, "rules.max_line_bytes/max_file_bytes: must be > 0");
  return {};
}

struct RuleEngine::Impl {
  RulesOptions options;
  std::shared_ptr<AuditLog> audit;
  std::vector<std::string> internal_domains;  // lowercased, no trailing dot
  std::vector<Cidr> trusted;
  Snapshot<RuleSet> current;
  std::mutex reload_mu;  // one reload at a time
  // Rule expiry is reported once per rule (issue 14 item 9): inspect() checks the earliest
  // expiry not yet reported (INT64_MIN after a publish: look at the new set) and only then
  // takes the mutex and walks the rules.
  std::atomic<int64_t> next_expiry{std::numeric_limits<int64_t>::min()};
  std::mutex expiry_mu;
  std::unordered_set<std::string> expiry_reported;  // "<file>:<line> <expires>", across reloads
  std::unique_ptr<FileWatch> watcher;               // last: stopped before anything else goes away

  void log(LogLevel level, const std::string &line) const { options.logger.log(level, line); }
  void audit_record(std::string_view event, const nlohmann::json &fields) const {
    if (!audit) return;
    if (auto r = audit->record(event, fields); !r)
      log(LogLevel::kError, "rules: audit: " + r.error().describe());
  }

  // Reads and parses every file; the errors of all files, or the parsed files.
  std::vector<Error> parse_all(std::vector<ParsedFile> *parsed) const {
    std::vector<Error> errors;
    const ParseLimits limits = limits_from(options);
    for (const std::string &path : options.files) {
      ParsedFile f = parse_rule_file(path, limits);
      errors.insert(errors.end(), f.errors.begin(), f.errors.end());
      parsed->push_back(std::move(f));
    }
    return errors;
  }

  Result<std::shared_ptr<const RuleSet>> load(std::vector<Error> *errors) const {
    std::vector<ParsedFile> parsed;
    *errors = parse_all(&parsed);
    if (!errors->empty()) return errors->front();
    auto rs = build_rule_set(std::move(parsed), options.set_max_mem);
    if (!rs) errors->push_back(rs.error());
    return rs;
  }

  void report_rejected(std::string_view event, const std::vector<Error> &errors, uint64_t keep) {
    for (const Error &e : errors) log(LogLevel::kError, "rules: " + e.describe());
    const std::string keeping = "keeping generation " + std::to_string(keep);
    log(LogLevel::kError,
        "rules: " + std::string(event == "rules.load_rejected" ? "load" : "reload") +
            " rejected (" + std::to_string(errors.size()) + " error(s)), " + keeping);
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < errors.size() && i < 100; ++i) list.push_back(errors[i].describe());
    const Error &first = errors.front();
    audit_record(event, {{"file", first.file},
                         {"line", first.line},
                         {"reason", first.message},
                         {"errors", list},
                         {"error_count", errors.size()},
                         {"keeping_generation", keep},
                         {"message", keeping}});
  }

  void report_loaded(const RuleSet &rs, uint64_t gen, std::string_view trigger) {
    std::string line = "rules: loaded generation " + std::to_string(gen) + " (" +
                       std::string(trigger) + "): " + std::to_string(rs.rules.size()) + " rules";
    for (const FileSummary &f : rs.files)
      line += "; " + f.path + " " + std::to_string(f.rules) + " rules sha256 " + f.sha256;
    log(LogLevel::kInfo, line);
    nlohmann::json fields = {{"generation", gen},
                             {"trigger", std::string(trigger)},
                             {"rules", rs.rules.size()},
                             {"files", files_json(rs)}};
    if (trigger == "open") {
      fields["options"] = {{"files", options.files},
                           {"internal_domains", options.internal_domains},
                           {"trusted_networks", options.trusted_networks},
                           {"spoof_action", std::string(to_string(options.spoof_action))},
                           {"watch", options.watch},
                           {"poll_ms", options.poll_ms},
                           {"set_max_mem", options.set_max_mem},
                           {"max_file_bytes", options.max_file_bytes}};
    }
    audit_record("rules.load", fields);
  }

  Result<void> reload(std::string_view trigger) {
    std::lock_guard<std::mutex> lock(reload_mu);
    const uint64_t keep = current.generation();
    std::vector<ParsedFile> parsed;
    std::vector<Error> errors = parse_all(&parsed);
    if (!errors.empty()) {
      report_rejected("rules.reload_rejected", errors, keep);
      return errors.front();
    }
    auto old = current.get();
    if (old && old->files.size() == parsed.size()) {
      bool same = true;
      for (size_t i = 0; i < parsed.size() && same; ++i)
        same = old->files[i].sha256 == parsed[i].sha256 && old->files[i].path == parsed[i].path;
      if (same) {  // nothing changed (a spurious event, or SIGHUP without an edit)
        log(LogLevel::kInfo, "rules: " + std::string(trigger) +
                                 ": no rule file changed, keeping generation " +
                                 std::to_string(keep));
        return {};
      }
    }
    auto rs = build_rule_set(std::move(parsed), options.set_max_mem);
    if (!rs) {
      report_rejected("rules.reload_rejected", {rs.error()}, keep);
      return rs.error();
    }
    const uint64_t gen = current.publish(*rs);
    next_expiry.store(std::numeric_limits<int64_t>::min(), std::memory_order_relaxed);
    report_loaded(**rs, gen, trigger);
    return {};
  }

  // Logs (warning) and audits "rules.expired" for every rule of `rs` whose expires= has passed
  // and was not reported before; then the earliest expiry still ahead.
  void report_expired(const RuleSet &rs, int64_t now) {
    std::lock_guard<std::mutex> lock(expiry_mu);
    int64_t next = std::numeric_limits<int64_t>::max();
    for (const Rule &r : rs.rules) {
      if (r.expires > now) {
        next = std::min(next, r.expires);
        continue;
      }
      const std::string key =
          r.file + ":" + std::to_string(r.line) + " " + std::to_string(r.expires);
      if (!expiry_reported.insert(key).second) continue;
      log(LogLevel::kWarn, "rules: " + r.file + ":" + std::to_string(r.line) + ": rule " +
                               r.name() + " expired at " + util::iso8601_utc(r.expires) +
                               " and no longer applies");
      audit_record("rules.expired", {{"rule", r.name()},
                                     {"file", r.file},
                                     {"line", r.line},
                                     {"pattern", r.pattern},
                                     {"expires", util::iso8601_utc(r.expires)}});
    }
    next_expiry.store(next, std::memory_order_relaxed);
  }

  bool is_internal(std::string_view domain) const {
    for (const std::string &d : internal_domains)
      if (domain_within(domain, d)) return true;
    return false;
  }
};

RuleEngine::RuleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RuleEngine::~RuleEngine() {
  if (impl_) impl_->watcher.reset();  // joins the thread: no reload runs past this line
}

Result<std::unique_ptr<RuleEngine>> RuleEngine::open(const RulesOptions &options,
                                                     std::shared_ptr<AuditLog> audit) {
  if (auto v = options.validate(); !v) return v.error();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->audit = std::move(audit);
  for (std::string d : options.internal_domains) {
    for (char &c : d) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    while (!d.empty() && d.back() == '.') d.pop_back();
    if (!d.empty()) impl->internal_domains.push_back(d);
  }
  for (const std::string &n : options.trusted_networks) impl->trusted.push_back(*parse_cidr(n));

  std::vector<Error> errors;
  auto rs = impl->load(&errors);
  if (!rs) {
    impl->report_rejected("rules.load_rejected", errors, 0);
    return rs.error();
  }
  const uint64_t gen = impl->current.publish(*rs);
  impl->report_loaded(**rs, gen, "open");

  if (options.watch && !options.files.empty()) {
    FileWatchOptions wo;
    wo.paths = options.files;
    wo.poll_ms = options.poll_ms;
    wo.debounce_ms = options.debounce_ms;
    wo.max_delay_ms = std::max<uint32_t>(options.debounce_ms * 10, options.debounce_ms);
    wo.use_inotify = !options.force_polling;
    Impl *raw = impl.get();
    auto w = FileWatch::start(std::move(wo), [raw](const std::vector<std::string> &) {
      auto r = raw->reload("watch");  // reports its own errors (log + audit)
      if (raw->options.on_watch_reload) raw->options.on_watch_reload(r);
    });
    if (w) {
      impl->watcher = std::move(*w);
    } else {
      // Rules are loaded; only automatic reload is lost (SIGHUP and the C ABI still reload).
      impl->log(LogLevel::kError,
                "rules: cannot watch rule files, reload on SIGHUP only: " + w.error().message);
    }
  }
  return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(impl)));
}

Result<void> RuleEngine::reload() {
  return impl_->reload("reload");
}

uint64_t RuleEngine::generation() const {
  return impl_->current.generation();
}

size_t RuleEngine::rule_count() const {
  auto rs = impl_->current.get();
  return rs ? rs->rules.size() : 0;
}

bool RuleEngine::watching_with_inotify() const {
  return impl_->watcher && impl_->watcher->using_inotify();
}

Findings RuleEngine::inspect(const Envelope &env, const mime::MessageTree &tree,
                             int64_t now) const {
  Findings out;
  const std::shared_ptr<const RuleSet> rs = impl_->current.get();  // one generation per call
  if (!rs) return out;
  if (now >= impl_->next_expiry.load(std::memory_order_relaxed)) impl_->report_expired(*rs, now);
  static const std::vector<mime::HeaderField> kNoHeaders;
  const std::vector<mime::HeaderField> &headers =
      tree.parts.empty() ? kNoHeaders : tree.parts[0].headers;
  std::vector<uint32_t> hits;
  std::vector<int> scratch;
  bool failed = false;
  auto run = [&](const Matcher &m, const std::vector<std::string> &texts) {
    for (const std::string &t : texts)
      if (!m.match(t, &hits, &scratch)) failed = true;
  };

  // Top-level header fields by kind, read once. Readings are deduplicated through a hash set so
  // that a message with many repeated fields costs linear time, never quadratic.
  std::vector<std::string> subjects, froms;
  std::unordered_set<std::string> seen_subjects, seen_froms;
  auto add = [](std::vector<std::string> *v, std::unordered_set<std::string> *seen, std::string s) {
    if (seen->insert(s).second) v->push_back(std::move(s));
  };
  size_t from_fields = 0;
  const bool want_from = !rs->header_from.empty() || !impl_->internal_domains.empty();
  std::vector<std::string> readings;
  for (const mime::HeaderField &f : headers) {
    const std::string name = mime::normalize_field_name(f.name);
    if (name == "subject") {
      if (!rs->subject.empty()) {
        readings.clear();
        header_readings(f.value, &readings);
        for (std::string &r : readings) add(&subjects, &seen_subjects, std::move(r));
      }
    } else if (name == "from") {
      ++from_fields;
      if (want_from) {
        readings.clear();
        header_readings(f.value, &readings);
        for (std::string &r : readings) {
          for (std::string &a : extract_addresses(r)) add(&froms, &seen_froms, std::move(a));
          add(&froms, &seen_froms, std::move(r));
        }
      }
    }
    if (!rs->headers.empty()) {
      auto it = rs->headers.find(name);
      if (it != rs->headers.end()) {
        readings.clear();
        header_readings(f.value, &readings);
        run(it->second, readings);
      }
    }
  }
  run(rs->subject, subjects);
  run(rs->header_from, froms);
  const std::string mail_from = envelope_address(env.mail_from);
  if (!rs->envelope_from.empty()) run(rs->envelope_from, {mail_from});
  if (!rs->rcpt.empty()) {
    std::vector<std::string> rcpts;
    for (const std::string &r : env.rcpt_to) rcpts.push_back(envelope_address(r));
    run(rs->rcpt, rcpts);
  }
  if (!rs->helo.empty()) run(rs->helo, {strip_invisible(mime::to_utf8_lenient(env.helo))});
  Cidr client;
  const bool client_known = parse_client_address(env.client_address, &client);
  if (client_known && !rs->clients.empty()) rs->clients.match(client, &hits);

  // Precedence: the lowest rule index is the highest precedence (files[0], first line).
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  bool allowed = false;
  for (uint32_t idx : hits) {
    const Rule &r = rs->rules[idx];
    if (r.expires <= now) continue;
    if (r.action == Action::kAccept) {
      // An allow rule overrides the block rules below it, never those above it.
      if (out.empty()) {
        out.push_back(rule_finding(r));
        allowed = true;
      }
      break;
    }
    out.push_back(rule_finding(r));
  }

  if (!allowed && !impl_->internal_domains.empty()) {
    bool trusted = false;
    if (client_known)
      for (const Cidr &net : impl_->trusted)
        if (cidr_contains(net, client)) trusted = true;
    if (!trusted && env.auth_user.empty()) {
      std::string claimed, where;
      for (const std::string &t : froms) {
        for (const std::string &d : domains_after_at(t))
          if (impl_->is_internal(d)) {
            claimed = d;
            where = "From header";
            break;
          }
        if (!claimed.empty()) break;
      }
      if (claimed.empty())
        for (const std::string &d : domains_after_at(mail_from))
          if (impl_->is_internal(d)) {
            claimed = d;
            where = "envelope sender";
            break;
          }
      if (!claimed.empty()) {
        Finding f;
        f.kind = FindingKind::kRule;
        f.inspector = "rules";
        f.name = "Spoof.InternalSender";
        f.detail = where + " claims internal domain " + claimed + " but client " +
                   (env.client_address.empty() ? std::string("(unknown)") : env.client_address) +
                   " is outside trusted_networks and not authenticated";
        f.action = impl_->options.spoof_action;
        out.push_back(std::move(f));
      }
    }
  }
  if (from_fields > 1) {
    Finding f;
    f.kind = FindingKind::kMalformed;
    f.inspector = "rules";
    f.name = "Rules.MultipleFrom";
    f.detail = std::to_string(from_fields) + " From header fields; rules matched each";
    out.push_back(std::move(f));
  }
  if (failed) {
    Finding f;
    f.kind = FindingKind::kUnscannable;
    f.inspector = "rules";
    f.name = "Rules.MatchFailed";
    f.detail = "RE2 ran out of memory matching rules (raise rules set_max_mem)";
    out.push_back(std::move(f));
  }
  return out;
}

FileCheck check_file_report(const std::string &path, int64_t now) {
  FileCheck out;
  ParsedFile f = parse_rule_file(path, ParseLimits{});
  out.readable = f.readable;
  out.sha256 = f.sha256;
  out.errors = f.errors;
  if (!out.errors.empty()) return out;
  for (const Rule &r : f.rules)
    if (r.expires <= now)
      out.warnings.push_back(make_error(
          ErrorCode::kRules,
          "warning: rule expired at " + util::iso8601_utc(r.expires) + " and no longer applies",
          r.file, r.line));
  out.rule_count = f.rules.size();
  std::vector<ParsedFile> one;
  one.push_back(std::move(f));
  auto rs = build_rule_set(std::move(one), RulesOptions{}.set_max_mem);
  if (!rs) out.errors.push_back(rs.error());
  return out;
}

std::vector<Error> check_file(const std::string &path) {
  return check_file_report(path, 0).errors;
}

}  // namespace avsink::rules

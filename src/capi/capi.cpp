// capi.cpp - every extern "C" function: check arguments, call C++, map errors to avsink_status.
// guard() is the single catch-all: no exception ever crosses the C ABI.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <set>

#include "avsink/avsink.h"
#include "capi/handles.h"
#include "capi/status.h"
#include "core/config.h"

using avsink::capi::fill_error;
using avsink::capi::status_of;

namespace {

// The serials of open engines, so that avsink_engine_info's per-thread strings of freed engines
// can be dropped.
std::mutex g_engines_mu;
std::set<uint64_t> g_open_engines;
uint64_t g_next_serial = 1;

uint64_t register_engine() {
  std::lock_guard<std::mutex> lock(g_engines_mu);
  g_open_engines.insert(g_next_serial);
  return g_next_serial++;
}

void unregister_engine(uint64_t serial) {
  std::lock_guard<std::mutex> lock(g_engines_mu);
  g_open_engines.erase(serial);
}

bool engine_is_open(uint64_t serial) {
  std::lock_guard<std::mutex> lock(g_engines_mu);
  return g_open_engines.count(serial) != 0;
}

// The strings avsink_engine_info/metrics/health lend the caller.
enum class ThreadString { kInfo, kMetrics, kHealth };

// Keeps `value` as this thread's string of that kind for that engine and returns it. One string
// per (thread, engine, kind), freed when the thread exits; the strings of engines freed since are
// dropped when this thread next asks, so nothing grows with threads or engines.
const char *thread_string(const avsink_engine *engine, ThreadString kind, std::string value) {
  thread_local std::map<std::pair<uint64_t, ThreadString>, std::string> slots;
  std::erase_if(slots, [](const auto &kv) { return !engine_is_open(kv.first.first); });
  std::string &slot = slots[{engine->serial, kind}];
  slot = std::move(value);
  return slot.c_str();
}

// Runs fn; turns an escaping exception into a status (and a message when a sink is given).
template <typename Fn>
avsink_status guard(std::string *msg, Fn &&fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc &) {
    if (msg) *msg = "out of memory";
    return AVSINK_ENOMEM;
  } catch (const std::exception &e) {
    if (msg) *msg = std::string("internal error: ") + e.what();
    return AVSINK_EINTERNAL;
  } catch (...) {
    if (msg) *msg = "internal error";
    return AVSINK_EINTERNAL;
  }
}

// Reads a caller-filled struct field only when the caller's size says it is there.
#define AVSINK_HAS_FIELD(ptr, type, field) \
  ((ptr)->size >= offsetof(type, field) + sizeof(((type *)nullptr)->field))

std::string str_or_empty(const char *s) {
  return s ? s : "";
}

avsink::Envelope copy_envelope(const avsink_envelope *env) {
  avsink::Envelope e;
  if (env == nullptr) return e;
  if (AVSINK_HAS_FIELD(env, avsink_envelope, client_address))
    e.client_address = str_or_empty(env->client_address);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, client_name))
    e.client_name = str_or_empty(env->client_name);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, helo)) e.helo = str_or_empty(env->helo);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, auth_user)) e.auth_user = str_or_empty(env->auth_user);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, mail_from)) e.mail_from = str_or_empty(env->mail_from);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, rcpt_count) && env->rcpt_to != nullptr)
    for (size_t i = 0; i < env->rcpt_count; ++i)
      if (env->rcpt_to[i] != nullptr) e.rcpt_to.emplace_back(env->rcpt_to[i]);
  if (AVSINK_HAS_FIELD(env, avsink_envelope, queue_id)) e.queue_id = str_or_empty(env->queue_id);
  return e;
}

avsink::LogLevel to_level(avsink_log_level l) {
  switch (l) {
    case AVSINK_LOG_DEBUG:
      return avsink::LogLevel::kDebug;
    case AVSINK_LOG_INFO:
      return avsink::LogLevel::kInfo;
    case AVSINK_LOG_WARN:
      return avsink::LogLevel::kWarn;
    case AVSINK_LOG_ERROR:
      return avsink::LogLevel::kError;
    default:
      return avsink::LogLevel::kPanic;
  }
}

// `original`: the message as scanned, for the header edits.
std::unique_ptr<avsink_verdict> wrap_verdict(avsink::Verdict v, std::string_view original) {
  auto out = std::make_unique<avsink_verdict>();
  out->v = std::move(v);
  std::vector<std::string> added;  // the verdict's own header names: inbound copies are deleted
  for (const auto &h : out->v.headers) added.push_back(h.first);
  const bool rewrite = out->v.action == avsink::Action::kRewrite;
  out->edits = avsink::session::delivery_header_edits(original,
                                                      rewrite ? &out->v.rewritten : nullptr, added);
  for (const auto &e : out->edits) {
    avsink_header_edit ce{};
    ce.size = sizeof(avsink_header_edit);
    ce.kind = e.kind == avsink::session::HeaderEdit::kChange ? AVSINK_HEADER_CHANGE
              : e.kind == avsink::session::HeaderEdit::kAdd  ? AVSINK_HEADER_ADD
                                                             : AVSINK_HEADER_DELETE;
    ce.name = e.name.c_str();
    ce.index = e.index;
    ce.value = e.value.c_str();
    out->c_edits.push_back(ce);
  }
  if (rewrite) (void)avsink::session::split_message(out->v.rewritten, &out->rewritten_body);
  out->kinds.reserve(out->v.findings.size());
  for (const auto &f : out->v.findings) out->kinds.emplace_back(to_string(f.kind));
  for (size_t i = 0; i < out->v.findings.size(); ++i) {
    const auto &f = out->v.findings[i];
    avsink_finding cf{};
    cf.size = sizeof(avsink_finding);
    cf.kind = out->kinds[i].c_str();
    cf.inspector = f.inspector.c_str();
    cf.name = f.name.c_str();
    cf.part_path = f.part_path.c_str();
    cf.filename = f.filename.c_str();
    cf.detail = f.detail.c_str();
    out->findings.push_back(cf);
  }
  for (const auto &r : out->v.recipients) {
    avsink_recipient_verdict cr{};
    cr.size = sizeof(avsink_recipient_verdict);
    cr.address = r.address.c_str();
    cr.policy = r.policy.c_str();
    cr.action = static_cast<avsink_action>(r.action);
    cr.smtp_code = r.smtp_code;
    cr.enhanced_status = r.enhanced_status.c_str();
    cr.text = r.text.c_str();
    cr.reason = r.reason.c_str();
    out->recipients.push_back(cr);
  }
  return out;
}

// Scans one whole message, `kept` (at most max_message_bytes of the `total` sent), and keeps the
// verdict on `scan`; the one ending of avsink_scan_end and avsink_scan_buffer. `kept` is read only
// during the call. A failure is counted as a tempfail and leaves the scan failed.
template <typename Kept>  // () -> avsink::Result<std::string_view>
avsink_status finish_scan(const avsink_verdict **out, avsink_scan *scan, const Kept &kept,
                          uint64_t total) {
  scan->state = avsink_scan::State::kEnded;
  avsink_status st = guard(&scan->errmsg, [&]() -> avsink_status {
    auto bytes = kept();
    if (!bytes) {
      scan->errmsg = bytes.error().describe();
      return status_of(bytes.error().code);
    }
    avsink::session::RawMessage raw{*bytes, total};
    auto v = scan->engine->scanner->scan(scan->envelope, raw);
    if (!v) {
      scan->errmsg = v.error().describe();
      return status_of(v.error().code);
    }
    scan->verdict = wrap_verdict(std::move(v.value()), *bytes);
    *out = scan->verdict.get();
    return AVSINK_OK;
  });
  if (st != AVSINK_OK) {
    scan->state = avsink_scan::State::kFailed;
    scan->engine->scanner->count_tempfail("scan_failed");  // the adapter must tempfail it
  }
  return st;
}

}  // namespace

extern "C" {

uint32_t avsink_abi_version(void) {
  return (AVSINK_ABI_MAJOR << 16) | AVSINK_ABI_MINOR;
}

const char *avsink_version_string(void) {
  return AVSINK_VERSION_STRING;
}

const char *avsink_action_name(avsink_action action) {
  switch (action) {
    case AVSINK_ACTION_ACCEPT:
      return "accept";
    case AVSINK_ACTION_REJECT:
      return "reject";
    case AVSINK_ACTION_TEMPFAIL:
      return "tempfail";
    case AVSINK_ACTION_QUARANTINE:
      return "quarantine";
    case AVSINK_ACTION_DISCARD:
      return "discard";
    case AVSINK_ACTION_REWRITE:
      return "rewrite";
    default:
      return "unknown action";
  }
}

avsink_status avsink_engine_open(avsink_engine **out, const avsink_engine_options *opts,
                                 avsink_error *err) {
  if (out == nullptr) {
    fill_error(err, avsink::make_error(avsink::ErrorCode::kInvalidArgument, "out is NULL"));
    return AVSINK_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  avsink_status st = guard(&msg, [&]() -> avsink_status {
    avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
    if (opts != nullptr) std::memcpy(&o, opts, std::min(opts->size, sizeof o));
    avsink::Config cfg;
    if (o.config_path != nullptr && *o.config_path != '\0') {
      auto c = avsink::load_config(o.config_path);
      if (!c) {
        fill_error(err, c.error());
        return status_of(c.error().code == avsink::ErrorCode::kIo ? c.error().code
                                                                  : avsink::ErrorCode::kConfig);
      }
      cfg = std::move(c.value());
    }
    avsink::Logger logger;
    if (o.log != nullptr) {
      avsink_log_fn fn = o.log;
      void *payload = o.log_payload;
      logger = avsink::Logger(
          [fn, payload](avsink::LogLevel l, const std::string &m) {
            fn(payload, static_cast<avsink_log_level>(l), m.c_str());
          },
          to_level(o.log_level));
    }
    auto scanner =
        avsink::session::Scanner::open(cfg, std::move(logger), (o.flags & AVSINK_ENGINE_DRY_RUN));
    if (!scanner) {
      fill_error(err, scanner.error());
      return status_of(scanner.error().code);
    }
    auto engine = std::make_unique<avsink_engine>();
    engine->scanner = std::move(scanner.value());
    engine->serial = register_engine();
    *out = engine.release();
    return AVSINK_OK;
  });
  if (st != AVSINK_OK && !msg.empty())
    fill_error(err, avsink::make_error(avsink::ErrorCode::kInternal, msg));
  return st;
}

avsink_status avsink_engine_reload(avsink_engine *engine, avsink_error *err) {
  if (engine == nullptr) return AVSINK_EINVAL;
  std::string msg;
  avsink_status st = guard(&msg, [&]() -> avsink_status {
    auto r = engine->scanner->reload();
    if (!r) {
      fill_error(err, r.error());
      return status_of(r.error().code);
    }
    return AVSINK_OK;
  });
  if (st != AVSINK_OK && !msg.empty())
    fill_error(err, avsink::make_error(avsink::ErrorCode::kInternal, msg));
  return st;
}

avsink_status avsink_engine_info(const char **json_out, avsink_engine *engine) {
  if (json_out == nullptr || engine == nullptr) return AVSINK_EINVAL;
  return guard(nullptr, [&]() -> avsink_status {
    *json_out = thread_string(engine, ThreadString::kInfo, engine->scanner->info_json());
    return AVSINK_OK;
  });
}

avsink_status avsink_engine_info_dup(char **json_out, avsink_engine *engine) {
  if (json_out == nullptr) return AVSINK_EINVAL;
  *json_out = nullptr;
  if (engine == nullptr) return AVSINK_EINVAL;
  return guard(nullptr, [&]() -> avsink_status {
    const std::string info = engine->scanner->info_json();
    char *copy = static_cast<char *>(std::malloc(info.size() + 1));
    if (copy == nullptr) return AVSINK_ENOMEM;
    std::memcpy(copy, info.c_str(), info.size() + 1);
    *json_out = copy;
    return AVSINK_OK;
  });
}

void avsink_string_free(char *s) {
  std::free(s);
}

avsink_status avsink_engine_metrics(const char **text_out, avsink_engine *engine) {
  if (text_out == nullptr || engine == nullptr) return AVSINK_EINVAL;
  return guard(nullptr, [&]() -> avsink_status {
    *text_out = thread_string(engine, ThreadString::kMetrics, engine->scanner->metrics_text());
    return AVSINK_OK;
  });
}

avsink_status avsink_engine_health(int *healthy_out, const char **reasons_out,
                                   avsink_engine *engine) {
  if (healthy_out == nullptr || engine == nullptr) return AVSINK_EINVAL;
  return guard(nullptr, [&]() -> avsink_status {
    auto issues = engine->scanner->health();
    std::string text;
    for (const auto &i : issues) text += i.code + ": " + i.text + "\n";
    *healthy_out = issues.empty() ? 1 : 0;
    if (reasons_out != nullptr)
      *reasons_out = thread_string(engine, ThreadString::kHealth, std::move(text));
    return AVSINK_OK;
  });
}

avsink_status avsink_engine_count_tempfail(avsink_engine *engine, const char *cause) {
  if (engine == nullptr) return AVSINK_EINVAL;
  return guard(nullptr, [&]() -> avsink_status {
    engine->scanner->count_tempfail(cause != nullptr ? cause : "other");
    return AVSINK_OK;
  });
}

void avsink_engine_free(avsink_engine *engine) {
  if (engine != nullptr) unregister_engine(engine->serial);
  delete engine;
}

avsink_status avsink_scan_begin(avsink_scan **out, avsink_engine *engine,
                                const avsink_envelope *env) {
  if (out == nullptr || engine == nullptr) return AVSINK_EINVAL;
  *out = nullptr;
  return guard(nullptr, [&]() -> avsink_status {
    auto scan = std::make_unique<avsink_scan>();
    scan->engine = engine;
    scan->envelope = copy_envelope(env);
    const auto &cfg = engine->scanner->config();
    scan->spool = std::make_unique<avsink::Spool>(cfg.spool_dir, cfg.limits.spool_memory_bytes,
                                                  cfg.limits.max_message_bytes);
    *out = scan.release();
    return AVSINK_OK;
  });
}

avsink_status avsink_scan_write(avsink_scan *scan, const void *data, size_t len) {
  if (scan == nullptr || (data == nullptr && len > 0)) return AVSINK_EINVAL;
  if (scan->state != avsink_scan::State::kOpen) {
    scan->errmsg = "avsink_scan_write after the scan ended or failed";
    return AVSINK_ESTATE;
  }
  return guard(&scan->errmsg, [&]() -> avsink_status {
    auto r = scan->spool->append(std::string_view(static_cast<const char *>(data), len));
    if (!r) {
      scan->state = avsink_scan::State::kFailed;
      scan->errmsg = r.error().describe();
      return status_of(r.error().code);
    }
    return AVSINK_OK;
  });
}

avsink_status avsink_scan_end(const avsink_verdict **out, avsink_scan *scan) {
  if (out == nullptr || scan == nullptr) return AVSINK_EINVAL;
  *out = nullptr;
  if (scan->state != avsink_scan::State::kOpen) {
    scan->errmsg = "avsink_scan_end called twice or after a failed write";
    return AVSINK_ESTATE;
  }
  return finish_scan(
      out, scan, [&] { return scan->spool->view(); }, scan->spool->total_bytes());
}

avsink_status avsink_scan_buffer(const avsink_verdict **verdict_out, avsink_scan **scan_out,
                                 avsink_engine *engine, const avsink_envelope *env,
                                 const void *data, size_t len) {
  if (verdict_out == nullptr || scan_out == nullptr) return AVSINK_EINVAL;
  *verdict_out = nullptr;
  *scan_out = nullptr;
  if (data == nullptr && len > 0) return AVSINK_EINVAL;
  avsink_status st = avsink_scan_begin(scan_out, engine, env);
  if (st != AVSINK_OK) return st;
  // The caller's bytes are scanned where they are: they outlive this call, which is as long as
  // the scan reads them (the verdict keeps copies of what it reports). As avsink_scan_write
  // would, bytes past the message-size limit are counted and not read.
  const uint64_t limit = engine->scanner->config().limits.max_message_bytes;
  const std::string_view all(static_cast<const char *>(data), len);
  const std::string_view kept = all.substr(0, static_cast<size_t>(std::min<uint64_t>(len, limit)));
  return finish_scan(
      verdict_out, *scan_out, [&]() -> avsink::Result<std::string_view> { return kept; }, len);
}

const char *avsink_scan_errmsg(const avsink_scan *scan) {
  return scan == nullptr ? "" : scan->errmsg.c_str();
}

void avsink_scan_free(avsink_scan *scan) {
  delete scan;
}

avsink_action avsink_verdict_action(const avsink_verdict *verdict) {
  if (verdict == nullptr) return AVSINK_ACTION_TEMPFAIL;
  return static_cast<avsink_action>(verdict->v.action);
}

int avsink_verdict_smtp_code(const avsink_verdict *verdict) {
  return verdict == nullptr ? 451 : verdict->v.smtp_code;
}

const char *avsink_verdict_enhanced_status(const avsink_verdict *verdict) {
  return verdict == nullptr ? "4.7.1" : verdict->v.enhanced_status.c_str();
}

const char *avsink_verdict_text(const avsink_verdict *verdict) {
  return verdict == nullptr ? "" : verdict->v.text.c_str();
}

const char *avsink_verdict_reason(const avsink_verdict *verdict) {
  return verdict == nullptr ? "" : verdict->v.reason.c_str();
}

size_t avsink_verdict_finding_count(const avsink_verdict *verdict) {
  return verdict == nullptr ? 0 : verdict->findings.size();
}

const avsink_finding *avsink_verdict_finding(const avsink_verdict *verdict, size_t index) {
  if (verdict == nullptr || index >= verdict->findings.size()) return nullptr;
  return &verdict->findings[index];
}

size_t avsink_verdict_header_count(const avsink_verdict *verdict) {
  return verdict == nullptr ? 0 : verdict->v.headers.size();
}

avsink_status avsink_verdict_header(const char **name_out, const char **value_out,
                                    const avsink_verdict *verdict, size_t index) {
  if (name_out == nullptr || value_out == nullptr || verdict == nullptr ||
      index >= verdict->v.headers.size())
    return AVSINK_EINVAL;
  *name_out = verdict->v.headers[index].first.c_str();
  *value_out = verdict->v.headers[index].second.c_str();
  return AVSINK_OK;
}

const char *avsink_verdict_quarantine_id(const avsink_verdict *verdict) {
  return verdict == nullptr ? "" : verdict->v.quarantine_id.c_str();
}

avsink_status avsink_verdict_rewritten(const void **data_out, size_t *len_out,
                                       const avsink_verdict *verdict) {
  if (data_out == nullptr || len_out == nullptr || verdict == nullptr ||
      verdict->v.action != avsink::Action::kRewrite)
    return AVSINK_EINVAL;
  *data_out = verdict->v.rewritten.data();
  *len_out = verdict->v.rewritten.size();
  return AVSINK_OK;
}

size_t avsink_verdict_header_edit_count(const avsink_verdict *verdict) {
  return verdict == nullptr ? 0 : verdict->c_edits.size();
}

const avsink_header_edit *avsink_verdict_header_edit(const avsink_verdict *verdict, size_t index) {
  if (verdict == nullptr || index >= verdict->c_edits.size()) return nullptr;
  return &verdict->c_edits[index];
}

avsink_status avsink_verdict_rewritten_body(const void **data_out, size_t *len_out,
                                            const avsink_verdict *verdict) {
  if (data_out == nullptr || len_out == nullptr || verdict == nullptr ||
      verdict->v.action != avsink::Action::kRewrite)
    return AVSINK_EINVAL;
  *data_out = verdict->v.rewritten.data() + verdict->rewritten_body;
  *len_out = verdict->v.rewritten.size() - verdict->rewritten_body;
  return AVSINK_OK;
}

const char *avsink_verdict_json(const avsink_verdict *verdict) {
  return verdict == nullptr ? "{}" : verdict->v.json.c_str();
}

const char *avsink_verdict_policy(const avsink_verdict *verdict) {
  return verdict == nullptr ? "default" : verdict->v.policy.c_str();
}

size_t avsink_verdict_recipient_count(const avsink_verdict *verdict) {
  return verdict == nullptr ? 0 : verdict->recipients.size();
}

const avsink_recipient_verdict *avsink_verdict_recipient(const avsink_verdict *verdict,
                                                         size_t index) {
  if (verdict == nullptr || index >= verdict->recipients.size()) return nullptr;
  return &verdict->recipients[index];
}

avsink_status avsink_engine_policy(char *name_out, size_t name_len, avsink_engine *engine,
                                   const avsink_envelope *env, const char *rcpt) {
  if (name_out == nullptr || engine == nullptr || name_len == 0) return AVSINK_EINVAL;
  name_out[0] = '\0';
  return guard(nullptr, [&]() -> avsink_status {
    std::string name = engine->scanner->policy_for(copy_envelope(env), rcpt ? rcpt : "");
    if (name.size() + 1 > name_len) return AVSINK_EINVAL;
    std::memcpy(name_out, name.c_str(), name.size() + 1);
    return AVSINK_OK;
  });
}

uint32_t avsink_engine_policy_flags(avsink_engine *engine) {
  if (engine == nullptr) return 0;
  return engine->scanner->policies_by_recipient() ? AVSINK_POLICY_BY_RECIPIENT : 0u;
}

}  // extern "C"

// callbacks.cpp - xxfi_* callbacks: milter events -> avsink_scan_*, verdict -> SMFIS_* and edits.
// Fail closed: any status other than AVSINK_OK, or an edit the MTA refuses, tempfails with
// 451 4.7.1.
#include "callbacks.h"

#include <arpa/inet.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <syslog.h>

#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "message.h"

namespace avsink::milter {

namespace {

constexpr size_t kMaxRecipients = 100000;  // beyond this, recipients are counted only

// The state of one MTA connection, and of the message in progress on it.
struct Connection {
  // Negotiated with the MTA.
  unsigned long actions =
      SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_DELRCPT;
  unsigned long protocol = 0;
  bool counted = false;  // included in Runtime::active

  // Connection-wide envelope.
  std::string client_address, client_name, helo;

  // The message in progress; reset by reset_message() (MAIL FROM, abort, end of message).
  std::string mail_from, auth_user, queue_id;
  std::vector<std::string> rcpts;
  size_t rcpt_count = 0;
  std::string policy;  // the [[policy]] of the first recipient: the transaction's policy group
  avsink_scan *scan = nullptr;
  bool failed = false;  // a write or begin failed: the message is tempfailed at the next reply
  std::string failure;
  const char *failure_cause = "other";  // for avsink_tempfails_total{cause}
  uint64_t size = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  Connection() = default;
  Connection(const Connection &) = delete;  // owns an avsink_scan
  Connection &operator=(const Connection &) = delete;
  ~Connection() { avsink_scan_free(scan); }

  bool leadspc() const { return (protocol & SMFIP_HDR_LEADSPC) != 0; }

  void reset_message() {
    avsink_scan_free(scan);
    scan = nullptr;
    mail_from.clear();
    auth_user.clear();
    queue_id.clear();
    rcpts.clear();
    rcpt_count = 0;
    policy.clear();
    failed = false;
    failure.clear();
    failure_cause = "other";
    size = 0;
    started = std::chrono::steady_clock::now();
  }

  void fail(const std::string &why, const char *cause) {
    if (!failed) {
      failure = why;
      failure_cause = cause;
    }
    failed = true;
  }
};

std::string symval(SMFICTX *ctx, const char *name) {
  const char *v = smfi_getsymval(ctx, const_cast<char *>(name));
  return v != nullptr ? std::string(v) : std::string();
}

// The connection's state, created on first use (negotiate, or connect when the MTA skips it).
Connection *conn(SMFICTX *ctx) {
  auto *c = static_cast<Connection *>(smfi_getpriv(ctx));
  if (c != nullptr) return c;
  c = new (std::nothrow) Connection();
  if (c == nullptr) return nullptr;
  if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
    delete c;
    return nullptr;
  }
  Runtime &rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mu);
  ++rt.active;
  c->counted = true;
  return c;
}

void update_queue_id(SMFICTX *ctx, Connection *c) {
  std::string qid = symval(ctx, "i");
  if (!qid.empty()) c->queue_id = qid;
}

// Begins the scan once the envelope is complete (first header, end of headers, body or EOM).
bool ensure_begun(SMFICTX *ctx, Connection *c) {
  if (c->failed) return false;
  if (c->scan != nullptr) return true;
  update_queue_id(ctx, c);
  std::vector<const char *> rcpts;
  rcpts.reserve(c->rcpts.size());
  for (const auto &r : c->rcpts) rcpts.push_back(r.c_str());
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  env.client_address = c->client_address.empty() ? nullptr : c->client_address.c_str();
  env.client_name = c->client_name.empty() ? nullptr : c->client_name.c_str();
  env.helo = c->helo.empty() ? nullptr : c->helo.c_str();
  env.auth_user = c->auth_user.empty() ? nullptr : c->auth_user.c_str();
  env.mail_from = c->mail_from.c_str();
  env.rcpt_to = rcpts.data();
  env.rcpt_count = rcpts.size();
  env.queue_id = c->queue_id.empty() ? nullptr : c->queue_id.c_str();
  avsink_status st = avsink_scan_begin(&c->scan, runtime().engine, &env);
  if (st != AVSINK_OK) {
    c->scan = nullptr;
    c->fail(std::string("scan_begin: ") + avsink_strerror(st), "scan_begin");
    return false;
  }
  return true;
}

bool write_bytes(SMFICTX *ctx, Connection *c, const void *data, size_t len) {
  if (!ensure_begun(ctx, c)) return false;
  avsink_status st = avsink_scan_write(c->scan, data, len);
  if (st != AVSINK_OK) {
    c->fail(std::string("scan_write: ") + avsink_strerror(st) + ": " + avsink_scan_errmsg(c->scan),
            "scan_write");
    return false;
  }
  c->size += len;
  return true;
}

void set_reply(SMFICTX *ctx, int code, const std::string &enhanced, const std::string &text) {
  std::string rcode = std::to_string(code);
  std::string msg = reply_text(text);
  if (smfi_setreply(ctx, rcode.data(), const_cast<char *>(enhanced.c_str()), msg.data()) !=
      MI_SUCCESS)
    mlog(LOG_WARNING, "smfi_setreply %s %s failed; the MTA uses its default reply", rcode.c_str(),
         enhanced.c_str());
}

const char *qid_or_noqueue(const Connection *c) {
  return c->queue_id.empty() ? "NOQUEUE" : c->queue_id.c_str();
}

double elapsed_ms(const Connection *c) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c->started)
      .count();
}

// Every recipient, as the per-message line lists them: "<a>,<b>"; recipients past the kept
// kMaxRecipients are named by count, never silently left out.
std::string rcpt_list(const Connection *c) {
  std::string out;
  for (const auto &r : c->rcpts) out += (out.empty() ? "<" : ",<") + log_escape(r) + ">";
  if (c->rcpt_count > c->rcpts.size())
    out += " (+" + std::to_string(c->rcpt_count - c->rcpts.size()) + " more, not kept)";
  return out;
}

// --log-json: the message's line as one JSON object (invalid UTF-8 replaced, never escaped away).
void log_json_line(int prio, const nlohmann::json &j) {
  syslog(prio, "%s", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// The one line for a message that got no verdict; counted in avsink_tempfails_total{cause}.
// cause: null when the library counted it already (a failed avsink_scan_end: "scan_failed").
sfsistat tempfail_unscanned(SMFICTX *ctx, Connection *c, const std::string &why,
                            const char *cause) {
  set_reply(ctx, 451, "4.7.1", "avsink: message could not be scanned, try again later");
  if (cause != nullptr) avsink_engine_count_tempfail(runtime().engine, cause);
  if (cause == nullptr) cause = "scan_failed";
  if (runtime().options.log_json) {
    nlohmann::json j = {{"queue_id", qid_or_noqueue(c)},
                        {"action", "tempfail"},
                        {"smtp", "451 4.7.1"},
                        {"reason", why},
                        {"cause", cause},
                        {"mail_from", c->mail_from},
                        {"rcpt_to", c->rcpts},
                        {"client", c->client_address},
                        {"size", c->size},
                        {"ms", static_cast<int64_t>(elapsed_ms(c) * 1000) / 1000.0}};
    if (c->rcpt_count > c->rcpts.size()) j["rcpt_not_kept"] = c->rcpt_count - c->rcpts.size();
    log_json_line(LOG_ERR, j);
    return SMFIS_TEMPFAIL;
  }
  syslog(LOG_ERR,
         "%s: action=tempfail code=451 4.7.1 reason=\"%s\" from=<%s> to=%s client=%s size=%llu "
         "ms=%.1f",
         qid_or_noqueue(c), log_escape(why).c_str(), log_escape(c->mail_from).c_str(),
         rcpt_list(c).c_str(), log_escape(c->client_address).c_str(),
         static_cast<unsigned long long>(c->size), elapsed_ms(c));
  return SMFIS_TEMPFAIL;
}

// The one line for a message with a verdict: queue id, action, reason, sender, every
// recipient, client, size, time. `mta` is the quarantine mode used ("" when none).
void log_verdict(const Connection *c, const avsink_verdict *v, const char *action, int code,
                 const std::string &enhanced, const char *mta) {
  std::string qid = avsink_verdict_quarantine_id(v);
  if (runtime().options.log_json) {
    // avsink's record (envelope, findings, limits hit, time) plus what the MTA was told.
    nlohmann::json j = nlohmann::json::parse(avsink_verdict_json(v), nullptr, false);
    if (!j.is_object()) j = nlohmann::json::object();
    if (j.value("queue_id", "").empty()) j["queue_id"] = qid_or_noqueue(c);
    j["action"] = action;
    j["smtp"] = std::to_string(code) + " " + enhanced;
    if (*mta != '\0') j["mta"] = mta;
    if (c->rcpt_count > c->rcpts.size()) j["rcpt_not_kept"] = c->rcpt_count - c->rcpts.size();
    log_json_line(LOG_INFO, j);
    return;
  }
  syslog(LOG_INFO,
         "%s: action=%s code=%d %s reason=\"%s\" from=<%s> to=%s client=%s size=%llu "
         "ms=%.1f%s%s%s%s",
         qid_or_noqueue(c), action, code, enhanced.c_str(),
         log_escape(avsink_verdict_reason(v)).c_str(), log_escape(c->mail_from).c_str(),
         rcpt_list(c).c_str(), log_escape(c->client_address).c_str(),
         static_cast<unsigned long long>(c->size), elapsed_ms(c),
         qid.empty() ? "" : " quarantine=", log_escape(qid).c_str(), *mta ? " mta=" : "", mta);
}

// Adds the verdict's headers, except those a header edit already adds (a REWRITE's block).
bool add_verdict_headers(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  size_t n = avsink_verdict_header_count(v);
  for (size_t i = 0; i < n; ++i) {
    const char *name = nullptr, *value = nullptr;
    if (avsink_verdict_header(&name, &value, v, i) != AVSINK_OK) return false;
    std::string val = milter_header_value(value, c->leadspc());
    bool present = false;
    for (size_t k = 0, m = avsink_verdict_header_edit_count(v); k < m; ++k) {
      const avsink_header_edit *e = avsink_verdict_header_edit(v, k);
      present |= e != nullptr && e->kind == AVSINK_HEADER_ADD && strcasecmp(e->name, name) == 0 &&
                 milter_header_value(e->value, false) == milter_header_value(value, false);
    }
    if (present) continue;
    if (!(c->actions & SMFIF_ADDHDRS)) return false;
    if (smfi_addheader(ctx, const_cast<char *>(name), val.data()) != MI_SUCCESS) return false;
  }
  return true;
}

// Applies the verdict's header edits (avsink_verdict_header_edit): the rewritten header block of a
// REWRITE, and the deletion of inbound copies of the headers avsink owns (forged scan results,
// release marks), so that only avsink's own copies, added next, reach the recipient. Returns "" on
// success, else why the MTA did not allow it.
std::string apply_header_edits(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  for (size_t i = 0, n = avsink_verdict_header_edit_count(v); i < n; ++i) {
    const avsink_header_edit *e = avsink_verdict_header_edit(v, i);
    if (e == nullptr) return "header edit missing";
    if (e->kind != AVSINK_HEADER_ADD && e->kind != AVSINK_HEADER_CHANGE &&
        e->kind != AVSINK_HEADER_DELETE)
      return "unknown header edit kind " + std::to_string(static_cast<int>(e->kind));
    if (!(c->actions & (e->kind == AVSINK_HEADER_ADD ? SMFIF_ADDHDRS : SMFIF_CHGHDRS)))
      return "the MTA does not allow header changes";
    std::string value = edit_value(e->value, c->leadspc());
    char *name = const_cast<char *>(e->name);
    int rc = MI_FAILURE;
    if (e->kind == AVSINK_HEADER_ADD)
      rc = smfi_addheader(ctx, name, value.data());
    else
      rc = smfi_chgheader(ctx, name, static_cast<int>(e->index),
                          e->kind == AVSINK_HEADER_DELETE ? nullptr : value.data());
    if (rc != MI_SUCCESS) return std::string("header edit of ") + e->name + " failed";
  }
  return "";
}

// Header edits, then the verdict's own headers (accept, hold). False when the MTA refused.
bool set_headers(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  return apply_header_edits(ctx, c, v).empty() && add_verdict_headers(ctx, c, v);
}

// REWRITE: the new body replaces the MTA's, the header edits make the rewritten header block.
// Returns "" on success, else why it could not be applied.
std::string apply_rewrite(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  const void *data = nullptr;
  size_t len = 0;
  if (avsink_verdict_rewritten_body(&data, &len, v) != AVSINK_OK || data == nullptr)
    return "no rewritten message in the verdict";
  if (!(c->actions & SMFIF_CHGBODY)) return "the MTA does not allow body replacement";
  auto *body = static_cast<unsigned char *>(const_cast<void *>(data));
  size_t left = len;
  do {  // at least one call, so an empty new body still replaces the old one
    int n = static_cast<int>(std::min<size_t>(left, 1 << 30));
    if (smfi_replacebody(ctx, body, n) != MI_SUCCESS) return "smfi_replacebody failed";
    body += n;
    left -= static_cast<size_t>(n);
  } while (left > 0);
  return apply_header_edits(ctx, c, v);
}

bool delivers(avsink_action a) {
  return a == AVSINK_ACTION_ACCEPT || a == AVSINK_ACTION_REWRITE;
}

// Per-recipient verdicts that differ (recipients of several policies in one transaction, e.g.
// with --no-recipient-split). Recipients whose verdict keeps the message from them silently
// (quarantine, discard) are removed with smfi_delrcpt, and the others get the message. A refusal
// (reject, tempfail) cannot be told to one recipient at end of message, so then the message-level
// verdict (the strictest) applies to all: fail closed. Returns the action to apply to the
// remaining recipients, or the message-level action when nothing was split.
avsink_action split_recipients(SMFICTX *ctx, Connection *c, const avsink_verdict *v,
                               std::string *note) {
  const avsink_action message = avsink_verdict_action(v);
  const size_t n = avsink_verdict_recipient_count(v);
  bool any_deliver = false, any_refuse = false, differ = false;
  avsink_action deliver_action = AVSINK_ACTION_ACCEPT;
  for (size_t i = 0; i < n; ++i) {
    const avsink_recipient_verdict *r = avsink_verdict_recipient(v, i);
    if (r == nullptr) return message;
    differ |= r->action != message;
    if (delivers(r->action)) {
      any_deliver = true;
      if (r->action == AVSINK_ACTION_REWRITE) deliver_action = AVSINK_ACTION_REWRITE;
    }
    any_refuse |= r->action == AVSINK_ACTION_REJECT || r->action == AVSINK_ACTION_TEMPFAIL;
  }
  if (!differ || !any_deliver) return message;
  if (any_refuse) {
    syslog(LOG_WARNING,
           "%s: recipients have different verdicts and some are refused; a refusal cannot be "
           "given per recipient at end of message, so all get %s (policy %s)",
           qid_or_noqueue(c), avsink_action_name(message), avsink_verdict_policy(v));
    return message;
  }
  if (deliver_action == AVSINK_ACTION_REWRITE && message != AVSINK_ACTION_REWRITE) {
    // The stripped copy is made only when the strip is the message's verdict.
    syslog(LOG_WARNING, "%s: a strip for some recipients and %s for others; all get %s",
           qid_or_noqueue(c), avsink_action_name(message), avsink_action_name(message));
    return message;
  }
  if (!(c->actions & SMFIF_DELRCPT)) {
    syslog(LOG_WARNING, "%s: the MTA does not allow removing recipients; all get %s",
           qid_or_noqueue(c), avsink_action_name(message));
    return message;
  }
  for (size_t i = 0; i < n; ++i) {
    const avsink_recipient_verdict *r = avsink_verdict_recipient(v, i);
    if (delivers(r->action)) continue;
    std::string addr = std::string("<") + r->address + ">";
    if (smfi_delrcpt(ctx, addr.data()) != MI_SUCCESS) {
      syslog(LOG_WARNING, "%s: smfi_delrcpt %s failed; all get %s", qid_or_noqueue(c),
             log_escape(addr).c_str(), avsink_action_name(message));
      return message;
    }
    *note += std::string(" rcpt=") + log_escape(addr) + ":" + avsink_action_name(r->action) + ":" +
             log_escape(r->policy);
  }
  return deliver_action;
}

sfsistat apply_verdict(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  std::string removed;
  const avsink_action action = split_recipients(ctx, c, v, &removed);
  if (!removed.empty()) {
    const char *what = delivers(action) ? "accept" : avsink_action_name(action);
    if (action == AVSINK_ACTION_ACCEPT && !set_headers(ctx, c, v))
      return tempfail_unscanned(ctx, c, "could not add headers (accept)", "mta_refused");
    if (action == AVSINK_ACTION_ACCEPT) {
      log_verdict(c, v, what, 250, "2.0.0", (" removed" + removed).c_str());
      return SMFIS_CONTINUE;
    }
  }
  const int code = avsink_verdict_smtp_code(v);
  const char *enh = avsink_verdict_enhanced_status(v);
  switch (action) {
    case AVSINK_ACTION_ACCEPT:
      if (!set_headers(ctx, c, v))
        return tempfail_unscanned(ctx, c, "could not add headers (accept)", "mta_refused");
      log_verdict(c, v, "accept", 250, "2.0.0", "");
      return SMFIS_CONTINUE;
    case AVSINK_ACTION_REJECT: {
      int rc = code >= 500 && code <= 599 ? code : 550;
      std::string e = enhanced_for(rc, enh, "5.7.1");
      set_reply(ctx, rc, e, avsink_verdict_text(v));
      log_verdict(c, v, "reject", rc, e, "");
      return SMFIS_REJECT;
    }
    case AVSINK_ACTION_TEMPFAIL: {
      int rc = code >= 400 && code <= 499 ? code : 451;
      std::string e = enhanced_for(rc, enh, "4.7.1");
      set_reply(ctx, rc, e, avsink_verdict_text(v));
      log_verdict(c, v, "tempfail", rc, e, "");
      return SMFIS_TEMPFAIL;
    }
    case AVSINK_ACTION_DISCARD:
      log_verdict(c, v, "discard", 250, "2.0.0", "");
      return SMFIS_DISCARD;
    case AVSINK_ACTION_QUARANTINE: {
      std::string id = avsink_verdict_quarantine_id(v);
      if (runtime().options.quarantine_mode == QuarantineMode::kHold) {
        std::string reason = reply_text(std::string("avsink ") + (id.empty() ? "-" : id) + ": " +
                                        avsink_verdict_reason(v));
        if (!(c->actions & SMFIF_QUARANTINE) || smfi_quarantine(ctx, reason.data()) != MI_SUCCESS)
          return tempfail_unscanned(ctx, c, "the MTA refused to hold the message", "mta_refused");
        if (!set_headers(ctx, c, v))
          return tempfail_unscanned(ctx, c, "could not add headers (hold)", "mta_refused");
        log_verdict(c, v, "quarantine", 250, "2.0.0", "hold");
        return SMFIS_CONTINUE;
      }
      // Discarding is only safe once avsink holds the copy; otherwise the mail would be lost.
      if (id.empty())
        return tempfail_unscanned(
            ctx, c,
            std::string("quarantine verdict without a stored copy: ") + avsink_verdict_reason(v),
            "scan_failed");
      log_verdict(c, v, "quarantine", 250, "2.0.0", "discard");
      return SMFIS_DISCARD;
    }
    case AVSINK_ACTION_REWRITE: {
      std::string why = apply_rewrite(ctx, c, v);
      if (why.empty() && !add_verdict_headers(ctx, c, v)) why = "could not add headers (rewrite)";
      if (!why.empty()) return tempfail_unscanned(ctx, c, "rewrite: " + why, "mta_refused");
      log_verdict(c, v, "rewrite", 250, "2.0.0",
                  removed.empty() ? "" : (" removed" + removed).c_str());
      return SMFIS_CONTINUE;
    }
    default:
      return tempfail_unscanned(ctx, c, "unknown verdict action " + std::to_string(action),
                                "other");
  }
}

// ---- the callbacks ----

// Recipients are grouped by [[policy]] at RCPT time (docs/policy.md "Per-recipient verdicts").
bool split_by_policy() {
  const Runtime &rt = runtime();
  return rt.options.recipient_split && rt.engine != nullptr &&
         (avsink_engine_policy_flags(rt.engine) & AVSINK_POLICY_BY_RECIPIENT) != 0;
}

// The answer to a step the MTA may have been told not to wait for (negotiated SMFIP_NR_* `flag`):
// SMFIS_NOREPLY then (libmilter must not send a reply the MTA does not read), else `r`. A failure
// in such a step is remembered in the connection and answered at end of message; a missing
// connection is answered there too (on_eom tempfails it).
sfsistat answer(const Connection *c, unsigned long flag, sfsistat r) {
  return c != nullptr && (c->protocol & flag) != 0 ? SMFIS_NOREPLY : r;
}

sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                      unsigned long *pf3) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                     SMFIF_QUARANTINE | SMFIF_DELRCPT | SMFIF_SETSYMLIST;
  // No reply to HELO, MAIL, RCPT, DATA, each header, end of headers or body chunk: the verdict
  // is given once, at end of message, so the MTA need not wait (a round trip saved per step;
  // a failure on the way is answered then). Header values with their leading space, so the
  // scanned bytes are the MTA's bytes.
  // With policies that select by recipient, RCPT is answered: a recipient of another policy
  // than the transaction's first is deferred there (on_envrcpt).
  const unsigned long want_protocol = SMFIP_HDR_LEADSPC | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                                      (split_by_policy() ? 0 : SMFIP_NR_RCPT) | SMFIP_NR_DATA |
                                      SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN;
  *pf0 = f0 & want_actions;
  *pf1 = f1 & want_protocol;
  *pf2 = 0;
  *pf3 = 0;
  c->actions = *pf0;
  c->protocol = *pf1;
  if (*pf0 & SMFIF_SETSYMLIST) {
    // The macros this milter reads, whatever milter_*_macros the MTA is configured with.
    smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char *>("{client_addr} {client_name} j _"));
    smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char *>("i {auth_authen} {auth_type}"));
    smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char *>("i"));
    smfi_setsymlist(ctx, SMFIM_DATA, const_cast<char *>("i"));
    smfi_setsymlist(ctx, SMFIM_EOH, const_cast<char *>("i"));
    smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char *>("i"));
  }
  return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  {
    Runtime &rt = runtime();
    std::lock_guard<std::mutex> lock(rt.mu);
    if (rt.active > rt.options.max_connections) {
      mlog(LOG_WARNING, "connection refused: %d connections (--max-connections %d)", rt.active,
           rt.options.max_connections);
      set_reply(ctx, 421, "4.3.2", "avsink: too busy, try again later");
      avsink_engine_count_tempfail(rt.engine, "too_busy");
      return SMFIS_TEMPFAIL;
    }
  }
  c->client_name = hostname != nullptr ? hostname : "";
  c->client_address = symval(ctx, "{client_addr}");
  if (c->client_address.empty() && hostaddr != nullptr) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (hostaddr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(hostaddr)->sin_addr, buf, sizeof buf);
    else if (hostaddr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6 *>(hostaddr)->sin6_addr, buf, sizeof buf);
    c->client_address = buf;
  }
  return SMFIS_CONTINUE;
}

sfsistat on_helo(SMFICTX *ctx, char *helohost) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  c->helo = helohost != nullptr ? helohost : "";
  return answer(c, SMFIP_NR_HELO, SMFIS_CONTINUE);
}

sfsistat on_envfrom(SMFICTX *ctx, char **argv) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  c->reset_message();  // a new transaction: nothing of the previous message survives
  c->mail_from = strip_angle(argv != nullptr && argv[0] != nullptr ? argv[0] : "");
  c->auth_user = symval(ctx, "{auth_authen}");
  update_queue_id(ctx, c);
  return answer(c, SMFIP_NR_MAIL, SMFIS_CONTINUE);
}

sfsistat on_envrcpt(SMFICTX *ctx, char **argv) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  std::string rcpt = strip_angle(argv != nullptr && argv[0] != nullptr ? argv[0] : "");
  update_queue_id(ctx, c);
  if (!(c->protocol & SMFIP_NR_RCPT) && split_by_policy()) {
    // One policy group per transaction: a recipient of another policy than the first is
    // deferred with "too many recipients", which clients answer by sending it in a new
    // transaction (RFC 5321 4.5.3.1.10); its verdict is then its own, and any refusal reaches
    // the real sender as an SMTP reply.
    avsink_envelope env = AVSINK_ENVELOPE_INIT;
    env.client_address = c->client_address.c_str();
    env.auth_user = c->auth_user.c_str();
    env.mail_from = c->mail_from.c_str();
    char name[128];
    if (avsink_engine_policy(name, sizeof name, runtime().engine, &env, rcpt.c_str()) != AVSINK_OK)
      return tempfail_unscanned(ctx, c, "no policy for a recipient", "other");
    if (c->rcpt_count == 0) {
      c->policy = name;
    } else if (c->policy != name) {
      set_reply(ctx, 452, "4.5.3",
                "avsink: recipient under another policy, send it in a separate transaction");
      syslog(LOG_INFO, "%s: rcpt=<%s> deferred: policy %s, this transaction has policy %s",
             qid_or_noqueue(c), log_escape(rcpt).c_str(), log_escape(name).c_str(),
             log_escape(c->policy).c_str());
      return SMFIS_TEMPFAIL;
    }
  }
  ++c->rcpt_count;
  if (c->rcpts.size() < kMaxRecipients) c->rcpts.push_back(std::move(rcpt));
  return answer(c, SMFIP_NR_RCPT, SMFIS_CONTINUE);
}

sfsistat on_data(SMFICTX *ctx) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  update_queue_id(ctx, c);
  return answer(c, SMFIP_NR_DATA, SMFIS_CONTINUE);
}

sfsistat on_header(SMFICTX *ctx, char *name, char *value) {
  Connection *c = conn(ctx);
  const bool noreply = c != nullptr && (c->protocol & SMFIP_NR_HDR);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  std::string bytes =
      header_bytes(name != nullptr ? name : "", value != nullptr ? value : "", c->leadspc());
  bool ok = write_bytes(ctx, c, bytes.data(), bytes.size());
  if (noreply) return SMFIS_NOREPLY;  // a failure is answered at end of headers
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure, c->failure_cause);
}

sfsistat on_eoh(SMFICTX *ctx) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  const bool ok = write_bytes(ctx, c, "\r\n", 2);
  if (c->protocol & SMFIP_NR_EOH) return SMFIS_NOREPLY;  // a failure is answered at end of message
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure, c->failure_cause);
}

sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len) {
  Connection *c = conn(ctx);
  const bool noreply = c != nullptr && (c->protocol & SMFIP_NR_BODY);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  bool ok = write_bytes(ctx, c, chunk, len);
  if (noreply) return SMFIS_NOREPLY;  // a failure is answered at end of message
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure, c->failure_cause);
}

sfsistat on_eom(SMFICTX *ctx) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  update_queue_id(ctx, c);
  sfsistat r;
  if (!ensure_begun(ctx, c)) {
    r = tempfail_unscanned(ctx, c, c->failure, c->failure_cause);
  } else if (c->failed) {
    r = tempfail_unscanned(ctx, c, c->failure, c->failure_cause);
  } else {
    const avsink_verdict *v = nullptr;
    avsink_status st = avsink_scan_end(&v, c->scan);
    if (st != AVSINK_OK)
      r = tempfail_unscanned(
          ctx, c,
          std::string("scan_end: ") + avsink_strerror(st) + ": " + avsink_scan_errmsg(c->scan),
          nullptr);  // avsink_scan_end counted it (scan_failed)
    else
      r = apply_verdict(ctx, c, v);
  }
  c->reset_message();
  return r;
}

sfsistat on_abort(SMFICTX *ctx) {
  auto *c = static_cast<Connection *>(smfi_getpriv(ctx));
  if (c != nullptr) c->reset_message();
  return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX *ctx) {
  auto *c = static_cast<Connection *>(smfi_getpriv(ctx));
  if (c == nullptr) return SMFIS_CONTINUE;
  smfi_setpriv(ctx, nullptr);
  bool counted = c->counted;
  delete c;
  if (counted) {
    Runtime &rt = runtime();
    std::lock_guard<std::mutex> lock(rt.mu);
    if (--rt.active == 0) rt.drained.notify_all();
  }
  return SMFIS_CONTINUE;
}

smfiDesc g_description = {
    const_cast<char *>("avsink"),
    SMFI_VERSION,
    SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_DELRCPT,
    on_connect,
    on_helo,
    on_envfrom,
    on_envrcpt,
    on_header,
    on_eoh,
    on_body,
    on_eom,
    on_abort,
    on_close,
    nullptr,  // unknown
    on_data,
    on_negotiate,
};

}  // namespace

Runtime &runtime() {
  static Runtime rt;
  return rt;
}

smfiDesc *filter_description() {
  return &g_description;
}

bool wait_for_drain(int seconds) {
  Runtime &rt = runtime();
  std::unique_lock<std::mutex> lock(rt.mu);
  return rt.drained.wait_for(lock, std::chrono::seconds(seconds), [&] { return rt.active == 0; });
}

void engine_log(void *, avsink_log_level level, const char *message) {
  int prio = LOG_INFO;
  switch (level) {
    case AVSINK_LOG_DEBUG:
      prio = LOG_DEBUG;
      break;
    case AVSINK_LOG_INFO:
      prio = LOG_INFO;
      break;
    case AVSINK_LOG_WARN:
      prio = LOG_WARNING;
      break;
    case AVSINK_LOG_ERROR:
      prio = LOG_ERR;
      break;
    case AVSINK_LOG_PANIC:
      prio = LOG_CRIT;
      break;
    default:
      prio = LOG_WARNING;
      break;
  }
  mlog(prio, "engine: %s", message != nullptr ? message : "");
}

void mlog(int prio, const char *fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (!runtime().options.log_json) {
    syslog(prio, "%s", log_escape(buf).c_str());
    return;
  }
  const char *level = prio <= LOG_ERR       ? "error"
                      : prio == LOG_WARNING ? "warning"
                      : prio == LOG_DEBUG   ? "debug"
                                            : "info";
  log_json_line(prio, {{"level", level}, {"message", buf}});
}

}  // namespace avsink::milter

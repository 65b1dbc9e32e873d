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
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "message.h"

namespace avsink::milter {

namespace {

constexpr size_t kMaxKeptHeaderBytes = 1 << 20;  // header copy kept for REWRITE diffs
constexpr size_t kMaxRecipients = 100000;        // beyond this, recipients are counted only

// The state of one MTA connection, and of the message in progress on it.
struct Connection {
  // Negotiated with the MTA.
  unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE;
  unsigned long protocol = 0;
  bool counted = false;  // included in Runtime::active

  // Connection-wide envelope.
  std::string client_address, client_name, helo;

  // The message in progress; reset by reset_message() (MAIL FROM, abort, end of message).
  std::string mail_from, auth_user, queue_id;
  std::vector<std::string> rcpts;
  size_t rcpt_count = 0;
  avsink_scan *scan = nullptr;
  bool failed = false;  // a write or begin failed: the message is tempfailed at the next reply
  std::string failure;
  std::vector<HeaderField> headers;  // as received, for REWRITE header diffs
  size_t header_bytes = 0;
  bool headers_complete = true;           // false when the copy was capped
  std::vector<std::string> header_names;  // every header name, in order (never capped)
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
    failed = false;
    failure.clear();
    headers.clear();
    header_bytes = 0;
    headers_complete = true;
    header_names.clear();
    size = 0;
    started = std::chrono::steady_clock::now();
  }

  void fail(const std::string &why) {
    if (!failed) failure = why;
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
    c->fail(std::string("scan_begin: ") + avsink_strerror(st));
    return false;
  }
  return true;
}

bool write_bytes(SMFICTX *ctx, Connection *c, const void *data, size_t len) {
  if (!ensure_begun(ctx, c)) return false;
  avsink_status st = avsink_scan_write(c->scan, data, len);
  if (st != AVSINK_OK) {
    c->fail(std::string("scan_write: ") + avsink_strerror(st) + ": " + avsink_scan_errmsg(c->scan));
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
    syslog(LOG_WARNING, "smfi_setreply %s %s failed; the MTA uses its default reply", rcode.c_str(),
           enhanced.c_str());
}

const char *qid_or_noqueue(const Connection *c) {
  return c->queue_id.empty() ? "NOQUEUE" : c->queue_id.c_str();
}

double elapsed_ms(const Connection *c) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c->started)
      .count();
}

// The one syslog line for a message that got no verdict.
sfsistat tempfail_unscanned(SMFICTX *ctx, Connection *c, const std::string &why) {
  set_reply(ctx, 451, "4.7.1", "avsink: message could not be scanned, try again later");
  syslog(LOG_ERR,
         "%s: action=tempfail code=451 4.7.1 reason=\"%s\" from=<%s> rcpts=%zu client=%s "
         "size=%llu ms=%.1f",
         qid_or_noqueue(c), log_escape(why).c_str(), log_escape(c->mail_from).c_str(),
         c->rcpt_count, log_escape(c->client_address).c_str(),
         static_cast<unsigned long long>(c->size), elapsed_ms(c));
  return SMFIS_TEMPFAIL;
}

void log_verdict(const Connection *c, const avsink_verdict *v, const char *action, int code,
                 const std::string &enhanced, const char *note) {
  if (runtime().options.log_json) {
    syslog(LOG_INFO, "%s: %s", qid_or_noqueue(c), log_escape(avsink_verdict_json(v)).c_str());
    return;
  }
  std::string qid = avsink_verdict_quarantine_id(v);
  syslog(LOG_INFO,
         "%s: action=%s code=%d %s reason=\"%s\" from=<%s> rcpts=%zu client=%s size=%llu "
         "ms=%.1f%s%s%s",
         qid_or_noqueue(c), action, code, enhanced.c_str(),
         log_escape(avsink_verdict_reason(v)).c_str(), log_escape(c->mail_from).c_str(),
         c->rcpt_count, log_escape(c->client_address).c_str(),
         static_cast<unsigned long long>(c->size), elapsed_ms(c),
         qid.empty() ? "" : " quarantine=", log_escape(qid).c_str(), note);
}

// Adds the verdict's headers, except those the rewritten header block already carries.
bool add_verdict_headers(SMFICTX *ctx, Connection *c, const avsink_verdict *v,
                         const std::vector<HeaderField> &already) {
  size_t n = avsink_verdict_header_count(v);
  for (size_t i = 0; i < n; ++i) {
    const char *name = nullptr, *value = nullptr;
    if (avsink_verdict_header(&name, &value, v, i) != AVSINK_OK) return false;
    std::string val = milter_header_value(value, c->leadspc());
    bool present = false;
    for (const auto &f : already)
      present |= strcasecmp(f.name.c_str(), name) == 0 &&
                 milter_header_value(f.value, false) == milter_header_value(value, false);
    if (present) continue;
    if (!(c->actions & SMFIF_ADDHDRS)) return false;
    if (smfi_addheader(ctx, const_cast<char *>(name), val.data()) != MI_SUCCESS) return false;
  }
  return true;
}

// The names of the headers the verdict adds (the configured scanned/status header names).
std::vector<std::string> verdict_header_names(const avsink_verdict *v) {
  std::vector<std::string> out;
  for (size_t i = 0, n = avsink_verdict_header_count(v); i < n; ++i) {
    const char *name = nullptr, *value = nullptr;
    if (avsink_verdict_header(&name, &value, v, i) == AVSINK_OK && name != nullptr)
      out.emplace_back(name);
  }
  return out;
}

// Removes every inbound header avsink owns (forged scan results, release marks): only avsink's
// own copies, added next, reach the recipient. False when the MTA does not allow it.
bool remove_owned_headers(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  for (const auto &e : owned_header_deletes(c->header_names, verdict_header_names(v))) {
    if (!(c->actions & SMFIF_CHGHDRS)) return false;
    if (smfi_chgheader(ctx, const_cast<char *>(e.name.c_str()), e.index, nullptr) != MI_SUCCESS)
      return false;
  }
  return true;
}

// REWRITE: the body after the first empty line replaces the MTA's body; top headers are diffed.
// Returns "" on success, else why it could not be applied.
std::string apply_rewrite(SMFICTX *ctx, Connection *c, const avsink_verdict *v,
                          std::vector<HeaderField> *new_headers) {
  const void *data = nullptr;
  size_t len = 0;
  if (avsink_verdict_rewritten(&data, &len, v) != AVSINK_OK || data == nullptr)
    return "no rewritten message in the verdict";
  if (!(c->actions & SMFIF_CHGBODY)) return "the MTA does not allow body replacement";
  std::string_view msg(static_cast<const char *>(data), len);
  size_t body_at = 0;
  *new_headers = split_message(msg, &body_at);
  auto *body = reinterpret_cast<unsigned char *>(const_cast<char *>(msg.data() + body_at));
  size_t left = len - body_at;
  do {  // at least one call, so an empty new body still replaces the old one
    int n = static_cast<int>(std::min<size_t>(left, 1 << 30));
    if (smfi_replacebody(ctx, body, n) != MI_SUCCESS) return "smfi_replacebody failed";
    body += n;
    left -= static_cast<size_t>(n);
  } while (left > 0);
  std::vector<HeaderEdit> edits;
  if (c->headers_complete) {
    // The inbound copies of avsink's headers are not carried over (the diff deletes them).
    *new_headers =
        drop_inbound_owned(c->header_names, std::move(*new_headers), verdict_header_names(v));
    edits = diff_headers(c->headers, *new_headers, c->leadspc());
  } else {
    if (!remove_owned_headers(ctx, c, v)) return "could not remove inbound avsink headers";
    syslog(LOG_WARNING, "%s: header copy capped at %zu bytes; only adding rewritten headers",
           qid_or_noqueue(c), kMaxKeptHeaderBytes);
  }
  for (const auto &e : edits) {
    if (!(c->actions & (e.kind == HeaderEdit::kAdd ? SMFIF_ADDHDRS : SMFIF_CHGHDRS)))
      return "the MTA does not allow header changes";
    int rc = MI_FAILURE;
    std::string value = e.value;
    if (e.kind == HeaderEdit::kAdd)
      rc = smfi_addheader(ctx, const_cast<char *>(e.name.c_str()), value.data());
    else
      rc = smfi_chgheader(ctx, const_cast<char *>(e.name.c_str()), e.index,
                          e.kind == HeaderEdit::kDelete ? nullptr : value.data());
    if (rc != MI_SUCCESS) return "header edit of " + e.name + " failed";
  }
  return "";
}

sfsistat apply_verdict(SMFICTX *ctx, Connection *c, const avsink_verdict *v) {
  const avsink_action action = avsink_verdict_action(v);
  const int code = avsink_verdict_smtp_code(v);
  const char *enh = avsink_verdict_enhanced_status(v);
  switch (action) {
    case AVSINK_ACTION_ACCEPT:
      if (!remove_owned_headers(ctx, c, v) || !add_verdict_headers(ctx, c, v, {}))
        return tempfail_unscanned(ctx, c, "could not add headers (accept)");
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
          return tempfail_unscanned(ctx, c, "the MTA refused to hold the message");
        if (!remove_owned_headers(ctx, c, v) || !add_verdict_headers(ctx, c, v, {}))
          return tempfail_unscanned(ctx, c, "could not add headers (hold)");
        log_verdict(c, v, "quarantine", 250, "2.0.0", " mta=hold");
        return SMFIS_CONTINUE;
      }
      // Discarding is only safe once avsink holds the copy; otherwise the mail would be lost.
      if (id.empty())
        return tempfail_unscanned(
            ctx, c,
            std::string("quarantine verdict without a stored copy: ") + avsink_verdict_reason(v));
      log_verdict(c, v, "quarantine", 250, "2.0.0", " mta=discard");
      return SMFIS_DISCARD;
    }
    case AVSINK_ACTION_REWRITE: {
      std::vector<HeaderField> new_headers;
      std::string why = apply_rewrite(ctx, c, v, &new_headers);
      if (why.empty() && !add_verdict_headers(ctx, c, v, new_headers))
        why = "could not add headers (rewrite)";
      if (!why.empty()) return tempfail_unscanned(ctx, c, "rewrite: " + why);
      log_verdict(c, v, "rewrite", 250, "2.0.0", "");
      return SMFIS_CONTINUE;
    }
    default:
      return tempfail_unscanned(ctx, c, "unknown verdict action " + std::to_string(action));
  }
}

// ---- the callbacks ----

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
  const unsigned long want_actions =
      SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
  // No reply to HELO, MAIL, RCPT, DATA, each header, end of headers or body chunk: the verdict
  // is given once, at end of message, so the MTA need not wait (a round trip saved per step;
  // a failure on the way is answered then). Header values with their leading space, so the
  // scanned bytes are the MTA's bytes.
  const unsigned long want_protocol = SMFIP_HDR_LEADSPC | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                                      SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH |
                                      SMFIP_NR_BODY | SMFIP_NOUNKNOWN;
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
      syslog(LOG_WARNING, "connection refused: %d connections (--max-connections %d)", rt.active,
             rt.options.max_connections);
      set_reply(ctx, 421, "4.3.2", "avsink: too busy, try again later");
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
  ++c->rcpt_count;
  if (c->rcpts.size() < kMaxRecipients)
    c->rcpts.push_back(strip_angle(argv != nullptr && argv[0] != nullptr ? argv[0] : ""));
  update_queue_id(ctx, c);
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
  if (ok) c->header_names.emplace_back(name != nullptr ? name : "");
  if (ok && c->headers_complete) {
    c->header_bytes += bytes.size();
    if (c->header_bytes > kMaxKeptHeaderBytes) {
      c->headers_complete = false;
      c->headers.clear();
    } else {
      c->headers.push_back(
          HeaderField{name != nullptr ? name : "", normalize_value(value ? value : "")});
    }
  }
  if (noreply) return SMFIS_NOREPLY;  // a failure is answered at end of headers
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure);
}

sfsistat on_eoh(SMFICTX *ctx) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  const bool ok = write_bytes(ctx, c, "\r\n", 2);
  if (c->protocol & SMFIP_NR_EOH) return SMFIS_NOREPLY;  // a failure is answered at end of message
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure);
}

sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len) {
  Connection *c = conn(ctx);
  const bool noreply = c != nullptr && (c->protocol & SMFIP_NR_BODY);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  bool ok = write_bytes(ctx, c, chunk, len);
  if (noreply) return SMFIS_NOREPLY;  // a failure is answered at end of message
  return ok ? SMFIS_CONTINUE : tempfail_unscanned(ctx, c, c->failure);
}

sfsistat on_eom(SMFICTX *ctx) {
  Connection *c = conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  update_queue_id(ctx, c);
  sfsistat r;
  if (!ensure_begun(ctx, c)) {
    r = tempfail_unscanned(ctx, c, c->failure);
  } else if (c->failed) {
    r = tempfail_unscanned(ctx, c, c->failure);
  } else {
    const avsink_verdict *v = nullptr;
    avsink_status st = avsink_scan_end(&v, c->scan);
    if (st != AVSINK_OK)
      r = tempfail_unscanned(
          ctx, c,
          std::string("scan_end: ") + avsink_strerror(st) + ": " + avsink_scan_errmsg(c->scan));
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
    SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE,
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
  syslog(prio, "engine: %s", log_escape(message != nullptr ? message : "").c_str());
}

}  // namespace avsink::milter

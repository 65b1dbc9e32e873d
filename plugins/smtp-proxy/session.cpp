// session.cpp - the ESMTP server state machine of avsink-smtpd and its verdict mapping.
// Never 250 for a message that the next hop has not accepted (or avsink did not store): a crash at
// any point leaves the message with the sender. Any failure tempfails.
#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "header_edits.h"
#include "message.h"  // milter::log_escape, milter::enhanced_for
#include "protocol.h"
#include "smtp/client.h"

namespace avsink::smtpd {

namespace {

using Clock = std::chrono::steady_clock;
using Attrs = std::vector<std::pair<std::string, std::string>>;

struct Closed {};  // thrown inside a session to end it (never leaves serve_connection)

class Session {
 public:
  Session(int fd, const sockaddr_storage &peer, const Shared &sh)
      : fd_(fd), sh_(sh), o_(sh.options), started_(Clock::now()) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (peer.ss_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&peer)->sin_addr, buf, sizeof buf);
    else if (peer.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_addr, buf,
                sizeof buf);
    peer_addr_ = buf;
  }

  void run() {
    reply(220, "", sh_.hostname + " ESMTP avsink-smtpd");
    for (;;) {
      std::string line;
      size_t used = 0;
      LineResult r = take_line(in_, o_.max_line, &line, &used);
      if (r == LineResult::kNone) {
        flush();  // RFC 2920: replies go out once the pipelined group is read
        if (!read_more()) return;
        continue;
      }
      if (r == LineResult::kTooLong) {
        reply(500, "5.5.2", "line too long; closing");
        flush();
        return;
      }
      in_.erase(0, used);
      if (++commands_ > o_.max_commands) {
        reply(421, "4.7.0", "too many commands; closing");
        flush();
        return;
      }
      if (r == LineResult::kBareLf) {
        error(500, "5.5.2", "command lines must end with CRLF");
        continue;
      }
      if (!command(line)) {
        flush();
        return;
      }
    }
  }

  ~Session() {
    if (relay_.is_open()) relay_.quit();
  }

 private:
  // ---- I/O ----
  bool read_more() {
    for (;;) {
      auto now = Clock::now();
      auto total_left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            started_ + std::chrono::seconds(o_.total_timeout) - now)
                            .count();
      long wait_ms = std::min<long>(o_.idle_timeout * 1000L, total_left);
      if (wait_ms <= 0) {
        timeout_close("connection time limit reached");
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(wait_ms));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        timeout_close(total_left <= o_.idle_timeout * 1000L ? "connection time limit reached"
                                                            : "idle timeout");
        return false;
      }
      if (n < 0) return false;
      char buf[65536];
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) return false;
      in_.append(buf, static_cast<size_t>(got));
      return true;
    }
  }

  void timeout_close(const char *why) {
    reply(421, "4.4.2", std::string(why) + "; closing");
    try {
      flush();
    } catch (const Closed &) {
    }
    syslog(LOG_INFO, "client %s: %s", peer_addr_.c_str(), why);
  }

  void flush() {
    std::string_view d = out_;
    while (!d.empty()) {
      pollfd p{fd_, POLLOUT, 0};
      int n = ::poll(&p, 1, o_.idle_timeout * 1000);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Closed{};
      ssize_t w = ::send(fd_, d.data(), d.size(), MSG_NOSIGNAL);
      if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (w < 0) throw Closed{};
      d.remove_prefix(static_cast<size_t>(w));
    }
    out_.clear();
  }

  // One reply; `lines` joined with '-' continuation. enh may be "" (greeting).
  void reply(int code, const std::string &enh, const std::string &text) {
    reply_lines(code, enh, {text});
  }
  void reply_lines(int code, const std::string &enh, const std::vector<std::string> &lines) {
    for (size_t i = 0; i < lines.size(); ++i) {
      out_ += std::to_string(code);
      out_ += i + 1 < lines.size() ? '-' : ' ';
      if (!enh.empty()) out_ += enh + " ";
      out_ += reply_text(lines[i]);
      out_ += "\r\n";
    }
    if (out_.size() > 65536) flush();  // a client that pipelines without reading is bounded
  }
  // A next hop's reply passed on as it is (its text carries its own enhanced code).
  void pass_reply(const smtp::Reply &r) {
    std::vector<std::string> lines = r.lines.empty() ? std::vector<std::string>{"-"} : r.lines;
    reply_lines(r.code, "", lines);
  }
  void error(int code, const char *enh, const std::string &text) {
    reply(code, enh, text);
    if (++errors_ >= o_.max_errors) {
      reply(421, "4.7.0", "too many errors; closing");
      flush();
      throw Closed{};
    }
  }

  // ---- the transaction ----
  void reset_transaction() {
    in_mail_ = false;
    mail_from_.clear();
    mail_params_.clear();
    rcpts_.clear();
    if (o_.mode == Mode::kBeforeQueue && relay_.is_open() && relay_in_mail_) {
      smtp::Reply r;
      if (!relay_.command("RSET", &r) || !r.ok()) relay_.close();
    }
    relay_in_mail_ = false;
  }

  std::string client_address() const { return attr("ADDR", peer_addr_); }
  std::string attr(const char *name, const std::string &dflt) const {
    for (const auto &[k, v] : attrs_)
      if (k == name) return v;
    return dflt;
  }

  // Opens the next hop (if needed) and starts MAIL FROM. Returns false with *r the reply to give.
  bool relay_mail(smtp::Reply *r, std::string *enh, std::string *text) {
    if (!relay_.is_open()) {
      smtp::Reply refusal;
      if (!relay_.open(o_.next_host, o_.next_port, o_.next_lmtp, sh_.hostname,
                       o_.relay_timeout * 1000, &refusal)) {
        *r = smtp::Reply{};
        r->code = 451;
        *enh = "4.4.1";
        *text = "next hop unavailable, try again later";
        syslog(LOG_WARNING, "next hop %s:%u: %s", o_.next_host.c_str(), o_.next_port,
               relay_.error().c_str());
        return false;
      }
    }
    if (!attrs_.empty() && relay_.offers("XFORWARD")) {
      std::string line = "XFORWARD";
      for (const auto &[k, v] : attrs_) {
        if (k != "NAME" && k != "ADDR" && k != "HELO" && k != "PROTO" && k != "IDENT" &&
            k != "SOURCE" && k != "PORT")
          continue;
        std::string enc;
        for (unsigned char c : v.empty() ? std::string("[UNAVAILABLE]") : v) {
          if (c < 0x21 || c > 0x7e || c == '+' || c == '=') {
            char hx[4];
            std::snprintf(hx, sizeof hx, "+%02X", c);
            enc += hx;
          } else {
            enc.push_back(static_cast<char>(c));
          }
        }
        line += " " + k + "=" + enc;
      }
      smtp::Reply xr;
      if (!relay_.command(line, &xr)) return relay_failed(r, enh, text);
    }
    std::string cmd = "MAIL FROM:<" + mail_from_ + ">";
    for (const auto &[k, v] : mail_params_) {
      if (k == "SIZE" && relay_.offers("SIZE")) cmd += " SIZE=" + v;
      if (k == "BODY" && relay_.offers("8BITMIME")) cmd += " BODY=" + v;
      if (k == "SMTPUTF8") {
        if (!relay_.offers("SMTPUTF8")) {
          r->code = 0;
          *r = smtp::Reply{};
          r->code = 553;
          *enh = "5.6.7";
          *text = "next hop does not support SMTPUTF8";
          return false;
        }
        cmd += " SMTPUTF8";
      }
    }
    if (!relay_.command(cmd, r)) return relay_failed(r, enh, text);
    relay_in_mail_ = true;
    return r->ok();
  }

  bool relay_failed(smtp::Reply *r, std::string *enh, std::string *text) {
    syslog(LOG_WARNING, "next hop %s:%u: %s", o_.next_host.c_str(), o_.next_port,
           relay_.error().c_str());
    relay_.close();
    relay_in_mail_ = false;
    *r = smtp::Reply{};
    r->code = 451;
    *enh = "4.4.2";
    *text = "next hop failed, try again later";
    return false;
  }

  // ---- commands ----
  // Returns false to close the connection (after QUIT or a fatal error).
  bool command(const std::string &line) {
    size_t sp = line.find(' ');
    std::string verb = line.substr(0, sp);
    for (char &c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (verb == "EHLO" || verb == "HELO") {
      if (arg.empty()) {
        error(501, "5.5.4", "syntax: " + verb + " hostname");
        return true;
      }
      reset_transaction();
      helo_ = arg;
      if (verb == "HELO") {
        reply(250, "", sh_.hostname);
        return true;
      }
      std::vector<std::string> lines = {sh_.hostname, "PIPELINING",
                                        "SIZE " + std::to_string(o_.max_size), "8BITMIME",
                                        "SMTPUTF8"};
      if (o_.xforward) lines.push_back("XFORWARD NAME ADDR PROTO HELO IDENT SOURCE PORT");
      if (o_.xclient) lines.push_back("XCLIENT NAME ADDR PROTO HELO");
      lines.push_back("ENHANCEDSTATUSCODES");
      reply_lines(250, "", lines);
      return true;
    }
    if (verb == "QUIT") {
      reply(221, "2.0.0", "Bye");
      return false;
    }
    if (verb == "NOOP") {
      reply(250, "2.0.0", "Ok");
      return true;
    }
    if (verb == "RSET") {
      reset_transaction();
      reply(250, "2.0.0", "Ok");
      return true;
    }
    if (verb == "VRFY") {
      reply(252, "2.5.0", "Cannot VRFY user");
      return true;
    }
    if (verb == "HELP") {
      reply(214, "2.0.0", "avsink-smtpd: see RFC 5321");
      return true;
    }
    if ((verb == "XFORWARD" && o_.xforward) || (verb == "XCLIENT" && o_.xclient)) {
      if (in_mail_) {
        error(503, "5.5.1", verb + " not allowed in a transaction");
        return true;
      }
      Attrs a;
      std::string why = parse_attributes(arg, &a);
      if (!why.empty()) {
        error(501, "5.5.4", why);
        return true;
      }
      for (auto &kv : a) {
        bool replaced = false;
        for (auto &old : attrs_)
          if (old.first == kv.first) {
            old.second = kv.second;
            replaced = true;
          }
        if (!replaced) attrs_.push_back(kv);
      }
      if (verb == "XCLIENT") {
        // The session starts over as if that client had connected (RFC-less, Postfix's rule).
        helo_.clear();
        reply(220, "", sh_.hostname + " ESMTP avsink-smtpd");
      } else {
        reply(250, "2.0.0", "Ok");
      }
      return true;
    }
    if (verb == "MAIL") return mail(arg), true;
    if (verb == "RCPT") return rcpt(arg), true;
    if (verb == "DATA") return data(arg);
    if (verb == "BDAT" || verb == "STARTTLS" || verb == "AUTH" || verb == "ETRN" ||
        verb == "XFORWARD" || verb == "XCLIENT" || verb == "EXPN" || verb == "TURN") {
      error(502, "5.5.1", verb + " not implemented");
      return true;
    }
    error(500, "5.5.2", "command not recognized");
    return true;
  }

  void mail(const std::string &arg) {
    if (helo_.empty()) return error(503, "5.5.1", "send EHLO or HELO first");
    if (in_mail_) return error(503, "5.5.1", "nested MAIL command");
    PathArg p;
    std::string why = parse_path_arg(arg, "FROM", &p);
    if (!why.empty()) return error(501, "5.5.4", why);
    for (const auto &[k, v] : p.params) {
      if (k == "SIZE") {
        char *end = nullptr;
        unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0') return error(501, "5.5.4", "bad SIZE");
        if (n > o_.max_size) return error(552, "5.3.4", "message size exceeds the limit");
      } else if (k == "BODY") {
        if (strcasecmp(v.c_str(), "7BIT") != 0 && strcasecmp(v.c_str(), "8BITMIME") != 0)
          return error(501, "5.5.4", "BODY must be 7BIT or 8BITMIME");
      } else if (k == "SMTPUTF8") {
        if (!v.empty()) return error(501, "5.5.4", "SMTPUTF8 takes no value");
      } else {
        return error(555, "5.5.4", "unsupported MAIL parameter " + k);
      }
    }
    mail_from_ = p.address;
    mail_params_ = p.params;
    if (o_.mode == Mode::kBeforeQueue) {
      smtp::Reply r;
      std::string enh, text;
      if (!relay_mail(&r, &enh, &text)) {
        if (!enh.empty()) return error(r.code, enh.c_str(), text);
        pass_reply(r);
        if (r.code >= 400) ++errors_;
        return;
      }
      in_mail_ = true;
      pass_reply(r);
      return;
    }
    in_mail_ = true;
    reply(250, "2.1.0", "Ok");
  }

  void rcpt(const std::string &arg) {
    if (!in_mail_) return error(503, "5.5.1", "need MAIL before RCPT");
    PathArg p;
    std::string why = parse_path_arg(arg, "TO", &p);
    if (!why.empty()) return error(501, "5.5.4", why);
    if (p.address.empty()) return error(501, "5.1.3", "empty recipient");
    if (!p.params.empty()) return error(555, "5.5.4", "unsupported RCPT parameter");
    if (rcpts_.size() >= static_cast<size_t>(o_.max_rcpts))
      return error(452, "4.5.3", "too many recipients");
    if (o_.mode == Mode::kBeforeQueue) {
      smtp::Reply r;
      std::string enh, text;
      if (!relay_.command("RCPT TO:<" + p.address + ">", &r)) {
        relay_failed(&r, &enh, &text);
        reset_transaction();
        return error(r.code, enh.c_str(), text);
      }
      if (r.ok()) rcpts_.push_back(p.address);
      pass_reply(r);
      return;
    }
    rcpts_.push_back(p.address);
    reply(250, "2.1.5", "Ok");
  }

  // ---- DATA ----
  bool data(const std::string &arg) {
    if (!arg.empty()) return error(501, "5.5.4", "DATA takes no argument"), true;
    if (!in_mail_) return error(503, "5.5.1", "need MAIL before DATA"), true;
    if (rcpts_.empty()) return error(554, "5.5.1", "no valid recipients"), true;
    if (!in_.empty())
      syslog(LOG_NOTICE, "client %s: improper pipelining after DATA (%zu bytes before 354)",
             peer_addr_.c_str(), in_.size());
    reply(354, "", "End data with <CR><LF>.<CR><LF>");
    flush();
    auto t0 = Clock::now();
    DataReader dr(o_.max_size, o_.max_line - 2);
    for (;;) {
      size_t used = dr.feed(in_);
      in_.erase(0, used);
      if (dr.done()) break;
      if (!read_more()) {
        reset_transaction();
        return false;  // client gone or timed out mid-message: nothing was accepted
      }
    }
    finish_message(dr, t0);
    reset_transaction();
    return true;
  }

  void log_line(const char *action, int code, const std::string &enh, const std::string &reason,
                uint64_t size, Clock::time_point t0, const std::string &extra) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::string qid = attr("IDENT", "NOQUEUE");
    if (qid.empty()) qid = "NOQUEUE";
    syslog(LOG_INFO,
           "%s: action=%s code=%d %s reason=\"%s\" from=<%s> rcpts=%zu client=%s size=%llu "
           "ms=%.1f%s",
           milter::log_escape(qid).c_str(), action, code, enh.c_str(),
           milter::log_escape(reason).c_str(), milter::log_escape(mail_from_).c_str(),
           rcpts_.size(), milter::log_escape(client_address()).c_str(),
           static_cast<unsigned long long>(size), ms, milter::log_escape(extra).c_str());
  }

  void finish_message(DataReader &dr, Clock::time_point t0) {
    if (dr.bare_eol()) {
      reply(550, "5.6.0", "message refused: bare CR or LF (only CRLF line ends are accepted)");
      return log_line("refuse", 550, "5.6.0", "bare CR or LF", dr.size(), t0, "");
    }
    if (dr.oversize()) {
      reply(552, "5.3.4", "message size exceeds the limit");
      return log_line("refuse", 552, "5.3.4", "over --max-size", dr.size(), t0, "");
    }
    if (dr.overlong()) {
      reply(550, "5.6.0", "message refused: a line is longer than the limit");
      return log_line("refuse", 550, "5.6.0", "over --max-line", dr.size(), t0, "");
    }
    const std::string &msg = dr.message();
    std::vector<const char *> rc;
    for (const auto &r : rcpts_) rc.push_back(r.c_str());
    const std::string addr = client_address(), name = attr("NAME", ""), helo = attr("HELO", helo_),
                      qid = attr("IDENT", "");
    avsink_envelope env = AVSINK_ENVELOPE_INIT;
    env.client_address = addr.empty() ? nullptr : addr.c_str();
    env.client_name = name.empty() ? nullptr : name.c_str();
    env.helo = helo.empty() ? nullptr : helo.c_str();
    env.mail_from = mail_from_.c_str();
    env.rcpt_to = rc.data();
    env.rcpt_count = rc.size();
    env.queue_id = qid.empty() ? nullptr : qid.c_str();
    const avsink_verdict *v = nullptr;
    avsink_scan *scan = nullptr;
    avsink_status st = avsink_scan_buffer(&v, &scan, sh_.engine, &env, msg.data(), msg.size());
    struct ScanFree {
      avsink_scan *s;
      ~ScanFree() { avsink_scan_free(s); }
    } guard{scan};
    if (st != AVSINK_OK) {
      std::string why = std::string("scan: ") + avsink_strerror(st) +
                        (scan != nullptr ? std::string(": ") + avsink_scan_errmsg(scan) : "");
      reply(451, "4.7.1", "message could not be scanned, try again later");
      return log_line("tempfail", 451, "4.7.1", why, dr.size(), t0, "");
    }
    const avsink_action action = avsink_verdict_action(v);
    const int code = avsink_verdict_smtp_code(v);
    const char *enh = avsink_verdict_enhanced_status(v);
    const std::string reason = avsink_verdict_reason(v);
    if (sh_.options.log_json && action != AVSINK_ACTION_ACCEPT && action != AVSINK_ACTION_REWRITE)
      syslog(LOG_INFO, "%s", milter::log_escape(avsink_verdict_json(v)).c_str());
    switch (action) {
      case AVSINK_ACTION_REJECT: {
        int c = code >= 500 && code <= 599 ? code : 554;
        std::string e = milter::enhanced_for(c, enh, "5.7.1");
        reply(c, e, avsink_verdict_text(v));
        return log_line("reject", c, e, reason, dr.size(), t0, "");
      }
      case AVSINK_ACTION_TEMPFAIL: {
        int c = code >= 400 && code <= 499 ? code : 451;
        std::string e = milter::enhanced_for(c, enh, "4.7.1");
        reply(c, e, avsink_verdict_text(v));
        return log_line("tempfail", c, e, reason, dr.size(), t0, "");
      }
      case AVSINK_ACTION_DISCARD:
        reply(250, "2.0.0", "Ok: discarded");
        return log_line("discard", 250, "2.0.0", reason, dr.size(), t0, "");
      case AVSINK_ACTION_QUARANTINE: {
        std::string id = avsink_verdict_quarantine_id(v);
        if (id.empty()) {
          // Answering 250 is only safe once avsink holds the copy.
          reply(451, "4.7.1", "message could not be stored, try again later");
          return log_line("tempfail", 451, "4.7.1", "quarantine without a stored copy: " + reason,
                          dr.size(), t0, "");
        }
        reply(250, "2.0.0", "Ok: quarantined as " + id);
        return log_line("quarantine", 250, "2.0.0", reason, dr.size(), t0, " quarantine=" + id);
      }
      case AVSINK_ACTION_ACCEPT:
      case AVSINK_ACTION_REWRITE: {
        // The verdict's headers, header edits and (a rewrite) new body: header_edits.h.
        std::optional<std::string> prepared = adapter::message_for_verdict(msg, v);
        if (!prepared) {
          reply(451, "4.7.1", "message could not be prepared, try again later");
          return log_line("tempfail", 451, "4.7.1", "verdict could not be applied", dr.size(), t0,
                          "");
        }
        const std::string &out = *prepared;
        if (sh_.options.log_json)
          syslog(LOG_INFO, "%s", milter::log_escape(avsink_verdict_json(v)).c_str());
        const char *act = action == AVSINK_ACTION_ACCEPT ? "accept" : "rewrite";
        return relay_message(out, act, reason, dr.size(), t0);
      }
      default:
        reply(451, "4.7.1", "message could not be scanned, try again later");
        return log_line("tempfail", 451, "4.7.1", "unknown action", dr.size(), t0, "");
    }
  }

  // Sends the message to the next hop; the client's answer is the next hop's.
  void relay_message(const std::string &out, const char *act, const std::string &reason,
                     uint64_t size, Clock::time_point t0) {
    smtp::Reply r;
    std::string enh, text;
    size_t accepted = rcpts_.size();
    auto give = [&](int code, const std::string &e, const std::string &t, const std::string &why) {
      reply(code, e, t);
      log_line("tempfail", code, e, why, size, t0, "");
    };
    if (o_.mode == Mode::kAfterQueue) {
      if (!relay_mail(&r, &enh, &text)) {
        if (!enh.empty()) return give(r.code, enh, text, std::string(act) + ": " + text);
        pass_reply(r);
        reset_relay();
        return log_line(r.code >= 500 ? "refuse" : "tempfail", r.code, "",
                        "next hop MAIL: " + r.text, size, t0, "");
      }
      bool all_perm = true;
      std::string first_refusal;
      for (const auto &rc : rcpts_) {
        smtp::Reply rr;
        if (!relay_.command("RCPT TO:<" + rc + ">", &rr)) {
          relay_failed(&r, &enh, &text);
          return give(r.code, enh, text, "next hop failed at RCPT");
        }
        if (!rr.ok()) {
          if (first_refusal.empty()) first_refusal = rr.text;
          if (rr.code < 500) all_perm = false;
        } else {
          all_perm = false;  // mixed: the accepted recipients must not get a bounce
        }
      }
      if (!first_refusal.empty()) {
        reset_relay();
        // Only "every recipient refused for good" is permanent; anything mixed is retried.
        if (all_perm) {
          reply(554, "5.1.1", "next hop refused the recipients");
          return log_line("refuse", 554, "5.1.1", "next hop RCPT: " + first_refusal, size, t0, "");
        }
        return give(451, "4.4.3", "next hop refused a recipient, try again later",
                    "next hop RCPT: " + first_refusal);
      }
    }
    smtp::Reply first;
    std::vector<smtp::Reply> replies;
    if (!relay_.data(out, accepted, &first, &replies)) {
      relay_failed(&r, &enh, &text);
      return give(r.code, enh, text, "next hop failed during DATA");
    }
    if (first.code != 354) {
      reset_relay();
      pass_reply(first);
      return log_line(first.code >= 500 ? "refuse" : "tempfail", first.code, "",
                      "next hop DATA: " + first.text, size, t0, "");
    }
    relay_in_mail_ = false;
    // One answer for the client: all accepted -> the (first) 2xx; all refused for good -> the
    // first 5xx; anything else -> 451 (the sender retries; LMTP recipients already delivered may
    // get a second copy, never none).
    bool all_ok = true, all_perm = true;
    const smtp::Reply *bad = nullptr;
    for (const auto &x : replies) {
      if (!x.ok()) {
        all_ok = false;
        if (bad == nullptr) bad = &x;
        if (x.code < 500) all_perm = false;
      } else {
        all_perm = false;
      }
    }
    if (all_ok && !replies.empty()) {
      pass_reply(replies.front());
      return log_line(act, 250, "2.0.0", reason, size, t0, " relay=" + replies.front().last_text());
    }
    if (bad != nullptr && (all_perm || replies.size() == 1)) {
      pass_reply(*bad);
      return log_line(bad->code >= 500 ? "refuse" : "tempfail", bad->code, "",
                      "next hop: " + bad->text, size, t0, "");
    }
    give(451, "4.4.3", "next hop did not accept every recipient, try again later",
         "next hop: " + (bad != nullptr ? bad->text : std::string("no reply")));
  }

  void reset_relay() {
    if (relay_.is_open() && relay_in_mail_) {
      smtp::Reply r;
      if (!relay_.command("RSET", &r) || !r.ok()) relay_.close();
    }
    relay_in_mail_ = false;
  }

  int fd_;
  const Shared &sh_;
  const Options &o_;
  Clock::time_point started_;
  std::string peer_addr_;
  std::string in_, out_;
  int commands_ = 0, errors_ = 0;
  std::string helo_;
  Attrs attrs_;  // XFORWARD / XCLIENT
  bool in_mail_ = false;
  std::string mail_from_;
  Attrs mail_params_;
  std::vector<std::string> rcpts_;
  smtp::Client relay_;
  bool relay_in_mail_ = false;
};

}  // namespace

void serve_connection(int fd, const sockaddr_storage &peer, const Shared &shared) {
  try {
    Session s(fd, peer, shared);
    try {
      s.run();
    } catch (const Closed &) {
    }
  } catch (const std::exception &e) {
    syslog(LOG_ERR, "connection ended by an internal error: %s", e.what());
  } catch (...) {
    syslog(LOG_ERR, "connection ended by an internal error");
  }
  ::close(fd);
}

void refuse_busy(int fd, const Shared &shared) {
  std::string m = "421 4.3.2 " + shared.hostname + " too busy, try again later\r\n";
  (void)::send(fd, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

}  // namespace avsink::smtpd

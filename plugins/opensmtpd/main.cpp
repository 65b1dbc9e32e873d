// main.cpp - avsink-opensmtpd: an OpenSMTPD filter process (smtpd-filters(7), protocol 0.6/0.7)
// that buffers each message from data-line requests, scans it on a worker through the C ABI, and
// answers proceed / reject / rewrite. The protocol loop never waits for a scan.
//
// SECURITY. smtpd starts this program with proc-exec as its own unprivileged user. smtpd takes
// itself down on any malformed line from a filter ("misbehaving filter"), so every line printed
// here goes through emit(), which refuses CR/LF inside a line, and every reply text through
// reply_text(), which strips CR, LF and '|'. Fail closed: anything that prevents a verdict makes
// the commit answer "451 4.3.0".
#include <avsink/avsink.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "header_edits.h"

namespace {

const char kUsage[] =
    "usage: avsink-opensmtpd [-c avsink.toml] [-w workers]\n"
    "  An OpenSMTPD filter: declare it in smtpd.conf with\n"
    "    filter \"avsink\" proc-exec \"/usr/sbin/avsink-opensmtpd -c /etc/avsink/avsink.toml\"\n"
    "  -c FILE  avsink configuration (default: the embedded defaults)\n"
    "  -w N     scanning threads (default 2, 1..64)\n"
    "  SIGHUP reloads rules, lists and signatures without stopping.\n";

// ---- output: the only writer of stdout (protocol loop thread only) ----

// Writes one protocol line. A line that would carry LF (smtpd would read the rest as a new,
// malformed line) or end in CR (smtpd's line reader would eat it) is never printed; the caller gets
// false and must answer otherwise. A CR inside a message line is message content and travels.
bool emit(const std::string &line) {
  if (line.find('\n') != std::string::npos || (!line.empty() && line.back() == '\r')) return false;
  std::string out = line + "\n";
  const char *p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::exit(1);  // smtpd is gone; nothing left to answer
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// Reply text for a reject line: CR, LF, TAB and '|' become spaces, control bytes are dropped.
// At most 400 bytes: a reply line stays well inside SMTP's 512 (the findings are in the log).
std::string reply_text(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 400)) {
    if (c == '\r' || c == '\n' || c == '|' || c == '\t')
      out += ' ';
    else if (c >= 0x20 && c != 0x7f)
      out += static_cast<char>(c);
  }
  return out;
}

void logf(const char *fmt, const std::string &a) {
  std::fprintf(stderr, fmt, reply_text(a).c_str());
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::vector<std::string_view> split(std::string_view s, size_t max_fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_fields) {
    size_t bar = s.find('|');
    if (bar == std::string_view::npos) break;
    out.push_back(s.substr(0, bar));
    s.remove_prefix(bar + 1);
  }
  out.push_back(s);
  return out;
}

// ---- per-session state, built from the report stream ----

struct Outcome {
  enum Kind { kProceed, kReject } kind = kReject;
  std::string reply = "451 4.3.0 avsink: message not scanned";  // for kReject
};

struct Session {
  std::string client_address, client_name, helo, auth_user, mail_from, msgid;
  std::vector<std::string> rcpts;
  std::string message;      // the body lines so far, dot-unstuffed, CRLF-terminated (as scanned)
  uint64_t generation = 0;  // bumped on every reset; a stale scan result is dropped
  bool scanning = false;
  bool have_outcome = false;
  Outcome outcome;
  std::string pending_commit_token;  // commit arrived before the scan finished
};

struct Job {
  std::string sid, token;
  uint64_t generation = 0;
  std::string message;
  std::string client_address, client_name, helo, auth_user, mail_from, msgid;
  std::vector<std::string> rcpts;
};

struct Result {
  std::string sid, token;
  uint64_t generation = 0;
  Outcome outcome;
  std::vector<std::string> lines;  // what to hand back to smtpd (dot-stuffed), before the "."
};

avsink_engine *g_engine = nullptr;
std::mutex g_mu;
std::condition_variable g_cv;
std::deque<Job> g_jobs;
std::deque<Result> g_results;
bool g_stopping = false;
int g_wake[2] = {-1, -1};  // workers -> protocol loop: "a result is ready"
std::atomic<bool> g_reload{false};

// Splits message bytes into dot-stuffed protocol lines (CRLF or LF line ends).
std::vector<std::string> to_lines(std::string_view msg) {
  std::vector<std::string> out;
  while (!msg.empty()) {
    size_t nl = msg.find('\n');
    std::string_view line = msg.substr(0, nl);
    msg.remove_prefix(nl == std::string_view::npos ? msg.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A CR before the line end would be eaten by smtpd's line reader (as it is when a client
    // sends one); one inside the line is kept: what was scanned is what is delivered.
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string l(line);
    if (!l.empty() && l[0] == '.') l.insert(0, 1, '.');
    out.push_back(std::move(l));
  }
  return out;
}

std::string reply_of(int code, const char *enh, const char *text, int lo, int dflt,
                     const char *dflt_enh) {
  if (code < lo || code > lo + 99) code = dflt;
  std::string e = enh && enh[0] == static_cast<char>('0' + lo / 100) ? enh : dflt_enh;
  return reply_text(std::to_string(code) + " " + e + " " + (text ? text : ""));
}

Result scan(const Job &job) {
  Result r;
  r.sid = job.sid;
  r.token = job.token;
  r.generation = job.generation;
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  std::vector<const char *> rcpt;
  for (const auto &s : job.rcpts) rcpt.push_back(s.c_str());
  env.client_address = job.client_address.empty() ? nullptr : job.client_address.c_str();
  env.client_name = job.client_name.empty() ? nullptr : job.client_name.c_str();
  env.helo = job.helo.empty() ? nullptr : job.helo.c_str();
  env.auth_user = job.auth_user.empty() ? nullptr : job.auth_user.c_str();
  env.mail_from = job.mail_from.c_str();
  env.rcpt_to = rcpt.data();
  env.rcpt_count = rcpt.size();
  env.queue_id = job.msgid.empty() ? nullptr : job.msgid.c_str();
  const avsink_verdict *v = nullptr;
  avsink_scan *sc = nullptr;
  avsink_status st =
      avsink_scan_buffer(&v, &sc, g_engine, &env, job.message.data(), job.message.size());
  if (st != AVSINK_OK) {
    logf("avsink-opensmtpd: scan failed: %s",
         std::string(avsink_strerror(st)) + ": " + (sc ? avsink_scan_errmsg(sc) : ""));
    avsink_scan_free(sc);
    return r;  // default outcome: 451
  }
  const avsink_action action = avsink_verdict_action(v);
  const int code = avsink_verdict_smtp_code(v);
  const char *enh = avsink_verdict_enhanced_status(v);
  const char *text = avsink_verdict_text(v);
  switch (action) {
    case AVSINK_ACTION_ACCEPT:
    case AVSINK_ACTION_REWRITE: {
      // The verdict's headers, header edits and (a rewrite) new body: header_edits.h. When that
      // cannot be done the outcome stays the default 451.
      std::optional<std::string> out = avsink::adapter::message_for_verdict(job.message, v);
      if (!out) break;
      r.outcome.kind = Outcome::kProceed;
      r.lines = to_lines(*out);
      break;
    }
    case AVSINK_ACTION_REJECT:
      r.outcome.reply = reply_of(code, enh, text, 500, 554, "5.7.1");
      break;
    case AVSINK_ACTION_TEMPFAIL:
      r.outcome.reply = reply_of(code, enh, text, 400, 451, "4.7.1");
      break;
    case AVSINK_ACTION_QUARANTINE:
    case AVSINK_ACTION_DISCARD:
      // The filter API has no "accept and drop": refused, the copy (if any) is in the quarantine.
      // (The verdict's own text is the 250 text of an accept-and-drop.)
      r.outcome.reply =
          action == AVSINK_ACTION_QUARANTINE
              ? reply_text(std::string("554 5.7.1 Message held by the mail gateway (avsink ") +
                           avsink_verdict_quarantine_id(v) + ")")
              : std::string("554 5.7.1 Message refused by the mail gateway");
      break;
    default:
      break;
  }
  logf("avsink-opensmtpd: %s",
       job.sid + " msgid=" + job.msgid + " client=" + job.client_address + " helo=" + job.helo +
           " auth=" + job.auth_user + " from=<" + job.mail_from +
           "> rcpts=" + std::to_string(job.rcpts.size()) + " " + avsink_action_name(action) + " " +
           avsink_verdict_reason(v) + " -> " +
           (r.outcome.kind == Outcome::kProceed ? std::string("proceed") : r.outcome.reply));
  avsink_scan_free(sc);
  return r;
}

void worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lk(g_mu);
      g_cv.wait(lk, [] { return g_stopping || !g_jobs.empty(); });
      if (g_jobs.empty()) return;
      job = std::move(g_jobs.front());
      g_jobs.pop_front();
    }
    Result r;
    try {
      r = scan(job);
    } catch (...) {  // std::bad_alloc: fail closed with the default outcome
      r.sid = job.sid;
      r.token = job.token;
      r.generation = job.generation;
    }
    {
      std::lock_guard lk(g_mu);
      g_results.push_back(std::move(r));
    }
    char b = 1;
    while (write(g_wake[1], &b, 1) < 0 && errno == EINTR) {
    }
  }
}

void reloader() {
  for (;;) {
    {
      std::unique_lock lk(g_mu);
      if (g_stopping) return;
    }
    if (g_reload.exchange(false)) {
      avsink_error err = AVSINK_ERROR_INIT;
      avsink_status st = avsink_engine_reload(g_engine, &err);
      logf("avsink-opensmtpd: reload: %s",
           st == AVSINK_OK
               ? std::string("ok")
               : std::string(avsink_strerror(st)) + ": " + err.message + " " + err.file);
    }
    usleep(100 * 1000);
  }
}

// ---- the protocol loop ----

class Filter {
 public:
  void line(std::string_view l);
  void result(Result r);

 private:
  void report(const std::vector<std::string_view> &f);
  void filter(std::string_view l);
  void answer(const std::string &sid, const std::string &token, const Outcome &o);
  Session &session(std::string_view sid) { return sessions_[std::string(sid)]; }
  // A new or abandoned transaction: a scan in flight is dropped when it ends (generation), and a
  // commit still waiting for it is answered now, fail closed, so it is never left unanswered.
  void reset(const std::string &sid, Session &s) {
    if (!s.pending_commit_token.empty()) {
      answer(sid, s.pending_commit_token, Outcome());
      s.pending_commit_token.clear();
    }
    ++s.generation;
    s.message.clear();
    s.scanning = false;
    s.have_outcome = false;
    s.outcome = Outcome();
    s.mail_from.clear();
    s.rcpts.clear();
    s.msgid.clear();
  }

  bool configured_ = false;
  std::map<std::string, Session> sessions_;
};

bool is_result(std::string_view s, std::initializer_list<const char *> words) {
  for (const char *w : words)
    if (s == w) return true;
  return false;
}

void Filter::line(std::string_view l) {
  if (!configured_) {
    if (l == "config|ready") {
      configured_ = true;
      for (const char *ev : {"link-connect", "link-disconnect", "link-identify", "link-auth",
                             "tx-begin", "tx-mail", "tx-rcpt", "tx-reset", "tx-rollback"})
        emit(std::string("register|report|smtp-in|") + ev);
      emit("register|filter|smtp-in|data-line");
      emit("register|filter|smtp-in|commit");
      emit("register|ready");
    }
    return;  // other config lines carry nothing this filter needs
  }
  if (l.substr(0, 7) == "report|") {
    report(split(l, 64));
  } else if (l.substr(0, 7) == "filter|") {
    filter(l);
  } else {
    logf("avsink-opensmtpd: unknown line ignored: %s", std::string(l.substr(0, 200)));
  }
}

// report|<version>|<time>|smtp-in|<event>|<session>|<params...>
void Filter::report(const std::vector<std::string_view> &f) {
  if (f.size() < 6 || f[3] != "smtp-in") return;
  const std::string_view ev = f[4];
  const std::string sid(f[5]);
  auto p = [&](size_t i) { return i + 6 < f.size() ? std::string(f[i + 6]) : std::string(); };
  if (ev == "link-disconnect") {
    sessions_.erase(sid);
    return;
  }
  Session &s = session(sid);
  if (ev == "link-connect") {
    // rdns|fcrdns|src|dest; src is "1.2.3.4:port" or "[v6]:port" or "unix:/path"
    s.client_name = p(0);
    std::string src = p(2);
    size_t colon = src.rfind(':');
    if (!src.empty() && src[0] == '[') {
      size_t close = src.find(']');
      src = close != std::string::npos ? src.substr(1, close - 1) : src;
    } else if (colon != std::string::npos && src.compare(0, 5, "unix:") != 0) {
      src = src.substr(0, colon);
    }
    s.client_address = src;
  } else if (ev == "link-identify") {
    s.helo = f.size() > 7 ? p(1) : p(0);  // 0.6+: method|identity
  } else if (ev == "link-auth") {
    // 0.6: username|result; 0.7: result|username. The result is one of pass/fail/error.
    std::string a = p(0), b = p(1);
    bool a_is_result = is_result(a, {"pass", "fail", "error"});
    std::string result = a_is_result ? a : b, user = a_is_result ? b : a;
    if (result == "pass") s.auth_user = user;
  } else if (ev == "tx-begin") {
    reset(sid, s);
    s.msgid = p(0);
  } else if (ev == "tx-mail" || ev == "tx-rcpt") {
    // msgid|result|address (0.6+); older: msgid|address|result.
    std::string a = p(1), b = p(2);
    bool a_is_result = is_result(a, {"ok", "permfail", "tempfail"});
    std::string result = a_is_result ? a : b, addr = a_is_result ? b : a;
    if (result != "ok") return;
    if (!addr.empty() && addr.front() == '<' && addr.back() == '>')
      addr = addr.substr(1, addr.size() - 2);
    if (ev == "tx-mail")
      s.mail_from = addr;
    else
      s.rcpts.push_back(addr);
  } else if (ev == "tx-reset" || ev == "tx-rollback") {
    reset(sid, s);
  }
}

// filter|<version>|<time>|smtp-in|<phase>|<session>|<token>|<rest>
void Filter::filter(std::string_view l) {
  std::vector<std::string_view> f = split(l, 8);
  if (f.size() < 7) {
    logf("avsink-opensmtpd: short filter line ignored: %s", std::string(l.substr(0, 200)));
    return;
  }
  const std::string_view phase = f[4];
  const std::string sid(f[5]), token(f[6]);
  const std::string_view rest = f.size() > 7 ? f[7] : std::string_view();
  Session &s = session(sid);
  if (phase == "data-line") {
    if (s.scanning || s.have_outcome) {
      // A second message body without a reset (smtpd never sends one): the pending verdict is
      // dropped (generation bumped) and this transaction fails closed; lines are still answered.
      ++s.generation;
      s.scanning = false;
      s.have_outcome = true;
      s.outcome = Outcome();
      if (!s.pending_commit_token.empty()) {
        answer(sid, s.pending_commit_token, s.outcome);
        s.pending_commit_token.clear();
      }
      if (rest == ".") emit("filter-dataline|" + sid + "|" + token + "|.");
      return;
    }
    if (rest == ".") {
      s.scanning = true;
      Job job{sid,           token,  s.generation, std::move(s.message), s.client_address,
              s.client_name, s.helo, s.auth_user,  s.mail_from,          s.msgid,
              s.rcpts};
      s.message.clear();
      {
        std::lock_guard lk(g_mu);
        g_jobs.push_back(std::move(job));
      }
      g_cv.notify_one();
      return;
    }
    std::string_view unstuffed = rest.substr(0, 1) == "." ? rest.substr(1) : rest;
    s.message.append(unstuffed);
    s.message.append("\r\n");
    return;
  }
  if (phase == "commit") {
    if (s.have_outcome) {
      answer(sid, token, s.outcome);
    } else if (s.scanning) {
      s.pending_commit_token = token;
    } else {
      answer(sid, token, Outcome());  // no body seen through this filter: fail closed
    }
    return;
  }
  // A phase this filter did not register for: let it through, exactly once.
  emit("filter-result|" + sid + "|" + token + "|proceed");
}

void Filter::answer(const std::string &sid, const std::string &token, const Outcome &o) {
  if (o.kind == Outcome::kProceed) {
    emit("filter-result|" + sid + "|" + token + "|proceed");
  } else if (!emit("filter-result|" + sid + "|" + token + "|reject|" + reply_text(o.reply))) {
    emit("filter-result|" + sid + "|" + token + "|reject|451 4.3.0 avsink: internal error");
  }
}

void Filter::result(Result r) {
  auto it = sessions_.find(r.sid);
  if (it == sessions_.end() || it->second.generation != r.generation) return;  // client left
  Session &s = it->second;
  const std::string head = "filter-dataline|" + r.sid + "|" + r.token + "|";
  if (r.outcome.kind == Outcome::kProceed) {
    for (const std::string &l : r.lines) {
      if (!emit(head + l)) {  // cannot happen (to_lines strips CR/LF); fail closed if it does
        r.outcome = Outcome();
        break;
      }
    }
  }
  emit(head + ".");
  s.scanning = false;
  s.have_outcome = true;
  s.outcome = r.outcome;
  if (!s.pending_commit_token.empty()) {
    answer(r.sid, s.pending_commit_token, s.outcome);
    s.pending_commit_token.clear();
  }
}

void on_hup(int) {
  g_reload = true;
}

}  // namespace

int main(int argc, char **argv) {
  const char *config = nullptr;
  int workers = 2;
  int opt;
  while ((opt = getopt(argc, argv, "c:w:h")) != -1) {
    switch (opt) {
      case 'c':
        config = optarg;
        break;
      case 'w':
        workers = std::atoi(optarg);
        if (workers < 1 || workers > 64) {
          std::fputs(kUsage, stderr);
          return 2;
        }
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  uint32_t abi = avsink_abi_version();
  if (!AVSINK_ABI_COMPATIBLE(abi)) {
    std::fprintf(stderr, "avsink-opensmtpd: libavsink ABI %u.%u, built for %u.%u\n", abi >> 16,
                 abi & 0xffff, AVSINK_ABI_MAJOR, AVSINK_ABI_MINOR);
    return 1;
  }
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  o.config_path = config;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_status st = avsink_engine_open(&g_engine, &o, &err);
  if (st != AVSINK_OK) {
    std::fprintf(stderr, "avsink-opensmtpd: cannot open the engine: %s: %s %s:%u\n",
                 avsink_strerror(st), err.message, err.file, err.line);
    return 1;
  }
  if (pipe(g_wake) != 0) return 1;
  struct sigaction sa {};
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::thread> pool;
  for (int i = 0; i < workers; ++i) pool.emplace_back(worker);
  std::thread reload_thread(reloader);

  Filter filter;
  std::string in;
  char buf[65536];
  bool eof = false;
  while (!eof) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      ssize_t n = read(g_wake[0], buf, sizeof buf);
      (void)n;
      std::deque<Result> done;
      {
        std::lock_guard lk(g_mu);
        done.swap(g_results);
      }
      for (Result &r : done) filter.result(std::move(r));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof = true;
        break;
      }
      in.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      while ((nl = in.find('\n', start)) != std::string::npos) {
        std::string_view l(in.data() + start, nl - start);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        filter.line(l);
        start = nl + 1;
      }
      in.erase(0, start);
    }
  }
  {
    std::lock_guard lk(g_mu);
    g_stopping = true;
  }
  g_cv.notify_all();
  for (auto &t : pool) t.join();
  reload_thread.join();
  avsink_engine_free(g_engine);
  return 0;
}

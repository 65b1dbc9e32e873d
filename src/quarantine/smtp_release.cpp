// smtp_release.cpp - blocking-with-poll SMTP client: one connection, one transaction, then QUIT.
// Never waits longer than the timeout per step; SIGPIPE is avoided with MSG_NOSIGNAL.
#include "quarantine/smtp_release.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "quarantine/fs_util.h"

namespace avsink::quarantine {

namespace {

class Conn {
 public:
  Conn(Fd fd, int timeout_ms, std::string peer)
      : fd_(std::move(fd)), timeout_ms_(timeout_ms), peer_(std::move(peer)) {}

  Result<void> send(std::string_view data) {
    while (!data.empty()) {
      if (auto w = wait(POLLOUT); !w) return w;
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return make_error(ErrorCode::kIo, "smtp: send to " + peer_ + ": " + strerror(errno));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  // One (possibly multi-line) reply: "250-a\r\n250 b\r\n" -> code 250, text "250-a\n250 b".
  struct Reply {
    int code = 0;
    std::string text;
    std::vector<std::string> lines;  // text after the code and separator
  };
  Result<Reply> reply() {
    Reply r;
    for (int lines = 0; lines < 1000; ++lines) {
      auto line = read_line();
      if (!line) return line.error();
      const std::string &l = *line;
      if (l.size() < 3 || !isdigit(l[0]) || !isdigit(l[1]) || !isdigit(l[2]) ||
          (l.size() > 3 && l[3] != ' ' && l[3] != '-'))
        return make_error(ErrorCode::kIo, "smtp: malformed reply from " + peer_ + ": " + l);
      int code = std::stoi(l.substr(0, 3));
      if (r.code != 0 && code != r.code)
        return make_error(ErrorCode::kIo, "smtp: inconsistent multi-line reply from " + peer_);
      r.code = code;
      if (!r.text.empty()) r.text += "\n";
      r.text += l;
      r.lines.push_back(l.size() > 4 ? l.substr(4) : "");
      if (l.size() == 3 || l[3] == ' ') return r;
    }
    return make_error(ErrorCode::kIo, "smtp: reply too long from " + peer_);
  }

 private:
  Result<void> wait(short events) {
    for (;;) {
      pollfd p{fd_.get(), events, 0};
      int n = ::poll(&p, 1, timeout_ms_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(ErrorCode::kIo, "smtp: poll: " + std::string(strerror(errno)));
      if (n == 0) return make_error(ErrorCode::kTimeout, "smtp: timed out talking to " + peer_);
      return {};
    }
  }

  Result<std::string> read_line() {
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (buf_.size() > 4096) return make_error(ErrorCode::kIo, "smtp: reply line too long");
      if (auto w = wait(POLLIN); !w) return w.error();
      char tmp[4096];
      ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0)
        return make_error(ErrorCode::kIo, "smtp: read from " + peer_ + ": " + strerror(errno));
      if (n == 0) return make_error(ErrorCode::kIo, "smtp: " + peer_ + " closed the connection");
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  Fd fd_;
  int timeout_ms_;
  std::string peer_;
  std::string buf_;
};

bool safe_address(const std::string &a) {
  for (char c : a)
    if (c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>') return false;
  return a.size() <= 512;
}

Result<Fd> connect_to(const std::string &host, uint16_t port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  std::string svc = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), svc.c_str(), &hints, &res);
  if (rc != 0)
    return make_error(ErrorCode::kIo, "smtp: cannot resolve " + host + ": " + gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo *ai = res; ai; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (!fd.valid()) {
      last = strerror(errno);
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = strerror(errno);
        continue;
      }
      pollfd p{fd.get(), POLLOUT, 0};
      int n;
      do n = ::poll(&p, 1, timeout_ms);
      while (n < 0 && errno == EINTR);
      if (n == 0) {
        ::freeaddrinfo(res);
        return make_error(ErrorCode::kTimeout, "smtp: connect to " + host + " timed out");
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (n < 0 || err != 0) {
        last = strerror(n < 0 ? errno : err);
        continue;
      }
    }
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return make_error(ErrorCode::kIo,
                    "smtp: cannot connect to " + host + ":" + std::to_string(port) + ": " + last);
}

// CRLF line ends, dot-stuffing, final CRLF, then the terminating ".".
std::string data_payload(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 8);
  bool bol = true;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (bol && c == '.') out.push_back('.');
    bol = false;
    if (c == '\n') {
      if (out.empty() || out.back() != '\r') out.push_back('\r');
      out.push_back('\n');
      bol = true;
    } else if (c == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) {
      out += "\r\n";  // a bare CR becomes a line end (bare CR is not allowed in SMTP)
      bol = true;
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && !(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0))
    out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string helo_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  for (char *p = buf; *p; ++p)
    if (!(isalnum(static_cast<unsigned char>(*p)) || *p == '.' || *p == '-')) return "localhost";
  return buf;
}

Error refused(const std::string &what, const std::string &reply) {
  return make_error(ErrorCode::kIo, "smtp: " + what + " refused: " + reply);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
    hp.host = std::string(s.substr(1, close - 1));
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':')
        return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
      port = s.substr(close + 2);
    }
  } else {
    size_t colon = s.rfind(':');
    if (colon != std::string_view::npos && s.find(':') == colon) {
      hp.host = std::string(s.substr(0, colon));
      port = s.substr(colon + 1);
    } else {
      hp.host = std::string(s);
    }
  }
  if (hp.host.empty())
    return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
  if (!port.empty() || (s.size() && s.back() == ':')) {
    unsigned long v = 0;
    if (port.empty() || port.size() > 5) return make_error(ErrorCode::kInvalidArgument, "bad port");
    for (char c : port) {
      if (c < '0' || c > '9') return make_error(ErrorCode::kInvalidArgument, "bad port");
      v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v == 0 || v > 65535) return make_error(ErrorCode::kInvalidArgument, "bad port");
    hp.port = static_cast<uint16_t>(v);
  }
  return hp;
}

Result<std::string> smtp_send(const std::string &host, uint16_t port, const std::string &mail_from,
                              const std::vector<std::string> &rcpts, std::string_view message,
                              int timeout_ms) {
  if (rcpts.empty()) return make_error(ErrorCode::kInvalidArgument, "smtp: no recipients");
  if (!safe_address(mail_from))
    return make_error(ErrorCode::kInvalidArgument, "smtp: unsafe sender address");
  for (const auto &r : rcpts)
    if (r.empty() || !safe_address(r))
      return make_error(ErrorCode::kInvalidArgument, "smtp: unsafe recipient address: " + r);
  auto fd = connect_to(host, port, timeout_ms);
  if (!fd) return fd.error();
  Conn c(std::move(*fd), timeout_ms, host + ":" + std::to_string(port));

  auto expect = [&](int lo, int hi, const std::string &what) -> Result<Conn::Reply> {
    auto r = c.reply();
    if (!r) return r.error();
    if (r->code < lo || r->code > hi) {
      (void)c.send("QUIT\r\n");
      return refused(what, r->text);
    }
    return r;
  };
  auto cmd = [&](const std::string &line, int lo, int hi,
                 const std::string &what) -> Result<Conn::Reply> {
    if (auto s = c.send(line + "\r\n"); !s) return s.error();
    return expect(lo, hi, what);
  };

  if (auto g = expect(220, 220, "greeting"); !g) return g.error();
  bool eight_bit_ok = false;
  if (auto s = c.send("EHLO " + helo_name() + "\r\n"); !s) return s.error();
  auto ehlo = c.reply();
  if (!ehlo) return ehlo.error();
  if (ehlo->code == 250) {
    for (const auto &l : ehlo->lines)
      if (strncasecmp(l.c_str(), "8BITMIME", 8) == 0) eight_bit_ok = true;
  } else {
    if (auto h = cmd("HELO " + helo_name(), 250, 250, "HELO"); !h) return h.error();
  }
  bool has_8bit = false;
  for (char ch : message)
    if (static_cast<unsigned char>(ch) >= 0x80) {
      has_8bit = true;
      break;
    }
  std::string mail = "MAIL FROM:<" + mail_from + ">";
  if (has_8bit && eight_bit_ok) mail += " BODY=8BITMIME";
  if (auto r = cmd(mail, 250, 259, "MAIL FROM"); !r) return r.error();
  for (const auto &rcpt : rcpts)
    if (auto r = cmd("RCPT TO:<" + rcpt + ">", 250, 259, "RCPT TO:<" + rcpt + ">"); !r)
      return r.error();
  if (auto r = cmd("DATA", 354, 354, "DATA"); !r) return r.error();
  if (auto s = c.send(data_payload(message)); !s) return s.error();
  auto fin = expect(250, 259, "message");
  if (!fin) return fin.error();
  (void)c.send("QUIT\r\n");
  (void)c.reply();
  return fin->text;
}

}  // namespace avsink::quarantine

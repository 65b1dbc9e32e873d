// client.cpp - blocking-with-poll SMTP/LMTP client: one connection, any number of transactions.
// Never waits longer than the timeout per step; SIGPIPE is avoided with MSG_NOSIGNAL.
#include "smtp/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

namespace avsink::smtp {

struct Client::Impl {
  int fd = -1;
  int timeout_ms = 30000;
  std::string peer;
  std::string buf;
  ~Impl() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    buf.clear();
  }
  // 0 ready, 1 timeout, -1 error (errno).
  int wait(short events) const {
    for (;;) {
      pollfd p{fd, events, 0};
      int n = ::poll(&p, 1, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      return n == 0 ? 1 : 0;
    }
  }
};

namespace {

// Connects with a bounded wait. Returns the fd or -1 with *why set (*timed_out when so).
int connect_to(const std::string &host, uint16_t port, int timeout_ms, std::string *why,
               bool *timed_out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  std::string svc = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), svc.c_str(), &hints, &res);
  if (rc != 0) {
    *why = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  std::string last = "no address";
  for (addrinfo *ai = res; ai; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last = strerror(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = strerror(errno);
        ::close(fd);
        continue;
      }
      pollfd p{fd, POLLOUT, 0};
      int n;
      do n = ::poll(&p, 1, timeout_ms);
      while (n < 0 && errno == EINTR);
      if (n == 0) {
        ::close(fd);
        ::freeaddrinfo(res);
        *why = "connect to " + host + ":" + svc + " timed out";
        *timed_out = true;
        return -1;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (n < 0 || err != 0) {
        last = strerror(n < 0 ? errno : err);
        ::close(fd);
        continue;
      }
    }
    ::freeaddrinfo(res);
    // Commands and replies are small writes answered by the peer: without this, Nagle's
    // algorithm waits for the peer's delayed ACK (up to 40 ms) before the last segment.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  ::freeaddrinfo(res);
  *why = "cannot connect to " + host + ":" + svc + ": " + last;
  return -1;
}

}  // namespace

Client::Client() : impl_(std::make_unique<Impl>()) {}
Client::~Client() = default;

bool Client::fail(Failure f, std::string why) {
  failure_ = f;
  error_ = "smtp: " + std::move(why);
  impl_->reset();
  return false;
}

bool Client::is_open() const {
  return impl_->fd >= 0;
}

void Client::close() {
  impl_->reset();
}

bool Client::offers(std::string_view keyword) const {
  for (const auto &e : extensions_) {
    size_t end = e.find(' ');
    std::string_view first = std::string_view(e).substr(0, end);
    if (first.size() == keyword.size() &&
        strncasecmp(first.data(), keyword.data(), keyword.size()) == 0)
      return true;
  }
  return false;
}

bool Client::read_reply(Reply *out) {
  Reply r;
  for (int lines = 0; lines < 1000; ++lines) {
    // One line.
    std::string l;
    for (;;) {
      size_t nl = impl_->buf.find('\n');
      if (nl != std::string::npos) {
        l = impl_->buf.substr(0, nl);
        impl_->buf.erase(0, nl + 1);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        break;
      }
      if (impl_->buf.size() > 4096) return fail(Failure::kIo, "reply line too long");
      int w = impl_->wait(POLLIN);
      if (w == 1) return fail(Failure::kTimeout, "timed out talking to " + impl_->peer);
      if (w < 0) return fail(Failure::kIo, std::string("poll: ") + strerror(errno));
      char tmp[4096];
      ssize_t n = ::recv(impl_->fd, tmp, sizeof tmp, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return fail(Failure::kIo, "read from " + impl_->peer + ": " + strerror(errno));
      if (n == 0) return fail(Failure::kIo, impl_->peer + " closed the connection");
      impl_->buf.append(tmp, static_cast<size_t>(n));
    }
    if (l.size() < 3 || !isdigit(static_cast<unsigned char>(l[0])) ||
        !isdigit(static_cast<unsigned char>(l[1])) || !isdigit(static_cast<unsigned char>(l[2])) ||
        (l.size() > 3 && l[3] != ' ' && l[3] != '-'))
      return fail(Failure::kIo, "malformed reply from " + impl_->peer + ": " + l);
    int code = std::stoi(l.substr(0, 3));
    if (r.code != 0 && code != r.code)
      return fail(Failure::kIo, "inconsistent multi-line reply from " + impl_->peer);
    r.code = code;
    if (!r.text.empty()) r.text += "\n";
    r.text += l;
    r.lines.push_back(l.size() > 4 ? l.substr(4) : "");
    if (l.size() == 3 || l[3] == ' ') {
      *out = std::move(r);
      return true;
    }
  }
  return fail(Failure::kIo, "reply too long from " + impl_->peer);
}

bool Client::send_raw(std::string_view data) {
  while (!data.empty()) {
    int w = impl_->wait(POLLOUT);
    if (w == 1) return fail(Failure::kTimeout, "timed out talking to " + impl_->peer);
    if (w < 0) return fail(Failure::kIo, std::string("poll: ") + strerror(errno));
    ssize_t n = ::send(impl_->fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail(Failure::kIo, "send to " + impl_->peer + ": " + strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Client::open(const std::string &host, uint16_t port, bool lmtp, const std::string &helo,
                  int timeout_ms, Reply *refusal) {
  impl_->reset();
  extensions_.clear();
  failure_ = Failure::kNone;
  error_.clear();
  lmtp_ = lmtp;
  impl_->timeout_ms = timeout_ms;
  impl_->peer = host + ":" + std::to_string(port);
  std::string why;
  bool timed_out = false;
  int fd = connect_to(host, port, timeout_ms, &why, &timed_out);
  if (fd < 0) return fail(timed_out ? Failure::kTimeout : Failure::kIo, why);
  impl_->fd = fd;
  Reply r;
  if (!read_reply(&r)) return false;
  if (r.code != 220) {
    if (refusal != nullptr) *refusal = r;
    return fail(Failure::kIo, "greeting refused: " + r.text);
  }
  const std::string name = helo.empty() ? local_helo_name() : helo;
  if (!command((lmtp ? "LHLO " : "EHLO ") + name, &r)) return false;
  if (!r.ok() && !lmtp) {
    if (!command("HELO " + name, &r)) return false;
  }
  if (!r.ok()) {
    if (refusal != nullptr) *refusal = r;
    return fail(Failure::kIo, "hello refused: " + r.text);
  }
  for (size_t i = 1; i < r.lines.size(); ++i) extensions_.push_back(r.lines[i]);
  return true;
}

bool Client::command(const std::string &line, Reply *out) {
  if (impl_->fd < 0) return fail(Failure::kIo, "not connected");
  for (char c : line)
    if (c == '\r' || c == '\n' || c == '\0')
      return fail(Failure::kInvalid, "refusing a command with CR, LF or NUL");
  if (!send_raw(line + "\r\n")) return false;
  return read_reply(out);
}

bool Client::data(std::string_view message, size_t rcpts, Reply *first,
                  std::vector<Reply> *replies) {
  replies->clear();
  if (!command("DATA", first)) return false;
  if (first->code != 354) return true;
  if (!send_raw(data_payload(message))) return false;
  const size_t want = lmtp_ ? rcpts : 1;
  for (size_t i = 0; i < want; ++i) {
    Reply r;
    if (!read_reply(&r)) return false;
    replies->push_back(std::move(r));
  }
  return true;
}

void Client::quit() {
  if (impl_->fd >= 0) {
    Reply r;
    (void)command("QUIT", &r);
  }
  impl_->reset();
}

bool safe_address(std::string_view a) {
  for (char c : a)
    if (c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>') return false;
  return a.size() <= 512;
}

size_t next_cr_or_lf(std::string_view s, size_t from) {
  if (from >= s.size()) return s.size();
  const char *p = s.data() + from;
  const size_t n = s.size() - from;
  const void *lf = std::memchr(p, '\n', n);
  const size_t line = lf != nullptr ? static_cast<size_t>(static_cast<const char *>(lf) - p) : n;
  const void *cr = std::memchr(p, '\r', line);
  return from + (cr != nullptr ? static_cast<size_t>(static_cast<const char *>(cr) - p) : line);
}

std::string data_payload(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 8);
  bool bol = true;
  for (size_t i = 0; i < m.size();) {
    if (bol && m[i] == '.') out.push_back('.');
    bol = false;
    const size_t stop = next_cr_or_lf(m, i);  // the line's ordinary bytes, copied whole
    out.append(m.data() + i, stop - i);
    i = stop;
    if (i >= m.size()) break;
    if (m[i] == '\n') {
      if (out.empty() || out.back() != '\r') out.push_back('\r');
      out.push_back('\n');
      bol = true;
    } else if (i + 1 < m.size() && m[i + 1] == '\n') {
      out.push_back('\r');  // CRLF: the LF is taken by the next turn
    } else {
      out += "\r\n";  // a bare CR becomes a line end (bare CR is not allowed in SMTP)
      bol = true;
    }
    ++i;
  }
  if (!out.empty() && !(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0))
    out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string local_helo_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  for (char *p = buf; *p; ++p)
    if (!(isalnum(static_cast<unsigned char>(*p)) || *p == '.' || *p == '-')) return "localhost";
  return buf;
}

}  // namespace avsink::smtp

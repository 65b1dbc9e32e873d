// clamd.cpp - zINSTREAM client: non-blocking sockets, poll() bounded by the timeouts and the
// deadline, a slot semaphore, retries on fresh connections. No path returns empty Findings unless
// clamd answered "stream: OK".
#include "engines/clamd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <clamav.h>

namespace avsink::engines {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kChunkBytes = 256u << 10;    // one zINSTREAM chunk
constexpr size_t kMaxReplyBytes = 64u << 10;  // clamd's answers are short; bound them anyway
constexpr uint64_t kMaxStreamLength = 0xffffffffull;  // chunk lengths are 32-bit; clamd's limit
constexpr std::string_view kUnix = "unix:";
constexpr std::string_view kTcp = "tcp:";
constexpr std::string_view kUnofficial = ".UNOFFICIAL";

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

// Owns one socket descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket &operator=(Socket &&o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Socket(const Socket &) = delete;  // one owner per descriptor
  Socket &operator=(const Socket &) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Why an exchange with clamd did not produce an answer.
enum class Outcome {
  kAnswered,   // at least one complete reply
  kTransport,  // refused, reset, closed early: worth a fresh connection
  kTimeout,    // a configured timeout passed
  kDeadline,   // the message's deadline passed
};

struct Exchange {
  Outcome outcome = Outcome::kTransport;
  std::vector<std::string> replies;  // '\0'-terminated answers, terminator removed
  std::string what;                  // for failures: "connect: Connection refused"
};

// The earlier of now + limit_ms and the message deadline, for one phase of an exchange.
struct PhaseClock {
  Clock::time_point end;
  bool deadline_first = false;

  PhaseClock(uint32_t limit_ms, const Deadline &deadline) {
    const uint64_t left = deadline.remaining_ms();
    deadline_first = left < limit_ms;
    end = Clock::now() + std::chrono::milliseconds(deadline_first ? left : limit_ms);
  }
  int poll_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left + 1, 1 << 30));
  }
  bool passed() const { return Clock::now() >= end; }
  Outcome expiry() const { return deadline_first ? Outcome::kDeadline : Outcome::kTimeout; }
};

std::string errno_text(int err) {
  return std::strerror(err);
}

// poll() one descriptor until an event or the phase ends; returns revents, 0 on expiry, -1 on
// a poll error (errno set).
int wait_for(int fd, short events, const PhaseClock &phase) {
  for (;;) {
    struct pollfd p = {fd, events, 0};
    int rc = ::poll(&p, 1, phase.poll_ms());
    if (rc > 0) return p.revents;
    if (rc == 0) {
      if (phase.passed()) return 0;
      continue;
    }
    if (errno != EINTR) return -1;
  }
}

Exchange fail(Outcome outcome, std::string what) {
  Exchange e;
  e.outcome = outcome;
  e.what = std::move(what);
  return e;
}

// Connects to one endpoint within `phase`. On failure `*failure` says why.
Socket connect_one(const Endpoint &ep, const PhaseClock &phase, Exchange *failure) {
  Socket s(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) {
    *failure = fail(Outcome::kTransport, "socket: " + errno_text(errno));
    return Socket();
  }
  for (;;) {
    if (::connect(s.fd(), reinterpret_cast<const sockaddr *>(&ep.addr), ep.len) == 0) return s;
    const int err = errno;
    if (err == EAGAIN) {
      // A unix socket whose listen backlog is full: clamd is overloaded or hung. Try again
      // until the phase ends.
      if (phase.passed()) {
        *failure = fail(phase.expiry(), "connect: listen queue full, timed out");
        return Socket();
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(10, std::max(phase.poll_ms(), 1))));
      continue;
    }
    if (err != EINPROGRESS && err != EINTR) {
      *failure = fail(Outcome::kTransport, "connect: " + errno_text(err));
      return Socket();
    }
    break;
  }
  int rev = wait_for(s.fd(), POLLOUT, phase);
  if (rev == 0) {
    *failure = fail(phase.expiry(), "connect: timed out");
    return Socket();
  }
  if (rev < 0) {
    *failure = fail(Outcome::kTransport, "connect: poll: " + errno_text(errno));
    return Socket();
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
  if (soerr != 0) {
    *failure = fail(Outcome::kTransport, "connect: " + errno_text(soerr));
    return Socket();
  }
  return s;
}

// Tries the endpoints in order within one connect phase.
Socket connect_any(const std::vector<Endpoint> &eps, uint32_t timeout_ms, const Deadline &deadline,
                   Exchange *failure) {
  PhaseClock phase(timeout_ms, deadline);
  for (const auto &ep : eps) {
    Socket s = connect_one(ep, phase, failure);
    if (s.fd() >= 0) return s;
    if (failure->outcome != Outcome::kTransport) break;  // out of time
  }
  return Socket();
}

enum class SendResult { kSent, kPeerSpoke, kBroken, kExpired };

// Sends all of `data`, each wait bounded by a fresh phase of `timeout_ms`. Stops early when
// clamd has something to say (it answers before the end of a stream only to refuse it).
SendResult send_all(int fd, std::string_view data, uint32_t timeout_ms, const Deadline &deadline,
                    Exchange *failure) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    const int err = n < 0 ? errno : EPIPE;
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      failure->what = "send: " + errno_text(err);
      return SendResult::kBroken;  // the caller still reads: the answer may be waiting
    }
    PhaseClock phase(timeout_ms, deadline);
    int rev = wait_for(fd, POLLOUT | POLLIN, phase);
    if (rev == 0) {
      *failure = fail(phase.expiry(), "send: timed out (clamd does not read)");
      return SendResult::kExpired;
    }
    if (rev < 0) {
      failure->what = "send: poll: " + errno_text(errno);
      return SendResult::kBroken;
    }
    if (rev & (POLLIN | POLLHUP | POLLERR)) return SendResult::kPeerSpoke;
  }
  return SendResult::kSent;
}

// A reply after which clamd sends nothing more on this command.
bool is_final(std::string_view reply) {
  return reply.ends_with(" OK") || reply.ends_with(" ERROR") || reply == "PONG" ||
         reply.rfind("ClamAV ", 0) == 0;
}

// Reads '\0'-terminated replies until a final one, EOF, or the timeouts.
void read_replies(int fd, uint32_t timeout_ms, const Deadline &deadline, Exchange *ex) {
  std::string buf;
  char tmp[4096];
  auto take_complete = [&]() {
    size_t start = 0;
    for (size_t z; (z = buf.find('\0', start)) != std::string::npos; start = z + 1) {
      ex->replies.push_back(buf.substr(start, z - start));
    }
    buf.erase(0, start);
  };
  for (;;) {
    if (!ex->replies.empty() && is_final(ex->replies.back())) {
      ex->outcome = Outcome::kAnswered;
      return;
    }
    PhaseClock phase(timeout_ms, deadline);
    int rev = wait_for(fd, POLLIN, phase);
    if (rev == 0) {
      // A non-final answer (FOUND under AllMatchScan) is still an answer: it is not clean.
      if (!ex->replies.empty()) {
        ex->outcome = Outcome::kAnswered;
      } else {
        *ex = fail(phase.expiry(), "read: no answer within the timeout");
      }
      return;
    }
    if (rev < 0) {
      *ex = fail(Outcome::kTransport, "read: poll: " + errno_text(errno));
      return;
    }
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      if (buf.size() > kMaxReplyBytes) {
        *ex = fail(Outcome::kTransport, "read: answer longer than 64 KiB");
        return;
      }
      take_complete();
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    const int err = n < 0 ? errno : 0;
    if (!buf.empty()) {
      ex->replies.push_back(buf);  // an unterminated last answer (EOF): keep it
      buf.clear();
    }
    if (!ex->replies.empty()) {
      ex->outcome = Outcome::kAnswered;
    } else {
      *ex = fail(Outcome::kTransport, err == 0 ? "read: connection closed before an answer"
                                               : "read: " + errno_text(err));
    }
    return;
  }
}

// True when the peer has already sent something (or hung up), without waiting.
bool readable_now(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

constexpr std::string_view kSizeRefusal = "INSTREAM size limit exceeded. ERROR";

// An answer read before the zero-length terminator was sent. clamd's only legitimate early
// answer is its StreamMaxLength refusal (kept: it yields kUnscannable, never clean); any other
// ("stream: OK" from a server that closed mid-stream, a verdict sent early) is a transport
// failure, so no verdict is taken from it.
void early_answer(Exchange *ex) {
  for (const std::string &raw : ex->replies) {
    std::string_view r = raw;
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.remove_suffix(1);
    if (r == kSizeRefusal) continue;
    *ex = fail(Outcome::kTransport,
               "answered \"" + std::string(r.substr(0, 80)) + "\" before the end of the stream");
    return;
  }
}

// The kUnscannable name for clamd's "stream: <cl_strerror> ERROR" when it is a limit, else "".
std::string_view limit_name(std::string_view message) {
  static const std::pair<cl_error_t, std::string_view> kLimits[] = {
      {CL_ETIMEOUT, "Limits.Exceeded.ScanTime"},
      {CL_EMAXSIZE, "Limits.Exceeded.Size"},
      {CL_EMAXFILES, "Limits.Exceeded.Files"},
      {CL_EMAXREC, "Limits.Exceeded.Recursion"},
  };
  for (const auto &[rc, name] : kLimits) {
    if (message == cl_strerror(rc)) return name;
  }
  return {};
}

Result<void> parse_address(const std::string &address, std::vector<Endpoint> *out) {
  auto bad = [&](const std::string &why) {
    return make_error(ErrorCode::kConfig, "address: " + why + " (got \"" + address + "\")");
  };
  if (address.starts_with(kUnix)) {
    const std::string path = address.substr(kUnix.size());
    Endpoint ep;
    auto *un = reinterpret_cast<sockaddr_un *>(&ep.addr);
    if (path.empty() || path.front() != '/') return bad("unix socket path must be absolute");
    if (path.size() >= sizeof un->sun_path) {
      return bad("unix socket path longer than " + std::to_string(sizeof un->sun_path - 1));
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
    ep.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    out->push_back(ep);
    return {};
  }
  if (!address.starts_with(kTcp)) return bad("expected unix:/path or tcp:host:port");
  std::string rest = address.substr(kTcp.size());
  std::string host, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("expected tcp:[v6-address]:port");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) return bad("expected tcp:host:port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return bad("expected a host and a port 1-65535");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo *res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return bad(std::string("cannot resolve: ") + ::gai_strerror(rc));
  for (addrinfo *ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Endpoint ep;
    std::memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
    ep.len = ai->ai_addrlen;
    out->push_back(ep);
  }
  ::freeaddrinfo(res);
  if (out->empty()) return bad("resolves to no address");
  return {};
}

// Counting semaphore bounding connections.
class Slots {
 public:
  explicit Slots(uint32_t n) : free_(n) {}
  bool acquire_until(Clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, until, [this] { return free_ > 0; })) return false;
    --free_;
    return true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t free_;
};

}  // namespace

ClamdOptions ClamdOptions::from(const Config &config) {
  ClamdOptions o;
  if (!config.clamd_addresses.empty()) {
    o.address = config.clamd_addresses.front();
    o.backup_addresses.assign(config.clamd_addresses.begin() + 1, config.clamd_addresses.end());
  }
  o.required = config.clamd_required;
  o.connect_timeout_ms = config.clamd_connect_timeout_ms;
  o.read_timeout_ms = config.clamd_read_timeout_ms;
  o.stream_max_length = config.clamd_stream_max_length;
  o.pool_size = config.clamd_pool_size;
  o.retries = config.clamd_retries;
  return o;
}

Result<void> ClamdOptions::validate() const {
  auto bad = [](const std::string &m) { return make_error(ErrorCode::kConfig, m); };
  if (connect_timeout_ms == 0) return bad("connect_timeout_ms: must be > 0");
  if (read_timeout_ms == 0) return bad("read_timeout_ms: must be > 0");
  if (pool_size == 0) return bad("pool_size: must be > 0");
  if (stream_max_length == 0 || stream_max_length > kMaxStreamLength) {
    return bad("stream_max_length: must be 1 .. 4294967295");
  }
  std::vector<std::string> all = {address};
  all.insert(all.end(), backup_addresses.begin(), backup_addresses.end());
  for (const std::string &a : all) {
    std::vector<Endpoint> eps;
    if (!a.starts_with(kUnix) && !a.starts_with(kTcp)) {
      return bad("address: expected unix:/path or tcp:host:port (got \"" + a + "\")");
    }
    if (a.starts_with(kUnix))
      if (auto r = parse_address(a, &eps); !r) return r;  // tcp: resolved by open()
  }
  return {};
}

// One clamd: its address as configured and what it resolved to.
struct Server {
  std::string address;
  std::vector<Endpoint> endpoints;
};

struct ClamdEngine::Impl {
  ClamdOptions options;
  std::vector<Server> servers;  // address first, then the backups, in order
  Slots slots;

  Impl(ClamdOptions o, std::vector<Server> sv)
      : options(std::move(o)), servers(std::move(sv)), slots(options.pool_size) {}

  static std::string prefix(const Server &sv) { return "clamd at " + sv.address + ": "; }
  std::string prefix() const { return prefix(servers.front()); }

  // One connection: send `request` (already framed), read the answer.
  Exchange exchange(const Server &server, std::string_view command, std::string_view payload,
                    uint32_t read_timeout_ms, const Deadline &deadline) const {
    Exchange ex;
    Socket s = connect_any(server.endpoints, options.connect_timeout_ms, deadline, &ex);
    if (s.fd() < 0) return ex;
    SendResult sent = send_all(s.fd(), command, read_timeout_ms, deadline, &ex);
    if (sent == SendResult::kSent && !payload.empty()) {
      // zINSTREAM: <4-byte big-endian length><bytes> ..., then a zero length.
      for (size_t off = 0; off < payload.size() && sent == SendResult::kSent;) {
        const size_t n = std::min(kChunkBytes, payload.size() - off);
        const uint32_t be = htonl(static_cast<uint32_t>(n));
        char header[4];
        std::memcpy(header, &be, sizeof be);
        sent = send_all(s.fd(), std::string_view(header, sizeof header), read_timeout_ms, deadline,
                        &ex);
        if (sent == SendResult::kSent) {
          sent = send_all(s.fd(), payload.substr(off, n), read_timeout_ms, deadline, &ex);
        }
        off += n;
      }
      // Whatever clamd says before it has the terminator is not about the whole part: a peer
      // that spoke (or hung up) by now answered early, so the terminator is not sent.
      if (sent == SendResult::kSent && !readable_now(s.fd())) {
        static const char kEnd[4] = {0, 0, 0, 0};
        sent = send_all(s.fd(), std::string_view(kEnd, 4), read_timeout_ms, deadline, &ex);
      } else if (sent == SendResult::kSent) {
        sent = SendResult::kPeerSpoke;
      }
    }
    if (sent == SendResult::kExpired) return ex;
    const std::string send_error = sent == SendResult::kBroken ? ex.what : std::string();
    read_replies(s.fd(), read_timeout_ms, deadline, &ex);
    if (ex.outcome == Outcome::kTransport && !send_error.empty()) ex.what = send_error;
    if (sent != SendResult::kSent && ex.outcome == Outcome::kAnswered) early_answer(&ex);
    return ex;
  }
};

ClamdEngine::ClamdEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClamdEngine::~ClamdEngine() = default;

Result<std::unique_ptr<ClamdEngine>> ClamdEngine::open(const ClamdOptions &options) {
  if (auto v = options.validate(); !v) return v.error();
  std::vector<Server> servers;
  std::vector<std::string> all = {options.address};
  all.insert(all.end(), options.backup_addresses.begin(), options.backup_addresses.end());
  for (const std::string &a : all) {
    Server sv{a, {}};
    if (auto r = parse_address(a, &sv.endpoints); !r) return r.error();
    servers.push_back(std::move(sv));
  }
  return std::unique_ptr<ClamdEngine>(
      new ClamdEngine(std::make_unique<Impl>(options, std::move(servers))));
}

bool ClamdEngine::required() const {
  return impl_->options.required;
}

const std::string &ClamdEngine::address() const {
  return impl_->options.address;
}

Result<Findings> ClamdEngine::scan(const ScanItem &item, const Deadline &deadline) {
  const ClamdOptions &o = impl_->options;
  Findings findings;
  auto add = [&](FindingKind kind, std::string name, std::string detail) {
    Finding f;
    f.kind = kind;
    f.inspector = "clamd";
    f.name = std::move(name);
    f.part_path = std::string(item.part_path);
    f.filename = std::string(item.filename);
    f.detail = std::move(detail);
    findings.push_back(std::move(f));
  };
  auto scan_time = [&]() -> Result<Findings> {
    add(FindingKind::kUnscannable, "Limits.Exceeded.ScanTime",
        "the scan deadline passed before clamd answered");
    return findings;
  };
  if (deadline.expired()) return scan_time();
  if (item.data.empty()) return findings;
  if (item.data.size() > o.stream_max_length) {
    add(FindingKind::kUnscannable, "Limits.Exceeded.StreamMaxLength",
        std::to_string(item.data.size()) + " bytes is more than clamd accepts (stream_max_length " +
            std::to_string(o.stream_max_length) + ")");
    return findings;
  }

  // A slot, waiting no longer than one full exchange could take (or the deadline).
  const uint64_t slot_ms = uint64_t{o.connect_timeout_ms} + o.read_timeout_ms;
  const bool deadline_first = deadline.remaining_ms() < slot_ms;
  const auto until =
      Clock::now() + std::chrono::milliseconds(deadline_first ? deadline.remaining_ms() : slot_ms);
  if (!impl_->slots.acquire_until(until)) {
    if (deadline_first) return scan_time();
    return make_error(ErrorCode::kTimeout, impl_->prefix() + "all " + std::to_string(o.pool_size) +
                                               " connections busy for " + std::to_string(slot_ms) +
                                               " ms");
  }
  struct Release {
    Slots *s;
    ~Release() { s->release(); }
  } release{&impl_->slots};

  static constexpr char kInstream[] = "zINSTREAM";  // with its '\0' terminator
  Exchange ex;
  std::string all_failures;  // "clamd at A: ...; clamd at B: ..." when no clamd answered
  const Server *served = nullptr;
  for (const Server &server : impl_->servers) {
    std::string failures;
    for (uint32_t attempt = 0; attempt <= o.retries; ++attempt) {
      ex = impl_->exchange(server, std::string_view(kInstream, sizeof kInstream), item.data,
                           o.read_timeout_ms, deadline);
      if (ex.outcome != Outcome::kTransport) break;
      failures += (failures.empty() ? "" : "; then ") + ex.what;
      if (deadline.expired()) break;
    }
    if (ex.outcome == Outcome::kAnswered) {
      served = &server;
      break;
    }
    if (ex.outcome == Outcome::kDeadline || deadline.expired()) return scan_time();
    // Fail over to the next address (a timeout, or a connection that gave no answer).
    all_failures += (all_failures.empty() ? "" : "; ") + Impl::prefix(server) +
                    (ex.outcome == Outcome::kTimeout ? ex.what : failures);
  }
  if (served == nullptr) {
    const std::string why =
        impl_->servers.size() == 1 ? all_failures : "no clamd answered: " + all_failures;
    return make_error(ex.outcome == Outcome::kTimeout ? ErrorCode::kTimeout : ErrorCode::kEngine,
                      why);
  }

  bool clean = false;
  std::string error;
  for (const std::string &raw : ex.replies) {
    std::string_view r = raw;
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.remove_suffix(1);
    if (r == kSizeRefusal) {
      add(FindingKind::kUnscannable, "Limits.Exceeded.StreamMaxLength",
          "clamd refused " + std::to_string(item.data.size()) +
              " bytes: more than its StreamMaxLength (set stream_max_length to match clamd.conf)");
      continue;
    }
    static constexpr std::string_view kStream = "stream: ";
    if (!r.starts_with(kStream)) {
      error +=
          (error.empty() ? "" : "; ") + std::string("unexpected answer \"") + std::string(r) + "\"";
      continue;
    }
    r.remove_prefix(kStream.size());
    if (r == "OK") {
      clean = true;
    } else if (r.ends_with(" FOUND")) {
      std::string name(r.substr(0, r.size() - 6));
      const std::string detail = "clamd at " + served->address + " reported " + name;
      if (name.ends_with(kUnofficial) && name.size() > kUnofficial.size()) {
        name.resize(name.size() - kUnofficial.size());
      }
      const bool unscannable = name.starts_with("Heuristics.Encrypted") ||
                               name.starts_with("Heuristics.Limits.Exceeded");
      add(unscannable ? FindingKind::kUnscannable : FindingKind::kVirus, std::move(name), detail);
    } else if (r.ends_with(" ERROR")) {
      std::string_view message = r.substr(0, r.size() - 6);
      std::string_view limit = limit_name(message);
      if (!limit.empty()) {
        add(FindingKind::kUnscannable, std::string(limit), "clamd: " + std::string(message));
      } else {
        error += (error.empty() ? "" : "; ") + std::string(message);
      }
    } else {
      error += (error.empty() ? "" : "; ") + std::string("unexpected answer \"stream: ") +
               std::string(r) + "\"";
    }
  }
  if (!error.empty()) {
    if (findings.empty()) return make_error(ErrorCode::kEngine, Impl::prefix(*served) + error);
    // Something was found before clamd failed: keep it, and say the rest was not seen.
    add(FindingKind::kUnscannable, "Unscannable.EngineError", Impl::prefix(*served) + error);
  }
  if (findings.empty() && !clean) {
    return make_error(ErrorCode::kEngine, Impl::prefix(*served) + "no verdict in the answer");
  }
  return findings;
}

EngineStatus ClamdEngine::status() const {
  EngineStatus s;
  s.name = "clamd";
  s.required = impl_->options.required;
  s.signatures_known = false;
  static constexpr char kVersion[] = "zVERSION";
  Exchange ex;
  const Server *served = nullptr;
  std::string down;
  for (const Server &server : impl_->servers) {
    SignatureSource src;
    if (served != nullptr) {
      src.path = server.address + " (backup)";
      s.sources.push_back(src);
      continue;
    }
    // Each address is probed within connect_timeout_ms, so a hung one does not hide the next.
    const Deadline probe = Deadline::after_ms(impl_->options.connect_timeout_ms);
    ex = impl_->exchange(server, std::string_view(kVersion, sizeof kVersion), {},
                         impl_->options.connect_timeout_ms, probe);
    if (ex.outcome == Outcome::kAnswered && !ex.replies.empty()) {
      served = &server;
      src.path = server.address + " (serving)";
    } else {
      const std::string why = ex.what.empty() ? "no answer" : ex.what;
      src.path = server.address + " (down: " + why + ")";
      down += (down.empty() ? "" : "; ") + Impl::prefix(server) + why;
    }
    s.sources.push_back(src);
  }
  if (served == nullptr) {
    s.error = down;
    return s;
  }
  // "ClamAV 1.4.6" or "ClamAV 1.4.6/27000/Mon Nov 23 08:00:00 2026"
  std::string v = ex.replies.front();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  if (!v.starts_with("ClamAV ")) {
    s.error = Impl::prefix(*served) + "unexpected VERSION answer \"" + v + "\"";
    return s;
  }
  const auto slash = v.find('/');
  if (slash == std::string::npos) {
    s.db_version = v;
    return s;
  }
  const std::string engine = v.substr(0, slash);
  const auto slash2 = v.find('/', slash + 1);
  const std::string daily =
      v.substr(slash + 1, slash2 == std::string::npos ? std::string::npos : slash2 - slash - 1);
  s.db_version = "daily " + daily + " (" + engine + ")";
  if (slash2 != std::string::npos) {
    std::tm tm{};
    const std::string date = v.substr(slash2 + 1);
    if (::strptime(date.c_str(), "%a %b %d %H:%M:%S %Y", &tm) != nullptr) {
      tm.tm_isdst = -1;
      s.db_time = static_cast<int64_t>(std::mktime(&tm));  // clamd prints local time (ctime)
    }
  }
  return s;
}

}  // namespace avsink::engines

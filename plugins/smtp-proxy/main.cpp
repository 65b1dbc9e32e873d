// main.cpp - avsink-smtpd: options -> listening socket -> drop privileges -> engine -> accept loop
// (one thread per connection, bounded) -> drain. Never serves as root.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <avsink/avsink.h>

#include "root_paths.h"  // the milter's root phase and privilege drop
#include "session.h"
#include "smtpd_options.h"

namespace {

using namespace avsink::smtpd;

[[noreturn]] void die(int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "avsink-smtpd: %s\n", buf);
  syslog(LOG_ERR, "%s", buf);
  std::exit(code);
}

void engine_log(void *, avsink_log_level level, const char *message) {
  int prio = level >= AVSINK_LOG_PANIC   ? LOG_CRIT
             : level == AVSINK_LOG_ERROR ? LOG_ERR
             : level == AVSINK_LOG_WARN  ? LOG_WARNING
             : level == AVSINK_LOG_INFO  ? LOG_INFO
                                         : LOG_DEBUG;
  syslog(prio, "engine: %s", message != nullptr ? message : "");
}

int listen_on(const std::string &host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo *res = nullptr;
  std::string svc = std::to_string(port);
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  int rc = getaddrinfo(h.c_str(), svc.c_str(), &hints, &res);
  if (rc != 0) die(1, "listen address %s: %s", host.c_str(), gai_strerror(rc));
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(1, "socket: %s", std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
    die(1, "cannot listen on %s:%u: %s", host.c_str(), port, std::strerror(errno));
  freeaddrinfo(res);
  if (listen(fd, 128) != 0) die(1, "listen: %s", std::strerror(errno));
  return fd;
}

std::mutex g_mu;
std::condition_variable g_cv;
int g_active = 0;

}  // namespace

int main(int argc, char **argv) {
  Options opts;
  std::string why = parse_options(argc, argv, &opts);
  if (!why.empty()) {
    std::fprintf(stderr, "avsink-smtpd: %s\n%s", why.c_str(), kUsage);
    return 2;
  }
  if (opts.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  uint32_t abi = avsink_abi_version();
  if (!AVSINK_ABI_COMPATIBLE(abi)) {
    std::fprintf(stderr, "avsink-smtpd: libavsink ABI %u.%u is incompatible with %u.%u\n",
                 abi >> 16, abi & 0xffff, AVSINK_ABI_MAJOR, AVSINK_ABI_MINOR);
    return 1;
  }
  if (opts.version) {
    std::printf("avsink-smtpd %s (ABI %u.%u)\n", avsink_version_string(), abi >> 16, abi & 0xffff);
    return 0;
  }
  openlog("avsink-smtpd", LOG_PID | LOG_NDELAY | (opts.foreground ? LOG_PERROR : 0), LOG_MAIL);
  if (std::string w =
          avsink::milter::check_start(opts.user, {{opts.pid_file, "pid file directory"}});
      !w.empty())
    die(1, "%s", w.c_str());
  if (!opts.foreground) {
    if (daemon(0, 0) != 0) die(1, "daemon: %s", std::strerror(errno));
  }
  if (!opts.pid_file.empty()) {
    std::string w = avsink::milter::write_pid_file(opts.pid_file, static_cast<long>(getpid()));
    if (!w.empty()) die(1, "%s", w.c_str());
  }
  int lfd = listen_on(opts.listen_host, opts.listen_port);
  if (std::string w = avsink::milter::drop_privileges(opts.user, "", "-u"); !w.empty())
    die(1, "%s", w.c_str());

  // Signals: blocked in every thread (the engine's watchers included), read by the accept loop.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGHUP);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &handled, SFD_CLOEXEC);
  if (sfd < 0) die(1, "signalfd: %s", std::strerror(errno));

  static Shared shared;  // outlives detached connection threads at exit
  shared.options = opts;
  shared.hostname = opts.hostname;
  if (shared.hostname.empty()) {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') std::strcpy(buf, "localhost");
    shared.hostname = buf;
  }
  avsink_engine_options eo = AVSINK_ENGINE_OPTIONS_INIT;
  eo.config_path = opts.config_path.empty() ? nullptr : opts.config_path.c_str();
  eo.log = engine_log;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_status st = avsink_engine_open(&shared.engine, &eo, &err);
  if (st != AVSINK_OK)
    die(1, "cannot open the avsink engine: %s: %s%s%s", avsink_strerror(st), err.message,
        err.file[0] ? " in " : "", err.file);
  syslog(LOG_INFO, "avsink-smtpd %s listening on %s:%u, next hop %s:%s:%u, mode %s, user %s",
         avsink_version_string(), opts.listen_host.c_str(), opts.listen_port,
         opts.next_lmtp ? "lmtp" : "smtp", opts.next_host.c_str(), opts.next_port,
         opts.mode == Mode::kBeforeQueue ? "before-queue" : "after-queue",
         opts.user.empty() ? "(unchanged)" : opts.user.c_str());

  for (;;) {
    pollfd p[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(1, "poll: %s", std::strerror(errno));
    if (p[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          avsink_error e = AVSINK_ERROR_INIT;
          syslog(LOG_INFO, "SIGHUP: reloading rules, lists and signatures");
          avsink_status rs = avsink_engine_reload(shared.engine, &e);
          if (rs == AVSINK_OK)
            syslog(LOG_INFO, "reload complete");
          else
            syslog(LOG_ERR, "reload failed (%s): %s; the last good generation stays in use",
                   avsink_strerror(rs), e.message);
        } else {
          syslog(LOG_INFO, "%s: no new connections; draining",
                 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
          break;
        }
      }
    }
    if (p[0].revents & POLLIN) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int cfd = accept4(lfd, reinterpret_cast<sockaddr *>(&peer), &len, SOCK_CLOEXEC);
      if (cfd < 0) continue;
      int one = 1;  // replies are small writes; no Nagle wait for the client's delayed ACK
      setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      {
        std::lock_guard<std::mutex> lock(g_mu);
        if (g_active >= opts.max_connections) {
          syslog(LOG_WARNING, "connection refused: %d connections (--max-connections %d)", g_active,
                 opts.max_connections);
          refuse_busy(cfd, shared);
          continue;
        }
        ++g_active;
      }
      try {
        std::thread([cfd, peer] {
          serve_connection(cfd, peer, shared);
          std::lock_guard<std::mutex> lock(g_mu);
          if (--g_active == 0) g_cv.notify_all();
        }).detach();
      } catch (const std::exception &e) {
        syslog(LOG_ERR, "cannot start a connection thread: %s", e.what());
        refuse_busy(cfd, shared);
        std::lock_guard<std::mutex> lock(g_mu);
        --g_active;
      }
    }
  }
  close(lfd);
  bool drained;
  {
    std::unique_lock<std::mutex> lock(g_mu);
    drained =
        g_cv.wait_for(lock, std::chrono::seconds(opts.drain_seconds), [] { return g_active == 0; });
  }
  if (!opts.pid_file.empty()) unlink(opts.pid_file.c_str());
  if (!drained) {
    syslog(LOG_WARNING,
           "drain timeout: exiting with connections in flight (their mail stays "
           "with the sender)");
    closelog();
    _exit(0);
  }
  avsink_engine_free(shared.engine);
  syslog(LOG_INFO, "stopped");
  closelog();
  return 0;
}

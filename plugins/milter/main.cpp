// main.cpp - avsink-milter: options -> socket -> drop privileges -> engine -> smfi_main -> drain.
// Exits non-zero with a clear message when anything fails before it serves; never serves as root.
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include <avsink/avsink.h>

#include "callbacks.h"
#include "metrics_http.h"
#include "options.h"
#include "root_paths.h"

// libmilter's signal thread stops the milter on SIGHUP as on SIGTERM. The executable links
// libmilter statically with -Wl,--wrap=sigwait, so its sigwait() lands here: SIGHUP reloads the
// engine and the wait goes on; every other signal is returned to libmilter unchanged.
extern "C" int __real_sigwait(const sigset_t *set, int *sig);
extern "C" int __wrap_sigwait(const sigset_t *set, int *sig);

namespace {

using avsink::milter::mlog;
using avsink::milter::runtime;

int g_ready_fd = -1;  // write end of the start-up pipe to the waiting parent (daemon mode)

// Start-up failure: to stderr and syslog, then exit. The parent (daemon mode) exits with `code`.
[[noreturn]] void die(int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  // With -f --log-json syslog's stderr copy is the JSON line; a plain one would break the stream.
  const auto &o = runtime().options;
  if (!(o.log_json && o.foreground)) std::fprintf(stderr, "avsink-milter: %s\n", buf);
  avsink::milter::mlog(LOG_ERR, "%s", buf);
  std::exit(code);
}

void reload_engine() {
  avsink_error err = AVSINK_ERROR_INIT;
  mlog(LOG_INFO, "SIGHUP: reloading rules, lists and signatures");
  avsink_status st = avsink_engine_reload(runtime().engine, &err);
  if (st == AVSINK_OK)
    mlog(LOG_INFO, "reload complete");
  else
    mlog(LOG_ERR, "reload failed (%s): %s%s%s; the last good generation stays in use",
         avsink_strerror(st), err.message, err.file[0] ? " in " : "", err.file);
}

// Fork; the parent waits until the child reports ready (exit 0) or dies (its exit status).
void daemonize() {
  int fds[2];
  if (pipe(fds) != 0) die(1, "pipe: %s", std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) die(1, "fork: %s", std::strerror(errno));
  if (pid > 0) {
    close(fds[1]);
    char ok = 0;
    ssize_t n;
    do n = read(fds[0], &ok, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1 && ok == '0') _exit(0);
    int status = 0;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(1);
  }
  close(fds[0]);
  g_ready_fd = fds[1];
  if (setsid() < 0) die(1, "setsid: %s", std::strerror(errno));
  if (chdir("/") != 0) die(1, "chdir /: %s", std::strerror(errno));
}

void report_ready() {
  if (g_ready_fd < 0) return;
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  ssize_t n = write(g_ready_fd, "0", 1);
  (void)n;
  close(g_ready_fd);
  g_ready_fd = -1;
}

}  // namespace

extern "C" int __wrap_sigwait(const sigset_t *set, int *sig) {
  for (;;) {
    int rc = __real_sigwait(set, sig);
    if (rc == 0 && *sig == SIGHUP && runtime().engine != nullptr) {
      reload_engine();
      continue;
    }
    if (rc == 0 && (*sig == SIGTERM || *sig == SIGINT))
      mlog(LOG_INFO, "%s: no new connections; draining", *sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return rc;
  }
}

int main(int argc, char **argv) {
  using namespace avsink::milter;
  Options opts;
  std::string why = parse_options(argc, argv, &opts);
  if (!why.empty()) {
    std::fprintf(stderr, "avsink-milter: %s\n%s", why.c_str(), kUsage);
    return 2;
  }
  if (opts.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  uint32_t abi = avsink_abi_version();
  if (!AVSINK_ABI_COMPATIBLE(abi)) {
    std::fprintf(stderr,
                 "avsink-milter: libavsink ABI %u.%u is incompatible with the %u.%u this program "
                 "was built for\n",
                 abi >> 16, abi & 0xffff, AVSINK_ABI_MAJOR, AVSINK_ABI_MINOR);
    return 1;
  }
  if (opts.version) {
    unsigned int major = 0, minor = 0, patch = 0;
    smfi_version(&major, &minor, &patch);
    std::printf("avsink-milter %s (ABI %u.%u), libmilter %u.%u.%u\n", avsink_version_string(),
                abi >> 16, abi & 0xffff, major, minor, patch);
    return 0;
  }

  runtime().options.log_json = opts.log_json;  // mlog() and die() read these from here on
  runtime().options.foreground = opts.foreground;
  openlog("avsink-milter", LOG_PID | LOG_NDELAY | (opts.foreground ? LOG_PERROR : 0), LOG_MAIL);
  // Checked before anything is created, so a refusal leaves no socket or pid file behind.
  const std::string socket_path = unix_socket_path(opts.socket);
  // The root phase writes only in directories the -u user cannot change (issue 14 item 2: with a
  // socket directory it owned, that user swapped the socket for a symlink and root chowned the
  // link's target to it).
  if (std::string why = check_start(
          opts.user, {{socket_path, "socket directory"}, {opts.pid_file, "pid file directory"}});
      !why.empty())
    die(1, "%s", why.c_str());
  if (!opts.foreground) daemonize();
  if (!opts.pid_file.empty()) {
    std::string why = write_pid_file(opts.pid_file, static_cast<long>(getpid()));
    if (!why.empty()) die(1, "%s", why.c_str());
  }

  if (smfi_setconn(const_cast<char *>(opts.socket.c_str())) != MI_SUCCESS)
    die(1, "smfi_setconn %s failed", opts.socket.c_str());
  if (smfi_settimeout(opts.milter_timeout) != MI_SUCCESS) die(1, "smfi_settimeout failed");
  if (smfi_register(*filter_description()) != MI_SUCCESS) die(1, "smfi_register failed");
  // The socket is created 0660 by the umask alone (no chmod through a path that could have been
  // swapped): only its owner (the -u user) and its group (add the MTA's user).
  mode_t old_mask = umask(0117);
  int opened = smfi_opensocket(true);  // true: remove a stale unix socket first
  umask(old_mask);
  if (opened != MI_SUCCESS)
    die(1, "cannot open milter socket %s (in use, or its directory missing or not writable)",
        opts.socket.c_str());
  if (std::string why = drop_privileges(opts.user, socket_path, "-u"); !why.empty())
    die(1, "%s", why.c_str());

  // The engine opens after the privilege drop: the quarantine it writes belongs to the -u user,
  // and every file it reloads later must be readable by that user anyway.
  Runtime &rt = runtime();
  rt.options = opts;
  avsink_engine_options eo = AVSINK_ENGINE_OPTIONS_INIT;
  eo.config_path = opts.config_path.empty() ? nullptr : opts.config_path.c_str();
  eo.log = engine_log;
  eo.log_level = AVSINK_LOG_INFO;
  avsink_error err = AVSINK_ERROR_INIT;
  // The engine starts threads (rule and list watchers). Block the signals libmilter's signal
  // thread waits for first, so every thread inherits the mask and a SIGHUP or SIGTERM reaches
  // only that sigwait() (the default action would otherwise end the process).
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGHUP);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  avsink_status st = avsink_engine_open(&rt.engine, &eo, &err);
  if (st != AVSINK_OK) {
    std::string where;
    if (err.file[0] != '\0')
      where = std::string(" (") + err.file +
              (err.line ? ":" + std::to_string(err.line) : std::string()) + ")";
    if (!socket_path.empty()) unlink(socket_path.c_str());
    die(1, "cannot open the avsink engine: %s: %s%s", avsink_strerror(st), err.message,
        where.c_str());
  }
  if (opts.metrics_port >= 0) {
    int bound = 0;
    std::string why = start_metrics(opts.metrics_host, opts.metrics_port, rt.engine, &bound);
    if (!why.empty()) {
      if (!socket_path.empty()) unlink(socket_path.c_str());
      die(1, "%s", why.c_str());
    }
    mlog(LOG_INFO, "metrics on http://%s%s%s:%d/metrics and /healthz",
         opts.metrics_host.find(':') != std::string::npos ? "[" : "", opts.metrics_host.c_str(),
         opts.metrics_host.find(':') != std::string::npos ? "]" : "", bound);
  }
  mlog(LOG_INFO, "avsink-milter %s listening on %s (quarantine mode %s, user %s)",
       avsink_version_string(), opts.socket.c_str(),
       opts.quarantine_mode == QuarantineMode::kHold ? "hold" : "discard",
       opts.user.empty() ? "(unchanged)" : opts.user.c_str());
  report_ready();

  int rc = smfi_main();
  mlog(LOG_INFO, "listener stopped; waiting up to %d s for %d connection(s) in flight",
       opts.drain_seconds, [] {
         std::lock_guard<std::mutex> lock(runtime().mu);
         return runtime().active;
       }());
  bool drained = wait_for_drain(opts.drain_seconds);
  if (!opts.pid_file.empty()) unlink(opts.pid_file.c_str());
  if (!socket_path.empty())
    unlink(socket_path.c_str());  // best effort: the directory may be root's
  if (!drained) {
    // Scans still hold the engine; the MTA sees the socket close and applies its default action.
    mlog(LOG_WARNING, "drain timeout: exiting with connections in flight (MTA tempfails them)");
    closelog();
    _exit(rc == MI_SUCCESS ? 0 : 1);
  }
  stop_metrics();
  avsink_engine_free(rt.engine);
  rt.engine = nullptr;
  mlog(LOG_INFO, "stopped");
  closelog();
  return rc == MI_SUCCESS ? 0 : 1;
}

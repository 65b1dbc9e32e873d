// smtpd_options.cpp - command-line parsing of avsink-smtpd. Loopback-only listening unless
// --allow-remote-inet; the options every daemon has, and what loopback is, come from options.h.
#include "smtpd_options.h"

#include <cctype>
#include <cstring>

namespace avsink::smtpd {

const char kUsage[] =
    "usage: avsink-smtpd -n smtp:HOST:PORT|lmtp:HOST:PORT [-l HOST:PORT] [-c avsink.toml]\n"
    "                    [--mode after-queue|before-queue] [-f] [-p PIDFILE] [-u USER] ...\n"
    "\n"
    "  -n NEXTHOP             where accepted mail goes: smtp:127.0.0.1:10026 or lmtp:HOST:PORT\n"
    "  -l HOST:PORT           listen address (default 127.0.0.1:10025; loopback only unless\n"
    "                         --allow-remote-inet)\n"
    "  -c FILE                avsink configuration (default: the embedded defaults)\n"
    "  --mode M               after-queue (content_filter, default) or before-queue\n"
    "                         (smtpd_proxy_filter: MAIL and RCPT go to the next hop at once)\n"
    "  -f                     stay in the foreground; log to stderr as well as syslog\n"
    "  -p FILE                write the process id to FILE\n"
    "  -u USER                drop privileges to USER after binding (required as root)\n"
    "  --hostname NAME        name in the greeting and EHLO reply\n"
    "  --xforward             accept XFORWARD (Postfix) client attributes for the rules\n"
    "  --xclient              accept XCLIENT client attributes for the rules\n"
    "  --max-connections N    answer 421 beyond N connections at once (default 64)\n"
    "  --max-size BYTES       SIZE limit; larger messages get 552 5.3.4 (default 52428800)\n"
    "  --max-line BYTES       longest command or data line with CRLF (default 4096)\n"
    "  --max-commands N       commands per connection before 421 (default 10000)\n"
    "  --max-recipients N     recipients per message before 452 (default 1000)\n"
    "  --max-errors N         error replies per connection before 421 (default 20)\n"
    "  --idle-timeout S       seconds to wait for the client (default 300)\n"
    "  --total-timeout S      seconds per connection (default 3600)\n"
    "  --relay-timeout S      seconds per next-hop read or write (default 120)\n"
    "  --drain-timeout S      on SIGTERM, wait S seconds for connections (default 30)\n"
    "  --log-json             log avsink's JSON record as the per-message line\n"
    "  --allow-remote-inet    allow a non-loopback listen address\n"
    "  -V, --version          print versions and exit\n"
    "Signals: SIGHUP reloads rules, lists and signatures; SIGTERM drains and exits.\n";

using milter::parse_number;
using milter::split_host_port;

std::string parse_options(int argc, char **argv, Options *out) {
  Options o;
  std::string listen;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    long long n = 0;
    struct NumOpt {
      const char *name;
      long long lo, hi;
    };
    std::string error;
    const int taken = milter::take_daemon_option(argc, argv, &i, &o, &error);
    if (taken < 0) return error;
    if (taken > 0) continue;
    if (a == "--xforward") {
      o.xforward = true;
    } else if (a == "--xclient") {
      o.xclient = true;
    } else if (a == "-l" || a == "-n" || a == "--mode" || a == "--hostname") {
      const char *v = need();
      if (v == nullptr) return "option " + a + " needs a value";
      if (a == "-l") {
        listen = v;
      } else if (a == "-n") {
        std::string s = v;
        if (s.rfind("smtp:", 0) == 0) {
          o.next_lmtp = false;
        } else if (s.rfind("lmtp:", 0) == 0) {
          o.next_lmtp = true;
        } else {
          return "-n must be smtp:HOST:PORT or lmtp:HOST:PORT, got '" + s + "'";
        }
        if (!split_host_port(s.substr(5), &o.next_host, &o.next_port))
          return "-n: bad HOST:PORT in '" + s + "'";
      } else if (a == "--hostname") {
        o.hostname = v;
        for (char c : o.hostname)
          if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
            return "--hostname: bad host name '" + o.hostname + "'";
      } else if (std::strcmp(v, "before-queue") == 0) {
        o.mode = Mode::kBeforeQueue;
      } else if (std::strcmp(v, "after-queue") == 0) {
        o.mode = Mode::kAfterQueue;
      } else {
        return std::string("--mode must be before-queue or after-queue, got '") + v + "'";
      }
    } else {
      static const NumOpt kNums[] = {
          {"--max-connections", 1, 100000}, {"--max-size", 1024, 1LL << 40},
          {"--max-line", 512, 1 << 20},     {"--max-commands", 10, 10000000},
          {"--max-recipients", 1, 100000},  {"--max-errors", 1, 100000},
          {"--idle-timeout", 1, 86400},     {"--total-timeout", 1, 864000},
          {"--relay-timeout", 1, 86400}};
      const NumOpt *opt = nullptr;
      for (const auto &k : kNums)
        if (a == k.name) opt = &k;
      if (opt == nullptr) return "unknown argument '" + a + "'";
      const char *v = need();
      if (v == nullptr) return "option " + a + " needs a value";
      if (!parse_number(v, opt->lo, opt->hi, &n))
        return a + ": bad number '" + v + "' (" + std::to_string(opt->lo) + ".." +
               std::to_string(opt->hi) + ")";
      if (a == "--max-connections")
        o.max_connections = static_cast<int>(n);
      else if (a == "--max-size")
        o.max_size = static_cast<uint64_t>(n);
      else if (a == "--max-line")
        o.max_line = static_cast<size_t>(n);
      else if (a == "--max-commands")
        o.max_commands = static_cast<int>(n);
      else if (a == "--max-recipients")
        o.max_rcpts = static_cast<int>(n);
      else if (a == "--max-errors")
        o.max_errors = static_cast<int>(n);
      else if (a == "--idle-timeout")
        o.idle_timeout = static_cast<int>(n);
      else if (a == "--total-timeout")
        o.total_timeout = static_cast<int>(n);
      else
        o.relay_timeout = static_cast<int>(n);
    }
  }
  if (!o.help && !o.version) {
    if (!listen.empty() && !split_host_port(listen, &o.listen_host, &o.listen_port))
      return "-l: bad HOST:PORT '" + listen + "'";
    std::string why = milter::check_socket(
        "inet:" + std::to_string(o.listen_port) + "@" + o.listen_host, o.allow_remote);
    if (!why.empty()) return "-l: " + why;
    if (o.next_host.empty()) return "no next hop given (-n smtp:127.0.0.1:10026)";
  }
  *out = o;
  return "";
}

}  // namespace avsink::smtpd

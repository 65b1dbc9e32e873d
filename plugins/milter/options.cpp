// options.cpp - command-line parsing and socket checks for avsink-milter, and the parts every
// avsink daemon's command line shares. Loopback only unless --allow-remote-inet.
#include "options.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace avsink::milter {

const char kUsage[] =
    "usage: avsink-milter -s SOCKET [-c avsink.toml] [-f] [-p PIDFILE] [-u USER]\n"
    "                     [--quarantine-mode discard|hold] [--max-connections N]\n"
    "                     [--drain-timeout SECONDS] [--timeout SECONDS] [--log-json]\n"
    "                     [--no-recipient-split] [--allow-remote-inet]\n"
    "                     [--metrics HOST:PORT]\n"
    "\n"
    "  -s SOCKET            unix:/path/milter.sock or inet:PORT@127.0.0.1\n"
    "  -c FILE              avsink configuration (default: the embedded defaults)\n"
    "  -f                   stay in the foreground; log to stderr as well as syslog\n"
    "  -p FILE              write the process id to FILE\n"
    "  -u USER              drop privileges to USER after opening the socket\n"
    "  --quarantine-mode M  QUARANTINE verdicts: discard (default) or hold (MTA hold queue)\n"
    "  --max-connections N  tempfail MTA connections beyond N at once (default 256)\n"
    "  --drain-timeout S    on SIGTERM, wait S seconds for messages in flight (default 30)\n"
    "  --timeout S          I/O timeout with the MTA (default 600)\n"
    "  --log-json           log avsink's JSON record as the per-message line\n"
    "  --allow-remote-inet  allow an inet socket (and --metrics) on a non-loopback address\n"
    "  --metrics HOST:PORT  serve GET /metrics (Prometheus) and GET /healthz (200 healthy,\n"
    "                       503 degraded) on HOST:PORT, e.g. 127.0.0.1:9187\n"
    "  --no-recipient-split keep recipients of different policies in one transaction\n"
    "  -V, --version        print versions and exit\n"
    "Signals: SIGHUP reloads rules, lists and signatures; SIGTERM drains and exits.\n";

namespace {

bool parse_int(const char *text, int lo, int hi, int *out) {
  long long v = 0;
  if (!parse_number(text, lo, hi, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

bool parse_number(const char *text, long long lo, long long hi, long long *out) {
  char *end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool split_host_port(const std::string &s, std::string *host, uint16_t *port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  else if (h.find(':') != std::string::npos)
    return false;
  long long p = 0;
  if (h.empty() || !parse_number(s.substr(colon + 1).c_str(), 1, 65535, &p)) return false;
  *host = h;
  *port = static_cast<uint16_t>(p);
  return true;
}

bool is_loopback(const std::string &host) {
  if (host == "localhost" || host == "ip6-localhost") return true;
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.rfind("IPv6:", 0) == 0) h = h.substr(5);
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

int take_daemon_option(int argc, char **argv, int *i, DaemonOptions *o, std::string *error) {
  const std::string a = argv[*i];
  if (a == "-h" || a == "--help") {
    o->help = true;
  } else if (a == "-V" || a == "--version") {
    o->version = true;
  } else if (a == "-f") {
    o->foreground = true;
  } else if (a == "--log-json") {
    o->log_json = true;
  } else if (a == "--allow-remote-inet") {
    o->allow_remote = true;
  } else if (a == "-c" || a == "-p" || a == "-u" || a == "--drain-timeout") {
    if (*i + 1 >= argc) {
      *error = "option " + a + " needs a value";
      return -1;
    }
    const char *v = argv[++*i];
    if (a == "-c") {
      o->config_path = v;
    } else if (a == "-p") {
      o->pid_file = v;
    } else if (a == "-u") {
      o->user = v;
    } else if (!parse_int(v, 0, 3600, &o->drain_seconds)) {
      *error = std::string("--drain-timeout: bad number '") + v + "' (0..3600)";
      return -1;
    }
  } else {
    return 0;
  }
  return 1;
}

std::string unix_socket_path(const std::string &spec) {
  for (const char *p : {"unix:", "local:"})
    if (spec.rfind(p, 0) == 0) return spec.substr(std::strlen(p));
  if (!spec.empty() && spec[0] == '/') return spec;
  return "";
}

std::string check_socket(const std::string &spec, bool allow_remote) {
  if (spec.empty()) return "no socket given (-s unix:/path or -s inet:PORT@127.0.0.1)";
  std::string path = unix_socket_path(spec);
  if (!path.empty()) {
    if (path[0] != '/') return "unix socket path must be absolute: " + path;
    if (path.size() >= 100) return "unix socket path too long: " + path;
    return "";
  }
  size_t colon = spec.find(':');
  std::string kind = colon == std::string::npos ? "" : spec.substr(0, colon);
  if (kind != "inet" && kind != "inet6") return "unknown socket type in '" + spec + "'";
  std::string rest = spec.substr(colon + 1);
  size_t at = rest.find('@');
  int port = 0;
  if (!parse_int(rest.substr(0, at).c_str(), 1, 65535, &port)) return "bad port in '" + spec + "'";
  if (at == std::string::npos)
    return "inet socket without an address listens on all interfaces; use inet:PORT@127.0.0.1";
  std::string host = rest.substr(at + 1);
  if (!allow_remote && !is_loopback(host))
    return "refusing inet socket on non-loopback address '" + host +
           "' (pass --allow-remote-inet to allow it)";
  return "";
}

std::string parse_metrics_address(const std::string &spec, bool allow_remote, std::string *host,
                                  int *port) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return "--metrics needs HOST:PORT, e.g. 127.0.0.1:9187, got '" + spec + "'";
  std::string h = spec.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") h = "127.0.0.1";
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, h.c_str(), &a4) != 1 && inet_pton(AF_INET6, h.c_str(), &a6) != 1)
    return "--metrics host must be an IP address, got '" + h + "'";
  if (!parse_int(spec.substr(colon + 1).c_str(), 0, 65535, port))
    return "--metrics: bad port in '" + spec + "'";
  if (!allow_remote && !is_loopback(h))
    return "refusing --metrics on non-loopback address '" + h +
           "' (pass --allow-remote-inet to allow it)";
  *host = h;
  return "";
}

std::string parse_options(int argc, char **argv, Options *out) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string error;
    const int taken = take_daemon_option(argc, argv, &i, &o, &error);
    if (taken < 0) return error;
    if (taken > 0) continue;
    std::string a = argv[i];
    auto need = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    const char *v = nullptr;
    if (a == "--no-recipient-split") {
      o.recipient_split = false;
    } else if (a == "-s" || a == "--quarantine-mode" || a == "--max-connections" ||
               a == "--timeout" || a == "--metrics") {
      if ((v = need()) == nullptr) return "option " + a + " needs a value";
      if (a == "-s") {
        o.socket = v;
      } else if (a == "--metrics") {
        o.metrics_host = v;  // checked below, once --allow-remote-inet is known
      } else if (a == "--quarantine-mode") {
        if (std::strcmp(v, "discard") == 0) {
          o.quarantine_mode = QuarantineMode::kDiscard;
        } else if (std::strcmp(v, "hold") == 0) {
          o.quarantine_mode = QuarantineMode::kHold;
        } else {
          return std::string("--quarantine-mode must be discard or hold, got '") + v + "'";
        }
      } else if (a == "--max-connections") {
        if (!parse_int(v, 1, 100000, &o.max_connections))
          return std::string("--max-connections: bad number '") + v + "'";
      } else if (!parse_int(v, 1, 86400, &o.milter_timeout)) {
        return std::string("--timeout: bad number '") + v + "'";
      }
    } else {
      return "unknown argument '" + a + "'";
    }
  }
  if (!o.help && !o.version) {
    std::string why = check_socket(o.socket, o.allow_remote);
    if (!why.empty()) return why;
    if (!o.metrics_host.empty()) {
      std::string spec = o.metrics_host;
      why = parse_metrics_address(spec, o.allow_remote, &o.metrics_host, &o.metrics_port);
      if (!why.empty()) return why;
    }
  }
  *out = o;
  return "";
}

}  // namespace avsink::milter

// options.h - the command line of avsink-milter, parsed into one Options value.
// Parsing never exits or prints; a bad command line yields the reason, checked before anything
// starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace avsink::milter {

enum class QuarantineMode { kDiscard, kHold };

// What every avsink daemon's command line has (avsink-milter, avsink-smtpd): one parser for it.
struct DaemonOptions {
  std::string config_path;    // -c: avsink.toml ("" = the embedded defaults)
  bool foreground = false;    // -f: do not fork; log to stderr as well as syslog
  std::string pid_file;       // -p: written after start-up, removed at exit when possible
  std::string user;           // -u: drop to this user (required when started as root)
  bool allow_remote = false;  // --allow-remote-inet: listen on a non-loopback address
  int drain_seconds = 30;     // --drain-timeout: how long SIGTERM waits for work in flight
  bool log_json = false;      // --log-json: the per-message line is avsink's JSON record
  bool help = false;          // -h / --help
  bool version = false;       // -V / --version
};

struct Options : DaemonOptions {
  std::string socket;  // -s: "unix:/path" or "inet:PORT@HOST" (libmilter syntax)
  QuarantineMode quarantine_mode = QuarantineMode::kDiscard;  // --quarantine-mode
  int max_connections = 256;  // --max-connections: more concurrent MTA connections are tempfailed
  int milter_timeout = 600;   // --timeout: libmilter I/O timeout with the MTA, seconds
  // --metrics HOST:PORT: serve GET /metrics and /healthz there (loopback unless
  // --allow-remote-inet; port 0 = any free port, logged at start). "" = off.
  std::string metrics_host;
  int metrics_port = -1;
  // --no-recipient-split: do not defer (452 4.5.3) a recipient whose [[policy]] differs from the
  // transaction's first recipient (docs/policy.md "Per-recipient verdicts").
  bool recipient_split = true;
};

// Parses argv[1..argc). Returns "" on success, else the reason (for a usage message).
std::string parse_options(int argc, char **argv, Options *out);

// Takes argv[*i] when it is one of DaemonOptions' options, with its value (advancing *i past it).
// Returns 1 when taken, 0 when argv[*i] is not one of them, -1 with *error set when its value is
// missing or bad. Pure; thread-safe.
int take_daemon_option(int argc, char **argv, int *i, DaemonOptions *o, std::string *error);

// A whole decimal number in [lo, hi] (no sign games, no trailing bytes). Thread-safe.
bool parse_number(const char *text, long long lo, long long hi, long long *out);

// "HOST:PORT" or "[V6]:PORT" with a port in 1..65535. Thread-safe.
bool split_host_port(const std::string &s, std::string *host, uint16_t *port);

// 127.0.0.0/8, ::1, localhost (also "[::1]" and "IPv6:::1"). Thread-safe.
bool is_loopback(const std::string &host);

// Checks a socket specification: "unix:/abs/path", "local:/abs/path" or "inet:PORT@HOST" /
// "inet6:PORT@HOST" where HOST must be a loopback address (127.0.0.0/8, ::1, localhost) unless
// allow_remote. Returns "" when acceptable, else the reason.
std::string check_socket(const std::string &spec, bool allow_remote);

// Parses "--metrics" values: "127.0.0.1:PORT", "[::1]:PORT" or "localhost:PORT" (= 127.0.0.1);
// the host must be an IP literal, loopback unless allow_remote. Returns "" or the reason.
std::string parse_metrics_address(const std::string &spec, bool allow_remote, std::string *host,
                                  int *port);

// For unix sockets, the file system path ("" for inet).
std::string unix_socket_path(const std::string &spec);

extern const char kUsage[];

}  // namespace avsink::milter

// smtpd_options.h - the command line of avsink-smtpd, parsed into one Options value.
// Parsing never exits or prints; a bad command line yields the reason, checked before anything
// starts.
#pragma once

#include <cstdint>
#include <string>

#include "options.h"  // DaemonOptions: what every avsink daemon's command line has

namespace avsink::smtpd {

enum class Mode { kBeforeQueue, kAfterQueue };

// -c -f -p -u -V --allow-remote-inet --drain-timeout --log-json: DaemonOptions (options.h).
struct Options : milter::DaemonOptions {
  std::string listen_host = "127.0.0.1";  // -l HOST:PORT (loopback unless --allow-remote-inet)
  uint16_t listen_port = 10025;
  std::string next_host;  // -n smtp:HOST:PORT or lmtp:HOST:PORT (required)
  uint16_t next_port = 0;
  bool next_lmtp = false;
  Mode mode = Mode::kAfterQueue;  // --mode before-queue|after-queue
  std::string hostname;           // --hostname: name in the greeting and EHLO ("" = gethostname)
  bool xforward = false;          // --xforward: accept XFORWARD (client attributes for the rules)
  bool xclient = false;           // --xclient: accept XCLIENT (same; the client acts as that host)
  int max_connections = 64;       // --max-connections: more are answered 421 and closed
  uint64_t max_size = 52428800;   // --max-size: SIZE advertised; larger messages 552 5.3.4
  size_t max_line = 4096;         // --max-line: command and data line bound (with CRLF)
  int max_commands = 10000;       // --max-commands: per connection, then 421
  int max_rcpts = 1000;           // --max-recipients: per message, then 452 4.5.3
  int max_errors = 20;            // --max-errors: error replies per connection, then 421
  int idle_timeout = 300;         // --idle-timeout: seconds without a client byte, then 421
  int total_timeout = 3600;       // --total-timeout: seconds per connection, then 421
  int relay_timeout = 120;        // --relay-timeout: per next-hop read or write
};

// Parses argv[1..argc). Returns "" on success, else the reason (for a usage message).
std::string parse_options(int argc, char **argv, Options *out);

extern const char kUsage[];

}  // namespace avsink::smtpd

// smtp_release.h - re-injecting released messages to the next hop (over src/smtp's client).
// Plain SMTP on a trusted hop (loopback or the gateway's own MTA); every wait is bounded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace avsink::quarantine {

// Sends `message` to host:port: connect (timeout), greeting 220, EHLO (HELO when EHLO is
// refused), MAIL FROM:<mail_from> (BODY=8BITMIME when the server offers it and the message has
// 8-bit bytes), RCPT TO for each of `rcpts`, DATA with CRLF line ends and dot-stuffing, QUIT.
// Every read and write waits at most `timeout_ms`. Returns the server's reply to the end of DATA
// (e.g. "250 2.0.0 Ok: queued as 4XyZ").
// Addresses containing CR, LF, NUL, '<' or '>' are refused before anything is sent (no command
// injection). Any refused recipient aborts the transaction before DATA (nothing is delivered).
// Thread-safety: reentrant (no shared state). Errors: kInvalidArgument (addresses, no
// recipients), kIo (resolve, connect, protocol, a 4xx/5xx reply: the message quotes it),
// kTimeout.
Result<std::string> smtp_send(const std::string &host, uint16_t port, const std::string &mail_from,
                              const std::vector<std::string> &rcpts, std::string_view message,
                              int timeout_ms);

// "host:port", "[v6addr]:port" or "host" (port 25) -> (host, port). Errors: kInvalidArgument.
struct HostPort {
  std::string host;
  uint16_t port = 25;
};
Result<HostPort> parse_host_port(std::string_view s);

}  // namespace avsink::quarantine

// session.h - one client connection of avsink-smtpd: the ESMTP server side, the scan through the
// C ABI, and the relay to the next hop. Each connection runs on a thread of its own.
#pragma once

#include <sys/socket.h>

#include <string>

#include <avsink/avsink.h>

#include "smtpd_options.h"

namespace avsink::smtpd {

// What every connection shares; filled before the first accept, read-only afterwards.
struct Shared {
  avsink_engine *engine = nullptr;  // thread-safe per the C ABI
  Options options;
  std::string hostname;  // greeting / EHLO name
};

// Serves one accepted connection until QUIT, a bound, a timeout or the peer's close; closes fd.
// `peer` is the client's address from accept(). Never throws. Thread-safety: one thread per fd;
// `shared` is only read.
void serve_connection(int fd, const sockaddr_storage &peer, const Shared &shared);

// Answers a connection beyond --max-connections with 421 and closes it.
void refuse_busy(int fd, const Shared &shared);

}  // namespace avsink::smtpd

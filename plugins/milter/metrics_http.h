// metrics_http.h - the milter's observability endpoint: GET /metrics (Prometheus text) and
// GET /healthz (200 healthy / 503 degraded with the reasons) over libmicrohttpd.
#pragma once

#include <string>

#include <avsink/avsink.h>

namespace avsink::milter {

// Starts serving on host:port (an IP literal; port 0 = any free port) in libmicrohttpd's own
// thread. Only GET (and HEAD) of /metrics and /healthz are answered (others: 404 / 405); a
// request's headers are bounded to 16 KiB, a connection times out after 10 s, at most 16
// connections are served at once. The bodies come from avsink_engine_metrics() and
// avsink_engine_health() + avsink_engine_info() of `engine`, which must outlive stop_metrics().
// Returns "" and sets *bound_port, or the reason it could not start. Call once.
std::string start_metrics(const std::string &host, int port, avsink_engine *engine,
                          int *bound_port);

// Stops the server and joins its thread (before the engine is freed). Safe when not started.
void stop_metrics();

}  // namespace avsink::milter

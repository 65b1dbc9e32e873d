// metrics_http.cpp - GET /metrics and /healthz for avsink-milter on libmicrohttpd (Debian's
// libmicrohttpd-dev: a maintained, small C server with connection, memory and time limits).
#include "metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace avsink::milter {

namespace {

MHD_Daemon *g_daemon = nullptr;

MHD_Result reply(MHD_Connection *conn, unsigned int code, const std::string &body,
                 const char *type) {
  MHD_Response *r = MHD_create_response_from_buffer(body.size(), const_cast<char *>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_Result ret = MHD_queue_response(conn, code, r);
  MHD_destroy_response(r);
  return ret;
}

MHD_Result on_request(void *cls, MHD_Connection *conn, const char *url, const char *method,
                      const char *, const char *, size_t *upload_data_size, void **) {
  auto *engine = static_cast<avsink_engine *>(cls);
  if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
      std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
    *upload_data_size = 0;  // a body is never read
    return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain; charset=utf-8");
  }
  *upload_data_size = 0;
  if (std::strcmp(url, "/metrics") == 0) {
    const char *text = nullptr;
    if (avsink_engine_metrics(&text, engine) != AVSINK_OK)
      return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n",
                   "text/plain; charset=utf-8");
    return reply(conn, MHD_HTTP_OK, text, "text/plain; version=0.0.4; charset=utf-8");
  }
  if (std::strcmp(url, "/healthz") == 0) {
    // 200 only when healthy; the body is the engine's state (avsink status --daemon reads it).
    int healthy = 0;
    const char *info = nullptr;
    if (avsink_engine_health(&healthy, nullptr, engine) != AVSINK_OK ||
        avsink_engine_info(&info, engine) != AVSINK_OK)
      return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "{\"health\":{\"ok\":false}}\n",
                   "application/json");
    return reply(conn, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                 std::string(info) + "\n", "application/json");
  }
  return reply(conn, MHD_HTTP_NOT_FOUND, "not found: GET /metrics or /healthz\n",
               "text/plain; charset=utf-8");
}

}  // namespace

std::string start_metrics(const std::string &host, int port, avsink_engine *engine,
                          int *bound_port) {
  sockaddr_storage ss{};
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    flags |= MHD_USE_IPv6;
  } else {
    return "bad metrics address '" + host + "'";
  }
  g_daemon = MHD_start_daemon(flags, static_cast<uint16_t>(port), nullptr, nullptr, on_request,
                              engine, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr *>(&ss),
                              MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, size_t(16 << 10), MHD_OPTION_END);
  if (g_daemon == nullptr)
    return "cannot serve metrics on " + host + ":" + std::to_string(port) +
           " (address in use, or not allowed)";
  const MHD_DaemonInfo *info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
  *bound_port = info != nullptr ? info->port : port;
  return "";
}

void stop_metrics() {
  if (g_daemon != nullptr) MHD_stop_daemon(g_daemon);
  g_daemon = nullptr;
}

}  // namespace avsink::milter

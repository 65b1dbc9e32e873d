// cmd_status.cpp - `avsink status`: each engine's signatures, database version and age, and the
// rule/list generations, from avsink_engine_info() -- or, with --daemon ADDR, from the running
// daemon's GET /healthz. Exit 1 when a required engine needs attention or the engine is degraded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_handle.h"

namespace avsink::cli {

namespace {

// GET `path` from the daemon's metrics address "HOST:PORT" ("[v6]:PORT"), HTTP/1.0, 5 s timeouts,
// at most 4 MiB. Returns "" and fills *code and *body, else the reason.
std::string http_get(const std::string &addr, const std::string &path, int *code,
                     std::string *body) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return "--daemon needs HOST:PORT, got '" + addr + "'";
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  int port = std::atoi(addr.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return "bad port in '" + addr + "'";
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else {
    return "--daemon host must be an IP address, got '" + host + "'";
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  timeval tv{5, 0};  // connect, each send and each receive
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string why;
  if (::connect(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) {
    why = "cannot connect to " + addr + ": " + std::strerror(errno);
    ::close(fd);
    return why;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return "cannot send to " + addr;
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = "reading from " + addr + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    resp.append(buf, static_cast<size_t>(n));
    if (resp.size() > (4u << 20)) {
      why = "answer from " + addr + " larger than 4 MiB";
      break;
    }
  }
  ::close(fd);
  if (!why.empty()) return why;
  size_t end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || end == std::string::npos)
    return "not an HTTP answer from " + addr;
  size_t sp = resp.find(' ');
  *code = std::atoi(resp.c_str() + sp + 1);
  *body = resp.substr(end + 4);
  return "";
}

}  // namespace

int cmd_status(const Args &args) {
  std::string config, daemon;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config = args[++i];
    } else if (args[i] == "--daemon" && i + 1 < args.size()) {
      daemon = args[++i];
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--help") {
      std::puts(
          "usage: avsink status [--json] [--config FILE | --daemon HOST:PORT]\n"
          "  one line per engine: signatures, database version, age, generation, state;\n"
          "  exit 1 when a required engine is failing or its database is older than\n"
          "  [clamav] max_db_age_hours, or the engine is degraded (health: ...)\n"
          "  --daemon HOST:PORT  the running daemon's state, from its --metrics address\n"
          "                      (GET /healthz), instead of opening an engine here");
      return 0;
    } else {
      std::fprintf(stderr, "avsink status: unknown argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  std::string info;
  EnginePtr engine;
  if (!daemon.empty()) {
    int code = 0;
    std::string why = http_get(daemon, "/healthz", &code, &info);
    if (!why.empty()) {
      std::fprintf(stderr, "avsink status: %s\n", why.c_str());
      return 2;
    }
    if (code != 200 && code != 503) {
      std::fprintf(stderr, "avsink status: %s answered HTTP %d\n", daemon.c_str(), code);
      return 2;
    }
  } else {
    engine = open_engine(config, AVSINK_ENGINE_DRY_RUN);
    if (!engine) return 2;
    const char *text = nullptr;
    if (avsink_engine_info(&text, engine.get()) != AVSINK_OK) return 2;
    info = text;
  }
  while (!info.empty() && (info.back() == '\n' || info.back() == '\r')) info.pop_back();
  if (json) {
    std::printf("%s\n", info.c_str());
  }
  auto j = nlohmann::json::parse(info, nullptr, false);
  if (!j.is_object() || !j.contains("engines")) {
    std::fprintf(stderr, "avsink status: not an engine state: %.200s\n", info.c_str());
    return 2;
  }
  int status = 0;
  const bool healthy = j.contains("health") ? j["health"].value("ok", false) : true;
  if (!healthy) status = 1;
  if (!json)
    std::printf("%-10s %-9s %10s  %-22s %10s %5s  %s\n", "engine", "required", "signatures",
                "database", "age", "gen", "state");
  for (const auto &e : j["engines"]) {
    bool required = e.value("required", true);
    std::string warning = e.value("warning", "");
    if (required && !warning.empty()) status = 1;
    if (json) continue;
    int64_t age = e.value("db_age_seconds", int64_t(-1));
    std::string age_text = age < 0 ? "-" : std::to_string(age / 3600) + " h";
    std::string sigs = e.value("signatures_known", true)
                           ? std::to_string(e.value("signatures", uint64_t(0)))
                           : std::string("n/a");
    std::printf("%-10s %-9s %10s  %-22s %10s %5llu  %s\n", e.value("name", "").c_str(),
                required ? "yes" : "no", sigs.c_str(), e.value("db_version", "").c_str(),
                age_text.c_str(), static_cast<unsigned long long>(e.value("generation", 0ull)),
                e.value("state", "ok").c_str());
  }
  if (!json) {
    if (j.contains("rules"))
      std::printf("rules: %llu rules, generation %llu\n",
                  static_cast<unsigned long long>(j["rules"].value("rules", 0ull)),
                  static_cast<unsigned long long>(j["rules"].value("generation", 0ull)));
    if (j.contains("attachment_lists"))
      std::printf("attachment lists: generation %llu\n",
                  static_cast<unsigned long long>(j["attachment_lists"].value("generation", 0ull)));
    for (const auto &e : j["engines"])
      if (e.contains("warning"))
        std::printf("warning: %s\n", e["warning"].get<std::string>().c_str());
    if (!daemon.empty()) std::printf("daemon: %s\n", daemon.c_str());
    std::printf("health: %s\n", healthy ? "ok" : "degraded");
    if (j.contains("health"))
      for (const auto &r : j["health"]["reasons"])
        std::printf("degraded: %s (%s)\n", r.value("text", "").c_str(),
                    r.value("code", "").c_str());
  }
  return status;
}

}  // namespace avsink::cli

// smtp_release.cpp - re-injects a released message: one transaction over the shared SMTP client
// (src/smtp), then QUIT; next-hop parsing for the --next-hop option.
#include "quarantine/smtp_release.h"

#include "smtp/client.h"

namespace avsink::quarantine {

namespace {

Error refused(const std::string &what, const std::string &reply) {
  return make_error(ErrorCode::kIo, "smtp: " + what + " refused: " + reply);
}

Error client_error(const smtp::Client &c) {
  return make_error(c.failure() == smtp::Failure::kTimeout ? ErrorCode::kTimeout : ErrorCode::kIo,
                    c.error());
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
    hp.host = std::string(s.substr(1, close - 1));
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':')
        return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
      port = s.substr(close + 2);
    }
  } else {
    size_t colon = s.rfind(':');
    if (colon != std::string_view::npos && s.find(':') == colon) {
      hp.host = std::string(s.substr(0, colon));
      port = s.substr(colon + 1);
    } else {
      hp.host = std::string(s);
    }
  }
  if (hp.host.empty())
    return make_error(ErrorCode::kInvalidArgument, "bad next hop: " + std::string(s));
  if (!port.empty() || (s.size() && s.back() == ':')) {
    unsigned long v = 0;
    if (port.empty() || port.size() > 5) return make_error(ErrorCode::kInvalidArgument, "bad port");
    for (char c : port) {
      if (c < '0' || c > '9') return make_error(ErrorCode::kInvalidArgument, "bad port");
      v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v == 0 || v > 65535) return make_error(ErrorCode::kInvalidArgument, "bad port");
    hp.port = static_cast<uint16_t>(v);
  }
  return hp;
}

Result<std::string> smtp_send(const std::string &host, uint16_t port, const std::string &mail_from,
                              const std::vector<std::string> &rcpts, std::string_view message,
                              int timeout_ms) {
  if (rcpts.empty()) return make_error(ErrorCode::kInvalidArgument, "smtp: no recipients");
  if (!smtp::safe_address(mail_from))
    return make_error(ErrorCode::kInvalidArgument, "smtp: unsafe sender address");
  for (const auto &r : rcpts)
    if (r.empty() || !smtp::safe_address(r))
      return make_error(ErrorCode::kInvalidArgument, "smtp: unsafe recipient address: " + r);
  smtp::Client c;
  smtp::Reply r;
  if (!c.open(host, port, false, "", timeout_ms, &r)) return client_error(c);
  auto cmd = [&](const std::string &line, const std::string &what) -> Result<void> {
    if (!c.command(line, &r)) return client_error(c);
    if (!r.ok()) {
      c.quit();
      return refused(what, r.text);
    }
    return {};
  };
  bool has_8bit = false;
  for (char ch : message)
    if (static_cast<unsigned char>(ch) >= 0x80) {
      has_8bit = true;
      break;
    }
  std::string mail = "MAIL FROM:<" + mail_from + ">";
  if (has_8bit && c.offers("8BITMIME")) mail += " BODY=8BITMIME";
  if (auto m = cmd(mail, "MAIL FROM"); !m) return m.error();
  for (const auto &rcpt : rcpts)
    if (auto m = cmd("RCPT TO:<" + rcpt + ">", "RCPT TO:<" + rcpt + ">"); !m) return m.error();
  std::vector<smtp::Reply> fin;
  if (!c.data(message, rcpts.size(), &r, &fin)) return client_error(c);
  if (r.code != 354) {
    c.quit();
    return refused("DATA", r.text);
  }
  if (fin.empty() || !fin[0].ok()) {
    c.quit();
    return refused("message", fin.empty() ? std::string("no reply") : fin[0].text);
  }
  c.quit();
  return fin[0].text;
}

}  // namespace avsink::quarantine

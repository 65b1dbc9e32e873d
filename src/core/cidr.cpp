// cidr.cpp - parses CIDRs and MTA-supplied client addresses (inet_pton), tests containment.
// No allocation beyond one copy of the text; addresses longer than 64 bytes are not addresses.
#include "core/cidr.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <arpa/inet.h>

#include "util/text.h"

namespace avsink {

namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Cidr> parse_cidr(std::string_view text) {
  std::string addr(text);
  int prefix = -1;
  if (size_t slash = addr.find('/'); slash != std::string::npos) {
    std::string_view p = std::string_view(addr).substr(slash + 1);
    if (p.empty() || p.size() > 3)
      return make_error(ErrorCode::kRules, "bad prefix length in '" + std::string(text) + "'");
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9')
        return make_error(ErrorCode::kRules, "bad prefix length in '" + std::string(text) + "'");
      prefix = prefix * 10 + (c - '0');
    }
    addr.resize(slash);
  }
  Cidr c;
  if (::inet_pton(AF_INET, addr.c_str(), c.addr.data()) == 1) {
    c.v6 = false;
    if (prefix < 0) prefix = 32;
    if (prefix > 32)
      return make_error(ErrorCode::kRules,
                        "IPv4 prefix longer than 32 in '" + std::string(text) + "'");
  } else if (::inet_pton(AF_INET6, addr.c_str(), c.addr.data()) == 1) {
    c.v6 = true;
    if (prefix < 0) prefix = 128;
    if (prefix > 128)
      return make_error(ErrorCode::kRules,
                        "IPv6 prefix longer than 128 in '" + std::string(text) + "'");
  } else {
    return make_error(ErrorCode::kRules,
                      "not an IPv4 or IPv6 address or CIDR: '" + std::string(text) + "'");
  }
  c.prefix = static_cast<uint8_t>(prefix);
  const size_t bytes = c.v6 ? 16 : 4;
  for (size_t b = 0; b < bytes; ++b) {
    int keep = std::max(0, std::min(8, prefix - static_cast<int>(b) * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xFF << (8 - keep));
    if (c.addr[b] & ~mask)
      return make_error(ErrorCode::kRules,
                        "'" + std::string(text) + "' has host bits set past the prefix length");
  }
  return c;
}

bool parse_client_address(std::string_view text, Cidr *out) {
  std::string_view s = trim(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.size() > 5 && util::ascii_iequals(s.substr(0, 5), "ipv6:")) s.remove_prefix(5);
  if (size_t pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
  if (s.empty() || s.size() > 64) return false;
  std::string a(s);
  Cidr c;
  if (::inet_pton(AF_INET, a.c_str(), c.addr.data()) == 1) {
    c.v6 = false;
    c.prefix = 32;
  } else if (::inet_pton(AF_INET6, a.c_str(), c.addr.data()) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(c.addr.data(), kMapped, 12) == 0) {
      std::array<uint8_t, 16> v4{};
      std::memcpy(v4.data(), c.addr.data() + 12, 4);
      c.addr = v4;
      c.v6 = false;
      c.prefix = 32;
    } else {
      c.v6 = true;
      c.prefix = 128;
    }
  } else {
    return false;
  }
  *out = c;
  return true;
}

bool cidr_contains(const Cidr &net, const Cidr &addr) {
  if (net.v6 != addr.v6) return false;
  int bits = net.prefix;
  for (size_t b = 0; bits > 0; ++b, bits -= 8) {
    int keep = std::min(8, bits);
    uint8_t mask = static_cast<uint8_t>(0xFF << (8 - keep));
    if ((net.addr[b] & mask) != (addr.addr[b] & mask)) return false;
  }
  return true;
}

}  // namespace avsink

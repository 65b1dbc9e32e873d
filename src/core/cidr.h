// cidr.h - IPv4/IPv6 networks (CIDR) and SMTP client addresses, for rules and policy selection.
// One parser for every CIDR avsink reads: client rules, trusted_networks, policy client_networks.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace avsink {

// An IPv4 or IPv6 network. IPv4 is kept in the first 4 bytes.
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  uint8_t prefix = 0;  // 0..32 for IPv4, 0..128 for IPv6
};

// Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or /128). Host bits past the
// prefix must be zero. Pure; thread-safe. Errors: kRules with the reason (no file or line set;
// callers outside rule files re-label it with their config key).
Result<Cidr> parse_cidr(std::string_view text);
// Parses a client address as MTAs hand it over: "192.0.2.1", "2001:db8::1", "[192.0.2.1]",
// "[IPv6:2001:db8::1]", "fe80::1%eth0". IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
// Returns false for anything else (unknown client); *out is written only on success. Thread-safe.
bool parse_client_address(std::string_view text, Cidr *out);
// True when `addr` (a /32 or /128 from parse_client_address) lies inside `net`. Pure.
bool cidr_contains(const Cidr &net, const Cidr &addr);

}  // namespace avsink

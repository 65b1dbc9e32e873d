// policy_select.cpp - matches envelopes against [[policy]] selectors (first match in file order).
// Addresses compare case-insensitively after envelope normalisation (rules::envelope_address).
#include "session/policy_select.h"

#include <algorithm>
#include <cctype>

#include "core/cidr.h"
#include "rules/match_text.h"
#include "util/text.h"

namespace avsink::session {

namespace {

// One address selector: a full address, or a domain (with its subdomains).
struct AddressSel {
  std::string address;  // "user@example.org", lowercased; "" when a domain selector
  std::string domain;   // "example.org", lowercased, no leading '@' or trailing '.'
  bool null_sender = false;
};

AddressSel compile_address(const std::string &s) {
  AddressSel a;
  if (s == "<>") {
    a.null_sender = true;
    return a;
  }
  std::string v = util::ascii_lower(s);
  if (!v.empty() && v.front() == '@') v.erase(0, 1);
  if (v.find('@') != std::string::npos) {
    a.address = v;
  } else {
    while (!v.empty() && v.back() == '.') v.pop_back();
    a.domain = v;
  }
  return a;
}

bool address_matches(const std::vector<AddressSel> &sels, std::string_view raw) {
  std::string addr = util::ascii_lower(rules::envelope_address(raw));
  std::string domain;
  if (auto at = addr.rfind('@'); at != std::string::npos) domain = addr.substr(at + 1);
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  for (const auto &s : sels) {
    if (s.null_sender) {
      if (addr.empty()) return true;
    } else if (!s.address.empty()) {
      if (addr == s.address) return true;
    } else if (!domain.empty() && rules::domain_within(domain, s.domain)) {
      return true;
    }
  }
  return false;
}

struct Compiled {
  const PolicySpec *spec = nullptr;
  std::vector<AddressSel> recipients, senders;
  std::vector<Cidr> networks;
};

}  // namespace

struct PolicySelector::Impl {
  std::vector<PolicySpec> specs;
  std::vector<Compiled> compiled;
  std::vector<Cidr> trusted;
};

PolicySelector::PolicySelector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicySelector::~PolicySelector() = default;

Result<std::unique_ptr<PolicySelector>> PolicySelector::build(const Config &config) {
  auto impl = std::make_unique<Impl>();
  impl->specs = config.policies;
  for (const auto &t : config.trusted_networks) {
    auto c = parse_cidr(t);
    if (!c)
      return make_error(ErrorCode::kConfig,
                        "rules.trusted_networks: '" + t + "': " + c.error().message, config.source);
    impl->trusted.push_back(*c);
  }
  for (const auto &p : impl->specs) {
    Compiled c;
    c.spec = &p;
    for (const auto &r : p.recipients) c.recipients.push_back(compile_address(r));
    for (const auto &s : p.senders) c.senders.push_back(compile_address(s));
    for (const auto &n : p.client_networks) {
      auto cidr = parse_cidr(n);
      if (!cidr)
        return make_error(
            ErrorCode::kConfig,
            "policy." + p.name + ".client_networks: '" + n + "': " + cidr.error().message,
            config.source);
      c.networks.push_back(*cidr);
    }
    impl->compiled.push_back(std::move(c));
  }
  return std::unique_ptr<PolicySelector>(new PolicySelector(std::move(impl)));
}

Direction PolicySelector::direction(const Envelope &env) const {
  if (!env.auth_user.empty()) return Direction::kOutbound;
  Cidr addr;
  if (parse_client_address(env.client_address, &addr))
    for (const auto &n : impl_->trusted)
      if (cidr_contains(n, addr)) return Direction::kOutbound;
  return Direction::kInbound;
}

const PolicySpec *PolicySelector::select(const Envelope &env, std::string_view rcpt) const {
  for (const auto &c : impl_->compiled) {
    const PolicySpec &p = *c.spec;
    if (!c.recipients.empty() && (rcpt.empty() || !address_matches(c.recipients, rcpt))) continue;
    if (!c.senders.empty() && !address_matches(c.senders, env.mail_from)) continue;
    if (!c.networks.empty()) {
      Cidr addr;
      if (!parse_client_address(env.client_address, &addr)) continue;
      if (std::none_of(c.networks.begin(), c.networks.end(),
                       [&](const Cidr &n) { return cidr_contains(n, addr); }))
        continue;
    }
    if (p.authenticated && *p.authenticated != !env.auth_user.empty()) continue;
    if (p.direction && *p.direction != direction(env)) continue;
    return &p;
  }
  return nullptr;
}

bool PolicySelector::empty() const {
  return impl_->specs.empty();
}

bool PolicySelector::by_recipient() const {
  return std::any_of(impl_->specs.begin(), impl_->specs.end(),
                     [](const PolicySpec &p) { return !p.recipients.empty(); });
}

std::string_view policy_name(const PolicySpec *p) {
  return p == nullptr ? std::string_view("default") : std::string_view(p->name);
}

}  // namespace avsink::session

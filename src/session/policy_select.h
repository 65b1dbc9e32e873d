// policy_select.h - which [[policy]] applies to an envelope and one of its recipients.
// Selectors are compiled once (CIDRs, lowercased addresses); selection is pure and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/envelope.h"
#include "core/policy_spec.h"
#include "core/result.h"

namespace avsink::session {

// Built from Config::policies and Config::trusted_networks.
// Thread-safety: select() and direction() may be called from any thread at once (immutable).
// Ownership: keeps its own copy of the specs; returned pointers live as long as the selector.
class PolicySelector {
 public:
  // Errors: kConfig naming policy.NAME.client_networks (bad CIDR) or rules.trusted_networks.
  static Result<std::unique_ptr<PolicySelector>> build(const Config &config);
  ~PolicySelector();
  PolicySelector(const PolicySelector &) = delete;  // owns compiled selectors
  PolicySelector &operator=(const PolicySelector &) = delete;

  // The first policy (file order) whose selectors all match `env` with recipient `rcpt`
  // ("" = no recipient known: a recipients selector then never matches); nullptr = none (the
  // global settings apply).
  const PolicySpec *select(const Envelope &env, std::string_view rcpt) const;
  // Outbound when the client is authenticated or its address lies in trusted_networks.
  Direction direction(const Envelope &env) const;
  bool empty() const;
  // True when some policy selects by recipient: recipients of one message may then differ.
  bool by_recipient() const;

 private:
  struct Impl;
  explicit PolicySelector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "default" for nullptr, else the policy's name.
std::string_view policy_name(const PolicySpec *p);

}  // namespace avsink::session

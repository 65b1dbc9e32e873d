// policy_toml.h - [[policy]] tables of avsink.toml <-> PolicySpec; used by config.cpp only.
// Kept apart from policy_spec.h so that only the config parser sees toml++.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "core/policy_spec.h"

namespace avsink {

// Parses the value of the top-level `policy` key (an array of tables). Returns "" on success or
// the reason (naming policy.NAME.key), and sets *line to the offending line. Unknown keys,
// duplicate or invalid names, bad actions and a policy without any selector are errors.
// Thread-safety: reentrant.
std::string parse_policies(const toml::node &node, std::vector<PolicySpec> *out, uint32_t *line);

// The policies as a TOML array of tables (for dump_config; parses back to the same specs).
toml::array dump_policies(const std::vector<PolicySpec> &policies);

// The keys a [[policy]] table may hold, in the parser's own order (for avsink.toml(5) and the docs
// lint). Thread-safety: reentrant.
std::vector<std::string> policy_key_names();
// The same keys with their one-line descriptions, for avsink.toml(5) (a key without one makes the
// man page generator fail). Thread-safety: reentrant.
std::vector<std::pair<std::string, std::string>> policy_key_docs();

}  // namespace avsink

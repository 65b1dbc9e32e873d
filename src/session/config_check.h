// config_check.h - `avsink config check`: the engine's own loaders run over a parsed Config in a
// collect-every-error mode, plus the checks only the run-as user can fail (permissions).
#pragma once

#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "core/user_access.h"

namespace avsink::session {

// Everything the engine would refuse when opened (or reloaded) with `config` by `user`, each error
// as file:line: reason -- the rule or list file's own line for a bad rule or entry, the config
// file's line of the key for a bad value or path. Checks: rule files (rules::check_file), list
// files and block/allow entries (the attachment list parser), trusted_networks and
// internal_domains (RulesOptions::validate), signature directories (loaded by ClamavEngine, each
// on its own, and every database file readable by `user`), the system database's files, hash
// lists (HashListEngine), quarantine key and release secret (load_key_file: format and mode),
// the release next hop, and that `user` can read/write every path the daemon uses. Loads
// signatures, so it can take seconds. Thread-safe (no shared state). Never throws.
std::vector<Error> check_config(const Config &config, const RunAsUser &user);

}  // namespace avsink::session

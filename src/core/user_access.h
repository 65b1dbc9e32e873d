// user_access.h - can a given user (uid + groups) read, write or search a path? For
// `avsink config check`, which judges paths for the daemon's run-as user, not for whoever runs it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/result.h"

namespace avsink {

// A user as the kernel sees it for permission checks.
struct RunAsUser {
  std::string name;  // for messages ("avsink", or "uid 1000")
  uid_t uid = 0;
  std::vector<gid_t> gids;  // primary group first, then the supplementary groups

  // The named user (getpwnam + getgrouplist). Errors: kConfig "unknown user".
  static Result<RunAsUser> named(const std::string &name);
  // The process's effective user and groups.
  static RunAsUser current();
};

enum AccessNeed : unsigned { kNeedRead = 4, kNeedWrite = 2, kNeedSearch = 1 };

// "" when `user` may access `path` as `need` (a bitmask of AccessNeed), following the POSIX mode
// bits of every directory on the way (search permission) and of the path itself; else the reason,
// e.g. "/var/lib/clamav/main.cvd is not readable by avsink (mode 0600, owner 100:101)". root
// passes every check but search/read on nothing missing. ACLs are not consulted. Thread-safe.
std::string user_access_problem(const std::string &path, const RunAsUser &user, unsigned need);

}  // namespace avsink

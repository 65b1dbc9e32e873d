// user_access.cpp - POSIX permission checks on behalf of another user: every directory on the
// way must be searchable, the path itself readable/writable as asked.
#include "core/user_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace avsink {

namespace {

// The permission bits (rwx as 4/2/1) that apply to `user` for a file with `st`.
unsigned bits_for(const struct stat &st, const RunAsUser &user) {
  if (st.st_uid == user.uid) return (st.st_mode >> 6) & 7;
  if (std::find(user.gids.begin(), user.gids.end(), st.st_gid) != user.gids.end())
    return (st.st_mode >> 3) & 7;
  return st.st_mode & 7;
}

std::string describe(const std::string &path, const struct stat &st) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "mode %04o, owner %u:%u",
                static_cast<unsigned>(st.st_mode & 07777), static_cast<unsigned>(st.st_uid),
                static_cast<unsigned>(st.st_gid));
  return path + " (" + buf + ")";
}

}  // namespace

Result<RunAsUser> RunAsUser::named(const std::string &name) {
  struct passwd pw {};
  struct passwd *found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return make_error(ErrorCode::kConfig, "unknown user '" + name + "'");
  RunAsUser u;
  u.name = name;
  u.uid = pw.pw_uid;
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(name.c_str(), pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (getgrouplist(name.c_str(), pw.pw_gid, groups.data(), &n) < 0) n = 0;
  }
  groups.resize(static_cast<size_t>(std::max(n, 0)));
  u.gids.push_back(pw.pw_gid);
  for (gid_t g : groups)
    if (g != pw.pw_gid) u.gids.push_back(g);
  return u;
}

RunAsUser RunAsUser::current() {
  RunAsUser u;
  u.uid = geteuid();
  u.gids.push_back(getegid());
  int n = getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> g(static_cast<size_t>(n));
    n = getgroups(n, g.data());
    for (int i = 0; i < n; ++i)
      if (g[static_cast<size_t>(i)] != u.gids.front()) u.gids.push_back(g[static_cast<size_t>(i)]);
  }
  struct passwd pw {};
  struct passwd *found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(u.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    u.name = pw.pw_name;
  else
    u.name = "uid " + std::to_string(u.uid);
  return u;
}

std::string user_access_problem(const std::string &path, const RunAsUser &user, unsigned need) {
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  // Every directory on the way needs search (x) permission.
  std::filesystem::path walked;
  for (auto it = p.begin(); it != p.end(); ++it) {
    walked /= *it;
    if (walked == p) break;
    struct stat st {};
    if (::stat(walked.c_str(), &st) != 0) return walked.string() + ": " + std::strerror(errno);
    if (user.uid != 0 && (bits_for(st, user) & kNeedSearch) == 0)
      return "directory " + describe(walked.string(), st) + " is not searchable by " + user.name;
  }
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  unsigned want = need;
  if (user.uid == 0) {
    // root reads and writes anything; it searches/executes only what has some x bit.
    want &= kNeedSearch;
    if (want != 0 && S_ISDIR(st.st_mode)) want = 0;
    if (want != 0 && (st.st_mode & 0111) != 0) want = 0;
  }
  unsigned have = user.uid == 0 ? 0 : bits_for(st, user);
  if ((have & want) == want) return "";
  std::string what;
  if ((want & kNeedRead) && !(have & kNeedRead)) what = "readable";
  if ((want & kNeedWrite) && !(have & kNeedWrite))
    what += what.empty() ? "writable" : " or writable";
  if ((want & kNeedSearch) && !(have & kNeedSearch))
    what += what.empty() ? "searchable" : " or searchable";
  return describe(path, st) + " is not " + what + " by " + user.name;
}

}  // namespace avsink

// root_paths.cpp - root-phase file operations of avsink-milter: root-owned directory checks, the
// socket chown without following symlinks, the pid file through O_EXCL|O_NOFOLLOW and rename,
// and the privilege drop (shared with avsink-smtpd).
#include "root_paths.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace avsink::milter {

namespace {

std::string errno_text(const std::string &what, const std::string &path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string check_start(const std::string &user,
                        std::initializer_list<std::pair<std::string, const char *>> root_written) {
  const bool root = geteuid() == 0;
  if (root && user.empty())
    return "refusing to run as root: give -u USER (the owner of what it writes)";
  if (!user.empty() && getpwnam(user.c_str()) == nullptr) return "unknown user '" + user + "'";
  if (!root) return "";
  for (const auto &[path, what] : root_written) {
    if (path.empty()) continue;
    std::string why = check_root_owned_dir(parent_dir(path), what);
    if (!why.empty()) return "refusing to start: " + why;
  }
  return "";
}

std::string parent_dir(const std::string &path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string check_root_owned_dir(const std::string &dir, const char *what) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) return errno_text(what, dir);
  std::string path = resolved;
  bool last = true;  // the directory itself; its ancestors may be sticky and world-writable
  for (;;) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return errno_text(what, path);
    const std::string role = last ? std::string(what) : std::string("directory above the ") + what;
    if (!S_ISDIR(st.st_mode)) return role + " " + path + " is not a directory";
    if (st.st_uid != 0) {
      return role + " " + path + " is owned by uid " + std::to_string(st.st_uid) +
             ", not root: the milter's user could swap what root writes there (make it root-owned, "
             "e.g. install -d -o root -g avsink -m 0750)";
    }
    const bool sticky = (st.st_mode & S_ISVTX) != 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (last || !sticky)) {
      return role + " " + path + " is writable by its group or others (mode " + [&] {
        char m[8];
        std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string(m);
      }() + "): only root may write there";
    }
    if (path == "/") return "";
    path = parent_dir(path);
    last = false;
  }
}

std::string chown_socket(const std::string &path, uid_t uid, gid_t gid) {
  const std::string dir = parent_dir(path);
  const std::string name = path.substr(path.find_last_of('/') + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return errno_text("open socket directory", dir);
  struct stat st {};
  std::string why;
  if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    why = errno_text("stat", path);
  } else if (!S_ISSOCK(st.st_mode)) {
    why = path + " is not a socket (replaced since it was created?); not changing its owner";
  } else if (::fchownat(dfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    why = errno_text("chown", path);
  }
  ::close(dfd);
  return why;
}

std::string write_pid_file(const std::string &path, long pid) {
  const std::string tmp = path + ".tmp." + std::to_string(pid);
  ::unlink(tmp.c_str());  // a leftover of a crashed start with the same pid (unlink never follows)
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("pid file", tmp);
  const std::string text = std::to_string(pid) + "\n";
  std::string why;
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) != 0) {
    why = errno_text("write pid file", tmp);
  }
  if (::close(fd) != 0 && why.empty()) why = errno_text("close pid file", tmp);
  if (why.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) why = errno_text("rename", path);
  if (!why.empty()) ::unlink(tmp.c_str());
  return why;
}

std::string drop_privileges(const std::string &user, const std::string &socket_path,
                            const char *flag) {
  const std::string opt = flag;
  if (geteuid() != 0) {
    if (!user.empty()) {
      struct passwd *pw = getpwnam(user.c_str());
      if (pw == nullptr || pw->pw_uid != geteuid())
        return opt + " " + user + " needs to be started as root (running as uid " +
               std::to_string(static_cast<long>(geteuid())) + ")";
    }
    return "";
  }
  if (user.empty())
    return "refusing to run as root: give " + opt + " USER (the socket and quarantine owner)";
  errno = 0;
  struct passwd *pw = getpwnam(user.c_str());
  if (pw == nullptr) return "unknown user '" + user + "'";
  if (pw->pw_uid == 0) return opt + " " + user + " is root; give an unprivileged user";
  if (!socket_path.empty()) {
    std::string why = chown_socket(socket_path, pw->pw_uid, pw->pw_gid);
    if (!why.empty()) return why;
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0)
    return std::string("initgroups: ") + std::strerror(errno);
  if (setgid(pw->pw_gid) != 0) return std::string("setgid: ") + std::strerror(errno);
  if (setuid(pw->pw_uid) != 0) return std::string("setuid: ") + std::strerror(errno);
  if (setuid(0) == 0) return "privileges were not dropped (setuid(0) succeeded)";
  return "";
}

}  // namespace avsink::milter

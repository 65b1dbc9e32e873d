// root_paths.h - what avsink-milter does while still root: only in root-owned directories, and
// never through a symlink (a compromised milter user must not turn a restart into root writes).
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace avsink::milter {

// Checks that `dir` is a directory that only root can change: it and every directory above it
// (after resolving symlinks in the path) are owned by uid 0 and not writable by group or others;
// an ancestor may be world-writable only with the sticky bit (/tmp), where nobody can rename a
// directory root owns. Returns "" when so, else the reason naming the offending directory.
// `what` names the directory's role in the message ("socket directory").
// Thread-safety: reentrant. Errors: the returned reason; nothing is changed.
std::string check_root_owned_dir(const std::string &dir, const char *what);

// The checks a daemon makes before it creates anything: as root, -u must name a user (the owner
// of what it writes); the user must exist; and, as root, each of `root_written` (paths it will
// create while still root: pid file, socket; "" = none) must lie in a root-owned directory
// (check_root_owned_dir(), named by its role). Returns "" or the reason; the caller exits.
// Thread-safety: reentrant (getpwnam at start-up).
std::string check_start(const std::string &user,
                        std::initializer_list<std::pair<std::string, const char *>> root_written);

// The directory part of `path` ("/a/b/c" -> "/a/b"; "c" -> ".").
std::string parent_dir(const std::string &path);

// Gives the unix socket at `path` to uid:gid without following a symlink: the directory is opened
// O_DIRECTORY|O_NOFOLLOW, the entry must be a socket (fstatat AT_SYMLINK_NOFOLLOW), and
// fchownat(..., AT_SYMLINK_NOFOLLOW) changes it. Returns "" or the reason. Never chmods: the
// socket's mode comes from the umask it was created under.
std::string chown_socket(const std::string &path, uid_t uid, gid_t gid);

// Writes "<pid>\n" to `path` crash- and swap-safely: a temp file "<path>.tmp.<pid>" created with
// O_CREAT|O_EXCL|O_NOFOLLOW (mode 0644), written, fsynced, then renamed over `path` (rename
// replaces a symlink at `path` itself, never its target). Returns "" or the reason.
std::string write_pid_file(const std::string &path, long pid);

// Drops to `user` (its uid, gid and supplementary groups) when running as root, after giving the
// unix socket at `socket_path` ("" = none) to that user. As root, an empty or root `user` is
// refused; not as root, a `user` other than the current one is refused (it needs root). Checks
// that setuid(0) fails afterwards. `flag` names the option in messages ("-u").
// Returns "" on success, else the reason (the caller exits). Thread-safety: call before threads.
std::string drop_privileges(const std::string &user, const std::string &socket_path,
                            const char *flag);

}  // namespace avsink::milter

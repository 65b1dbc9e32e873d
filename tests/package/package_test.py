#!/usr/bin/env python3
# package_test.py - builds the .debs from this build tree (cpack), installs them with dpkg, checks the
# files, the unit, the user and the config, runs the installed milter behind a throwaway Postfix, purges.
"""usage: package_test.py BUILD_DIR SOURCE_DIR CPACK [--keep-installed]

Root only (dpkg, Postfix); exit 77 (ctest: skipped) otherwise. The install steps are the ones
docs/milter.md and docs/postfix.md give an operator, run literally where a test can: dpkg -i, the
unit's own ExecStartPre= and ExecStart= lines, `usermod -a -G avsink postfix`, `avsink config check`.
Packages left by an earlier, interrupted run are purged first. Exit 0 only when every check passed.
"""
import glob
import grp
import os
import pwd
import re
import shlex
import urllib.request
import urllib.error
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import postfix_env as pe  # noqa: E402 - the throwaway Postfix shared with the e2e test

PACKAGES = ["avsink", "libavsink-dev", "libavsink1"]
UNIT = "/usr/lib/systemd/system/avsink-milter.service"
CONFIG = "/etc/avsink/avsink.toml"
# What postinst and the unit create, and postrm purge removes.
STATE = ["/etc/avsink", "/var/lib/avsink", "/var/log/avsink", "/var/spool/postfix/avsink"]
results = []


def log(msg):
    print(msg, flush=True)


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    log(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))
    return ok


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, **kw)


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def purge_all():
    present = [p for p in PACKAGES if installed(p) or run(["dpkg", "-s", p]).returncode == 0]
    if present:
        r = run(["dpkg", "--purge", *present])
        if r.returncode != 0:
            log(r.stdout)


def build_debs(build, cpack):
    for old in glob.glob(os.path.join(build, "packages", "*.deb")):
        os.unlink(old)
    r = run([cpack, "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake")], timeout=300,
            cwd=build)
    debs = {}
    for path in glob.glob(os.path.join(build, "packages", "*.deb")):
        name = run(["dpkg-deb", "-f", path, "Package"]).stdout.strip()
        debs[name] = path
    ok = check("cpack builds the three packages", r.returncode == 0 and set(debs) == set(PACKAGES),
               f"rc {r.returncode}, got {sorted(debs)}\n{r.stdout[-3000:]}")
    return debs if ok else None


def deb_files(path):
    """Regular files and links a .deb installs (absolute paths)."""
    out = []
    for line in run(["dpkg-deb", "-c", path]).stdout.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("d"):
            continue
        name = fields[5][1:] if fields[5].startswith("./") else fields[5]
        out.append(name)
    return out


def check_contents(debs):
    files = {p: deb_files(debs[p]) for p in PACKAGES}
    want = {
        "libavsink1": [r"^/usr/lib/libavsink\.so\.1$", r"^/usr/lib/libavsink\.so\.\d+\.\d+\.\d+$"],
        "libavsink-dev": [r"^/usr/include/avsink/avsink\.h$", r"^/usr/lib/libavsink\.so$",
                          r"^/usr/lib/pkgconfig/avsink\.pc$",
                          r"^/usr/lib/cmake/avsink/avsinkConfig\.cmake$",
                          r"^/usr/lib/cmake/avsink/avsinkConfigVersion\.cmake$",
                          r"^/usr/lib/cmake/avsink/avsinkTargets\.cmake$"],
        "avsink": [r"^/usr/bin/avsink$", r"^/usr/sbin/avsink-milter$", "^" + re.escape(UNIT) + "$",
                   r"^/etc/avsink/avsink\.toml$", r"^/etc/logrotate\.d/avsink$",
                   r"^/usr/share/avsink/rules/attachments-.*\.list$",
                   r"^/usr/share/avsink/signatures/avsink-test\.", r"^/usr/share/man/man1/avsink\.1",
                   r"^/usr/share/man/man5/avsink\.toml\.5", r"^/usr/share/man/man8/avsink-milter\.8",
                   r"^/usr/share/doc/avsink/milter\.md$"],
    }
    for pkg, patterns in want.items():
        missing = [p for p in patterns if not any(re.search(p, f) for f in files[pkg])]
        check(f"{pkg} holds its files", not missing, f"missing {missing} in {files[pkg]}")
    seen = {}
    for pkg, fl in files.items():
        for f in fl:
            seen.setdefault(f, []).append(pkg)
    dup = {f: p for f, p in seen.items() if len(p) > 1}
    check("no file in two packages", not dup, str(dup))
    conff = run(["dpkg-deb", "-I", debs["avsink"], "conffiles"]).stdout.split()
    check("/etc files are conffiles", CONFIG in conff and "/etc/logrotate.d/avsink" in conff,
          str(conff))
    trig = run(["dpkg-deb", "-I", debs["libavsink1"], "triggers"]).stdout
    check("libavsink1 runs ldconfig", "ldconfig" in trig, trig)
    dev_dep = run(["dpkg-deb", "-f", debs["libavsink-dev"], "Depends"]).stdout
    avs_dep = run(["dpkg-deb", "-f", debs["avsink"], "Depends"]).stdout
    check("dependencies name libavsink1 and the system libraries",
          "libavsink1" in dev_dep and "libavsink1" in avs_dep and "libclamav" in avs_dep, avs_dep)
    return [f for fl in files.values() for f in fl]


def unit_lines(key):
    """The values of KEY= in the installed unit, continuation lines joined."""
    text = open(UNIT).read().replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(r"^" + key + r"=(.*)$", text, re.M)]


def check_installed(version, src):
    for path in ["/usr/bin/avsink", "/usr/sbin/avsink-milter", CONFIG, UNIT,
                 "/usr/share/avsink/rules", "/usr/share/avsink/signatures"]:
        check(f"installed {path}", os.path.exists(path))
    check("user avsink exists", user_exists("avsink"))
    clamav_ok = not group_exists("clamav") or "avsink" in grp.getgrnam("clamav").gr_mem
    check("avsink is in group clamav (reads /var/lib/clamav)", clamav_ok,
          str(grp.getgrnam("clamav").gr_mem) if group_exists("clamav") else "")
    st = os.stat("/var/lib/avsink/quarantine")
    check("quarantine dir owned by avsink, 0700",
          st.st_uid == pwd.getpwnam("avsink").pw_uid and (st.st_mode & 0o777) == 0o700,
          oct(st.st_mode))
    avsink_gid = grp.getgrnam("avsink").gr_gid
    for path, mode in (("/etc/avsink", 0o750), (CONFIG, 0o640), ("/var/log/avsink", 0o750)):
        st = os.stat(path)
        check(f"{path} mode {oct(mode)} as docs/milter.md says", (st.st_mode & 0o777) == mode
              and (path == "/var/log/avsink" or st.st_gid == avsink_gid), oct(st.st_mode))
    r = run(["systemctl", "is-enabled", "avsink-milter.service"])
    check("the package does not enable the service", r.stdout.strip() != "enabled", r.stdout)
    exec_start = unit_lines("ExecStart")
    check("unit ExecStart names the installed milter and config",
          len(exec_start) == 1 and exec_start[0].startswith("/usr/sbin/avsink-milter ")
          and f"-c {CONFIG}" in exec_start[0], str(exec_start))
    if shutil.which("systemd-analyze"):
        argv = ["systemd-analyze", "verify"]
        if not shutil.which("man"):
            argv.append("--man=no")
        r = run(argv + [UNIT], timeout=60)
        check("systemd-analyze verify", r.returncode == 0, r.stdout)
    else:
        log("NOTE: systemd-analyze not installed (scripts/install-deps adds it); unit not verified")
    if shutil.which("logrotate"):
        r = run(["logrotate", "-d", "/etc/logrotate.d/avsink"])
        check("logrotate reads /etc/logrotate.d/avsink", r.returncode == 0 and "error" not in r.stdout
              and "Handling 1 logs" in r.stdout, r.stdout[-2000:])
    r = run(["avsink", "config", "check", CONFIG])
    check("avsink config check /etc/avsink/avsink.toml", r.returncode == 0, r.stdout[-2000:])
    r = run(["pkg-config", "--modversion", "avsink"])
    check("pkg-config finds avsink", r.stdout.strip() == version, r.stdout)
    # A C program built and run against the installed header, .pc and library.
    work = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"avsink-pkgtest-{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    try:
        with open(os.path.join(work, "v.c"), "w") as f:
            f.write('#include <avsink/avsink.h>\n#include <stdio.h>\n'
                    'int main(void) { puts(avsink_version_string()); return 0; }\n')
        flags = run(["pkg-config", "--cflags", "--libs", "avsink"]).stdout.split()
        r = run(["cc", "-o", os.path.join(work, "v"), os.path.join(work, "v.c"), *flags])
        out = run([os.path.join(work, "v")]).stdout if r.returncode == 0 else r.stdout
        check("a C program links the installed library", version in out, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def http_get(port, path):
    """(status, body) of GET http://127.0.0.1:PORT/PATH; an HTTP error status is returned too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def metrics_and_health(port):
    """docs/postfix.md 3a on the installed milter: the counters saw the two messages, /healthz
    answers (503 on the shipped test signatures) and `avsink status --daemon` reads it."""
    status, text = http_get(port, "/metrics")
    check("installed milter: /metrics counts the accept and the reject",
          status == 200 and re.search(r'avsink_messages_total\{action="accept"\} [1-9]', text)
          is not None and re.search(r'avsink_messages_total\{action="reject"\} [1-9]', text)
          is not None, f"{status} {text[:400]}")
    status, text = http_get(port, "/healthz")
    check("installed milter: /healthz 503 on the test signatures, with the reason",
          status == 503 and "test_signatures_only" in text, f"{status} {text[:400]}")
    r = run(["/usr/bin/avsink", "status", "--daemon", f"127.0.0.1:{port}"])
    check("installed avsink status --daemon reads the running milter",
          r.returncode == 1 and "test_signatures_only" in r.stdout, r.stdout[-400:])


def milter_behind_postfix(src):
    """docs/postfix.md step 1, the unit's own commands, one clean and one EICAR message."""
    r = run(["usermod", "-a", "-G", "avsink", "postfix"])
    check("usermod -a -G avsink postfix (docs/postfix.md)", r.returncode == 0, r.stdout)
    # What systemd does before ExecStartPre=: RuntimeDirectory= (removed again at stop).
    runtime = ["/run/" + d for line in unit_lines("RuntimeDirectory") for d in line.split()]
    mode = int((unit_lines("RuntimeDirectoryMode") or ["0755"])[0], 8)
    for d in runtime:
        os.makedirs(d, mode=mode, exist_ok=True)
    env = None
    try:
        for pre in unit_lines("ExecStartPre"):
            r = run(shlex.split(pre.lstrip("+")))
            if not check(f"unit ExecStartPre {pre}", r.returncode == 0, r.stdout):
                return
        argv = shlex.split(unit_lines("ExecStart")[0])
        sock = argv[argv.index("-s") + 1]
        # docs/postfix.md 3a: the packaged line plus --metrics (a free port here, 9187 there).
        metrics_port = pe.free_port()
        argv += ["--metrics", f"127.0.0.1:{metrics_port}"]
        env = pe.Env("/usr/sbin/avsink-milter", src, keep=False, sock=sock[len("unix:"):])
        env.setup()
        env.start_sink()
        env.start_milter(argv=argv)
        env.start_postfix()
        data, marker = pe.message("package test clean")
        code, text = pe.send_one(env, data)
        check("clean message accepted and delivered",
              code == 250 and env.delivered_with(marker, timeout=20), f"{code} {text}")
        eicar = os.path.join(src, "tests/data/eml/eicar-plain-attachment.eml")
        before = len(env.delivered())
        code, text = pe.swaks(env, path=eicar)
        time.sleep(1)
        check("EICAR refused with 554", code == 554 and "Eicar" in text
              and len(env.delivered()) == before, f"{code} {text}")
        metrics_and_health(metrics_port)
    except Exception as e:  # noqa: BLE001 - report, then tear down
        check("milter behind Postfix", False,
              f"{type(e).__name__}: {e}\n{env.milter_text()[-3000:] if env else ''}")
    finally:
        if env:
            env.teardown()
        for d in runtime:
            shutil.rmtree(d, ignore_errors=True)


def remove_and_purge(all_files):
    r = run(["dpkg", "--remove", *PACKAGES])
    check("dpkg --remove", r.returncode == 0, r.stdout)
    check("remove keeps the conffile and the user", os.path.exists(CONFIG) and user_exists("avsink"))
    check("remove takes the programs", not os.path.exists("/usr/sbin/avsink-milter"))
    r = run(["dpkg", "--purge", *PACKAGES])
    check("dpkg --purge", r.returncode == 0, r.stdout)
    left = [f for f in all_files + STATE if os.path.lexists(f)]
    check("purge leaves no file", not left, str(left))
    check("purge removes the avsink user and group",
          not user_exists("avsink") and not group_exists("avsink"))
    check("postfix is in no avsink group",
          all("avsink" != g.gr_name for g in grp.getgrall() if "postfix" in g.gr_mem))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__)
        return 2
    build, src, cpack = (os.path.abspath(a) if i < 2 else a for i, a in enumerate(args))
    if os.geteuid() != 0:
        log("SKIP: installing packages needs root (CI runs ctest as root on a throwaway machine)")
        return pe.SKIP
    for tool in ("dpkg", "dpkg-deb", "dpkg-shlibdeps", "postfix", "smtp-sink", "swaks", "cc",
                 "pkg-config"):
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not installed (scripts/install-deps)")
            return pe.SKIP
    if not user_exists("postfix"):
        log("SKIP: no postfix user")
        return pe.SKIP
    version = re.search(r'CPACK_PACKAGE_VERSION "([^"]+)"',
                        open(os.path.join(build, "CPackConfig.cmake")).read()).group(1)
    purge_all()
    try:
        debs = build_debs(build, cpack)
        if debs is None:
            return 1
        all_files = check_contents(debs)
        r = run(["dpkg", "-i", *[debs[p] for p in reversed(PACKAGES)]], timeout=180)
        if not check("dpkg -i the three packages", r.returncode == 0, r.stdout[-3000:]):
            return 1
        check_installed(version, src)
        milter_behind_postfix(src)
        if "--keep-installed" not in sys.argv:
            remove_and_purge(all_files)
    finally:
        if "--keep-installed" not in sys.argv:
            purge_all()
    failed = [n for n, ok in results if not ok]
    log(f"{len(results) - len(failed)}/{len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

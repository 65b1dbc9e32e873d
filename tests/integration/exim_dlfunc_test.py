#!/usr/bin/env python3
# exim_dlfunc_test.py - end to end: Debian's exim4-daemon-heavy (apt-get download + dpkg -x, never
# installed: it conflicts with Postfix) whose DATA ACL calls avsink_exim.so through ${dlfunc}.
"""
Starts, in a temporary directory:
  smtp-sink  the next hop, 127.0.0.1:<port>, one file per delivered message
  Exim       <unpacked>/usr/sbin/exim4 -C <tmp>/exim.conf -bdf, listening on 127.0.0.1:<port>, with
             its own spool and log directories, exim_path pointing at the unpacked binary (Exim
             re-executes itself to deliver), and the DATA ACL of docs/exim.md (read from that file,
             so the documented ACL is the tested one).
Exim looks up its compiled-in user Debian-exim at start; it is created when missing.
Exit status: 0 when every case passed, 77 (ctest: skipped) when the environment cannot run it.

usage: exim_dlfunc_test.py AVSINK_EXIM_SO SOURCE_DIR DEB_CACHE_DIR [--keep]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from mta_support import (SKIP, avsink_toml, case_banned_attachment_rejected,
                         case_clean_delivered_intact, case_eicar_rejected,
                         case_forged_headers_replaced, case_outbreak_rule_hot,
                         case_quarantined_not_delivered, crlf,
                         ensure_system_user, file_with, files_in, free_port, log, message,
                         port_open, run_cases, send_one, set_deadline, start_smtp_sink,
                         stop_process, unpacked_debs, wait_for, write_file)

set_deadline(100)


def documented_acl(src):
    """The DATA ACL between the '# begin avsink acl' and '# end avsink acl' lines of docs/exim.md."""
    with open(os.path.join(src, "docs/exim.md")) as f:
        text = f.read()
    m = re.search(r"^# begin avsink acl\n(.*?)^# end avsink acl$", text, re.S | re.M)
    if not m:
        raise RuntimeError("docs/exim.md has no '# begin avsink acl' block")
    return m.group(1)


def sanitizer_env(so):
    """The environment for Exim. A module built with AVSINK_SANITIZE needs the sanitizer runtime
    loaded first: it is preloaded into Exim (leak reports off: Exim's processes exit without
    freeing, by design)."""
    env = dict(os.environ)
    ldd = subprocess.run(["ldd", so], capture_output=True, text=True, timeout=30).stdout
    paths = re.findall(r"lib[at]san\.so\S* => (\S+)", ldd)
    if paths:
        env["LD_PRELOAD"] = " ".join(paths)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"  # the last one wins
        log(f"sanitizer runtime preloaded into Exim: {paths}")
    return env


class Env:
    def __init__(self, so, src, exim):
        self.so = so
        self.src = src
        self.exim = exim
        self.tmp = tempfile.mkdtemp(prefix="avsink-exim-")
        os.chmod(self.tmp, 0o755)  # the receiving process runs as Debian-exim
        self.sink_dir = os.path.join(self.tmp, "sink")
        self.qdir = os.path.join(self.tmp, "quarantine")
        self.rules = os.path.join(self.tmp, "outbreak.rules")
        self.config = os.path.join(self.tmp, "avsink.toml")
        self.spool = os.path.join(self.tmp, "spool")
        self.logdir = os.path.join(self.tmp, "log")
        self.so_link = os.path.join(self.tmp, "lib", "avsink_exim.so")
        self.smtp_port = free_port()
        self.sink_port = free_port()
        while self.sink_port == self.smtp_port:
            self.sink_port = free_port()
        self.quarantine_code = 250
        self.sink = None
        self.daemon = None

    def setup(self):
        for d in (self.sink_dir, self.qdir, self.spool, self.logdir, os.path.dirname(self.so_link)):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.sink_dir, "postfix", "postfix")
        for d in (self.qdir, self.spool, self.logdir):
            shutil.chown(d, "Debian-exim", "Debian-exim")
        os.chmod(self.qdir, 0o700)
        os.symlink(self.so, self.so_link)  # the "avsink side" the last case takes away
        avsink_toml(self.config, self.rules, self.qdir)
        acl = (documented_acl(self.src).replace("/usr/lib/x86_64-linux-gnu/avsink/avsink_exim.so",
                                                 self.so_link)
               .replace("/etc/avsink/avsink.toml", self.config))
        write_file(os.path.join(self.tmp, "exim.conf"), f"""# exim.conf - throwaway Exim for avsink e2e tests.
exim_path = {self.exim}
keep_environment =
primary_hostname = avsink-e2e.localdomain
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
daemon_smtp_ports = {self.smtp_port}
local_interfaces = 127.0.0.1
never_users = root
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl
acl_check_rcpt:
  accept
{acl}
begin routers
to_sink:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = to_sink
  self = send

begin transports
to_sink:
  driver = smtp
  port = {self.sink_port}
  hosts_avoid_tls = *
  allow_localhost
""", 0o644)

    def start(self):
        self.sink = start_smtp_sink(self.sink_dir, self.sink_port)
        self.daemon = subprocess.Popen([self.exim, "-C", os.path.join(self.tmp, "exim.conf"),
                                        "-bdf"], stdout=subprocess.DEVNULL,
                                       stderr=open(os.path.join(self.tmp, "stderr"), "wb"),
                                       env=sanitizer_env(self.so))
        if not wait_for(lambda: self.daemon.poll() is not None or port_open(self.smtp_port), 20) \
                or self.daemon.poll() is not None:
            raise RuntimeError("exim did not start:\n" + self.log_text())

    def is_running(self):
        return self.daemon is not None and self.daemon.poll() is None

    def log_text(self):
        out = ""
        for name in ("stderr", "log/mainlog", "log/paniclog", "log/rejectlog"):
            try:
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    out += f"--- {name}\n" + f.read()[-3000:]
            except FileNotFoundError:
                pass
        return out

    def teardown(self, keep):
        for p in (self.daemon, self.sink):
            if p is not None:
                stop_process(p, 10)
        if keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def case_strip_refused(env, r):
    """A strip (rewrite) verdict cannot be applied from an ACL: the message is refused with 554,
    never delivered unstripped. The configuration is read per connection, so the edit applies to
    the next one."""
    with open(env.config) as f:
        original = f.read()
    write_file(env.config, original + '\n[attachments]\naction = "strip"\n'
                                      'true_type_action = "strip"\n')
    try:
        with open(os.path.join(env.src, "tests/data/attachments/trick-plain-exe-uppercase.eml"),
                  "rb") as f:
            data = crlf(f.read())
        before = len(files_in(env.sink_dir))
        code, text = send_one(env, data)
        time.sleep(1)
        after = len(files_in(env.sink_dir))
    finally:
        write_file(env.config, original)
    r.check("strip_verdict_refused", code == 554 and "SETUP.EXE" in text and after == before,
            f"got {code} {text!r}, want 554 naming SETUP.EXE; delivered {after - before}")


def case_avsink_gone(env, r):
    """The avsink side fails: the module cannot be loaded, then the engine cannot open its
    configuration. Each time the client gets a 4xx after DATA (so it keeps the message and
    retries), nothing is delivered; with the module back, mail flows again."""
    got = []
    os.rename(env.so_link, env.so_link + ".gone")
    data, m1 = message("while the module is gone")
    got.append(send_one(env, data))
    os.rename(env.so_link + ".gone", env.so_link)
    os.rename(env.config, env.config + ".gone")
    data, m2 = message("while the config is gone")
    got.append(send_one(env, data))
    os.rename(env.config + ".gone", env.config)
    delivered = [bool(file_with(env.sink_dir, m, timeout=2)) for m in (m1, m2)]
    data, m3 = message("after the module is back")
    code3, _ = send_one(env, data)
    back = code3 == 250 and bool(file_with(env.sink_dir, m3))
    r.check("avsink_failure_tempfails",
            all(400 <= c <= 499 for c, _ in got) and not any(delivered) and back,
            f"module gone: {got[0]}; config gone: {got[1]}; delivered={delivered}; "
            f"restored: {code3}, delivered={back}")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    so, src, cache = (os.path.abspath(a) for a in sys.argv[1:4])
    keep = "--keep" in sys.argv
    if os.geteuid() != 0:
        log("SKIP: the Exim daemon needs root")
        return SKIP
    for tool in ("apt-get", "dpkg", "smtp-sink"):
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not found")
            return SKIP
    root = unpacked_debs(cache, ["exim4-daemon-heavy"])
    if root is None:
        log("SKIP: could not fetch and unpack Debian's exim4-daemon-heavy")
        return SKIP
    exim = os.path.join(root, "usr/sbin/exim4")
    ldd = subprocess.run(["ldd", exim], capture_output=True, text=True, timeout=30).stdout
    missing = [l.split()[0] for l in ldd.splitlines() if "not found" in l]
    if missing:
        log(f"SKIP: exim4 needs {missing} (scripts/install-deps installs them)")
        return SKIP
    if not ensure_system_user("Debian-exim"):
        log("SKIP: cannot create the Debian-exim user")
        return SKIP
    env = Env(so, src, exim)
    return run_cases(env, (case_clean_delivered_intact, case_eicar_rejected,
                           case_banned_attachment_rejected, case_forged_headers_replaced,
                           case_outbreak_rule_hot, case_quarantined_not_delivered,
                           case_strip_refused, case_avsink_gone), keep)


if __name__ == "__main__":
    sys.exit(main())

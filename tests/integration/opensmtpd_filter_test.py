#!/usr/bin/env python3
# opensmtpd_filter_test.py - end to end: Debian's OpenSMTPD (apt-get download + dpkg -x, never
# installed: it conflicts with Postfix) running avsink-opensmtpd as its filter, on loopback.
"""
Starts, in a temporary directory:
  smtp-sink          the next hop, 127.0.0.1:<port>, one file per delivered message
  OpenSMTPD (smtpd)  from the unpacked package, -d -f <tmp>/smtpd.conf, listening on 127.0.0.1:<port>
                     with `filter "avsink" proc-exec "avsink-opensmtpd -c <tmp>/avsink.toml"`
smtpd has its spool (/var/spool/smtpd), control socket (/run) and privsep chroot
(/var/lib/opensmtpd/empty) compiled in; it runs in a private mount namespace (unshare -m) where
/var/spool, /run and /var/lib are bind mounts of throwaway directories, so nothing on the host is
touched. Its users (opensmtpd, opensmtpq) are created when missing.
Exit status: 0 when every case passed, 77 (ctest: skipped) when the environment cannot run it.

usage: opensmtpd_filter_test.py FILTER_BINARY SOURCE_DIR DEB_CACHE_DIR [--keep]
"""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time

from mta_support import (SKIP, avsink_toml, case_banned_attachment_rejected,
                         case_clean_delivered_intact, case_eicar_rejected,
                         case_forged_headers_replaced, case_outbreak_rule_hot,
                         case_quarantined_not_delivered, ensure_system_user,
                         file_with, free_port, log, message, port_open, run_cases, send_one,
                         set_deadline, smtp_send, smtp_session, start_smtp_sink, stop_process,
                         unpacked_debs, wait_for, write_file)

set_deadline(100)


def documented_conf(src):
    """The smtpd.conf lines between '# begin avsink smtpd.conf' and '# end avsink smtpd.conf' in
    docs/opensmtpd.md (the documented lines are the tested ones)."""
    with open(os.path.join(src, "docs/opensmtpd.md")) as f:
        text = f.read()
    m = re.search(r"^# begin avsink smtpd.conf\n(.*?)^# end avsink smtpd.conf$", text, re.S | re.M)
    if not m:
        raise RuntimeError("docs/opensmtpd.md has no '# begin avsink smtpd.conf' block")
    return m.group(1)


class Env:
    def __init__(self, filter_bin, src, smtpd):
        self.filter_bin = filter_bin
        self.src = src
        self.smtpd_bin = smtpd
        self.tmp = tempfile.mkdtemp(prefix="avsink-osmtpd-")
        os.chmod(self.tmp, 0o755)  # the filter runs as the opensmtpd user
        self.sink_dir = os.path.join(self.tmp, "sink")
        self.qdir = os.path.join(self.tmp, "quarantine")
        self.rules = os.path.join(self.tmp, "outbreak.rules")
        self.config = os.path.join(self.tmp, "avsink.toml")
        self.log_path = os.path.join(self.tmp, "smtpd.log")
        self.smtp_port = free_port()
        self.sink_port = free_port()
        while self.sink_port == self.smtp_port:
            self.sink_port = free_port()
        self.quarantine_code = 554
        self.sink = None
        self.smtpd = None
        self.log_fh = None

    def setup(self):
        for d in ("sink", "quarantine", "ns/spool", "ns/run", "ns/varlib/opensmtpd/empty"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        shutil.chown(self.sink_dir, "postfix", "postfix")
        shutil.chown(self.qdir, "opensmtpd", "opensmtpd")
        os.chmod(self.qdir, 0o700)
        avsink_toml(self.config, self.rules, self.qdir)
        lines = (documented_conf(self.src)
                 .replace("/usr/sbin/avsink-opensmtpd", self.filter_bin)
                 .replace("/etc/avsink/avsink.toml", self.config)
                 .replace("port 25 ", f"port {self.smtp_port} hostname avsink-e2e.localdomain "))
        write_file(os.path.join(self.tmp, "smtpd.conf"), f"""# smtpd.conf - throwaway OpenSMTPD for avsink e2e tests.
{lines}action "sink" relay host smtp://127.0.0.1:{self.sink_port}
match from any for any action "sink"
""", 0o600)

    def start(self):
        self.sink = start_smtp_sink(self.sink_dir, self.sink_port)
        ns = os.path.join(self.tmp, "ns")
        script = (f"mount --bind {ns}/spool /var/spool && mount --bind {ns}/run /run && "
                  f"mount --bind {ns}/varlib /var/lib && "
                  f"exec {self.smtpd_bin} -d -f {self.tmp}/smtpd.conf")
        self.log_fh = open(self.log_path, "ab")
        self.smtpd = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                       script], stdout=self.log_fh, stderr=self.log_fh)
        if not wait_for(lambda: self.smtpd.poll() is not None or port_open(self.smtp_port), 30) \
                or self.smtpd.poll() is not None:
            raise RuntimeError("smtpd did not start:\n" + self.log_text())

    def is_running(self):
        """The filter is up (the same process all along is not required: smtpd never restarts
        one)."""
        return bool(self.filter_pids())

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def filter_pids(self):
        """The avsink-opensmtpd processes smtpd started for this test (matched by our config)."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"avsink-opensmtpd") and self.config.encode() in argv:
                pids.append(int(d))
        return pids

    def teardown(self, keep):
        if self.smtpd is not None:
            stop_process(self.smtpd, 15)
        if self.sink is not None:
            stop_process(self.sink, 10)
        for pid in self.filter_pids():  # only ours: matched by this test's config path
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.log_fh:
            self.log_fh.close()
        if keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def case_filter_killed(env, r):
    """The filter process killed in the middle of a transaction: the client never gets a 250, so
    the sender keeps the message (a 4xx, or the connection closed before the final reply, both
    temporary for an SMTP client), nothing unscanned is delivered, and smtpd (which may not run
    without its filter) stops taking mail instead of passing it through."""
    data, marker = message("while the filter is killed")
    codes = []
    try:
        s = smtp_session(env)
        code, _ = s.mail("alice@example.org")
        codes.append(code)
        code, _ = s.rcpt("bob@example.net")
        codes.append(code)
        pids = env.filter_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)
        try:
            code, text = s.data(data)
            codes.append(code)
        except (OSError, smtplib.SMTPException) as e:
            codes.append(0)
            text = f"{type(e).__name__}"
    except (OSError, smtplib.SMTPException) as e:
        pids, text = [], f"{type(e).__name__}: {e}"
        codes.append(0)
    final = codes[-1]
    after = smtp_after(env)
    delivered = file_with(env.sink_dir, marker, timeout=3)
    r.check("filter_killed_tempfails",
            bool(pids) and final != 250 and (final == 0 or 400 <= final <= 499) and
            after != 250 and not delivered,
            f"killed {pids}; in-flight DATA got {final} {text!r}; next message got {after}; "
            f"delivered={bool(delivered)}")


def case_envelope_from_reports(env, r):
    """The envelope avsink scanned with was built from smtpd's report stream (the filter logs it
    through smtpd's log)."""
    data, marker = message("envelope check")
    code, _ = send_one(env, data)
    mid = marker.decode()

    def line():
        for l in env.log_text().splitlines():
            if "avsink-opensmtpd:" in l and " accept " in l and "client=127.0.0.1" in l and \
                    "from=<alice@example.org> rcpts=1" in l and "helo=client.example.org" in l:
                return l
        return None
    got = wait_for(line, 5)
    r.check("envelope_from_reports", code == 250 and got is not None and
            bool(file_with(env.sink_dir, marker)),
            f"got {code}; log line {got!r} (message {mid})")


def smtp_after(env):
    d, _ = message("after the filter died")
    try:
        s = smtp_session(env)
        return smtp_send(s, d)[0]
    except (OSError, smtplib.SMTPException):
        return 0


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    filter_bin, src, cache = (os.path.abspath(a) for a in sys.argv[1:4])
    keep = "--keep" in sys.argv
    if os.geteuid() != 0:
        log("SKIP: smtpd needs root (privilege separation, bind mounts)")
        return SKIP
    for tool in ("apt-get", "dpkg", "unshare", "smtp-sink"):
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not found")
            return SKIP
    ns = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                        capture_output=True, text=True, timeout=30)
    if ns.returncode != 0:
        log(f"SKIP: no private mount namespace here (unshare -m: {ns.stderr.strip()})")
        return SKIP
    root = unpacked_debs(cache, ["opensmtpd"])
    if root is None:
        log("SKIP: could not fetch and unpack Debian's opensmtpd")
        return SKIP
    if not all(ensure_system_user(u) for u in ("opensmtpd", "opensmtpq")):
        log("SKIP: cannot create the opensmtpd users")
        return SKIP
    env = Env(filter_bin, src, os.path.join(root, "usr/sbin/smtpd"))
    return run_cases(env, (case_clean_delivered_intact, case_eicar_rejected,
                           case_banned_attachment_rejected, case_envelope_from_reports,
                           case_forged_headers_replaced,
                           case_outbreak_rule_hot, case_quarantined_not_delivered,
                           case_filter_killed), keep)


if __name__ == "__main__":
    sys.exit(main())

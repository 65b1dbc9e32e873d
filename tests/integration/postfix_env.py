# postfix_env.py - a throwaway Postfix + smtp-sink + avsink-milter on loopback, shared by the
# end-to-end test, the package test (tests/package) and bench/milter_bench.py.
"""Every wait is bounded (mta_support.set_deadline, wait_for); every process is stopped by pid
(Env.teardown). The generic helpers live in mta_support and are re-exported from here."""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

from mta_support import (SKIP, crlf, free_port, kill_pid, log, message, nested_multipart,  # noqa: F401
                         past_deadline, pid_alive, port_open, queue_id_of, read_pid, send_one,
                         set_deadline, smtp_send, smtp_session, stop_process, swaks, wait_for)


class Env:
    """The throwaway Postfix + smtp-sink + avsink-milter installation."""

    def __init__(self, milter_bin, src, keep, bare_smtpd=False, extra_main_cf="", sock=None,
                 extra_toml=""):
        # bare_smtpd: a second smtpd on self.bare_port without the milter (bench/milter_bench.py).
        # sock: the milter socket's path (default: in the temp dir; the package test uses the unit's).
        self.milter_bin = milter_bin
        self.src = src
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="avsink-e2e-")
        os.chmod(self.tmp, 0o755)  # smtpd (user postfix) must reach the milter socket
        self.conf = os.path.join(self.tmp, "postfix")
        self.queue = os.path.join(self.tmp, "queue")
        self.data = os.path.join(self.tmp, "data")
        self.sink_dir = os.path.join(self.tmp, "sink")
        self.qdir = os.path.join(self.tmp, "quarantine")
        self.rules = os.path.join(self.tmp, "outbreak.rules")
        self.milter_log = os.path.join(self.tmp, "milter.log")
        self.maillog = os.path.join(self.tmp, "maillog")
        self.sock = sock or os.path.join(self.tmp, "milter.sock")
        self.smtp_port = free_port()
        self.sink_port = free_port()
        while self.sink_port == self.smtp_port:
            self.sink_port = free_port()
        self.bare_port = None
        if bare_smtpd:
            self.bare_port = free_port()
            while self.bare_port in (self.smtp_port, self.sink_port):
                self.bare_port = free_port()
        self.extra_main_cf = extra_main_cf
        self.extra_toml = extra_toml  # appended to avsink.toml (e.g. [[policy]] tables)
        self.sink = None
        self.milter = None
        self.milter_log_fh = None
        self.postfix_started = False

    # ---- set-up ----
    def write(self, path, text, mode=0o644):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def setup(self):
        for d in (self.conf, self.sink_dir, self.qdir, self.queue):
            os.makedirs(d, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        shutil.chown(self.sink_dir, "postfix", "postfix")
        shutil.chown(self.qdir, "postfix", "postfix")
        os.chmod(self.qdir, 0o700)
        self.write(self.rules, "# outbreak.rules - e2e test rule file, edited while the milter runs.\n"
                               "# avsink: empty (no outbreak yet)\n")
        self.write(os.path.join(self.tmp, "avsink.toml"), f"""# avsink.toml - e2e test configuration.
[clamav]
system_db = false

[limits]
max_mime_depth = 8
# Small, so the oversize case (issue 14 item 1) needs no large message; Postfix's own limit is higher.
max_message_bytes = 65536

[rules]
files = ["{self.rules}"]
poll_ms = 200

[quarantine]
dir = "{self.qdir}"
""" + self.extra_toml)
        self.write(os.path.join(self.conf, "main.cf"), f"""# main.cf - throwaway Postfix for avsink e2e tests.
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = avsink-e2e.localdomain
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
default_transport = smtp:[127.0.0.1]:{self.sink_port}
relay_transport = smtp:[127.0.0.1]:{self.sink_port}
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = {self.maillog}
maillog_file_prefixes = {self.tmp}
smtpd_milters = unix:{self.sock}
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 60s
smtpd_error_sleep_time = 0
# No missing Date:/Message-ID: added for loopback clients: the milter sees the client's bytes only.
local_header_rewrite_clients =
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
""")
        services = [
            (f"127.0.0.1:{self.smtp_port}", "inet", "n", "-", "n", "-", "-", "smtpd"),
            ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            ("error", "unix", "-", "-", "n", "-", "-", "error"),
            ("retry", "unix", "-", "-", "n", "-", "-", "error"),
            ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
        ]
        if self.bare_port:
            services.append((f"127.0.0.1:{self.bare_port}", "inet", "n", "-", "n", "-", "-",
                             "smtpd", "-o", "smtpd_milters="))
        self.write(os.path.join(self.conf, "master.cf"),
                   "# master.cf - throwaway Postfix for avsink e2e tests (no chroot).\n" +
                   "".join(" ".join(s) + "\n" for s in services))

    def start_sink(self):
        # -u postfix: smtp-sink drops to postfix after binding; -d: one file per message.
        self.sink = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-d", os.path.join(self.sink_dir, "%H%M%S."),
             f"127.0.0.1:{self.sink_port}", "64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: port_open(self.sink_port), 10):
            raise RuntimeError("smtp-sink did not start")

    def start_milter(self, *extra, config=None, argv=None):
        """Starts the milter (argv: this exact command line instead of the test's own)."""
        if self.milter_log_fh is None:
            self.milter_log_fh = open(self.milter_log, "ab")
        args = argv or [self.milter_bin, "-f", "-s", f"unix:{self.sock}", "-c",
                        config or os.path.join(self.tmp, "avsink.toml"), "-u", "postfix", *extra]
        self.milter = subprocess.Popen(args, stdout=self.milter_log_fh, stderr=self.milter_log_fh)
        ok = wait_for(lambda: self.milter.poll() is not None or "listening on" in self.milter_text(),
                      30)
        if self.milter.poll() is not None or not ok:
            raise RuntimeError("avsink-milter did not start:\n" + self.milter_text())
        self._listen_marks = self.milter_text().count("listening on")

    def milter_text(self):
        try:
            with open(self.milter_log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def postfix(self, *args, check=True):
        r = subprocess.run(["postfix", "-c", self.conf, *args], capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def start_postfix(self):
        env_check = self.postfix("check", check=False)
        if env_check.returncode != 0:
            log("postfix check: " + env_check.stdout + env_check.stderr)
        self.postfix("start")
        self.postfix_started = True
        if not wait_for(lambda: port_open(self.smtp_port), 20):
            raise RuntimeError("postfix smtpd did not open its port:\n" + self.maillog_text())

    def maillog_text(self):
        try:
            with open(self.maillog, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # ---- tear-down: only processes this test started, by pid ----
    def teardown(self):
        if self.postfix_started:
            try:
                self.postfix("stop", check=False)
            except Exception as e:  # noqa: BLE001 - keep tearing down
                log(f"postfix stop: {e}")
            pidfile = os.path.join(self.queue, "pid", "master.pid")
            pid = read_pid(pidfile)
            if pid and wait_for(lambda: not pid_alive(pid), 10) is False:
                kill_pid(pid, signal.SIGKILL)
        for p in (self.milter, self.sink):
            if p is not None:
                stop_process(p, 10)
        if self.milter_log_fh:
            self.milter_log_fh.close()
        if self.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- observations ----
    def delivered(self):
        out = []
        for root, _, files in os.walk(self.sink_dir):
            out += [os.path.join(root, f) for f in files]
        return sorted(out)

    def delivered_with(self, marker: bytes, timeout=15):
        def find():
            for p in self.delivered():
                with open(p, "rb") as f:
                    if marker in f.read():
                        return p
            return None
        return wait_for(find, timeout)

    def held(self):
        hold = os.path.join(self.queue, "hold")
        try:
            return sorted(os.listdir(hold))
        except FileNotFoundError:
            return []

    def quarantine_entries(self):
        out = []
        for root, _, files in os.walk(self.qdir):
            out += [os.path.join(root, f) for f in files]
        return out

    def milter_line(self, queue_id, timeout=5):
        pat = re.compile(re.escape(queue_id) + r": (.*)")
        def find():
            for line in self.milter_text().splitlines():
                m = pat.search(line)
                if m and "action=" in m.group(1):
                    return m.group(1)
            return None
        return wait_for(find, timeout)


# ---- running the cases ----
class CaseBase:
    """What every e2e case class shares: one PASS/FAIL line per check, kept for the summary."""

    def __init__(self, env):
        self.env = env
        self.results = []

    def check(self, name, ok, detail):
        self.results.append((name, ok, detail))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")


def run_cases(env, cases, order, wanted=lambda name: True):
    """Sets up env (sink, milter, Postfix), runs each case method named in `order` that `wanted`
    accepts (an exception fails that case only), shows the logs when something failed, tears
    everything down. Returns the exit status: 0 all passed, 1 otherwise."""
    failed = []
    try:
        env.setup()
        env.start_sink()
        env.start_milter()
        env.start_postfix()
        for name in order:
            if not wanted(name):
                continue
            if past_deadline():
                cases.check(name, False, "not run: global deadline passed")
                continue
            try:
                getattr(cases, name)()
            except Exception as e:  # noqa: BLE001 - one broken case must not hide the others
                cases.check(name, False, f"exception {type(e).__name__}: {e}")
    except Exception as e:  # noqa: BLE001
        cases.check("setup", False, f"{type(e).__name__}: {e}")
    finally:
        failed = [r for r in cases.results if not r[1]]
        if failed:
            log("---- milter log (tail) ----\n" + env.milter_text()[-4000:])
            log("---- postfix maillog (tail) ----\n" + env.maillog_text()[-4000:])
        env.teardown()
    log(f"{len(cases.results) - len(failed)}/{len(cases.results)} cases passed")
    return 1 if failed else 0

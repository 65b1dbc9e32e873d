#!/usr/bin/env python3
# relay_proxy_test.py - end to end: Exim or OpenSMTPD (apt-get download + dpkg -x, never installed)
# relaying through avsink-smtpd in after-queue mode, with the set-up of docs/exim.md / opensmtpd.md.
"""
Starts, in a temporary directory:
  smtp-sink     the final next hop, 127.0.0.1:<port>, one file per delivered message
  avsink-smtpd  the command line of the doc's "Relay through avsink-smtpd" section (ports, user and
                configuration path replaced, -f added): listens on the proxy port, relays to the
                MTA's second listener
  the MTA       two listeners on 127.0.0.1: <in> (mail from the test) and <reinject> (mail back
                from avsink-smtpd); the relay lines of the doc (read from the doc file, so the
                documented set-up is the tested one) send mail from <in> to avsink-smtpd, and mail
                from <reinject> goes to smtp-sink.
    exim        <unpacked>/usr/sbin/exim4 -C <tmp>/exim.conf -bdf, as in exim_dlfunc_test.py
    opensmtpd   <unpacked>/usr/sbin/smtpd -d -f <tmp>/smtpd.conf under unshare -m, as in
                opensmtpd_filter_test.py
Cases: a clean message reaches the sink exactly once, with avsink's X-Virus-Scanned; EICAR is
refused by avsink-smtpd (its log names Eicar), the MTA fails the delivery (bounce) and the sink never
gets it. --direct points the MTA's relay straight at smtp-sink instead of the proxy: both cases must
then fail (this shows the test can fail).
Exit status: 0 when every case passed, 77 (ctest: skipped) when the environment cannot run it.

usage: relay_proxy_test.py exim|opensmtpd AVSINK_SMTPD SOURCE_DIR DEB_CACHE_DIR [--direct] [--keep]
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from mta_support import (SKIP, avsink_toml, crlf, ensure_system_user, file_with, files_in,
                         free_port, log, message, port_open, run_cases, send_one, set_deadline,
                         start_smtp_sink, stop_process, unpacked_debs, wait_for, write_file)

set_deadline(50)

# The base64 line of the EICAR attachment in tests/data/eml/eicar-plain-attachment.eml: present in
# any copy of that message (or a bounce quoting it) that reaches the sink.
EICAR_B64 = b"WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU"
PROXY_USER = "nobody"


def relay_section(src, doc):
    """The text of the doc's '## Relay through avsink-smtpd' section."""
    with open(os.path.join(src, "docs", doc)) as f:
        text = f.read()
    m = re.search(r"^## Relay through avsink-smtpd\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        raise RuntimeError(f"docs/{doc} has no '## Relay through avsink-smtpd' section")
    return m.group(1)


def doc_block(section, begin, end, doc):
    m = re.search(rf"^{re.escape(begin)}\n(.*?)^{re.escape(end)}$", section, re.S | re.M)
    if not m:
        raise RuntimeError(f"docs/{doc} has no '{begin}' block in its relay section")
    return m.group(1)


def doc_command(section, doc):
    """The avsink-smtpd command line of the relay section, as an argv."""
    m = re.search(r"^```\navsink-smtpd (-.*)\n```$", section, re.M)
    if not m:
        raise RuntimeError(f"docs/{doc} relay section has no avsink-smtpd command line")
    return ["avsink-smtpd"] + shlex.split(m.group(1))


class Env:
    """What both MTAs share: ports, the sink, avsink-smtpd from the documented command line."""

    def __init__(self, mta, smtpd_bin, src, mta_bin, direct):
        self.mta = mta
        self.doc = "exim.md" if mta == "exim" else "opensmtpd.md"
        self.smtpd_bin = smtpd_bin
        self.src = src
        self.mta_bin = mta_bin
        self.direct = direct
        self.tmp = tempfile.mkdtemp(prefix=f"avsink-relay-{mta}-")
        os.chmod(self.tmp, 0o755)  # the proxy and the MTA's delivery processes run unprivileged
        self.sink_dir = os.path.join(self.tmp, "sink")
        self.qdir = os.path.join(self.tmp, "quarantine")
        self.rules = os.path.join(self.tmp, "outbreak.rules")
        self.config = os.path.join(self.tmp, "avsink.toml")
        self.proxy_log = os.path.join(self.tmp, "avsink-smtpd.log")
        self.mta_log = os.path.join(self.tmp, "mta.log")
        ports = set()
        while len(ports) < 4:
            ports.add(free_port())
        self.smtp_port, self.reinject_port, self.proxy_port, self.sink_port = sorted(ports)
        self.section = relay_section(src, self.doc)
        self.sink = self.proxy = self.daemon = None
        self.fhs = []

    def relay_target(self):
        """Where the MTA's relay to avsink-smtpd goes: the proxy, or with --direct the sink."""
        return self.sink_port if self.direct else self.proxy_port

    def setup(self):
        for d in (self.sink_dir, self.qdir):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.sink_dir, "postfix", "postfix")
        shutil.chown(self.qdir, PROXY_USER)
        os.chmod(self.qdir, 0o700)
        avsink_toml(self.config, self.rules, self.qdir)
        self.setup_mta()

    def proxy_argv(self):
        argv = doc_command(self.section, self.doc)
        out = [self.smtpd_bin, "-f"]
        subst = {"127.0.0.1:10025": f"127.0.0.1:{self.proxy_port}",
                 "smtp:127.0.0.1:10026": f"smtp:127.0.0.1:{self.reinject_port}",
                 "avsink": PROXY_USER, "/etc/avsink/avsink.toml": self.config}
        for a in argv[1:]:
            out.append(subst.get(a, a))
        return out

    def start(self):
        self.sink = start_smtp_sink(self.sink_dir, self.sink_port)
        fh = open(self.proxy_log, "ab")
        self.fhs.append(fh)
        argv = self.proxy_argv()
        log("avsink-smtpd: " + " ".join(argv))
        self.proxy = subprocess.Popen(argv, stdout=fh, stderr=fh)
        if not wait_for(lambda: self.proxy.poll() is not None or port_open(self.proxy_port), 20) \
                or self.proxy.poll() is not None:
            raise RuntimeError("avsink-smtpd did not start:\n" + self.log_text())
        self.start_mta()
        if not wait_for(lambda: self.daemon.poll() is not None or
                        (port_open(self.smtp_port) and port_open(self.reinject_port)), 20) \
                or self.daemon.poll() is not None:
            raise RuntimeError(f"{self.mta} did not start:\n" + self.log_text())

    def is_running(self):
        return all(p is not None and p.poll() is None for p in (self.daemon, self.proxy))

    def read(self, path, tail=3000):
        try:
            with open(path, errors="replace") as f:
                return f.read()[-tail:]
        except FileNotFoundError:
            return ""

    def log_text(self):
        out = f"--- avsink-smtpd\n{self.read(self.proxy_log)}--- {self.mta}\n"
        return out + self.mta_text()

    def teardown(self, keep):
        for p in (self.daemon, self.proxy, self.sink):
            if p is not None:
                stop_process(p, 10)
        for fh in self.fhs:
            fh.close()
        if keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class EximEnv(Env):
    def setup_mta(self):
        self.spool = os.path.join(self.tmp, "spool")
        self.logdir = os.path.join(self.tmp, "log")
        for d in (self.spool, self.logdir):
            os.makedirs(d, exist_ok=True)
            shutil.chown(d, "Debian-exim", "Debian-exim")
        block = doc_block(self.section, "# begin avsink relay", "# end avsink relay", self.doc)
        routers, _, transports = block.partition("# transports\n")
        routers = routers.replace("{10026}", f"{{{self.reinject_port}}}")
        transports = transports.replace("port = 10025", f"port = {self.relay_target()}")
        m = re.search(r"^daemon_smtp_ports = 25 : 10026$", self.section, re.M)
        if not m:
            raise RuntimeError("docs/exim.md relay section has no 'daemon_smtp_ports = 25 : 10026'")
        write_file(os.path.join(self.tmp, "exim.conf"), f"""# exim.conf - throwaway Exim relaying through avsink-smtpd (avsink e2e test).
exim_path = {self.mta_bin}
keep_environment =
primary_hostname = avsink-e2e.localdomain
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
daemon_smtp_ports = {self.smtp_port} : {self.reinject_port}
local_interfaces = 127.0.0.1
never_users = root
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept

begin routers
{routers}
to_sink:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = to_sink
  self = send

begin transports
{transports}
to_sink:
  driver = smtp
  port = {self.sink_port}
  hosts_avoid_tls = *
  allow_localhost
""")

    def start_mta(self):
        fh = open(self.mta_log, "ab")
        self.fhs.append(fh)
        self.daemon = subprocess.Popen([self.mta_bin, "-C", os.path.join(self.tmp, "exim.conf"),
                                        "-bdf"], stdout=fh, stderr=fh)

    def mta_text(self):
        return "".join(f"--- {n}\n{self.read(os.path.join(self.tmp, n))}"
                       for n in ("mta.log", "log/mainlog", "log/paniclog"))

    def delivery_failed(self, marker):
        """Exim's mainlog has a permanent failure ('**') for the message with this Message-ID."""
        text = self.read(os.path.join(self.logdir, "mainlog"), tail=200000)
        ids = re.findall(r"(\S+) <= \S+ .*id=" + re.escape(marker), text)
        return any(re.search(re.escape(i) + r" \*\* .*554", text) for i in ids)


class OpenSmtpdEnv(Env):
    def setup_mta(self):
        for d in ("ns/spool", "ns/run", "ns/varlib/opensmtpd/empty"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        block = doc_block(self.section, "# begin avsink relay smtpd.conf",
                          "# end avsink relay smtpd.conf", self.doc)
        host = "hostname avsink-e2e.localdomain"
        lines = (block.replace("port 25\n", f"port {self.smtp_port} {host}\n")
                 .replace("port 10026 ", f"port {self.reinject_port} {host} ")
                 .replace("smtp://127.0.0.1:10025", f"smtp://127.0.0.1:{self.relay_target()}"))
        write_file(os.path.join(self.tmp, "smtpd.conf"), f"""# smtpd.conf - throwaway OpenSMTPD relaying through avsink-smtpd (avsink e2e test).
{lines}action "sink" relay host smtp://127.0.0.1:{self.sink_port}
match from any for any action "sink"
""", 0o600)

    def start_mta(self):
        ns = os.path.join(self.tmp, "ns")
        script = (f"mount --bind {ns}/spool /var/spool && mount --bind {ns}/run /run && "
                  f"mount --bind {ns}/varlib /var/lib && "
                  f"exec {self.mta_bin} -d -f {self.tmp}/smtpd.conf")
        fh = open(self.mta_log, "ab")
        self.fhs.append(fh)
        self.daemon = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                        script], stdout=fh, stderr=fh)

    def mta_text(self):
        return self.read(self.mta_log)

    def delivery_failed(self, marker):
        """smtpd logged a permanent failure with avsink-smtpd's 554 (it bounces the message)."""
        text = self.read(self.mta_log, tail=200000)
        return bool(re.search(r'result="?PermFail"? .*554 5\.7\.1 Virus found', text))


def proxy_refused_eicar(env):
    return any(" action=reject " in l and "Eicar" in l
               for l in env.read(env.proxy_log, tail=200000).splitlines())


def case_clean_relayed_once(env, r):
    data, marker = message("clean through the relay proxy")
    code, text = send_one(env, data)
    path = file_with(env.sink_dir, marker, timeout=15) if code == 250 else None
    time.sleep(1.5)  # a second copy (a loop through the proxy) would arrive by now
    copies = [p for p in files_in(env.sink_dir) if marker in open(p, "rb").read()]
    got = crlf(open(path, "rb").read()) if path else b""
    head = got.partition(b"\r\n\r\n")[0]
    scanned = re.findall(rb"^X-Virus-Scanned: ([^\r\n]*)", head, re.M | re.I)
    r.check("clean_relayed_once",
            code == 250 and len(copies) == 1 and len(scanned) == 1 and
            scanned[0].startswith(b"avsink"),
            f"MTA said {code} {text!r} (want 250); copies at the sink {len(copies)} (want 1); "
            f"X-Virus-Scanned {scanned} (want one, avsink's)")


def case_eicar_not_delivered(env, r):
    with open(os.path.join(env.src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
        data = crlf(f.read())
    _, marker = message("unused")
    data = data.replace(b"Message-ID: <e1@example.org>", b"Message-ID: <" + marker + b">")
    code, text = send_one(env, data)
    refused = wait_for(lambda: proxy_refused_eicar(env), 15)
    failed = wait_for(lambda: env.delivery_failed(marker.decode()), 10)
    time.sleep(1)  # the bounce (quoting the message) goes through the proxy too
    copies = [open(p, "rb").read() for p in files_in(env.sink_dir)]
    copies = [c for c in copies if EICAR_B64 in c]
    # smtp-sink records the envelope recipient as X-Rcpt-Args.
    leaked = [c for c in copies if b"X-Rcpt-Args: <bob@example.net>" in c]
    bounces = [c for c in copies if b"X-Rcpt-Args: <alice@example.org>" in c]
    if bounces:
        log(f"INFO: {len(bounces)} bounce(s) to the sender quoting the EICAR message (still "
            f"base64 text inside it) reached the sink; avsink-smtpd scanned and passed them")
    r.check("eicar_not_delivered",
            code == 250 and refused and failed and not leaked,
            f"MTA said {code} {text!r} (want 250, after queue); avsink-smtpd refused it naming "
            f"Eicar={bool(refused)}; MTA logged the 554 failure={bool(failed)}; "
            f"copies for the recipient at the sink {len(leaked)} (want 0)")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 4 or args[0] not in ("exim", "opensmtpd"):
        print(__doc__)
        return 2
    mta = args[0]
    smtpd_bin, src, cache = (os.path.abspath(a) for a in args[1:4])
    keep, direct = "--keep" in sys.argv, "--direct" in sys.argv
    if os.geteuid() != 0:
        log(f"SKIP: {mta} needs root")
        return SKIP
    tools = ["apt-get", "dpkg", "smtp-sink"] + (["unshare"] if mta == "opensmtpd" else [])
    for tool in tools:
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not found")
            return SKIP
    if mta == "exim":
        root = unpacked_debs(cache, ["exim4-daemon-heavy"])
        users = ["Debian-exim"]
        mta_bin = os.path.join(root, "usr/sbin/exim4") if root else None
    else:
        ns = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                            capture_output=True, text=True, timeout=30)
        if ns.returncode != 0:
            log(f"SKIP: no private mount namespace here (unshare -m: {ns.stderr.strip()})")
            return SKIP
        root = unpacked_debs(cache, ["opensmtpd"])
        users = ["opensmtpd", "opensmtpq"]
        mta_bin = os.path.join(root, "usr/sbin/smtpd") if root else None
    if root is None:
        log(f"SKIP: could not fetch and unpack Debian's {mta}")
        return SKIP
    ldd = subprocess.run(["ldd", mta_bin], capture_output=True, text=True, timeout=30).stdout
    missing = [l.split()[0] for l in ldd.splitlines() if "not found" in l]
    if missing:
        log(f"SKIP: {mta_bin} needs {missing} (scripts/install-deps installs them)")
        return SKIP
    if not all(ensure_system_user(u) for u in users):
        log(f"SKIP: cannot create the {mta} users")
        return SKIP
    cls = EximEnv if mta == "exim" else OpenSmtpdEnv
    if direct:
        log("--direct: the MTA relays straight to the sink, bypassing avsink-smtpd")
    env = cls(mta, smtpd_bin, src, mta_bin, direct)
    return run_cases(env, (case_clean_relayed_once, case_eicar_not_delivered), keep)


if __name__ == "__main__":
    sys.exit(main())

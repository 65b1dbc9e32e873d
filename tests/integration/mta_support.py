# mta_support.py - helpers shared by the MTA end-to-end tests (Postfix, OpenSMTPD, Exim): ports,
# bounded waits, processes stopped by pid, the smtp-sink next hop, SMTP clients and test messages.
"""Every wait is bounded by its own timeout and by a global deadline (set_deadline)."""
import os
import re
import smtplib
import socket
import subprocess
import time

SKIP = 77
_deadline = time.monotonic() + 170


def set_deadline(seconds):
    """The whole test's hard bound, from now; wait_for never waits past it."""
    global _deadline
    _deadline = time.monotonic() + seconds


def past_deadline():
    return time.monotonic() > _deadline


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, step=0.1):
    """Polls pred() until it is truthy or timeout seconds pass (never past the global deadline)."""
    end = min(time.monotonic() + timeout, _deadline)
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)



def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_process(p, timeout):
    """SIGTERM a child we started, SIGKILL it if it has not exited within `timeout` s."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def start_smtp_sink(sink_dir, port, user="postfix"):
    """Postfix's smtp-sink as the next hop: one file per delivered message in sink_dir."""
    p = subprocess.Popen(["smtp-sink", "-u", user, "-d", os.path.join(sink_dir, "%H%M%S."),
                          f"127.0.0.1:{port}", "64"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_for(lambda: port_open(port), 10):
        stop_process(p, 5)
        raise RuntimeError("smtp-sink did not start")
    return p


def files_in(directory):
    out = []
    for root, _, files in os.walk(directory):
        out += [os.path.join(root, f) for f in files]
    return sorted(out)


def file_with(directory, marker: bytes, timeout=15):
    """The first file under directory containing marker, waiting up to timeout s; else None."""
    def find():
        for p in files_in(directory):
            try:
                with open(p, "rb") as f:
                    if marker in f.read():
                        return p
            except OSError:
                pass
        return None
    return wait_for(find, timeout)


class Results:
    """PASS/FAIL lines with got/want details; failed() lists the failures."""

    def __init__(self):
        self.results = []

    def check(self, name, ok, detail):
        self.results.append((name, ok, detail))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")

    def failed(self):
        return [r for r in self.results if not r[1]]


# ---- SMTP clients ----
def swaks(env, path=None, subject=None, body=None, attach=None):
    """Sends one message with swaks; returns (code, text) of the reply to the end of DATA."""
    args = ["swaks", "--server", "127.0.0.1", "--port", str(env.smtp_port), "--from",
            "alice@example.org", "--to", "bob@example.net", "--helo", "client.example.org",
            "--timeout", "30"]
    if path:
        args += ["--data", path]
    if subject:
        args += ["--header", f"Subject: {subject}"]
    if body:
        args += ["--body", body]
    if attach:
        args += ["--attach", attach]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    replies = []
    for line in r.stdout.splitlines():
        m = re.match(r"^<(?:-|\*\*|~\*) +(\d{3})([ -])(.*)$", line)
        if m and m.group(2) == " ":
            replies.append((int(m.group(1)), m.group(3)))
    for i, (code, _) in enumerate(replies):
        if code == 354 and i + 1 < len(replies):
            return replies[i + 1]
    # No DATA phase: the first refusal tells why (e.g. 4xx at MAIL FROM when the milter is down).
    for code, text in replies:
        if code >= 400:
            return code, text
    return replies[-1] if replies else (0, r.stdout + r.stderr)


def smtp_session(env):
    s = smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=30)
    s.ehlo("client.example.org")
    return s


def smtp_send(s, data: bytes, rcpts=("bob@example.net",), sender="alice@example.org"):
    """One transaction on an open session; returns (code, text) of the final reply."""
    code, msg = s.mail(sender)
    if code != 250:
        s.rset()
        return code, msg.decode(errors="replace")
    for r in rcpts:
        code, msg = s.rcpt(r)
        if code not in (250, 251):
            s.rset()
            return code, msg.decode(errors="replace")
    code, msg = s.data(data)
    return code, msg.decode(errors="replace")


def send_one(env, data: bytes):
    try:
        s = smtp_session(env)
    except (OSError, smtplib.SMTPException) as e:
        return 0, f"connect: {e}"
    try:
        return smtp_send(s, data)
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    finally:
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass


def queue_id_of(text):
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    return m.group(1) if m else None


def message(subject, body="Hello.\r\n", extra_headers="", marker=None):
    marker = marker or f"avsink-e2e-{time.monotonic_ns()}"
    return (f"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{marker}@example.org>\r\n{extra_headers}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"{body}{marker}\r\n").encode(), marker.encode()


def nested_multipart(depth):
    """A message nested `depth` multiparts deep (over the test config's max_mime_depth = 8)."""
    marker = f"avsink-e2e-nested-{time.monotonic_ns()}"
    head = (f"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
            f"Subject: deeply nested\r\nMessage-ID: <{marker}@example.org>\r\nMIME-Version: 1.0\r\n")
    body = f"Content-Type: text/plain\r\n\r\n{marker}\r\n"
    for i in range(depth, 0, -1):
        body = (f"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n"
                f"--b{i}\r\n{body}\r\n--b{i}--\r\n")
    return (head + body).encode(), marker.encode()




# ---- MTAs that conflict with the installed Postfix: unpacked, never installed ----
def unpacked_debs(cache_dir, packages):
    """Fetches each Debian package with `apt-get download` into cache_dir (once; the .debs are kept
    there as a cache) and unpacks them all with `dpkg -x` into cache_dir/root. Returns that root,
    or None with the reason logged (the caller skips)."""
    os.makedirs(cache_dir, exist_ok=True)
    root = os.path.join(cache_dir, "root")
    for pkg in packages:
        debs = [f for f in os.listdir(cache_dir) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not debs:
            try:
                r = subprocess.run(["apt-get", "download", pkg], cwd=cache_dir, capture_output=True,
                                   text=True, timeout=120)
                if r.returncode != 0:  # no package lists yet (an image built without them)
                    subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
                    r = subprocess.run(["apt-get", "download", pkg], cwd=cache_dir,
                                       capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as e:
                log(f"apt-get download {pkg}: {e}")
                return None
            debs = [f for f in os.listdir(cache_dir)
                    if f.startswith(pkg + "_") and f.endswith(".deb")]
            if r.returncode != 0 or not debs:
                log(f"apt-get download {pkg} failed: {r.stdout}{r.stderr}")
                return None
        stamp = os.path.join(cache_dir, debs[0] + ".unpacked")
        if not os.path.exists(stamp):
            r = subprocess.run(["dpkg", "-x", os.path.join(cache_dir, debs[0]), root],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                log(f"dpkg -x {debs[0]}: {r.stderr}")
                return None
            open(stamp, "w").close()
    return root


def ensure_system_user(name):
    """Creates a locked system user and group `name` when missing (the daemons look them up by the
    names compiled into them). Returns False when it cannot."""
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        log(f"useradd {name}: {r.stderr}")
    return r.returncode == 0


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def avsink_toml(path, rules, qdir):
    """The e2e avsink configuration: repo signatures only, a rule file watched every 200 ms."""
    write_file(rules, "# outbreak.rules - e2e test rule file, edited while the MTA runs.\n"
                      "# avsink: empty (no outbreak yet)\n")
    write_file(path, f"""# avsink.toml - e2e test configuration.
[clamav]
system_db = false

[limits]
max_mime_depth = 8

[rules]
files = ["{rules}"]
poll_ms = 200

[quarantine]
dir = "{qdir}"
""")


OUTBREAK_SUBJECT = "Invoice 20261 overdue"
OUTBREAK_RULE = ('subject /^Invoice [0-9]+ overdue$/i  reject  "outbreak 2026-11"  '
                 'id=e2e-invoice\n')


# ---- the cases every MTA adapter must pass (env: smtp_port, sink_dir, rules, src) ----
def case_clean_delivered_intact(env, r):
    """A clean message is delivered; its header block and body arrive byte for byte, with avsink's
    X-Virus-Scanned added."""
    with open(os.path.join(env.src, "tests/data/eml/mixed-pdf-attachment.eml"), "rb") as f:
        original = crlf(f.read())
    code, text = send_one(env, original)
    mid = re.search(rb"Message-ID: *(<[^>]+>)", original, re.I).group(1)
    path = file_with(env.sink_dir, mid) if code == 250 else None
    got = crlf(open(path, "rb").read()) if path else b""
    head, _, body = original.partition(b"\r\n\r\n")
    ok_head = head in got
    ok_body = got.rstrip(b"\r\n").endswith(body.rstrip(b"\r\n"))
    has_hdr = b"X-Virus-Scanned: avsink" in got
    r.check("clean_delivered_intact", code == 250 and ok_head and ok_body and has_hdr,
            f"got {code} {text!r} (want 250); delivered={bool(path)} headers intact={ok_head} "
            f"body intact={ok_body} X-Virus-Scanned={has_hdr}")


def case_eicar_rejected(env, r):
    with open(os.path.join(env.src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
        data = crlf(f.read())
    before = len(files_in(env.sink_dir))
    code, text = send_one(env, data)
    time.sleep(1)
    after = len(files_in(env.sink_dir))
    r.check("eicar_rejected", code == 554 and "Eicar" in text and after == before,
            f"got {code} {text!r}, want 554 naming Eicar; delivered {after - before}")


def case_banned_attachment_rejected(env, r):
    with open(os.path.join(env.src, "tests/data/attachments/trick-plain-exe-uppercase.eml"),
              "rb") as f:
        data = crlf(f.read())
    before = len(files_in(env.sink_dir))
    code, text = send_one(env, data)
    time.sleep(1)
    after = len(files_in(env.sink_dir))
    r.check("banned_attachment_rejected", 500 <= code <= 599 and after == before,
            f"got {code} {text!r}, want 5xx (SETUP.EXE is on the default block list); "
            f"delivered {after - before}")


def case_outbreak_rule_hot(env, r):
    """A subject rule added to the rule file while the MTA runs applies without a restart."""
    data, _ = message(OUTBREAK_SUBJECT)
    code0, text0 = send_one(env, data)
    with open(env.rules, "w") as f:
        f.write("# outbreak.rules - e2e test rule file, edited while the MTA runs.\n" +
                OUTBREAK_RULE)

    def rejected():
        d, _ = message(OUTBREAK_SUBJECT)
        c, t = send_one(env, d)
        return (c, t) if 500 <= c <= 599 else None
    got = wait_for(rejected, 10, step=0.5)
    code1, text1 = got if got else (0, "still accepted after 10 s")
    r.check("outbreak_rule_after_edit",
            code0 == 250 and got is not None and "outbreak" in text1 and env.is_running(),
            f"before edit {code0} {text0!r}; after edit {code1} {text1!r}; "
            f"still running={env.is_running()}")


def run_cases(env, cases, keep):
    """Sets up and starts env, runs each case(env, results) in order (a case that raises is a FAIL,
    the others still run; none starts past the deadline), prints env.log_text() when one failed,
    and always tears env down. Returns the exit status: 0 when every case passed, else 1."""
    r = Results()
    try:
        env.setup()
        env.start()
        for case in cases:
            name = getattr(case, "__name__", "case")
            if past_deadline():
                r.check(name, False, "not run: deadline passed")
                continue
            try:
                case(env, r)
            except Exception as e:  # noqa: BLE001 - one broken case must not hide the others
                r.check(name, False, f"exception {type(e).__name__}: {e}")
    except Exception as e:  # noqa: BLE001
        r.check("setup", False, f"{type(e).__name__}: {e}")
    finally:
        if r.failed():
            log("---- daemon log (tail) ----\n" + env.log_text()[-6000:])
        env.teardown(keep)
    log(f"{len(r.results) - len(r.failed())}/{len(r.results)} cases passed")
    return 1 if r.failed() else 0


def case_forged_headers_replaced(env, r):
    """A sender's own X-Virus-Scanned / X-Virus-Status never reach the recipient: only avsink's."""
    data, marker = message("spoofed scan headers", extra_headers=(
        "X-Virus-Scanned: clean by forger\r\nX-Virus-Status: Clean\r\n"
        "x-virus-scanned: second forgery\r\n"))
    code, _ = send_one(env, data)
    path = file_with(env.sink_dir, marker) if code == 250 else None
    got = crlf(open(path, "rb").read()) if path else b""
    head = got.partition(b"\r\n\r\n")[0].decode(errors="replace")
    fields = [l.split(":", 1) for l in head.split("\r\n") if l and l[0] not in " \t"]
    scanned = [v[0].strip() for n, *v in fields if v and n.lower() == "x-virus-scanned"]
    status = [v[0].strip() for n, *v in fields if v and n.lower() == "x-virus-status"]
    r.check("forged_headers_replaced",
            code == 250 and len(scanned) == 1 and scanned[0].startswith("avsink") and
            status == ["Clean"] and "forger" not in head and "forgery" not in head,
            f"got {code}; X-Virus-Scanned={scanned}; X-Virus-Status={status} (want avsink's "
            f"two, once each); forgery kept={'forger' in head}")


def case_quarantined_not_delivered(env, r):
    """An unscannable message (MIME depth 12 over the limit of 8) is stored in the avsink quarantine
    and never delivered; the client sees env.quarantine_code (250 where the MTA can accept and
    drop, 554 where it cannot)."""
    data, marker = nested_multipart(12)
    before = len(files_in(env.qdir))
    code, text = send_one(env, data)
    stored = wait_for(lambda: len(files_in(env.qdir)) > before, 5)
    delivered = file_with(env.sink_dir, marker, timeout=2)
    r.check("quarantined_not_delivered",
            code == env.quarantine_code and bool(stored) and not delivered,
            f"got {code} {text!r} (want {env.quarantine_code}); stored={bool(stored)}; "
            f"delivered={bool(delivered)}")

#!/usr/bin/env python3
# postfix_milter_test.py - end to end: a real Postfix (Debian package) with avsink-milter in smtpd_milters.
# Throwaway config and queue in a temp dir, loopback only, every wait bounded; processes stopped by pid.
"""
Starts, in a temporary directory:
  smtp-sink      the next hop, 127.0.0.1:<port>, one file per delivered message (-d)
  avsink-milter  unix:<tmp>/milter.sock, -u postfix, foreground, log to <tmp>/milter.log
  Postfix        smtpd on 127.0.0.1:<port>, smtpd_milters = that socket, milter_default_action = tempfail,
                 default_transport = smtp:[127.0.0.1]:<sink port>
and drives it with swaks and Python's smtplib. Each case prints PASS/FAIL with got/want; the exit status
is 0 only when every case passed, 77 (ctest: skipped) when the environment cannot run Postfix.

usage: postfix_milter_test.py MILTER_BINARY SOURCE_DIR [--keep] [--only CASE,...]
"""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing postfix_env leaves no __pycache__ in the source tree
# The throwaway Postfix, the clients and the helpers (shared with tests/package and bench/, which
# reach them through this module: stop_process and set_deadline are re-exported for them).
from postfix_env import (SKIP, CaseBase, Env, crlf, log, message, nested_multipart,  # noqa: F401
                         queue_id_of, run_cases, send_one, set_deadline, smtp_send, smtp_session,
                         stop_process, swaks, wait_for)
set_deadline(170)  # the whole test, hard bound (ctest TIMEOUT is above this)


# ---- the cases ----
class Cases(CaseBase):
    def clean_delivered_intact(self):
        """A clean message (swaks) is delivered; its header and body bytes arrive unchanged, and the
        milter scanned exactly the bytes the client sent (HOSTILE #31: what we scan is delivered)."""
        env = self.env
        src = os.path.join(env.src, "tests/data/eml/mixed-pdf-attachment.eml")
        with open(src, "rb") as f:
            original = crlf(f.read())
        code, text = swaks(env, path=src)
        if code != 250:
            return self.check("clean_delivered_intact", False, f"got {code} {text}, want 250")
        qid = queue_id_of(text)
        mid = re.search(rb"Message-ID: *(<[^>]+>)", original, re.I).group(1)
        path = env.delivered_with(mid)
        if not path:
            return self.check("clean_delivered_intact", False, "not delivered to the sink in 15 s")
        with open(path, "rb") as f:
            got = crlf(f.read())
        orig_head, _, orig_body = original.partition(b"\r\n\r\n")
        # The delivered copy has Postfix's Received and our X-Virus-Scanned added above the
        # original header block; everything of the original must follow byte for byte (swaks
        # and smtp-sink each add a line end at the very end, so trailing line ends are trimmed).
        ok_body = got.rstrip(b"\r\n").endswith(orig_body.rstrip(b"\r\n"))
        ok_head = orig_head in got
        has_hdr = b"X-Virus-Scanned: avsink" in got
        # The same file through smtplib, whose bytes we know exactly: the milter scanned them all.
        code2, text2 = send_one(env, original)
        qid2 = queue_id_of(text2)
        line = env.milter_line(qid2) if qid2 else None
        m = re.search(r"size=(\d+)", line or "")
        scanned = int(m.group(1)) if m else -1
        ok_size = scanned == len(original)
        self.check("clean_delivered_intact", ok_body and ok_head and has_hdr and ok_size,
                   f"250 {qid}; body intact={ok_body}, headers intact={ok_head}, "
                   f"X-Virus-Scanned={has_hdr}; smtplib copy {code2}, scanned size={scanned} "
                   f"want {len(original)}")

    def header_bytes_exact(self):
        """Headers without a space after the colon, folded headers and tabs are scanned as sent."""
        env = self.env
        data, marker = message("exact   spacing", extra_headers=(
            "X-No-Space:value\r\nX-Folded: first\r\n\tsecond\r\n   third\r\nX-Tab:\ttabbed\r\n"))
        code, text = send_one(env, data)
        qid = queue_id_of(text)
        line = env.milter_line(qid) if qid else ""
        m = re.search(r"size=(\d+)", line or "")
        scanned = int(m.group(1)) if m else -1
        path = env.delivered_with(marker)
        got = crlf(open(path, "rb").read()) if path else b""
        head = data.partition(b"\r\n\r\n")[0]
        self.check("header_bytes_exact", code == 250 and scanned == len(data) and head in got,
                   f"got {code}, scanned {scanned} of {len(data)} bytes, "
                   f"delivered headers intact={head in got}")

    def forged_headers_replaced(self):
        """Issue 14 item 5 (red-team reproduction): a sender's own X-Virus-Scanned, X-Virus-Status
        and X-Avsink-* headers reached the recipient. Only avsink's own copies may arrive."""
        env = self.env
        data, marker = message("forged scan headers", extra_headers=(
            "X-Virus-Scanned: clean by forger\r\nX-Virus-Status: Clean\r\n"
            "x-virus-scanned: second forgery\r\nX-Avsink-Released: q-forged\r\n"
            "X-Avsink-Release: v1.forged.mark\r\n"))
        code, _ = send_one(env, data)
        path = env.delivered_with(marker)
        got = crlf(open(path, "rb").read()) if path else b""
        head = got.partition(b"\r\n\r\n")[0].decode(errors="replace")
        fields = [l.split(":", 1) for l in head.split("\r\n") if l and l[0] not in " \t"]
        scanned = [v.strip() for n, *v in fields for v in v if n.lower() == "x-virus-scanned"]
        status = [v.strip() for n, *v in fields for v in v if n.lower() == "x-virus-status"]
        ours = [n for n, *_ in fields if n.lower().startswith("x-avsink-")]
        self.check("forged_headers_replaced",
                   code == 250 and len(scanned) == 1 and scanned[0].startswith("avsink") and
                   status == ["Clean"] and not ours and "forger" not in head,
                   f"got {code}; X-Virus-Scanned={scanned}; X-Virus-Status={status}; "
                   f"X-Avsink-*={ours}")

    def eicar_rejected(self):
        env = self.env
        src = os.path.join(env.src, "tests/data/eml/eicar-plain-attachment.eml")
        before = len(env.delivered())
        code, text = swaks(env, path=src)
        time.sleep(1)
        after = len(env.delivered())
        self.check("eicar_rejected_554", code == 554 and "Eicar" in text and after == before,
                   f"got {code} {text!r}, want 554 naming Eicar; delivered {after - before}")

    def banned_attachment_rejected(self):
        env = self.env
        src = os.path.join(env.src, "tests/data/attachments/trick-plain-exe-uppercase.eml")
        code, text = swaks(env, path=src)
        self.check("banned_attachment_rejected", 500 <= code <= 599,
                   f"got {code} {text!r}, want 5xx (SETUP.EXE is on the default block list)")

    def banned_attachment_stripped(self):
        """REWRITE through libmilter from the library's header edits (avsink_verdict_header_edit)
        and new body (avsink_verdict_rewritten_body), issue 19: for a recipient whose policy
        strips banned attachments, SETUP.EXE is cut out and the rest delivered; the added
        X-Avsink-Stripped header arrives, a forged X-Virus-Scanned does not."""
        env = self.env
        src = os.path.join(env.src, "tests/data/attachments/trick-plain-exe-uppercase.eml")
        with open(src, "rb") as f:
            original = crlf(f.read())
        marker = b"<strip-%d@example.org>" % os.getpid()
        data = (b"X-Virus-Scanned: forged by the sender\r\n" +
                original.replace(b"<setup@example.org>", marker))
        try:
            s = smtp_session(env)
            code, text = smtp_send(s, data, rcpts=("strip@example.net",))
            s.quit()
        except (OSError, smtplib.SMTPException) as e:
            code, text = 0, str(e)
        path = env.delivered_with(marker)
        got = crlf(open(path, "rb").read()) if path else b""
        head, _, body = got.partition(b"\r\n\r\n")
        htext = head.decode(errors="replace")
        fields = [l.split(":", 1) for l in htext.split("\r\n") if l and l[0] not in " \t"]
        stripped = [v.strip() for n, *v in fields for v in v if n.lower() == "x-avsink-stripped"]
        scanned = [v.strip() for n, *v in fields for v in v if n.lower() == "x-virus-scanned"]
        ok = (code == 250 and len(stripped) == 1 and "SETUP.EXE" in stripped[0] and
              len(scanned) == 1 and scanned[0].startswith("avsink") and
              b"TVqQAAAA" not in body and b"Please see the attachment." in body and
              b'boundary="----=_Part_avsink_3839654196"' in head)
        self.check("banned_attachment_stripped", ok,
                   f"got {code} {text!r}; delivered={bool(path)}; X-Avsink-Stripped={stripped}; "
                   f"X-Virus-Scanned={scanned}; exe gone={b'TVqQAAAA' not in body}")

    def outbreak_rule_hot(self):
        """A subject rule added to the rule file while the milter runs: applied without a restart
        (SIGHUP, and the engine's own file watch)."""
        env = self.env
        subject = "Invoice 20261 overdue"
        pid = env.milter.pid
        data, _ = message(subject)
        code0, text0 = send_one(env, data)
        with open(env.rules, "w") as f:
            f.write("# outbreak.rules - e2e test rule file, edited while the milter runs.\n"
                    'subject /^Invoice [0-9]+ overdue$/i  reject  "outbreak 2026-11"  id=e2e-invoice\n')
        os.kill(pid, signal.SIGHUP)
        def rejected():
            d, _ = message(subject)
            c, t = send_one(env, d)
            return (c, t) if 500 <= c <= 599 else None
        got = wait_for(rejected, 10, step=0.5)
        same = env.milter.poll() is None and env.milter.pid == pid
        code1, text1 = got if got else (0, "still accepted after 10 s")
        self.check("outbreak_rule_after_edit", code0 == 250 and got is not None and
                   "outbreak" in text1 and same,
                   f"before edit {code0}; after edit {code1} {text1!r}; same pid={same}")

    def quarantined_not_delivered(self):
        """An unscannable message (MIME depth over the limit) is quarantined: the client sees 250,
        the message is stored in the avsink quarantine, and nothing reaches the sink."""
        env = self.env
        data, marker = nested_multipart(12)
        before = len(env.quarantine_entries())
        code, text = send_one(env, data)
        qid = queue_id_of(text)
        stored = wait_for(lambda: len(env.quarantine_entries()) > before, 5)
        delivered = env.delivered_with(marker, timeout=2)
        line = (env.milter_line(qid) if qid else None) or ""
        if not line:  # refused before a queue id was reported: show the milter's last verdict line
            lines = [x for x in env.milter_text().splitlines() if "action=" in x]
            line = lines[-1] if lines else ""
        self.check("quarantine_stored_not_delivered",
                   code == 250 and bool(stored) and not delivered and "action=quarantine" in line,
                   f"got {code} {text!r} (want 250); stored={bool(stored)}; "
                   f"delivered={bool(delivered)}; milter: {line[:200]!r}")

    def oversize_refused(self):
        """Issue 14 item 1 (red-team reproduction): a 108,063-byte message past avsink's 65,536-byte
        limit was discarded and its prefix quarantined. Whole or nothing: 552 5.3.4, nothing
        stored, nothing delivered."""
        env = self.env
        body = "".join(f"line {i:06d} " + "x" * 60 + "\r\n" for i in range(1500))
        data, marker = message("big report", body=body)
        data = data + b"y" * (108063 - len(data)) if len(data) < 108063 else data
        before = len(env.quarantine_entries())
        code, text = send_one(env, data)
        time.sleep(1)
        stored = len(env.quarantine_entries()) - before
        delivered = env.delivered_with(marker, timeout=2)
        self.check("oversize_refused_552",
                   code == 552 and "5.3.4" in text and stored == 0 and not delivered,
                   f"got {code} {text!r} (want 552 5.3.4); {len(data)} bytes; stored={stored}; "
                   f"delivered={bool(delivered)}")

    def root_phase_refuses_user_owned_dirs(self):
        """Issue 14 item 2: while root, the milter creates, chowns and writes only in root-owned
        directories. A socket or pid directory the -u user owns (where it could swap in a symlink)
        is refused at start-up with the reason, and nothing is created there."""
        env = self.env
        got = []
        for role in ("socket directory", "pid file directory"):
            d = tempfile.mkdtemp(prefix="avsink-userdir-", dir=env.tmp)
            shutil.chown(d, "postfix", "postfix")
            sock = os.path.join(d if role == "socket directory" else env.tmp, "x.sock")
            pid = os.path.join(d if role == "pid file directory" else env.tmp, "x.pid")
            p = subprocess.run([env.milter_bin, "-f", "-s", f"unix:{sock}", "-p", pid, "-c",
                                os.path.join(env.tmp, "avsink.toml"), "-u", "postfix"],
                               capture_output=True, timeout=30)
            err = p.stderr.decode(errors="replace")
            ok = (p.returncode == 1 and f"refusing to start: {role}" in err and
                  "not root" in err and not os.listdir(d))
            got.append((role, ok, p.returncode, err.strip()[-200:]))
        self.check("root_phase_refuses_user_owned_dirs", all(g[1] for g in got),
                   "; ".join(f"{r}: rc={rc} {e!r}" for r, _, rc, e in got))

    def many_messages_one_connection(self):
        """HOSTILE #50: clean -> EICAR -> clean -> RSET -> clean on one SMTP connection."""
        env = self.env
        with open(os.path.join(env.src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
            eicar = f.read()
        got = []
        markers = []
        try:
            s = smtp_session(env)
            for kind in ("clean", "eicar", "clean", "rset", "clean"):
                if kind == "rset":
                    s.mail("alice@example.org")
                    s.rcpt("bob@example.net")
                    got.append(s.rset()[0])
                    continue
                if kind == "eicar":
                    got.append(smtp_send(s, eicar)[0])
                    continue
                d, m = message(f"bleed {len(got)}")
                markers.append(m)
                got.append(smtp_send(s, d)[0])
            s.quit()
        except (OSError, smtplib.SMTPException) as e:
            got.append(f"error {e}")
        delivered = all(env.delivered_with(m, timeout=10) for m in markers)
        want = [250, 554, 250, 250, 250]
        self.check("many_messages_one_connection", got == want and delivered,
                   f"got {got}, want {want}; clean ones delivered={delivered}")

    def aborted_data_then_clean(self):
        """A client that disconnects in the middle of DATA (milter abort) leaves nothing behind."""
        env = self.env
        try:
            with socket.create_connection(("127.0.0.1", env.smtp_port), timeout=10) as c:
                f = c.makefile("rb")
                f.readline()
                for cmd in (b"EHLO x.example\r\n", b"MAIL FROM:<a@example.org>\r\n",
                            b"RCPT TO:<b@example.net>\r\n", b"DATA\r\n"):
                    c.sendall(cmd)
                    while True:
                        line = f.readline()
                        if not line or line[3:4] != b"-":
                            break
                c.sendall(b"Subject: cut short\r\n\r\n" + b"X" * 200000)
        except OSError:
            pass
        data, marker = message("after an abort")
        code, text = send_one(env, data)
        self.check("aborted_data_then_clean", code == 250 and bool(env.delivered_with(marker)),
                   f"got {code} {text!r}")

    def milter_down_tempfails(self):
        """The milter killed: Postfix answers 4xx and accepts nothing unscanned."""
        env = self.env
        env.milter.kill()
        env.milter.wait(timeout=10)
        data, marker = message("while the milter is down")
        code, text = send_one(env, data)
        code2, text2 = swaks(env, subject="swaks while down", body="down")
        delivered = env.delivered_with(marker, timeout=2)
        self.check("milter_killed_4xx", 400 <= code <= 499 and 400 <= code2 <= 499 and not delivered,
                   f"smtplib got {code} {text!r}; swaks got {code2} {text2!r}; "
                   f"delivered={bool(delivered)}")

    def milter_restarted_flows(self):
        """Restarted (in hold mode): mail flows again, and a quarantine verdict is held in the
        Postfix hold queue instead of being discarded."""
        env = self.env
        env.start_milter("--quarantine-mode", "hold")
        def flows():
            d, m = message("after restart")
            c, _ = send_one(env, d)
            return m if c == 250 else None
        marker = wait_for(flows, 15, step=0.5)
        delivered = bool(marker) and bool(env.delivered_with(marker))
        self.check("milter_restarted_flows", delivered,
                   f"accepted after restart={bool(marker)}, delivered={delivered}")

        before = len(env.held())
        data, marker = nested_multipart(12)
        code, text = send_one(env, data)
        held = wait_for(lambda: len(env.held()) > before, 10)
        delivered = env.delivered_with(marker, timeout=2)
        self.check("quarantine_hold_mode", code == 250 and bool(held) and not delivered,
                   f"got {code} {text!r}; in Postfix hold queue={bool(held)}; "
                   f"delivered={bool(delivered)}")

    def sigterm_drains(self):
        env = self.env
        env.milter.send_signal(signal.SIGTERM)
        try:
            rc = env.milter.wait(timeout=40)
        except subprocess.TimeoutExpired:
            rc = None
        text = env.milter_text()
        self.check("sigterm_exits_cleanly", rc == 0 and "stopped" in text,
                   f"exit status {rc}, want 0 with 'stopped' logged")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    milter_bin, src = sys.argv[1], sys.argv[2]
    keep = "--keep" in sys.argv
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    if os.geteuid() != 0:
        log("SKIP: Postfix needs root to start (run the integration tests as root, as CI does)")
        return SKIP
    for tool in ("postfix", "postconf", "smtp-sink", "swaks"):
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not installed (scripts/install-deps)")
            return SKIP
    try:
        import pwd
        pwd.getpwnam("postfix")
    except KeyError:
        log("SKIP: no postfix user")
        return SKIP

    env = Env(milter_bin, src, keep, extra_toml=(
        '\n[[policy]]\nname = "strip"\nrecipients = ["strip@example.net"]\nbanned = "strip"\n'))
    cases = Cases(env)
    order = ["clean_delivered_intact", "header_bytes_exact", "forged_headers_replaced",
             "eicar_rejected",
             "banned_attachment_rejected", "banned_attachment_stripped", "outbreak_rule_hot", "quarantined_not_delivered",
             "oversize_refused", "root_phase_refuses_user_owned_dirs",
             "many_messages_one_connection", "aborted_data_then_clean", "milter_down_tempfails",
             "milter_restarted_flows", "sigterm_drains"]
    keep_running = ("milter_down_tempfails", "milter_restarted_flows")
    return run_cases(env, cases, order,
                     lambda name: not only or name in only or name in keep_running)


if __name__ == "__main__":
    sys.exit(main())

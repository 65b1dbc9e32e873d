#!/usr/bin/env python3
# postfix_policy_test.py - end to end behind a real Postfix: [[policy]] per recipient, the RCPT-time
# split by policy, smfi_delrcpt of quarantined recipients, skipping scans by source, notices (issue 16).
"""
Uses the harness of postfix_env.py (throwaway Postfix + smtp-sink + avsink-milter). The avsink.toml
gets three policies: "lab" (recipient lab@example.net, virus = accept, .com allowed: the EICAR
file is eicar.com), "held" (recipient held@example.net, virus and banned = quarantine), "devs"
(recipient devs@example.net, attachment_lists: a file blocking only .scr) and "trusted" (sender trusted@skip.example from 127.0.0.0/8,
skip_scan). Each case prints PASS/FAIL with got/want; exit 0 only when all pass, 77 when Postfix cannot
run here.

usage: postfix_policy_test.py MILTER_BINARY SOURCE_DIR [AVSINK_CLI] [--keep]
"""
import os
import re
import shutil
import smtplib
import base64
import io
import subprocess
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postfix_env import (SKIP, past_deadline, CaseBase, Env, log, queue_id_of, run_cases,  # noqa: E402
                         smtp_session, stop_process, wait_for)

POLICIES = """
[[policy]]
name = "lab"
recipients = ["lab@example.net"]
virus = "accept"
allow_extensions = ["com"]

[[policy]]
name = "held"
recipients = ["held@example.net"]
virus = "quarantine"
banned = "quarantine"

[[policy]]
name = "devs"
recipients = ["devs@example.net"]
attachment_lists = ["{devs_list}"]

[[policy]]
name = "trusted"
senders = ["trusted@skip.example"]
client_networks = ["127.0.0.0/8"]
skip_scan = true
"""


def eicar_message(env, marker):
    with open(os.path.join(env.src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
        data = f.read()
    data = re.sub(rb"\r?\n", b"\r\n", data)
    head, _, body = data.partition(b"\r\n\r\n")
    return head + f"\r\nX-Test-Marker: {marker}".encode() + b"\r\n\r\n" + body


def zip_message(marker, member="invoice.vbs"):
    """A message with files.zip attached, holding one member `member`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, "WScript.Echo \"hello\"\r\n")
    b64 = base64.encodebytes(buf.getvalue()).replace(b"\n", b"\r\n")
    return (b"From: alice@example.org\r\nTo: devs@example.net\r\nSubject: files\r\n"
            b"X-Test-Marker: " + marker.encode() + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n--b0\r\n"
            b"Content-Type: text/plain\r\n\r\nsee attached\r\n--b0\r\n"
            b"Content-Type: application/zip\r\n"
            b"Content-Disposition: attachment; filename=files.zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--b0--\r\n")


def transaction(env, rcpts, data, sender="alice@example.org"):
    """One SMTP transaction; returns ([rcpt replies], data reply) with (code, text) pairs."""
    s = smtp_session(env)
    try:
        s.mail(sender)
        rr = []
        for r in rcpts:
            code, msg = s.rcpt(r)
            rr.append((code, msg.decode(errors="replace")))
        if not any(c in (250, 251) for c, _ in rr):
            s.rset()
            return rr, (0, "no recipient accepted")
        try:
            code, msg = s.data(data)
            dr = (code, msg.decode(errors="replace"))
        except smtplib.SMTPResponseException as e:
            dr = (e.smtp_code, e.smtp_error.decode(errors="replace"))
        return rr, dr
    finally:
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass


def sink_rcpts(path):
    """The envelope recipients smtp-sink recorded for one delivered message (X-Rcpt-Args lines)."""
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace")
    return sorted(m.lower() for m in re.findall(r"^X-Rcpt-Args: <([^>]*)>", text, re.M))


NOTIFY = """
[notify]
enabled = true
next_hop = "127.0.0.1:{port}"
admins = ["admin@example.net"]
from = "avsink e2e <gateway@example.net>"
sender = true
interval_ms = 4000
max_per_interval = 2

[lockdown]
state_file = "{state}"
poll_ms = 200
"""


def notices(env, to="admin@example.net"):
    """(subject, text) of every message the sink got for `to`."""
    out = []
    for p in env.delivered():
        with open(p, "rb") as f:
            text = f.read().decode(errors="replace")
        if f"X-Rcpt-Args: <{to}>" in text:
            m = re.search(r"^Subject: (.*)$", text, re.M)
            out.append((m.group(1).strip() if m else "", text))
    return out


class Cases(CaseBase):
    def split_at_rcpt(self):
        """EICAR to lab@ (virus = accept) and bob@ (default: reject) in one transaction: bob is
        deferred at RCPT with 452 4.5.3; lab gets the message; bob's own transaction is refused 554."""
        env = self.env
        marker = f"split-{time.monotonic_ns()}"
        data = eicar_message(env, marker)
        rr, dr = transaction(env, ["lab@example.net", "bob@example.net"], data)
        path = env.delivered_with(marker.encode())
        got_rcpts = sink_rcpts(path) if path else []
        rr2, dr2 = transaction(env, ["bob@example.net"], data)
        ok = (rr[0][0] == 250 and rr[1][0] == 452 and "4.5.3" in rr[1][1] and dr[0] == 250 and
              got_rcpts == ["lab@example.net"] and dr2[0] == 554 and "Eicar" in dr2[1])
        self.check("split_at_rcpt", ok,
                   f"rcpt replies {rr} (want 250, 452 4.5.3); data {dr} (want 250); delivered to "
                   f"{got_rcpts} (want lab only); bob alone: {dr2} (want 554 Eicar)")

    def skip_by_source(self):
        """EICAR from trusted@skip.example on loopback is not scanned: delivered, and the skip logged."""
        env = self.env
        marker = f"skip-{time.monotonic_ns()}"
        rr, dr = transaction(env, ["bob@example.net"], eicar_message(env, marker),
                             sender="trusted@skip.example")
        path = env.delivered_with(marker.encode())
        logged = wait_for(lambda: "policy trusted skipped scanning" in env.milter_text(), 5)
        self.check("skip_by_source", dr[0] == 250 and bool(path) and bool(logged),
                   f"data {dr}; delivered={bool(path)}; skip logged={bool(logged)}")

    def delrcpt_without_split(self):
        """--no-recipient-split: EICAR to lab@ (accept) and held@ (quarantine) in one transaction:
        250, held@ is removed with smfi_delrcpt and the message is in the avsink quarantine; lab@
        gets the message."""
        env = self.env
        marks = env.milter_text().count("listening on")
        stop_process(env.milter, 10)
        env.start_milter("--no-recipient-split")
        if not wait_for(lambda: env.milter_text().count("listening on") > marks, 30):
            return self.check("delrcpt_without_split", False, "restarted milter not listening")
        marker = f"delrcpt-{time.monotonic_ns()}"
        before = len(env.quarantine_entries())
        rr, dr = transaction(env, ["lab@example.net", "held@example.net"],
                             eicar_message(env, marker))
        qid = queue_id_of(dr[1])
        path = env.delivered_with(marker.encode())
        got_rcpts = sink_rcpts(path) if path else []
        stored = wait_for(lambda: len(env.quarantine_entries()) > before, 5)
        line = (env.milter_line(qid) if qid else None) or ""
        ok = ([c for c, _ in rr] == [250, 250] and dr[0] == 250 and
              got_rcpts == ["lab@example.net"] and bool(stored) and
              "removed rcpt=<held@example.net>:quarantine:held" in line)
        self.quarantine_id = (re.search(r"quarantine=([0-9a-f]+)", line) or [None, None])[1]
        self.check("delrcpt_without_split", ok,
                   f"rcpt {rr}; data {dr}; delivered to {got_rcpts} (want lab only); "
                   f"quarantined={bool(stored)}; milter: {line[:300]!r}")

    def notices_and_digest(self):
        """Admin notices come from the templates through Postfix to the sink: the quarantine notice
        names the quarantine id and the release command; an outbreak (5 viruses in one 4 s interval,
        budget 2 a interval) ends in one digest instead of a notice each."""
        env = self.env
        qid = getattr(self, "quarantine_id", None)
        for i in range(5):
            transaction(env, ["bob@example.net"], eicar_message(env, f"outbreak-{i}-{time.monotonic_ns()}"))
        def quarantine_notice():
            for subj, text in notices(env):
                if qid and f"Quarantine id: {qid}" in text and f"avsink quarantine release {qid}" in text:
                    return subj
            return None
        got_q = wait_for(quarantine_notice, 15)
        digest = wait_for(lambda: [t for s_, t in notices(env) if "outbreak digest" in s_], 20)
        singles = [s_ for s_, _ in notices(env) if "outbreak digest" not in s_]
        entries = sum(t.count("\n- reject ") + t.count("\n- quarantine ") for t in (digest or []))
        # sender = true: the sender of the quarantined message hears of it (and of nothing else:
        # the refused ones got their 554 in the SMTP dialogue).
        to_sender = wait_for(lambda: notices(env, "alice@example.org"), 10) or []
        from_ok = all("From: avsink e2e <gateway@example.net>" in t for _, t in notices(env))
        ok = (bool(got_q) and bool(digest) and len(singles) + entries >= 6 and len(singles) <= 4
              and len(to_sender) == 1 and "not delivered" in to_sender[0][0] and from_ok)
        self.check("notices_and_digest", ok,
                   f"quarantine notice for {qid}: {got_q!r}; digests={len(digest or [])} with "
                   f"{entries} entries; single notices={len(singles)} (want <= 2 per interval); "
                   f"sender notices={[s_ for s_, _ in to_sender]} (want 1); From set={from_ok}")

    def policy_lists_zip_member(self):
        """invoice.vbs inside a zip to devs@ (its own attachment_lists: only .scr) and held@ (the
        global lists block .vbs; banned = quarantine) in one transaction (--no-recipient-split, as
        left by delrcpt_without_split): 250, delivered to devs@ only, held@ removed with
        smfi_delrcpt and quarantined; the same message to bob@ alone is refused 554."""
        env = self.env
        marker = f"lists-{time.monotonic_ns()}"
        data = zip_message(marker)
        rr, dr = transaction(env, ["devs@example.net", "held@example.net"], data)
        qid = queue_id_of(dr[1])
        path = env.delivered_with(marker.encode())
        got_rcpts = sink_rcpts(path) if path else []
        line = (env.milter_line(qid) if qid else None) or ""
        rr2, dr2 = transaction(env, ["bob@example.net"], zip_message(marker + "-bob"))
        ok = ([c for c, _ in rr] == [250, 250] and dr[0] == 250 and
              got_rcpts == ["devs@example.net"] and
              "removed rcpt=<held@example.net>:quarantine:held" in line and
              dr2[0] == 554 and "invoice.vbs" in dr2[1])
        self.check("policy_lists_zip_member", ok,
                   f"rcpt {rr}; data {dr}; delivered to {got_rcpts} (want devs only); "
                   f"milter: {line[:300]!r}; bob alone: {dr2} (want 554 ... invoice.vbs)")

    def lockdown_drill(self):
        """Outbreak drill: while two clients keep sending (bounded), `avsink lockdown on --until +6s
        --scope attachments` makes the running milter tempfail mail with attachments (no restart),
        plain text still flows, and the lockdown expires by itself."""
        env = self.env
        if not self.cli:
            return self.check("lockdown_drill", False, "no avsink CLI path given")
        conf = os.path.join(env.tmp, "avsink.toml")
        pdf = os.path.join(env.src, "tests/data/eml/mixed-pdf-attachment.eml")
        with open(pdf, "rb") as f:
            attached = re.sub(rb"\r?\n", b"\r\n", f.read())
        results = []  # (seconds since on, code)
        stop = threading.Event()
        t0 = [None]

        def load():
            for _ in range(200):
                if stop.is_set() or past_deadline():
                    return
                _, (code, _) = transaction(env, ["bob@example.net"], attached)
                if t0[0] is not None:
                    results.append((time.monotonic() - t0[0], code))
                time.sleep(0.1)

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        pid = env.milter.pid
        r = subprocess.run([self.cli, "lockdown", "on", "--reason", "e2e drill", "--until", "+6s",
                            "--scope", "attachments", "--config", conf, "--by", "e2e"],
                           capture_output=True, text=True, timeout=30)
        t0[0] = time.monotonic()
        took = wait_for(lambda: any(c == 451 for _, c in results), 5)
        plain_rr, plain = transaction(env, ["bob@example.net"],
                                      b"Subject: plain\r\n\r\njust text\r\n")
        lifted = wait_for(lambda: any(s_ > 6 and c == 250 for s_, c in results), 12)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        same = env.milter.poll() is None and env.milter.pid == pid
        tempfails = sum(1 for _, c in results if c == 451)
        late_451 = [round(s_, 1) for s_, c in results if c == 451 and s_ > 8]
        ok = (r.returncode == 0 and bool(took) and plain[0] == 250 and bool(lifted) and same and
              not late_451 and "lockdown ON" in env.milter_text())
        self.check("lockdown_drill", ok,
                   f"cli rc={r.returncode} {r.stderr.strip()[:120]!r}; 451s under load={tempfails}; "
                   f"plain text during lockdown {plain}; accepted again after expiry={bool(lifted)}; "
                   f"451 after 8 s={late_451}; same milter pid={same}")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    milter_bin, src = sys.argv[1], sys.argv[2]
    keep = "--keep" in sys.argv
    cli = sys.argv[3] if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else None
    if os.geteuid() != 0:
        log("SKIP: Postfix needs root to start")
        return SKIP
    for tool in ("postfix", "smtp-sink"):
        if shutil.which(tool) is None:
            log(f"SKIP: {tool} not installed (scripts/install-deps)")
            return SKIP
    env = Env(milter_bin, src, keep)
    devs_list = os.path.join(env.tmp, "devs.list")
    with open(devs_list, "w") as f:
        f.write("scr   # the devs policy blocks only screen savers\n")
    os.chmod(devs_list, 0o644)
    env.extra_toml = POLICIES.format(devs_list=devs_list) + NOTIFY.format(port=env.smtp_port,
                                              state=os.path.join(env.tmp, "lockdown.json"))
    cases = Cases(env)
    cases.cli = cli
    return run_cases(env, cases, ("split_at_rcpt", "skip_by_source", "delrcpt_without_split",
                                  "notices_and_digest", "lockdown_drill",
                                  "policy_lists_zip_member"))


if __name__ == "__main__":
    sys.exit(main())

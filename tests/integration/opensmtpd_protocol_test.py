#!/usr/bin/env python3
# opensmtpd_protocol_test.py - avsink-opensmtpd driven directly on stdin/stdout as smtpd 6.8 would
# (protocol 0.6): handshake, answers exactly once, well-formed lines only, fail closed.
"""usage: opensmtpd_protocol_test.py FILTER_BINARY SOURCE_DIR"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from mta_support import Results, crlf, log, message, nested_multipart, write_file

VERSION = "0.6"
# Every line the filter may print (smtpd treats anything else as fatal).
LINE_OK = re.compile(r"^(register\|(report|filter)\|smtp-in\|[a-z-]+|register\|ready|"
                     r"filter-dataline\|[0-9a-f]{16}\|[0-9a-f]{16}\|([^\n]*[^\r\n])?|"
                     r"filter-result\|[0-9a-f]{16}\|[0-9a-f]{16}\|(proceed|"
                     r"reject\|[45][0-9][0-9] [^\r\n|]*))$")


class Filter:
    def __init__(self, binary, config, *extra):
        self.p = subprocess.Popen([binary, "-c", config, *extra], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        self.lines = []

    def send(self, *lines):
        self.p.stdin.write(b"".join(l.encode() + b"\n" for l in lines))
        self.p.stdin.flush()

    def read_until(self, pred, timeout=20):
        """Collects output lines until pred(all lines) is true or timeout s pass."""
        end = time.monotonic() + timeout
        while not pred(self.lines) and time.monotonic() < end:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.buf += chunk
                *done, self.buf = self.buf.split(b"\n")
                self.lines += [d.decode(errors="replace") for d in done]
        return pred(self.lines)

    def stop(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
        return self.p.stderr.read().decode(errors="replace")


def ts():
    return f"{time.time():.6f}"


def session(f, sid, helo="client.example.org"):
    f.send(f"report|{VERSION}|{ts()}|smtp-in|link-connect|{sid}|localhost|pass|127.0.0.1:40000|"
           f"127.0.0.1:25",
           f"report|{VERSION}|{ts()}|smtp-in|link-identify|{sid}|EHLO|{helo}",
           f"report|{VERSION}|{ts()}|smtp-in|tx-begin|{sid}|0000000a",
           f"report|{VERSION}|{ts()}|smtp-in|tx-mail|{sid}|0000000a|ok|<alice@example.org>",
           f"report|{VERSION}|{ts()}|smtp-in|tx-rcpt|{sid}|0000000a|ok|<bob@example.net>")


def data(f, sid, token, message: bytes):
    lines = crlf(message).decode(errors="replace").split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = [f"filter|{VERSION}|{ts()}|smtp-in|data-line|{sid}|{token}|" +
           ("." + l if l.startswith(".") else l) for l in lines]
    out.append(f"filter|{VERSION}|{ts()}|smtp-in|data-line|{sid}|{token}|.")
    f.send(*out)


def answers(lines, sid, kind):
    return [l for l in lines if l.startswith(f"{kind}|{sid}|")]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="avsink-osmtpd-proto-")
    config = os.path.join(tmp, "avsink.toml")
    write_file(config, "# avsink.toml - protocol test: repo signatures only.\n"
                       "[clamav]\nsystem_db = false\n")
    r = Results()
    f = Filter(binary, config)
    try:
        f.send("config|smtpd-version|6.8.0p2", "config|smtp-session-timeout|300",
               "config|subsystem|smtp-in", "config|admd|test", "config|ready")
        ok = f.read_until(lambda ls: "register|ready" in ls)
        regs = [l for l in f.lines if l.startswith("register|")]
        r.check("handshake", ok and "register|filter|smtp-in|data-line" in regs and
                "register|filter|smtp-in|commit" in regs and regs[-1] == "register|ready",
                f"got {regs}")

        with open(os.path.join(src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as fh:
            eicar = fh.read()
        with open(os.path.join(src, "tests/data/eml/mixed-pdf-attachment.eml"), "rb") as fh:
            clean = fh.read()
        A, B, C = "00000000000000a1", "00000000000000b2", "00000000000000c3"
        T = "1111111111111111"
        for sid in (A, B, C):
            session(f, sid)
        # A (EICAR) and B (clean) interleaved; commit of B sent right after its ".", before the
        # verdict can be in; C commits without any body.
        f.send(f"report|{VERSION}|{ts()}|smtp-in|link-auth|{B}|bert|pass")
        data(f, A, T, eicar)
        data(f, B, T, clean)
        f.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{B}|{T}|0000000a",
               f"filter|{VERSION}|{ts()}|smtp-in|commit|{C}|{T}|0000000a")
        f.read_until(lambda ls: f"filter-dataline|{A}|{T}|." in ls)
        f.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{A}|{T}|0000000a")
        f.read_until(lambda ls: all(answers(ls, s, "filter-result") for s in (A, B, C)))
        time.sleep(0.5)
        f.read_until(lambda ls: False, timeout=0.5)

        res = {s: answers(f.lines, s, "filter-result") for s in (A, B, C)}
        a_lines = answers(f.lines, A, "filter-dataline")
        r.check("eicar_reject_554", len(res[A]) == 1 and
                res[A][0].startswith(f"filter-result|{A}|{T}|reject|554 ") and "Eicar" in res[A][0],
                f"got {res[A]}")
        r.check("eicar_body_not_replayed", a_lines == [f"filter-dataline|{A}|{T}|."],
                f"got {len(a_lines)} data lines")

        b_lines = [l.split("|", 3)[3] for l in answers(f.lines, B, "filter-dataline")]
        replay = "\r\n".join(l[1:] if l.startswith(".") else l for l in b_lines[:-1]) + "\r\n"
        r.check("clean_proceed_after_early_commit",
                res[B] == [f"filter-result|{B}|{T}|proceed"] and b_lines[-1:] == ["."] and
                replay.endswith(crlf(clean).decode(errors="replace")) and
                b_lines[0].startswith("X-Virus-Scanned: avsink"),
                f"got {res[B]}; first line {b_lines[:1]}; replay intact="
                f"{replay.endswith(crlf(clean).decode(errors='replace'))}")
        r.check("commit_without_body_451", res[C] == [f"filter-result|{C}|{T}|reject|451 4.3.0 "
                                                       "avsink: message not scanned"],
                f"got {res[C]}")
        # The loop never waits for a scan: a big message's "." and, right behind it, another
        # session's commit; the commit is answered before the big message's verdict is out.
        G, H = "0000000000000007", "0000000000000008"
        session(f, G)
        session(f, H)
        big, _ = message("big", body="".join(f"line {i:07d} " + "x" * 70 + "\r\n"
                                             for i in range(30000)))
        data(f, G, T, big)
        f.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{H}|{T}|0000000a")
        f.read_until(lambda ls: f"filter-dataline|{G}|{T}|." in ls and
                     answers(ls, H, "filter-result"))
        h_at = next((i for i, l in enumerate(f.lines) if l.startswith(f"filter-result|{H}|")), -1)
        g_at = next((i for i, l in enumerate(f.lines) if l.startswith(f"filter-dataline|{G}|")),
                    -1)
        r.check("loop_not_blocked_by_scan", 0 <= h_at < g_at,
                f"{len(big)}-byte message: other session answered at line {h_at}, its first "
                f"replayed line at {g_at}")

        # A transaction rolled back while its commit waits for the scan: the commit is answered
        # once, 451, and the late verdict adds no second answer.
        R = "00000000000000aa"
        session(f, R)
        small, _ = message("rolled back")
        data(f, R, T, small)
        f.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{R}|{T}|0000000a",
               f"report|{VERSION}|{ts()}|smtp-in|tx-rollback|{R}|0000000a")
        f.read_until(lambda ls: answers(ls, R, "filter-result"))
        f.read_until(lambda ls: False, timeout=1.0)
        # The rollback usually overtakes the scan (451); on an idle machine the scan of this small
        # message can finish first (proceed). Either way: exactly one answer, never two.
        got_r = answers(f.lines, R, "filter-result")
        r.check("rollback_answers_pending_commit_once",
                got_r in ([f"filter-result|{R}|{T}|reject|451 4.3.0 avsink: message not scanned"],
                          [f"filter-result|{R}|{T}|proceed"]),
                f"got {got_r}")

        # Forged scan headers (one folded) are replaced by avsink's own.
        D = "00000000000000d4"
        session(f, D)
        f.send(f"report|0.7|{ts()}|smtp-in|link-auth|{D}|pass|dora",
               f"report|{VERSION}|{ts()}|smtp-in|link-auth|{A}|mallory|fail")
        forged, _ = message("spoofed scan headers", body="inner\rCR kept\r\n", extra_headers="X-Virus-Scanned: clean by forger\r\n"
                                                     "x-virus-status: Clean\r\n\tfolded forger\r\n"
                                                     "X-Avsink-Release: v1.forged\r\n")
        data(f, D, T, forged)
        f.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{D}|{T}|0000000a")
        f.read_until(lambda ls: answers(ls, D, "filter-result"))
        d_lines = [l.split("|", 3)[3] for l in answers(f.lines, D, "filter-dataline")]
        head = d_lines[:d_lines.index("")] if "" in d_lines else d_lines
        scanned = [l for l in head if l.lower().startswith("x-virus-scanned:")]
        r.check("forged_headers_replaced",
                answers(f.lines, D, "filter-result") == [f"filter-result|{D}|{T}|proceed"] and
                len(scanned) == 1 and scanned[0].startswith("X-Virus-Scanned: avsink") and
                not any("forge" in l.lower() or l.lower().startswith("x-avsink-") for l in head) and
                "inner\rCR kept" in d_lines,
                f"header block {head}")

        bad = [l for l in f.lines if not LINE_OK.match(l)]
        r.check("every_line_well_formed", not bad, f"malformed: {bad[:3]}")
        err = f.stop()
        r.check("exits_on_eof", f.p.returncode == 0, f"exit {f.p.returncode}; stderr {err[-300:]!r}")
        verdicts = {s: next((l for l in err.splitlines() if l.startswith(f"avsink-opensmtpd: {s} ")),
                            "") for s in (A, B, D)}
        r.check("auth_from_reports", " auth=bert " in verdicts[B] and " auth=dora " in verdicts[D] and
                " auth= " in verdicts[A],
                f"verdict lines {list(verdicts.values())}")

        # A reply text with a '|' (a rule's own text) cannot split the reject line.
        rules = os.path.join(tmp, "pipe.rules")
        write_file(rules, "# pipe.rules - protocol test: a reply text with a bar.\n"
                          'subject /^pipe test$/ reject "left | right" id=pipe\n')
        piped = os.path.join(tmp, "pipe.toml")
        write_file(piped, "# avsink.toml - protocol test: one rule.\n[clamav]\nsystem_db = false\n"
                          f'[rules]\nfiles = ["{rules}"]\n')
        h = Filter(binary, piped)
        h.send("config|smtpd-version|6.8.0p2", "config|subsystem|smtp-in", "config|ready")
        h.read_until(lambda ls: "register|ready" in ls)
        P = "00000000000000bb"
        session(h, P)
        pipe_msg, _ = message("pipe test")
        data(h, P, T, pipe_msg)
        h.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{P}|{T}|0000000a")
        h.read_until(lambda ls: answers(ls, P, "filter-result"))
        h.stop()
        p_res = answers(h.lines, P, "filter-result")
        r.check("reply_bar_replaced", len(p_res) == 1 and
                p_res[0].startswith(f"filter-result|{P}|{T}|reject|5") and
                p_res[0].split("|reject|", 1)[1].count("|") == 0 and "left" in p_res[0] and
                "right" in p_res[0] and bool(LINE_OK.match(p_res[0])), f"got {p_res}")

        # A strip verdict: the rewritten message is what smtpd gets back.
        strip = os.path.join(tmp, "strip.toml")
        qdir = os.path.join(tmp, "quarantine")
        os.makedirs(qdir, mode=0o700)
        write_file(strip, "# avsink.toml - protocol test: strip banned attachments.\n"
                          "[clamav]\nsystem_db = false\n[attachments]\naction = \"strip\"\n"
                          "true_type_action = \"strip\"\n"
                          f"[limits]\nmax_mime_depth = 8\n[quarantine]\ndir = \"{qdir}\"\n")
        g = Filter(binary, strip, "-w", "1")
        g.send("config|smtpd-version|6.8.0p2", "config|subsystem|smtp-in", "config|ready")
        g.read_until(lambda ls: "register|ready" in ls)
        E = "00000000000000e5"
        session(g, E)
        with open(os.path.join(src, "tests/data/attachments/trick-plain-exe-uppercase.eml"),
                  "rb") as fh:
            banned = fh.read()
        data(g, E, T, banned)
        g.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{E}|{T}|0000000a")
        g.read_until(lambda ls: answers(ls, E, "filter-result"))
        e_lines = [l.split("|", 3)[3] for l in answers(g.lines, E, "filter-dataline")]
        body = "\n".join(e_lines)
        # A quarantine verdict (MIME depth over the limit): refused, the copy is in the quarantine.
        Q = "00000000000000f6"
        session(g, Q)
        nested, _ = nested_multipart(12)
        data(g, Q, T, nested)
        g.send(f"filter|{VERSION}|{ts()}|smtp-in|commit|{Q}|{T}|0000000a")
        g.read_until(lambda ls: answers(ls, Q, "filter-result"))
        stored = [f for _, _, fs in os.walk(qdir) for f in fs]
        q_res = answers(g.lines, Q, "filter-result")
        r.check("quarantine_refused_554", len(q_res) == 1 and
                "|reject|554 5.7.1 Message held by the mail gateway (avsink " in q_res[0] and
                bool(stored) and answers(g.lines, Q, "filter-dataline") == [
                    f"filter-dataline|{Q}|{T}|."], f"got {q_res}; stored {len(stored)} files")
        # -w 1 still scans; SIGHUP reloads without stopping the filter.
        g.p.send_signal(signal.SIGHUP)
        time.sleep(1)
        alive = g.p.poll() is None
        gerr = g.stop()
        r.check("one_worker_and_sighup_reload", alive and "avsink-opensmtpd: reload: ok" in gerr,
                f"alive after SIGHUP={alive}; reload lines "
                f"{[l for l in gerr.splitlines() if 'reload' in l]}")
        r.check("strip_replays_rewritten",
                answers(g.lines, E, "filter-result") == [f"filter-result|{E}|{T}|proceed"] and
                "attachment removed by avsink" in body and "SETUP.EXE" in body and
                "application/octet-stream" not in body and
                e_lines[-1:] == ["."] and not [l for l in g.lines if not LINE_OK.match(l)],
                f"result {answers(g.lines, E, 'filter-result')}; notice="
                f"{'attachment removed by avsink' in body}; exe part gone="
                f"{'application/octet-stream' not in body}; {len(e_lines)} lines")
    except Exception as e:  # noqa: BLE001
        r.check("run", False, f"{type(e).__name__}: {e}")
        f.p.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{len(r.results) - len(r.failed())}/{len(r.results)} cases passed")
    return 1 if r.failed() else 0


if __name__ == "__main__":
    sys.exit(main())

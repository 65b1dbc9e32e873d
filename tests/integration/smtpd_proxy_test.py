#!/usr/bin/env python3
# smtpd_proxy_test.py - avsink-smtpd over real sockets with a next hop of our own (smtpd_sink.py):
# verdicts, relaying, smuggling, pipelining, bounds and timeouts. Every wait bounded; pids stopped.
"""usage: smtpd_proxy_test.py AVSINK_SMTPD SOURCE_DIR [--only CASE,...]

Each case prints PASS/FAIL with got/want; exit 0 only when every case passed."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtpd_sink import Sink  # noqa: E402
import postfix_env as e2e  # noqa: E402  (free_port, wait_for, port_open, stop_process)

DEADLINE = time.monotonic() + 100
FAILED = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        FAILED.append(name)


class Proxy:
    def __init__(self, binary, tmp, hop, *extra, name="proxy"):
        self.port = e2e.free_port()
        self.log = os.path.join(tmp, name + ".log")
        self.fh = open(self.log, "ab")
        args = [binary, "-f", "-l", f"127.0.0.1:{self.port}", "-n", hop, "-c",
                os.path.join(tmp, "avsink.toml"), "--hostname", "proxy.test", *extra]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        self.p = subprocess.Popen(args, stdout=self.fh, stderr=self.fh)
        if not e2e.wait_for(lambda: self.p.poll() is not None or "listening on" in self.text(), 30):
            raise RuntimeError("avsink-smtpd did not start:\n" + self.text())
        if self.p.poll() is not None:
            raise RuntimeError("avsink-smtpd exited:\n" + self.text())

    def text(self):
        with open(self.log, "r", errors="replace") as f:
            return f.read()

    def stop(self):
        e2e.stop_process(self.p, 10)
        self.fh.close()


class Client:
    """A raw SMTP client: sends bytes as given, reads whole replies."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, data: bytes):
        self.s.sendall(data)

    def reply(self):
        """One reply (possibly multi-line) as (code, text); (0, '') on close."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                try:
                    chunk = self.s.recv(65536)
                except (socket.timeout, OSError):
                    chunk = b""
                if not chunk:
                    return (0, "\n".join(lines))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] == b" ":
                return (int(line[:3]), "\n".join(lines))

    def cmd(self, line: str):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def hello(self):
        g = self.reply()
        e = self.cmd("EHLO client.test")
        return g, e

    def close(self):
        self.s.close()


def greeted_client(port, timeout=5):
    """A Client the proxy has greeted with 220, retried while it still answers 421 for the
    connection limit (connections just closed may not be gone on its side); None past timeout."""
    got = []

    def greeted():
        h = Client(port)
        if h.reply()[0] == 220:
            got.append(h)
            return True
        h.close()
        return False
    e2e.wait_for(greeted, timeout, 0.2)
    return got[0] if got else None


def send_message(port, data: bytes, rcpts=("bob@example.net",), sender="alice@example.org"):
    """One transaction; returns (code, text) of the reply to the end of DATA (or the first refusal)."""
    c = Client(port)
    try:
        c.hello()
        r = c.cmd(f"MAIL FROM:<{sender}>")
        if r[0] != 250:
            return r
        ok = 0
        last = None
        for rc in rcpts:
            last = c.cmd(f"RCPT TO:<{rc}>")
            ok += last[0] == 250
        if not ok:
            return last
        r = c.cmd("DATA")
        if r[0] != 354:
            return r
        c.send(data + b".\r\n")
        r = c.reply()
        c.cmd("QUIT")
        return r
    finally:
        c.close()


def message(subject, body=b"Hello.\r\n"):
    return (b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: " + subject.encode() +
            b"\r\nMessage-ID: <" + subject.encode() + b"@test>\r\n\r\n" + body)


def strip_added(data: bytes):
    """The relayed bytes without the headers avsink-smtpd prepends (X-Virus-*)."""
    while re.match(rb"X-Virus-[A-Za-z]+: [^\r\n]*\r\n", data):
        data = data.split(b"\r\n", 1)[1]
    return data


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    tmp = tempfile.mkdtemp(prefix="avsink-smtpd-")
    os.chmod(tmp, 0o755)
    qdir = os.path.join(tmp, "quarantine")
    os.makedirs(qdir, mode=0o700)
    os.chmod(qdir, 0o700)
    if os.geteuid() == 0:
        shutil.chown(qdir, "nobody")
    rules = os.path.join(tmp, "test.rules")
    with open(rules, "w") as f:
        f.write("# test.rules - smtpd proxy test rules\n"
                "client 192.0.2.0/24 reject \"xforward client refused\"\n"
                "helo \"bad.helo.test\" tempfail\n"
                "subject /^quarantine me$/ quarantine\n")
    with open(os.path.join(tmp, "avsink.toml"), "w") as f:
        f.write(f'# avsink.toml - smtpd proxy test\n[clamav]\nsystem_db = false\n\n'
                f'[rules]\nfiles = ["{rules}"]\n\n[quarantine]\ndir = "{qdir}"\n')
    procs, sinks = [], []
    def proxy(hop, *extra, name="proxy"):
        p = Proxy(binary, tmp, hop, *extra, name=name)
        procs.append(p)
        return p
    def sink(**kw):
        s = Sink(**kw)
        sinks.append(s)
        return s
    def want(case):
        return (only is None or case in only) and time.monotonic() < DEADLINE

    try:
        hop = sink()
        aq = proxy(f"smtp:127.0.0.1:{hop.port}", "--xforward", "--max-line", "1000",
                   "--idle-timeout", "3", "--max-connections", "4", "--max-errors", "5",
                   name="after-queue")

        if want("clean_relayed_intact"):
            body = b"Line one.\r\n.leading dot\r\n..two dots\r\n\r\n\xc3\xa9t\xc3\xa9 8-bit\r\n"
            msg = message("clean", body)
            n0 = hop.count()
            r = send_message(aq.port, b"X-Virus-Status: Clean (forged)\r\n" + msg.replace(b"\r\n.", b"\r\n.."))
            got = hop.messages[-1][2] if hop.count() > n0 else b""
            check("clean_relayed_intact", r[0] == 250 and "queued as SINK" in r[1] and
                  strip_added(got) == msg and got.startswith(b"X-Virus-"),
                  f"reply {r}, relayed {got[:300]!r}")

        if want("eicar_refused"):
            with open(os.path.join(src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
                data = re.sub(rb"\r?\n", b"\r\n", f.read())
            data = data.replace(b"\r\n.", b"\r\n..")
            n0 = hop.count()
            r = send_message(aq.port, data)
            check("eicar_refused", r[0] == 554 and hop.count() == n0, f"reply {r}")

        if want("quarantined_250_not_relayed"):
            n0 = hop.count()
            r = send_message(aq.port, message("quarantine me"))
            entries = sum(len(fs) for _, _, fs in os.walk(qdir))
            check("quarantined_250_not_relayed",
                  r[0] == 250 and "quarantined" in r[1] and hop.count() == n0 and entries > 0,
                  f"reply {r}, quarantine files {entries}")

        if want("xforward_reaches_rules"):
            c = Client(aq.port)
            c.hello()
            x = c.cmd("XFORWARD ADDR=192.0.2.7 NAME=spam.test HELO=h.test IDENT=QID123")
            c.cmd("MAIL FROM:<a@b>")
            c.cmd("RCPT TO:<c@d>")
            c.cmd("DATA")
            c.send(message("xf") + b".\r\n")
            r = c.reply()
            c.close()
            check("xforward_reaches_rules", x[0] == 250 and r[0] == 554 and "xforward" in r[1],
                  f"xforward {x}, reply {r}")
            # And passed on to the next hop (with the queue id) for a clean message.
            c = Client(aq.port)
            c.hello()
            c.cmd("XFORWARD ADDR=198.51.100.9 HELO=good.test IDENT=QID124")
            n0 = hop.count()
            c.cmd("MAIL FROM:<a@b>")
            c.cmd("RCPT TO:<c@d>")
            c.cmd("DATA")
            c.send(message("xf2") + b".\r\n")
            r = c.reply()
            c.close()
            xf = hop.messages[-1][3] if hop.count() > n0 else {}
            check("xforward_passed_on", r[0] == 250 and xf.get("ADDR") == "198.51.100.9" and
                  xf.get("IDENT") == "QID124", f"reply {r}, sink saw {xf}")

        if want("smuggling_refused"):
            variants = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\n", b"\n.\r",
                        b"\r.\r\n", b"\r\n.\r", b"\r\r\n.\r\r\n"]
            for v in variants:
                n0 = hop.count()
                smuggled = (b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@example.net>\r\n"
                            b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n")
                c = Client(aq.port)
                c.hello()
                c.cmd("MAIL FROM:<alice@example.org>")
                c.cmd("RCPT TO:<bob@example.net>")
                c.cmd("DATA")
                c.send(message("smuggle") + b"first" + v + smuggled + b".\r\n")
                r = c.reply()
                extra = c.cmd("NOOP")  # the session is still in sync: no smuggled replies queued
                c.close()
                saw = any(b"smuggled" in m[2] or "smuggled" in m[0] for m in hop.messages[n0:])
                check(f"smuggling_refused {v!r}",
                      r[0] == 550 and "5.6.0" in r[1] and extra[0] == 250 and
                      hop.count() == n0 and not saw, f"reply {r}, next {extra}, relayed {not not saw}")

        if want("pipelining_in_order"):
            c = Client(aq.port)
            c.reply()
            n0 = hop.count()
            c.send(b"EHLO p.test\r\nMAIL FROM:<a@b>\r\nRCPT TO:<e@f>\r\nRCPT TO:<c@d>\r\n"
                   b"NOOP\r\nDATA\r\n")
            codes = [c.reply()[0] for _ in range(6)]
            # The message, then the next transaction and QUIT in one write.
            c.send(message("pipelined") + b".\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nQUIT\r\n")
            after = [c.reply()[0] for _ in range(4)]
            c.close()
            check("pipelining_in_order", codes == [250, 250, 250, 250, 250, 354] and
                  after == [250, 250, 250, 221] and hop.count() == n0 + 1,
                  f"codes {codes} then {after}, relayed {hop.count() - n0}")

        if want("pipelining_after_data_is_content"):
            # A client that does not wait for 354: what follows DATA is message content.
            c = Client(aq.port)
            c.hello()
            n0 = hop.count()
            c.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: eager\r\n\r\n"
                   b"RSET\r\nMAIL FROM:<x@y>\r\n.\r\n")
            codes = [c.reply()[0] for _ in range(4)]
            nxt = c.cmd("NOOP")
            c.close()
            got = hop.messages[-1][2] if hop.count() > n0 else b""
            check("pipelining_after_data_is_content", codes == [250, 250, 354, 250] and
                  nxt[0] == 250 and b"RSET\r\nMAIL FROM:<x@y>\r\n" in got,
                  f"{codes} {nxt} relayed {got[-80:]!r}")

        if want("after_queue_mixed_rcpts_retry"):
            n0 = hop.count()
            r = send_message(aq.port, message("mixed"), rcpts=("reject1@x", "c@d"))
            r2 = send_message(aq.port, message("allbad"), rcpts=("reject1@x", "reject2@x"))
            check("after_queue_mixed_rcpts_retry", r[0] == 451 and r2[0] == 554 and
                  hop.count() == n0, f"mixed {r}, all refused {r2}")

        if want("bare_lf_command_refused"):
            c = Client(aq.port)
            c.hello()
            r = c.cmd("NOOP")
            c.send(b"NOOP\n")
            bad = c.reply()
            c.close()
            check("bare_lf_command_refused", r[0] == 250 and bad[0] == 500, f"{bad}")

        if want("overlong_line_closes"):
            c = Client(aq.port)
            c.hello()
            c.send(b"NOOP " + b"a" * 2000 + b"\r\n")
            r = c.reply()
            gone = c.reply()
            c.close()
            check("overlong_line_closes", r[0] == 500 and gone[0] == 0, f"{r} then {gone}")
            # In DATA: refused whole at the end.
            r = send_message(aq.port, message("long", b"x" * 1200 + b"\r\n"))
            check("overlong_data_line_refused", r[0] == 550, f"{r}")

        if want("size_refused"):
            c = Client(aq.port)
            g, e = c.hello()
            r = c.cmd("MAIL FROM:<a@b> SIZE=99999999999")
            c.close()
            check("size_advertised_and_refused", "SIZE 52428800" in e[1] and
                  "PIPELINING" in e[1] and "8BITMIME" in e[1] and "SMTPUTF8" in e[1] and
                  "ENHANCEDSTATUSCODES" in e[1] and "XFORWARD" in e[1] and r[0] == 552,
                  f"ehlo {e}, mail {r}")

        if want("error_limit_closes"):
            c = Client(aq.port)
            c.hello()
            got = [c.cmd("BOGUS")[0] for _ in range(5)]
            last = c.reply()
            c.close()
            check("error_limit_closes", got[:4] == [500] * 4 and last[0] in (0, 421) and
                  "421" in str(got[4]) + last[1] + str(last[0]), f"{got} {last}")

        if want("connection_limit"):
            # Earlier connections may still be closing: wait for 4 greetings.
            held = [h for h in (greeted_client(aq.port) for _ in range(4)) if h is not None]
            extra = Client(aq.port)
            r = extra.reply()
            extra.close()
            for h in held:
                h.close()
            check("connection_limit_421", len(held) == 4 and r[0] == 421, f"{len(held)} held, {r}")

        if want("idle_timeout"):
            # The connections held above may still be closing on the proxy's side, and until
            # they are it answers 421 for the limit: wait for a real greeting first.
            c = greeted_client(aq.port) or Client(aq.port)
            t0 = time.monotonic()
            r = c.reply()
            took = time.monotonic() - t0
            c.close()
            check("idle_timeout_421", r[0] == 421 and 2 <= took <= 10, f"{r} after {took:.1f}s")

        if want("next_hop_down"):
            down = e2e.free_port()
            dp = proxy(f"smtp:127.0.0.1:{down}", name="down")
            r = send_message(dp.port, message("hop down"))
            later = Sink(port=down)
            sinks.append(later)
            r2 = send_message(dp.port, message("hop back"))
            check("next_hop_down_451_then_ok", r[0] == 451 and r[1].startswith("451 4.4.1") and
                  r2[0] == 250 and later.count() == 1, f"down {r}, back {r2}")

        if want("before_queue"):
            bhop = sink()
            bq = proxy(f"smtp:127.0.0.1:{bhop.port}", "--mode", "before-queue", name="before")
            c = Client(bq.port)
            c.hello()
            m = c.cmd("MAIL FROM:<a@b>")
            bad = c.cmd("RCPT TO:<reject@x>")
            tmp_ = c.cmd("RCPT TO:<temp@x>")
            good = c.cmd("RCPT TO:<c@d>")
            c.cmd("DATA")
            c.send(message("bq") + b".\r\n")
            r = c.reply()
            c.close()
            check("before_queue_rcpt_passthrough", m[0] == 250 and bad[0] == 550 and
                  tmp_[0] == 451 and good[0] == 250 and r[0] == 250 and "SINK" in r[1] and
                  bhop.count() == 1 and bhop.messages[0][1] == ["c@d"],
                  f"{m} {bad} {tmp_} {good} {r}")
            with open(os.path.join(src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
                data = re.sub(rb"\r?\n", b"\r\n", f.read()).replace(b"\r\n.", b"\r\n..")
            r = send_message(bq.port, data)
            check("before_queue_eicar_554", r[0] == 554 and bhop.count() == 1, f"{r}")

        if want("lmtp"):
            lhop = sink(lmtp=True)
            lp = proxy(f"lmtp:127.0.0.1:{lhop.port}", name="lmtp")
            r = send_message(lp.port, message("lmtp ok"), rcpts=("a@x", "b@x"))
            r2 = send_message(lp.port, message("lmtp part"), rcpts=("a@x", "lmtptemp@x"))
            check("lmtp_all_or_retry", r[0] == 250 and r2[0] == 451 and lhop.count() == 1 and
                  any(cmd.startswith("LHLO") for cmd in lhop.commands), f"{r} {r2}")
        if want("options"):
            # Every documented flag not covered above.
            pidfile = os.path.join(tmp, "smtpd.pid")
            silent = socket.socket()
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)  # connects, never greets
            op = proxy(f"smtp:127.0.0.1:{hop.port}", "--xclient", "--max-recipients", "2",
                       "--max-commands", "30", "--total-timeout", "3", "--max-size", "2000",
                       "-p", pidfile, "--log-json", "--drain-timeout", "1", name="options")
            with open(pidfile) as f:
                check("opt_pid_file", int(f.read().split()[0]) == op.p.pid)
            c = Client(op.port)
            g, e = c.hello()
            x = c.cmd("XCLIENT ADDR=192.0.2.5 HELO=x.test")
            e2_ = c.cmd("EHLO again.test")
            c.cmd("MAIL FROM:<a@b>")
            rc = [c.cmd(f"RCPT TO:<r{i}@x>")[0] for i in range(3)]
            c.cmd("DATA")
            c.send(message("xclient") + b".\r\n")
            r = c.reply()
            c.close()
            check("opt_xclient_and_max_recipients", "XCLIENT" in e[1] and x[0] == 220 and
                  e2_[0] == 250 and rc == [250, 250, 452] and r[0] == 554, f"{x} {rc} {r}")
            check("opt_max_size", "SIZE 2000" in e[1] and
                  send_message(op.port, message("big", b"y" * 3000 + b"\r\n"))[0] == 552, e[1])
            check("opt_log_json", '"action"' in op.text() or '\\"action\\"' in op.text(),
                  op.text()[-300:])
            c = Client(op.port)
            c.reply()
            got = [c.cmd("NOOP")[0] for _ in range(31)]
            c.close()
            check("opt_max_commands", got[:30] == [250] * 30 and got[30] == 421, f"{got[-3:]}")
            c = Client(op.port)
            c.reply()
            t0 = time.monotonic()
            codes = []
            while time.monotonic() - t0 < 8:
                code = c.cmd("NOOP")[0]
                codes.append(code)
                if code != 250:
                    break
                time.sleep(0.5)
            took = time.monotonic() - t0
            c.close()
            check("opt_total_timeout", codes[-1] in (421, 0) and took < 6, f"{codes[-2:]} {took:.1f}s")
            rp = proxy(f"smtp:127.0.0.1:{silent.getsockname()[1]}", "--relay-timeout", "1",
                       name="relay-timeout")
            t0 = time.monotonic()
            r = send_message(rp.port, message("silent hop"))
            took = time.monotonic() - t0
            silent.close()
            check("opt_relay_timeout", r[0] == 451 and took < 5, f"{r} after {took:.1f}s")
            held = Client(op.port)
            held.reply()
            t0 = time.monotonic()
            op.p.send_signal(15)
            try:
                op.p.wait(8)
            except subprocess.TimeoutExpired:
                pass
            took = time.monotonic() - t0
            held.close()
            check("opt_drain_timeout", op.p.poll() is not None and took < 4, f"{took:.1f}s")
            bad = subprocess.run([binary, "-f", "-l", "0.0.0.0:1", "-n", "smtp:127.0.0.1:1"],
                                 capture_output=True, text=True, timeout=20)
            ver = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=20)
            check("opt_loopback_only", bad.returncode == 2 and "--allow-remote-inet" in bad.stderr,
                  bad.stderr[:200])
            check("opt_version", ver.returncode == 0 and ver.stdout.startswith("avsink-smtpd "),
                  ver.stdout)
    except Exception as ex:  # noqa: BLE001 - report and fail
        check("harness", False, repr(ex))
    finally:
        for p in procs:
            p.stop()
        for s in sinks:
            s.stop()
        if FAILED:
            for p in procs:
                print(f"---- {p.log}\n" + p.text()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILED)} failed", flush=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# milter_observability_test.py - avsink-milter behind a real Postfix: --metrics (GET /metrics and
# /healthz), `avsink status --daemon`, --log-json lines, every recipient in the log, degraded states.
"""
Uses postfix_milter_test.Env (throwaway Postfix + smtp-sink, loopback, bounded waits, processes
stopped by pid). Cases:
  health_degraded_on_test_signatures  /healthz is 503 with test_signatures_only; status --daemon says so
  metrics_move                       clean + EICAR messages move messages/findings/bytes/latency
  log_json_every_line                with --log-json every line the milter wrote is one JSON object
  text_line_every_recipient          the text line names each recipient (not a count)
  healthy_then_unreadable_reload     own signatures: 200; then a 0600 clamav:clamav update + SIGHUP:
                                     503 unreadable_database, reload failed counted, logged
  stale_database                     a database older than max_db_age_hours: 503 stale_database

usage: milter_observability_test.py MILTER_BINARY AVSINK_CLI SOURCE_DIR [--keep]
"""
import json
import os
import re
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postfix_milter_test as pm  # noqa: E402

SKIP = 77


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[-1])
    return None


class Obs:
    def __init__(self, env, cli):
        self.env = env
        self.cli = cli
        self.results = []
        self.port = None

    def check(self, name, ok, detail):
        self.results.append((name, ok))
        pm.log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")

    def write_config(self, name, extra=""):
        path = os.path.join(self.env.tmp, name)
        self.env.write(path, f"""[limits]
max_message_bytes = 65536
[quarantine]
dir = "{self.env.qdir}"
{extra}""")
        return path

    def restart(self, *extra, config):
        if self.env.milter is not None:
            pm.stop_process(self.env.milter, 10)
        # A fresh log per run, so every line read belongs to this run.
        if self.env.milter_log_fh is not None:
            self.env.milter_log_fh.close()
            self.env.milter_log_fh = None
        if os.path.exists(self.env.milter_log):
            os.unlink(self.env.milter_log)
        self.env.start_milter("--metrics", "127.0.0.1:0", *extra, config=config)
        m = pm.wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics",
                                          self.env.milter_text()), 10)
        if not m:
            raise RuntimeError("no metrics address in the log:\n" + self.env.milter_text())
        self.port = int(m.group(1))

    def send(self, data, rcpts=("bob@example.net",)):
        with pm.smtp_session(self.env) as s:
            return pm.smtp_send(s, data, rcpts=rcpts)

    # ---- cases ----
    def health_degraded_on_test_signatures(self):
        self.restart(config=self.write_config("shipped.toml", "[clamav]\nsystem_db = false\n"))
        code, body = http_get(self.port, "/healthz")
        st = pm.subprocess.run([self.cli, "status", "--daemon", f"127.0.0.1:{self.port}"],
                               capture_output=True, text=True, timeout=30)
        ok = (code == 503 and "test_signatures_only" in body and st.returncode == 1
              and "health: degraded" in st.stdout and "test_signatures_only" in st.stdout
              and "degraded at start" in self.env.milter_text())
        self.check("health_degraded_on_test_signatures", ok,
                   f"healthz {code} {body[:200]!r}; status rc={st.returncode} {st.stdout!r}")
        code, _ = http_get(self.port, "/nope")
        code_post = None
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}/metrics", data=b"x",
                                         method="POST")
            urllib.request.urlopen(req, timeout=5)
        except urllib.error.HTTPError as e:
            code_post = e.code
        self.check("metrics_only_get", code == 404 and code_post == 405,
                   f"GET /nope {code}, POST /metrics {code_post}")

    def metrics_move(self):
        _, before = http_get(self.port, "/metrics")
        clean = pm.message("metrics clean", marker="metrics-clean-1")[0]
        with open(os.path.join(self.env.src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
            virus = pm.crlf(f.read())
        r1 = self.send(clean)
        r2 = self.send(virus)
        _, after = http_get(self.port, "/metrics")
        d = lambda s: (metric(after, s) or 0) - (metric(before, s) or 0)  # noqa: E731
        ok = (d('avsink_messages_total{action="accept"}') == 1
              and d('avsink_messages_total{action="reject"}') == 1
              and d('avsink_findings_total{kind="virus",inspector="clamav"}') >= 1
              and d("avsink_scanned_bytes_total") > 0
              and d("avsink_scan_duration_seconds_count") == 2
              and metric(after, "avsink_scans_in_flight") == 0
              and metric(after, 'avsink_engine_generation{engine="clamav"}') == 1
              and metric(after, "avsink_healthy") == 0)
        acc = d('avsink_messages_total{action="accept"}')
        rej = d('avsink_messages_total{action="reject"}')
        self.check("metrics_move", ok, f"replies {r1} {r2}; accept +{acc}, reject +{rej}")

    def log_json_every_line(self):
        lines = [x for x in self.env.milter_text().splitlines() if x.strip()]
        bad, per_message = [], []
        for line in lines:
            m = re.match(r"^avsink-milter\[\d+\]: (.*)$", line)
            try:
                obj = json.loads(m.group(1) if m else line)
                if "action" in obj:
                    per_message.append(obj)
            except (ValueError, AttributeError):
                bad.append(line)
        rcpts_ok = any(o.get("rcpt_to") == ["bob@example.net", "carol@example.net"]
                       for o in per_message)
        self.check("log_json_every_line", not bad and len(per_message) >= 3 and rcpts_ok,
                   f"{len(lines)} lines, {len(per_message)} per-message, not JSON: {bad[:3]}")

    def text_line_every_recipient(self):
        self.restart(config=self.write_config("text.toml", "[clamav]\nsystem_db = false\n"))
        reply = self.send(pm.message("two rcpts", marker="two-rcpts-1")[0],
                          rcpts=("bob@example.net", "carol@example.net"))
        qid = pm.queue_id_of(str(reply))
        line = self.env.milter_line(qid) if qid else None
        ok = bool(line) and "to=<bob@example.net>,<carol@example.net>" in line and \
            "from=<alice@example.org>" in line and "client=127.0.0.1" in line and \
            "size=" in line and "ms=" in line and "action=accept" in line
        self.check("text_line_every_recipient", ok, f"qid {qid}: {line!r}")

    def healthy_then_unreadable_reload(self):
        sigs = os.path.join(self.env.tmp, "sigs")
        os.makedirs(sigs, exist_ok=True)
        os.chmod(sigs, 0o755)
        shutil.copy(os.path.join(self.env.src, "signatures", "avsink-test.ndb"),
                    os.path.join(sigs, "site.ndb"))
        os.chmod(os.path.join(sigs, "site.ndb"), 0o644)
        cfg = self.write_config("own.toml", f'[clamav]\nsystem_db = false\nwatch = false\n'
                                            f'signature_dirs = ["{sigs}"]\n')
        self.restart(config=cfg)
        code_ok, body_ok = http_get(self.port, "/healthz")
        # freshclam's update as clamav:clamav 0600: the milter (user postfix) cannot read it.
        upd = os.path.join(sigs, "update.ndb")
        shutil.copy(os.path.join(sigs, "site.ndb"), upd)
        shutil.chown(upd, "clamav", "clamav")
        os.chmod(upd, 0o600)
        self.env.milter.send_signal(signal.SIGHUP)
        pm.wait_for(lambda: "after reload" in self.env.milter_text(), 15)
        code, body = http_get(self.port, "/healthz")
        _, m = http_get(self.port, "/metrics")
        text = self.env.milter_text()
        ok = (code_ok == 200 and code == 503 and "unreadable_database" in body
              and metric(m, 'avsink_reloads_total{part="clamav",result="failed"}') == 1
              and metric(m, 'avsink_degraded{reason="unreadable_database"}') == 1
              and "degraded after reload: clamav:" in text and "not readable by postfix" in text)
        self.check("healthy_then_unreadable_reload", ok,
                   f"before {code_ok} {body_ok[:120]!r}; after {code} {body[:300]!r}")
        os.unlink(upd)

    def stale_database(self):
        sigs = os.path.join(self.env.tmp, "old-sigs")
        os.makedirs(sigs, exist_ok=True)
        os.chmod(sigs, 0o755)
        p = os.path.join(sigs, "site.ndb")
        shutil.copy(os.path.join(self.env.src, "signatures", "avsink-test.ndb"), p)
        os.chmod(p, 0o644)
        old = time.time() - 3 * 86400
        os.utime(p, (old, old))
        cfg = self.write_config("stale.toml", f'[clamav]\nsystem_db = false\nwatch = false\n'
                                              f'max_db_age_hours = 24\nsignature_dirs = ["{sigs}"]\n')
        self.restart(config=cfg)
        code, body = http_get(self.port, "/healthz")
        _, m = http_get(self.port, "/metrics")
        ok = (code == 503 and "stale_database" in body
              and metric(m, 'avsink_degraded{reason="stale_database"}') == 1
              and (metric(m, 'avsink_signature_age_seconds{engine="clamav"}') or 0) > 2 * 86400
              and "degraded at start: clamav: signature database is" in self.env.milter_text())
        self.check("stale_database", ok, f"{code} {body[:200]!r}")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    milter_bin, cli, src = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.geteuid() != 0:
        pm.log("SKIP: Postfix needs root to start")
        return SKIP
    for tool in ("postfix", "smtp-sink"):
        if shutil.which(tool) is None:
            pm.log(f"SKIP: {tool} not installed (scripts/install-deps)")
            return SKIP
    env = pm.Env(milter_bin, src, "--keep" in sys.argv)
    obs = Obs(env, cli)
    try:
        env.setup()
        env.start_sink()
        obs.restart("--log-json", config=obs.write_config("json.toml",
                                                           "[clamav]\nsystem_db = false\n"))
        env.start_postfix()
        code, body = http_get(obs.port, "/healthz")
        obs.check("healthz_503_with_log_json", code == 503 and "test_signatures_only" in body,
                  f"{code}")
        obs.metrics_move()
        obs.send(pm.message("json two rcpts", marker="json-two-1")[0],
                 rcpts=("bob@example.net", "carol@example.net"))
        pm.wait_for(lambda: env.milter_text().count('"action"') >= 3, 10)
        obs.log_json_every_line()
        obs.health_degraded_on_test_signatures()
        obs.text_line_every_recipient()
        obs.healthy_then_unreadable_reload()
        obs.stale_database()
    except Exception as e:  # noqa: BLE001
        obs.check("setup", False, f"{type(e).__name__}: {e}")
    finally:
        failed = [r for r in obs.results if not r[1]]
        if failed:
            pm.log("---- milter log (tail) ----\n" + env.milter_text()[-3000:])
            pm.log("---- postfix maillog (tail) ----\n" + env.maillog_text()[-2000:])
        env.teardown()
    pm.log(f"{len(obs.results) - len(failed)}/{len(obs.results)} cases passed")
    return 1 if failed or not obs.results else 0


if __name__ == "__main__":
    sys.exit(main())

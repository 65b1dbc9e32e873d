#!/usr/bin/env python3
# minimal_sink_test.py - examples/minimal-sink.c end to end: clean mail stored intact with avsink's
# header, EICAR refused with its name and not stored, dot-stuffed lines unstuffed, RSET honoured.
"""usage: minimal_sink_test.py MINIMAL_SINK_BINARY SOURCE_DIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from mta_support import (Results, crlf, file_with, files_in, log, message, send_one,
                         set_deadline, smtp_send, smtp_session, stop_process, wait_for,
                         write_file)

set_deadline(40)


class Env:
    pass


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    env = Env()
    env.src = src
    tmp = tempfile.mkdtemp(prefix="avsink-minimal-sink-")
    env.sink_dir = os.path.join(tmp, "mail")
    os.makedirs(env.sink_dir)
    config = os.path.join(tmp, "avsink.toml")
    write_file(config, "# avsink.toml - minimal-sink test: repo signatures only.\n"
                       "[clamav]\nsystem_db = false\n")
    out = open(os.path.join(tmp, "stdout"), "w+")
    err = open(os.path.join(tmp, "stderr"), "w+")
    p = subprocess.Popen([binary, "-c", config, "-p", "0", "-d", env.sink_dir], stdout=out,
                         stderr=err)
    r = Results()
    try:
        def port():
            out.seek(0)
            m = re.search(r"listening on (\d+)", out.read())
            return int(m.group(1)) if m else None
        env.smtp_port = wait_for(lambda: p.poll() is None and port(), 30)
        if not env.smtp_port:
            raise RuntimeError("minimal-sink did not start")

        with open(os.path.join(src, "tests/data/eml/mixed-pdf-attachment.eml"), "rb") as f:
            original = crlf(f.read())
        code, text = send_one(env, original)
        mid = re.search(rb"Message-ID: *(<[^>]+>)", original, re.I).group(1)
        path = file_with(env.sink_dir, mid, timeout=5)
        got = open(path, "rb").read() if path else b""
        r.check("clean_stored_intact",
                code == 250 and got.endswith(original) and got.startswith(b"X-Virus-Scanned: "),
                f"got {code} {text!r}; stored={bool(path)}, intact={got.endswith(original)}")

        with open(os.path.join(src, "tests/data/eml/eicar-plain-attachment.eml"), "rb") as f:
            eicar = crlf(f.read())
        before = len(files_in(env.sink_dir))
        code, text = send_one(env, eicar)
        r.check("eicar_refused", code == 554 and "Eicar" in text and
                len(files_in(env.sink_dir)) == before,
                f"got {code} {text!r}, want 554 naming Eicar; stored "
                f"{len(files_in(env.sink_dir)) - before}")

        data, marker = message("dots", body=".leading dot\r\n..two dots\r\n")
        s = smtp_session(env)
        s.mail("a@example.org")
        s.rcpt("b@example.net")
        rset = s.rset()[0]
        code, text = smtp_send(s, data)
        s.quit()
        path = file_with(env.sink_dir, marker, timeout=5)
        got = open(path, "rb").read() if path else b""
        r.check("dots_and_rset", rset == 250 and code == 250 and
                b"\r\n.leading dot\r\n..two dots\r\n" in got,
                f"RSET {rset}; DATA {code} {text!r}; dots kept={b'.leading dot' in got}")
    except Exception as e:  # noqa: BLE001
        r.check("setup", False, f"{type(e).__name__}: {e}")
    finally:
        stop_process(p, 5)
        if r.failed():
            err.seek(0)
            log("---- minimal-sink stderr ----\n" + err.read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{len(r.results) - len(r.failed())}/{len(r.results)} cases passed")
    return 1 if r.failed() else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# memory_shapes.py - issue 14 item 3: a scan's peak memory for hostile message shapes, against the
# 3 x size + 16 MiB that [limits] memory_budget_bytes charges each scan in flight.
#
#   bench/memory_shapes.py [--build-dir build] [--sizes 10,40] [--keep DIR]
#
# Each shape is written at each size (MiB) and scanned by `bench_large --child stream FILE`: a
# child process opens the default engine, records VmHWM, streams the message in 64 KiB pieces
# through the C ABI, and records VmHWM again. Over = (peak - baseline) / message size; the target
# is peak - baseline <= 3 x size + 16 MiB for every shape. Exit status: 0 met, 2 not met, 1 error.
import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile

MIB = 1 << 20
TOP = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: shape\r\nMIME-Version: 1.0\r\n"


def b64(data):
    import base64
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def head(ct, cte=None):
    h = b"Content-Type: " + ct + b"\r\n"
    if cte:
        h += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    return h + b"\r\n"


def noise(rng, n):
    return rng.randbytes(n)


def one_part(rng, total):
    """One base64 attachment: the common large message."""
    body = b"--b\r\n" + head(b"application/octet-stream", b"base64") + b64(noise(rng, total * 3 // 4))
    return TOP + head(b'multipart/mixed; boundary="b"') + body + b"--b--\r\n"


def nested_multipart(rng, total, depth=50):
    """Multiparts nested `depth` deep, a base64 part at every level."""
    share = total * 3 // 4 // depth
    out = TOP + head(b'multipart/mixed; boundary="b0"')
    tail = b""
    for d in range(depth):
        b = b"b%d" % d
        out += b"--" + b + b"\r\n" + head(b"application/octet-stream", b"base64") + b64(noise(rng, share))
        if d + 1 < depth:
            out += b"--" + b + b"\r\n" + head(b'multipart/mixed; boundary="b%d"' % (d + 1))
        tail = b"--" + b + b"--\r\n" + tail
    return out + tail


def encoded_rfc822(rng, total, depth):
    """message/rfc822 in base64, `depth` layers: every layer's decoded copy is held at once."""
    size = total
    for _ in range(depth):
        size = size * 3 // 4
    msg = TOP + head(b"application/octet-stream", b"base64") + b64(noise(rng, size * 3 // 4))
    for _ in range(depth):
        msg = TOP + head(b"message/rfc822", b"base64") + b64(msg)
    return msg


def ambiguous(rng, total, parts=100):
    """Parts with two transfer encodings and a junk line: several readings decoded per part."""
    share = total * 3 // 4 // parts
    body = b""
    for _ in range(parts):
        data = b64(noise(rng, share))
        data = data[: len(data) // 2] + b"#junk!\r\n" + data[len(data) // 2:]
        body += (b"--b\r\nContent-Type: application/octet-stream\r\n"
                 b"Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: quoted-printable"
                 b"\r\n\r\n" + data)
    return TOP + head(b'multipart/mixed; boundary="b"') + body + b"--b--\r\n"


def wide(rng, total, parts=1000):
    share = total * 3 // 4 // parts
    body = b"".join(b"--b\r\n" + head(b"application/octet-stream", b"base64") + b64(noise(rng, share))
                    for _ in range(parts))
    return TOP + head(b'multipart/mixed; boundary="b"') + body + b"--b--\r\n"


def stored_zip(rng, total, members=64):
    """A zip of stored members: what the container pass extracts."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(members):
            z.writestr("m%03d.bin" % i, noise(rng, total * 3 // 4 // members))
    body = b"--b\r\n" + head(b"application/zip", b"base64") + b64(buf.getvalue())
    return TOP + head(b'multipart/mixed; boundary="b"') + body + b"--b--\r\n"


SHAPES = {
    "one base64 part": one_part,
    "50 nested multiparts": nested_multipart,
    "rfc822 in base64 x4": lambda r, t: encoded_rfc822(r, t, 4),
    "rfc822 in base64 x8": lambda r, t: encoded_rfc822(r, t, 8),
    "rfc822 in base64 x12": lambda r, t: encoded_rfc822(r, t, 12),
    "100 ambiguous parts": ambiguous,
    "1000 parts": wide,
    "zip, 64 stored members": stored_zip,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--sizes", default="10,40")
    ap.add_argument("--keep", help="write the messages here instead of a temporary folder")
    a = ap.parse_args()
    exe = os.path.join(a.build_dir, "bench", "bench_large")
    if not os.access(exe, os.X_OK):
        print(f"memory_shapes: {exe} is not built", file=sys.stderr)
        return 1
    work = a.keep or tempfile.mkdtemp(prefix="avsink-memory-")
    os.makedirs(work, exist_ok=True)
    met = True
    print(f"{'shape':<24} {'MiB':>6} {'peak MiB':>9} {'x size':>7} {'charge MiB':>11} {'met':>4}  verdict")
    for size in (int(s) for s in a.sizes.split(",")):
        for name, make in SHAPES.items():
            rng = random.Random(f"{name}/{size}")
            data = make(rng, size * MIB)
            path = os.path.join(work, "shape.eml")
            with open(path, "wb") as f:
                f.write(data)
            r = subprocess.run([exe, "--child", "stream", path, ""], capture_output=True, text=True,
                               timeout=600)
            if r.returncode != 0:
                print(f"memory_shapes: {name}: bench_large failed: {r.stderr.strip()}", file=sys.stderr)
                return 1
            j = json.loads(r.stdout)
            used = (j["peak_kib"] - j["base_kib"]) * 1024
            charge = 3 * j["size"] + 16 * MIB
            ok = used <= charge
            met &= ok
            reason = j["reason"][:60] + ("..." if len(j["reason"]) > 60 else "")
            print(f"{name:<24} {j['size'] / MIB:6.1f} {used / MIB:9.1f} {used / j['size']:7.2f} "
                  f"{charge / MIB:11.1f} {'yes' if ok else 'NO':>4}  {reason}")
    if not a.keep:
        os.remove(os.path.join(work, "shape.eml"))
        os.rmdir(work)
    print(f"target (peak - baseline <= 3 x size + 16 MiB): {'met' if met else 'NOT met'}")
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# milter_corpus.py - writes a seeded corpus of clean mail with realistic sizes (2 KB .. 10 MB) for milter_bench.py.
# Same seed and count, same bytes; every message is unique (its own random attachment bytes), so no cache helps.
"""
usage: milter_corpus.py OUT_DIR [COUNT] [SEED]

Sizes, stratified per block of 100 consecutive messages (so any 100 in a row hold exactly this mix):
10 of 2-5 KB, 83 of 5-200 KB, 6 of 200 KB-2 MB, 1 of 2-10 MB (log-uniform inside each band; the
band's order inside a block is shuffled). Shapes: plain text, text+HTML alternative, and
multipart/mixed with 1-3 base64 attachments (PDF-shaped, PNG-shaped, a deflated ZIP of text and
binary members, a DOCX-shaped ZIP); messages over 200 KB always carry attachments. CRLF line ends,
written as msgNNNN.eml. Nothing in it matches a signature. Prints one summary line.
"""
import base64
import io
import math
import os
import random
import sys
import zipfile

WORDS = ("the quarterly report meeting invoice schedule project update please review attached "
         "regards thanks team budget forecast customer order shipment delivery contract draft "
         "agenda minutes follow up next week friday monday office").split()

# (low, high) bytes per band and how many of each 100 messages fall in it.
BANDS = [((2000, 5000), 10), ((5000, 200000), 83), ((200000, 2000000), 6), ((2000000, 10000000), 1)]


def text(rng, size):
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize() + "."
        out.append(line)
        n += len(line) + 2
    return "\r\n".join(out) + "\r\n"


def b64(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\r\n"


def headers(rng, i, subject, ctype):
    return (f"From: Sender {i} <sender{i}@example.org>\r\nTo: Bob <bob@example.net>\r\n"
            f"Subject: {subject}\r\nDate: Tue, 04 Mar 2025 10:{i % 60:02d}:00 +0100\r\n"
            f"Message-ID: <bench-{i}-{rng.getrandbits(48):x}@example.org>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n")


def attachment(rng, size):
    """(name, content type, bytes) of about `size` raw bytes."""
    kind = rng.choice(["pdf", "png", "zip", "docx"])
    if kind == "pdf":
        body = rng.randbytes(max(0, size - 120))
        return "report.pdf", "application/pdf", (
            b"%PDF-1.4\n1 0 obj\n<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body +
            b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    if kind == "png":
        return "photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(max(0, size - 8))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = lambda n: zipfile.ZipInfo(n, date_time=(2025, 3, 4, 10, 0, 0))  # noqa: E731
        if kind == "zip":
            z.writestr(info("notes.txt"), text(rng, size // 4).encode())
            z.writestr(info("data.bin"), rng.randbytes(size * 3 // 4))
        else:
            z.writestr(info("[Content_Types].xml"), b"<Types/>")
            z.writestr(info("word/document.xml"), ("<w:document><w:body>" + text(rng, size // 4) +
                                                   "</w:body></w:document>").encode())
            z.writestr(info("word/media/image1.png"), rng.randbytes(size * 3 // 4))
    # Only once the ZipFile is closed does the buffer hold the central directory: returning from
    # inside the block gave a zip without one, which avsink rightly quarantined as corrupt.
    if kind == "zip":
        return "data.zip", "application/zip", buf.getvalue()
    return ("letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            buf.getvalue())


def one(rng, i, target):
    b = f"==bench{i}=="
    if target < 200000 and rng.random() < 0.35:
        if rng.random() < 0.5:
            return headers(rng, i, f"Notes {i}", "text/plain; charset=us-ascii") + \
                text(rng, target - 400)
        t = text(rng, (target - 600) * 2 // 5)
        html = "<html><body><p>" + t.replace("\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
        return (headers(rng, i, f"Update {i}", f'multipart/alternative; boundary="{b}"') +
                f"--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{t}"
                f"--{b}\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}--{b}--\r\n")
    body_text = text(rng, rng.randint(300, min(3000, target // 3)))
    parts = [f"--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body_text}"]
    n = rng.randint(1, 3)
    left = max(300, target - 700 - len(body_text) - 250 * n)
    weights = [rng.random() + 0.2 for _ in range(n)]
    for w in weights:
        raw = max(200, int(left * w / sum(weights) * 57 / 78))  # base64 with CRLF every 76
        name, ctype, data = attachment(rng, raw)
        parts.append(f"--{b}\r\nContent-Type: {ctype}; name=\"{name}\"\r\n"
                     f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{b64(data)}")
    return (headers(rng, i, f"Document {i}", f'multipart/mixed; boundary="{b}"') + "".join(parts) +
            f"--{b}--\r\n")


def size_plan(rng, count):
    """[(target bytes, (band low, band high))] for `count` messages."""
    sizes = []
    while len(sizes) < count:
        block = []
        for (lo, hi), k in BANDS:
            block += [(int(math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * rng.random())),
                       (lo, hi)) for _ in range(k)]
        rng.shuffle(block)
        sizes += block
    return sizes[:count]


def sized(rng, i, target, band):
    """A message inside its band: the shapes' overheads vary, so retry with a corrected target."""
    lo, hi = band
    want = target
    for _ in range(6):
        data = one(rng, i, target).encode()
        if lo <= len(data) <= hi:
            return data
        target = max(200, int(target * want / len(data)))
    raise RuntimeError(f"message {i}: {len(data)} bytes, outside {lo}-{hi}")


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) >= 2 else 2
    if sys.argv[1].startswith("-"):  # never an output folder named like an option
        print(f"milter_corpus.py: unknown option {sys.argv[1]}\n{__doc__}", file=sys.stderr)
        return 2
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261203)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i, (target, band) in enumerate(size_plan(rng, count)):
        data = sized(rng, i, target, band)
        with open(os.path.join(out, f"msg{i:04d}.eml"), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{count} messages, {total / 1e6:.1f} MB, mean {total / count / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# milter_corpus.py - writes a seeded corpus of typical clean mail (1 KB .. 200 KB) for milter_bench.py.
# Same seed, same bytes: runs on different days and machines scan the same corpus.
"""
usage: milter_corpus.py OUT_DIR [COUNT] [SEED]

Mix (by count): 40% plain text 1-12 KB, 25% text+HTML alternative 8-40 KB, 20% with a PDF-shaped
base64 attachment 30-120 KB, 15% with a ZIP-shaped (stored) attachment 100-190 KB. Every file is
under 200 KB, LF line ends (smtp-source -F sends each line with CRLF), no line starting with '.'.
Nothing in it matches a signature.
"""
import base64
import os
import random
import sys

WORDS = ("the quarterly report meeting invoice schedule project update please review attached "
         "regards thanks team budget forecast customer order shipment delivery contract draft "
         "agenda minutes follow up next week friday monday office").split()


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
            f"Message-ID: <bench-{i}-{rng.randint(0, 1 << 30)}@example.org>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n")


def fake_pdf(rng, size):
    body = bytes(rng.getrandbits(8) for _ in range(size))
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


def fake_zip(rng, size):
    # A stored (uncompressed) zip entry of random bytes, named report.txt: an allowed attachment.
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("report.txt", bytes(rng.getrandbits(8) for _ in range(size)))
    return buf.getvalue()


def one(rng, i):
    kind = rng.random()
    if kind < 0.40:
        return headers(rng, i, f"Notes {i}", "text/plain; charset=us-ascii") + \
            text(rng, rng.randint(1000, 12000))
    b = f"==bench{i}=="
    if kind < 0.65:
        t = text(rng, rng.randint(4000, 20000))
        html = "<html><body><p>" + t.replace("\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
        return (headers(rng, i, f"Update {i}", f'multipart/alternative; boundary="{b}"') +
                f"--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{t}"
                f"--{b}\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}--{b}--\r\n")
    if kind < 0.85:
        att, name, ctype = fake_pdf(rng, rng.randint(22000, 88000)), "report.pdf", "application/pdf"
    else:
        att, name, ctype = fake_zip(rng, rng.randint(75000, 140000)), "data.zip", "application/zip"
    return (headers(rng, i, f"Document {i}", f'multipart/mixed; boundary="{b}"') +
            f"--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text(rng, 1500)}"
            f"--{b}\r\nContent-Type: {ctype}; name=\"{name}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{b64(att)}--{b}--\r\n")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20260301)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(count):
        data = one(rng, i).replace("\r\n", "\n").encode()
        assert len(data) <= 200 * 1024, len(data)
        with open(os.path.join(out, f"msg{i:03d}.eml"), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{count} messages, {total / 1024:.0f} KB, mean {total / count / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

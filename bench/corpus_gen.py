#!/usr/bin/env python3
# corpus_gen.py - deterministic benchmark corpus: RFC 5322 messages plus a manifest of the expected outcome of each.
# Invariant: the same --seed and --count give byte-identical files; EICAR is assembled at run time, never stored here.
"""Writes OUT/msgs/NNNN.eml and OUT/manifest.json.

Mix (defaults, 600 messages): text only, html+text, and multipart/mixed with 1-5 attachments
(pdf-like, png-like, zip of text, csv, docx-like zip). Sizes 2 KB to 10 MB, mostly 5-200 KB; one
message is ~10 MB. About 3% are infected (EICAR as a plain attachment, inside a zip, inside a
nested message/rfc822) and about 3% carry a banned attachment name (.exe, .scr, .js, .vbs, ...,
harmless content). manifest.json lists every message with "expect": infected | banned | clean.
"""
import argparse
import base64
import io
import json
import os
import random
import sys
import zipfile

GENERATOR_VERSION = 3

WORDS = (
    "the quarterly report invoice meeting agenda project budget review please find attached "
    "regards thanks schedule update customer order shipment delivery contract draft final "
    "version team office monday tuesday friday deadline approval payment account balance "
    "statement summary notes minutes proposal design release test plan results figures "
    "analysis market sales revenue forecast growth strategy partner supplier request question"
).split()

BANNED_NAMES = ["invoice.exe", "setup.scr", "payment.js", "update.vbs", "run.bat", "tool.com",
                "doc.pdf.exe", "readme.hta", "install.msi", "link.lnk", "script.wsf", "photo.pif"]


def eicar():
    # Two halves joined at run time, so this file does not itself carry the test string.
    return (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0

    def words(self, nbytes):
        out, size = [], 0
        choice = self.r.choice
        while size < nbytes:
            line = " ".join(choice(WORDS) for _ in range(12))
            out.append(line)
            size += len(line) + 2
        return "\r\n".join(out) + "\r\n"

    def boundary(self):
        self.n += 1
        return "=_avsink_bench_%08x_%d" % (self.r.getrandbits(32), self.n)

    def b64(self, data):
        s = base64.encodebytes(data).decode("ascii")
        return s.replace("\n", "\r\n")

    # ---- attachment payloads (harmless, deterministic) ----
    def pdf(self, size):
        body = self.r.randbytes(max(0, size - 200))
        return (b"%PDF-1.4\n1 0 obj\n<< /Length " + str(len(body)).encode() +
                b" >>\nstream\n" + body + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

    def png(self, size):
        return b"\x89PNG\r\n\x1a\n" + self.r.randbytes(max(0, size - 8))

    def zipped(self, members):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        return buf.getvalue()

    def text_zip(self, size):
        # Text compresses ~3x; random bytes mixed in keep the archive near `size`.
        n = self.r.randint(1, 4)
        members = []
        for i in range(n):
            part = size // n
            data = self.words(part // 2).encode() + self.r.randbytes(part // 2)
            members.append(("file%d.txt" % (i + 1), data))
        return self.zipped(members)

    def csv(self, size):
        rows, out = ["id,name,amount,date"], 20
        while out < size:
            row = "%d,%s,%d.%02d,2024-%02d-%02d" % (
                self.r.randint(1, 10 ** 6), self.r.choice(WORDS), self.r.randint(0, 99999),
                self.r.randint(0, 99), self.r.randint(1, 12), self.r.randint(1, 28))
            rows.append(row)
            out += len(row) + 2
        return ("\r\n".join(rows) + "\r\n").encode()

    def docx(self, size):
        xml = ("<?xml version=\"1.0\"?><w:document><w:body>" + self.words(size) +
               "</w:body></w:document>").encode()
        return self.zipped([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", xml),
                            ("word/media/image1.bin", self.r.randbytes(size // 2))])

    def attachment(self, size):
        # Large attachments are incompressible (pdf/png-like) so message sizes follow the plan.
        kinds = ["pdf", "png", "zip", "csv", "docx"] if size < (1 << 20) else ["pdf", "png"]
        kind = self.r.choice(kinds)
        stem = self.r.choice(WORDS) + "_" + str(self.r.randint(1, 999))
        if kind == "pdf":
            return stem + ".pdf", "application/pdf", self.pdf(size)
        if kind == "png":
            return stem + ".png", "image/png", self.png(size)
        if kind == "zip":
            return stem + ".zip", "application/zip", self.text_zip(size)
        if kind == "csv":
            return stem + ".csv", "text/csv", self.csv(size)
        return (stem + ".docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                self.docx(size))

    # ---- MIME assembly ----
    def headers(self, idx, subject, ctype):
        day = 1 + idx % 28
        return ("Return-Path: <sender%d@example.org>\r\n"
                "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\r\n"
                "\tby gw.example.net with ESMTPS id B%06d; Mon, %d Jan 2024 10:%02d:00 +0000\r\n"
                "From: Sender %d <sender%d@example.org>\r\n"
                "To: Recipient <rcpt%d@example.net>\r\n"
                "Subject: %s\r\n"
                "Date: Mon, %d Jan 2024 10:%02d:00 +0000\r\n"
                "Message-ID: <bench.%d.%08x@example.org>\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: %s\r\n") % (
                    idx, idx % 50, idx % 50, 1 + idx % 250, idx, day, idx % 60, idx, idx,
                    idx % 97, subject, day, idx % 60, idx, self.r.getrandbits(32), ctype)

    def text_part(self, text):
        return ("Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 7bit\r\n\r\n" + text)

    def html_alt(self, nbytes):
        b = self.boundary()
        text = self.words(nbytes // 2)
        html = "<html><body><p>" + self.words(nbytes // 2).replace("\r\n", "</p>\r\n<p>") + \
            "</p></body></html>\r\n"
        return ("Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                "--%s\r\n%s\r\n--%s\r\n"
                "Content-Type: text/html; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 7bit\r\n\r\n%s\r\n--%s--\r\n") % (
                    b, b, self.text_part(text), b, html, b)

    def attach_part(self, name, ctype, data):
        return ("Content-Type: %s; name=\"%s\"\r\n"
                "Content-Disposition: attachment; filename=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s") % (ctype, name, name, self.b64(data))

    def mixed(self, parts):
        b = self.boundary()
        body = "This is a multi-part message in MIME format.\r\n"
        for p in parts:
            body += "--%s\r\n%s\r\n" % (b, p)
        body += "--%s--\r\n" % b
        return "multipart/mixed; boundary=\"%s\"" % b, body

    def message(self, idx, target, special):
        """Returns (bytes, kind). target: approximate raw size in bytes."""
        subject = " ".join(self.r.choice(WORDS) for _ in range(5))
        shape = self.r.random()
        extra = []
        kind = "clean"
        if special == "eicar-plain":
            extra.append(self.attach_part("eicar_test.txt", "application/octet-stream", eicar()))
        elif special == "eicar-zip":
            extra.append(self.attach_part("documents.zip", "application/zip",
                                          self.zipped([("readme.txt", self.words(300).encode()),
                                                       ("eicar_test.txt", eicar())])))
        elif special == "eicar-nested":
            inner_ct, inner_body = self.mixed([
                self.text_part(self.words(500)),
                self.attach_part("eicar_test.txt", "application/octet-stream", eicar())])
            inner = self.headers(idx + 100000, "Fwd: " + subject, inner_ct) + "\r\n" + inner_body
            extra.append("Content-Type: message/rfc822\r\n"
                         "Content-Disposition: attachment; filename=\"forwarded.eml\"\r\n\r\n" +
                         inner)
        elif special == "banned":
            name = BANNED_NAMES[idx % len(BANNED_NAMES)]
            extra.append(self.attach_part(name, "application/octet-stream",
                                          self.words(2000).encode()))
        if special:
            kind = special

        overhead = 700
        if not extra and target < 6000 and shape < 0.5:
            ctype = "text/plain; charset=utf-8"
            body = self.words(max(200, target - overhead))
            return (self.headers(idx, subject, ctype) + "Content-Transfer-Encoding: 7bit\r\n\r\n" +
                    body).encode(), kind, 1
        nattach = 0
        if not extra and (shape < 0.35 or target < 6000):
            # text-only or html+text, no attachments
            if shape < 0.18:
                ctype = "text/plain; charset=utf-8"
                body = self.words(max(200, target - overhead))
                return (self.headers(idx, subject, ctype) +
                        "Content-Transfer-Encoding: 7bit\r\n\r\n" + body).encode(), kind, 1
            alt = self.html_alt(max(400, target - overhead))
            ctype, rest = alt.split("\r\n\r\n", 1)
            return (self.headers(idx, subject, ctype[len("Content-Type: "):]) + "\r\n" +
                    rest).encode(), kind, 3
        # multipart/mixed: a text or html+text body, 1-5 attachments
        text_bytes = self.r.randint(500, 4000)
        first = self.html_alt(text_bytes) if self.r.random() < 0.5 else \
            self.text_part(self.words(text_bytes))
        parts = [first] + extra
        budget = max(0, target - overhead - text_bytes - sum(len(p) for p in extra))
        nattach = self.r.randint(1, 5) if not extra else self.r.randint(0, 2)
        if nattach:
            weights = [self.r.random() + 0.1 for _ in range(nattach)]
            total = sum(weights)
            for w in weights:
                raw = int(budget * w / total * 3 / 4)  # base64 grows by 4/3
                name, ct, data = self.attachment(max(300, raw))
                parts.append(self.attach_part(name, ct, data))
        ctype, body = self.mixed(parts)
        return (self.headers(idx, subject, ctype) + "\r\n" + body).encode(), kind, len(parts) + 1


def size_plan(r, count):
    """Target sizes: mostly 5-200 KB (log-uniform), some 2-5 KB, a few 200 KB-2 MB, 2-5 MB, one 10 MB."""
    sizes = []
    for i in range(count):
        x = r.random()
        if x < 0.12:
            sizes.append(int(2400 * (2.1 ** r.random())))
        elif x < 0.95:
            sizes.append(int(5000 * (40 ** r.random())))
        else:
            sizes.append(int(200000 * (7.5 ** r.random())))
    # the large tail: one ~10 MB message and two of 2-5 MB, at fixed positions
    if count >= 10:
        sizes[count // 2] = 10 * 1000 * 1000
        sizes[count // 3] = 2 * 1000 * 1000 + r.randint(0, 3 * 1000 * 1000)
        sizes[2 * count // 3] = 2 * 1000 * 1000 + r.randint(0, 3 * 1000 * 1000)
    return sizes


def specials(r, count, infected_pct, banned_pct):
    n_inf = max(3, round(count * infected_pct / 100))
    n_ban = max(1, round(count * banned_pct / 100))
    idx = list(range(count))
    r.shuffle(idx)
    out = [""] * count
    kinds = ["eicar-plain", "eicar-zip", "eicar-nested"]
    for k, i in enumerate(idx[:n_inf]):
        out[i] = kinds[k % 3]
    for i in idx[n_inf:n_inf + n_ban]:
        out[i] = "banned"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--seed", type=int, default=20240801)
    ap.add_argument("--infected-pct", type=float, default=3.0)
    ap.add_argument("--banned-pct", type=float, default=3.0)
    a = ap.parse_args()

    r = random.Random(a.seed)
    sizes = size_plan(r, a.count)
    spec = specials(r, a.count, a.infected_pct, a.banned_pct)
    os.makedirs(os.path.join(a.out, "msgs"), exist_ok=True)
    g = Gen(a.seed * 7919 + 1)
    manifest = {"generator_version": GENERATOR_VERSION, "seed": a.seed, "count": a.count,
                "messages": []}
    total = 0
    for i in range(a.count):
        data, kind, nparts = g.message(i, sizes[i], spec[i])
        name = "%04d.eml" % i
        with open(os.path.join(a.out, "msgs", name), "wb") as f:
            f.write(data)
        total += len(data)
        expect = "infected" if kind.startswith("eicar") else ("banned" if kind == "banned" else
                                                              "clean")
        manifest["messages"].append({"file": "msgs/" + name, "size": len(data), "expect": expect,
                                     "kind": kind, "entities": nparts})
    manifest["total_bytes"] = total
    manifest["expected"] = {k: sum(1 for m in manifest["messages"] if m["expect"] == k)
                            for k in ("infected", "banned", "clean")}
    tmp = os.path.join(a.out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "manifest.json"))
    print("corpus: %d messages, %.1f MB, %s -> %s" % (
        a.count, total / 1e6, manifest["expected"], a.out), file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# make_evasion.py - writes the evasion corpus: one .eml per trick hiding EICAR or a banned attachment,
# plus manifest.json. Invariant: deterministic output; EICAR is assembled here, never stored in source.
"""Evasion corpus generator (issue 9, HOSTILE.md).

Every message hides one payload behind one trick:
  payload eicar  - the EICAR test string (detected by the shipped Eicar-Test-Signature)
  payload banned - an attachment the attachment policy blocks (.exe/.scr/.js name, or an MZ stub)
  payload none   - a benign control (ordinary mail that must not be blocked)
and names the safe verdict it must get through the C ABI:
  reject                - caught (virus or banned attachment)
  quarantine            - unscannable (encrypted, limit hit): quarantined by default
  reject-or-quarantine  - either is safe; ACCEPT never is.
  accept                - payload none only: blocking it would be a false positive.
"pending": true marks a case today's reader still gets wrong (issue 21): capi_evasion_test lists
it without failing; the flag is removed as soon as the reader handles it.

Run: python3 make_evasion.py [OUTDIR]   (default: the directory of this script)
The output is byte-for-byte reproducible (fixed dates, no randomness beyond a seeded PRNG).
"""
import base64
import binascii
import io
import json
import os
import quopri
import random
import struct
import sys
import zipfile
import zlib

# Built from two halves so that this script is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A 64-byte DOS/PE stub: libclamav types it CL_TYPE_MSEXE (true-type policy blocks it).
MZ_STUB = b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + \
    struct.pack("<I", 0x40) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 18
CRLF = b"\r\n"
RNG = random.Random(9)
CASES = []


def top(subject, extra=b"", eol=CRLF):
    h = [b"From: Evasion Test <sender@example.org>", b"To: victim@example.net",
         b"Subject: " + subject.encode(), b"Date: Mon, 24 Nov 2025 10:00:00 +0000",
         b"Message-ID: <" + subject.replace(" ", "-").encode() + b"@evasion.example.org>",
         b"MIME-Version: 1.0"]
    return eol.join(h) + eol + extra


def b64(data, width=76, eol=CRLF):
    s = base64.b64encode(data)
    return eol.join(s[i:i + width] for i in range(0, len(s), width)) + eol


def attachment_part(data, name=b"payload.bin", ctype=b"application/octet-stream", eol=CRLF,
                    extra=b""):
    return (b"Content-Type: " + ctype + b"; name=\"" + name + b"\"" + eol +
            b"Content-Disposition: attachment; filename=\"" + name + b"\"" + eol +
            b"Content-Transfer-Encoding: base64" + eol + extra + eol + b64(data, eol=eol))


def text_part(text=b"Please see the attachment.", eol=CRLF):
    return b"Content-Type: text/plain; charset=us-ascii" + eol + eol + text + eol


def multipart(boundary, parts, eol=CRLF, preamble=b"", epilogue=b"", close=True):
    out = preamble
    for p in parts:
        out += b"--" + boundary + eol + p
    if close:
        out += b"--" + boundary + b"--" + eol
    return out + epilogue


def mixed(subject, parts, boundary=b"=_evasion_b1", ctype=None, extra=b"", **kw):
    ct = ctype if ctype is not None else \
        b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"" + CRLF
    return top(subject, extra + ct) + CRLF + multipart(boundary, parts, **kw)


# Cases the scan still gets wrong (issue 21; with the raw libclamav pass on or off): the test lists
# them without failing (AVSINK_EVASION_STRICT=1: fails). Remove a name once the scan has it.
PENDING = set()  # empty: every case gets its verdict (issue 21)


def add(file, trick, cls, payload, expect, data, pending=False):
    """pending=True (or the file in PENDING): today's reader gets it wrong; the test reports it
    and fails only when strict. The flag goes as soon as the reader handles the case."""
    pending = pending or file in PENDING
    assert expect in ("reject", "quarantine", "reject-or-quarantine", "accept")
    assert payload in ("eicar", "banned", "none")
    assert (payload == "none") == (expect == "accept")
    CASES.append({"file": file, "trick": trick, "hostile_class": cls, "payload": payload,
                  "expect": expect, "data": data, "pending": pending})


def zip_bytes(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


# ---- ZipCrypto (traditional PKWARE) encryption, enough for one stored member ----
CRC_TABLE = [0] * 256
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    CRC_TABLE[_i] = _c


def _crc_byte(crc, b):
    return (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]


def zipcrypto(plain, password, check_byte):
    k0, k1, k2 = 0x12345678, 0x23456789, 0x34567890

    def update(b):
        nonlocal k0, k1, k2
        k0 = _crc_byte(k0, b)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, (k1 >> 24) & 0xFF)

    for ch in password:
        update(ch)
    header = bytes(RNG.randrange(256) for _ in range(11)) + bytes([check_byte])
    out = bytearray()
    for b in header + plain:
        t = (k2 | 2) & 0xFFFF
        out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    return bytes(out)


def encrypted_zip(name, data, password=b"infected"):
    crc = zlib.crc32(data) & 0xFFFFFFFF
    enc = zipcrypto(data, password, (crc >> 24) & 0xFF)
    dostime, dosdate = 0, (45 << 9) | (1 << 5) | 1
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, dostime, dosdate, crc, len(enc),
                        len(data), len(name), 0) + name + enc
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, dostime, dosdate, crc,
                          len(enc), len(data), len(name), 0, 0, 0, 0, 0o644 << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def overlapping_zip(n_entries, data, name_fmt="f%03d.txt"):
    """Fifield-style: many central-directory entries all pointing at one local file."""
    crc = zlib.crc32(data) & 0xFFFFFFFF
    name0 = (name_fmt % 0).encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x5B21, crc, len(data), len(data),
                        len(name0), 0) + name0 + data
    central = b""
    for i in range(n_entries):
        name = (name_fmt % i).encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x5B21, crc,
                               len(data), len(data), len(name), 0, 0, 0, 0, 0o644 << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n_entries, n_entries, len(central),
                      len(local), 0)
    return local + central + end


# ---- encoders for blobs inside text ----
def uuencode(name, data, eol=CRLF):
    out = b"begin 644 " + name + eol
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n") + eol
    return out + b"`" + eol + b"end" + eol


def yencode(name, data, eol=CRLF, width=128):
    enc = bytearray()
    for b in data:
        c = (b + 42) & 0xFF
        if c in (0x00, 0x0A, 0x0D, 0x3D):
            enc += bytes([0x3D, (c + 64) & 0xFF])
        else:
            enc.append(c)
    lines = eol.join(bytes(enc[i:i + width]) for i in range(0, len(enc), width))
    crc = zlib.crc32(data) & 0xFFFFFFFF
    return (b"=ybegin line=%d size=%d name=" % (width, len(data)) + name + eol + lines + eol +
            b"=yend size=%d crc32=%08x" % (len(data), crc) + eol)


def binhex(name, data, eol=CRLF):
    alphabet = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"

    def crc(b):
        return struct.pack(">H", binascii.crc_hqx(b + b"\0\0", 0))

    hdr = bytes([len(name)]) + name + b"\0" + b"TEXT" + b"ttxt" + b"\0\0" + \
        struct.pack(">II", len(data), 0)
    stream = hdr + crc(hdr) + data + crc(data) + crc(b"")
    rle = stream.replace(b"\x90", b"\x90\x00")
    bits, nbits, out = 0, 0, bytearray()
    for b in rle:
        bits = (bits << 8) | b
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            out.append(alphabet[(bits >> nbits) & 0x3F])
    if nbits:
        out.append(alphabet[(bits << (6 - nbits)) & 0x3F])
    text = b":" + bytes(out) + b":"
    lines = eol.join(text[i:i + 64] for i in range(0, len(text), 64))
    return b"(This file must be converted with BinHex 4.0)" + eol + lines + eol


def odd_lines(s):
    """Splits s into lines of 4, 8, 12, ... characters (whole quads, odd line lengths)."""
    out, i, n = [], 0, 1
    while i < len(s):
        out.append(s[i:i + 4 * n])
        i += 4 * n
        n = n % 5 + 1
    return out


def build():
    E = EICAR
    ea = attachment_part(E)  # the usual EICAR attachment
    # ---------------- A. structure ----------------
    add("boundary-missing-close.eml", "multipart without its close delimiter; EICAR is the last part",
        8, "eicar", "reject", mixed("missing close", [text_part(), ea], close=False))
    long_b = b"L" * 3000
    add("boundary-overlong.eml", "3000-byte boundary (> max_boundary_length 2048)", 7, "eicar",
        "reject-or-quarantine", mixed("overlong boundary", [text_part(), ea], boundary=long_b))
    near = b"".join(b"--=_evasion_b1" + bytes([65 + (i % 26)]) + CRLF for i in range(2000))
    add("boundary-near-miss-candidates.eml", "2000 near-miss delimiter lines before the real parts",
        7, "eicar", "reject", mixed("near miss", [text_part(), ea], preamble=near))
    add("boundary-first-line-no-crlf.eml",
        "first delimiter on the first body line (no preceding CRLF), empty preamble", 19, "eicar",
        "reject", mixed("first line", [ea]))
    # message/rfc822 nested 10 deep (within max_rfc822_depth 17)
    inner = mixed("rfc822 level 10", [text_part(), ea], boundary=b"=_lvl10")
    for lvl in range(9, -1, -1):
        b = b"=_lvl%d" % lvl
        inner = (top("rfc822 level %d" % lvl, b"Content-Type: multipart/mixed; boundary=\"" + b +
                     b"\"" + CRLF) + CRLF +
                 multipart(b, [text_part(b"forwarded"),
                               b"Content-Type: message/rfc822" + CRLF +
                               b"Content-Disposition: attachment; filename=\"fwd.eml\"" + CRLF +
                               CRLF + inner]))
    add("rfc822-nested-10.eml", "message/rfc822 forwarded 10 deep, EICAR at the bottom", 2,
        "eicar", "reject", inner)
    # multipart nested 100 deep (max_mime_depth 64 -> unscannable; EICAR at the bottom)
    body = ea
    for lvl in range(100, 0, -1):
        b = b"=_d%03d" % lvl
        body = b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"" + CRLF + CRLF + \
            multipart(b, [body])
    add("multipart-nested-100.eml", "multipart nested 100 deep (> max_mime_depth 64)", 1, "eicar",
        "reject-or-quarantine", top("nested 100") + body)
    add("rfc822-base64-encoded.eml",
        "message/rfc822 part with Content-Transfer-Encoding: base64 (RFC 2046 forbids it)", 2,
        "eicar", "reject",
        mixed("encoded rfc822", [text_part(),
                                 b"Content-Type: message/rfc822" + CRLF +
                                 b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                                 b64(mixed("inner", [ea], boundary=b"=_inner"))]))
    # A delivery report returning the whole message in its text/rfc822-headers part (RFC 6522
    # means the header block only; OpenSMTPD's bounces carry the body too): the attachment is
    # still base64 text inside a text part. Beside it, the same report with headers only.
    dsn = (b"Content-Type: message/delivery-status" + CRLF + CRLF +
           b"Reporting-MTA: dns; mx.example.org" + CRLF + CRLF +
           b"Final-Recipient: rfc822; b@example.org" + CRLF + b"Action: failed" + CRLF +
           b"Status: 5.0.0" + CRLF)
    report = b"Content-Type: multipart/report; report-type=delivery-status; " \
        b"boundary=\"=_evasion_b1\"" + CRLF
    returned = mixed("returned", [text_part(), ea], boundary=b"=_returned")
    headers_only = returned[:returned.index(CRLF + CRLF) + 2]
    for name, trick, payload, expect, quoted in (
            ("bounce-rfc822-headers-whole-message.eml", "delivery report returning the whole "
             "message, EICAR attachment and all, in a text/rfc822-headers part", "eicar",
             "reject", returned),
            ("bounce-rfc822-headers-only.eml", "delivery report returning the header block only "
             "in a text/rfc822-headers part: benign", "none", "accept", headers_only)):
        add(name, trick, 2, payload, expect,
            mixed("Undelivered Mail Returned to Sender",
                  [text_part(b"Your message could not be delivered."), dsn,
                   b"Content-Description: Message headers" + CRLF +
                   b"Content-Type: text/rfc822-headers" + CRLF + CRLF + quoted], ctype=report))
    # ---------------- B. boundary ambiguity ----------------
    add("boundary-param-twice.eml", "boundary=A; boundary=B, body split on B only", 13, "eicar",
        "reject-or-quarantine",
        mixed("two boundary params", [text_part(), ea], boundary=b"=_second",
              ctype=b"Content-Type: multipart/mixed; boundary=\"=_first\"; boundary=\"=_second\"" +
              CRLF))
    add("boundary-param-twice-first.eml", "boundary=A; boundary=B, body split on A only", 13,
        "eicar", "reject-or-quarantine",
        mixed("two boundary params first", [text_part(), ea], boundary=b"=_first",
              ctype=b"Content-Type: multipart/mixed; boundary=\"=_first\"; boundary=\"=_second\"" +
              CRLF))
    add("content-type-twice.eml",
        "Content-Type: text/plain, then Content-Type: multipart/mixed with the boundary", 14,
        "eicar", "reject-or-quarantine",
        mixed("two content types", [text_part(), ea],
              ctype=b"Content-Type: text/plain" + CRLF +
              b"Content-Type: multipart/mixed; boundary=\"=_evasion_b1\"" + CRLF))
    add("boundary-on-disposition.eml",
        "multipart without boundary on Content-Type; boundary given on Content-Disposition", 15,
        "eicar", "reject-or-quarantine",
        mixed("boundary on disposition", [text_part(), ea],
              ctype=b"Content-Type: multipart/mixed" + CRLF +
              b"Content-Disposition: inline; boundary=\"=_evasion_b1\"" + CRLF))
    add("boundary-quoted-semicolon.eml", "boundary=\"a;b c\" (tspecials inside the quotes)", 16,
        "eicar", "reject", mixed("semicolon boundary", [text_part(), ea], boundary=b"a;b c"))
    add("boundary-space-before-equals.eml", "'boundary =' with folding before the value", 16,
        "eicar", "reject",
        mixed("spaced boundary", [text_part(), ea],
              ctype=b"Content-Type: multipart/mixed;\r\n boundary\r\n  =\r\n \"=_evasion_b1\"" +
              CRLF))
    add("boundary-rfc2231.eml", "boundary*0=\"=_eva\"; boundary*1=\"sion_b1\" (RFC 2231 split)",
        17, "eicar", "reject",
        mixed("2231 boundary", [text_part(), ea],
              ctype=b"Content-Type: multipart/mixed; boundary*0=\"=_eva\"; boundary*1=\"sion_b1\"" +
              CRLF))
    inner_b = b"=_evasion_b1_inner"
    add("boundary-inner-extends-outer.eml",
        "inner boundary = outer boundary + suffix (prefix matchers split wrongly)", 18, "eicar",
        "reject",
        mixed("inner extends outer",
              [text_part(),
               b"Content-Type: multipart/mixed; boundary=\"" + inner_b + b"\"" + CRLF + CRLF +
               multipart(inner_b, [text_part(b"inner"), ea])]))
    add("boundary-inner-reuses-outer.eml", "inner multipart reuses the outer boundary", 18, "eicar",
        "reject",
        top("inner reuses outer", b"Content-Type: multipart/mixed; boundary=\"=_same\"" + CRLF) +
        CRLF + b"--=_same" + CRLF + b"Content-Type: multipart/mixed; boundary=\"=_same\"" + CRLF +
        CRLF + b"--=_same" + CRLF + text_part() + b"--=_same" + CRLF + ea + b"--=_same--" + CRLF +
        b"--=_same--" + CRLF)
    add("boundary-trailing-whitespace.eml", "delimiter lines padded with spaces and tabs", 19,
        "eicar", "reject",
        top("padded delimiters", b"Content-Type: multipart/mixed; boundary=\"=_pad\"" + CRLF) +
        CRLF + b"--=_pad \t " + CRLF + text_part() + b"--=_pad\t" + CRLF + ea + b"--=_pad--   " +
        CRLF)
    add("multipart-odd-subtype.eml", "Content-Type: mULtiPart/x-evasion (unknown subtype)", 20,
        "eicar", "reject",
        mixed("odd subtype", [text_part(), ea],
              ctype=b"Content-Type: mULtiPart/x-evasion; boundary=\"=_evasion_b1\"" + CRLF))
    add("multipart-digest.eml", "multipart/digest whose child is an attachment without Content-Type",
        20, "eicar", "reject",
        mixed("digest", [CRLF + top("digest child", b"Content-Type: multipart/mixed; "
                                    b"boundary=\"=_dig\"" + CRLF) + CRLF +
                         multipart(b"=_dig", [ea])],
              ctype=b"Content-Type: multipart/digest; boundary=\"=_evasion_b1\"" + CRLF))
    add("header-no-blank-line.eml",
        "part header block ends with a non-empty, non-header line (no separator)", 22, "eicar",
        "reject",
        mixed("no separator", [text_part(),
                               b"Content-Type: application/octet-stream" + CRLF +
                               b"Content-Transfer-Encoding: base64" + CRLF + b64(E)]))
    # ---------------- C. header syntax ----------------
    add("header-comment-in-name.eml",
        "comments in field names: Content-Transfer-Encoding(x): base64", 23, "eicar", "reject",
        mixed("comment in name", [text_part(),
                                  b"Content-Type(meow): application/octet-stream" + CRLF +
                                  b"Content-Transfer-Encoding(x): base64" + CRLF + CRLF + b64(E)]))
    add("header-comment-in-value.eml", "Content-Transfer-Encoding: bas(comment)e64 (xx)", 23,
        "eicar", "reject",
        mixed("comment in value", [text_part(),
                                   b"Content-Type: application/octet-stream" + CRLF +
                                   b"Content-Transfer-Encoding: (c1)bas(c2)e64 (xx)" + CRLF +
                                   CRLF + b64(E)]))
    add("header-space-before-colon.eml", "'Content-Transfer-Encoding :' (space before the colon)",
        24, "eicar", "reject",
        mixed("space before colon", [text_part(),
                                     b"Content-Type : application/octet-stream" + CRLF +
                                     b"Content-Transfer-Encoding \t: base64" + CRLF + CRLF +
                                     b64(E)]))
    add("header-bare-cr-smuggled-cte.eml",
        "X-Foo: bar<CR>Content-Transfer-Encoding: base64 (bare CR hides the CTE field)", 24,
        "eicar", "reject-or-quarantine",
        mixed("bare cr", [text_part(),
                          b"Content-Type: application/octet-stream" + CRLF +
                          b"X-Foo: bar\rContent-Transfer-Encoding: base64" + CRLF + CRLF +
                          b64(E)]))
    add("header-folding-tricks.eml",
        "CTE folded twice, 2000 spaces before the value, fold before '='", 25, "eicar", "reject",
        mixed("folding", [text_part(),
                          b"Content-Type: application/octet-stream;\r\n name\r\n =\"a.bin\"" + CRLF +
                          b"Content-Transfer-Encoding:\r\n \r\n " + b" " * 2000 + b"base64" + CRLF +
                          CRLF + b64(E)]
              ))
    add("header-8bit.eml", "raw 8-bit bytes (Latin-1 and UTF-8) in Subject and filename", 30,
        "eicar", "reject",
        mixed("8bit", [text_part(), attachment_part(E, name=b"r\xe9sum\xc3\xa9 \xff.bin")],
              extra=b"X-Note: caf\xe9 \xc3\xa9\xff\xfe" + CRLF))
    add("header-nul-bytes.eml", "NUL bytes in header fields and in a 7bit body before EICAR", 30,
        "eicar", "reject",
        mixed("nul", [text_part(b"a\0b\0c"),
                      b"Content-Type: application/octet-stream; name=\"x\0.bin\"" + CRLF +
                      b"Content-Transfer-Encoding: 7bit" + CRLF + CRLF + b"\0" * 64 + E + b"\0" +
                      CRLF],
              extra=b"X-Nul: a\0b" + CRLF))
    lf_msg = mixed("mixed eol", [text_part(), ea]).replace(CRLF, b"\n")
    lf_msg = lf_msg.replace(b"Content-Type: multipart/mixed", b"Content-Type: multipart/mixed", 1)
    half = len(lf_msg) // 2
    add("eol-mixed-crlf-lf.eml", "CRLF and bare LF line ends mixed line by line", 31, "eicar",
        "reject", lf_msg[:half].replace(b"\n", CRLF) + lf_msg[half:])
    add("eol-bare-cr.eml", "bare CR line ends only (old Mac), base64 attachment", 31, "eicar",
        "reject-or-quarantine", mixed("bare cr eol", [text_part(), ea]).replace(CRLF, b"\r"))
    big_header = b"X-Filler: " + b"A" * (300 << 10) + CRLF
    add("header-300k-line.eml", "one 300 KB header line (> max_header_bytes 256 KiB)", 5, "eicar",
        "reject-or-quarantine", mixed("long header", [text_part(), ea], extra=big_header))
    folds = b"X-Folded: x" + b"".join(b"\r\n y" for _ in range(70000)) + CRLF
    add("header-many-folds.eml", "one field folded 70000 times (> max_header_bytes)", 5, "eicar",
        "reject-or-quarantine", mixed("many folds", [text_part(), ea], extra=folds))
    filler = bytes(RNG.randrange(256) for _ in range(750000))
    add("body-1mb-base64-line.eml", "base64 attachment as one 1 MB line, EICAR at the end", 5,
        "eicar", "reject",
        mixed("1 MB line", [text_part(),
                            b"Content-Type: application/octet-stream; name=\"big.bin\"" + CRLF +
                            b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                            base64.b64encode(filler + E) + CRLF]))
    # ---------------- D. transfer encodings ----------------
    add("cte-twice-conflicting.eml",
        "Content-Transfer-Encoding: quoted-printable, then base64 (body is base64)", 26, "eicar",
        "reject-or-quarantine",
        mixed("two ctes", [text_part(),
                           b"Content-Type: application/octet-stream" + CRLF +
                           b"Content-Transfer-Encoding: quoted-printable" + CRLF +
                           b"Content-Transfer-Encoding: base64" + CRLF + CRLF + b64(E)]))
    add("cte-unknown-x-base64.eml", "Content-Transfer-Encoding: x-base64 (unknown token)", 26,
        "eicar", "reject-or-quarantine",
        mixed("x-base64", [text_part(),
                           b"Content-Type: application/octet-stream" + CRLF +
                           b"Content-Transfer-Encoding: x-base64" + CRLF + CRLF + b64(E)]))
    add("cte-base64-trailing-junk.eml", "Content-Transfer-Encoding: base64 xx", 26, "eicar",
        "reject-or-quarantine",
        mixed("base64 xx", [text_part(),
                            b"Content-Type: application/octet-stream" + CRLF +
                            b"Content-Transfer-Encoding: base64 xx" + CRLF + CRLF + b64(E)]))
    spaced = b"".join(bytes([c]) + (b" \t\x0b" if i % 3 == 0 else b"") for i, c in
                      enumerate(base64.b64encode(E)))
    add("base64-whitespace.eml", "spaces, tabs and VT between base64 characters", 27, "eicar",
        "reject",
        mixed("b64 whitespace", [text_part(),
                                 b"Content-Type: application/octet-stream" + CRLF +
                                 b"Content-Transfer-Encoding: base64" + CRLF + CRLF + spaced +
                                 CRLF]))
    junk = b"".join(bytes([c]) + (b"#:.%-_"[i % 6:i % 6 + 1] if i % 2 else b"") for i, c in
                    enumerate(base64.b64encode(E)))
    add("base64-garbage.eml", "junk characters #:.%-_ between base64 characters", 27, "eicar",
        "reject",
        mixed("b64 garbage", [text_part(),
                              b"Content-Type: application/octet-stream" + CRLF +
                              b"Content-Transfer-Encoding: base64" + CRLF + CRLF + junk + CRLF]))
    add("base64-missing-padding.eml", "base64 without its '=' padding", 27, "eicar", "reject",
        mixed("b64 no padding", [text_part(),
                                 b"Content-Type: application/octet-stream" + CRLF +
                                 b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                                 base64.b64encode(E + b"\n").rstrip(b"=") + CRLF]))
    chunks = [E[i:i + 7] for i in range(0, len(E), 7)]
    add("base64-padding-mid-stream.eml",
        "base64 of 7-byte chunks concatenated, each with its own '=' padding", 27, "eicar",
        "reject",
        mixed("b64 mid padding", [text_part(),
                                  b"Content-Type: application/octet-stream" + CRLF +
                                  b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                                  b"".join(base64.b64encode(c) for c in chunks) + CRLF]))
    add("base64-odd-lines-extra-equals.eml",
        "odd line lengths, '=' lines between data lines", 27, "eicar", "reject",
        mixed("b64 odd lines", [text_part(),
                                b"Content-Type: application/octet-stream" + CRLF +
                                b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                                b"\r\n====\r\n".join(odd_lines(base64.b64encode(E))) +
                                CRLF]))
    qp_every = b"".join(b"=%02X=\r\n" % c for c in E)
    add("qp-soft-break-every-byte.eml", "quoted-printable with a soft break after every byte", 28,
        "eicar", "reject",
        mixed("qp soft breaks", [text_part(),
                                 b"Content-Type: application/octet-stream" + CRLF +
                                 b"Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF +
                                 qp_every + CRLF]))
    qp_lower = b"".join((b"=%02x= \t\r\n" % c) if i % 4 == 0 else bytes([c]) if c != 0x3D else
                        b"=3d" for i, c in enumerate(E))
    add("qp-lowercase-hex-whitespace-soft-break.eml",
        "lowercase =xx hex and '= ' (whitespace after the soft-break '=')", 28, "eicar", "reject",
        mixed("qp lowercase", [text_part(),
                               b"Content-Type: text/plain" + CRLF +
                               b"Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF +
                               qp_lower + CRLF]))
    add("uuencode-in-text.eml", "uuencoded EICAR inside a text/plain body", 29, "eicar", "reject",
        mixed("uuencode", [text_part(b"Here it is:\r\n\r\n" + uuencode(b"eicar.com", E))]))
    add("uuencode-in-preamble.eml", "uuencoded EICAR inside the multipart preamble", 29, "eicar",
        "reject",
        mixed("uu preamble", [text_part()], preamble=uuencode(b"eicar.com", E) + CRLF))
    add("uuencode-in-epilogue.eml", "uuencoded EICAR after the close delimiter (epilogue)", 29,
        "eicar", "reject",
        mixed("uu epilogue", [text_part()], epilogue=CRLF + uuencode(b"eicar.com", E)))
    add("yenc-in-text.eml", "yEnc-encoded EICAR inside a text/plain body", 29, "eicar",
        "reject-or-quarantine",
        top("yenc", b"Content-Type: text/plain; charset=iso-8859-1" + CRLF +
            b"Content-Transfer-Encoding: 8bit" + CRLF) + CRLF + b"Binary follows:" + CRLF +
        yencode(b"eicar.com", E))
    add("binhex-in-text.eml", "BinHex 4.0 EICAR inside a text/plain body", 29, "eicar",
        "reject-or-quarantine",
        top("binhex", b"Content-Type: text/plain" + CRLF) + CRLF + b"Mac file:" + CRLF +
        binhex(b"eicar.com", E))
    # ---------------- E. filenames (banned attachments) ----------------
    mz = MZ_STUB

    def banned(file, trick, cls, headers):
        add(file, trick, cls, "banned", "reject",
            mixed(file[:-4], [text_part(), headers + b"Content-Transfer-Encoding: base64" + CRLF +
                              CRLF + b64(b"just some text, not a program\r\n")]))

    banned("fname-rfc2231-split.eml", "filename*0*=utf-8''invoice; filename*1=\".exe\"", 32,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename*0*=utf-8''invoice; filename*1=\".exe\"" +
           CRLF)
    banned("fname-rfc2231-out-of-order.eml",
           "RFC 2231 segments out of order, one segment missing (*0, *2)", 32,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename*2=\"exe\"; filename*0=\"setup.\"" + CRLF)
    banned("fname-rfc2047-b.eml", "filename=\"=?utf-8?B?...?=\" (RFC 2047 in a parameter)", 33,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"=?utf-8?B?" +
           base64.b64encode(b"invoice.scr") + b"?=\"" + CRLF)
    banned("fname-rfc2047-utf16.eml", "filename as a UTF-16 RFC 2047 encoded word", 33,
           b"Content-Type: application/octet-stream; name=\"=?utf-16le?B?" +
           base64.b64encode("update.js".encode("utf-16le")) + b"?=\"" + CRLF)
    banned("fname-name-filename-disagree.eml", "Content-Type name=a.txt, Disposition filename=a.exe",
           34, b"Content-Type: application/octet-stream; name=\"report.txt\"" + CRLF +
           b"Content-Disposition: attachment; filename=\"report.exe\"" + CRLF)
    banned("fname-duplicate-param.eml", "filename=a.txt; filename=a.exe", 34,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"notes.txt\"; filename=\"notes.exe\"" + CRLF)
    banned("fname-disposition-twice.eml", "two Content-Disposition fields, .txt then .scr", 34,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"photo.txt\"" + CRLF +
           b"Content-Disposition: attachment; filename=\"photo.scr\"" + CRLF)
    banned("fname-quote-semicolon.eml", "filename=file;.js and an unbalanced quote", 35,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"file;.js" + CRLF)
    banned("fname-bidi-override.eml", "U+202E right-to-left override: invoice<RLO>fdp.exe", 36,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe" + CRLF)
    banned("fname-double-ext-case-dot.eml", "double extension, upper case, trailing dot and space",
           37, b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"statement.pdf.EXE. \"" + CRLF)
    banned("fname-percent-nul.eml", "a.exe%00.pdf (percent-encoded NUL)", 38,
           b"Content-Type: application/octet-stream" + CRLF +
           b"Content-Disposition: attachment; filename=\"scan.exe%00.pdf\"" + CRLF)
    add("fname-mz-named-txt.eml", "an MZ/PE stub named readme.txt (true type != name)", 39,
        "banned", "reject",
        mixed("mz as txt", [text_part(), attachment_part(mz, name=b"readme.txt",
                                                         ctype=b"text/plain")]))
    add("fname-mz-no-name.eml", "an MZ/PE stub with no filename at all", 39, "banned", "reject",
        mixed("mz no name", [text_part(),
                             b"Content-Type: application/octet-stream" + CRLF +
                             b"Content-Transfer-Encoding: base64" + CRLF + CRLF + b64(mz)]))
    # ---------------- F. containers ----------------
    z = zip_bytes([("eicar.com", E)])
    for lvl in range(2):
        z = zip_bytes([("level%d.zip" % (lvl + 1), z)])
    add("zip-nested-3.eml", "EICAR in a zip in a zip in a zip", 42, "eicar", "reject",
        mixed("nested zip", [text_part(), attachment_part(z, name=b"archive.zip",
                                                          ctype=b"application/zip")]))
    z = zip_bytes([("eicar.com", E)])
    for lvl in range(24):
        z = zip_bytes([("r%02d.zip" % lvl, z)])
    add("zip-recursive-24.eml", "zip nested 25 deep (> max_archive_recursion 17), EICAR at the bottom",
        40, "eicar", "reject-or-quarantine",
        mixed("recursive zip", [text_part(), attachment_part(z, name=b"deep.zip",
                                                             ctype=b"application/zip")]))
    ratio = zip_bytes([("zeros.bin", b"\0" * (120 << 20)), ("eicar.com", E)], zipfile.ZIP_DEFLATED)
    add("zip-high-ratio.eml", "120 MiB of zeros deflated (~1000:1, > max_file_bytes) + EICAR", 40,
        "eicar", "reject-or-quarantine",
        mixed("ratio zip", [text_part(), attachment_part(ratio, name=b"zeros.zip",
                                                         ctype=b"application/zip")]))
    add("zip-overlapping.eml", "Fifield overlapping zip: 500 entries share one local file (EICAR)",
        40, "eicar", "reject-or-quarantine",
        mixed("overlap zip", [text_part(), attachment_part(overlapping_zip(500, E),
                                                           name=b"overlap.zip",
                                                           ctype=b"application/zip")]))
    # Unscannable (quarantine) at least; the member name eicar.com is in clear in the zip directory,
    # so the attachment policy may reject it outright, which is also safe.
    add("zip-encrypted.eml", "EICAR inside a ZipCrypto-encrypted zip (password in the body)", 41,
        "eicar", "reject-or-quarantine",
        mixed("encrypted zip", [text_part(b"The password is: infected"),
                                attachment_part(encrypted_zip(b"eicar.com", E), name=b"secret.zip",
                                                ctype=b"application/zip")]))
    inner_zip = zip_bytes([("readme.txt", b"hello\r\n"), ("setup.exe", mz)])
    add("zip-banned-member-nested.eml", "setup.exe (MZ) inside a zip inside a zip", 42, "banned",
        "reject",
        mixed("banned in zip", [text_part(),
                                attachment_part(zip_bytes([("inner.zip", inner_zip)]),
                                                name=b"docs.zip", ctype=b"application/zip")]))


def oracle_case(family, technique, position="last", seed=21):
    """One message of tests/oracle/gen_corpus.py (zipped EICAR behind one issue-21 technique):
    the same builders as the differential oracle, so the two corpora cannot drift apart."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "oracle"))
    import gen_corpus
    for fam, tech, kind, fn in gen_corpus.techniques():
        if (fam, tech) == (family, technique):
            data, _ = gen_corpus.build_message(fam, tech, kind, fn, position, "attachment",
                                               random.Random("%s/%s/%d" % (fam, tech, seed)))
            return data
    raise KeyError(family + "/" + technique)


def mailman_digest(posts, mime_fields=True):
    """A Mailman 2 style plain-text digest (RFC 1153 layout) of `posts` posts: benign.
    mime_fields: each post also keeps MIME-Version and Content-Transfer-Encoding (a site that adds
    them to PLAIN_DIGEST_KEEP_HEADERS); libclamav's mail parser then reads every post as a message
    nested in the one before (MaxRecursion at 17 posts, issue 21). Without them (Mailman 2's
    default keep list: Message, Date, From, Subject, To, Cc, Message-ID, Keywords, Content-Type)
    it does not."""
    mime = b"MIME-Version: 1.0" + CRLF if mime_fields else b""
    cte = b"Content-Transfer-Encoding: 7bit" + CRLF if mime_fields else b""
    sep = b"-" * 30
    body = b"Send Oracle-list mailing list submissions to" + CRLF + b"\toracle-list@example.org" + \
        CRLF + CRLF + b"Today's Topics:" + CRLF + CRLF
    for i in range(posts):
        body += b"   %d. Re: weekly sync notes, item %d (Member %d)" % (i + 1, i, i % 7) + CRLF
    body += CRLF + CRLF + b"-" * 70 + CRLF + CRLF
    for i in range(posts):
        body += (b"Message: %d" % (i + 1) + CRLF +
                 b"Date: Mon, 24 Nov 2025 %02d:%02d:00 +0000" % (i % 24, i % 60) + CRLF +
                 b"From: Member %d <member%d@example.org>" % (i % 7, i % 7) + CRLF +
                 b"Subject: Re: weekly sync notes, item %d" % i + CRLF +
                 b"To: oracle-list@example.org" + CRLF +
                 b"Message-ID: <post%d@example.org>" % i + CRLF + mime +
                 b"Content-Type: text/plain; charset=us-ascii" + CRLF + cte + CRLF +
                 b"> On Sunday someone wrote:" + CRLF + b"> what about item %d?" % i + CRLF + CRLF +
                 b"I think item %d is fine; see the minutes." % i + CRLF + CRLF + sep + CRLF + CRLF)
    body += b"_______________________________________________" + CRLF + \
        b"Oracle-list mailing list" + CRLF + b"oracle-list@example.org" + CRLF + CRLF + \
        b"End of Oracle-list Digest, Vol 12, Issue 3" + CRLF + b"*" * 42 + CRLF
    return (b"From: oracle-list-request@example.org" + CRLF + b"To: oracle-list@example.org" + CRLF +
            b"Subject: Oracle-list Digest, Vol 12, Issue 3" + CRLF +
            b"Date: Mon, 24 Nov 2025 10:00:00 +0000" + CRLF +
            b"Message-ID: <digest-12-3@example.org>" + CRLF + b"MIME-Version: 1.0" + CRLF +
            b"Content-Type: text/plain; charset=\"us-ascii\"" + CRLF +
            b"Content-Transfer-Encoding: 7bit" + CRLF + b"Precedence: list" + CRLF +
            b"List-Id: <oracle-list.example.org>" + CRLF + CRLF + body)


def build_issue21():
    """Issue 21 families the older cases lack (EICAR zipped, as in the oracle), two benign mails."""
    for file, fam, tech, cls, expect in [
            ("boundary-single-quoted.eml", "boundary", "quote-single", 16, "reject"),
            ("boundary-escaped-quote.eml", "boundary", "quote-escaped-inside", 16, "reject"),
            ("boundary-unterminated-quote.eml", "boundary", "quote-unterminated", 16, "reject"),
            ("boundary-comment-around-key.eml", "boundary", "comment-around-key", 16, "reject"),
            ("boundary-rfc2231-utf16.eml", "boundary", "rfc2231-utf16be", 17, "reject"),
            ("boundary-vt-ff-around-equals.eml", "boundary", "ws-vt-ff-around-equals", 16,
             "reject"),
            ("boundary-key-split-by-fold.eml", "boundary", "key-hidden-by-folding", 16, "reject"),
            ("boundary-ff-after-semicolon.eml", "boundary", "ws-ff-after-semicolon", 16,
             "reject"),
            ("boundary-outer-end-equals-inner.eml", "boundary", "outer-end-equals-inner", 18,
             "reject"),
            ("boundary-in-inner-headers.eml", "boundary", "delimiter-in-inner-headers", 21,
             "reject"),
            ("boundary-missing-param.eml", "boundary", "missing-boundary", 16, "reject"),
            ("boundary-six-params.eml", "alternates", "six-boundary-params-last", 13,
             "reject-or-quarantine"),
            ("content-type-six-multipart.eml", "alternates", "six-content-types-last", 14,
             "reject-or-quarantine"),
            ("content-type-rfc2047.eml", "ctype", "rfc2047-type-q", 20, "reject"),
            ("content-type-missing-subtype.eml", "ctype", "missing-subtype", 20, "reject"),
            ("cte-list-qp-64.eml", "cte", "cte-list-qp-64", 26, "reject"),
            ("cte-rfc2047.eml", "cte", "cte-rfc2047-q", 26, "reject"),
            ("cte-mac-binhex40.eml", "cte", "cte-mac-binhex40", 26, "reject"),
            ("cte-x-yencode.eml", "cte", "cte-x-yencode", 26, "reject"),
            ("cte-double-quoted.eml", "cte", "cte-double-quoted", 26, "reject"),
            ("qp-invalid-escape.eml", "cte", "qp-invalid-escape", 28, "reject"),
            ("header-vt-separator-line.eml", "headers", "vt-separator-line", 22, "reject"),
            ("header-whitespace-separator.eml", "headers", "whitespace-only-separator", 22,
             "reject"),
            ("boundary-bare-cr-delimiters.eml", "boundary", "bare-cr-before-delimiters", 31,
             "reject"),
            ("text-holds-entity-bounce.eml", "text", "entity-after-bounce-intro", 29, "reject"),
            ("cte-uuencode-raw-body.eml", "cte", "raw-under-x-uuencode", 26, "reject"),
            ("cte-binhex-raw-body.eml", "cte", "raw-under-mac-binhex40", 26, "reject"),
            ("cte-yencode-raw-body.eml", "cte", "raw-under-x-yencode", 26, "reject"),
            ("base64-undecodable-raw-body.eml", "cte", "base64-undecodable-raw", 26, "reject")]:
        add(file, "issue 21 oracle technique %s/%s (zipped EICAR, last part)" % (fam, tech), cls,
            "eicar", expect, oracle_case(fam, tech))
        CASES[-1]["zipped"] = True

    def banned(file, trick, cls, disposition):
        add(file, trick, cls, "banned", "reject",
            mixed(file[:-4], [text_part(), b"Content-Type: application/octet-stream" + CRLF +
                              b"Content-Disposition: attachment" + disposition + CRLF +
                              b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                              b64(b"just some text, not a program\r\n")]))

    banned("fname-rfc2231-zero-padded.eml", "filename*0000000=\"invoice.bat\" (7-digit segment)",
           32, b"; filename*0000000=\"invoice.bat\"")
    banned("fname-rfc2231-huge-segment.eml", "filename*0=\"invoice\"; filename*1000000=\".bat\"",
           32, b"; filename*0=\"invoice\"; filename*1000000=\".bat\"")
    banned("fname-rfc2231-utf16le.eml", "filename*=utf-16le''... (UTF-16 in RFC 2231)", 33,
           b"; filename*=utf-16le''" + b"".join(b"%%%02X" % c for c in
                                                 "invoice.exe".encode("utf-16-le")))
    banned("fname-comment-in-key.eml", "file(comment)name=\"invoice.exe\"", 23,
           b"; file(c)name=\"invoice.exe\"")
    banned("fname-filename-star-differs.eml", "filename=\"a.txt\"; filename*=utf-8''a.exe", 34,
           b"; filename=\"invoice.txt\"; filename*=utf-8''invoice.exe")
    banned("fname-rfc2231-charset-alias.eml", "filename*=utf_16_le''... (a charset name Python "
           "knows and iconv does not)", 33, b"; filename*=utf_16_le''" +
           b"".join(b"%%%02X" % c for c in "invoice.exe".encode("utf-16-le")))
    banned("fname-rfc2047-charset-alias.eml", "filename=\"=?unicodelittleunmarked?B?...?=\"", 33,
           b"; filename=\"=?unicodelittleunmarked?B?" +
           base64.b64encode("invoice.exe".encode("utf-16-le")) + b"?=\"")
    def zipped_banned(file, trick, cls, z):
        add(file, trick, cls, "banned", "reject",
            mixed(file[:-4], [text_part(), attachment_part(z, b"files.zip", b"application/zip")]))

    text = b"just some text, not a program\r\n"
    z = zip_bytes([("notes.txt", text)])
    cd = z.index(b"PK\x01\x02")
    name_end = cd + 46 + len(b"notes.txt")
    upath = b"setup.exe"
    extra = struct.pack("<HHB", 0x7075, 5 + len(upath), 1) + \
        struct.pack("<I", binascii.crc32(b"notes.txt")) + upath
    z = (z[:cd + 30] + struct.pack("<H", len(extra)) + z[cd + 32:name_end] + extra +
         z[name_end:])
    eocd = z.rindex(b"PK\x05\x06")
    cd_size = struct.unpack("<I", z[eocd + 12:eocd + 16])[0] + len(extra)
    z = z[:eocd + 12] + struct.pack("<I", cd_size) + z[eocd + 16:]
    zipped_banned("zip-unicode-path-central-only.eml", "zip member notes.txt whose Unicode Path "
                  "field (0x7075), in the central directory only, names setup.exe (unzip, 7-Zip)",
                  37, z)
    zipped_banned("zip-name-not-utf8.eml", "zip member named setup.e\\xffxe (Info-ZIP unzip "
                  "drops the byte: setup.exe)", 37,
                  zip_bytes([("setup.eZxe", text)]).replace(b"setup.eZxe", b"setup.e\xffxe"))
    add("fname-content-location.eml", "no name; Content-Location: file:///C:/tmp/invoice.exe "
        "(ripmime saves the part under it)", 34, "banned", "reject",
        mixed("content location", [text_part(), b"Content-Type: application/octet-stream" + CRLF +
                                   b"Content-Location: file:///C:/tmp/invoice.exe" + CRLF +
                                   b"Content-Transfer-Encoding: base64" + CRLF + CRLF +
                                   b64(b"just some text, not a program\r\n")]))
    zipped = zip_bytes([("eicar.com", EICAR)], zipfile.ZIP_DEFLATED)
    inner = (b"From: a@example.org" + CRLF + b"Subject: inner" + CRLF + b"MIME-Version: 1.0" +
             CRLF + b"Content-Type: multipart/mixed; boundary=\"in1\"" + CRLF + CRLF +
             multipart(b"in1", [text_part(),
                                attachment_part(zipped, b"report.zip", b"application/zip")]))
    add("rfc822-labelled-base64-not-encoded.eml", "message/rfc822 labelled base64 whose body is "
        "not encoded (readers that ignore the label parse it)", 2, "eicar", "reject",
        mixed("forwarded", [text_part(), b"Content-Type: message/rfc822" + CRLF +
                            b"Content-Transfer-Encoding: base64" + CRLF + CRLF + inner]))
    CASES[-1]["zipped"] = True
    add("external-body.eml", "message/external-body (content fetched by the reader): benign", 12,
        "none", "accept",
        mixed("external body", [text_part(b"The file is on the server."),
                                b"Content-Type: message/external-body; access-type=URL;" + CRLF +
                                b" URL=\"https://files.example.org/report.pdf\"" + CRLF + CRLF +
                                b"Content-Type: application/pdf" + CRLF +
                                b"Content-ID: <report@example.org>" + CRLF + CRLF]))
    add("mailman-digest-30.eml", "Mailman 2 plain-text digest, 30 posts keeping MIME-Version and "
        "CTE fields: benign", 20, "none", "accept", mailman_digest(30))
    add("mailman-digest-30-default-fields.eml", "Mailman 2 plain-text digest, 30 posts, default "
        "PLAIN_DIGEST_KEEP_HEADERS: benign", 20, "none", "accept", mailman_digest(30, False))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    build()
    build_issue21()
    manifest = []
    names = set()
    for c in CASES:
        assert c["file"] not in names, c["file"]
        names.add(c["file"])
        with open(os.path.join(out_dir, c["file"]), "wb") as f:
            f.write(c["data"])
        row = {k: c[k] for k in ("file", "trick", "hostile_class", "payload", "expect")}
        if c.get("zipped"):
            row["zipped"] = True  # EICAR inside a deflated zip: the MIME stage must reach the zip
        if c["pending"]:
            row["pending"] = True
        manifest.append(row)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(len(c["data"]) for c in CASES)
    print("%d cases, %d bytes" % (len(CASES), total))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# gen_corpus.py - the differential oracle's corpus: mutated MIME messages hiding one payload each.
# Invariant: deterministic for one --seed/--count; EICAR comes from make_evasion.py, never stored.
"""Generates MIME-ambiguity messages (issue 21) for tests/oracle/oracle.py.

Every message is one technique from one family x a payload position (first, last or nested part)
x a disposition (attachment or inline). The payload is:
  eicar families  - a deflated zip holding eicar.com (EICAR assembled in make_evasion.py);
  name families   - a benign zip (readme.txt) whose decoded name ends in .zip, judged with .zip on
                    the block list: the name is what has to be seen.
Output: DIR/NNNN-<family>-<technique>.eml and DIR/manifest.jsonl, one JSON row per message
(file, family, technique, params, position, disposition, marker, payload sha256s, hidden name).

Run: gen_corpus.py --seed N [--count M] --out DIR   (count 0 = every combination, >= 500;
     fewer = a seeded sample of the combinations; more = every combination again, new parameters)
"""
import argparse
import base64
import hashlib
import json
import os
import random
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                "evasion"))
# one encoder per format, one EICAR (assembled there from two halves), one zip writer
from make_evasion import EICAR, b64, binhex, uuencode, yencode, zip_bytes  # noqa: E402

BENIGN = b"avsink oracle benign attachment: nothing to see here\r\n"
CRLF = b"\r\n"
POSITIONS = ("first", "last", "nested")
# --mix (exploration) also puts the whole tricky message inside a forwarded message/rfc822 part,
# plain, (against RFC 2046, yet decoded by some readers) base64-encoded, or labelled base64 but not
# encoded (readers that ignore the label parse it as it is)
MIX_POSITIONS = ("rfc822", "rfc822-base64", "rfc822-labelled-base64")
DISPOSITIONS = ("attachment", "inline")


EICAR_ZIP = zip_bytes([("eicar.com", EICAR)], zipfile.ZIP_DEFLATED)
BENIGN_ZIP = zip_bytes([("readme.txt", BENIGN)], zipfile.ZIP_DEFLATED)


def qp(data, lower=False, width=73):
    """Quoted-printable: every byte outside printable ASCII (and '=') escaped; soft breaks."""
    out, line = [], b""
    for c in data:
        if 33 <= c <= 126 and c != 61:
            tok = bytes([c])
        else:
            tok = (b"=%02x" if lower else b"=%02X") % c
        if len(line) + len(tok) > width:
            out.append(line + b"=")
            line = b""
        line += tok
    out.append(line)
    return CRLF.join(out) + CRLF


class Ctx:
    """What one message is built from: its RNG, payload, boundary, names and text."""

    def __init__(self, rng, family_kind, disposition):
        self.rng = rng
        self.kind = family_kind
        self.disposition = disposition
        self.payload = BENIGN_ZIP if family_kind == "name" else EICAR_ZIP
        self.boundary = b"orc" + b"%08x" % rng.getrandbits(32)
        self.stem = rng.choice([b"invoice", b"report", b"scan", b"order", b"doc"]) + \
            b"%d" % rng.randrange(100, 999)
        self.name = self.stem + b".zip"

    def text(self):
        words = [b"hello", b"see", b"attached", b"regards", b"meeting", b"thanks", b"file"]
        return (b"Content-Type: text/plain; charset=us-ascii" + CRLF + CRLF +
                b" ".join(self.rng.choice(words) for _ in range(8)) + CRLF)

    def leaf(self, ct_params=None, cd_params=None, cte=b"base64", body=None, extra=b""):
        """The payload entity; params default to name="<name>" / filename="<name>"."""
        q = b'"' + self.name + b'"'
        ct_params = b'; name=' + q if ct_params is None else ct_params
        cd_params = b'; filename=' + q if cd_params is None else cd_params
        h = b"Content-Type: application/zip" + ct_params + CRLF
        h += b"Content-Disposition: " + self.disposition.encode() + cd_params + CRLF
        if cte is not None:
            h += b"Content-Transfer-Encoding: " + cte + CRLF
        return h + extra + CRLF + (b64(self.payload) if body is None else body)


def mp_body(b, children, close=True, eol=CRLF):
    out = b"This is a multi-part message in MIME format." + eol
    for c in children:
        out += eol + b"--" + b + eol + c
    if close:
        out += eol + b"--" + b + b"--" + eol
    return out


def entity(headers, body):
    return headers + CRLF + body


def top_headers(ctx, subject):
    return (b"From: Oracle <sender@example.org>" + CRLF + b"To: victim@example.net" + CRLF +
            b"Subject: " + subject + CRLF + b"Date: Mon, 24 Nov 2025 10:00:00 +0000" + CRLF +
            b"Message-ID: <%08x@oracle.example.org>" % ctx.rng.getrandbits(32) + CRLF +
            b"MIME-Version: 1.0" + CRLF)


# ---------------------------------------------------------------------------------------------
# Container techniques: fn(ctx, children) -> (container header lines, container body).
# `children` are whole entities (headers + blank line + body), the payload among them.
# ---------------------------------------------------------------------------------------------
def ct_mixed(b, rest=b""):
    return b'Content-Type: multipart/mixed; boundary="' + b + b'"' + rest + CRLF


def declared(param_text, used=None):
    """Container whose Content-Type parameters are `param_text`; the body splits on `used`."""
    def fn(ctx, children):
        B = ctx.boundary
        u = B if used is None else used(B)
        return (b"Content-Type: multipart/mixed" + param_text(B) + CRLF, mp_body(u, children))
    return fn


def ctype_field(field_text):
    def fn(ctx, children):
        return (field_text(ctx.boundary), mp_body(ctx.boundary, children))
    return fn


def pct(s):
    return b"".join(b"%%%02X" % c for c in s)


def utf16(s, enc):
    return s.decode("ascii").encode(enc)


def prefix_outer(ctx, children):
    B = ctx.boundary
    inner = B + b"_in"
    return (ct_mixed(B), mp_body(B, [ctx.text(), entity(ct_mixed(inner), mp_body(inner, children))]))


def prefix_inner(ctx, children):
    B = ctx.boundary
    outer = B + b"_out"
    return (ct_mixed(outer),
            mp_body(outer, [ctx.text(), entity(ct_mixed(B), mp_body(B, children))]))


def substring_inner(ctx, children):
    B = ctx.boundary
    outer = b"x" + B + b"x"
    return (ct_mixed(outer),
            mp_body(outer, [ctx.text(), entity(ct_mixed(B), mp_body(B, children))]))


def outer_end_is_inner(ctx, children):
    B = ctx.boundary
    inner = B + b"--"   # "--" + inner == the outer close delimiter "--B--"
    return (ct_mixed(B), mp_body(B, [ctx.text(), entity(ct_mixed(inner), mp_body(inner, children))]))


def delim_in_inner_headers(ctx, children):
    B = ctx.boundary
    decoy = (b"Content-Type: text/plain" + CRLF + b"X-Note: see below" + CRLF + b"--" + B + CRLF +
             CRLF + b"decoy" + CRLF)
    return (ct_mixed(B), mp_body(B, [decoy] + children))


def delim_in_folded_header(ctx, children):
    B = ctx.boundary
    decoy = (b"Content-Type: text/plain;" + CRLF + b" --" + B + CRLF + CRLF + b"decoy" + CRLF)
    return (ct_mixed(B), mp_body(B, [decoy] + children))


def delim_in_base64(ctx, children):
    """A delimiter-prefixed line inside a base64 body: prefix matchers split there."""
    B = ctx.boundary
    out = []
    for c in children:
        head, _, body = c.partition(CRLF + CRLF)
        lines = body.split(CRLF)
        if b"base64" in head and len(lines) > 3:
            lines.insert(len(lines) - 2, b"--" + B + b"x")  # in the zip's central directory
            c = head + CRLF + CRLF + CRLF.join(lines)
        out.append(c)
    return (ct_mixed(B), mp_body(B, out))


def delim_in_base64_real(ctx, children):
    """A real delimiter inside the decoy's base64 body, the payload after it."""
    B = ctx.boundary
    decoy = (b"Content-Type: application/octet-stream" + CRLF +
             b"Content-Transfer-Encoding: base64" + CRLF + CRLF + b64(b"decoy data " * 20))
    return (ct_mixed(B), mp_body(B, [decoy[:-2] + CRLF + b"--" + B + CRLF + children[0]] +
                                 children[1:]))


def bare_cr_delimiters(whole):
    """The container's delimiter lines end in bare CRs (whole: every line of its body does)."""
    def fn(ctx, children):
        body = mp_body(ctx.boundary, children)
        if whole:
            body = body.replace(CRLF, b"\r")
        else:
            body = body.replace(CRLF + b"--" + ctx.boundary, b"\r--" + ctx.boundary)
        return (b'Content-Type: multipart/mixed; boundary="' + ctx.boundary + b'"' + CRLF, body)
    return fn


def missing_boundary(ctx, children):
    return (b"Content-Type: multipart/mixed" + CRLF, mp_body(ctx.boundary, children))


def empty_boundary(ctx, children):
    return (b'Content-Type: multipart/mixed; boundary=""' + CRLF, mp_body(b"", children))


def space_boundary(ctx, children):
    return (b'Content-Type: multipart/mixed; boundary=" "' + CRLF, mp_body(b" ", children))


def n_boundaries(n, payload_under):
    def fn(ctx, children):
        bs = [ctx.boundary + b"b%d" % i for i in range(n)]
        params = b"".join(b'; boundary="' + b + b'"' for b in bs)
        body = b""
        for i, b in enumerate(bs):
            kids = children if i == payload_under else [ctx.text()]
            body += mp_body(b, kids)
        return (b"Content-Type: multipart/mixed" + params + CRLF, body)
    return fn


def n_content_types(n, payload_under, decoys=0):
    def fn(ctx, children):
        bs = [ctx.boundary + b"c%d" % i for i in range(n)]
        head = b"".join(ct_mixed(b) for b in bs)
        head += b"".join(b"Content-Type: text/plain; charset=x-decoy%d" % i + CRLF
                         for i in range(decoys))
        body = b""
        for i, b in enumerate(bs):
            body += mp_body(b, children if i == payload_under else [ctx.text()])
        return (head, body)
    return fn


CONTAINER = {
    "boundary": {
        "quote-single": declared(lambda B: b"; boundary='" + B + b"'"),
        "quote-single-used": declared(lambda B: b"; boundary='" + B + b"'",
                                      lambda B: b"'" + B + b"'"),
        "quote-escaped-inside": declared(lambda B: b'; boundary="' + B + b'\\"x"',
                                         lambda B: B + b'"x'),
        "quote-escaped-outside": declared(lambda B: b'; boundary=\\"' + B + b'\\"'),
        "quote-unterminated": declared(lambda B: b'; boundary="' + B),
        "quote-unterminated-next": declared(lambda B: b'; boundary="' + B + b"; charset=x"),
        "quote-mid-value": declared(lambda B: b"; boundary=" + B[:3] + b'"' + B[3:] + b'"',
                                    lambda B: B),
        "quote-mid-value-literal": declared(lambda B: b"; boundary=" + B[:3] + b'"' + B[3:] + b'"',
                                            lambda B: B[:3] + b'"' + B[3:] + b'"'),
        "backslash-escape": declared(lambda B: b'; boundary="' + B[:3] + b"\\" + B[3:] + b'"'),
        "backslash-escape-literal": declared(lambda B: b'; boundary="' + B[:3] + b"\\" + B[3:] +
                                             b'"', lambda B: B[:3] + b"\\" + B[3:]),
        "comment-around-key": declared(lambda B: b'; (c1) boundary (c2) = "' + B + b'"'),
        "comment-around-value": declared(lambda B: b'; boundary= (c1) "' + B + b'" (c2)'),
        "comment-in-unquoted-value": declared(lambda B: b"; boundary=" + B + b"(c1)"),
        "comment-in-unquoted-value-literal": declared(lambda B: b"; boundary=" + B + b"(c1)",
                                                      lambda B: B + b"(c1)"),
        "rfc2231-star": declared(lambda B: b"; boundary*=''" + B),
        "rfc2231-star-charset-lang": declared(lambda B: b"; boundary*=us-ascii'en'" + pct(B)),
        "rfc2231-segments": declared(lambda B: b'; boundary*0="' + B[:4] + b'"; boundary*1="' +
                                     B[4:] + b'"'),
        "rfc2231-segment0-only": declared(lambda B: b'; boundary*0="' + B + b'"'),
        "rfc2231-segments-encoded": declared(lambda B: b"; boundary*0*=''" + pct(B[:5]) +
                                             b'; boundary*1="' + B[5:] + b'"'),
        "rfc2231-utf16be": declared(lambda B: b"; boundary*=utf-16be''" + pct(utf16(B, "utf-16-be"))),
        "rfc2231-utf16le": declared(lambda B: b"; boundary*=utf-16le''" + pct(utf16(B, "utf-16-le"))),
        "ws-fold-around-equals": declared(lambda B: b";" + CRLF + b" boundary" + CRLF + b" =" + CRLF +
                                          b' "' + B + b'"'),
        "ws-vt-ff-around-equals": declared(lambda B: b"; boundary\x0b=\x0c\"" + B + b'"'),
        "ws-cr-before-key": declared(lambda B: b";\rboundary=\"" + B + b'"'),
        "ws-vt-before-semicolon": declared(lambda B: b'\x0b; \x0cboundary="' + B + b'"'),
        "ws-cr-around-equals": declared(lambda B: b'; boundary\r=\r"' + B + b'"'),
        "ws-ff-after-semicolon": declared(lambda B: b';\x0cboundary="' + B + b'"'),
        "quoted-trailing-space": declared(lambda B: b'; boundary="' + B + b' "'),
        "duplicate-key-last": declared(lambda B: b'; boundary="decoy' + B + b'"; boundary="' + B +
                                       b'"'),
        "duplicate-key-first": declared(lambda B: b'; boundary="' + B + b'"; boundary="decoy' + B +
                                        b'"'),
        "duplicate-key-case": declared(lambda B: b'; BOUNDARY="decoy' + B + b'"; boundary="' + B +
                                       b'"'),
        "key-hidden-by-folding": declared(lambda B: b"; bound" + CRLF + b' ary="' + B + b'"'),
        "key-hidden-by-junk-prefix": declared(lambda B: b'; xboundary="decoy"; boundary ="' + B +
                                              b'"'),
        "key-after-empty-params": declared(lambda B: b'; ; ;boundary="' + B + b'"'),
        "key-inside-quoted-param": declared(lambda B: b'; charset="a; boundary=' + B + b'"'),
        "key-inside-quoted-param-real-decoy": declared(lambda B: b'; charset="a; boundary=' + B +
                                                       b'"; boundary="decoy' + B + b'"'),
        "semicolon-in-quoted": declared(lambda B: b'; boundary="' + B + b';x"',
                                        lambda B: B + b";x"),
        "semicolon-in-quoted-prefix": declared(lambda B: b'; boundary="' + B + b';x"'),
        "prefix-outer-of-inner": prefix_outer,
        "prefix-inner-of-outer": prefix_inner,
        "substring-inner-of-outer": substring_inner,
        "outer-end-equals-inner": outer_end_is_inner,
        "delimiter-in-inner-headers": delim_in_inner_headers,
        "delimiter-in-folded-header": delim_in_folded_header,
        "delimiter-prefix-in-base64": delim_in_base64,
        "delimiter-in-decoy-base64": delim_in_base64_real,
        "missing-boundary": missing_boundary,
        "bare-cr-before-delimiters": bare_cr_delimiters(False),
        "bare-cr-body": bare_cr_delimiters(True),
        "empty-boundary": empty_boundary,
        "space-only-boundary": space_boundary,
    },
    "ctype": {
        "quoted-type": ctype_field(lambda B: b'Content-Type: "multipart/mixed"; boundary="' + B +
                                   b'"' + CRLF),
        "rfc2047-type-q": ctype_field(lambda B: b"Content-Type: =?us-ascii?Q?multipart/mixed?=;"
                                      b' boundary="' + B + b'"' + CRLF),
        "rfc2047-type-b": ctype_field(lambda B: b"Content-Type: =?utf-8?B?" +
                                      base64.b64encode(b"multipart/mixed") + b'?=; boundary="' +
                                      B + b'"' + CRLF),
        "near-miss-x-multipart": ctype_field(lambda B: b'Content-Type: x-multipart/mixed; boundary="'
                                             + B + b'"' + CRLF),
        "near-miss-multi": ctype_field(lambda B: b'Content-Type: multi/mixed; boundary="' + B + b'"' +
                                       CRLF),
        "near-miss-ulti": ctype_field(lambda B: b'Content-Type: mmultipart/mixed; boundary="' + B +
                                      b'"' + CRLF),
        "near-miss-suffix": ctype_field(lambda B: b'Content-Type: multipartx/mixed; boundary="' + B +
                                        b'"' + CRLF),
        "missing-subtype": ctype_field(lambda B: b'Content-Type: multipart; boundary="' + B + b'"' +
                                       CRLF),
        "empty-subtype": ctype_field(lambda B: b'Content-Type: multipart/; boundary="' + B + b'"' +
                                     CRLF),
        "space-in-type": ctype_field(lambda B: b'Content-Type: multipart / mixed; boundary="' + B +
                                     b'"' + CRLF),
        "comment-in-type": ctype_field(lambda B: b'Content-Type: multipart(c)/mixed; boundary="' +
                                       B + b'"' + CRLF),
        "type-twice-text-first": ctype_field(lambda B: b"Content-Type: text/plain" + CRLF +
                                             ct_mixed(B)),
        "type-twice-text-last": ctype_field(lambda B: ct_mixed(B) + b"Content-Type: text/plain" +
                                            CRLF),
        "type-twice-one-field": ctype_field(lambda B: b'Content-Type: text/plain; multipart/mixed;'
                                            b' boundary="' + B + b'"' + CRLF),
    },
    "alternates": {
        "six-boundary-params-last": n_boundaries(6, 5),
        "six-boundary-params-middle": n_boundaries(6, 3),
        "six-content-types-last": n_content_types(6, 5),
        "six-content-types-first": n_content_types(6, 0),
        "two-boundaries-four-decoy-types": n_content_types(2, 1, decoys=4),
    },
}


# ---------------------------------------------------------------------------------------------
# Leaf techniques: fn(ctx) -> the payload entity (headers + blank line + body).
# ---------------------------------------------------------------------------------------------
def b64_junk(chars, every):
    def fn(ctx):
        s = b64(ctx.payload).replace(CRLF, b"\n")
        out = bytearray()
        for i, c in enumerate(s):
            out.append(c)
            if i % every == every - 1 and c != 10:
                out += ctx.rng.choice(chars).encode()
        return ctx.leaf(body=bytes(out).replace(b"\n", CRLF))
    return fn


def b64_pad_mid(chunk):
    def fn(ctx):
        p = ctx.payload
        body = b"".join(base64.b64encode(p[i:i + chunk]) + CRLF for i in range(0, len(p), chunk))
        return ctx.leaf(body=body)
    return fn


def b64_pad_mid_one_line(ctx):
    p = ctx.payload
    s = b"".join(base64.b64encode(p[i:i + 32]) for i in range(0, len(p), 32))
    return ctx.leaf(body=CRLF.join(s[i:i + 76] for i in range(0, len(s), 76)) + CRLF)


def b64_widths(widths):
    def fn(ctx):
        s = base64.b64encode(ctx.payload)
        out, i, k = [], 0, 0
        while i < len(s):
            w = widths[k % len(widths)]
            out.append(s[i:i + w])
            i, k = i + w, k + 1
        return ctx.leaf(body=CRLF.join(out) + CRLF)
    return fn


def b64_insert(line_text, at=3):
    def fn(ctx):
        lines = b64(ctx.payload).split(CRLF)
        lines.insert(at if at >= 0 else len(lines) + at, line_text)
        return ctx.leaf(body=CRLF.join(lines))
    return fn


def cte_value(value):
    return lambda ctx: ctx.leaf(cte=value)


def cte_twice(first, second, body="b64"):
    def fn(ctx):
        body_bytes = b64(ctx.payload) if body == "b64" else qp(ctx.payload)
        return ctx.leaf(cte=first, extra=b"Content-Transfer-Encoding: " + second + CRLF,
                        body=body_bytes)
    return fn


def qp_variant(kind):
    def fn(ctx):
        if kind == "lowercase":
            body = qp(ctx.payload, lower=True)
        elif kind == "invalid-escape-kept":
            body = qp(ctx.payload).replace(CRLF, b"=" + CRLF, 0)
            body = b"=ZZ=" + CRLF + body   # an invalid escape before the data, then a soft break
        elif kind == "soft-break-trailing-ws":
            body = qp(ctx.payload).replace(b"=" + CRLF, b"= \t" + CRLF)
        elif kind == "partial-escape-split":
            # every escape cut by a soft break: "=4" "=" CRLF "B"
            body = qp(ctx.payload, width=10 ** 9)[:-2]
            out, i = bytearray(), 0
            while i < len(body):
                if body[i] == 61 and i + 2 < len(body) + 1:
                    out += body[i:i + 2] + b"=" + CRLF + body[i + 2:i + 3]
                    i += 3
                else:
                    out.append(body[i])
                    i += 1
            body = bytes(out) + CRLF
        elif kind == "partial-escape-line-end":
            body = qp(ctx.payload)
            body = body.replace(b"=" + CRLF, b"=" + CRLF, 1) + b"=4" + CRLF
        else:
            raise ValueError(kind)
        return ctx.leaf(cte=b"quoted-printable", body=body)
    return fn


def blob_cte(cte, encoder):
    def fn(ctx):
        return ctx.leaf(cte=cte, body=encoder(ctx.name, ctx.payload))
    return fn


def uu_body(name, data):
    return uuencode(name, data)


def yenc_body(name, data):
    return yencode(name, data)


def binhex_body(name, data):
    return binhex(name, data)


def raw_body(name, data):
    """The payload not encoded at all, under an encoding that then cannot decode it."""
    return data + CRLF


def b64_undecodable(name, data):
    """Raw payload labelled base64, with alphabet characters added so that their count is one
    more than a multiple of 4: no base64 reading decodes it whole (Python keeps the raw lines)."""
    n = sum(1 for c in data if chr(c).isalnum() or c in b"+/")
    return data + CRLF + b"A" * ((1 - n) % 4 or 4) + CRLF


def header_block(kind):
    def fn(ctx):
        e = ctx.leaf()
        head, _, body = e.partition(CRLF + CRLF)
        head += CRLF
        if kind == "no-blank-line-body-base64":
            return head + body
        if kind == "body-starts-like-header":
            return head + CRLF + b"X-Attachment-Id: f_" + b"%08x" % ctx.rng.getrandbits(32) + \
                CRLF + CRLF + body
        if kind == "vt-separator-line":
            return head + b"\x0b" + CRLF + body
        if kind == "cr-separator-line":
            return head + b"\r" + CRLF + body
        if kind == "bare-cr-separator":
            return head + b"\r" + body
        if kind == "whitespace-only-separator":
            return head + b" " + CRLF + body
        if kind == "tab-only-separator":
            return head + b"\t" + CRLF + body
        if kind == "junk-continuation-first":
            return b" junk continuation" + CRLF + head + CRLF + body
        if kind == "junk-continuation-after-cte":
            return head + b"\tjunk: continuation" + CRLF + CRLF + body
        if kind == "junk-line-in-headers":
            lines = head.split(CRLF)
            lines.insert(1, b"this line is not a header")
            return CRLF.join(lines) + CRLF + body
        raise ValueError(kind)
    return fn


LEAF = {
    "cte": {
        "base64-junk-punct": b64_junk("#!*.%", 7),
        "base64-junk-dense": b64_junk("-_:;~", 2),
        "base64-junk-space-vt": b64_junk(" \t\x0b\x0c", 5),
        "base64-pad-mid-stream-57": b64_pad_mid(57),
        "base64-pad-mid-stream-31": b64_pad_mid(31),
        "base64-pad-mid-one-line": b64_pad_mid_one_line,
        "base64-lines-not-mult-4": b64_widths([75, 73, 77, 61]),
        "base64-lines-1-2-3": b64_widths([1, 2, 3, 5, 7]),
        "base64-header-in-body": b64_insert(b"X-Junk: inserted header line", at=-2),
        "base64-blank-line-in-body": b64_insert(b""),
        "base64-blank-line-early": b64_insert(b"", at=1),
        "cte-comment-after": cte_value(b"base64 (encoded)"),
        "cte-comment-before": cte_value(b"(encoded) base64"),
        "cte-comment-inside": cte_value(b"base(x)64"),
        "cte-double-quoted": cte_value(b'"base64"'),
        "cte-single-quoted": cte_value(b"'base64'"),
        "cte-rfc2047-q": cte_value(b"=?us-ascii?Q?base64?="),
        "cte-rfc2047-b": cte_value(b"=?utf-8?B?" + base64.b64encode(b"base64") + b"?="),
        "cte-leading-trailing-ws": cte_value(b"\t base64 \x0b"),
        "cte-uppercase": cte_value(b"BASE64"),
        "cte-list-qp-64": cte_value(b"qp,64"),
        "cte-list-7bit-base64": cte_value(b"7bit, base64"),
        "cte-list-base64-7bit": cte_value(b"base64, 7bit"),
        "cte-list-semicolon": cte_value(b"7bit; base64"),
        "cte-twice-7bit-base64": cte_twice(b"7bit", b"base64"),
        "cte-twice-base64-7bit": cte_twice(b"base64", b"7bit"),
        "cte-twice-qp-base64": cte_twice(b"quoted-printable", b"base64"),
        "cte-twice-base64-qp-body-qp": cte_twice(b"base64", b"quoted-printable", body="qp"),
        "qp-lowercase-hex": qp_variant("lowercase"),
        "qp-invalid-escape": qp_variant("invalid-escape-kept"),
        "qp-soft-break-trailing-ws": qp_variant("soft-break-trailing-ws"),
        "qp-partial-escape-split": qp_variant("partial-escape-split"),
        "qp-partial-escape-line-end": qp_variant("partial-escape-line-end"),
        "cte-binhex40": blob_cte(b"binhex4.0", binhex_body),
        "cte-mac-binhex40": blob_cte(b"mac-binhex40", binhex_body),
        "cte-x-binhex40": blob_cte(b"x-binhex40", binhex_body),
        "cte-x-yencode": blob_cte(b"x-yencode", yenc_body),
        "cte-yenc": blob_cte(b"yenc", yenc_body),
        "cte-x-uuencode": blob_cte(b"x-uuencode", uu_body),
        "cte-x-uue": blob_cte(b"x-uue", uu_body),
        "raw-under-x-uuencode": blob_cte(b"x-uuencode", raw_body),
        "raw-under-mac-binhex40": blob_cte(b"mac-binhex40", raw_body),
        "raw-under-x-yencode": blob_cte(b"x-yencode", raw_body),
        "base64-undecodable-raw": blob_cte(b"base64", b64_undecodable),
    },
    "headers": {k: header_block(k) for k in (
        "no-blank-line-body-base64", "body-starts-like-header", "vt-separator-line",
        "cr-separator-line", "bare-cr-separator", "whitespace-only-separator",
        "tab-only-separator", "junk-continuation-first", "junk-continuation-after-cte",
        "junk-line-in-headers")},
    "text": {
        # the payload entity quoted whole in the body of a text part, as ripmime, munpack and
        # uudeview extract it: alone, after a bounce's introduction, or as an html part's body
        "entity-in-text-part": lambda ctx: b"Content-Type: text/plain" + CRLF + CRLF + ctx.leaf(),
        "entity-after-bounce-intro": lambda ctx: (
            b"Content-Type: text/plain" + CRLF + CRLF + b"Hi. This is the mail delivery program."
            + CRLF + b"--- Below this line is a copy of the message." + CRLF + CRLF + ctx.leaf()),
        "entity-in-html-part": lambda ctx: b"Content-Type: text/html" + CRLF + CRLF + ctx.leaf(),
    },
}


def name_leaf(ct_params, cd_params):
    """A name family technique: fn(ctx) with params built from the stem (ctx.stem)."""
    def fn(ctx):
        return ctx.leaf(ct_params=ct_params(ctx.stem), cd_params=cd_params(ctx.stem))
    return fn


def seg_params(key, segments):
    return b"".join(b"; " + key + b"*" + n + b'="' + v + b'"' for n, v in segments)


NAMES = {
    "rfc2231-out-of-order": name_leaf(
        lambda s: b"", lambda s: seg_params(b"filename", [(b"1", b".zip"), (b"0", s)])),
    "rfc2231-out-of-order-name": name_leaf(
        lambda s: seg_params(b"name", [(b"1", b".zip"), (b"0", s)]), lambda s: b""),
    "rfc2231-split-by-newline": name_leaf(
        lambda s: b"", lambda s: b'; filename*0="' + s + b'";' + CRLF + b'\tfilename*1=".zip"'),
    "rfc2231-split-no-semicolon": name_leaf(
        lambda s: b"", lambda s: b'; filename*0="' + s + b'"' + CRLF + b' filename*1=".zip"'),
    "quoted-split-by-fold": name_leaf(
        lambda s: b"", lambda s: b'; filename="' + s + CRLF + b' .zip"'),
    "rfc2231-zero-padded": name_leaf(
        lambda s: b"", lambda s: b'; filename*0000000="' + s + b'.zip"'),
    "rfc2231-huge-segment": name_leaf(
        lambda s: b"", lambda s: seg_params(b"filename", [(b"0", s), (b"1000000", b".zip")])),
    "rfc2231-huge-segment-name": name_leaf(
        lambda s: seg_params(b"name", [(b"1234567", s + b".zip")]), lambda s: b""),
    "rfc2231-gap": name_leaf(
        lambda s: b"", lambda s: seg_params(b"filename", [(b"0", s), (b"2", b".zip")])),
    "rfc2231-utf16le": name_leaf(
        lambda s: b"", lambda s: b"; filename*=utf-16le''" + pct(utf16(s + b".zip", "utf-16-le"))),
    "rfc2231-utf16be": name_leaf(
        lambda s: b"", lambda s: b"; filename*=utf-16be''" + pct(utf16(s + b".zip", "utf-16-be"))),
    "rfc2231-utf16-bom": name_leaf(
        lambda s: b"", lambda s: b"; filename*=utf-16''" + pct(utf16(s + b".zip", "utf-16"))),
    "rfc2047-utf16le-b": name_leaf(
        lambda s: b'; name="=?utf-16le?B?' + base64.b64encode(utf16(s + b".zip", "utf-16-le")) +
        b'?="', lambda s: b""),
    "rfc2047-utf16be-b": name_leaf(
        lambda s: b"", lambda s: b'; filename="=?utf-16be?B?' +
        base64.b64encode(utf16(s + b".zip", "utf-16-be")) + b'?="'),
    "rfc2047-utf16-q": name_leaf(
        lambda s: b"", lambda s: b'; filename="=?utf-16?Q?' +
        b"".join(b"=%02X" % c for c in utf16(s + b".zip", "utf-16")) + b'?="'),
    "comment-in-key": name_leaf(lambda s: b"", lambda s: b'; file(c)name="' + s + b'.zip"'),
    "comment-after-key": name_leaf(lambda s: b"", lambda s: b'; filename(c)="' + s + b'.zip"'),
    "comment-before-key": name_leaf(lambda s: b"", lambda s: b'; (c)filename="' + s + b'.zip"'),
    "semicolon-in-unquoted": name_leaf(lambda s: b"", lambda s: b"; filename=" + s + b";.zip"),
    "space-in-unquoted": name_leaf(lambda s: b"", lambda s: b"; filename=" + s + b" .zip"),
    "spaces-in-unquoted-name": name_leaf(lambda s: b"; name=my " + s + b".zip", lambda s: b""),
    "name-and-filename-star-differ": name_leaf(
        lambda s: b'; name="' + s + b'.txt"', lambda s: b"; filename*=utf-8''" + s + b".zip"),
    "filename-and-filename-star-differ": name_leaf(
        lambda s: b"", lambda s: b'; filename="' + s + b'.txt"; filename*=utf-8\'\'' + s +
        b".zip"),
    "filename-star-first-differ": name_leaf(
        lambda s: b"", lambda s: b"; filename*=utf-8''" + s + b'.zip; filename="' + s + b'.txt"'),
    "name-zip-filename-txt": name_leaf(
        lambda s: b'; name="' + s + b'.zip"', lambda s: b'; filename="' + s + b'.txt"'),
}


def techniques():
    """(family, technique, kind, fn), kind: container | leaf | name; in a fixed order."""
    out = []
    for fam, table in CONTAINER.items():
        out += [(fam, t, "container", fn) for t, fn in table.items()]
    for fam, table in LEAF.items():
        out += [(fam, t, "leaf", fn) for t, fn in table.items()]
    out += [("names", t, "name", fn) for t, fn in NAMES.items()]
    return out


def build_message(family, technique, kind, fn, position, disposition, rng, leaf_fn=None):
    """The message bytes and its Ctx (boundary, name). leaf_fn: a leaf technique that builds the
    payload part under a container technique (two tricks in one message)."""
    ctx = Ctx(rng, "name" if kind == "name" else "eicar", disposition)
    return _build(ctx, family, technique, kind, fn, position, rng, leaf_fn), ctx


def _build(ctx, family, technique, kind, fn, position, rng, leaf_fn):
    if position.startswith("rfc822"):
        inner = _build(ctx, family, technique, kind, fn, "last", rng, leaf_fn)
        head = b"Content-Type: message/rfc822" + CRLF
        if position in ("rfc822-base64", "rfc822-labelled-base64"):
            head += b"Content-Transfer-Encoding: base64" + CRLF
        if position == "rfc822-base64":
            inner = b64(inner)
        outer = b"orcfwd" + b"%06x" % rng.getrandbits(24)
        return (top_headers(ctx, b"Fwd: oracle " + family.encode()) + ct_mixed(outer) + CRLF +
                mp_body(outer, [ctx.text(), head + CRLF + inner]))
    subject = b"oracle " + family.encode() + b" " + technique.encode()
    top = top_headers(ctx, subject)
    if kind == "container":
        payload = leaf_fn(ctx) if leaf_fn else ctx.leaf()
        kids = [payload, ctx.text()] if position == "first" else [ctx.text(), payload]
        if position == "nested":
            head, body = fn(ctx, kids)
            outer = b"orcouter" + b"%06x" % rng.getrandbits(24)
            return top + ct_mixed(outer) + CRLF + mp_body(outer, [ctx.text(), head + CRLF + body])
        head, body = fn(ctx, kids)
        return top + head + CRLF + body
    leaf = fn(ctx)
    B = ctx.boundary
    if position == "first":
        return top + ct_mixed(B) + CRLF + mp_body(B, [leaf, ctx.text()])
    if position == "last":
        return top + ct_mixed(B) + CRLF + mp_body(B, [ctx.text(), leaf])
    inner = B + b"n"
    return top + ct_mixed(B) + CRLF + mp_body(B, [ctx.text(), entity(ct_mixed(inner),
                                                                      mp_body(inner, [leaf]))])


def combinations(positions=POSITIONS):
    return [(f, t, k, fn, p, d) for (f, t, k, fn) in techniques() for p in positions
            for d in DISPOSITIONS]


def generate(seed, count, out_dir, mix=False):
    """Writes the messages and manifest.jsonl; returns the rows. mix: every container technique
    also gets a random leaf technique (cte, headers) for its payload part ("mixed_with"), and
    the positions include MIX_POSITIONS (inside a forwarded message)."""
    combos = combinations(POSITIONS + MIX_POSITIONS if mix else POSITIONS)
    leaf_techs = [(f, t, fn) for (f, t, k, fn) in techniques() if k == "leaf"]
    count = count or len(combos)
    # fewer messages than combinations: a seeded sample of them (exploration runs); more: every
    # combination again with fresh random parameters
    if count < len(combos):
        order = sorted(random.Random(seed).sample(range(len(combos)), count))
    else:
        order = [i % len(combos) for i in range(count)]
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for i, c in enumerate(order):
        fam, tech, kind, fn, pos, disp = combos[c]
        rng = random.Random("%d:%d" % (seed, i))
        mixed = rng.choice(leaf_techs) if mix and kind == "container" else None
        data, ctx = build_message(fam, tech, kind, fn, pos, disp, rng,
                                  mixed[2] if mixed else None)
        fname = "%04d-%s-%s.eml" % (i, fam, tech)
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(data)
        payload = BENIGN_ZIP if kind == "name" else EICAR_ZIP
        rows.append({
            "file": fname, "family": fam, "technique": tech, "position": pos,
            "disposition": disp, "params": {"seed": seed, "index": i, "round": i // len(combos),
                                       "boundary": ctx.boundary.decode(),
                                       "name": ctx.name.decode()},
            "marker": "benign" if kind == "name" else "eicar",
            "mixed_with": "%s/%s" % mixed[:2] if mixed else "",
            "payload_sha256": {"zip": hashlib.sha256(payload).hexdigest(),
                               ("benign" if kind == "name" else "eicar"):
                               hashlib.sha256(BENIGN if kind == "name" else EICAR).hexdigest()},
        })
    with open(os.path.join(out_dir, "manifest.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--count", type=int, default=0, help="messages (0 = every combination)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mix", action="store_true", help="container tricks get a leaf trick too")
    a = ap.parse_args()
    rows = generate(a.seed, a.count, a.out, a.mix)
    assert a.count or len(rows) >= 500, "the families shrank below 500 combinations"
    positions = POSITIONS + MIX_POSITIONS if a.mix else POSITIONS
    print("%d messages (%d combinations) in %s" % (len(rows), len(combinations(positions)), a.out))


if __name__ == "__main__":
    main()

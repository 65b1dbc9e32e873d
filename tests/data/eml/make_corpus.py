#!/usr/bin/env python3
# make_corpus.py - writes the MIME test corpus (tests/data/eml/*.eml) reproducibly.
# Every message is small (< 50 KB) and deterministic; EICAR only in files named eicar-*.
"""Regenerate with:  python3 tests/data/eml/make_corpus.py [OUTDIR]

Each message is named after what it exercises. The C++ corpus test compares avsink's MIME tree
with Python's email package (tests/data/mime_reference.py) for every file here.
"""
import base64
import io
import os
import quopri
import sys
import zipfile

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def eicar():
    # Two halves, joined at generation time, so this script is not itself a "virus".
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


def fake_bytes(tag, n):
    """Deterministic pseudo-random bytes (an LCG), so attachments look binary."""
    out = bytearray()
    x = sum(tag.encode()) or 1
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def odd_lines(s):
    """Splits base64 text into lines of irregular (but complete) lengths: 13, 17, 21, ... chars."""
    lines, pos, k = [], 0, 0
    while pos < len(s):
        width = 13 + (k % 7) * 4
        lines.append(s[pos:pos + width])
        pos += width
        k += 1
    return "\r\n".join(lines)


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def uuencode(data, name):
    """Classic uuencode: "begin 644 NAME", 45-byte lines, "`" and "end"."""
    lines = ["begin 644 " + name]
    for i in range(0, len(data), 45):
        chunk = data[i:i + 45]
        padded = chunk + b"\0" * (-len(chunk) % 3)
        enc = chr(32 + len(chunk))
        for j in range(0, len(padded), 3):
            v = padded[j] << 16 | padded[j + 1] << 8 | padded[j + 2]
            for shift in (18, 12, 6, 0):
                x = (v >> shift) & 63
                enc += chr(32 + x) if x else "`"
        lines.append(enc)
    lines += ["`", "end"]
    return "\n".join(lines)


PNG = b"\x89PNG\r\n\x1a\n" + fake_bytes("png", 600)
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + fake_bytes("jpg", 900)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + fake_bytes("pdf", 1500) + b"\n%%EOF\n"
DOCX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"[Content_Types].xml" + fake_bytes("docx", 1800)
ZIPB = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + fake_bytes("zip", 700)
TNEF = b"\x78\x9f\x3e\x22" + fake_bytes("tnef", 400)
GIF = b"GIF89a" + fake_bytes("gif", 200)

HDR = """From: Alice Example <alice@example.org>
To: Bob Example <bob@example.net>
Date: Tue, 04 Mar 2025 10:15:00 +0100
Message-ID: <{mid}@example.org>
MIME-Version: 1.0
"""

messages = {}


def add(name, text, binary=False, lf=False):
    data = text if binary else (text.replace("\r\n", "\n") if lf else crlf(text)).encode("utf-8")
    assert len(data) < 50 * 1024, name
    messages[name] = data


def hdr(mid, subject):
    return HDR.format(mid=mid) + "Subject: " + subject + "\n"


# ---- simple shapes ----
add("plain-text-ascii.eml", hdr("p1", "Lunch on Friday?") + """Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hi Bob,

Are we still on for lunch on Friday? The usual place at noon.

Alice
""")

add("plain-text-lf-only.eml", hdr("p2", "Line ends are LF only") + """Content-Type: text/plain; charset=utf-8

This message was written by a Unix tool and never converted to CRLF.
Second line.
""", lf=True)

add("no-mime-headers-at-all.eml", """From: old@example.org
To: bob@example.net
Subject: pre-MIME mail

Just text, no MIME-Version, no Content-Type: defaults apply.
""")

add("html-only-message.eml", hdr("p3", "Newsletter March") + """Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<html><body><h1>Newsletter</h1><p>Caf=C3=A9 opening hours changed =E2=80=93 see =
<a href=3D"https://example.org/hours">the new hours</a>.</p></body></html>
""")

add("mbox-from-line.eml", "From alice@example.org Tue Mar  4 10:15:00 2025\n" + hdr("p4", "mbox export") + """Content-Type: text/plain

Exported from an mbox file; the first line is the envelope From_ line.
""")

# ---- alternative / related ----
add("alternative-text-html-thunderbird.eml", hdr("a1", "Meeting notes") + """User-Agent: Mozilla Thunderbird
Content-Type: multipart/alternative;
 boundary="------------0ZJ8nK2vQ6RM1lWw3cXzTfJq"
Content-Language: en-US

This is a multi-part message in MIME format.
--------------0ZJ8nK2vQ6RM1lWw3cXzTfJq
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Notes from today's meeting are below.

- budget approved
- next meeting in two weeks

--------------0ZJ8nK2vQ6RM1lWw3cXzTfJq
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 7bit

<html>
  <body>
    <p>Notes from today's meeting are below.</p>
    <ul><li>budget approved</li><li>next meeting in two weeks</li></ul>
  </body>
</html>

--------------0ZJ8nK2vQ6RM1lWw3cXzTfJq--
""")

add("alternative-outlook-qp-windows1252.eml", hdr("a2", "=?Windows-1252?Q?Angebot_f=FCr_M=E4rz?=") + """Thread-Topic: Angebot
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Language: de-DE
Content-Type: multipart/alternative;
	boundary="_000_DB9PR01MB1234567890ABCDEFDB9PR01MB12345_"

--_000_DB9PR01MB1234567890ABCDEFDB9PR01MB12345_
Content-Type: text/plain; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

Sehr geehrte Damen und Herren,

anbei unser Angebot f=FCr M=E4rz. Die Preise verstehen sich zzgl. MwSt. und =
gelten bis zum 31.03.

Mit freundlichen Gr=FC=DFen

--_000_DB9PR01MB1234567890ABCDEFDB9PR01MB12345_
Content-Type: text/html; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

<html xmlns:o=3D"urn:schemas-microsoft-com:office:office">
<head><meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3DWindows-=
1252"></head>
<body lang=3D"DE"><p class=3D"MsoNormal">anbei unser Angebot f=FCr M=E4rz.</p=
></body></html>

--_000_DB9PR01MB1234567890ABCDEFDB9PR01MB12345_--
""")

add("related-html-inline-images.eml", hdr("r1", "Photos from the trip") + """Content-Type: multipart/related; boundary="rel-boundary-7f3a"; type="text/html"

--rel-boundary-7f3a
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body><p>Look:</p><img src="cid:img1@example.org"><img src="cid:img2@example.org"></body></html>

--rel-boundary-7f3a
Content-Type: image/png; name="beach.png"
Content-Transfer-Encoding: base64
Content-ID: <img1@example.org>
Content-Disposition: inline; filename="beach.png"

""" + b64(PNG) + """

--rel-boundary-7f3a
Content-Type: image/jpeg
Content-Transfer-Encoding: base64
Content-ID: <img2@example.org>

""" + b64(JPG) + """
--rel-boundary-7f3a--
""")

add("apple-mail-mixed-alternative-pdf.eml", hdr("ap1", "Contract draft") + """Content-Type: multipart/mixed;
	boundary="Apple-Mail=_6C2B1E2A-4F1D-4A47-9E6B-2E2C6E1B0A11"
X-Mailer: Apple Mail (2.3774.400.31)

--Apple-Mail=_6C2B1E2A-4F1D-4A47-9E6B-2E2C6E1B0A11
Content-Type: multipart/alternative;
	boundary="Apple-Mail=_0F6E3B2D-8C41-4E8A-B1F4-3C9D2A7E5B22"

--Apple-Mail=_0F6E3B2D-8C41-4E8A-B1F4-3C9D2A7E5B22
Content-Transfer-Encoding: 7bit
Content-Type: text/plain;
	charset=us-ascii

Here is the draft.

--Apple-Mail=_0F6E3B2D-8C41-4E8A-B1F4-3C9D2A7E5B22
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
	charset=us-ascii

<html><body>Here is the draft.</body></html>
--Apple-Mail=_0F6E3B2D-8C41-4E8A-B1F4-3C9D2A7E5B22--

--Apple-Mail=_6C2B1E2A-4F1D-4A47-9E6B-2E2C6E1B0A11
Content-Disposition: inline;
	filename="Contract draft v3.pdf"
Content-Type: application/pdf;
	x-unix-mode=0644;
	name="Contract draft v3.pdf"
Content-Transfer-Encoding: base64

""" + b64(PDF) + """
--Apple-Mail=_6C2B1E2A-4F1D-4A47-9E6B-2E2C6E1B0A11--
""")

# ---- mixed with attachments ----
add("mixed-pdf-attachment.eml", hdr("m1", "Invoice 2025-031") + """Content-Type: multipart/mixed; boundary="===============4125672890123456789=="

--===============4125672890123456789==
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

Please find the invoice attached.
--===============4125672890123456789==
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="invoice-2025-031.pdf"

""" + b64(PDF) + """
--===============4125672890123456789==--
""")

add("mixed-docx-attachment-outlook.eml", hdr("m2", "Quarterly report") + """Content-Type: multipart/mixed;
	boundary="_004_AM0PR07MB6100C2F8E0A1D7F7B9B7A1D3AM0PR07MB6100eurp_"

--_004_AM0PR07MB6100C2F8E0A1D7F7B9B7A1D3AM0PR07MB6100eurp_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Hi all, the quarterly report is attached. Comments by Friday please.

--_004_AM0PR07MB6100C2F8E0A1D7F7B9B7A1D3AM0PR07MB6100eurp_
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
	name="Q1 report.docx"
Content-Description: Q1 report.docx
Content-Disposition: attachment; filename="Q1 report.docx"; size=1829;
	creation-date="Mon, 03 Mar 2025 09:00:00 GMT";
	modification-date="Mon, 03 Mar 2025 09:00:00 GMT"
Content-Transfer-Encoding: base64

""" + b64(DOCX) + """

--_004_AM0PR07MB6100C2F8E0A1D7F7B9B7A1D3AM0PR07MB6100eurp_--
""")

add("mixed-multiple-attachments.eml", hdr("m3", "Files for the project") + """Content-Type: multipart/mixed; boundary=simple-boundary-42

Preamble text that MUAs do not show.
--simple-boundary-42
Content-Type: text/plain

Three files attached.
--simple-boundary-42
Content-Type: application/zip; name=archive.zip
Content-Disposition: attachment; filename=archive.zip
Content-Transfer-Encoding: base64

""" + b64(ZIPB) + """
--simple-boundary-42
Content-Type: image/jpeg; name=photo.jpg
Content-Disposition: attachment; filename=photo.jpg
Content-Transfer-Encoding: base64

""" + b64(JPG) + """
--simple-boundary-42
Content-Type: text/plain; name=readme.txt
Content-Disposition: attachment; filename=readme.txt

Read me first.
--simple-boundary-42--
Epilogue text.
""")

add("mixed-tnef-winmail-dat.eml", hdr("m4", "Outlook rich text") + """Content-Type: multipart/mixed; boundary="tnef-b"

--tnef-b
Content-Type: text/plain

See attachment.
--tnef-b
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

""" + b64(TNEF) + """
--tnef-b--
""")

add("name-and-filename-disagree.eml", hdr("m5", "Two names") + """Content-Type: multipart/mixed; boundary="nb"

--nb
Content-Type: text/plain

body
--nb
Content-Type: application/octet-stream; name="harmless.txt"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

""" + b64(fake_bytes("exe", 300)) + """
--nb--
""")

add("name-only-on-content-type.eml", hdr("m6", "Old-style name parameter") + """Content-Type: multipart/mixed; boundary="nm"

--nm
Content-Type: text/plain

body
--nm
Content-Type: application/pdf; name="old-style.pdf"
Content-Transfer-Encoding: base64

""" + b64(PDF[:400]) + """
--nm--
""")

add("inline-image-no-filename.eml", hdr("m7", "Signature logo") + """Content-Type: multipart/related; boundary="sig"

--sig
Content-Type: text/html

<p>Best regards</p><img src="cid:logo">
--sig
Content-Type: image/gif
Content-ID: <logo>
Content-Transfer-Encoding: base64

""" + b64(GIF) + """
--sig--
""")

add("calendar-invite-ics.eml", hdr("c1", "Invitation: Project kickoff @ Mon 10 Mar 2025 10:00") + """Content-Type: multipart/mixed; boundary="000000000000cal0mixed"

--000000000000cal0mixed
Content-Type: multipart/alternative; boundary="000000000000cal0alt"

--000000000000cal0alt
Content-Type: text/plain; charset="UTF-8"

You have been invited to the following event.
Project kickoff, Mon 10 Mar 2025 10:00 - 11:00 (CET)

--000000000000cal0alt
Content-Type: text/html; charset="UTF-8"

<p>You have been invited to <b>Project kickoff</b></p>

--000000000000cal0alt
Content-Type: text/calendar; charset="UTF-8"; method=REQUEST
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
PRODID:-//Example//Calendar 1.0//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
DTSTART:20250310T090000Z
DTEND:20250310T100000Z
UID:kickoff-2025@example.org
SUMMARY:Project kickoff
ORGANIZER;CN=Alice:mailto:alice@example.org
ATTENDEE;CN=Bob;RSVP=TRUE:mailto:bob@example.net
END:VEVENT
END:VCALENDAR

--000000000000cal0alt--

--000000000000cal0mixed
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

""" + b64(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n") + """
--000000000000cal0mixed--
""")

add("signed-smime-shape.eml", hdr("s1", "Signed message") + """Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;
	boundary="----9A1F2E3D4C5B6A7980"

This is an S/MIME signed message

------9A1F2E3D4C5B6A7980
Content-Type: text/plain; charset=utf-8

This text is signed.

------9A1F2E3D4C5B6A7980
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

""" + b64(b"\x30\x82\x05\x00" + fake_bytes("p7s", 500)) + """

------9A1F2E3D4C5B6A7980--
""")

add("pgp-mime-encrypted-shape.eml", hdr("s2", "...") + """Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="pgp-enc-1"

This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)
--pgp-enc-1
Content-Type: application/pgp-encrypted
Content-Description: PGP/MIME version identification

Version: 1

--pgp-enc-1
Content-Type: application/octet-stream; name="encrypted.asc"
Content-Description: OpenPGP encrypted message
Content-Disposition: inline; filename="encrypted.asc"

-----BEGIN PGP MESSAGE-----

hQEMA1234567890ABAQf/abcdefghijklmnopqrstuvwxyz0123456789
=abcd
-----END PGP MESSAGE-----

--pgp-enc-1--
""")

add("report-with-rfc822-headers.eml", """From: MAILER-DAEMON@example.org
To: alice@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 04 Mar 2025 10:20:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"

--dsn-b
Content-Type: text/plain

This is the mail system. Your message could not be delivered.
--dsn-b
Content-Type: text/rfc822-headers

From: Alice Example <alice@example.org>
To: nobody@example.com
Subject: Hello
--dsn-b--
""")

# ---- nesting ----
INNER1 = """From: Carol <carol@example.com>
To: Alice <alice@example.org>
Subject: Original question
Date: Mon, 03 Mar 2025 08:00:00 +0000
Message-ID: <inner1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inner-1"

--inner-1
Content-Type: text/plain

Can you check the attached spreadsheet?
--inner-1
Content-Type: application/vnd.ms-excel; name="numbers.xls"
Content-Disposition: attachment; filename="numbers.xls"
Content-Transfer-Encoding: base64

""" + b64(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + fake_bytes("xls", 500)) + """
--inner-1--
"""

add("nested-rfc822-forward.eml", hdr("n1", "Fwd: Original question") + """Content-Type: multipart/mixed; boundary="outer-1"

--outer-1
Content-Type: text/plain

Forwarding as attachment.
--outer-1
Content-Type: message/rfc822
Content-Disposition: attachment; filename="Original question.eml"

""" + INNER1 + """
--outer-1--
""")

INNER2 = """From: Dave <dave@example.com>
Subject: Fwd: Original question
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mid-2"

--mid-2
Content-Type: text/plain

See below.
--mid-2
Content-Type: message/rfc822

""" + INNER1 + """
--mid-2--
"""

add("nested-rfc822-two-levels.eml", hdr("n2", "Fwd: Fwd: Original question") + """Content-Type: multipart/mixed; boundary="outer-2"

--outer-2
Content-Type: text/plain

Forwarded twice.
--outer-2
Content-Type: message/rfc822

""" + INNER2 + """
--outer-2--
""")

add("nested-rfc822-three-levels.eml", hdr("n3", "Fwd: Fwd: Fwd: Original question") + """Content-Type: multipart/mixed; boundary="outer-3"

--outer-3
Content-Type: text/plain

Three levels of forwarding.
--outer-3
Content-Type: message/rfc822

From: Erin <erin@example.com>
Subject: Fwd: Fwd: Original question
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="lvl-3"

--lvl-3
Content-Type: message/rfc822

""" + INNER2 + """
--lvl-3--

--outer-3--
""")

add("rfc822-as-whole-body.eml", hdr("n4", "Message as the only body") + """Content-Type: message/rfc822

From: Frank <frank@example.com>
Subject: inner only
Content-Type: text/plain

Inner body.
""")

add("nested-multipart-four-levels.eml", hdr("n5", "Deep but legal nesting") + """Content-Type: multipart/mixed; boundary="L1"

--L1
Content-Type: multipart/mixed; boundary="L2"

--L2
Content-Type: multipart/alternative; boundary="L3"

--L3
Content-Type: multipart/related; boundary="L4"

--L4
Content-Type: text/html

<p>deep</p>
--L4
Content-Type: image/png; name="deep.png"
Content-Transfer-Encoding: base64

""" + b64(PNG[:200]) + """
--L4--

--L3
Content-Type: text/plain

deep plain
--L3--

--L2--

--L1
Content-Type: text/plain

top-level sibling
--L1--
""")

add("digest-three-messages.eml", hdr("d1", "List digest, Vol 12, Issue 3") + """Content-Type: multipart/digest; boundary="digest-b"

--digest-b

From: one@example.com
Subject: first post

First message body.

--digest-b

From: two@example.com
Subject: second post
Content-Type: text/plain; charset=utf-8

Second message body.

--digest-b

From: three@example.com
Subject: third post
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="dig-inner"

--dig-inner
Content-Type: text/plain

with an attachment
--dig-inner
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64

""" + b64(fake_bytes("bin", 120)) + """
--dig-inner--

--digest-b--
""")

add("digest-with-explicit-text-part.eml", hdr("d2", "Digest with a table of contents") + """Content-Type: multipart/mixed; boundary="toc-outer"

--toc-outer
Content-Type: text/plain

Table of contents: 1 message
--toc-outer
Content-Type: multipart/digest; boundary="toc-digest"

--toc-digest
Content-Type: text/plain

Not a message: an explicit text part inside a digest.
--toc-digest

From: four@example.com
Subject: fourth post

Fourth body.
--toc-digest--

--toc-outer--
""")

# ---- RFC 2231 / RFC 2047 ----
add("rfc2231-filename-continuations.eml", hdr("f1", "Long file name") + """Content-Type: multipart/mixed; boundary="c2231"

--c2231
Content-Type: text/plain

body
--c2231
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*0="Annual report for the financial year 2024 ";
 filename*1="including all appendices and ";
 filename*2="the auditors statement.pdf"
Content-Transfer-Encoding: base64

""" + b64(PDF[:300]) + """
--c2231--
""")

add("rfc2231-filename-utf8-percent.eml", hdr("f2", "Euro file name") + """Content-Type: multipart/mixed; boundary="p2231"

--p2231
Content-Type: text/plain

body
--p2231
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20price%20list%20%C3%BCber.xlsx
Content-Transfer-Encoding: base64

""" + b64(ZIPB[:300]) + """
--p2231--
""")

add("rfc2231-continuation-charset-percent.eml", hdr("f3", "Mixed continuation") + """Content-Type: multipart/mixed; boundary="m2231"

--m2231
Content-Type: text/plain

body
--m2231
Content-Type: application/octet-stream
Content-Disposition: attachment;
 filename*0*=utf-8'en'%C3%A9t%C3%A9%20;
 filename*1*=r%C3%A9sum%C3%A9;
 filename*2=".docx"
Content-Transfer-Encoding: base64

""" + b64(DOCX[:300]) + """
--m2231--
""")

add("rfc2231-out-of-order-segments.eml", hdr("f4", "Segments out of order") + """Content-Type: multipart/mixed; boundary="o2231"

--o2231
Content-Type: text/plain

body
--o2231
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*1="part-two"; filename*2=".bin"; filename*0="part-one-"
Content-Transfer-Encoding: base64

""" + b64(fake_bytes("seg", 90)) + """
--o2231--
""")

add("rfc2231-iso-8859-1-filename.eml", hdr("f5", "Latin-1 name") + """Content-Type: multipart/mixed; boundary="l2231"

--l2231
Content-Type: text/plain

body
--l2231
Content-Type: text/plain; name*=iso-8859-1''Pr%E4sentation.txt
Content-Disposition: attachment; filename*=iso-8859-1''Pr%E4sentation.txt

Pr=E4sentation
--l2231--
""")

add("rfc2047-filename-utf8-base64.eml", hdr("f6", "Encoded-word file name") + """Content-Type: multipart/mixed; boundary="e2047"

--e2047
Content-Type: text/plain

body
--e2047
Content-Type: application/pdf; name="=?UTF-8?B?w5xiZXJzaWNodCAyMDI1LnBkZg==?="
Content-Disposition: attachment; filename="=?UTF-8?B?w5xiZXJzaWNodCAyMDI1LnBkZg==?="
Content-Transfer-Encoding: base64

""" + b64(PDF[:300]) + """
--e2047--
""")

add("rfc2047-filename-q-latin1.eml", hdr("f7", "Q-encoded file name") + """Content-Type: multipart/mixed; boundary="q2047"

--q2047
Content-Type: text/plain

body
--q2047
Content-Type: application/octet-stream; name="=?iso-8859-1?Q?Bestellbest=E4tigung_Nr=2E_42=2Epdf?="
Content-Disposition: attachment; filename="=?iso-8859-1?Q?Bestellbest=E4tigung_Nr=2E_42=2Epdf?="
Content-Transfer-Encoding: base64

""" + b64(PDF[:200]) + """
--q2047--
""")

add("rfc2047-subject-multiword.eml", HDR.format(mid="f8") + """Subject: =?UTF-8?B?R3LDvMOfZSBhdXMg?=
 =?UTF-8?B?TcO8bmNoZW4g4oCTIA==?= =?ISO-8859-1?Q?sch=F6ne_Gr=FC=DFe?=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus München.
""")

add("rfc2047-subject-utf16.eml", HDR.format(mid="f9") + "Subject: =?UTF-16?B?" +
    base64.b64encode("Rechnung 2025".encode("utf-16")).decode() + """?=
Content-Type: text/plain

UTF-16 in an encoded word (seen from some Asian MUAs).
""")

add("eight-bit-headers-utf8.eml", hdr("f10", "Grüße – ohne Kodierung") + """Content-Type: multipart/mixed; boundary="raw8"

--raw8
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Raw UTF-8 in the headers, as many MUAs send them.
--raw8
Content-Type: application/pdf
Content-Disposition: attachment; filename="Übersicht März.pdf"
Content-Transfer-Encoding: base64

""" + b64(PDF[:256]) + """
--raw8--
""")

# ---- broken structure ----
add("missing-close-boundary.eml", hdr("b1", "Truncated multipart") + """Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: text/plain

first part
--never-closed
Content-Type: application/octet-stream; name="tail.bin"
Content-Transfer-Encoding: base64

""" + b64(fake_bytes("tail", 200)) + """
""")

add("multipart-boundary-not-found.eml", hdr("b2", "Boundary never used") + """Content-Type: multipart/mixed; boundary="declared-but-unused"

--some-other-boundary
Content-Type: text/plain

The declared boundary never appears, so this is one text body.
--some-other-boundary--
""")

add("multipart-without-boundary-param.eml", hdr("b3", "No boundary parameter") + """Content-Type: multipart/mixed

--x
Content-Type: text/plain

nothing can be split here
--x--
""")

add("boundary-transport-padding.eml", hdr("b4", "Trailing whitespace after delimiters") + """Content-Type: multipart/mixed; boundary="pad"

--pad   
Content-Type: text/plain

padded delimiter above
--pad\t
Content-Type: text/plain

tab after delimiter
--pad--  
""")

add("boundary-prefix-of-inner.eml", hdr("b5", "Inner boundary extends the outer one") + """Content-Type: multipart/mixed; boundary="abc"

--abc
Content-Type: multipart/alternative; boundary="abcdef"

--abcdef
Content-Type: text/plain

inner plain
--abcdef
Content-Type: text/html

<p>inner html</p>
--abcdef--

--abc
Content-Type: text/plain

outer second
--abc--
""")

add("empty-parts-and-no-headers.eml", hdr("b6", "Empty parts") + """Content-Type: multipart/mixed; boundary="emp"

--emp

Part without any header lines (defaults to text/plain).
--emp
Content-Type: text/plain

--emp
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

--emp--
""")

add("preamble-and-epilogue.eml", hdr("b7", "Preamble and epilogue text") + """Content-Type: multipart/mixed; boundary="pe"

This is the preamble. It is to be ignored, though it is a handy place
for composition agents to include an explanatory note.
--pe
Content-Type: text/plain

The only part.
--pe--

This is the epilogue. It is also to be ignored.
""")

add("quoted-boundary-with-specials.eml", hdr("b8", "Boundary full of specials") + """Content-Type: multipart/mixed; boundary="----=_Part_12345_67890.1709545200000(x)"

------=_Part_12345_67890.1709545200000(x)
Content-Type: text/plain

javamail shape, with parentheses inside the quoted boundary
------=_Part_12345_67890.1709545200000(x)--
""")

add("header-case-and-spacing.eml", hdr("b9", "Odd but legal header spelling") + """CONTENT-TYPE: MULTIPART/MIXED;
  BOUNDARY="CaseB"

--CaseB
content-type: TEXT/PLAIN;   charset = "UTF-8"
content-transfer-encoding: BASE64

""" + b64("lower-case field names, upper-case values".encode()) + """
--CaseB--
""")

# ---- transfer encodings ----
add("base64-line-noise.eml", hdr("t1", "Base64 with junk characters") + """Content-Type: application/octet-stream; name="noisy.bin"
Content-Transfer-Encoding: base64

""" + "\r\n".join(" " + line + " #" for line in b64(fake_bytes("noise", 300)).split("\r\n")) + """
""")

add("base64-missing-padding.eml", hdr("t2", "Base64 without padding") + """Content-Type: application/octet-stream; name="nopad.bin"
Content-Transfer-Encoding: base64

""" + base64.b64encode(b"abcde").decode().rstrip("=") + """
""")

add("base64-odd-line-lengths.eml", hdr("t3", "Base64 with irregular line lengths") + """Content-Type: application/octet-stream; name="irregular.bin"
Content-Transfer-Encoding: base64

""" + odd_lines(base64.b64encode(fake_bytes("odd", 400)).decode()) + """
""")

add("base64-padding-mid-stream.eml", hdr("t4", "Base64 with = in the middle") + """Content-Type: application/octet-stream; name="midpad.bin"
Content-Transfer-Encoding: base64

""" + base64.b64encode(b"first").decode() + base64.b64encode(b"second").decode() + """
""")

add("qp-soft-breaks-and-lowercase-hex.eml", hdr("t5", "Quoted-printable tricks") + """Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

A long line that is broken with soft line breaks so that no encoded line =
exceeds seventy-six characters; lowercase hex =e4=f6=fc is accepted too.
A literal equals sign is =3D, and an invalid escape =ZZ is kept.
Last line ends with a soft break=
""")

add("binary-with-nul-bytes.eml", (crlf(hdr("t6", "Binary part with NUL bytes") + """Content-Type: multipart/mixed; boundary="nul"

--nul
Content-Type: application/octet-stream; name="nul.bin"
Content-Transfer-Encoding: binary

""").encode() + b"\x00\x01\x02binary\x00data\x00\xff\xfe" + crlf("""
--nul--
""").encode()), binary=True)

add("uuencode-in-text-body.eml", hdr("u1", "Old-school attachment") + """Content-Type: text/plain; charset=us-ascii

Here is the file, uuencoded as in the old days:

""" + uuencode(b"These are my notes.\nSecond line of notes, a bit longer than the first.\n", "notes.txt") + """

Regards
""")


# ---- EICAR (for the lead's engine tests only) ----
def eicar_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("eicar.com", date_time=(2025, 3, 4, 10, 0, 0))
        z.writestr(info, eicar())
    return buf.getvalue()


add("eicar-plain-attachment.eml", hdr("e1", "Test file") + """Content-Type: multipart/mixed; boundary="eic1"

--eic1
Content-Type: text/plain

The attachment is the EICAR test file.
--eic1
Content-Type: application/octet-stream; name="eicar.com"
Content-Disposition: attachment; filename="eicar.com"
Content-Transfer-Encoding: base64

""" + b64(eicar()) + """
--eic1--
""")

add("eicar-in-zip.eml", hdr("e2", "Zipped test file") + """Content-Type: multipart/mixed; boundary="eic2"

--eic2
Content-Type: text/plain

The attachment is a zip holding the EICAR test file.
--eic2
Content-Type: application/zip; name="eicar.zip"
Content-Disposition: attachment; filename="eicar.zip"
Content-Transfer-Encoding: base64

""" + b64(eicar_zip()) + """
--eic2--
""")

add("eicar-nested-rfc822.eml", hdr("e3", "Fwd: test file") + """Content-Type: multipart/mixed; boundary="eic3"

--eic3
Content-Type: text/plain

Forwarded message with the EICAR test file inside.
--eic3
Content-Type: message/rfc822

From: someone@example.com
Subject: test file
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="eic3-inner"

--eic3-inner
Content-Type: application/octet-stream; name="eicar.com"
Content-Disposition: attachment; filename="eicar.com"
Content-Transfer-Encoding: base64

""" + b64(eicar()) + """
--eic3-inner--

--eic3--
""")


add("eicar-uuencoded.eml", hdr("e4", "uuencoded test file") + """Content-Type: text/plain

The EICAR test file, uuencoded inside the text body:

""" + uuencode(eicar(), "eicar.com") + """

bye
""")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(messages.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d messages to %s" % (len(messages), OUT))


if __name__ == "__main__":
    main()

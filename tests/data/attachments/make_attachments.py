#!/usr/bin/env python3
# make_attachments.py - writes the attachment-policy test messages (tests/data/attachments/*.eml).
# Deterministic output; one message per trick; no real malware (executables are inert stubs).
"""Regenerate with:  python3 tests/data/attachments/make_attachments.py [OUTDIR]

Needs only the Python standard library (the encrypted zip is written by hand). Files are named after what they exercise:
  trick-*.eml   one filename or true-type trick each; the attachment policy must flag it
  archive-*.eml a trick inside an archive; caught by the libclamav member walk
  benign-*.eml  ordinary attachments; must give no attachment finding at all
tests/unit/attachments_messages_test.cpp holds the expected finding for every file.
"""
import base64
import io
import os
import struct
import sys
import tarfile
import zipfile
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
FIXED_TIME = (2025, 3, 4, 10, 15, 0)
CRLF = "\r\n"


# ---- inert payloads --------------------------------------------------------------------------

def pe_stub():
    """A 160-byte PE: DOS header with e_lfanew, 'PE\\0\\0', an i386 COFF header, no sections."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    dos[2:4] = struct.pack("<H", 0x90)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(64, b"\0")
    coff = struct.pack("<HHIIIHH", 0x14C, 0, 0x5F000000, 0, 0, 0, 0x0102)
    return bytes(dos) + stub + b"PE\0\0" + coff + b"\0" * 12


def elf_stub():
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHI", 2, 0x3E, 1) + b"\0" * 40


def macho_stub():
    return b"\xcf\xfa\xed\xfe" + struct.pack("<IIIIII", 0x01000007, 3, 2, 0, 0, 0) + b"\0" * 4


def lnk_stub():
    header = bytes([0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46])
    return header + b"\0" * (0x4C - len(header))


def msi_stub():
    """An OLE2 header (512-byte sectors) whose root directory entry carries the MSI CLSID."""
    hdr = bytearray(512)
    hdr[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHH", hdr, 0x18, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<H", hdr, 0x20, 6)
    struct.pack_into("<I", hdr, 0x2C, 1)   # FAT sectors
    struct.pack_into("<I", hdr, 0x30, 1)   # first directory sector
    struct.pack_into("<I", hdr, 0x3C, 0xFFFFFFFE)
    struct.pack_into("<I", hdr, 0x44, 0xFFFFFFFE)
    struct.pack_into("<I", hdr, 0x4C, 0)   # DIFAT[0] = sector 0 holds the FAT
    for i in range(1, 109):
        struct.pack_into("<I", hdr, 0x4C + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)
    directory = bytearray(512)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    directory[0:len(name)] = name
    struct.pack_into("<H", directory, 0x40, len(name))
    directory[0x42] = 5  # root storage
    struct.pack_into("<III", directory, 0x44, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    directory[0x50:0x60] = bytes.fromhex("84100C0000000000C000000000000046")
    struct.pack_into("<I", directory, 0x74, 0xFFFFFFFE)
    return bytes(hdr) + bytes(fat) + bytes(directory)


SHEBANG = b"#!/bin/sh\n# nightly cleanup\nrm -rf \"$HOME/.cache/thumbnails\"\n"
HTA = (b"<html>\r\n<head>\r\n<title>Invoice viewer</title>\r\n"
       b"<HTA:APPLICATION ID=\"viewer\" APPLICATIONNAME=\"viewer\" WINDOWSTATE=\"minimize\"/>\r\n"
       b"</head>\r\n<body><p>Loading...</p></body>\r\n</html>\r\n")


# ---- benign documents --------------------------------------------------------------------------

def pdf_document():
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    content = b"BT /F1 18 Tf 72 720 Td (Invoice 2025-031: 1,250.00 EUR due 31 March) Tj ET"
    objs[3] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def encrypted_zip(members, password):
    """A zip whose entries are stored with traditional PKWARE (ZipCrypto) encryption.

    Written by hand (zipfile cannot encrypt); the 12-byte encryption headers are fixed, so the
    output is deterministic."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)

    def crc_byte(crc, b):
        return table[(crc ^ b) & 0xFF] ^ (crc >> 8)

    def encrypt(data):
        k = [0x12345678, 0x23456789, 0x34567890]

        def update(b):
            k[0] = crc_byte(k[0], b)
            k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
            k[2] = crc_byte(k[2], k[1] >> 24)

        for b in password:
            update(b)
        out = bytearray()
        for b in data:
            t = (k[2] | 2) & 0xFFFF
            out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
            update(b)
        return bytes(out)

    dos_time, dos_date = (10 << 11) | (15 << 5), ((2025 - 1980) << 9) | (3 << 5) | 4
    local, central = bytearray(), bytearray()
    for i, (name, data) in enumerate(members):
        crc = zlib.crc32(data) & 0xFFFFFFFF
        header = bytes((i * 37 + j * 11) & 0xFF for j in range(11)) + bytes([crc >> 24])
        payload = encrypt(header + data)
        fields = struct.pack("<HHHHHIII", 20, 1, 0, dos_time, dos_date, crc, len(payload), len(data))
        offset = len(local)
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name.encode() + payload
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0o644 << 16, offset) + name.encode())
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(central),
                                         len(local), 0)
    return bytes(local + central + eocd)


def docx_document():
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
          '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>')
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body><w:p><w:r><w:t>Quarterly report: revenue grew 4% over the last quarter.</w:t></w:r></w:p>'
           '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    doc_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                '</Relationships>')
    styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
              '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
              '</w:styles>')
    return zip_bytes([("[Content_Types].xml", ct), ("_rels/.rels", rels),
                      ("word/document.xml", doc), ("word/_rels/document.xml.rels", doc_rels),
                      ("word/styles.xml", styles), ("docProps/core.xml", core_props()),
                      ("docProps/app.xml", app_props("Microsoft Office Word"))])


def core_props():
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:creator>Alice Example</dc:creator>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-04T09:00:00Z</dcterms:created>'
            '</cp:coreProperties>')


def app_props(app):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            '<Application>%s</Application></Properties>' % app)


def xlsx_document():
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
          '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          '<sheets><sheet name="Q1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
               '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
               '</Relationships>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>Month</t></is></c><c r="B1" t="inlineStr"><is><t>Revenue</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>January</t></is></c><c r="B2"><v>1250</v></c></row>'
             '</sheetData></worksheet>')
    styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
              '<borders count="1"><border/></borders><cellXfs count="1"><xf/></cellXfs></styleSheet>')
    return zip_bytes([("[Content_Types].xml", ct), ("_rels/.rels", rels), ("xl/workbook.xml", wb),
                      ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/worksheets/sheet1.xml", sheet),
                      ("xl/styles.xml", styles), ("docProps/core.xml", core_props()),
                      ("docProps/app.xml", app_props("Microsoft Excel"))])


def png_image():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    width, height = 4, 4
    raw = b"".join(b"\0" + bytes([200, 30, 30] * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Calendar 1.0//EN\r\nMETHOD:REQUEST\r\n"
       "BEGIN:VEVENT\r\nUID:20250304T101500Z-42@example.org\r\nDTSTAMP:20250304T101500Z\r\n"
       "DTSTART:20250311T090000Z\r\nDTEND:20250311T093000Z\r\nSUMMARY:Quarterly review\r\n"
       "ORGANIZER:mailto:alice@example.org\r\nATTENDEE;RSVP=TRUE:mailto:bob@example.net\r\n"
       "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()
TXT = b"Meeting notes, 4 March\r\n\r\n- budget approved\r\n- next review on 11 March\r\n"


# ---- message assembly --------------------------------------------------------------------------

def b64(data):
    s = base64.b64encode(data).decode()
    return CRLF.join(s[i:i + 76] for i in range(0, len(s), 76))


def headers(subject, boundary):
    return CRLF.join([
        "From: Alice Example <alice@example.org>",
        "To: Bob Example <bob@example.net>",
        "Date: Tue, 04 Mar 2025 10:15:00 +0100",
        "Message-ID: <%s@example.org>" % subject.replace(" ", "-").lower()[:40],
        "MIME-Version: 1.0",
        "Subject: " + subject,
        'Content-Type: multipart/mixed; boundary="%s"' % boundary,
    ]) + CRLF + CRLF


def attachment(content_type, disposition_params, data, encoding="base64", ct_params=""):
    """One part; `disposition_params` is written as is after 'attachment' (may be '')."""
    lines = ["Content-Type: " + content_type + ct_params]
    if disposition_params is not None:
        lines.append("Content-Disposition: attachment" + disposition_params)
    lines.append("Content-Transfer-Encoding: " + encoding)
    if isinstance(data, str):
        data = data.encode()
    body = b64(data) if encoding == "base64" else data.decode("latin-1")
    return CRLF.join(lines) + CRLF + CRLF + body


def message(subject, parts, text="Please see the attachment." + CRLF):
    boundary = "----=_Part_avsink_" + str(abs(zlib.crc32(subject.encode())))
    out = headers(subject, boundary)
    out += "This is a multi-part message in MIME format." + CRLF
    body = ["Content-Type: text/plain; charset=utf-8" + CRLF + "Content-Transfer-Encoding: 7bit"
            + CRLF + CRLF + text]
    for p in body + parts:
        out += "--" + boundary + CRLF + p + CRLF
    out += "--" + boundary + "--" + CRLF
    return out.encode("latin-1")


def named(content_type, filename, data, extra=""):
    return attachment(content_type, '; filename="%s"' % filename, data, ct_params='; name="%s"' % filename + extra)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def rfc2047_b(text, charset="UTF-8"):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset.lower().replace("utf-16le", "utf-16-le"))).decode())


def rfc2231(text):
    """RFC 2231 extended value: UTF-8''percent-encoded."""
    return "UTF-8''" + "".join(chr(b) if chr(b).isalnum() or chr(b) in "-_." else "%%%02X" % b
                               for b in text.encode())


def main():
    os.makedirs(OUT, exist_ok=True)
    pe = pe_stub()
    octet = "application/octet-stream"

    # --- names ---
    write("trick-plain-exe-uppercase.eml", message("Setup", [named(octet, "SETUP.EXE", pe)]))
    write("trick-trailing-dot-space.eml",
          message("Invoice", [named(octet, "invoice.exe. . ", b"payload")]))
    write("trick-double-extension.eml",
          message("Invoice 42", [named("application/pdf", "invoice.pdf.exe", b"payload")]))
    write("trick-double-extension-padded.eml",
          message("Invoice 43", [named("application/pdf", "invoice.pdf" + " " * 40 + ".exe", b"payload")]))
    write("trick-rfc2047-filename.eml",
          message("Rechnung", [named(octet, rfc2047_b("Rechnung März.scr"), b"payload")]))
    write("trick-rfc2047-utf16-filename.eml",
          message("Order", [named(octet, rfc2047_b("order.vbs", "UTF-16LE"), b"payload")]))
    write("trick-rfc2231-continuation.eml", message("Rechnung 2", [attachment(
        octet, "; filename*0*=UTF-8''Rechnung%20Nr; filename*1*=%2042%2Ejs",
        b"payload", ct_params="")]))
    write("trick-name-filename-disagree.eml", message("Report", [attachment(
        "text/plain", '; filename="report.bat"', b"@echo off\r\n", ct_params='; name="report.txt"')]))
    write("trick-duplicate-filename.eml", message("Report 2", [attachment(
        octet, '; filename="report.txt"; filename="report.cmd"', b"@echo off\r\n")]))
    write("trick-rtlo.eml", message("Invoice RTLO", [attachment(
        octet, "; filename*=" + rfc2231("invoice\u202efdp.exe"), b"payload")]))
    write("trick-rtlo-harmless-extension.eml", message("Photo RTLO", [attachment(
        octet, "; filename*=" + rfc2231("photo\u202egpj.txt"), b"just text")]))
    write("trick-zero-width.eml", message("Invoice ZW", [attachment(
        octet, "; filename*=" + rfc2231("invoice.e\u200bx\u200de"), b"payload")]))
    write("trick-soft-hyphen-bom.eml", message("Invoice SHY", [attachment(
        octet, "; filename*=" + rfc2231("\ufeffinvoice.s\u00adcr"), b"payload")]))
    write("trick-fullwidth-dot.eml", message("Invoice FW", [attachment(
        octet, "; filename=\"%s\"" % rfc2047_b("invoice\uff0e\uff25\uff58\uff45"), b"payload")]))
    write("trick-one-dot-leader.eml", message("Invoice 2024", [attachment(
        octet, "; filename*=" + rfc2231("invoice\u2024hta"), b"payload")]))
    write("trick-percent-nul.eml", message("Invoice NUL", [named(octet, "invoice.exe%00.pdf", b"payload")]))
    write("trick-literal-nul.eml", message("Invoice NUL 2", [attachment(
        octet, '; filename="invoice.pif\0.txt"', b"payload")]))
    write("trick-clsid.eml", message("Readme", [named(
        octet, "readme.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}", b"payload")]))
    write("trick-comment-in-filename.eml", message("Picture", [attachment(
        octet, "; filename=picture.scr(.gif)", b"payload")]))
    write("trick-windows-path.eml", message("Path", [named(octet, "C:\\\\Users\\\\x\\\\evil.jse", b"payload")]))
    write("trick-modern-iso.eml", message("Delivery", [named(octet, "DHL-delivery.iso", b"\0" * 64)]))

    # --- true types ---
    write("trick-no-name-pe.eml", message("No name", [attachment(octet, None, pe)]))
    write("trick-pe-named-txt.eml", message("Readme PE", [named("text/plain", "readme.txt", pe)]))
    write("trick-elf-named-jpg.eml", message("Photo ELF", [named("image/jpeg", "photo.jpg", elf_stub())]))
    write("trick-macho-named-pdf.eml", message("Doc Mach-O", [named("application/pdf", "doc.pdf", macho_stub())]))
    write("trick-shebang-named-txt.eml", message("Notes script", [named("text/plain", "notes.txt", SHEBANG)]))
    write("trick-hta-named-html.eml", message("Viewer", [named("text/html", "viewer.html", HTA)]))
    write("trick-lnk-named-pdf.eml", message("Shortcut", [named("application/pdf", "statement.pdf", lnk_stub())]))
    write("trick-msi-named-doc.eml", message("Installer", [named("application/msword", "letter.doc", msi_stub())]))
    uu = "begin 644 setup.exe" + CRLF
    data = pe
    for i in range(0, len(data), 45):
        chunk = data[i:i + 45]
        uu += __import__("binascii").b2a_uu(chunk).decode().rstrip("\n") + CRLF
    uu += "`" + CRLF + "end" + CRLF
    write("trick-uuencoded-exe.eml", message("Uuencoded", [], text="Here it is:" + CRLF + uu))

    # --- archives (judged through libclamav's member walk) ---
    write("archive-zip-exe.eml", message("Zip exe", [named("application/zip", "files.zip", zip_bytes([
        ("readme.txt", TXT), ("setup.exe", pe)]))]))
    inner = zip_bytes([("setup.exe", pe)])
    middle = zip_bytes([("inner.zip", inner)])
    outer = zip_bytes([("middle.zip", middle)])
    write("archive-zip-in-zip-depth3.eml", message("Nested", [named("application/zip", "outer.zip", outer)]))
    write("archive-zip-pe-named-txt.eml", message("Zip PE", [named("application/zip", "docs.zip", zip_bytes([
        ("notes.txt", pe)]))]))
    write("archive-zip-elf-no-extension.eml", message("Zip ELF", [named("application/zip", "tools.zip", zip_bytes([
        ("bin/tool", elf_stub())]))]))
    write("archive-zip-lnk-macho.eml", message("Zip types", [named("application/zip", "scans.zip", zip_bytes([
        ("statement.pdf", lnk_stub()), ("photo.jpg", macho_stub()), ("notes.txt", SHEBANG), ("view.html", HTA),
        ("setup.dat", msi_stub())]))]))
    write("archive-zip-double-extension.eml", message("Zip dbl", [named("application/zip", "scan.zip", zip_bytes([
        ("scan_0042.pdf.js", b"WScript.Echo('x');\r\n")]))]))
    write("archive-zip-backslash-path.eml", message("Zip bs", [named("application/zip", "win.zip", zip_bytes([
        ("Documents\\Invoice\\pay.vbs", b"MsgBox \"x\"\r\n")]))]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, data in (("docs/readme.txt", TXT), ("docs/payload.scr", b"payload")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1741079700
            t.addfile(info, io.BytesIO(data))
    gz = bytearray(buf.getvalue())
    gz[4:8] = b"\0\0\0\0"  # gzip mtime: deterministic output
    write("archive-tar-gz-scr.eml", message("Tarball", [named("application/gzip", "docs.tar.gz", bytes(gz))]))
    enc = encrypted_zip([("read-me.txt", TXT), ("invoice.exe", pe)], b"infected")
    write("archive-encrypted-zip.eml", message("Encrypted", [named("application/zip", "secret.zip", enc)],
                                               text="The password is: infected" + CRLF))

    # --- benign (no finding of any kind from the attachment policy) ---
    write("benign-pdf.eml", message("Invoice 2025-031", [named("application/pdf", "invoice-2025-031.pdf", pdf_document())]))
    write("benign-docx.eml", message("Q1 report", [named(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Q1 report.docx", docx_document())]))
    write("benign-xlsx.eml", message("Q1 numbers", [named(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Q1 numbers.xlsx", xlsx_document())]))
    write("benign-png.eml", message("Logo", [named("image/png", "logo.png", png_image())]))
    write("benign-txt.eml", message("Notes", [named("text/plain", "notes.txt", TXT)]))
    write("benign-ics.eml", message("Quarterly review", [attachment(
        "text/calendar", '; filename="invite.ics"', ICS, ct_params='; method=REQUEST; name="invite.ics"')]))
    write("benign-all-together.eml", message("Everything", [
        named("application/pdf", "invoice-2025-031.pdf", pdf_document()),
        named("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Q1 report.docx", docx_document()),
        named("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Q1 numbers.xlsx", xlsx_document()),
        named("image/png", "logo.png", png_image()),
        named("text/plain", "notes.txt", TXT),
        named("application/zip", "documents.zip", zip_bytes([("invoice.pdf", pdf_document()), ("logo.png", png_image()),
                                                             ("notes.txt", TXT)])),
    ]))
    write("benign-script-in-body.eml", message("Cron job", [], text=SHEBANG.decode().replace("\n", CRLF)))

    # --- strip: an .exe between two parts that must stay byte-identical ---
    write("strip-mixed-exe.eml", message("Strip me", [
        named("application/pdf", "invoice-2025-031.pdf", pdf_document()),
        named(octet, "invoice.pdf.exe", pe),
        named("image/png", "logo.png", png_image()),
    ]))


if __name__ == "__main__":
    main()

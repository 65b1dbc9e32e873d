#!/usr/bin/env python3
# mime_reference.py - the reference reading of one .eml by Python's email package (policy.default).
# Prints one line per part in walk() order; the C++ corpus test compares avsink's tree against it.
"""Usage: mime_reference.py FILE...

Output (UTF-8, one record per line, fields separated by TAB), for each FILE in order:
  file<TAB>PATH                    starts the records of one file
  count<TAB>N                      number of parts walk() yields (containers included)
  part<TAB>TYPE<TAB>FILENAME<TAB>SHA256   one line per leaf (non-multipart) part, in walk() order;
                                   FILENAME is get_filename() with TAB/CR/LF escaped, "-" when None;
                                   SHA256 is of get_payload(decode=True) ("-" when None).
"""
import email
import email.policy
import hashlib
import sys


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


def describe(path):
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    parts = list(msg.walk())
    out = ["file\t" + esc(path), "count\t%d" % len(parts)]
    for p in parts:
        if p.is_multipart():
            continue
        try:
            name = p.get_filename()
        except Exception:  # noqa: BLE001 - a defect in the header is a "no name" answer
            name = None
        payload = p.get_payload(decode=True)
        digest = hashlib.sha256(payload).hexdigest() if payload is not None else "-"
        out.append("part\t%s\t%s\t%s" % (p.get_content_type(), "-" if name is None else esc(str(name)), digest))
    return out


def main():
    out = []
    for path in sys.argv[1:]:
        out += describe(path)
    sys.stdout.buffer.write(("\n".join(out) + "\n").encode("utf-8", "surrogateescape"))


if __name__ == "__main__":
    main()

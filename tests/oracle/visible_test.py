#!/usr/bin/env python3
# visible_test.py - checks the oracle's own "payload is visible" judgement (oracle.visible): a zip
# member is seen through the central directory and through the local headers alone.
"""Exit 0 when every case holds; 1 with the failing cases listed. Needs only Python."""
import io
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

EICAR = oracle.MARKERS["eicar"]


def make_zip(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def readable(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return all(z.read(i) is not None for i in z.infolist())
    except Exception:  # noqa: BLE001 - any failure counts as unreadable
        return False


def main():
    failed = []

    def case(name, ok):
        print(("PASS " if ok else "FAIL ") + name)
        if not ok:
            failed.append(name)

    z = make_zip([("readme.txt", b"hello " * 40), ("eicar.com", EICAR)])
    case("deflated EICAR member, intact zip", oracle.visible(z, "eicar"))
    # A line put into the central directory, as a QP soft break or a stray delimiter line does:
    # zipfile refuses it, the local headers still hold the member.
    cd = z.rfind(b"PK\x01\x02")
    broken = z[:cd] + b"--boundaryX\r\n" + z[cd:]
    case("central directory broken (zipfile refuses it)", not readable(broken))
    case("deflated EICAR member, central directory broken", oracle.visible(broken, "eicar"))
    inner = make_zip([("eicar.com", EICAR)])
    outer = make_zip([("inner.zip", inner)])
    cd = outer.rfind(b"PK\x01\x02")
    case("zip in zip, outer directory broken",
         oracle.visible(outer[:cd] + b"\r\n" + outer[cd:], "eicar"))
    # Controls: what holds no payload stays invisible.
    case("benign zip, directory broken: nothing visible",
         not oracle.visible(broken.replace(b"eicar.com", b"notes.txt"), "benign") and
         not oracle.visible(make_zip([("a.txt", b"nothing here " * 30)]), "eicar"))
    lh = z.find(b"PK\x03\x04", 4)  # the EICAR member's local header
    garbled = z[:lh + 30 + len("eicar.com")] + b"\xff" * 20 + z[lh + 30 + len("eicar.com") + 20:]
    cd = garbled.rfind(b"PK\x01\x02")
    case("corrupt deflate stream, directory broken: not visible",
         not oracle.visible(garbled[:cd] + b"\r\n" + garbled[cd:], "eicar"))
    print(f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

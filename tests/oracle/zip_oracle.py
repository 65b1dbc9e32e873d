#!/usr/bin/env python3
# zip_oracle.py - a differential oracle for zip structure (issue 13): mutated zips, read by
# independent readers; whatever any of them extracts (a banned name, EICAR) avsink must not accept.
"""Builds zips whose structure readers can disagree about (end records, concatenation, local
versus central headers, methods, sizes, offsets, extra fields), each holding one payload: a member
named setup.exe (judged by name; its bytes are plain text) or EICAR under a neutral name (deflated,
so it is not in the zip as it is). Readers: Python's zipfile (central directory), Info-ZIP unzip,
7-Zip, and two readers written here that never look at the central directory: one that follows
the local headers from the first one on (as streaming readers do), one that takes every local
header signature it finds (as carving tools do). Property: when any reader extracts the payload,
`avsink scan` (shipped signatures, defaults) does not accept the message.

Exit status: 0 no miss, 1 misses, 2 setup error, 77 a reader is missing.
usage: zip_oracle.py --avsink-build DIR --work DIR [--seed N] [--blind]
"""
import email.message
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# EICAR from two halves, so this file is not itself the test signature.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
BENIGN = [("a.txt", b"first benign member\n" * 20), ("b.txt", b"second benign member\n" * 20)]


def payload(kind):
    return ("setup.exe", b"just text, judged by its name\n") if kind == "name" else \
        ("notes.txt", EICAR + b"\n")


def build(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return bytearray(b.getvalue())


def layout(z):
    """(locals, centrals, end): offsets of each local header and central record, and the end
    record, of a zip written by build()."""
    end = z.rfind(b"PK\x05\x06")
    cd = struct.unpack_from("<I", z, end + 16)[0]
    centrals, pos = [], cd
    while z[pos:pos + 4] == b"PK\x01\x02":
        nlen, xlen, clen = struct.unpack_from("<HHH", z, pos + 28)
        centrals.append(pos)
        pos += 46 + nlen + xlen + clen
    locals_ = [struct.unpack_from("<I", z, c + 42)[0] for c in centrals]
    return locals_, centrals, end


def name_at(z, off, central):
    nlen = struct.unpack_from("<H", z, off + (28 if central else 26))[0]
    return bytes(z[off + (46 if central else 30):][:nlen])


def empty_end():
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0)


def set_name(z, off, central, new):
    """Renames the header at `off` to `new` (same length)."""
    old = name_at(z, off, central)
    assert len(old) == len(new)
    start = off + (46 if central else 30)
    z[start:start + len(new)] = new


def drop_central(z, index):
    locals_, centrals, end = layout(z)
    c = centrals[index]
    nxt = centrals[index + 1] if index + 1 < len(centrals) else end
    out = z[:c] + z[nxt:]
    end2 = out.rfind(b"PK\x05\x06")
    n = struct.unpack_from("<H", out, end2 + 8)[0] - 1
    struct.pack_into("<HH", out, end2 + 8, n, n)
    size = struct.unpack_from("<I", out, end2 + 12)[0] - (nxt - c)
    struct.pack_into("<I", out, end2 + 12, size)
    return out


# Each mutation: (zip bytes, index of the payload member) -> zip bytes.
def m_none(z, i):
    return z


def m_append_empty_end(z, i):
    return z + empty_end()


def m_end_in_comment(z, i):
    z = bytearray(z)
    struct.pack_into("<H", z, len(z) - 2, 22)
    return z + empty_end()


def m_concat_benign_after(z, i):
    return z + build([("c.txt", b"third benign member\n")])


def m_concat_benign_before(z, i):
    return build([("c.txt", b"third benign member\n")]) + z


def m_sfx_prefix(z, i):
    return bytearray(b"MZ" + bytes(4094)) + z


def m_trailing_junk(z, i):
    return z + b"\x00junk after the end record\n" * 4


def m_drop_central(z, i):
    return drop_central(bytearray(z), i)


def renamed_in_one_header(z, i, central):
    """The payload renamed to a harmless name of the same length in one header."""
    z = bytearray(z)
    locals_, centrals, _ = layout(z)
    off = centrals[i] if central else locals_[i]
    old = name_at(z, off, central)
    set_name(z, off, central, b"c" * (len(old) - 4) + b".txt")
    return z


def m_rename_central(z, i):
    return renamed_in_one_header(z, i, True)


def m_rename_local(z, i):
    return renamed_in_one_header(z, i, False)


def stored_in_one_header(z, i, central):
    """The payload's method set to stored, its size to the compressed size, in one header."""
    z = bytearray(z)
    locals_, centrals, _ = layout(z)
    off, method, csize = (centrals[i], 10, 20) if central else (locals_[i], 8, 18)
    struct.pack_into("<H", z, off + method, 0)
    struct.pack_into("<I", z, off + csize + 4, struct.unpack_from("<I", z, off + csize)[0])
    return z


def m_local_stored(z, i):
    return stored_in_one_header(z, i, False)


def m_central_stored(z, i):
    return stored_in_one_header(z, i, True)


def m_descriptor_flag(z, i):
    z = bytearray(z)
    locals_, _, _ = layout(z)
    off = locals_[i]
    struct.pack_into("<H", z, off + 6, struct.unpack_from("<H", z, off + 6)[0] | 8)
    struct.pack_into("<III", z, off + 14, 0, 0, 0)
    return z


def m_central_points_elsewhere(z, i):
    z = bytearray(z)
    locals_, centrals, _ = layout(z)
    other = locals_[(i + 1) % len(locals_)]
    struct.pack_into("<I", z, centrals[i] + 42, other)
    return z


def m_duplicate_central(z, i):
    z = bytearray(z)
    locals_, centrals, end = layout(z)
    c = centrals[i]
    nxt = centrals[i + 1] if i + 1 < len(centrals) else end
    rec = bytearray(z[c:nxt])
    struct.pack_into("<I", rec, 42, locals_[(i + 1) % len(locals_)])
    out = z[:end] + rec + z[end:]
    end2 = out.rfind(b"PK\x05\x06")
    n = struct.unpack_from("<H", out, end2 + 8)[0] + 1
    struct.pack_into("<HH", out, end2 + 8, n, n)
    struct.pack_into("<I", out, end2 + 12, struct.unpack_from("<I", out, end2 + 12)[0] + len(rec))
    return out


def m_end_count_short(z, i):
    z = bytearray(z)
    end = z.rfind(b"PK\x05\x06")
    n = struct.unpack_from("<H", z, end + 8)[0] - 1
    struct.pack_into("<HH", z, end + 8, n, n)
    return z


def m_shadowed(z, i):
    """The payload's local entry alone, then the zip again with the payload's bytes replaced by
    benign ones of the same name: the directory names the benign copy."""
    locals_, centrals, _ = layout(z)
    off = locals_[i]
    nxt = locals_[i + 1] if i + 1 < len(locals_) else centrals[0]
    return bytearray(z[off:nxt]) + build(BENIGN + [("c.txt", b"x\n")])


def m_shadowed_same_crc(z, i):
    """As m_shadowed, with the shadowed local header declaring the size and CRC-32 of the benign
    copy the directory names (a forged CRC makes them true; readers that check report a CRC
    error, and some extract the bytes all the same)."""
    locals_, centrals, _ = layout(z)
    off = locals_[i]
    nxt = locals_[i + 1] if i + 1 < len(locals_) else centrals[0]
    name, data = PAYLOADS[i]
    benign = bytes(len(data))
    entry = bytearray(z[off:nxt])
    struct.pack_into("<I", entry, 14, zlib.crc32(benign))
    return entry + build([(name, benign)] + BENIGN)


def m_unicode_path_extra(z, i):
    """The payload's central and local headers get an Info-ZIP Unicode Path extra field (0x7075)
    naming it c.txt: readers that honour the field and those that do not see different names."""
    members = list(BENIGN)
    name, data = PAYLOADS[i]
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as f:
        for k, (n, d) in enumerate(members[:i] + [(name, data)] + members[i:]):
            info = zipfile.ZipInfo(n)
            info.compress_type = zipfile.ZIP_DEFLATED
            if k == i:
                other = ("c" * (len(n) - 4) + ".txt").encode()
                field = struct.pack("<BI", 1, zlib.crc32(n.encode())) + other
                info.extra = struct.pack("<HH", 0x7075, len(field)) + field
            f.writestr(info, d)
    return bytearray(b.getvalue())


def m_unicode_path_central_only(z, i):
    """The reverse: both headers name the payload c.txt, and a Unicode Path field (0x7075) in its
    central record alone gives its real name (Info-ZIP unzip and 7-Zip use it; libarchive reads
    the field in local headers only)."""
    z = bytearray(z)
    locals_, centrals, end = layout(z)
    real = name_at(z, centrals[i], True)
    other = b"c" * (len(real) - 4) + b".txt"
    set_name(z, locals_[i], False, other)
    set_name(z, centrals[i], True, other)
    field = struct.pack("<BI", 1, zlib.crc32(other)) + real
    extra = struct.pack("<HH", 0x7075, len(field)) + field
    c = centrals[i]
    nlen, xlen = struct.unpack_from("<HH", z, c + 28)
    at = c + 46 + nlen + xlen
    struct.pack_into("<H", z, c + 30, xlen + len(extra))
    z[at:at] = extra
    end += len(extra)
    struct.pack_into("<I", z, end + 12, struct.unpack_from("<I", z, end + 12)[0] + len(extra))
    return z


def m_encrypted_flag_local(z, i):
    z = bytearray(z)
    locals_, _, _ = layout(z)
    struct.pack_into("<H", z, locals_[i] + 6, struct.unpack_from("<H", z, locals_[i] + 6)[0] | 1)
    return z


def m_encrypted_flag_central(z, i):
    z = bytearray(z)
    _, centrals, _ = layout(z)
    struct.pack_into("<H", z, centrals[i] + 8, struct.unpack_from("<H", z, centrals[i] + 8)[0] | 1)
    return z


def m_local_size_swallows_next(z, i):
    """The payload's local compressed size stretched over the next local entry."""
    z = bytearray(z)
    locals_, centrals, _ = layout(z)
    off = locals_[(i + 1) % len(locals_)] if i + 1 < len(locals_) else None
    if off is None:
        return z
    nxt = locals_[i + 2] if i + 2 < len(locals_) else centrals[0]
    csize = struct.unpack_from("<I", z, locals_[i] + 18)[0]
    struct.pack_into("<I", z, locals_[i] + 18, csize + (nxt - off))
    return z


def m_end_record_in_member(z, i):
    """A stored member, last, whose bytes end with an empty end record and a short comment: the
    last end record in the file is then the one in the member's data... if the real one is
    found first. Built as: members, then a stored member holding an end record."""
    members = list(BENIGN)
    members.insert(i, PAYLOADS[i])
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as f:
        for n, d in members:
            f.writestr(n, d)
        f.writestr(zipfile.ZipInfo("zz.bin"), empty_end() + b"\n")
        f.comment = b""
    return bytearray(b.getvalue())


def m_two_directories(z, i):
    """A second central directory without the payload, after the first; the end record points at
    the second."""
    z = bytearray(z)
    _, centrals, end = layout(z)
    first = bytes(z[centrals[0]:end])
    second = drop_central(bytearray(z), i)
    _, c2, e2 = layout(second)
    cd2 = bytes(second[c2[0]:e2])
    out = bytearray(z[:centrals[0]]) + first + cd2
    tail = bytearray(z[end:])
    n = len(c2)
    struct.pack_into("<HH", tail, 8, n, n)
    struct.pack_into("<II", tail, 12, len(cd2), centrals[0] + len(first))
    return out + tail


MUTATIONS = [m_none, m_append_empty_end, m_end_in_comment, m_concat_benign_after,
             m_concat_benign_before, m_sfx_prefix, m_trailing_junk, m_drop_central,
             m_rename_central, m_rename_local, m_local_stored, m_central_stored,
             m_descriptor_flag, m_central_points_elsewhere, m_duplicate_central,
             m_end_count_short, m_shadowed, m_shadowed_same_crc, m_unicode_path_extra,
             m_unicode_path_central_only, m_encrypted_flag_local,
             m_encrypted_flag_central, m_local_size_swallows_next, m_end_record_in_member,
             m_two_directories]
PAYLOADS = {}  # index -> the payload member of the zip being mutated (set per case)


# ---- readers: each returns (names, contents) it extracted, never raises ----------------------
def inflate_all(data):
    """Raw deflate from the start of `data`: (bytes, consumed) or (None, 0)."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(bytes(data))
    except zlib.error:
        return None, 0
    if not d.eof:
        return None, 0
    return out, len(data) - len(d.unused_data)


def local_entry(z, pos):
    """One local header at `pos`: (name, content or None, position after it)."""
    if len(z) < pos + 30:
        return None
    flags, method = struct.unpack_from("<HH", z, pos + 6)
    csize, usize, nlen, xlen = struct.unpack_from("<IIHH", z, pos + 18)
    name = bytes(z[pos + 30:pos + 30 + nlen]).decode("utf-8", "replace")
    at = pos + 30 + nlen + xlen
    content, after = None, at
    if method == 8:
        if flags & 8 and csize == 0:
            content, used = inflate_all(z[at:])
            after = at + used
        else:
            content, _ = inflate_all(z[at:at + csize])
            after = at + csize
    elif method == 0:
        if flags & 8 and csize == 0:
            end = z.find(b"PK\x07\x08", at)
            content = bytes(z[at:end]) if end >= 0 else None
            after = end if end >= 0 else len(z)
        else:
            content = bytes(z[at:at + csize])
            after = at + csize
    if flags & 8 and z[after:after + 4] == b"PK\x07\x08":
        after += 16
    return name, content, after


def read_streaming(z):
    names, contents = [], []
    pos = z.find(b"PK\x03\x04")
    while pos >= 0 and z[pos:pos + 4] == b"PK\x03\x04":
        e = local_entry(z, pos)
        if e is None:
            break
        names.append(e[0])
        if e[1] is not None:
            contents.append(e[1])
        if e[2] <= pos:
            break
        pos = e[2]
    return names, contents


def read_carving(z):
    names, contents = [], []
    pos = z.find(b"PK\x03\x04")
    while pos >= 0:
        e = local_entry(z, pos)
        if e is not None:
            names.append(e[0])
            if e[1] is not None:
                contents.append(e[1])
        pos = z.find(b"PK\x03\x04", pos + 4)
    return names, contents


def read_pyzip(z):
    names, contents = [], []
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(z))) as f:
            for info in f.infolist():
                names.append(info.filename)
                try:
                    contents.append(f.read(info))
                except Exception:  # a member this reader cannot read: its name still counts
                    pass
    except Exception:
        pass
    return names, contents


def run(cmd, path):
    try:
        return subprocess.run(cmd + [path], capture_output=True, timeout=20).stdout
    except subprocess.TimeoutExpired:
        return b""


def read_unzip(path):
    names = run(["unzip", "-Z1"], path).decode("utf-8", "replace").splitlines()
    return names, [run(["unzip", "-p"], path)]


def read_7z(path):
    out = run(["7z", "l", "-slt", "-ba", "-bd"], path).decode("utf-8", "replace")
    names = [ln[len("Path = "):] for ln in out.splitlines() if ln.startswith("Path = ")]
    return names, [run(["7z", "x", "-so", "-bd"], path)]


def banned(name):
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower().rstrip(". ")
    return base.endswith(".exe")


def main():
    args = sys.argv[1:]

    def opt(flag, default=None):
        return args[args.index(flag) + 1] if flag in args else default

    build_dir, work = opt("--avsink-build"), opt("--work")
    seed, blind = int(opt("--seed", "13")), "--blind" in args
    if not build_dir or not work:
        print(__doc__)
        return 2
    for tool in ("unzip", "7z"):
        if shutil.which(tool) is None:
            print("zip_oracle: %s is not installed" % tool)
            return 77
    cli = os.path.join(build_dir, "avsink")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rng = random.Random(seed)
    cases = []
    for kind in ("name", "eicar"):
        for mutate in MUTATIONS:
            for position in ("first", "middle", "last"):
                members = list(BENIGN)
                index = {"first": 0, "middle": 1, "last": 2}[position]
                members.insert(index, payload(kind))
                PAYLOADS.clear()
                PAYLOADS[index] = payload(kind)
                z = bytearray(mutate(build(members), index))
                if rng.random() < 0.5:  # the same trick behind an SFX-style prefix now and then
                    z = bytearray(rng.randbytes(rng.randrange(1, 600))) + z
                tag = "%s-%s-%s" % (kind, mutate.__name__[2:], position)
                zpath = os.path.join(work, tag + ".zip")
                with open(zpath, "wb") as f:
                    f.write(z)
                m = email.message.EmailMessage()
                m["From"], m["To"], m["Subject"] = "a@example.org", "b@example.net", tag
                m.set_content("see the attachment\n")
                m.add_attachment(bytes(z), maintype="application", subtype="zip",
                                 filename="archive.zip")
                epath = os.path.join(work, tag + ".eml")
                with open(epath, "wb") as f:
                    f.write(bytes(m))
                cases.append((tag, kind, bytes(z), zpath, epath))

    cfg = os.path.join(work, "avsink.toml")
    with open(cfg, "w") as f:
        f.write("[clamav]\nsystem_db = false\nsignature_dirs = [\"%s\"]\n"
                % os.path.join(ROOT, "signatures"))
    r = subprocess.run([cli, "scan", "--json", "--config", cfg] + [c[4] for c in cases],
                       capture_output=True, timeout=900)
    if r.returncode not in (0, 1):
        print("zip_oracle: avsink scan failed (%d): %s" % (r.returncode, r.stderr[:500]))
        return 2
    verdict = {}
    for line in r.stdout.decode("utf-8").splitlines():
        j = json.loads(line)
        verdict[j["path"]] = j.get("action", "?")

    readers = {"pyzip": lambda c: read_pyzip(c[2]), "unzip": lambda c: read_unzip(c[3]),
               "7z": lambda c: read_7z(c[3]), "stream": lambda c: read_streaming(c[2]),
               "carve": lambda c: read_carving(c[2])}
    misses, found_total, counts = [], 0, {k: 0 for k in readers}
    for c in cases:
        tag, kind = c[0], c[1]
        seen_by = []
        for rname, reader in readers.items():
            names, contents = reader(c)
            hit = any(banned(n) for n in names) if kind == "name" else \
                any(EICAR in x for x in contents)
            if hit:
                seen_by.append(rname)
                counts[rname] += 1
        if not seen_by:
            continue
        found_total += 1
        action = "accept" if blind else verdict.get(c[4], "?")
        if action == "accept":
            misses.append((tag, seen_by))
    print("zip oracle: %d zips, the payload extracted by some reader in %d; by reader: %s" %
          (len(cases), found_total, ", ".join("%s %d" % kv for kv in counts.items())))
    for tag, by in misses:
        print("MISS %s: accepted, extracted by %s" % (tag, ",".join(by)))
    if blind:
        ok = found_total > 0 and len(misses) == found_total
        print("blind check: every found payload reported as a miss" if ok else
              "blind check FAILED: %d of %d reported" % (len(misses), found_total))
        return 0 if ok else 1
    print("zip oracle: %d misses" % len(misses))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())

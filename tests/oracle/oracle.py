#!/usr/bin/env python3
# oracle.py - the MIME differential oracle (issue 21): what any extractor pulls out of a generated
# message, avsink's reader must also see (or call the message unscannable). See README.md here.
"""Differential oracle: independent MIME extractors against avsink's MIME stage.

For every message of gen_corpus.py (or --corpus DIR with a manifest.jsonl):
  extractors  python-compat32, python-default (email package), mimetools (Perl MIME-tools),
              ripmime, munpack, uudeview, reformime, libclamav (its own mail parser, through the
              file-inspection callback: clamav_extract)
  avsink      avsink_oracle_parts (mime::parse_message, default Limits): every leaf body, every
              filename candidate, any kUnscannable finding; and `avsink scan --json` end to end
              with the raw libclamav pass on and off (.zip blocked for the name families).
Property (a "miss" otherwise):
  payload  every extracted file in which the payload is visible (EICAR, or the benign marker of
           the name families, in the bytes or inside a zip member) must be matched by avsink: a
           leaf containing those bytes, or any leaf in which the payload is visible; or avsink's
           tree carries a kUnscannable finding.
  names    every filename an extractor reports that ends in .zip (normalised) must be one of
           avsink's candidates, unless the end-to-end verdict is not accept.
  e2e      the end-to-end verdict is never accept (raw pass on, and off).
Techniques listed in pending.txt are reported but do not fail the run (the lead empties the list
as the reader learns them). Exit 0 = no miss outside pending.txt, 1 = misses, 2 = setup error,
77 = an extractor is not installed.
"""
import argparse
import collections
import concurrent.futures as cf
import email
import email.policy
import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402

MARKERS = {"eicar": gen_corpus.EICAR, "benign": gen_corpus.BENIGN}
EXTRACTORS = ("python-compat32", "python-default", "mimetools", "ripmime", "munpack", "uudeview",
              "reformime", "libclamav")
TOOLS = {"ripmime": "ripmime", "munpack": "munpack", "uudeview": "uudeview",
         "reformime": "reformime", "mimetools": "perl"}


# ------------------------------------------------------------------------------------------
# What counts as "the payload is visible"
# ------------------------------------------------------------------------------------------
def local_members(data, limit=64, cap=4 << 20):
    """Members read from the local file headers alone, as streaming readers do (libclamav's zip
    walk, libarchive's): they still read a zip whose central directory a trick damaged. Stored
    members with unknown size and methods other than stored and deflate are left out (stored bytes
    are visible as they are)."""
    out, pos = [], 0
    while len(out) < limit:
        i = data.find(b"PK\x03\x04", pos)
        if i < 0 or i + 30 > len(data):
            break
        pos = i + 4
        flags, method = struct.unpack_from("<HH", data, i + 6)
        (csize,) = struct.unpack_from("<I", data, i + 18)
        nlen, xlen = struct.unpack_from("<HH", data, i + 26)
        start = i + 30 + nlen + xlen
        sized = not (flags & 8) and csize > 0
        body = data[start:start + csize] if sized else data[start:]
        if method == 0 and sized:
            out.append(body)
        elif method == 8:
            try:
                out.append(zlib.decompressobj(-15).decompress(body, cap))
            except zlib.error:  # noqa: PERF203 - a broken stream is simply not visible
                continue
    return out


def zip_members(data, depth=0):
    """Every member of a zip found in `data` (and zips inside it, 3 levels); [] when none. Read
    twice: through the central directory (zipfile) and through the local headers alone."""
    if depth > 3 or b"PK\x03\x04" not in data:
        return []
    start = data.find(b"PK\x03\x04")
    found = []
    try:
        with zipfile.ZipFile(io.BytesIO(data[start:])) as z:
            for info in z.infolist()[:64]:
                try:
                    found.append(z.read(info))
                except Exception:  # noqa: BLE001 - a broken member is simply not visible
                    continue
    except Exception:  # noqa: BLE001 - not a readable zip
        pass
    out, seen = [], set()
    for m in found + local_members(data):  # an intact zip gives each member both ways: once here
        if m in seen:
            continue
        seen.add(m)
        out.append(m)
        out += zip_members(m, depth + 1)
    return out


def visible(data, marker):
    m = MARKERS[marker]
    return m in data or any(m in x for x in zip_members(data))


def norm_name(n):
    n = n.replace("\\", "/").split("/")[-1]
    return n.strip().strip("\"'").strip().lower()


# ------------------------------------------------------------------------------------------
# Extractors. Each: fn(msg_path, out_dir, timeout) -> (files, names, error)
# ------------------------------------------------------------------------------------------
def python_extract(args):
    """Runs in a worker process: (policy, msg_path, out_dir) -> (files, names, error)."""
    policy_name, path, out = args
    policy = email.policy.compat32 if policy_name == "compat32" else email.policy.default
    files, names = [], []
    try:
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=policy)
        for i, part in enumerate(msg.walk()):
            for getter in (lambda: part.get_filename(), lambda: part.get_param("name")):
                try:
                    v = getter()
                except Exception:  # noqa: BLE001 - a header the policy cannot parse
                    v = None
                if isinstance(v, tuple):  # compat32 get_param may return an RFC 2231 triple
                    v = email.utils.collapse_rfc2231_value(v)
                if v:
                    names.append(str(v))
            if part.is_multipart():
                continue
            try:
                data = part.get_payload(decode=True)
            except Exception:  # noqa: BLE001
                data = None
            if data is None:
                continue
            p = os.path.join(out, "%d" % i)
            with open(p, "wb") as f:
                f.write(data)
            files.append(p)
    except Exception as e:  # noqa: BLE001 - the extractor failed on this message
        return files, names, "%s: %s" % (type(e).__name__, e)
    return files, names, None


def run(cmd, timeout, cwd=None, stdin=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, stdin=stdin, capture_output=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr, None
    except subprocess.TimeoutExpired:
        return None, b"", b"", "timeout after %ss" % timeout


def listing(out):
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(out) for f in fs)


def ext_ripmime(path, out, timeout):
    rc, so, se, err = run(["ripmime", "-i", path, "-d", out, "-v", "--no-paranoid"], timeout)
    names = [m.decode("utf-8", "replace") for m in re.findall(rb"Decoding filename=(.*)", so)]
    return listing(out), names, err


def ext_munpack(path, out, timeout):
    rc, so, se, err = run(["munpack", "-f", "-t", "-q", path], timeout, cwd=out)
    names = [m.decode("utf-8", "replace") for m in re.findall(rb"^(.*) \([^()]*\)\s*$", so, re.M)]
    return listing(out), names, err


def ext_uudeview(path, out, timeout):
    rc, so, se, err = run(["uudeview", "-i", "-q", "-n", "-a", "-p", out + "/", path], timeout)
    return listing(out), [os.path.basename(f) for f in listing(out)], err


def ext_reformime(path, out, timeout):
    with open(path, "rb") as f:
        rc, so, se, err = run(["reformime", "-i"], timeout, stdin=f)
    if err:
        return [], [], err
    files, names = [], []
    sections = so.split(b"\n\n")
    info = []
    for s in sections:
        d = {}
        for line in s.split(b"\n"):
            k, _, v = line.partition(b": ")
            d[k.strip()] = v
        if b"section" in d:
            info.append(d)
    all_secs = [d[b"section"] for d in info]
    for d in info:
        for k in (b"content-name", b"content-disposition-filename"):
            if k in d:
                names.append(d[k].decode("utf-8", "replace"))
        sec = d[b"section"]
        if any(o.startswith(sec + b".") for o in all_secs):
            continue  # a container
        with open(path, "rb") as f:
            rc, data, se, err = run(["reformime", "-e", "-s", sec.decode()], timeout, stdin=f)
        if err:
            return files, names, err
        p = os.path.join(out, sec.decode())
        with open(p, "wb") as g:
            g.write(data)
        files.append(p)
    return files, names, None


def ext_libclamav(tool):
    def fn(path, out, timeout):
        rc, so, se, err = run([tool, out, path], timeout)
        names = []
        idx = os.path.join(out, "index.tsv")
        files = []
        if os.path.exists(idx):
            for line in open(idx, encoding="utf-8", errors="replace"):
                cols = line.rstrip("\n").split("\t")
                files.append(cols[0])
                # libclamav names nameless parts "attachment"; that is not a reading of the name
                if len(cols) > 3 and cols[3] and cols[3] != "attachment":
                    names.append(cols[3])
        if rc not in (0, None) and not err:
            err = "exit %s: %s" % (rc, se.decode("utf-8", "replace").strip()[:200])
        return files, names, err
    return fn


def mimetools_batch(paths, out_root, timeout):
    """One perl process for many messages (perl start-up dominates otherwise)."""
    script = os.path.join(HERE, "mimetools_extract.pl")
    rc, so, se, err = run(["perl", script, "--batch", out_root, str(int(timeout))] + paths,
                          timeout * len(paths) + 30)
    results = {}
    for k, p in enumerate(paths):
        d = os.path.join(out_root, str(k))
        names, error = [], err
        if os.path.exists(os.path.join(d, "names.txt")):
            names = [n for n in open(os.path.join(d, "names.txt"), encoding="utf-8",
                                     errors="replace").read().split("\n") if n]
        if os.path.exists(os.path.join(d, "error.txt")):
            error = open(os.path.join(d, "error.txt"), encoding="utf-8", errors="replace").read()
        files = [f for f in listing(d) if os.path.basename(f) not in ("names.txt", "error.txt")]
        results[p] = (files, names, error)
    return results


# ------------------------------------------------------------------------------------------
# avsink
# ------------------------------------------------------------------------------------------
def cmake_cache(build, key):
    try:
        for line in open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8"):
            if line.startswith(key + ":"):
                return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def find_or_build_tools(build, src, work):
    """avsink_oracle_parts and avsink_oracle_clamav_extract from `build`, or compiled here
    against build/libavsink.a and the headers of its source tree (a build of another branch)."""
    tools = {}
    for name, source in (("avsink_oracle_parts", "avsink_parts.cpp"),
                         ("avsink_oracle_clamav_extract", "clamav_extract.cpp")):
        p = os.path.join(build, "tests", "oracle", name)
        if os.path.exists(p):
            tools[name] = p
            continue
        out = os.path.join(work, name)
        cmd = ["g++", "-std=c++20", "-O1", "-o", out, os.path.join(HERE, source)]
        if name == "avsink_oracle_parts":
            lib = os.path.join(build, "libavsink.a")
            if not os.path.exists(lib):
                raise SystemExit("oracle: no %s and no %s" % (p, lib))
            cmd += ["-I", os.path.join(src, "src"), "-I", os.path.join(src, "include"), lib]
            pc = ["libclamav", "re2", "libcrypto", "tomlplusplus"]
            cmd += subprocess.run(["pkg-config", "--cflags", "--libs"] + pc, capture_output=True,
                                  text=True, check=True).stdout.split()
            cmd += ["-lmimetic", "-lpthread"]
        else:
            cmd += subprocess.run(["pkg-config", "--cflags", "--libs", "libclamav"],
                                  capture_output=True, text=True, check=True).stdout.split()
        print("oracle: building %s: %s" % (name, " ".join(cmd)), flush=True)
        subprocess.run(cmd, check=True)
        tools[name] = out
    cli = os.path.join(build, "avsink")
    if not os.path.exists(cli):
        raise SystemExit("oracle: no avsink CLI at %s" % cli)
    tools["avsink"] = cli
    return tools


def avsink_parts(tool, paths, bodies_dir, jobs):
    os.makedirs(bodies_dir, exist_ok=True)
    chunks = [paths[i:i + 100] for i in range(0, len(paths), 100)]

    def one(k_chunk):
        k, chunk = k_chunk
        d = os.path.join(bodies_dir, str(k))
        os.makedirs(d, exist_ok=True)
        r = subprocess.run([tool, "--bodies", d] + chunk, capture_output=True, timeout=600)
        if r.returncode not in (0,):
            raise SystemExit("oracle: %s failed (%d): %s" % (tool, r.returncode, r.stderr[:500]))
        return [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]

    out = {}
    with cf.ThreadPoolExecutor(jobs) as ex:
        for rows in ex.map(one, enumerate(chunks)):
            for row in rows:
                out[row["file"]] = row
    return out


def avsink_scan(cli, paths, config_text, work, tag, jobs):
    """{path: (action, [finding names])} from `avsink scan --json` with the given config."""
    cfg = os.path.join(work, "avsink-%s.toml" % tag)
    with open(cfg, "w") as f:
        f.write(config_text)
    chunks = [paths[i::jobs] for i in range(jobs)]

    def one(chunk):
        if not chunk:
            return []
        r = subprocess.run([cli, "scan", "--json", "--config", cfg] + chunk, capture_output=True,
                           timeout=1200)
        if r.returncode not in (0, 1):
            raise SystemExit("oracle: avsink scan failed (%d): %s" % (r.returncode,
                                                                       r.stderr[:500]))
        return [json.loads(line) for line in r.stdout.decode("utf-8").splitlines() if line]

    out = {}
    with cf.ThreadPoolExecutor(jobs) as ex:
        for rows in ex.map(one, chunks):
            for j in rows:
                out[j["path"]] = (j.get("action", "?"),
                                  [f.get("name", "") for f in j.get("findings", [])])
    return out


# ------------------------------------------------------------------------------------------
def load_pending():
    p = os.path.join(HERE, "pending.txt")
    out = set()
    if os.path.exists(p):
        for line in open(p, encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                out.add(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--count", type=int, default=0, help="messages (0 = every combination)")
    ap.add_argument("--avsink-build", required=True, help="build dir: avsink CLI, libavsink.a")
    ap.add_argument("--avsink-src", default="", help="its source tree (default: from CMakeCache)")
    ap.add_argument("--work", default="", help="scratch dir (default: a temp dir, removed)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10, help="seconds per extractor per message")
    ap.add_argument("--extractors", default=",".join(EXTRACTORS))
    ap.add_argument("--families", default="", help="comma list: only these families")
    ap.add_argument("--misses-md", default="", help="also write the miss list as Markdown here")
    ap.add_argument("--report-json", default="", help="also write every row as JSON here")
    ap.add_argument("--strict", action="store_true", help="pending.txt techniques fail too")
    ap.add_argument("--blind", action="store_true",
                    help="self-check: pretend avsink's reader saw nothing; every payload an "
                    "extractor found must then be reported as a miss (exit 0 if so)")
    ap.add_argument("--mix", action="store_true",
                    help="container techniques also get a random leaf technique (exploration)")
    a = ap.parse_args()
    t0 = time.time()
    extractors = [e for e in a.extractors.split(",") if e]
    for e in extractors:
        if e not in EXTRACTORS:
            raise SystemExit("oracle: unknown extractor %s" % e)
        if e in TOOLS and not shutil.which(TOOLS[e]):
            print("oracle: %s is not installed (scripts/install-deps)" % TOOLS[e])
            return 77
    if "mimetools" in extractors and subprocess.run(["perl", "-MMIME::Parser", "-e", "1"],
                                                    capture_output=True).returncode:
        print("oracle: Perl MIME-tools is not installed (libmime-tools-perl)")
        return 77
    build = os.path.abspath(a.avsink_build)
    src = a.avsink_src or cmake_cache(build, "CMAKE_HOME_DIRECTORY") or os.path.join(HERE, "..",
                                                                                      "..")
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="avsink-oracle-")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    tools = find_or_build_tools(build, src, work)

    corpus = os.path.join(work, "corpus")
    rows = gen_corpus.generate(a.seed, a.count, corpus, a.mix)
    if a.families:
        fams = set(a.families.split(","))
        rows = [r for r in rows if r["family"] in fams]
    for r in rows:
        r["path"] = os.path.join(corpus, r["file"])
    paths = [r["path"] for r in rows]
    print("oracle: %d messages (seed %d) in %s" % (len(rows), a.seed, corpus), flush=True)

    # avsink: the MIME stage, then the whole scan (raw pass on and off)
    parts = avsink_parts(tools["avsink_oracle_parts"], paths, os.path.join(work, "avsink-bodies"),
                         a.jobs)
    base = "[clamav]\nsystem_db = false\nsignature_dirs = [\"%s\"]\n" % os.path.join(
        src, "signatures")
    zip_block = "[attachments]\nblock = [\"zip\"]\n"
    e2e = {}
    for raw in ("true", "false"):
        for marker in ("eicar", "benign"):
            ps = [r["path"] for r in rows if r["marker"] == marker]
            cfg = base + ("[scan]\nraw_message_pass = %s\n" % raw) + (
                zip_block if marker == "benign" else "")
            for p, v in avsink_scan(tools["avsink"], ps, cfg, work, "%s-%s" % (marker, raw),
                                    a.jobs).items():
                e2e.setdefault(p, {})["raw-" + ("on" if raw == "true" else "off")] = v
    print("oracle: avsink done at %.0fs" % (time.time() - t0), flush=True)

    # extractors
    ext_dir = os.path.join(work, "extracted")
    results = collections.defaultdict(dict)  # path -> extractor -> (files, names, error)
    simple = {"ripmime": ext_ripmime, "munpack": ext_munpack, "uudeview": ext_uudeview,
              "reformime": ext_reformime,
              "libclamav": ext_libclamav(tools["avsink_oracle_clamav_extract"])}
    jobs = []
    for k, p in enumerate(paths):
        for e in extractors:
            if e in simple:
                out = os.path.join(ext_dir, e, str(k))
                os.makedirs(out)
                jobs.append((p, e, out))
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        futs = {ex.submit(simple[e], p, out, a.timeout): (p, e) for p, e, out in jobs}
        for f in cf.as_completed(futs):
            p, e = futs[f]
            results[p][e] = f.result()
    for pol in ("compat32", "default"):
        e = "python-" + pol
        if e not in extractors:
            continue
        with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
            pend = []
            for k, p in enumerate(paths):
                out = os.path.join(ext_dir, e, str(k))
                os.makedirs(out)
                pend.append((p, pool.apply_async(python_extract, ((pol, p, out),))))
            for p, ar in pend:
                try:
                    results[p][e] = ar.get(a.timeout)
                except multiprocessing.TimeoutError:
                    results[p][e] = ([], [], "timeout after %ss" % a.timeout)
    if "mimetools" in extractors:
        batches = [paths[i:i + 100] for i in range(0, len(paths), 100)]
        with cf.ThreadPoolExecutor(a.jobs) as ex:
            futs = [ex.submit(mimetools_batch, b, os.path.join(ext_dir, "mimetools", str(k)),
                              a.timeout) for k, b in enumerate(batches)]
            for f in futs:
                for p, v in f.result().items():
                    results[p]["mimetools"] = v
    print("oracle: extractors done at %.0fs" % (time.time() - t0), flush=True)

    # the property
    pending = load_pending()
    misses, report = [], []
    fam_stats = collections.OrderedDict()
    for r in rows:
        p = r["path"]
        marker = r["marker"]
        av = {} if a.blind else parts.get(p, {})
        leaves = []
        for lf in av.get("leaves", []):
            with open(lf["body_file"], "rb") as f:
                leaves.append(f.read())
        av_visible = any(visible(x, marker) for x in leaves)
        unscannable = bool(av.get("unscannable"))
        av_names = {norm_name(n) for n in av.get("filenames", [])}
        verdicts = e2e.get(p, {})
        accepted = sorted(k for k, v in verdicts.items() if v[0] == "accept")
        st = fam_stats.setdefault(r["family"], collections.Counter())
        st["messages"] += 1
        row = {"file": r["file"], "family": r["family"], "technique": r["technique"],
               "mixed_with": r.get("mixed_with", ""),
               "position": r["position"], "disposition": r["disposition"],
               "avsink_visible": av_visible, "unscannable": av.get("unscannable", []),
               "avsink_names": sorted(av_names),
               "e2e": {k: v[0] for k, v in verdicts.items()}, "found_by": {}, "names": {},
               "errors": {}, "misses": []}
        if av_visible:
            st["avsink sees"] += 1
        if unscannable:
            st["unscannable"] += 1
        key = "%s/%s" % (r["family"], r["technique"])
        is_pending = key in pending or r.get("mixed_with") in pending
        for e in extractors:
            files, names, err = results[p].get(e, ([], [], "not run"))
            if err:
                row["errors"][e] = err
            found = []
            for fp in files:
                try:
                    with open(fp, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                if visible(data, marker):
                    found.append((fp, data))
            # names are judged for the name families only: there .zip is the blocked name; in the
            # other families the zip is named openly and its content is what matters
            zipnames = [n for n in names if marker == "benign" and norm_name(n).endswith(".zip")]
            row["names"][e] = names
            if found:
                row["found_by"][e] = [hashlib.sha256(d).hexdigest() for _, d in found]
                st["found: " + e] += 1
                for fp, data in found:
                    if av_visible or unscannable or any(data in x for x in leaves):
                        continue
                    row["misses"].append({"kind": "payload", "extractor": e, "file": fp,
                                          "sha256": hashlib.sha256(data).hexdigest(),
                                          "size": len(data)})
                    break
            for n in zipnames:
                if norm_name(n) in av_names or not accepted:
                    continue
                row["misses"].append({"kind": "name", "extractor": e, "name": n,
                                      "avsink_names": sorted(av_names)})
        # accepted end to end: a miss when some extractor found the payload (or, in the name
        # families, read a .zip name); otherwise no reader recovers it and accept is only noted
        zip_read = marker == "benign" and any(
            norm_name(n).endswith(".zip") for e in extractors for n in row["names"].get(e, []))
        for k in accepted:
            if row["found_by"] if marker == "eicar" else zip_read:
                row["misses"].append({"kind": "e2e-accept", "config": k,
                                      "findings": verdicts[k][1]})
            else:
                st["accepted, unfound"] += 1
                row.setdefault("notes", []).append("accepted with %s; no extractor found the "
                                                   "payload" % k)
        if row["misses"]:
            kinds = {m["kind"] for m in row["misses"]}
            for kd in kinds:
                st["miss: " + kd] += 1
            row["pending"] = is_pending
            if is_pending:
                st["pending"] += 1
            misses.append(row)
        report.append(row)

    # the table
    cols = ["messages"] + ["found: " + e for e in extractors] + \
        ["avsink sees", "unscannable", "miss: payload", "miss: name", "miss: e2e-accept",
         "pending", "accepted, unfound"]
    short = {c: c.replace("found: ", "").replace("python-", "py-").replace("miss: ", "miss-")
             .replace("accepted, unfound", "acc-unfnd") for c in cols}
    print("\n%-12s " % "family" + " ".join("%9s" % short[c][:9] for c in cols))
    total = collections.Counter()
    for fam, st in fam_stats.items():
        total.update(st)
        print("%-12s " % fam + " ".join("%9d" % st[c] for c in cols))
    print("%-12s " % "TOTAL" + " ".join("%9d" % total[c] for c in cols))
    errs = collections.Counter(e for r in report for e in r["errors"])
    timeouts = collections.Counter(e for r in report for e, v in r["errors"].items()
                                   if "timeout" in str(v))
    if errs:
        print("extractor errors (messages): " + ", ".join(
            "%s %d (%d timeouts)" % (e, n, timeouts[e]) for e, n in sorted(errs.items())))
    failing = [m for m in misses if a.strict or not m.get("pending")]
    ran = {"%s/%s" % (r["family"], r["technique"]) for r in rows}
    stale = sorted((pending & ran) - {"%s/%s" % (m["family"], m["technique"]) for m in misses})
    if misses:
        print("\nmisses (%d messages, %d not pending):" % (len(misses), len(failing)))
        for m in misses:
            print(describe_miss(m))
    if stale and not a.mix and a.count == 0:  # a sample may miss a technique's failing cases
        print("\npending.txt entries that no longer miss (remove them): " + " ".join(stale))
    if a.misses_md:
        write_md(a, misses, fam_stats, cols, short, total)
    if a.report_json:
        with open(a.report_json, "w") as f:
            json.dump(report, f, indent=1)
    print("\noracle: %d messages, %d with misses (%d pending), %.0fs; work dir %s" %
          (len(rows), len(misses), len(misses) - len(failing), time.time() - t0, work))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    if a.blind:
        found = sum(1 for r in report if r["found_by"])
        caught = sum(1 for r in report if r["found_by"] and
                     any(x["kind"] == "payload" for x in r["misses"]))
        ok = found > 0 and caught == found
        print("blind check: %d of %d messages with an extracted payload reported as a miss%s" %
              (caught, found, "" if ok else " -- THE ORACLE MISSES MISSES"))
        if ok:
            print("blind check: every found payload reported as a miss")
        return 0 if ok else 1
    return 1 if failing else 0


def describe_miss(m):
    payload = sorted({x["extractor"] for x in m["misses"] if x["kind"] == "payload"})
    names = collections.defaultdict(set)
    for x in m["misses"]:
        if x["kind"] == "name":
            names[x["name"]].add(x["extractor"])
    accepted = sorted(x["config"] for x in m["misses"] if x["kind"] == "e2e-accept")
    parts = []
    if payload:
        parts.append("avsink misses the payload that %s extract" % ", ".join(payload))
    for n, es in sorted(names.items()):
        parts.append("name %r (%s) not among avsink's %s" % (n, ", ".join(sorted(es)),
                                                             m["avsink_names"] or "[]"))
    if accepted:
        parts.append("accepted with %s" % ", ".join(accepted))
    return "  %s%s [%s/%s%s %s %s] payload seen by: %s; %s" % (
        "(pending) " if m.get("pending") else "", m["file"], m["family"], m["technique"],
        " + " + m["mixed_with"] if m.get("mixed_with") else "",
        m["position"], m["disposition"], ", ".join(sorted(m["found_by"])) or "none",
        "; ".join(parts))


def write_md(a, misses, fam_stats, cols, short, total):
    by_tech = collections.OrderedDict()
    for m in misses:
        by_tech.setdefault((m["family"], m["technique"]), []).append(m)
    out = ["# Oracle misses (tests/oracle/oracle.py, seed %d)" % a.seed, "",
           "Generated by `tests/oracle/oracle.py`; rerun (from a worktree with tests/oracle):", "",
           "    python3 tests/oracle/oracle.py --seed %d --avsink-build BUILD_DIR --work /tmp/oracle-work \\" % a.seed,
           "        --misses-md /work/wt/notes/oracle-misses.md", "",
           "BUILD_DIR is any configured avsink build with `avsink` and `libavsink.a` built (e.g. "
           "`/work/main/build`); the oracle's own helpers are compiled against that library and the "
           "headers of its source tree when the build has no tests/oracle targets. "
           "Messages stay in /tmp/oracle-work/corpus (same file names as below). "
           "`--families boundary,cte` limits the run. Techniques in tests/oracle/pending.txt are "
           "reported but do not fail the run (`--strict`: they do); remove a line once the reader "
           "has it (the run prints lines that no longer miss).", "",
           "Columns: how many messages each extractor found the payload in; `avsink sees`: the "
           "payload is visible in one of avsink's leaves; `miss-payload`: an extractor found it "
           "and avsink has neither the bytes nor an unscannable finding; `miss-name`: an extractor "
           "read a .zip name avsink lacks and the message is accepted; `miss-e2e-accept`: "
           "`avsink scan` accepted a message in which some extractor found the payload (raw pass on "
           "or off); `acc-unfnd`: accepted, but no extractor recovers the payload either (info).",
           "",
           "| family | " + " | ".join(short[c] for c in cols) + " |",
           "|---" * (len(cols) + 1) + "|"]
    for fam, st in fam_stats.items():
        out.append("| %s | " % fam + " | ".join(str(st[c]) for c in cols) + " |")
    out.append("| TOTAL | " + " | ".join(str(total[c]) for c in cols) + " |")
    for cfg, title in (("raw-on", "with the defaults (raw libclamav pass on)"),
                       ("raw-off", "with raw_message_pass = false (the reader alone)")):
        acc = collections.Counter("%s/%s" % (m["family"], m["technique"]) for m in misses
                                  if any(x.get("config") == cfg for x in m["misses"]))
        out += ["", "Accepted %s although an extractor found the payload: %d messages%s" % (
            title, sum(acc.values()), (": " + ", ".join("%s %d" % kv for kv in acc.items()))
            if cfg == "raw-on" and acc else "")]
    out += ["", "## Misses by technique (%d messages)" % len(misses), ""]
    for (fam, tech), ms in by_tech.items():
        kinds = collections.Counter(k for m in ms for k in {x["kind"] for x in m["misses"]})
        found = collections.Counter(e for m in ms for e in m["found_by"])
        weak = found and set(found) <= {"ripmime", "uudeview"}
        out.append("- **%s/%s**%s: %d messages (%s); payload found by %s%s; e.g. `%s`: %s" % (
            fam, tech, " (pending)" if ms[0].get("pending") else "", len(ms),
            ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
            ", ".join("%s %d" % kv for kv in sorted(found.items())) or "no extractor",
            " (only ripmime/uudeview, which also decode blocks found inside text)" if weak else "",
            ms[0]["file"], describe_miss(ms[0]).split("; ", 1)[-1]))
    with open(a.misses_md, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# sigdb_gen.py - deterministic synthetic ClamAV signature database of realistic size for bench/run.
# Invariant: same seed and counts give byte-identical files; generated at bench time, never committed.
"""usage: sigdb_gen.py --out DIR [--hashes 1000000] [--bodies 60000] [--seed 20261203] [--shipped DIR]

Writes into DIR (created; existing bench-synthetic files replaced):
  bench-synthetic.hdb  --hashes MD5 hash signatures, "md5:size:Bench.Synth.Hash-N", sizes
                       log-uniform between 64 bytes and 16 MiB (libclamav hashes a file only when
                       some signature has its size, so the sizes decide how often it must hash)
  bench-synthetic.ndb  --bodies body signatures "Bench.Synth.Body-N:0:*:HEX": target 0 (any file),
                       any offset, 16-40 random bytes each
and copies the database files of --shipped (the repository's signatures/) beside them, so EICAR and
the test signatures are still detected. Random 16+ byte patterns and random MD5s match no corpus
message by chance, so detections stay those of the shipped signatures.
"""
import argparse
import math
import os
import random
import shutil
import sys

DB_SUFFIXES = (".hdb", ".hsb", ".ndb", ".ldb", ".cdb", ".mdb", ".msb", ".fp", ".sfp", ".ign2",
               ".ftm", ".idb", ".pdb", ".wdb", ".cvd", ".cld", ".cud", ".yar", ".yara")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--hashes", type=int, default=1000000)
    ap.add_argument("--bodies", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--shipped", default=None)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    r = random.Random(a.seed)

    lo, hi = math.log(64), math.log(16 << 20)
    tmp = os.path.join(a.out, "bench-synthetic.hdb.tmp")
    with open(tmp, "w") as f:
        batch = []
        for i in range(a.hashes):
            size = int(math.exp(lo + (hi - lo) * r.random()))
            batch.append("%032x:%d:Bench.Synth.Hash-%d\n" % (r.getrandbits(128), size, i))
            if len(batch) == 10000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))
    os.replace(tmp, os.path.join(a.out, "bench-synthetic.hdb"))

    tmp = os.path.join(a.out, "bench-synthetic.ndb.tmp")
    with open(tmp, "w") as f:
        for i in range(a.bodies):
            n = r.randint(16, 40)
            f.write("Bench.Synth.Body-%d:0:*:%s\n" % (i, r.randbytes(n).hex()))
    os.replace(tmp, os.path.join(a.out, "bench-synthetic.ndb"))

    copied = 0
    if a.shipped:
        for name in sorted(os.listdir(a.shipped)):
            if name.endswith(DB_SUFFIXES):
                shutil.copy(os.path.join(a.shipped, name), os.path.join(a.out, name))
                copied += 1
    print("sigdb: %d hash + %d body signatures, %d shipped database file(s) -> %s" % (
        a.hashes, a.bodies, copied, a.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# check_includes.py - fails when an #include crosses a forbidden arrow between avsink's stages.
# The arrows are DESIGN.md's data flow: adapters use the C ABI only, util is the bottom, then core, inspectors never meet.
"""Usage: check_includes.py SOURCE_DIR   (exit 0: clean; 1: a forbidden include, each one printed)

A quoted include "X/..." from a file under src/S/ is allowed when X is in ALLOWED[S]. Files under
plugins/ (the MTA adapters) may include only <avsink/avsink.h>, "smtp/client.h", system headers and their own
headers (a quoted name without a stage folder). A stage missing from ALLOWED is itself an error,
so a new stage must state its arrows here.
"""
import os
import re
import sys

INSPECTORS = {"rules", "attachments", "engines"}
ALLOWED = {
    "util": {"util"},  # knows nothing of mail: nothing above it
    "core": {"util", "core"},
    "smtp": {"smtp"},  # the SMTP client: stands alone, so avsink-smtpd may link it
    "mime": {"util", "core", "mime"},  # never engines, policy or anything above
    "engines": {"util", "core", "engines"},
    "attachments": {"util", "core", "mime", "attachments"},
    "rules": {"util", "core", "mime", "rules"},
    "containers": {"util", "core", "containers"},
    "policy": {"util", "core", "policy"},
    "quarantine": {"util", "core", "quarantine", "smtp"},
    "rewrite": {"util", "core", "mime", "rewrite"},
    "session": {"util", "core", "mime", "engines", "attachments", "rules", "containers", "policy",
                "quarantine", "rewrite", "session"},
    "capi": {"util", "avsink", "core", "policy", "session", "capi"},
    "cli": {"util", "avsink", "core", "mime", "rules", "quarantine", "policy", "session", "capi", "cli"},
}
# What an adapter may include besides its own headers: the C ABI, and the SMTP client (no scanning).
ADAPTER_HEADERS = {"avsink/avsink.h", "smtp/client.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = []
    checked = 0
    for top in ("src", "plugins"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cpp", ".c")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                parts = rel.split(os.sep)
                stage = parts[1] if top == "src" and len(parts) > 2 else None
                if top == "src" and stage is None:
                    continue
                if top == "src" and stage not in ALLOWED:
                    bad.append(f"{rel}: stage '{stage}' has no entry in check_includes.py")
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        checked += 1
                        target = m.group(1)
                        folder = target.split("/")[0] if "/" in target else None
                        if top == "plugins":
                            if folder is not None and target not in ADAPTER_HEADERS:
                                bad.append(f"{rel}:{lineno}: adapter includes \"{target}\" "
                                           "(adapters use the C ABI only)")
                        elif folder is not None and folder not in ALLOWED[stage]:
                            why = ("inspectors never include each other"
                                   if stage in INSPECTORS and folder in INSPECTORS
                                   else f"{stage} may include only {sorted(ALLOWED[stage])}")
                            bad.append(f"{rel}:{lineno}: includes \"{target}\": {why}")
    for b in bad:
        print(b)
    print(f"check_includes: {checked} includes checked, {len(bad)} forbidden")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

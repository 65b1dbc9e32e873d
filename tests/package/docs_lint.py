#!/usr/bin/env python3
# docs_lint.py - fails on any avsink.toml key in docs/ or README.md that the parser does not know.
# The known keys come from the parser's own table (`avsink_gen_man --keys`).
"""Usage: docs_lint.py KEYS_FILE|--keys-from GEN_BINARY SOURCE_DIR

Checked, in every docs/*.md, docs/*.toml and README.md:
  - TOML: a ```toml block, a fenced block with a [section] line, or a .toml file: every [section]
    and every `key =` line (a key before any [section] is an error: there are no top-level keys);
  - a markdown table whose header names `[section]`: each first-column `key` is in that section;
  - `[section] key` in backticks anywhere.
(`section.name` is not read as a key: audit events are named so, e.g. `quarantine.release`.)
Exit 0: clean; 1: unknown keys, each printed as FILE:LINE: reason.
"""
import glob
import os
import re
import subprocess
import sys

IDENT = r"[a-z_][a-z0-9_]*"
SECTION_LINE = re.compile(r"^\s*\[\[?(" + IDENT + r")\]\]?\s*(#.*)?$")  # [s] or [[s]]
KEY_LINE = re.compile(r"^\s*(" + IDENT + r")\s*=")
FENCE = re.compile(r"^\s*```\s*(\S*)")
BRACKET_KEY = re.compile(r"`\[(" + IDENT + r")\]\s+(" + IDENT + r")")
TABLE_SECTION = re.compile(r"`\[(" + IDENT + r")\]`")
FIRST_CELL_KEY = re.compile(r"^\|\s*`(" + IDENT + r")`\s*\|")


class Linter:
    def __init__(self, keys):
        self.keys = keys
        self.sections = {k.split(".")[0] for k in keys}
        self.errors = []

    def check(self, where, section, key, how):
        if section is None:
            self.errors.append(f"{where}: '{key}' outside any [section] ({how})")
        elif section not in self.sections:
            self.errors.append(f"{where}: unknown section [{section}] ({how})")
        elif f"{section}.{key}" not in self.keys:
            self.errors.append(f"{where}: unknown key '{key}' in [{section}] ({how})")

    def toml_lines(self, path, numbered_lines):
        section = None
        for no, line in numbered_lines:
            m = SECTION_LINE.match(line)
            if m:
                section = m.group(1)
                if section not in self.sections:
                    self.errors.append(f"{path}:{no}: unknown section [{section}] (TOML)")
                continue
            m = KEY_LINE.match(line)
            if m:
                self.check(f"{path}:{no}", section, m.group(1), "TOML")

    def markdown(self, path, lines):
        block, info, table_section = None, "", None
        for no, line in enumerate(lines, 1):
            m = FENCE.match(line)
            if m:
                if block is None:
                    block, info = [], m.group(1)
                else:
                    if info == "toml" or any(SECTION_LINE.match(l) for _, l in block):
                        self.toml_lines(path, block)
                    block = None
                continue
            if block is not None:
                block.append((no, line))
                continue
            for sec, key in BRACKET_KEY.findall(line):
                self.check(f"{path}:{no}", sec, key, "`[section] key`")
            if line.startswith("|"):
                if table_section is None:
                    m = TABLE_SECTION.search(line)
                    table_section = m.group(1) if m else ""
                elif table_section:
                    m = FIRST_CELL_KEY.match(line)
                    if m:
                        self.check(f"{path}:{no}", table_section, m.group(1),
                                   f"table of [{table_section}]")
            else:
                table_section = None


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--keys-from":
        out = subprocess.run([args[1], "--keys"], stdout=subprocess.PIPE, check=True, text=True,
                             timeout=30).stdout
        src = args[2]
    elif len(args) == 2:
        out = open(args[0], encoding="utf-8").read()
        src = args[1]
    else:
        print(__doc__)
        return 2
    keys = set(out.split())
    if len(keys) < 10:
        print(f"too few keys from the parser: {sorted(keys)}")
        return 2
    lint = Linter(keys)
    files = sorted(glob.glob(os.path.join(src, "docs", "*.md"))) + [os.path.join(src, "README.md")]
    for path in files:
        with open(path, encoding="utf-8") as f:
            lint.markdown(os.path.relpath(path, src), f.read().splitlines())
    for path in sorted(glob.glob(os.path.join(src, "docs", "*.toml"))):
        with open(path, encoding="utf-8") as f:
            lint.toml_lines(os.path.relpath(path, src), enumerate(f.read().splitlines(), 1))
    for e in lint.errors:
        print(e)
    print(f"{len(files)} files, {len(keys)} keys known: "
          + ("clean" if not lint.errors else f"{len(lint.errors)} unknown key(s)"))
    return 1 if lint.errors else 0


if __name__ == "__main__":
    sys.exit(main())

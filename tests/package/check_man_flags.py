#!/usr/bin/env python3
# check_man_flags.py - fails when a man page and the program's --help disagree on an option: every
# flag --help prints must be in the man page, and every flag the man page names must be in --help.
"""Usage: check_man_flags.py AVSINK_BINARY AVSINK_MILTER_BINARY|- MAN_DIR

avsink(1) is compared with `avsink --help` plus `avsink COMMAND --help` for every command the
main help lists; avsink-milter(8) with `avsink-milter --help` (skipped when the milter is "-").
Exit 0: they agree; 1: a difference (each printed).
"""
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w/.-])(--?[A-Za-z][A-Za-z0-9-]*)")


def help_text(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    return p.stdout


def flags(text):
    return set(FLAG.findall(text))


def man_text(path):
    """The man page's text with roff escapes undone; comment lines dropped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith('.\\"'):
                continue
            line = re.sub(r"\\f[BIRP]", "", line)
            line = line.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
            out.append(line)
    return "".join(out)


def commands(main_help):
    """Command names listed under 'commands:' in `avsink --help`."""
    names, inside = [], False
    for line in main_help.splitlines():
        if line.strip() == "commands:":
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                break
            names.append(line.split()[0])
    return names


def compare(name, help_flags, man_flags):
    bad = 0
    for f in sorted(help_flags - man_flags):
        print(f"{name}: {f} is in --help but not in the man page")
        bad += 1
    for f in sorted(man_flags - help_flags):
        print(f"{name}: {f} is in the man page but not in --help")
        bad += 1
    return bad


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    avsink, milter, man_dir = sys.argv[1:]
    main_help = help_text([avsink, "--help"])
    cmds = commands(main_help)
    if len(cmds) < 3:
        print(f"avsink --help lists no commands:\n{main_help}")
        return 1
    text = main_help + "".join(help_text([avsink, c, "--help"]) for c in cmds)
    bad = compare("avsink.1", flags(text), flags(man_text(f"{man_dir}/avsink.1")))
    if milter != "-":
        bad += compare("avsink-milter.8", flags(help_text([milter, "--help"])),
                       flags(man_text(f"{man_dir}/avsink-milter.8")))
    print("man pages agree with --help" if bad == 0 else f"{bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

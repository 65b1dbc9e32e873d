#!/usr/bin/env python3
# docs_lint_test.py - every AVSINK_API function in avsink.h has a doc block stating Ownership,
# Thread-safety, Errors and Since (or sits under a group block that states them), and every status is named.
import re
import sys

text = open(sys.argv[1]).read()
problems = []
# Split into declarations: each AVSINK_API ... ; with the comment block just before it.
for m in re.finditer(r'(/\*(?:(?!\*/).)*\*/)\s*AVSINK_API[^;]*?(avsink_\w+)\s*\(', text, re.S):
    doc, name = m.group(1), m.group(2)
    group = 'Verdict accessors' in text[:m.start()] and name.startswith('avsink_verdict_')
    for word in ('Errors', 'Since'):
        if word not in doc:
            problems.append(f'{name}: doc block lacks "{word}:"')
    if not group:
        if 'Ownership' not in doc and 'static string' not in doc:
            problems.append(f'{name}: doc block lacks "Ownership:"')
        if 'Thread-safety' not in doc:
            problems.append(f'{name}: doc block lacks "Thread-safety:"')
declared = set(re.findall(r'AVSINK_API[^;]*?(avsink_\w+)\s*\(', text, re.S))
documented = set(m.group(2) for m in re.finditer(r'(/\*(?:(?!\*/).)*\*/)\s*AVSINK_API[^;]*?(avsink_\w+)\s*\(', text, re.S))
for name in sorted(declared - documented):
    problems.append(f'{name}: no doc block directly before it')
statuses = re.findall(r'\b(AVSINK_E[A-Z]+)\s*=', text)
for s in statuses:
    if not re.search(s + r'\s*=\s*\d+,?\s*/\*', text):
        problems.append(f'{s}: status without a comment')
for p in problems:
    print(p)
print(f'{len(declared)} functions checked, {len(problems)} problems')
sys.exit(1 if problems else 0)

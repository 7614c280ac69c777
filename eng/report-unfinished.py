#!/usr/bin/env python3
"""Reads the log of a test run (xunit v3, verbose reporter) that ended without a report: prints the tests that had
started and not finished (those a crash or hang interrupted), then the log's last lines that are not progress lines.
   eng/report-unfinished.py LOG [TAIL_LINES]"""
import re
import sys

path = sys.argv[1]
tail = int(sys.argv[2]) if len(sys.argv) > 2 else 40
running = {}
other = []
progress = re.compile(r"^\s+(.*) \[(STARTING|FINISHED)\]")
with open(path, errors="replace") as log:
    for number, line in enumerate(log, 1):
        line = line.rstrip("\n")
        m = progress.match(line)
        if m is None:
            if not re.match(r"^\s+\[PASS\]", line):
                other.append(line)
            continue
        name, what = m.group(1), m.group(2)
        if what == "STARTING":
            running[name] = number
        else:
            running.pop(name, None)
if running:
    print(f"   still running when the log ended ({len(running)}):")
    for name, number in sorted(running.items(), key=lambda item: item[1]):
        print(f"      {name} (started at log line {number})")
else:
    print("   no test was running when the log ended (progress lines missing: was the verbose reporter on?)")
print(f"   the log's last {min(tail, len(other))} other lines:")
for line in other[-tail:]:
    print(f"      | {line}")

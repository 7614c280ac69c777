#!/usr/bin/env python3
"""Prints the failed tests of xunit v3 XML reports: name, message and the top of the stack.
   eng/report-failures.py REPORT.xml [--methods]
--methods prints instead one "Type.Method" per failed test (theory rows folded), for a -method filter."""
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
if "--methods" in sys.argv[2:]:
    seen = []
    for t in root.iter("test"):
        m = f"{t.get('type')}.{t.get('method')}"
        if t.get("result") == "Fail" and m not in seen:
            seen.append(m)
    print("\n".join(seen))
    sys.exit(0)


def show(kind, name, failure):
    message = (failure.findtext("message") or "").strip().splitlines()
    stack = (failure.findtext("stack-trace") or "").strip().splitlines()
    print(f"   [{kind}] {name}")
    for line in message[:12]:
        print(f"      {line}")
    for line in stack[:8]:
        print(f"      {line.strip()}")


for t in root.iter("test"):
    if t.get("result") == "Fail":
        show("FAIL", t.get("name"), t.find("failure"))
for e in root.iter("error"):
    f = e.find("failure")
    if f is not None:
        show("ERROR", f"{e.get('type')} {e.get('name') or ''}".strip(), f)

#!/usr/bin/env python3
"""eng/bench-http-report.py RAW PEERS SUMMARY.md CHART.tsv

Summarises one run of the http harness (../shared/bench/http/run.sh, RESULT lines in RAW): per mode and connection
count, each server's median server-core CPU us per request and its ratio against Kestrel Sockets (defaults, inline) and
nginx, errors, failed runs and memory; writes CHART.tsv ("mode conns<TAB>server<TAB>CPU us/req") for eng/chart.sh.
"""
import os
import statistics
import sys

raw, peers, summary_path, chart_path = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
runs, env, order = {}, [], []
for line in open(raw, encoding="utf-8", errors="replace"):
    if line.startswith("ENV "):
        env.append(line[4:].rstrip("\n"))
    if not line.startswith("RESULT "):
        continue
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    runs.setdefault((f["mode"], int(f["conns"]), f["label"]), []).append(f)
    if f["label"] not in order:
        order.append(f["label"])
servers = [s for s in peers if s in order] + [s for s in order if s not in peers]
modes = list(dict.fromkeys(m for (m, _, _) in runs))
conns = sorted({c for (_, c, _) in runs})


def ok(key):
    """The reps that produced a number: the harness ran them and wrk counted responses (a loaded machine can leave
    thousands of connections still connecting when a short run ends)."""
    return [r for r in runs.get(key, []) if r.get("fail") == "none" and int(r.get("requests", 0)) > 0
            and r.get("died") != "1" and r.get("leftover", "0") == "0"]


def med(key, field, scale=1.0):
    vals = [float(r[field]) * scale for r in ok(key) if field in r and float(r[field]) >= 0]
    return statistics.median(vals) if vals else None


def per_conn_kib(key, n):
    vals = [(float(r["rss_peak_kb"]) - float(r["rss_idle_kb"])) / n for r in ok(key)
            if float(r.get("rss_idle_kb", -1)) >= 0 and "rss_peak_kb" in r]
    return statistics.median(vals) if vals else None


fmt = lambda v, p=1: "-" if v is None else f"{v:,.{p}f}"
ratio = lambda a, b: "-" if a is None or not b else f"{a / b:.2f}"

out = []
p = out.append
p("# HTTP plaintext: samples/Web beside nginx and Kestrel (same run)\n")
p(f"Raw results: `{os.path.relpath(raw, os.path.dirname(summary_path))}` (harness: ../shared/bench/http, see its README); "
  "cells are medians over the reps that ran.\n")
p("\n".join(env) + "\n" if env else "")
p("`CPU µs/req` is the harness's server-core figure (core busy time, softirq included, per response): the one to compare. "
  "Ratios are that figure against the same mode and connection count of `kestrel` (Kestrel Sockets, defaults), "
  "`kestrel_inline` (TechEmpower's inline settings) and `nginx` (1 worker, the C floor). samples/Web runs on "
  "Kestrel's Sockets transport (`web_sockets`) or on the Syscalls transport over backend B (`syscalls-B`) with its "
  "defaults, `..._inline`/`-inline` with `--inline`. `errors` are wrk's socket errors and non-2xx "
  "responses summed over reps; `failed` counts reps that produced no number (the harness failed them, the server died or left processes behind, or wrk counted no response). `KiB/conn` is (RSS peak - RSS idle) "
  "/ connections under load: the harness holds no idle connections, so this is per-connection memory with buffers in use, "
  "not the idle figure.\n")
p("Targets for the Syscalls transports (issue #10): plain <= 0.70x kestrel and <= 0.85x kestrel_inline; pipe16 <= 0.90x "
  "kestrel; no errors.\n")
p("| mode | conns | server | reps | rps | CPU µs/req | vs kestrel | vs kestrel_inline | vs nginx | proc µs/req | errors | failed | RSS idle MiB | RSS peak MiB | KiB/conn |")
p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
chart = []
for m in modes:
    for c in conns:
        ref = {s: med((m, c, s), "srv_us_per_req") for s in ("kestrel", "kestrel_inline", "nginx")}
        for s in servers:
            key = (m, c, s)
            if key not in runs:
                continue
            us = med(key, "srv_us_per_req")
            errors = sum(int(float(r.get("errors", 0))) for r in runs[key])
            failed = len(runs[key]) - len(ok(key))
            p(f"| {m} | {c} | {s} | {len(ok(key))} | {fmt(med(key, 'rps'), 0)} | {fmt(us, 2)} | {ratio(us, ref['kestrel'])} | "
              f"{ratio(us, ref['kestrel_inline'])} | {ratio(us, ref['nginx'])} | {fmt(med(key, 'proc_us_per_req'), 2)} | "
              f"{'**%d**' % errors if errors else 0} | {'**%d**' % failed if failed else 0} | "
              f"{fmt(med(key, 'rss_idle_kb', 1 / 1024))} | {fmt(med(key, 'rss_peak_kb', 1 / 1024))} | {fmt(per_conn_kib(key, c), 1)} |")
            if us is not None:
                chart.append(f"{m} {c}\t{s}\t{us:.3f}")
with open(summary_path, "w", encoding="utf-8") as f:
    f.write("\n".join(out) + "\n")
with open(chart_path, "w", encoding="utf-8") as f:
    f.write("\n".join(chart) + ("\n" if chart else ""))

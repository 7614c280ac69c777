#!/usr/bin/env python3
"""Two or more builds (or settings) of a server side by side, in steady state (./build.sh bench http ab).

usage: bench-http-ab.py OUT.md LABEL=COMMAND [LABEL=COMMAND ...]
  COMMAND is a command line with {PORT} in it. env: CONNS (256), DEPTH (16 pipelined requests per write; 0 = plain),
  WARM (30 s), WINDOWS (5), W (3 s), ROUNDS (2), SRV_CPU (0), LG_CPU (1), LUA (the harness's pipeline.lua).

For each round, each server in turn: started pinned to SRV_CPU, loaded by wrk (pinned to LG_CPU) for WARM seconds (past
the JIT's tiering, see the README's warm-up curve), then for WINDOWS windows of W seconds. Per window: the server
process's CPU (user + system ticks) per response, and the context switches of all its threads (voluntary and not,
from /proc) per response. Each server is started once per round, so one start gives WINDOWS figures where the
harness's run.sh gives one: cheaper for an A/B of a change, and the context switches show hand-offs between threads
that the CPU figure buries in noise. Not the harness's figure (its core-busy time includes softirq work on the core);
the table of record is still ./build.sh bench http. Writes OUT.md (medians over all windows) and prints it.
"""
import glob
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONNS = int(os.environ.get("CONNS", 256))
DEPTH = int(os.environ.get("DEPTH", 16))
WARM = int(os.environ.get("WARM", 30))
WINDOWS = int(os.environ.get("WINDOWS", 5))
W = int(os.environ.get("W", 3))
ROUNDS = int(os.environ.get("ROUNDS", 2))
SRV_CPU = os.environ.get("SRV_CPU", "0")
LG_CPU = os.environ.get("LG_CPU", "1")
LUA = os.environ.get("LUA", os.path.join(ROOT, "artifacts/bench/http/pipeline.lua"))
HZ = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def switches(pid):
    total = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            text = open(status).read()
        except OSError:
            continue   # a thread that ended meanwhile
        total += sum(int(n) for n in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", text, re.M))
    return total


def load(port, seconds):
    """Runs wrk; returns the responses it counted (0: the window failed)."""
    args = ["taskset", "-c", LG_CPU, "wrk", "-t1", f"-c{CONNS}", f"-d{seconds}s"]
    url = f"http://127.0.0.1:{port}/plaintext"
    args += ["-s", LUA, url, "--", str(DEPTH)] if DEPTH > 0 else [url]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    m = re.search(r"(\d+) requests in", out)
    return int(m.group(1)) if m else 0


def measure(label, command, port):
    proc = subprocess.Popen(["taskset", "-c", SRV_CPU] + command.replace("{PORT}", str(port)).split(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/plaintext", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"bench http ab: {label} exited ({proc.returncode}) before answering")
                time.sleep(0.1)
        else:
            print(f"bench http ab: {label} did not answer GET /plaintext within 30 s", file=sys.stderr)
            return []   # its row reads "failed"; the other servers still run
        load(port, WARM)
        rows = []
        for _ in range(WINDOWS):
            t0, s0 = ticks(proc.pid), switches(proc.pid)
            n = load(port, W)
            t1, s1 = ticks(proc.pid), switches(proc.pid)
            if n:
                rows.append(((t1 - t0) * 1e6 / HZ / n, (s1 - s0) / n, n / W))
        return rows
    finally:
        proc.terminate()
        proc.wait()


def main():
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        raise SystemExit(__doc__)
    out, servers = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    results = {label: [] for label, _ in servers}
    port = int(os.environ.get("PORT", 8300))
    for r in range(ROUNDS):
        for label, command in servers:
            port += 1
            rows = measure(label, command, port)
            results[label] += rows
            print(f"bench http ab: round {r + 1} {label}: µs/response " +
                  " ".join(f"{x[0]:.2f}" for x in rows) + f" ({WINDOWS - len(rows)} windows failed)",
                  file=sys.stderr, flush=True)
    mode = f"pipe{DEPTH}" if DEPTH > 0 else "plain"
    lines = [f"# A/B: {mode}, {CONNS} connections, {WARM} s warm-up, {ROUNDS} x {WINDOWS} windows of {W} s", "",
             "Server pinned to CPU " + SRV_CPU + ", wrk -t1 to CPU " + LG_CPU + "; medians over the windows of all "
             "rounds. CPU is the process's user + system time per response; context switches are all its threads'.",
             "", "| server | windows | CPU µs/response | vs first | context switches/response | rps |",
             "|---|---:|---:|---:|---:|---:|"]
    first = None
    for label, _ in servers:
        rows = results[label]
        if not rows:
            lines.append(f"| {label} | 0 | failed | - | - | - |")
            continue
        cpu = statistics.median(x[0] for x in rows)
        first = first or cpu
        lines.append(f"| {label} | {len(rows)} | {cpu:.2f} | {cpu / first:.2f} | "
                     f"{statistics.median(x[1] for x in rows):.4f} | {statistics.median(x[2] for x in rows):,.0f} |")
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

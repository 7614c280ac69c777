#!/usr/bin/env python3
"""Memory and CPU of idle HTTP keep-alive connections, server by server (./build.sh bench http idle).

usage: bench-http-idle.py OUT.md CONNS REPS LABEL=COMMAND [LABEL=COMMAND ...]
  COMMAND is a shell command with {PORT} in it (a free port is chosen per run). The first LABEL is the reference the
  others are compared with. env: SRV_CPU (0) pins the server, IDLE (3) seconds of idleness measured, WARM (2) seconds
  of keep-alive requests on 64 connections before the baseline.

One run of a server: start it pinned to SRV_CPU, wait until it accepts, warm it up with WARM seconds of sequential
keep-alive requests on 64 connections (closed after), wait 1 s and read its VmRSS (the baseline). Then open CONNS
connections in waves of 256, each sending one `GET /plaintext` and checking the whole response (`Hello, World!`), and
leave them idle: after IDLE seconds read VmRSS again (the idle figure) and the server's CPU time over those seconds.
Then one more request on every 16th connection proves the idle ones are still served, every connection is reset
(SO_LINGER 0: no TIME_WAIT left for the next run) and the server gets SIGTERM.

KiB/conn = (RSS idle - RSS baseline) / CONNS: what one idle connection costs, uncollected garbage of its first request
included (the same for every .NET server here). Medians over REPS runs; a run that fails is a FAILED row.
"""
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
BODY = b"Hello, World!"
WAVE = 256


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length body; returns the body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError(f"connection closed before the response's headers ({len(data)} bytes read)")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0]
    if not status.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected status line {status!r}")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                   if line.lower().startswith(b"content-length:")), None)
    if length is None:
        raise RuntimeError("response without Content-Length")
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed in the response's body")
        body += chunk
    return body[:length]


def exchange(sock):
    sock.sendall(REQUEST)
    body = read_response(sock)
    if body != BODY:
        raise RuntimeError(f"unexpected body {body[:40]!r}")


def connect(port):
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def one_run(command, conns, cpu, warm, idle):
    port = free_port()
    errors = tempfile.TemporaryFile()
    server = subprocess.Popen(["taskset", "-c", str(cpu), "sh", "-c", "exec " + command.replace("{PORT}", str(port))],
                              stdout=subprocess.DEVNULL, stderr=errors)
    held = []
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                errors.seek(0)
                raise RuntimeError(f"server exited with {server.returncode}: {errors.read().decode()[-400:]}")
            try:
                probe = connect(port)
                try:
                    exchange(probe)
                finally:
                    reset(probe)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not answer within 30 s")
                time.sleep(0.2)
        warmers = [connect(port) for _ in range(64)]
        end = time.monotonic() + warm
        while time.monotonic() < end:
            for sock in warmers:
                exchange(sock)
        for sock in warmers:
            reset(sock)
        time.sleep(1)
        before = rss_kib(server.pid)
        for start in range(0, conns, WAVE):
            wave = [connect(port) for _ in range(min(WAVE, conns - start))]
            for sock in wave:
                sock.sendall(REQUEST)
            for sock in wave:
                if read_response(sock) != BODY:
                    raise RuntimeError("unexpected body")
            held.extend(wave)
        cpu0 = cpu_seconds(server.pid)
        time.sleep(idle)
        cpu1 = cpu_seconds(server.pid)
        after = rss_kib(server.pid)
        for sock in held[::16]:
            exchange(sock)
        return before, after, cpu1 - cpu0
    finally:
        for sock in held:
            reset(sock)
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def main():
    if len(sys.argv) < 5 or any("=" not in a for a in sys.argv[4:]):
        sys.exit(__doc__.split("\n\n")[1])
    out, conns, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    servers = [a.split("=", 1) for a in sys.argv[4:]]
    cpu, warm, idle = int(os.environ.get("SRV_CPU", "0")), float(os.environ.get("WARM", "2")), float(os.environ.get("IDLE", "3"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < conns + 200:
        sys.exit(f"bench http idle: {conns} connections need {conns + 200} descriptors; this shell allows {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = []
    for label, command in servers:
        runs, failures = [], []
        for rep in range(reps):
            try:
                before, after, idle_cpu = one_run(command, conns, cpu, warm, idle)
                runs.append((before, after, idle_cpu))
                print(f"bench http idle: {label} rep {rep + 1}: RSS {before} -> {after} KiB, "
                      f"{(after - before) / conns:.2f} KiB/conn, {idle_cpu * 1000:.0f} ms CPU idle", file=sys.stderr)
            except Exception as e:   # one failed run is a row that says so, the others still run
                failures.append(str(e))
                print(f"bench http idle: {label} rep {rep + 1} FAILED: {e}", file=sys.stderr)
        rows.append((label, runs, failures))
    ref = rows[0]
    ref_kib = statistics.median((a - b) / conns for b, a, _ in ref[1]) if ref[1] else None
    lines = [f"Idle keep-alive connections: {conns} per run, each after one verified `GET /plaintext`; medians of "
             f"{reps} runs; server pinned to CPU {cpu}; {idle:g} s idle measured.", "",
             f"| server | runs | RSS baseline MiB | RSS idle MiB | KiB/conn | vs {ref[0]} | CPU ms while idle | failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, runs, failures in rows:
        if not runs:
            lines.append(f"| {label} | 0 | | | | | | {len(failures)} (FAILED: {failures[0][:80]}) |")
            continue
        kib = statistics.median((a - b) / conns for b, a, _ in runs)
        ratio = f"{kib / ref_kib:.2f}" if ref_kib else ""
        lines.append(f"| {label} | {len(runs)} | {statistics.median(b for b, _, _ in runs) / 1024:.1f} | "
                     f"{statistics.median(a for _, a, _ in runs) / 1024:.1f} | {kib:.2f} | {ratio} | "
                     f"{statistics.median(c for _, _, c in runs) * 1000:.0f} | {len(failures)} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(1 if any(f for _, _, f in rows) else 0)


if __name__ == "__main__":
    main()

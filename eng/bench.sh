#!/usr/bin/env bash
# eng/bench.sh CONFIG [BACKEND ...]       (./build.sh bench [BACKEND ...])
# eng/bench.sh CONFIG --report [RAW]      rewrite the summary and chart from the latest (or the given) raw result file
# eng/bench.sh CONFIG http [...]          the HTTP benchmark instead: eng/bench-http.sh
# Echo benchmark of our backends against the C reference servers, measured in the same run with the shared harness
# (server and load generator pinned to separate cores, SCHED_IDLE spinners, rotated order per rep).
#   BACKEND  our servers to measure, each the published samples/Echo: a backend name, optionally with variants joined by
#            '-': `async` (the await echo, --async), `loopsN` (--loops N); e.g. epoll uring-async epoll-async-loops2.
#            Labelled cs_<token> with '-' as '_'. Default: epoll epoll-async uring uring-async
#   env      NS ("100 1000 10000")  REPS (3)  DUR (5)  WARM (1)  PEERS ("c_epoll c_uring")  and every run.sh knob
# Copies the read-only harness (../shared/bench beside the repo, else /work/shared/bench) to artifacts/bench, builds it,
# publishes the sample to artifacts/echo, runs, and writes artifacts/bench/summary.md: CPU us per round trip and
# ratio vs each C server, rps at every N and ratio, KiB per connection, managed bytes allocated per message; and
# artifacts/bench/chart.png (server CPU us per round trip by server and N).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"; shift || true
[[ "${1:-}" == http ]] && { shift; exec "$ROOT/eng/bench-http.sh" "$CONFIG" "$@"; }
BACKENDS=("$@"); [[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(epoll epoll-async uring uring-async)
PEERS="${PEERS:-c_epoll c_uring}"
SRC="$ROOT/../shared/bench"; [[ -f "$SRC/run.sh" ]] || SRC=/work/shared/bench
DEST="$ROOT/artifacts/bench"
source "$ROOT/eng/bench-harness.sh"
[[ -f "$SRC/run.sh" ]] || { echo "bench: harness not found (../shared/bench, /work/shared/bench)" >&2; exit 1; }

summary() {   # $1 = raw RESULT file; writes and prints $DEST/summary.md
  local raw=$1 labels
  labels=$(grep -o 'label=cs_[a-z0-9_]*' "$raw" | sort -u | cut -d= -f2 | xargs)
  python3 - "$raw" "$DEST/logs" "$PEERS" "$labels" "$DEST/chart.tsv" > "$DEST/summary.md" <<'PY'
import re, statistics, sys, glob, os
raw, logs, peers, ours, chart_path = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split(), sys.argv[5]
chart = []
runs = {}
for line in open(raw):
    if not line.startswith("RESULT "):
        continue
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    runs.setdefault((f["label"], int(f["target"])), []).append(f)
def med(label, n, key):
    vals = [float(r[key]) for r in runs.get((label, n), []) if key in r]
    return statistics.median(vals) if vals else None
def proc_us(label, n):
    # The server process's own CPU time per round trip: unlike the core-busy figure it ignores other load on the core.
    vals = [float(r["srv_cpu_pct"]) / 100 * float(r["secs"]) / float(r["rt"]) * 1e6
            for r in runs.get((label, n), []) if float(r.get("rt", 0)) > 0 and "srv_cpu_pct" in r]
    return statistics.median(vals) if vals else None
def kib(label, n):
    vals = [(float(r["rss_idle_kb"]) - float(r["rss_base_kb"])) / n for r in runs.get((label, n), []) if "rss_idle_kb" in r]
    return statistics.median(vals) if vals else None
def alloc(label, n):
    worst = None
    for path in glob.glob(os.path.join(logs, f"{label}-{n}-*.srv.log")):
        if os.path.getmtime(path) < os.path.getmtime(raw) - 36000:
            continue
        m = re.search(r"\(([0-9.]+) B/message\)", open(path, errors="replace").read())
        if m:
            worst = max(worst or 0.0, float(m.group(1)))
    return worst
fmt = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
ratio = lambda a, b: "-" if a is None or not b else f"{a / b:.2f}"
ns = sorted({n for (_, n) in runs})
print(f"# Echo benchmark: our backends vs the C servers (same run)\n\nRaw results: `{os.path.relpath(raw, os.path.dirname(logs))}`; "
      f"medians over reps; 64 B ping-pong, depth 1. Targets: CPU us/RT <= 1.10x c_epoll, rps at 10k within 10% of C, "
      f"0 B/message, <= 1 KiB/conn.\n")
print("`CPU us/RT` is the harness's server-core figure (core busy time, softirq included, per round trip); `proc us/RT` is the")
print("server process's own CPU time per round trip, which other load on the core (a busy shared machine) does not inflate.\n")
print("| N | server | rps | rps vs c_epoll | rps vs c_uring | CPU us/RT | vs c_epoll | vs c_uring | proc us/RT | vs c_epoll | vs c_uring | KiB/conn | alloc B/msg | errors |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in ns:
    for label in peers + ours:
        if (label, n) not in runs:
            continue
        rps, us = med(label, n, "rps"), med(label, n, "srv_us_per_rt")
        errs = sum(int(float(r.get("errors", 0))) for r in runs[(label, n)])
        print(f"| {n} | {label} | {fmt(rps, 0)} | {ratio(rps, med('c_epoll', n, 'rps'))} | {ratio(rps, med('c_uring', n, 'rps'))} | "
              f"{fmt(us)} | {ratio(us, med('c_epoll', n, 'srv_us_per_rt'))} | {ratio(us, med('c_uring', n, 'srv_us_per_rt'))} | "
              f"{fmt(proc_us(label, n))} | {ratio(proc_us(label, n), proc_us('c_epoll', n))} | {ratio(proc_us(label, n), proc_us('c_uring', n))} | "
              f"{fmt(kib(label, n), 2)} | {fmt(alloc(label, n), 4) if label in ours else ''} | {errs} |")
        if us is not None:
            chart.append(f"N={n}\t{label}\t{us:.3f}")
with open(chart_path, "w") as f:
    f.write("".join(line + "\n" for line in chart))
PY
  "$ROOT/eng/chart.sh" "$CONFIG" "$DEST/chart.tsv" "$DEST/chart.png" \
    "Echo, 64 B ping-pong: server CPU per round trip" "µs per round trip (median; lower is better)" >&2
  cat "$DEST/summary.md"
  echo "bench: wrote $DEST/summary.md and $DEST/chart.png" >&2
}

if [[ "${BACKENDS[0]}" == --report ]]; then
  summary "${BACKENDS[1]:-$(ls -1t "$DEST"/logs/raw-*.txt | head -1)}"
  exit 0
fi

harness_copy "$SRC" "$DEST"
(cd "$DEST" && ./run.sh build)
ECHO="${ECHO_BIN:-}"   # ECHO_BIN=/path/to/Echo measures an already-built sample instead of publishing one
[[ -n "$ECHO" ]] || ECHO=$(sample_publish Echo "$CONFIG")

custom=""; ours=""
for token in "${BACKENDS[@]}"; do
  IFS=- read -r -a parts <<< "$token"
  args="--backend ${parts[0]}"
  for v in "${parts[@]:1}"; do
    case "$v" in
      async) args+=" --async" ;;
      loops[0-9]*) args+=" --loops ${v#loops}" ;;
      *) echo "bench: unknown variant '$v' in '$token' (known: async, loopsN)" >&2; exit 2 ;;
    esac
  done
  label="cs_${token//-/_}"
  custom+="$label=$ECHO $args --port {PORT};"
  ours+=" $label"
done
(cd "$DEST" && CUSTOM_SERVERS="$custom" SERVERS="$PEERS$ours" NS="${NS:-100 1000 10000}" REPS="${REPS:-3}" OUT=results.md ./run.sh)
raw=$(ls -1t "$DEST"/logs/raw-*.txt | head -1)

summary "$raw"

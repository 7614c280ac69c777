#!/usr/bin/env bash
# eng/bench-http.sh CONFIG [BACKEND ...]      (./build.sh bench http [BACKEND ...])
# eng/bench-http.sh CONFIG --report [RAW]     rewrite the summary and chart from the latest (or the given) raw result file
# eng/bench-http.sh CONFIG idle [BACKEND ...]  memory and CPU of idle keep-alive connections (eng/bench-http-idle.py):
#            the sample on Kestrel's Sockets transport (the reference) and on each BACKEND (default: uring epoll);
#            env CONNS (10000) REPS (5) WARM (2) IDLE (3) SRV_CPU (0) LG_CPU (1); writes artifacts/bench/http/idle.md
# eng/bench-http.sh CONFIG curve [BACKEND ...]  the warm-up curve (eng/bench-http-curve.sh): each server (default:
#            sockets uring epoll) started once and loaded in back-to-back windows; CPU µs per response per window.
#            env CONNS (256) DEPTH (16; 0 = plain) WINDOWS (15) W (2 s); writes artifacts/bench/http/curve.md
# eng/bench-http.sh CONFIG ab [BACKEND | LABEL=COMMAND ...]  builds or settings side by side in steady state
#            (eng/bench-http-ab.py): each server started once per round, warmed, then loaded in windows; CPU µs and
#            context switches per response. A BACKEND is the published sample on it (default: sockets uring epoll); a
#            LABEL=COMMAND any server ({PORT} in it). env CONNS (256) DEPTH (16; 0 = plain) WARM (30) WINDOWS (5) W (3)
#            ROUNDS (2); writes artifacts/bench/http/ab.md
# HTTP plaintext benchmark: samples/Web on each BACKEND (a Kestrel transport, as --backend names it), once with its
# default settings and once with TechEmpower's inline ones (--inline), beside the harness's peers in the same
# run: nginx (1 worker) and Kestrel on its Sockets transport, defaults and inline (../shared/bench/http, README there).
#   BACKEND  default: sockets uring epoll (Kestrel's own transport through the sample, then the Syscalls transport on
#            io_uring and epoll: the same app, only the transport differs). Labels: web_sockets, syscalls-B; with
#            --inline settings web_sockets_inline, syscalls-B-inline
#   env      CONNS ("32 256 4096")  MODES ("plain pipe16")  REPS (3)  DUR (5)  WARM (1)
#            PEERS ("nginx kestrel kestrel_inline")  INLINE_FOR (the backends also run with --inline; default: all)
#            SERVER_ENV ("NAME=VALUE ..." exported to every server of the run, peers included, and recorded in the
#            summary; e.g. DOTNET_TC_CallCountingDelayMs=0, see README "The HTTP benchmark")
#            and every knob of the harness's run.sh (SRV_CPU, LG_CPU, SPIN, ...)
# Copies the read-only harness (../shared/bench beside the repo, else /work/shared/bench) to artifacts/bench, builds it,
# publishes the sample to artifacts/web, runs, and writes artifacts/bench/http/summary.md (server CPU us per request by
# server, mode and connection count, ratios against Kestrel Sockets defaults and inline and nginx, errors, memory) and
# artifacts/bench/http/chart.png.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"; shift || true
BACKENDS=("$@"); [[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(sockets uring epoll)
PEERS="${PEERS:-nginx kestrel kestrel_inline}"
SRC="$ROOT/../shared/bench"; [[ -f "$SRC/http/run.sh" ]] || SRC=/work/shared/bench
DEST="$ROOT/artifacts/bench"
HTTP="$DEST/http"
source "$ROOT/eng/bench-harness.sh"
[[ -f "$SRC/http/run.sh" ]] || { echo "bench http: harness not found (../shared/bench/http, /work/shared/bench/http)" >&2; exit 1; }

report() {   # $1 = raw RESULT file: summary.md, chart.tsv, chart.png
  python3 "$ROOT/eng/bench-http-report.py" "$1" "$PEERS" "$HTTP/summary.md" "$HTTP/chart.tsv"
  "$ROOT/eng/chart.sh" "$CONFIG" "$HTTP/chart.tsv" "$HTTP/chart.png" \
    "HTTP plaintext: server CPU per request" "µs per request (median; lower is better)" >&2
  cat "$HTTP/summary.md"
  echo "bench http: wrote $HTTP/summary.md and $HTTP/chart.png" >&2
}

if [[ "${BACKENDS[0]}" == --report ]]; then
  report "${BACKENDS[1]:-$(ls -1t "$HTTP"/logs/raw-*.txt | head -1)}"
  exit 0
fi

if [[ "${BACKENDS[0]}" == curve ]]; then
  BACKENDS=("${BACKENDS[@]:1}"); [[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(sockets uring epoll)
  harness_copy "$SRC" "$DEST"   # for its pipeline.lua
  WEB="${WEB_BIN:-}"; [[ -n "$WEB" ]] || WEB=$(sample_publish Web "$CONFIG")
  servers=()
  for b in "${BACKENDS[@]}"; do
    if [[ $b == sockets ]]; then name=web_sockets; else name=syscalls-$b; fi
    servers+=("$name=$WEB --backend $b --port {PORT} --h2c-port off")
  done
  mkdir -p "$HTTP"
  exec "$ROOT/eng/bench-http-curve.sh" "$HTTP/curve.md" "${servers[@]}"
fi

if [[ "${BACKENDS[0]}" == ab ]]; then
  BACKENDS=("${BACKENDS[@]:1}"); [[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(sockets uring epoll)
  harness_copy "$SRC" "$DEST"   # for its pipeline.lua
  servers=(); web="${WEB_BIN:-}"
  for b in "${BACKENDS[@]}"; do
    if [[ $b == *=* ]]; then servers+=("$b"); continue; fi
    [[ -n "$web" ]] || web=$(sample_publish Web "$CONFIG")   # published only when a backend name asks for the sample
    if [[ $b == sockets ]]; then name=web_sockets; else name=syscalls-$b; fi
    servers+=("$name=$web --backend $b --port {PORT} --h2c-port off")
  done
  mkdir -p "$HTTP"
  exec python3 "$ROOT/eng/bench-http-ab.py" "$HTTP/ab.md" "${servers[@]}"
fi

if [[ "${BACKENDS[0]}" == idle ]]; then
  BACKENDS=("${BACKENDS[@]:1}"); [[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(uring epoll)
  WEB="${WEB_BIN:-}"; [[ -n "$WEB" ]] || WEB=$(sample_publish Web "$CONFIG")
  servers=("web_sockets=$WEB --backend sockets --port {PORT} --h2c-port off")
  for b in "${BACKENDS[@]}"; do
    [[ $b == sockets ]] || servers+=("syscalls-$b=$WEB --backend $b --port {PORT} --h2c-port off")
  done
  mkdir -p "$HTTP"
  exec taskset -c "${LG_CPU:-1}" python3 "$ROOT/eng/bench-http-idle.py" "$HTTP/idle.md" "${CONNS:-10000}" "${REPS:-5}" "${servers[@]}"
fi

harness_copy "$SRC" "$DEST"
(cd "$HTTP" && ./run.sh build)
WEB="${WEB_BIN:-}"   # WEB_BIN=/path/to/Web measures an already-built sample instead of publishing one
[[ -n "$WEB" ]] || WEB=$(sample_publish Web "$CONFIG")

# One listening port like the peers (--h2c-port off); --inline sets the sample's inline scheduling and, on sockets,
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 itself, as the harness does for kestrel_inline.
custom=""; ours=""
for b in "${BACKENDS[@]}"; do
  if [[ $b == sockets ]]; then name=web_sockets; inline=web_sockets_inline; else name=syscalls-$b; inline=syscalls-$b-inline; fi
  custom+="$name=$WEB --backend $b --port {PORT} --h2c-port off;"
  ours+=" $name"
  [[ " ${INLINE_FOR-${BACKENDS[*]}} " == *" $b "* ]] || continue
  custom+="$inline=$WEB --backend $b --port {PORT} --h2c-port off --inline;"
  ours+=" $inline"
done
for setting in ${SERVER_ENV:-}; do export "${setting?}"; done
status=0
(cd "$HTTP" && CUSTOM_SERVERS="$custom" SERVERS="$PEERS$ours" CONNS="${CONNS:-32 256 4096}" MODES="${MODES:-plain pipe16}" \
  REPS="${REPS:-3}" OUT=results.md ./run.sh) || status=$?
raw=$(ls -1t "$HTTP"/logs/raw-*.txt | head -1)
[[ -z "${SERVER_ENV:-}" ]] || echo "ENV | server environment | \`$SERVER_ENV\` (every server of the run) |" >>"$raw"
report "$raw"
[[ $status == 0 ]] || echo "bench http: the harness reported failed runs (exit $status): see FAILED rows above and $HTTP/results.md" >&2
exit $status

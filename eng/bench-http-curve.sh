#!/usr/bin/env bash
# eng/bench-http-curve.sh OUT.md SERVER=COMMAND ...      (./build.sh bench http curve [BACKEND ...])
# The warm-up curve: each server started once, pinned to SRV_CPU, then loaded by wrk (pinned to LG_CPU) in WINDOWS
# consecutive windows of W seconds; for each window the server's CPU (user + system ticks of the process) per response,
# in µs. Shows how long a .NET server takes to reach its steady cost (tiered compilation with dynamic PGO), which the
# harness's 1 s warm-up does not cover. Env: CONNS (256), DEPTH (16: pipelined requests per write; 0 = plain),
# WINDOWS (15), W (2), SRV_CPU (0), LG_CPU (1), PORT (8190). COMMAND takes {PORT}. Writes OUT.md and prints it.
set -euo pipefail
out=$1; shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LUA="$HERE/artifacts/bench/http/pipeline.lua"
CONNS=${CONNS:-256} DEPTH=${DEPTH:-16} WINDOWS=${WINDOWS:-15} W=${W:-2} SRV_CPU=${SRV_CPU:-0} LG_CPU=${LG_CPU:-1}
port=${PORT:-8190}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

rows=()
for entry in "$@"; do
  name=${entry%%=*} cmd=${entry#*=}
  port=$((port + 1))
  log=$(mktemp)
  # shellcheck disable=SC2086  # the command's words are meant to split
  taskset -c "$SRV_CPU" ${cmd//\{PORT\}/$port} >"$log" 2>&1 &
  srv=$!
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/plaintext" && break; sleep 0.1; done
  args=(-t1 -c"$CONNS"); tail=("http://127.0.0.1:$port/plaintext")
  [[ $DEPTH -gt 0 ]] && { args+=(-s "$LUA"); tail+=(-- "$DEPTH"); }
  row="| $name |"
  for _ in $(seq "$WINDOWS"); do
    t0=$(ticks "$srv")
    wrk_out=$(taskset -c "$LG_CPU" wrk "${args[@]}" -d"${W}s" "${tail[@]}" 2>&1) || true
    t1=$(ticks "$srv")
    n=$(grep -o '[0-9]* requests in' <<<"$wrk_out" | awk '{print $1}' || true)   # none: the window failed
    if [[ -z "$n" || "$n" == 0 ]]; then row+=" failed |"; continue; fi
    row+=" $(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }') |"
  done
  kill -TERM "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
  rm -f "$log"
  rows+=("$row")
  echo "bench http curve: $row" >&2
done

{
  echo "# Warm-up curve: server CPU µs per response in consecutive ${W} s windows"
  echo
  mode=plain; [[ $DEPTH -gt 0 ]] && mode="pipe$DEPTH"
  echo "$mode, $CONNS connections, wrk -t1 pinned to CPU $LG_CPU, server pinned to CPU $SRV_CPU, one server process per row" \
    "(started once, loaded for $WINDOWS windows back to back). Process ticks (user + system) per response."
  echo
  header="| server |"; rule="|---|"
  for i in $(seq "$WINDOWS"); do header+=" $((i * W)) s |"; rule+="---:|"; done
  echo "$header"; echo "$rule"
  printf '%s\n' "${rows[@]}"
} >"$out"
cat "$out"

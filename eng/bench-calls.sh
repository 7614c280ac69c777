#!/usr/bin/env bash
# Call overhead of Syscalls.Bindings vs C: the same cheap calls (clock_gettime(CLOCK_MONOTONIC) through the vDSO,
# getppid) timed from C in a loop (benchmarks/CallOverhead/native/loop.c) and through the bindings with
# BenchmarkDotNet (benchmarks/CallOverhead), one after the other on the same core, then one table:
# ns/call in C, ns/call in C#, their ratio (target <= 1.10) and bytes allocated per call (target 0).
# The C loop runs before and after the C# run and its two medians are averaged, so drift between them shows less.
# As root, both run under round-robin real-time priority (chrt -r 10) as well, which keeps other processes off the
# core: on a shared 2-core machine that cuts the run-to-run spread from tens of percent to a few.
#
#   eng/bench-calls.sh [--core N] [--iterations N] [--runs N] [--no-rt] [-- BenchmarkDotNet args...]
#
# Linux only (the calls are Linux's). Exit 0 when every row meets both targets, 1 when one misses, 2 on error.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORE=""; ITER=2000000; RUNS=9; RT=1; BDN_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --core) CORE="$2"; shift 2 ;;
    --iterations) ITER="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --no-rt) RT=0; shift ;;
    --) shift; BDN_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench-calls: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$(uname -s)" == Linux ]] || { echo "bench-calls: the calls measured are Linux's; run on Linux" >&2; exit 2; }
# One core of the machine: the default is the last one, away from where interrupts usually land.
NCPU="$(nproc)"; [[ -n "$CORE" ]] && (( CORE < NCPU )) || CORE=$((NCPU - 1))
OUT="$ROOT/artifacts/bench-calls"; mkdir -p "$OUT"
PIN=(taskset -c "$CORE")
if [[ $RT == 1 && $(id -u) == 0 ]] && command -v chrt >/dev/null; then PIN=(chrt -r 10 "${PIN[@]}"); fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "bench-calls: building (gcc -O2, dotnet -c Release)" >&2
gcc -O2 -Wall -Wextra -o "$OUT/loop" "$ROOT/benchmarks/CallOverhead/native/loop.c"
dotnet build "$ROOT/benchmarks/CallOverhead" -c Release -v quiet -nologo >"$OUT/build.log" 2>&1 \
  || { tail -20 "$OUT/build.log" >&2; echo "bench-calls: the benchmark does not build (log: $OUT/build.log)" >&2; exit 2; }
DLL="$ROOT/benchmarks/CallOverhead/bin/Release/net10.0/CallOverhead.dll"

echo "bench-calls: C loop ($RUNS runs of $ITER calls), then BenchmarkDotNet, then the C loop again: ${PIN[*]}" >&2
"${PIN[@]}" "$OUT/loop" "$ITER" "$RUNS" | tee "$OUT/c-before.txt" >&2
(cd "$OUT" && "${PIN[@]}" dotnet "$DLL" "${BDN_ARGS[@]}") >"$OUT/csharp.log" 2>&1 \
  || { tail -30 "$OUT/csharp.log" >&2; echo "bench-calls: BenchmarkDotNet failed (log: $OUT/csharp.log)" >&2; exit 2; }
grep -E '^\|' "$OUT/csharp.log" >&2 || true
grep '^RESULT ' "$OUT/csharp.log" > "$OUT/csharp.txt"
"${PIN[@]}" "$OUT/loop" "$ITER" "$RUNS" | tee "$OUT/c-after.txt" >&2
# Average the medians of the two C runs, per call.
awk '{ s[$1] += $2; n[$1]++ } END { for (k in s) print k, s[k] / n[k] }' "$OUT/c-before.txt" "$OUT/c-after.txt" > "$OUT/c.txt"

# Table: one row per call measured on both sides; the _floor and _nogc rows (bare function pointers, see
# CallBenchmarks.cs) are context, not targets.
awk -v cfile="$OUT/c.txt" '
  BEGIN {
    while ((getline line < cfile) > 0) { split(line, f, " "); c[f[1]] = f[2] }
    printf "%-22s %12s %12s %8s %18s\n", "call", "C ns/call", "C# ns/call", "ratio", "C# bytes/call"
    bad = 0
  }
  $1 == "RESULT" {
    name = $2; base = name; sub(/_(floor|nogc)$/, "", base)
    if (!(base in c)) next
    ratio = $3 / c[base]
    alloc = ($4 == "-" || $4 == "") ? "?" : $4
    flag = ""
    if (name == base && (ratio > 1.10 || alloc != "0")) { flag = "  <- misses target"; bad = 1 }
    printf "%-22s %12.2f %12.2f %8.3f %18s%s\n", name, c[base], $3, ratio, alloc, flag
  }
  END { exit bad }
' "$OUT/csharp.txt" | tee "$OUT/table.txt"
status=${PIPESTATUS[0]}
echo "targets: ratio <= 1.10 and 0 bytes/call for the binding rows; raw data in $OUT" >&2
exit "$status"

#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, N failed, N skipped".
#   eng/test.sh CONFIG [suite ...]     suites: see SUITES below (default: all)
# Each suite is an xunit v3 executable; its XML report is summed. A suite that dies without a report counts as
# one failure, so a crash can never read as green.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"; shift || true
OUT="$ROOT/artifacts/test-results"; rm -rf "$OUT"; mkdir -p "$OUT"
bin() { echo "$ROOT/tests/$1/bin/$CONFIG/net10.0/$1"; }

# name | environment | command
SUITES=(
  "generator||$(bin Syscalls.Generator.Tests)"
  "bindings||$(bin Syscalls.Bindings.Tests)"
  "runtime||$(bin Syscalls.Runtime.Tests)"
  "runtime-fallback|SYSCALLS_BACKEND=poll SYSCALLS_RING=emulated|$(bin Syscalls.Runtime.Tests)"
  # Kestrel over every web transport of the host (tests/Syscalls.AspNetCore.Tests/Infrastructure/WebTransports.cs),
  # with HttpClient, ClientWebSocket, raw sockets, curl and h2load.
  "aspnetcore||$(bin Syscalls.AspNetCore.Tests)"
)
[[ -f "$ROOT/eng/test-suites.sh" ]] && source "$ROOT/eng/test-suites.sh"   # extra suites (wine, qemu)

want=("$@")
TP=0; TF=0; TS=0
declare -A GP GF GS   # per-group totals (group = the part of the name before ':', if any)
for s in "${SUITES[@]}"; do
  IFS='|' read -r name envs cmd <<< "$s"
  if [[ ${#want[@]} -gt 0 ]] && ! printf '%s\n' "${want[@]}" | grep -qx "${name%%:*}\|$name"; then continue; fi
  exe="${cmd%% *}"
  if [[ ! -x "$exe" && ! -f "$exe" ]]; then echo "== $name: $exe not built (skipped as 1 failure)"; TF=$((TF+1)); continue; fi
  echo "== $name"
  xml="$OUT/$name.xml"
  start=$(date +%s)
  # Under an emulator (Wine, qemu) a run that dies without a report is run once more: Wine 8 has CoreCLR faults of
  # its own (eng/wine.sh) and has crashed a whole suite once in about ten runs. The first run's interrupted tests and
  # log tail are printed, and a second crash fails as any other. A failed test is never run again.
  attempts=1; [[ "$name" == *"(wine)"* || "$name" == *"(qemu)"* ]] && attempts=2
  for attempt in $(seq 1 $attempts); do
    rm -f "$xml"
    # shellcheck disable=SC2086
    (cd "$(dirname "$exe")" && env $envs ${SUITE_TIMEOUT:+timeout $SUITE_TIMEOUT} $cmd -result-xml "$xml" -noColor -parallelMode collections -reporter verbose) 2>&1 | tee "$OUT/$name.log" | grep -vE '^\s*(\[PASS\]|Discover|Starting|Finished|  )' || true
    [[ -f "$xml" ]] && break
    echo "   $name produced no report (crashed or timed out)"
    # The verbose reporter logs each test's start and end: what had started and not finished is what the crash or
    # hang interrupted. Then the log's end, unfiltered (an unhandled exception's stack is indented: the filter hid it).
    python3 "$ROOT/eng/report-unfinished.py" "$OUT/$name.log"
    [[ $attempt -lt $attempts ]] && { cp "$OUT/$name.log" "$OUT/$name.crashed.log"; echo "   $name: running it once more (emulated target)"; }
  done
  secs=$(( $(date +%s) - start ))
  if [[ -f "$xml" ]]; then
    line=$(grep -o '<assembly [^>]*>' "$xml" | head -1)
    get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    p=$(get passed); f=$(get failed); s=$(get skipped); e=$(grep -o '<assemblies[^>]*errors="[0-9]*"' "$xml" | grep -o 'errors="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    f=$((f + ${e:-0}))
  else
    p=0; f=1; s=0
  fi
  # The console filter above keeps the output short; a failure's name, message and stack top come from the report, so
  # a CI log says what failed without the artifacts.
  [[ -f "$xml" && $f -gt 0 ]] && python3 "$ROOT/eng/report-failures.py" "$xml"
  echo "   $name: $p passed, $f failed, $s skipped (${secs}s)"
  TP=$((TP+p)); TF=$((TF+f)); TS=$((TS+s))
  g="${name%%:*}"; GP[$g]=$(( ${GP[$g]:-0} + p )); GF[$g]=$(( ${GF[$g]:-0} + f )); GS[$g]=$(( ${GS[$g]:-0} + s ))
done
for g in "${!GP[@]}"; do
  case "$g" in *" ("*) echo "$g: ${GP[$g]} passed, ${GF[$g]} failed, ${GS[$g]} skipped" ;; esac
done
echo "$TP passed, $TF failed, $TS skipped"
[[ $TF -eq 0 ]]

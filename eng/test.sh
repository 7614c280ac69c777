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
)
[[ -f "$ROOT/eng/test-suites.sh" ]] && source "$ROOT/eng/test-suites.sh"   # extra suites (wine, qemu)

# The console filter above keeps the output short, so a failure's name, message and the top of its stack are printed
# from the report: a CI log must say what failed without the artifacts.
report_failures() {
  python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def show(kind, name, failure):
    msg = (failure.findtext("message") or "").strip().splitlines()
    stack = (failure.findtext("stack-trace") or "").strip().splitlines()
    print(f"   [{kind}] {name}")
    for l in msg[:12]: print(f"      {l}")
    for l in stack[:8]: print(f"      {l.strip()}")
for t in root.iter("test"):
    if t.get("result") == "Fail":
        show("FAIL", t.get("name"), t.find("failure"))
for e in root.iter("error"):
    f = e.find("failure")
    if f is not None: show("ERROR", f"{e.get('type')} {e.get('name') or ''}".strip(), f)
PY
}

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
  # shellcheck disable=SC2086
  (cd "$(dirname "$exe")" && env $envs ${SUITE_TIMEOUT:+timeout $SUITE_TIMEOUT} $cmd -result-xml "$xml" -noColor -parallelMode collections) 2>&1 | tee "$OUT/$name.log" | grep -vE '^\s*(\[PASS\]|Discover|Starting|Finished|  )' || true
  secs=$(( $(date +%s) - start ))
  if [[ -f "$xml" ]]; then
    line=$(grep -o '<assembly [^>]*>' "$xml" | head -1)
    get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    p=$(get passed); f=$(get failed); s=$(get skipped); e=$(grep -o '<assemblies[^>]*errors="[0-9]*"' "$xml" | grep -o 'errors="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    f=$((f + ${e:-0}))
  else
    p=0; f=1; s=0; echo "   $name produced no report (crashed or timed out)"
  fi
  [[ -f "$xml" && $f -gt 0 ]] && report_failures "$xml"
  echo "   $name: $p passed, $f failed, $s skipped (${secs}s)"
  TP=$((TP+p)); TF=$((TF+f)); TS=$((TS+s))
  g="${name%%:*}"; GP[$g]=$(( ${GP[$g]:-0} + p )); GF[$g]=$(( ${GF[$g]:-0} + f )); GS[$g]=$(( ${GS[$g]:-0} + s ))
done
for g in "${!GP[@]}"; do
  case "$g" in *" ("*) echo "$g: ${GP[$g]} passed, ${GF[$g]} failed, ${GS[$g]} skipped" ;; esac
done
echo "$TP passed, $TF failed, $TS skipped"
[[ $TF -eq 0 ]]

#!/usr/bin/env bash
# Runs the win-x64 test executables under Wine on this Linux host (Debian's wine64, installed by eng/setup.sh).
#   eng/wine.sh init                          create the private prefix .cache/wine/prefix (once, ~25 s)
#   eng/wine.sh publish CONFIG PROJECT        dotnet publish tests/PROJECT for win-x64, self-contained, into
#                                             artifacts/wine/CONFIG/PROJECT (prints the exe's path)
#   eng/wine.sh run EXE [args]                run a published exe under wine64 and `timeout` (WINE_TIMEOUT, default
#                                             300 s); an `-xml FILE` argument is written through a Windows-safe path
#   eng/wine.sh suite CONFIG PROJECT [args]   publish, then run (what eng/test-suites.sh registers)
# WINEDEBUG=-all keeps fixme noise out of the logs; winedbg is disabled so that a crash ends the process instead of
# waiting for a debugger; `wineserver -p` keeps the server between runs (startup ~0.3 s instead of ~1.4 s). Every
# run has a timeout: Wine 8 can hang a .NET process (see below), and a hang must read as a failure, not as a stall.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$ROOT/.cache/wine/prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-winedbg.exe=d}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WINE64="${WINE64:-}"
for w in "$WINE64" /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null)"; do
  [[ -n "$w" && -x "$w" ]] && { WINE64="$w"; break; }
done
WINESERVER="$(command -v wineserver 2>/dev/null || echo /usr/lib/wine/wineserver64)"
HOOK_DIR="$ROOT/artifacts/wine/hook"
say() { echo "wine: $*" >&2; }

need_wine() {
  [[ -n "$WINE64" && -x "$WINE64" ]] || { say "wine64 not found (eng/setup.sh installs Debian's wine64)"; exit 4; }
}

init() {
  need_wine
  if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
    local t=$SECONDS
    mkdir -p "$(dirname "$WINEPREFIX")"
    # mscoree/mshtml off for the boot only: otherwise wineboot tries to download and install Wine Mono and Gecko.
    WINEDLLOVERRIDES="mscoree,mshtml=" "$WINE64" wineboot --init >"$(dirname "$WINEPREFIX")/wineboot.log" 2>&1 \
      || { say "wineboot --init failed, see $(dirname "$WINEPREFIX")/wineboot.log"; exit 4; }
    say "prefix created in $((SECONDS - t)) s: $WINEPREFIX"
  fi
  # Keep the server alive between the runs of one test pass, and let it exit by itself afterwards.
  # The server and Wine's services (started by the first Windows process) outlive the run by WINESERVER_PERSIST
  # seconds: started here with their output away from ours, or a caller that pipes this script (eng/test.sh tees
  # every suite) waits for them. wineboot without --init starts the services in an existing prefix (~1 s).
  "$WINESERVER" -p"${WINESERVER_PERSIST:-60}" </dev/null >/dev/null 2>&1 || true
  timeout 60 "$WINE64" wineboot </dev/null >/dev/null 2>&1 || true
}

publish() {
  local config="$1" project="$2" t=$SECONDS
  local out="$ROOT/artifacts/wine/$config/$project" csproj="$ROOT/tests/$project/$project.csproj"
  local log="$ROOT/artifacts/wine/$config/$project.publish.log"
  [[ -f "$csproj" ]] || { say "$csproj does not exist"; return 2; }
  mkdir -p "$ROOT/artifacts/wine/$config"
  # -p:SelfContained=true, not --self-contained: the flag fails with MSB1001 on this SDK. SyscallsRid: to the SDK the
  # bindings are RID-agnostic, so -r does not reach them; the global property selects their win-x64 build.
  # shellcheck disable=SC2086 # WINE_PUBLISH_ARGS: extra MSBuild arguments, e.g. -p:BindingsProject=... for experiments
  if ! dotnet publish "$csproj" -r win-x64 -p:SelfContained=true -p:SyscallsRid=win-x64 -c "$config" -o "$out" \
      ${WINE_PUBLISH_ARGS:-} -v quiet -nologo >"$log" 2>&1; then
    grep -E "error|warn MSB" "$log" | sort -u | head -20 >&2
    say "publish of $project failed (${log#"$ROOT"/})"
    return 1
  fi
  patch_runtimeconfig "$out/$project.runtimeconfig.json"
  say "published $project for win-x64 in $((SECONDS - t)) s"
  echo "$out/$project.exe"
}

# Two Wine 8 faults of CoreCLR, each fatal to a whole test run, and what avoids them:
# - A DynamicMethod's finalizer (DynamicResolver.DestroyScout) dies with "Internal CLR error (0x80131506)", so
#   reflection must not emit invoke stubs: ForceInterpretedInvoke, patched into the published runtimeconfig.json.
# - A caught exception leaves a dead frame on TEB->ExceptionList and the next exception on that thread hangs the
#   process ("virtual_setup_exception stack overflow"): eng/WineHook, a startup hook, drops the dead frame.
patch_runtimeconfig() {
  local f="$1"
  [[ -f "$f" ]] || return 0
  python3 -c '
import json, sys
p = sys.argv[1]
j = json.load(open(p))
j.setdefault("runtimeOptions", {}).setdefault("configProperties", {})["Switch.System.Reflection.ForceInterpretedInvoke"] = True
json.dump(j, open(p, "w"), indent=2)
' "$f"
}

build_hook() {
  [[ -f "$HOOK_DIR/WineHook.dll" && "$HOOK_DIR/WineHook.dll" -nt "$ROOT/eng/WineHook/StartupHook.cs" ]] && return 0
  mkdir -p "$HOOK_DIR"
  dotnet build "$ROOT/eng/WineHook/WineHook.csproj" -c Release -o "$HOOK_DIR" -v quiet -nologo \
    >"$ROOT/artifacts/wine/hook.build.log" 2>&1 || { say "building eng/WineHook failed (artifacts/wine/hook.build.log)"; return 1; }
}

run() {
  need_wine
  local exe="$1"; shift
  [[ -f "$exe" ]] || { say "$exe not published"; return 3; }
  exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
  local args=() xml="" tmpxml=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -xml|-result-xml)
        # The report path may hold characters Windows forbids (test.sh names it "win-x64 (wine):x.xml"):
        # let the exe write a plain name, then move it where it was asked for.
        xml="$2"; tmpxml="$(mktemp -d)/report.xml"
        args+=("-result-xml" "$(winpath "$tmpxml")"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  init
  build_hook || return 1
  local t=$SECONDS rc
  (cd "$(dirname "$exe")" && DOTNET_STARTUP_HOOKS="$(winpath "$HOOK_DIR/WineHook.dll")" \
    timeout -k 10 "${WINE_TIMEOUT:-300}" "$WINE64" "$exe" "${args[@]}")
  rc=$?
  [[ $rc == 124 || $rc == 137 ]] && say "$(basename "$exe") timed out after ${WINE_TIMEOUT:-300} s"
  if [[ -n "$xml" && -f "$tmpxml" ]]; then mv "$tmpxml" "$xml"; fi
  [[ -n "$tmpxml" ]] && rm -rf "$(dirname "$tmpxml")"
  say "ran $(basename "$exe") in $((SECONDS - t)) s (exit $rc)"
  return $rc
}

# Z: maps the Unix root in every prefix; backslashes so that .NET sees a rooted Windows path.
winpath() { echo "Z:${1//\//\\}"; }

cmd="${1:-}"; [[ $# -gt 0 ]] && shift
case "$cmd" in
  init) init; echo "$WINEPREFIX" ;;
  publish) publish "$@" ;;
  run) run "$@" ;;
  suite)
    config="$1" project="$2"; shift 2
    exe="$(publish "$config" "$project")" || exit 1
    run "$exe" "$@" ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac

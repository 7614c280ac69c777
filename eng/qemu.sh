#!/usr/bin/env bash
# Runs the linux-arm64 test executables under qemu-user on this x86-64 host: published self-contained for
# linux-arm64 and started with qemu-aarch64-static (no binfmt_misc; the arm64 loader and libraries come from Debian's
# multiarch packages eng/setup.sh installs: libc6:arm64, libstdc++6:arm64, libicu72:arm64, ...).
#   eng/qemu.sh check                          exit 0 when qemu-user and the arm64 runtime libraries are installed
#   eng/qemu.sh publish CONFIG PROJECT         dotnet publish tests/PROJECT -r linux-arm64 -p:SelfContained=true into
#                                              artifacts/qemu/CONFIG/PROJECT (prints the executable's path)
#   eng/qemu.sh run EXE [args]                 run a published executable under qemu and `timeout` (QEMU_TIMEOUT,
#                                              default 480 s), minus the tests qemu cannot run (listed below, with why);
#                                              QEMU_CHILD_TESTS=1 keeps the tests that start child processes;
#                                              up to three failed test methods get one rerun (see rerun_failed)
#   eng/qemu.sh suite CONFIG PROJECT [args]    publish, then run (what eng/test-suites-qemu.sh registers)
# qemu facts this relies on (see shared FIELD-NOTES): io_uring_setup is ENOSYS under qemu-user, so the runtime suite
# exercises the automatic io_uring fallback for real; epoll shows the 16-byte arm64 epoll_event. An emulated process
# cannot exec another arm64 binary by itself (no binfmt_misc here), but it can exec x86-64 ones (gcc, zig, qemu).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
QEMU="${QEMU:-$(command -v qemu-aarch64-static 2>/dev/null || echo /usr/bin/qemu-aarch64-static)}"
ARM64_LOADER=/lib/ld-linux-aarch64.so.1
say() { echo "qemu: $*" >&2; }

check() {
  [[ -x "$QEMU" ]] || { say "qemu-aarch64-static not found (eng/setup.sh installs qemu-user-static)"; return 4; }
  [[ -e "$ARM64_LOADER" ]] || { say "$ARM64_LOADER missing (eng/setup.sh installs libc6:arm64 and friends)"; return 4; }
  ls /usr/lib/aarch64-linux-gnu/libicuuc.so.* >/dev/null 2>&1 \
    || { say "libicu for arm64 missing (eng/setup.sh installs libicu72:arm64)"; return 4; }
  return 0
}

publish() {
  local config="$1" project="$2" out t=$SECONDS
  out="$ROOT/artifacts/qemu/$config/$project"
  local csproj="$ROOT/tests/$project/$project.csproj" log="$ROOT/artifacts/qemu/$config/$project.publish.log"
  [[ -f "$csproj" ]] || { say "$csproj does not exist"; return 2; }
  mkdir -p "$ROOT/artifacts/qemu/$config"
  # -p:SelfContained=true, not --self-contained (MSB1001 on this SDK). ReadyToRun: qemu emulates the JIT too, and
  # precompiled code halves the run. SyscallsRid: Syscalls.Bindings picks its build from SyscallsRid, else from the
  # SDK's own RID (linux-x64 here), and -r never reaches it (the SDK strips RuntimeIdentifier from references to
  # RID-agnostic libraries); naming it keeps the linux-arm64 layouts in the arm64 process.
  if ! dotnet publish "$csproj" -r linux-arm64 -p:SelfContained=true -p:PublishReadyToRun=true \
      -p:SyscallsRid=linux-arm64 -c "$config" -o "$out" -v quiet -nologo >"$log" 2>&1; then
    grep -E "error|warn MSB" "$log" | sort -u | head -20 >&2
    grep -q "NU1101.*libclang.runtime.linux-arm64\|NETSDK1047" "$log" && say "the generator tool is being restored/built" \
      "for linux-arm64; it must stay a host build (no libclang meta package in its csproj; RuntimeIdentifier," \
      "SelfContained and PublishReadyToRun removed on the tool reference in Syscalls.Bindings.Emit.targets)"
    say "publish of $project failed (artifacts/qemu/$config/$project.publish.log)"
    return 1
  fi
  check_bindings_rid "$out/Syscalls.Bindings.dll" || return 1
  say "published $project for linux-arm64 in $((SECONDS - t)) s"
  echo "$out/$project"
}

# The bindings' stubs for foreign APIs say which build they are ("... this is the linux-x64 build of
# Syscalls.Bindings."): an arm64 process with another RID's layouts would fail in confusing ways, so stop here.
check_bindings_rid() {
  local dll="$1"
  [[ -f "$dll" ]] || return 0
  python3 - "$dll" <<'EOF'
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-16-le", errors="ignore")
rids = set(re.findall(r"this is the ([a-z0-9-]+) build of Syscalls\.Bindings", text))
if rids and rids != {"linux-arm64"}:
    sys.exit(f"qemu: {sys.argv[1]} is the {', '.join(sorted(rids))} build of Syscalls.Bindings, not linux-arm64")
EOF
}

# Tests left out under qemu, as xunit -method-/-class- filters, each with its reason (printed on every run).
# Tests that start a child process (a second emulated .NET process: ~14 s to start when the machine is idle, past
# the tests' 30-60 s limits under parallel load; two dozen of them exceed the qemu budget) are off unless
# QEMU_CHILD_TESTS=1. A test build that knows SYSCALLS_TEST_NO_CHILDREN skips them itself, with that reason in the
# report; for one that does not, they are filtered out here by name.
exclusions() {
  local exe="$1" dll="${1}.dll"
  case "$(basename "$exe")" in
    Syscalls.Runtime.Tests)
      echo "-method-|*.Echo_TenThousandConnections_EveryByteVerified|10,000 connections take longer under emulation than the whole qemu budget (~8 min); they run natively on x64"
      local why=""
      if [[ "${QEMU_CHILD_TESTS:-0}" != 1 ]]; then
        has_string "$dll" SYSCALLS_TEST_NO_CHILDREN && return 0
        why="starts itself as a child process (off under qemu unless QEMU_CHILD_TESTS=1)"
      elif ! has_string "$dll" SYSCALLS_TEST_LAUNCHER; then
        why="starts itself as an arm64 child, which this test build cannot do under qemu (no SYSCALLS_TEST_LAUNCHER support)"
      elif ! has_string "$dll" SYSCALLS_TEST_CC; then
        echo "-class-|Syscalls.Runtime.Tests.FaultInjectionTests|the LD_PRELOAD shim would be built for x86-64 (no SYSCALLS_TEST_CC support in this test build)"
        echo "-method-|*.Ring_IoUringUnavailable_SelectorFallsBackToEmulatedWithNoFailedRequest|the LD_PRELOAD shim would be built for x86-64 (no SYSCALLS_TEST_CC support in this test build)"
        return 0
      fi
      [[ -n "$why" ]] || return 0
      echo "-class-|Syscalls.Runtime.Tests.FaultInjectionTests|$why"
      echo "-method-|*.BackendSelector_EnvironmentVariable_ForcesBackend|$why"
      echo "-method-|*.Ring_IoUringUnavailable_SelectorFallsBackToEmulatedWithNoFailedRequest|$why" ;;
  esac
}

# The io_uring fallback this run exists to prove: under qemu io_uring_setup is ENOSYS, so the selector tests that
# skip where io_uring works must have run and passed here. Says so either way (a qemu with io_uring cannot prove it).
report_fallback() {
  local xml="$1"
  [[ -f "$xml" ]] || return 0
  python3 - "$xml" <<'EOF'
import html, re, sys
x = open(sys.argv[1]).read()
want = ['BackendSelector_RingBackendUnavailable_FallsBackToEpollAndSaysWhy(backend: "uring")',
        'RingSelector_CreateRing_EchoesOnTheBackendItPicks']
for w in want:
    got = [re.search(r'result="(\w+)"', t).group(1) for t in re.findall(r"<test ([^>]*)>", x)
           if w in html.unescape(re.search(r'name="([^"]*)"', t).group(1)).replace('\\"', '"')]
    if got:
        print(f"qemu: io_uring fallback: {w}: {got[0]}", file=sys.stderr)
EOF
}

has_string() {
  [[ -f "$1" ]] && python3 -c "import sys; sys.exit(0 if sys.argv[2].encode('utf-16-le') in open(sys.argv[1],'rb').read() else 1)" "$1" "$2"
}

run() {
  check || return $?
  local exe="$1"; shift
  [[ -f "$exe" ]] || { say "$exe not published"; return 3; }
  exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"   # the run below changes directory
  local filters=() opt pattern why
  while IFS='|' read -r opt pattern why; do
    [[ -n "$opt" ]] || continue
    filters+=("$opt" "$pattern")
    say "left out: ${pattern#\*.} ($why)"
  done < <(exclusions "$exe")
  # Children of the tests (a server in its own process, the fault shim's compiler) must be arm64 as well.
  export SYSCALLS_TEST_LAUNCHER="$QEMU" SYSCALLS_TEST_CC="${SYSCALLS_TEST_CC:-aarch64-linux-gnu-gcc}"
  # W^X double-maps JIT code (a writable and an executable view of one memfd); qemu-user only notices writes through
  # the view it translated, so it keeps running stale code: random NullReferenceExceptions in reflection stubs and
  # aborts (seen here; dotnet/runtime#94909). With W^X off the JIT writes where it executes. Children inherit it.
  export DOTNET_EnableWriteXorExecute=0
  [[ "${QEMU_CHILD_TESTS:-0}" == 1 ]] || export SYSCALLS_TEST_NO_CHILDREN=1
  local t=$SECONDS rc
  (cd "$(dirname "$exe")" && timeout -k 10 "${QEMU_TIMEOUT:-480}" "$QEMU" "$exe" "${filters[@]}" "$@")
  rc=$?
  local xml="" prev="" a
  for a in "$@"; do [[ "$prev" == -xml || "$prev" == -result-xml ]] && xml="$a"; prev="$a"; done
  [[ $rc != 0 && $rc != 124 && $rc != 137 && -n "$xml" ]] && { rerun_failed "$exe" "$xml" "$@"; rc=$?; }
  [[ -n "$xml" ]] && report_fallback "$xml"
  [[ $rc == 124 || $rc == 137 ]] && say "$(basename "$exe") timed out after ${QEMU_TIMEOUT:-480} s"
  say "ran $(basename "$exe") in $((SECONDS - t)) s (exit $rc)"
  return $rc
}

# A run under qemu-user can fail for the emulator's sake (stale translated code was one cause, see W^X above), so up
# to three failed test methods get one more run, alone. Their first failure is printed either way; the report counts
# them as passed only when every one of them passes the second time. More failures, or a second failure, stand.
rerun_failed() {
  local exe="$1" xml="$2"; shift 2
  [[ -f "$xml" ]] || return 1
  local failed=() m filters=() args=() prev="" a
  mapfile -t failed < <(python3 "$ROOT/eng/report-failures.py" "$xml" --methods)
  python3 "$ROOT/eng/report-failures.py" "$xml" | sed 's/^ */qemu: first run: /' >&2
  (( ${#failed[@]} > 0 && ${#failed[@]} <= 3 )) || return 1
  for m in "${failed[@]}"; do filters+=(-method "$m"); done
  for a in "$@"; do
    if [[ "$prev" == -xml || "$prev" == -result-xml ]]; then args+=("${xml%.xml}.rerun.xml"); else args+=("$a"); fi
    prev="$a"
  done
  say "rerunning once: ${failed[*]}"
  (cd "$(dirname "$exe")" && timeout -k 10 "${QEMU_TIMEOUT:-480}" "$QEMU" "$exe" "${filters[@]}" "${args[@]}") >&2 || {
    [[ -f "${xml%.xml}.rerun.xml" ]] && python3 "$ROOT/eng/report-failures.py" "${xml%.xml}.rerun.xml" | sed 's/^ */qemu: rerun: /' >&2
    say "the rerun failed too: the failure stands"
    return 1
  }
  # Every rerun test passed: mark them passed in the first report (the counts are what eng/test.sh sums).
  python3 - "$xml" "${xml%.xml}.rerun.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
first, rerun = ET.parse(sys.argv[1]), ET.parse(sys.argv[2]).getroot()
passed = {t.get("name") for t in rerun.iter("test") if t.get("result") == "Pass"}
asm = first.getroot().find("assembly")
for t in first.getroot().iter("test"):
    if t.get("result") == "Fail" and t.get("name") in passed:
        t.set("result", "Pass")
        t.remove(t.find("failure"))
        for node in (asm, *[c for c in asm.iter("collection") if t in list(c)]):
            node.set("failed", str(int(node.get("failed")) - 1))
            node.set("passed", str(int(node.get("passed")) + 1))
left = sum(1 for t in first.getroot().iter("test") if t.get("result") == "Fail")
first.write(sys.argv[1], encoding="utf-8", xml_declaration=True)
print(f"qemu: rerun passed; {left} failure(s) left in the report", file=sys.stderr)
sys.exit(1 if left else 0)
PY
}

cmd="${1:-}"; [[ $# -gt 0 ]] && shift
case "$cmd" in
  check) check ;;
  publish) publish "$@" ;;
  run) run "$@" ;;
  suite)
    config="$1" project="$2"; shift 2
    check || exit $?
    exe="$(publish "$config" "$project")" || exit 1
    run "$exe" "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac

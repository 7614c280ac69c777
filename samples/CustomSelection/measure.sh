#!/usr/bin/env bash
# samples/CustomSelection/measure.sh [RUNS]: what the Roslyn host costs per build of this sample. RUNS (default 5)
# of each, interleaved so that machine noise hits both sides alike; medians printed.
#   A. wall time of a `dotnet build` that recompiles (Program.cs touched), with the generator and without it
#      (-p:DisableSyscallsGenerator=true: its earlier output compiled as plain files, the analyzer removed; see the
#      .csproj), with the compiler server (the SDK default) and without (UseSharedCompilation=false, a fresh csc
#      per build, as CI machines that disable the server do);
#   B. the generator's own time as the compiler reports it (-p:ReportAnalyzer=true), both modes;
#   C. CPU time (user+sys) of csc run directly without the server on the build's own command line, with and
#      without the generator: the least noisy figure on a busy machine.
# Needs the packed generator: ./build.sh pack (or dotnet pack generator/Syscalls.Generator -o artifacts/packages).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNS="${1:-5}"
cd "$HERE"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
rm -rf obj/packages/syscalls.generator obj/pregenerated
# The newest packed version (MSBuild reads the environment variable as the property run.sh passes).
pkg=$(ls -t ../../artifacts/packages/Syscalls.Generator.*.nupkg | head -1)
export SyscallsPackageVersion; SyscallsPackageVersion=$(basename "$pkg" .nupkg); SyscallsPackageVersion=${SyscallsPackageVersion#Syscalls.Generator.}
dotnet restore --force -v quiet -nologo >/dev/null
# One build that also writes the generated sources out (the baseline compiles exactly these) and logs csc's command.
touch Program.cs
dotnet build --no-restore -v:d -nologo -p:UseSharedCompilation=false -p:EmitCompilerGeneratedFiles=true \
  -p:CompilerGeneratedFilesOutputPath=obj/pregenerated >"$TMP/build.log"
generated=$(find obj/pregenerated -name '*.g.cs' | sort)
[[ -n "$generated" ]] || { echo "measure.sh: the generator wrote nothing to obj/pregenerated" >&2; exit 1; }
echo "generated: $(echo "$generated" | wc -l) files, $(cat $generated | wc -l) lines;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $RUNS runs each"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
build() { touch Program.cs; local s; s=$(date +%s%N); dotnet build --no-restore -v quiet -nologo "$@" >/dev/null; ms "$s"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
line() { printf '  %-52s %s ms -> median %s ms\n' "$1" "${*:2}" "$(median "${@:2}")"; }
# Seconds in the ReportAnalyzer table -> ms; the first row matching $1.
reported() { awk -v name="$1" '$0 ~ name {printf "%d\n", $1 * 1000; exit}' "$2"; }

for server in true false; do
  mode="-p:UseSharedCompilation=$server"
  build "$mode" >/dev/null; build "$mode" -p:DisableSyscallsGenerator=true >/dev/null   # warm up both
  with=(); without=(); gen=(); sdk=()
  for ((i = 0; i < RUNS; i++)); do
    with+=("$(build "$mode")")
    without+=("$(build "$mode" -p:DisableSyscallsGenerator=true)")
  done
  for ((i = 0; i < RUNS; i++)); do
    touch Program.cs
    dotnet build --no-restore -nologo -v:d -p:ReportAnalyzer=true "$mode" >"$TMP/report.log" 2>&1
    gen+=("$(reported 'Syscalls.Generator.Roslyn.SyscallsGenerator' "$TMP/report.log")")
    sdk+=("$(reported '^ *[0-9.<]+ +[0-9<]+ +Microsoft.Interop.LibraryImportGenerator$' "$TMP/report.log")")
  done
  echo "== compiler server: $server"
  line "A. dotnet build (recompiles), with the generator" "${with[@]}"
  line "A. dotnet build (recompiles), without it" "${without[@]}"
  line "B. generator time (ReportAnalyzer)" "${gen[@]}"
  line "B. SDK's LibraryImportGenerator, same builds" "${sdk[@]}"
done

# C: csc's command line from the log, output redirected; without = no Syscalls analyzer + the pregenerated sources.
csc=$(grep -m1 -oE '/[^ ]*/Roslyn/bincore/csc /noconfig .*' "$TMP/build.log" || true)
if [[ -z "$csc" ]]; then echo "C. skipped: no csc command line in the build log"; exit 0; fi
cd "$HERE"
echo "${csc#* }" | tr ' ' '\n' | grep -vE '^/out:|^/refout:|^/reportanalyzer$' >"$TMP/with.rsp"
echo "/out:$TMP/out.dll" >>"$TMP/with.rsp"
grep -v 'Syscalls.Generator.dll' "$TMP/with.rsp" >"$TMP/without.rsp"
echo "$generated" >>"$TMP/without.rsp"
cpu() { local TIMEFORMAT='%U %S'; { time "${csc%% *}" "@$1" >/dev/null; } 2>&1 | awk '{printf "%d\n", ($1 + $2) * 1000}'; }
cwith=(); cwithout=()
for ((i = 0; i < RUNS; i++)); do
  cwith+=("$(cpu "$TMP/with.rsp")")
  cwithout+=("$(cpu "$TMP/without.rsp")")
done
echo "== csc without the server, CPU time (user+sys)"
line "C. with the generator" "${cwith[@]}"
line "C. without it" "${cwithout[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# samples/CustomSelection/measure.sh [RUNS]: what the Roslyn host costs per build of this sample, in both compiler
# modes: with the compiler server (UseSharedCompilation=true, the SDK default: the generator stays loaded and keeps
# its parsed facts between builds) and without it (UseSharedCompilation=false: a fresh csc per build, as in CI
# machines that disable the server). For each mode, RUNS times:
#   - wall time of a `dotnet build` that recompiles (Program.cs touched), with the generator, and without it
#     (-p:DisableSyscallsGenerator=true: its earlier output compiled as plain files, the analyzer removed; see the
#     .csproj), interleaved so that machine noise hits both alike;
#   - the generator's own time as the compiler reports it (-p:ReportAnalyzer=true), next to the SDK's
#     LibraryImportGenerator, which runs in every net10.0 project anyway.
# Prints medians. Needs the packed generator (./build.sh pack, or dotnet pack generator/Syscalls.Generator -o artifacts/packages).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNS="${1:-5}"
cd "$HERE"
rm -rf obj/packages/syscalls.generator obj/pregenerated
dotnet restore --force -v quiet -nologo >/dev/null
# One build that also writes the generated sources out: the baseline compiles exactly these.
touch Program.cs
dotnet build --no-restore -v quiet -nologo -p:EmitCompilerGeneratedFiles=true \
  -p:CompilerGeneratedFilesOutputPath=obj/pregenerated >/dev/null
generated=$(find obj/pregenerated -name '*.g.cs')
[[ -n "$generated" ]] || { echo "measure.sh: the generator wrote nothing to obj/pregenerated" >&2; exit 1; }
echo "generated: $(echo "$generated" | wc -l) files, $(cat $generated | wc -l) lines; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
build() { touch Program.cs; local s; s=$(date +%s%N); dotnet build --no-restore -v quiet -nologo "$@" >/dev/null; ms "$s"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
# Seconds in the ReportAnalyzer table -> ms; the first row naming $1.
reported() { awk -v name="$1" '$0 ~ name {printf "%d\n", $1 * 1000; exit}' "$2"; }

for server in true false; do
  mode="-p:UseSharedCompilation=$server"
  build "$mode" >/dev/null; build "$mode" -p:DisableSyscallsGenerator=true >/dev/null   # warm up both
  with=(); without=(); gen=(); sdk=()
  for ((i = 0; i < RUNS; i++)); do
    with+=("$(build "$mode")")
    without+=("$(build "$mode" -p:DisableSyscallsGenerator=true)")
  done
  log=$(mktemp)
  for ((i = 0; i < RUNS; i++)); do
    touch Program.cs
    dotnet build --no-restore -nologo -v:d -p:ReportAnalyzer=true "$mode" >"$log" 2>&1
    gen+=("$(reported 'Syscalls.Generator.Roslyn.SyscallsGenerator' "$log")")
    sdk+=("$(reported '^ *[0-9.<]+ +[0-9<]+ +Microsoft.Interop.LibraryImportGenerator$' "$log")")
  done
  rm -f "$log"
  echo "== compiler server: $server"
  echo "dotnet build (recompiles), with the generator:    ${with[*]} ms -> median $(median "${with[@]}") ms"
  echo "dotnet build (recompiles), without the generator: ${without[*]} ms -> median $(median "${without[@]}") ms"
  echo "Syscalls generator time (ReportAnalyzer):         ${gen[*]} ms -> median $(median "${gen[@]}") ms"
  echo "SDK LibraryImportGenerator time, same builds:     ${sdk[*]} ms -> median $(median "${sdk[@]}") ms"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# eng/build.sh build|pack|tool CONFIG
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
verb="$1"; CONFIG="${2:-Release}"
# Every scripted build is deterministic (ContinuousIntegrationBuild: /_/ source paths in PDBs and DLLs, as the packs
# need them), the same as on a CI server (Directory.Build.props): build, test and pack then share one set of outputs
# instead of recompiling each other's. An IDE or a plain `dotnet build` keeps real paths for debugging.
CI_BUILD=(-p:ContinuousIntegrationBuild=true)
case "$verb" in
  build) dotnet build Interop.sln -c "$CONFIG" -v minimal -nologo "${CI_BUILD[@]}" ;;
  tool)  dotnet build generator/Syscalls.Generator.Tool -c "$CONFIG" -v quiet -nologo "${CI_BUILD[@]}" ;;
  pack)
    # The shipped packages: Syscalls.Bindings (one build per RID + portable + ref, see
    # bindings/Syscalls.Bindings/Syscalls.Bindings.Pack.targets), Syscalls.Runtime and the Syscalls.Generator analyzer
    # package, each with its .snupkg. Every pack runs NuGet package validation (eng/Packaging.targets): a failure
    # stops here. `pack --new-baseline` packs without the baseline comparison and makes these packages the new
    # baselines (eng/baselines/README.md). Then a summary (eng/pack-summary.sh), and the sample consumers restore the packed packages (not project
    # references) and run: samples/Consumer takes Syscalls.Bindings, samples/CustomSelection the Syscalls.Generator
    # analyzer (the Roslyn host).
    shift 2 || true
    new_baseline=0
    case "${1:-}" in
      --new-baseline) new_baseline=1 ;;
      "") ;;
      *) echo "eng/build.sh pack: unknown option '$1' (only --new-baseline)" >&2; exit 2 ;;
    esac
    rm -rf artifacts/packages; mkdir -p artifacts/packages
    log=artifacts/pack.log; : > "$log"
    props=("${CI_BUILD[@]}")
    [[ $new_baseline == 1 ]] && props+=(-p:SyscallsSkipBaseline=true)
    start=$(date +%s)
    # Every project that says <IsPackable>true</IsPackable>, plus the generator (it says so in Packaging/*.targets).
    packables=$( { grep -l '<IsPackable>true</IsPackable>' $(find generator bindings runtime -name '*.csproj' -not -path '*/obj/*' 2>/dev/null) /dev/null || true;
                   echo generator/Syscalls.Generator/Syscalls.Generator.csproj; } | sort -u)
    for p in $packables; do
      dotnet pack "$p" -c "$CONFIG" -o artifacts/packages -v minimal -nologo "${props[@]}" 2>&1 | tee -a "$log"
    done
    echo "packed in $(( $(date +%s) - start )) s"
    if [[ $new_baseline == 1 ]]; then
      # Only packages with assemblies to compare get a baseline (the analyzer package has none).
      for id in Syscalls.Bindings Syscalls.Runtime; do
        rm -rf "eng/baselines/$id"; mkdir -p "eng/baselines/$id"
        cp "artifacts/packages/$id".[0-9]*.nupkg "eng/baselines/$id/"
        echo "new baseline: eng/baselines/$id/$(ls "eng/baselines/$id")"
      done
    fi
    eng/pack-summary.sh artifacts/packages "$log"
    samples/Consumer/run.sh "$CONFIG"
    samples/CustomSelection/run.sh "$CONFIG" ;;
  *) echo "eng/build.sh: unknown verb $verb" >&2; exit 2 ;;
esac

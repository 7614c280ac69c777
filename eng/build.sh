#!/usr/bin/env bash
# eng/build.sh build|pack|tool CONFIG
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
verb="$1"; CONFIG="${2:-Release}"
case "$verb" in
  build) dotnet build Interop.sln -c "$CONFIG" -v minimal -nologo ;;
  tool)  dotnet build generator/Syscalls.Generator.Tool -c "$CONFIG" -v quiet -nologo ;;
  pack)
    # The shipped packages: Syscalls.Bindings (one build per RID + portable + ref, see
    # bindings/Syscalls.Bindings/Syscalls.Bindings.Pack.targets) and the Syscalls.Generator analyzer package.
    # Then the sample consumers restore the packed packages (not project references) and run: samples/Consumer takes
    # Syscalls.Bindings, samples/CustomSelection the Syscalls.Generator analyzer (the Roslyn host).
    rm -rf artifacts/packages; mkdir -p artifacts/packages
    start=$(date +%s)
    # Every project that says <IsPackable>true</IsPackable>, plus the generator (it says so in Packaging/*.targets).
    packables=$( { grep -l '<IsPackable>true</IsPackable>' $(find generator bindings runtime -name '*.csproj' -not -path '*/obj/*' 2>/dev/null) /dev/null || true;
                   echo generator/Syscalls.Generator/Syscalls.Generator.csproj; } | sort -u)
    for p in $packables; do
      dotnet pack "$p" -c "$CONFIG" -o artifacts/packages -v minimal -nologo
    done
    echo "packed in $(( $(date +%s) - start )) s:"
    ls -1 artifacts/packages
    samples/Consumer/run.sh "$CONFIG"
    samples/CustomSelection/run.sh "$CONFIG" ;;
  *) echo "eng/build.sh: unknown verb $verb" >&2; exit 2 ;;
esac

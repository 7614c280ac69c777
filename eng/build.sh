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
    rm -rf artifacts/packages; mkdir -p artifacts/packages
    for p in $(grep -l '<IsPackable>true</IsPackable>' $(git ls-files '*.csproj' 2>/dev/null || find . -name '*.csproj')); do
      dotnet pack "$p" -c "$CONFIG" -o artifacts/packages -v minimal -nologo
    done
    ls -1 artifacts/packages ;;
  *) echo "eng/build.sh: unknown verb $verb" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# samples/CustomSelection/run.sh [CONFIG]: restores the sample against the packed Syscalls.Generator in
# artifacts/packages (./build.sh pack first), builds it (the generator runs inside the compiler) and runs it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CONFIG="${1:-Release}"
if ! ls "$ROOT"/artifacts/packages/Syscalls.Generator.*.nupkg >/dev/null 2>&1; then
  echo "run.sh: no Syscalls.Generator package in artifacts/packages; run ./build.sh pack first" >&2
  exit 1
fi
# The package version does not change between packs: drop the extracted copy so the new one is used.
rm -rf "$HERE/obj/packages/syscalls.generator"
dotnet restore "$HERE" --force -v quiet -nologo
dotnet run --project "$HERE" -c "$CONFIG" --no-restore

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
# The version of the newest pack (eng/Versioning.targets: every pack of changed code has its own).
pkg=$(ls -t "$ROOT"/artifacts/packages/Syscalls.Generator.*.nupkg | head -1)
version=$(basename "$pkg" .nupkg); version=${version#Syscalls.Generator.}
echo "CustomSelection: Syscalls.Generator $version"
dotnet restore "$HERE" -v quiet -nologo -p:SyscallsPackageVersion="$version"
dotnet run --project "$HERE" -c "$CONFIG" --no-restore -p:SyscallsPackageVersion="$version"

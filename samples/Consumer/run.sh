#!/usr/bin/env bash
# samples/Consumer/run.sh [CONFIG]: restores the sample against the packed Syscalls.Bindings in artifacts/packages
# (./build.sh pack first) and runs it. Prints what it called and sizeof(epoll_event).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CONFIG="${1:-Release}"
if ! ls "$ROOT"/artifacts/packages/Syscalls.Bindings.*.nupkg >/dev/null 2>&1; then
  echo "run.sh: no Syscalls.Bindings package in artifacts/packages; run ./build.sh pack first" >&2
  exit 1
fi
# The version of the newest pack (eng/Versioning.targets: every pack of changed code has its own).
pkg=$(ls -t "$ROOT"/artifacts/packages/Syscalls.Bindings.*.nupkg | head -1)
version=$(basename "$pkg" .nupkg); version=${version#Syscalls.Bindings.}
echo "Consumer: Syscalls.Bindings $version"
dotnet restore "$HERE" -v quiet -nologo -p:SyscallsPackageVersion="$version"
dotnet run --project "$HERE" -c "$CONFIG" --no-restore -p:SyscallsPackageVersion="$version"

#!/usr/bin/env bash
# samples/RawEcho/run.sh [PORT]: this OS's raw echo server (epoll on Linux) on 127.0.0.1:PORT (default 9000), built
# against the packed Syscalls.Bindings of this tree (eng/consumer.sh ensure packs it into artifacts/packages when it is
# missing), in the foreground until Ctrl-C or SIGTERM. Try it with `nc 127.0.0.1 PORT`. CONFIG picks the configuration
# (default Release).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CONFIG="${CONFIG:-Release}"
version="$("$ROOT/eng/consumer.sh" ensure "$CONFIG")"
echo "RawEcho: Syscalls.Bindings $version" >&2
dotnet build "$HERE" -c "$CONFIG" -v quiet -nologo -p:SyscallsPackageVersion="$version" >&2
exec dotnet run --project "$HERE" -c "$CONFIG" --no-build -p:SyscallsPackageVersion="$version" -- "$@"

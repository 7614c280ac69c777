#!/usr/bin/env bash
# eng/echo.sh CONFIG [--backend epoll|poll|uring|emulated|threads] [--port N]
# Builds the echo sample if anything it depends on changed, then runs it in the foreground (exec: SIGINT/SIGTERM
# reach the server directly, which stops cleanly and exits 0).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"; shift || true
BIN="$ROOT/samples/Echo/bin/$CONFIG/net10.0/Echo"
stale=1
if [[ -x "$BIN" ]]; then
  # Up to date when no source, project or props file is newer than the binary.
  newer=$(find "$ROOT/samples/Echo" "$ROOT/runtime" "$ROOT/bindings" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
    \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) \
    -newer "$BIN" -print -quit 2>/dev/null || true)
  [[ -z "$newer" ]] && stale=0
fi
if [[ $stale == 1 ]]; then
  echo "echo: building samples/Echo ($CONFIG)" >&2
  dotnet build "$ROOT/samples/Echo/Echo.csproj" -c "$CONFIG" -v quiet -nologo -clp:NoSummary >&2
fi
exec "$BIN" "$@"

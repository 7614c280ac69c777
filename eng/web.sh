#!/usr/bin/env bash
# eng/web.sh CONFIG [--backend sockets|...] [--port N] [--h2c-port N|off] [--loops N] [--tls] [--inline]
# Builds the web sample if anything it depends on changed, then runs it in the foreground (exec: SIGINT/SIGTERM reach
# the server directly, which stops gracefully and exits 0).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"; shift || true
BIN="$ROOT/samples/Web/bin/$CONFIG/net10.0/Web"
stale=1
if [[ -x "$BIN" ]]; then
  # Up to date when no source, project or props file is newer than the binary.
  newer=$(find "$ROOT/samples/Web" "$ROOT/runtime" "$ROOT/bindings" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
    \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) \
    -newer "$BIN" -print -quit 2>/dev/null || true)
  [[ -z "$newer" ]] && stale=0
fi
if [[ $stale == 1 ]]; then
  echo "web: building samples/Web ($CONFIG)" >&2
  dotnet build "$ROOT/samples/Web/Web.csproj" -c "$CONFIG" -v quiet -nologo -clp:NoSummary >&2
fi
exec "$BIN" "$@"

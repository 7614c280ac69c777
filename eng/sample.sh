#!/usr/bin/env bash
# eng/sample.sh NAME CONFIG [ARGS...]      (./build.sh echo ..., ./build.sh web ...)
# Builds samples/NAME if anything it depends on changed, then runs it in the foreground with ARGS (exec: SIGINT/SIGTERM
# reach the server directly, which stops cleanly and exits 0).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="$1"; CONFIG="${2:-Release}"; shift 2 || shift $#
BIN="$ROOT/samples/$NAME/bin/$CONFIG/net10.0/$NAME"
stale=1
if [[ -x "$BIN" ]]; then
  # Up to date when no source, project or props file is newer than the binary.
  newer=$(find "$ROOT/samples/$NAME" "$ROOT/runtime" "$ROOT/bindings" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
    \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) \
    -newer "$BIN" -print -quit 2>/dev/null || true)
  [[ -z "$newer" ]] && stale=0
fi
if [[ $stale == 1 ]]; then
  echo "$NAME: building samples/$NAME ($CONFIG)" >&2
  dotnet build "$ROOT/samples/$NAME/$NAME.csproj" -c "$CONFIG" -v quiet -nologo -clp:NoSummary >&2
fi
exec "$BIN" "$@"

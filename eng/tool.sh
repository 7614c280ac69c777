#!/usr/bin/env bash
# eng/tool.sh CONFIG <args...>: runs the generator tool (scanner, regen, diff, emit) from its build output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="$1"; shift
exec dotnet "$ROOT/generator/Syscalls.Generator.Tool/bin/$CONFIG/net10.0/Syscalls.Generator.Tool.dll" "$@"

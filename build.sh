#!/usr/bin/env bash
# Syscalls build entry point. Verbs (same in build.ps1):
#   ./build.sh                 set-up (apt/npm/NuGet/header packages) + build + pack into artifacts/packages
#   ./build.sh setup           install and fetch everything the build and tests need (idempotent)
#   ./build.sh build           build the solution
#   ./build.sh test            all tests; the last line is "N passed, N failed, N skipped"
#   ./build.sh pack [--new-baseline]
#                              NuGet packages (+ .snupkg) into artifacts/packages, validated, listed, consumed
#                              by the samples; --new-baseline makes them the baselines of the next version
#   ./build.sh regen [--kernel K] [--target T ...] [--move-pins]
#                              rescan the pinned headers, print what changed, rewrite headers/facts
#   ./build.sh echo --backend epoll|poll|uring|emulated|threads --port N
#                              the echo server sample, in the foreground
#   ./build.sh bench [...]     benchmarks (see README)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIG="${CONFIG:-Release}"

verb="${1:-all}"; [[ $# -gt 0 ]] && shift
case "$verb" in
  all)    eng/setup.sh; eng/build.sh build "$CONFIG"; eng/build.sh pack "$CONFIG" ;;
  setup)  eng/setup.sh "$@" ;;
  build)  eng/setup.sh --quiet; eng/build.sh build "$CONFIG" ;;
  pack)   eng/setup.sh --quiet; eng/build.sh pack "$CONFIG" "$@" ;;
  test)   eng/setup.sh --quiet; eng/build.sh build "$CONFIG"; eng/test.sh "$CONFIG" "$@" ;;
  regen)  eng/setup.sh --quiet; eng/build.sh tool "$CONFIG"; eng/tool.sh "$CONFIG" regen "$@" ;;
  echo)   eng/setup.sh --quiet; exec eng/echo.sh "$CONFIG" "$@" ;;
  bench)  eng/setup.sh --quiet; exec eng/bench.sh "$CONFIG" "$@" ;;
  -h|--help|help) sed -n '2,17p' "$0" ;;
  *) echo "build.sh: unknown verb '$verb' (try ./build.sh help)" >&2; exit 2 ;;
esac

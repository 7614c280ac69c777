#!/usr/bin/env bash
# eng/chart.sh CONFIG DATA.tsv OUT.png TITLE YLABEL
# A grouped bar chart (rows "group<TAB>series<TAB>value") drawn by eng/BenchChart with ScottPlot, built if needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="$1"; DATA="$2"; OUT="$3"; TITLE="$4"; YLABEL="$5"
dotnet build "$ROOT/eng/BenchChart/BenchChart.csproj" -c "$CONFIG" -v quiet -nologo -clp:NoSummary >&2
dotnet "$ROOT/eng/BenchChart/bin/$CONFIG/net10.0/BenchChart.dll" --data "$DATA" --out "$OUT" --title "$TITLE" --ylabel "$YLABEL"

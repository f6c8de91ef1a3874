#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshots what a refactor must not change: the quickstart's output, every artifact it writes
# (model bytes, splits, predictions, pictures, reports), and the JSON of `cairn eval metrics`,
# `cairn data profile` and `cairn eval compare`, with run ids, times and durations masked.
# Usage: tools/snapshot-outputs.sh BUILD_DIR OUT_DIR; then `diff -r OUT_A OUT_B`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "$1" && pwd)
snap=$2
rm -rf "$snap"
mkdir -p "$snap"
snap=$(cd "$snap" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CAIRN_QUICKSTART_DIR=$work/qs
./scripts/quickstart-run.sh "$build" >"$work/quickstart.txt" 2>&1
export CAIRN_STORE="sqlite://$work/qs/cairn.db"
cairn=$build/cairn
# Run ids in the order the runs were made, so masks are stable between builds.
mapfile -t ids < <(/usr/bin/python3 - "$work/qs/cairn.db" <<'PY'
import sqlite3, sys
for (rid,) in sqlite3.connect(sys.argv[1]).execute("select run_uuid from runs order by start_time, name"):
    print(rid)
PY
)
mask() {
  local f=$1 i=0
  for id in "${ids[@]}"; do
    sed -i -e "s/$id/RUN$i/g" -e "s/${id:0:8}/RUN$i/g" "$f"
    i=$((i + 1))
  done
  sed -i -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?/TIME/g' \
    -e 's/[0-9]+(\.[0-9]+)?(ms|s) +/DUR /g' -e "s#$work#WORK#g" -e 's/"[a-z_]*time[a-z_]*": *[0-9]+/"TIME"/g' \
    -e 's/"duration_ms": *[0-9]+/"DUR"/g' \
    -e 's/_ms": *"?[0-9]+"?/_ms": "MS"/g' "$f"
}
cp "$work/quickstart.txt" "$snap/quickstart.txt"
mask "$snap/quickstart.txt"
i=0
for id in "${ids[@]}"; do
  src=$(find "$work/qs/cairn-artifacts" -maxdepth 2 -name "$id")
  if [ -n "$src" ] && [ -d "$src/artifacts" ]; then
    cp -r "$src/artifacts" "$snap/RUN$i"
    find "$snap/RUN$i" -type f | while read -r f; do mask "$f"; done
    # A model file ends in a SHA-256 of its bytes, which cover its run id: drop it once masked.
    find "$snap/RUN$i" -name '*.cairn' -exec truncate -s -32 {} +
  fi
  i=$((i + 1))
done
for l in logistic mlp xgboost; do cp "$work/qs/train-$l.json" "$snap/train-$l.json"; mask "$snap/train-$l.json"; done
pred=$(find "$snap" -path '*predictions/val.csv' | sort | head -1)
"$cairn" eval metrics --input "$pred" --json >"$snap/eval-metrics.json" 2>&1 || true
"$cairn" data profile data/wine.csv --json >"$snap/profile-wine.json" 2>&1 || true
"$cairn" eval compare "${ids[3]}" "${ids[4]}" --json >"$snap/compare.json" 2>&1 || true
"$cairn" runs show "${ids[4]}" --json >"$snap/show.json" 2>&1 || true
for f in "$snap"/*.json; do mask "$f"; done
# Artifact digests cover files that embed their run id; the files themselves are compared above.
sed -i -E 's/"sha256": "[0-9a-f]{64}"/"sha256": "SHA"/' "$snap/show.json"
echo "snapshot in $snap ($(find "$snap" -type f | wc -l) files)"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quickstart's steps on an existing build (scripts/quickstart.sh builds first; the e2e
# test tests/e2e/test_quickstart.py runs this against the test build).
# Usage: scripts/quickstart-run.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build/ci}" && pwd)
cairn="$build/cairn"
out=${CAIRN_QUICKSTART_DIR:-$PWD/quickstart-out}
rm -rf "$out"
mkdir -p "$out"
export CAIRN_STORE="sqlite://$out/cairn.db"
py=/usr/bin/python3

step() { printf '\n== %s\n' "$*"; }

step "1. A C training loop linked to libcairn (linear regression by gradient descent, diabetes)"
"$build/examples/train_linear" data/diabetes.csv 0.05 300

step "2. A Python script under 'cairn run', reporting through the line protocol (iris)"
for lr in 0.05 0.5; do
  "$cairn" run --experiment quickstart --name "py-softmax-lr$lr" -p lr=$lr --seed 7 \
    --input data/iris.csv -- $py examples/train.py --lr $lr --epochs 30 data/iris.csv >/dev/null
done

step "3. Search: runs with val_acc > 0.5, best first (OR and parentheses work too)"
"$cairn" runs search --experiment quickstart \
  --filter "metrics.val_acc > 0.5 OR (params.learner = 'linear-gd' AND metrics.val_mse < 1e9)" \
  --order-by "metrics.val_acc DESC"

step "The runs table"
"$cairn" runs list --experiment quickstart
printf '\nstore: %s\nartifacts: %s\n' "$CAIRN_STORE" "$out/cairn-artifacts"

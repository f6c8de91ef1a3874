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

step "4. cairn train: logistic regression, an MLP and XGBoost on breast_cancer (validation metrics, 95% CIs)"
declare -A run
for learner in logistic mlp xgboost; do
  printf -- '-- %s\n' "$learner"
  "$cairn" train --config "examples/configs/breast_cancer_$learner.yaml" --json >"$out/train-$learner.json"
  run[$learner]=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$out/train-$learner.json")
  $py - "$out/train-$learner.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for name, m in r["val_metrics"].items():
    print("  %-10s %.4f  95%% CI [%.4f, %.4f]" % (name, m["value"], m["ci_low"], m["ci_high"]))
PY
done

step "5. Is the MLP better than logistic regression? (McNemar on the shared validation rows)"
"$cairn" eval compare "${run[logistic]}" "${run[mlp]}"

step "6. The guardrail: evaluating a model on its own training rows is refused"
"$cairn" eval model "${run[logistic]}" --data data/breast_cancer.csv || true

step "7. Open the sealed test split once, for the best run by validation accuracy"
best=$($py - "$out" <<'PY'
import json, sys
best = max(("logistic", "mlp", "xgboost"), key=lambda l: json.load(
    open("%s/train-%s.json" % (sys.argv[1], l)))["val_metrics"]["accuracy"]["value"])
print(best)
PY
)
echo "best: $best (run ${run[$best]})"
"$cairn" eval final "${run[$best]}"

step "8. Register the best model, point @production at it, and read the promotion history"
"$cairn" model register --name breast-cancer --run "${run[$best]}" --semver 1.0.0 \
  --description "cairn quickstart: $best on breast_cancer"
"$cairn" model alias breast-cancer production 1 --reason "best validation accuracy ($best)"
"$cairn" model history breast-cancer

step "9. Check the store's integrity"
"$cairn" store check

step "10. A team's tracking server: cairn server on the same store; a run logged to it over REST; the best model registered through it"
"$cairn" server --port 0 --access-log "$out/server-access.log" >"$out/server.txt" 2>"$out/server.err" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$out/server.txt" 2>/dev/null && break; sleep 0.1; done
cat "$out/server.txt"
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$out/server.txt")
CAIRN_STORE=$url "$cairn" run --experiment team --name over-rest -p lr=0.5 --seed 7 \
  -- $py examples/train.py --lr 0.5 --epochs 30 data/iris.csv >/dev/null
for learner in logistic xgboost; do
  CAIRN_STORE=$url "$cairn" train --config "examples/configs/breast_cancer_$learner.yaml" \
    --experiment team --json >"$out/team-$learner.json"
done
CAIRN_STORE=$url "$cairn" runs search --experiment team --order-by "metrics.val_accuracy DESC"
team_best=$(CAIRN_STORE=$url "$cairn" runs search --experiment team --filter "metrics.val_accuracy > 0" \
  --order-by "metrics.val_accuracy DESC" --json | $py -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["run_id"])')
CAIRN_STORE=$url "$cairn" model register --name breast-cancer-team --run "$team_best" \
  --description "the team's best, registered over REST"
CAIRN_STORE=$url "$cairn" model alias breast-cancer-team production 1 --reason "best validation accuracy of team"
CAIRN_STORE=$url "$cairn" model history breast-cancer-team
kill -TERM $server_pid
wait $server_pid || true
trap - EXIT
printf '(%s requests in the server access log)\n' "$(wc -l <"$out/server-access.log")"

step "The runs table"
"$cairn" runs list --experiment quickstart
printf '\nstore: %s\nartifacts: %s\n' "$CAIRN_STORE" "$out/cairn-artifacts"
dir=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifact_dir"])' "$out/train-$best.json")
printf 'pictures of the best run (%s): %s/plots/\n' "$best" "$dir"
ls "$dir/plots"
printf 'its report: %s/report.md\n' "$dir"

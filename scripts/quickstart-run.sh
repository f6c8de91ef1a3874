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
printf 'its web UI (while it runs): %s/\n' "$url"
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

step "11. Tune the Python script's learning rate and epochs: cairn tune (sampler auto: TPE at this budget), 12 trials, 2 at a time; its pictures"
cat >"$out/space.yaml" <<'SPACE'
objective: {name: val_acc, goal: maximize}
parameters:
  lr:     {type: float, low: 0.01, high: 1.0, log: true}
  epochs: {type: int, low: 5, high: 40}
SPACE
"$cairn" tune --space "$out/space.yaml" --study iris-sgd --trials 12 -j 2 --seed 1 --quiet \
  -- $py examples/train.py data/iris.csv >"$out/tune.log" 2>&1
"$cairn" study trials iris-sgd
"$cairn" study best iris-sgd
"$cairn" study plot iris-sgd --out "$out/iris-sgd-plots"
printf "(the trials' output: %s; each trial is a run: cairn runs list --experiment iris-sgd)\n" "$out/tune.log"

step "12. Serve the production model, watched for drift: normal rows, then rows shifted by +50%"
"$cairn" serve models:/breast-cancer@production --port 0 --monitor-interval 1 --min-rows 50 \
  >"$out/serve.txt" 2>"$out/serve.err" &
serve_pid=$!
trap 'kill -TERM $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$out/serve.txt" 2>/dev/null && break; sleep 0.1; done
cat "$out/serve.txt"
serve_url=$(grep -o 'http://[0-9.]*:[0-9]*' "$out/serve.txt")
$py - "$serve_url" data/breast_cancer.csv "$out" <<'SEND'
import csv, json, sys, time, urllib.request
url, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.reader(open(data)))
head, body = rows[0][:-1], [r[:-1] for r in rows[1:201]]  # the features, not the label
shifted = [[str(float(v) * 1.5) for v in r] for r in body]
with open(out + '/shifted.csv', 'w', newline='') as f:
    csv.writer(f).writerows([head] + shifted)
def send(rows, label):
    req = urllib.request.Request(url + '/invocations', method='POST',
                                 data=json.dumps({'dataframe_split': {'columns': head,
                                                                      'data': [[float(v) for v in r] for r in rows]}}).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req) as r:
        preds = json.load(r)['predictions']
        print('%s: %d rows, %d predicted positive, answered by %s'
              % (label, len(preds), sum(1 for p in preds if p in (1, '1', 1.0)),
                 r.headers.get('X-Cairn-Model')))
def drift_lines():
    with urllib.request.urlopen(url + '/metrics') as r:
        return [l for l in r.read().decode().splitlines()
                if l.startswith(('cairn_serve_drift_detected', 'cairn_serve_drift_share'))]
send(body, 'normal rows')
time.sleep(2.5)
print('after the normal rows:', *drift_lines(), sep='\n  ')
send(shifted, 'shifted rows')
time.sleep(2.5)
print('after the shifted rows:', *drift_lines(), sep='\n  ')
SEND
kill -TERM $serve_pid
wait $serve_pid || true
trap - EXIT
model_file=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifact_dir"])' "$out/train-$best.json")/model/model.cairn
"$cairn" drift --reference "$model_file" --current "$out/shifted.csv" --html "$out/drift.html" \
  >"$out/drift.txt" || true
head -5 "$out/drift.txt"
printf 'drift report: %s\n' "$out/drift.html"

step "13. A project from the data: cairn init, then cairn pipeline run (validate, split, train, evaluate, register, card, promote, serve)"
"$cairn" init "$out/project" --data data/breast_cancer.csv --target target --name breast-cancer-project
cd "$out/project"
# The promotion gates refuse a model whose card has only the template's guidance ...
if "$cairn" pipeline run >"$out/pipeline-1.txt" 2>"$out/pipeline-1.err"; then
  echo "quickstart: the pipeline promoted a model with an unwritten card" >&2; exit 1
fi
grep -E '^\[|stopped at stage|model_card' "$out/pipeline-1.err" | head -12
# ... so a person writes the four sections only they can write, and the pipeline resumes:
# the stages before the card are cached, the card and what follows run.
$py - model-card.md <<'CARD'
import sys
text = {'Intended use': 'A second reading of breast-mass biopsies (fine-needle aspirates), '
                        'ranking them by the chance of malignancy. Not a diagnosis.',
        'Assumptions': 'Features measured as in the Wisconsin diagnostic data, on the same '
                       'kind of images; the label means the same at serving time.',
        'Limitations': '569 rows from one source; not validated on other clinics, devices '
                       'or populations; values outside expectations.yaml are out of scope.',
        'Ethical considerations': 'A false negative delays treatment: never use it to rule '
                                  'out a biopsy. No sensitive attribute is in the data.'}
path = sys.argv[1]
card = open(path).read()
for head, body in text.items():
    card = card.replace('## %s\n\n' % head, '## %s\n\n%s\n\n' % (head, body))
open(path, 'w').write(card)
CARD
trap '"$cairn" pipeline stop >/dev/null 2>&1 || true' EXIT
"$cairn" pipeline run 2>"$out/pipeline-2.err" | tee "$out/pipeline-2.txt"
grep '^\[' "$out/pipeline-2.err"
served=$(grep -o 'http://[0-9.]*:[0-9]*' "$out/pipeline-2.txt")
printf 'a prediction from the served model: '
$py - "$served" <<'PREDICT'
import csv, json, sys, urllib.request
rows = list(csv.DictReader(open('data.csv')))
row = {k: float(v) for k, v in rows[0].items() if k != 'target'}
req = urllib.request.Request(sys.argv[1] + '/invocations',
                             data=json.dumps({'dataframe_records': [row]}).encode(),
                             headers={'Content-Type': 'application/json'})
print(json.load(urllib.request.urlopen(req, timeout=30)))
PREDICT
printf 'model card: %s/.cairn-pipeline/card/model-card.md\n' "$out/project"
"$cairn" pipeline run 2>/dev/null | head -1
"$cairn" pipeline stop
trap - EXIT
cd - >/dev/null

step "The runs table"
"$cairn" runs list --experiment quickstart
printf '\nstore: %s\nartifacts: %s\n' "$CAIRN_STORE" "$out/cairn-artifacts"
dir=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifact_dir"])' "$out/train-$best.json")
printf 'pictures of the best run (%s): %s/plots/\n' "$best" "$dir"
ls "$dir/plots"
printf 'its report: %s/report.md\n' "$dir"

step "Your turn"
printf 'the binary: %s (on PATH: export PATH=%s:$PATH)\n' "$cairn" "$(dirname "$cairn")"
printf 'the store the quickstart wrote: export CAIRN_STORE=%s\n' "$CAIRN_STORE"
printf 'three next commands:\n'
printf "  cairn runs search --experiment quickstart --order-by 'metrics.val_accuracy DESC'\n"
printf '  cairn study show iris-sgd && cairn study plot iris-sgd\n'
printf '  cairn model profile models:/breast-cancer@production --data %s/data/breast_cancer.csv\n' "$PWD"
printf 'the web UI over this store: %s server --port 5000, then open http://127.0.0.1:5000/\n' "$cairn"
printf '  (experiments, the runs table, each run with its pictures, metric charts, compare)\n'

#!/bin/sh
# SPDX-License-Identifier: MIT
# render-pictures.sh - redraws the screenshots of docs/pictures.md: runs `cairn train`,
# `cairn eval final`, `cairn explain`, `cairn tune` and `cairn study plot` on the bundled data
# (binary breast_cancer, 3-class iris, 10-class digits) into a temporary store and converts the SVGs
# they write to PNG with `rsvg-convert -w 700` (librsvg2-bin, see scripts/install-deps.sh).
#
# usage: tools/render-pictures.sh [CAIRN] [OUT_DIR]
#   CAIRN    the cairn binary (default: build/dev/cairn)
#   OUT_DIR  where the PNGs go (default: docs/pictures)
# Every PNG must stay under 120 KB; the script fails naming any that does not.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cairn=${1:-$root/build/dev/cairn}
out=${2:-$root/docs/pictures}
case $cairn in /*) ;; *) cairn=$(pwd)/$cairn ;; esac
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
max_bytes=120000

die() {
    echo "render-pictures: $*" >&2
    exit 1
}
[ -x "$cairn" ] || die "no cairn binary at '$cairn'; build it (cmake --build --preset dev) or pass its path"
command -v rsvg-convert >/dev/null 2>&1 ||
    die "rsvg-convert is not installed; install librsvg2-bin (scripts/install-deps.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$out"
export CAIRN_STORE="sqlite://$tmp/store.db"
data=$root/data
cd "$tmp"

# png SVG NAME: converts one picture into OUT_DIR/NAME.png and checks its size.
png() {
    [ -f "$1" ] || die "cairn wrote no '$1'"
    rsvg-convert -w 700 -b white "$1" -o "$out/$2.png"
    size=$(wc -c <"$out/$2.png")
    [ "$size" -le "$max_bytes" ] || die "$2.png is $size bytes, over $max_bytes"
    echo "  $2.png ($size bytes)"
}

# train NAME CONFIG_TEXT: trains, prints nothing, leaves the run's artifact folder in $art
# and its id in $run.
train() {
    printf '%s\n' "$2" >"$1.yaml"
    "$cairn" train --config "$1.yaml" --json >"$1.json" 2>"$1.log" ||
        die "cairn train $1 failed: $(cat "$1.log")"
    art=$(sed -n 's/^ *"artifact_dir": "\(.*\)",*$/\1/p' "$1.json")
    run=$(sed -n 's/^ *"run_id": "\(.*\)",*$/\1/p' "$1.json")
    [ -n "$art" ] && [ -n "$run" ] || die "cairn train $1: no run in its --json output"
}

bc_data="data: {path: $data/breast_cancer.csv, label: target, categorical: [target],
       class_names: {0: malignant, 1: benign}}
split: {method: stratified, test: 0.2, val: 0.2}
bootstrap: 0"

echo "binary (breast_cancer):"
train bc-mlp "name: bc-mlp
seed: 42
$bc_data
learner:
  name: mlp
  params: {hidden: [32], epochs: 150, learning_rate: 0.005, early_stopping: true, patience: 10}"
png "$art/plots/learning_curves.svg" learning_curves_mlp

train bc-logistic "name: bc-logistic
seed: 42
$bc_data
learner: {name: logistic, params: {C: 1.0}}"
png "$art/plots/learning_curves.svg" learning_curves_logistic

train bc-xgboost "name: bc-xgboost
seed: 42
$bc_data
learner: {name: xgboost, params: {max_depth: 3, eta: 0.1, num_round: 300, early_stopping_rounds: 20}}"
png "$art/plots/learning_curves.svg" learning_curves_xgboost
"$cairn" explain "$run" --repeats 5 --top 3 >explain.out 2>explain.log ||
    die "cairn explain failed: $(cat explain.log)"
for pic in permutation_importance shap_summary partial_dependence slices; do
    png "$art/explain/$pic.svg" "explain_$pic"
done
for p in confusion_matrix roc pr calibration; do
    png "$art/plots/$p.svg" binary_$p
done
"$cairn" eval final "$run" >/dev/null 2>&1 || die "cairn eval final $run failed"
png "$art/plots/test_roc.svg" binary_test_roc

train bc-xgboost-quantile "name: bc-xgboost
seed: 42
$bc_data
learner: {name: xgboost, params: {max_depth: 3, eta: 0.1, num_round: 300, early_stopping_rounds: 20}}
plots: {calibration: quantile, bins: 10}"
png "$art/plots/calibration.svg" binary_calibration_quantile

echo "3 classes (iris):"
train iris-logistic "name: iris-logistic
seed: 7
data: {path: $data/iris.csv, label: target, categorical: [target],
       class_names: {0: setosa, 1: versicolor, 2: virginica}}
split: {method: stratified, test: 0.2, val: 0.3}
learner: {name: logistic, params: {C: 0.3}}
bootstrap: 0"
for p in confusion_matrix roc pr calibration; do
    png "$art/plots/$p.svg" multiclass3_$p
done

echo "10 classes (digits):"
digits="seed: 1
data: {path: $data/digits.csv, label: target, categorical: [target]}
split: {method: stratified, test: 0.2, val: 0.25}
learner: {name: logistic, params: {C: 0.05}}
bootstrap: 0"
train digits-logistic "name: digits-logistic
$digits"
for p in confusion_matrix roc pr calibration; do
    png "$art/plots/$p.svg" multiclass10_$p
done
train digits-logistic-quantile "name: digits-logistic
$digits
plots: {calibration: quantile}"
png "$art/plots/calibration.svg" multiclass10_calibration_quantile

echo "study (cairn tune over cairn train, xgboost on breast_cancer):"
printf '%s\n' "name: bc-tune
seed: 42
$bc_data
learner: {name: xgboost, params: {num_round: 60}}" >bc-tune.yaml
printf '%s\n' "objective: {name: log_loss, goal: minimize}
parameters:
  max_depth: {type: int, low: 1, high: 8}
  eta: {type: float, low: 0.01, high: 0.5, log: true}
  min_child_weight: {type: float, low: 0.5, high: 20, log: true}" >space.yaml
"$cairn" tune --space space.yaml --study bc-tune --trials 30 --seed 3 --sampler tpe --quiet \
    -- "$cairn" train --config bc-tune.yaml >tune.log 2>&1 || die "cairn tune failed: $(tail -5 tune.log)"
"$cairn" study plot bc-tune --out study >/dev/null 2>&1 || die "cairn study plot failed"
for p in history importance slice contour; do
    png "study/$p.svg" study_$p
done

total=$(cat "$out"/*.png | wc -c)
echo "total: $total bytes in $(ls "$out"/*.png | wc -l) pictures"
[ "$total" -le 2097152 ] || die "the pictures total $total bytes, over 2 MB"

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench_learn.py - cairn's learners side by side with scikit-learn and python3-xgboost on the
# bundled datasets: writes one stratified train/test split per dataset, fits the same models
# with the same settings in Python and through bench_learn (C), and prints fit-time ratios and
# test metrics (accuracy; R^2 for diabetes).
# usage: /usr/bin/python3 bench/bench_learn.py [path/to/bench_learn] [--repeats N]
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import xgboost as xgb
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATASETS = ["iris", "wine", "breast_cancer", "digits", "diabetes"]


def find_binary():
    for preset in ("release", "dev", "ci", "asan"):
        p = os.path.join(ROOT, "build", preset, "bench", "bench_learn")
        if os.path.exists(p):
            return p
    sys.exit("bench_learn.py: build bench_learn first (cmake --build build/release)")


def data_dir(split_dir):
    d = os.path.join(ROOT, "data")
    if os.path.exists(os.path.join(d, "iris.csv")):
        return d
    # No bundled data: write it from sklearn.datasets, target last.
    from sklearn import datasets
    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine,
               "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits,
               "diabetes": datasets.load_diabetes}
    for name, load in loaders.items():
        b = load()
        cols = ["f%d" % i for i in range(b.data.shape[1])] + ["target"]
        with open(os.path.join(split_dir, name + ".csv"), "w") as f:
            f.write(",".join(cols) + "\n")
            for row, t in zip(b.data, b.target):
                f.write(",".join(repr(float(v)) for v in row) + "," + repr(t) + "\n")
    return split_dir


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def python_side(ddir, split_dir, repeats):
    res = {}
    for name in DATASETS:
        data = np.genfromtxt(os.path.join(ddir, name + ".csv"), delimiter=",", skip_header=1)
        x, y = data[:, :-1], data[:, -1]
        reg = name == "diabetes"
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.25, random_state=0,
                                  stratify=None if reg else y)
        tr, te = np.sort(tr), np.sort(te)
        for part, rows in (("train", tr), ("test", te)):
            with open(os.path.join(split_dir, "%s.%s" % (name, part)), "w") as f:
                f.write("".join("%d\n" % i for i in rows))
        metric = r2_score if reg else accuracy_score
        models = {}
        if reg:
            models["ridge"] = lambda: make_pipeline(StandardScaler(), Ridge(alpha=1.0))
            models["mlp"] = lambda: make_pipeline(
                StandardScaler(), MLPRegressor((64,), max_iter=200, random_state=0))
        else:
            models["logistic"] = lambda: make_pipeline(
                StandardScaler(), LogisticRegression(C=1.0, tol=1e-4, max_iter=1000))
            models["mlp"] = lambda: make_pipeline(
                StandardScaler(), MLPClassifier((64,), max_iter=200, random_state=0))
        for learner, make in models.items():
            t, model = best_time(lambda: make().fit(x[tr], y[tr]), repeats)
            res[(name, learner)] = (t, metric(y[te], model.predict(x[te])))
        k = int(y.max()) + 1
        params = {"max_depth": 6, "eta": 0.3, "tree_method": "hist", "seed": 0, "verbosity": 0,
                  "nthread": 1}
        if reg:
            params["objective"] = "reg:squarederror"
        elif k == 2:
            params["objective"] = "binary:logistic"
        else:
            params.update(objective="multi:softprob", num_class=k)

        def fit_xgb():
            return xgb.train(params, xgb.DMatrix(x[tr], label=y[tr]), 100)
        t, bst = best_time(fit_xgb, repeats)
        p = bst.predict(xgb.DMatrix(x[te]))
        pred = p if reg else (p > 0.5).astype(float) if k == 2 else p.argmax(1)
        res[(name, "xgboost")] = (t, metric(y[te], pred))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    split_dir = tempfile.mkdtemp(prefix="cairn-bench-learn-")
    ddir = data_dir(split_dir)
    py = python_side(ddir, split_dir, args.repeats)
    out = subprocess.run([args.binary or find_binary(), ddir, split_dir, str(args.repeats)],
                         check=True, capture_output=True, text=True).stdout
    print("%-14s %-9s %10s %10s %7s %9s %9s %7s" % ("dataset", "learner", "py fit s", "c fit s",
                                                     "speedup", "py metric", "c metric", "diff"))
    for line in out.split("\n"):
        if not line.strip():
            continue
        name, learner, t, m = line.split()
        pt, pm = py[(name, learner)]
        t, m = float(t), float(m)
        print("%-14s %-9s %10.4f %10.4f %6.1fx %9.4f %9.4f %+7.4f" % (
            name, learner, pt, t, pt / t if t > 0 else float("inf"), pm, m, m - pm))
    shutil.rmtree(split_dir)


if __name__ == "__main__":
    main()

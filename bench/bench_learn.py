#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench_learn.py - cairn's learners side by side with scikit-learn and python3-xgboost on the
# bundled datasets: writes stratified train/test splits per dataset, fits the same models with
# the same settings in Python and through bench_learn (C), and prints fit-time ratios
# (cairn / Python) and test metrics (accuracy; R^2 for diabetes). logistic, ridge and xgboost
# use split 0 (best of --repeats fits); logistic also shows both sides' final objective
# (sklearn's scaling: sum of log losses + ||W||^2 / 2C) and gradient max-norm. The MLPs run
# with sklearn's defaults on --splits splits x --seeds seeds and show mean +- sd, the paired
# mean difference with its 95% interval, and the mean of the per-fit time ratios.
# usage: /usr/bin/python3 bench/bench_learn.py [path/to/bench_learn] [--repeats N]
#        [--splits N] [--seeds N]
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from scipy import stats
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


def logistic_objective(pipe, x, y, c):
    """sklearn's lbfgs objective sum_i logloss_i + ||W||^2 / 2C and its gradient max-norm."""
    xs = pipe[0].transform(x)
    lr = pipe[-1]
    w, b = lr.coef_, lr.intercept_
    z = xs @ w.T + b
    if w.shape[0] == 1:
        z = z[:, 0]
        loss = np.sum(np.logaddexp(0, z) - y * z)
        g = 1 / (1 + np.exp(-z)) - y
        gw, gb = g @ xs + w[0] / c, np.array([g.sum()])
    else:
        z = z - z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        yi = y.astype(int)
        loss = np.sum(lse - z[np.arange(len(y)), yi])
        p = np.exp(z - lse[:, None])
        p[np.arange(len(y)), yi] -= 1
        gw, gb = p.T @ xs + w / c, p.sum(0)
    loss += 0.5 * np.sum(w * w) / c
    return loss, max(np.abs(gw).max(), np.abs(gb).max())


def write_split(split_dir, name, k, tr, te):
    for part, rows in (("train", tr), ("test", te)):
        with open(os.path.join(split_dir, "%s.%d.%s" % (name, k, part)), "w") as f:
            f.write("".join("%d\n" % i for i in np.sort(rows)))


def python_side(ddir, split_dir, repeats, n_splits, n_seeds):
    res, mlp = {}, {}
    for name in DATASETS:
        data = np.genfromtxt(os.path.join(ddir, name + ".csv"), delimiter=",", skip_header=1)
        x, y = data[:, :-1], data[:, -1]
        reg = name == "diabetes"
        idx = np.arange(len(y))
        splits = []
        for k in range(n_splits):
            tr, te = train_test_split(idx, test_size=0.25, random_state=k,
                                      stratify=None if reg else y)
            tr, te = np.sort(tr), np.sort(te)
            write_split(split_dir, name, k, tr, te)
            splits.append((tr, te))
        tr, te = splits[0]
        metric = r2_score if reg else accuracy_score
        if reg:
            t, model = best_time(
                lambda: make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x[tr], y[tr]),
                repeats)
            res[(name, "ridge")] = (t, metric(y[te], model.predict(x[te])))
        else:
            t, model = best_time(lambda: make_pipeline(
                StandardScaler(), LogisticRegression(C=1.0, tol=1e-4, max_iter=1000)).fit(
                    x[tr], y[tr]), repeats)
            loss, grad = logistic_objective(model, x[tr], y[tr], 1.0)
            res[(name, "logistic")] = (t, metric(y[te], model.predict(x[te])), loss, grad)
        # MLP: sklearn's defaults (100 relu units, adam, lr 1e-3, alpha 1e-4, batch
        # min(200, n), max_iter 200, tol 1e-4 over 10 epochs of training loss).
        for k, (tr_k, te_k) in enumerate(splits):
            for seed in range(n_seeds):
                make = MLPRegressor if reg else MLPClassifier
                t0 = time.perf_counter()
                model = make_pipeline(StandardScaler(), make(random_state=seed)).fit(
                    x[tr_k], y[tr_k])
                t = time.perf_counter() - t0
                mlp[(name, k, seed)] = (t, metric(y[te_k], model.predict(x[te_k])))
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
    return res, mlp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    split_dir = tempfile.mkdtemp(prefix="cairn-bench-learn-")
    ddir = data_dir(split_dir)
    py, py_mlp = python_side(ddir, split_dir, args.repeats, args.splits, args.seeds)
    out = subprocess.run([args.binary or find_binary(), ddir, split_dir, str(args.repeats),
                          str(args.splits), str(args.seeds)],
                         check=True, capture_output=True, text=True).stdout
    c_mlp = {}
    print("Single split (split 0), best of %d fits; time ratio = cairn / Python" % args.repeats)
    print("%-14s %-9s %9s %9s %7s %9s %9s %12s %12s %9s %9s" % (
        "dataset", "learner", "py fit s", "c fit s", "c/py", "py metric", "c metric",
        "py loss", "c loss", "py |g|inf", "c |g|inf"))
    for line in out.split("\n"):
        if not line.strip():
            continue
        f = line.split()
        name, learner, split, seed, t, m = f[0], f[1], int(f[2]), int(f[3]), float(f[4]), \
            float(f[5])
        if learner == "mlp":
            c_mlp[(name, split, seed)] = (t, m)
            continue
        pt, pm = py[(name, learner)][:2]
        row = "%-14s %-9s %9.4f %9.4f %6.2fx %9.4f %9.4f" % (name, learner, pt, t, t / pt, pm, m)
        if learner == "logistic":
            pl, pg = py[(name, learner)][2:]
            row += " %12.6f %12.6f %9.2e %9.2e" % (pl, float(f[6]), pg, float(f[7]))
        print(row)
    print()
    print("MLP, sklearn defaults on both sides, %d splits x %d seeds: test metric mean +- sd, "
          "paired difference (cairn - sklearn) with 95%% CI, mean time ratio" % (
              args.splits, args.seeds))
    print("%-14s %17s %17s %22s %9s %9s %7s" % ("dataset", "sklearn", "cairn", "diff [95% CI]",
                                                "py fit s", "c fit s", "c/py"))
    for name in DATASETS:
        keys = [(name, k, s) for k in range(args.splits) for s in range(args.seeds)]
        pm = np.array([py_mlp[k][1] for k in keys])
        cm = np.array([c_mlp[k][1] for k in keys])
        pt = np.array([py_mlp[k][0] for k in keys])
        ct = np.array([c_mlp[k][0] for k in keys])
        # Pair by split: the seeds are not shared (different generators), the rows are.
        dk = np.array([cm[i * args.seeds:(i + 1) * args.seeds].mean() -
                       pm[i * args.seeds:(i + 1) * args.seeds].mean()
                       for i in range(args.splits)])
        half = (stats.t.ppf(0.975, len(dk) - 1) * dk.std(ddof=1) / np.sqrt(len(dk))
                if len(dk) > 1 else float("nan"))
        print("%-14s %8.4f +- %.4f %8.4f +- %.4f %+8.4f [%+.4f, %+.4f] %9.4f %9.4f %6.2fx" % (
            name, pm.mean(), pm.std(ddof=1), cm.mean(), cm.std(ddof=1), dk.mean(),
            dk.mean() - half, dk.mean() + half, pt.mean(), ct.mean(), np.mean(ct / pt)))
    shutil.rmtree(split_dir)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench_learners.py - cairn's tree, forest, knn and gnb learners side by side with
# scikit-learn 1.2 on the bundled datasets, the same params and the same 70/30 split
# (RandomState(0) permutation). cairn runs through cairn_learn_fit (tests/e2e/learn_driver.c:
# the public fit and predict API; its fit time includes cairn's preprocessing, its predict
# time both the labels and the probabilities, as the sklearn side's does). Prints, per
# dataset and learner: the best-of-N fit and predict times of each side and their ratio
# (cairn / sklearn: below 1 is faster), the test accuracy (R^2 on diabetes) of each, and the
# paired difference on the same test rows with its 95% t-interval (accuracy: per-row
# correct(cairn) - correct(sklearn); diabetes: per-row squared error, sklearn - cairn, so
# positive means cairn is closer).
# usage: /usr/bin/python3 bench/bench_learners.py [path/to/cairn_learn_fit] [--repeats N]
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLASSIFICATION = ['iris', 'wine', 'breast_cancer', 'digits']


def find_driver(given):
    if given:
        return given
    for preset in ('release', 'ci', 'dev'):
        p = os.path.join(ROOT, 'build', preset, 'cairn_learn_fit')
        if os.path.exists(p):
            return p
    sys.exit('bench_learners.py: build cairn_learn_fit first '
             '(cmake --build --preset release --target cairn_learn_fit)')


def load(name):
    with open(os.path.join(ROOT, 'data', name + '.csv')) as f:
        rows = list(csv.reader(f))
    a = np.array(rows[1:], dtype=float)
    return a[:, :-1], a[:, -1]


# (learner, cairn params, sklearn classifier factory, sklearn regressor factory or None)
LEARNERS = [
    ('tree', {}, lambda: DecisionTreeClassifier(random_state=0),
     lambda: DecisionTreeRegressor(random_state=0)),
    ('forest', {'n_estimators': 100, 'n_jobs': 1},
     lambda: RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0),
     lambda: RandomForestRegressor(n_estimators=100, n_jobs=1, random_state=0)),
    ('knn', {},
     lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(algorithm='brute')),
     lambda: make_pipeline(StandardScaler(), KNeighborsRegressor(algorithm='brute'))),
    ('gnb', {}, GaussianNB, None),
]


def run_cairn(driver, ds, learner, params, rows_file, repeats, regression):
    best_fit = best_pred = float('inf')
    out = None
    for _ in range(1):  # the driver repeats fit and predict in one warm process
        cmd = [driver, os.path.join(ROOT, 'data', ds + '.csv'), 'target', learner, rows_file,
               '0', '-'] + ['%s=%s' % kv for kv in params.items()]
        if regression:
            cmd.append('task=regression')
        env = dict(os.environ, CAIRN_BENCH_REPEATS=str(repeats))
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        times = dict(kv.split('=') for kv in proc.stderr.split())
        best_fit = min(best_fit, float(times['fit_seconds']))
        best_pred = min(best_pred, float(times['predict_seconds']))
        out = proc.stdout
    pred = np.array([float(line.split()[0]) for line in out.splitlines()])
    return pred, best_fit, best_pred


def run_sklearn(make, x, y, tr, te, repeats, regression):
    best_fit = best_pred = float('inf')
    pred = None
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(x[tr], y[tr])
        best_fit = min(best_fit, time.perf_counter() - t0)
        t0 = time.perf_counter()
        pred = model.predict(x[te])
        if not regression:
            model.predict_proba(x[te])
        best_pred = min(best_pred, time.perf_counter() - t0)
    return pred, best_fit, best_pred


def paired_ci(diff):
    m = float(np.mean(diff))
    if len(diff) < 2 or np.std(diff) == 0:
        return m, m, m
    half = stats.t.ppf(0.975, len(diff) - 1) * np.std(diff, ddof=1) / np.sqrt(len(diff))
    return m, m - half, m + half


def r2(y, p):
    return 1 - float(np.sum((y - p) ** 2)) / float(np.sum((y - np.mean(y)) ** 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('driver', nargs='?')
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    driver = find_driver(args.driver)
    print('driver: %s; best of %d; OMP_NUM_THREADS=%s' % (driver, args.repeats,
                                                         os.environ['OMP_NUM_THREADS']))
    print('| dataset | learner | fit s sklearn / cairn | fit ratio | predict s sklearn / cairn '
          '| predict ratio | sklearn | cairn | paired difference [95% CI] |')
    print('|---|---|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for ds in CLASSIFICATION + ['diabetes']:
            regression = ds == 'diabetes'
            x, y = load(ds)
            perm = np.random.RandomState(0).permutation(len(y))
            cut = int(0.7 * len(y))
            tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
            rows_file = os.path.join(tmp, ds + '.rows')
            with open(rows_file, 'w') as f:
                f.write(' '.join(map(str, tr)) + '\n' + ' '.join(map(str, te)) + '\n')
            for learner, params, make_c, make_r in LEARNERS:
                make = make_r if regression else make_c
                if make is None:
                    continue
                pc, fc, qc = run_cairn(driver, ds, learner, params, rows_file, args.repeats,
                                       regression)
                ps, fs, qs = run_sklearn(make, x, y, tr, te, args.repeats, regression)
                if regression:
                    ms, mc = r2(y[te], ps), r2(y[te], pc)
                    diff = (y[te] - ps) ** 2 - (y[te] - pc) ** 2
                    fmt = '%.1f [%.1f, %.1f] (sq. error)'
                else:
                    ms, mc = float(np.mean(ps == y[te])), float(np.mean(pc == y[te]))
                    diff = (pc == y[te]).astype(float) - (ps == y[te]).astype(float)
                    fmt = '%+.4f [%+.4f, %+.4f]'
                print('| %s | %s | %.4f / %.4f | %.2f | %.4f / %.4f | %.2f | %.4f | %.4f | %s |'
                      % (ds, learner, fs, fc, fc / fs, qs, qc, qc / qs, ms, mc,
                         fmt % paired_ci(diff)))
                sys.stdout.flush()


if __name__ == '__main__':
    main()

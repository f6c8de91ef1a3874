#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench_svm.py - cairn's SVM learners (libsvm through learn/svm.c) against scikit-learn 1.2's
SVC, NuSVC, SVR and NuSVR (its own patched libsvm) on the bundled datasets, same rows, same
params, features standardised on both sides (cairn's standardize=true against
Pipeline(StandardScaler(), estimator)).

Each case: one split, 70% train / 30% test (stratified for classes, random_state 0); fit and
predict time best of --repeats on each side (cairn in bench_svm, C, the CSV already parsed;
sklearn in process, the arrays already in memory); the ratio cairn / sklearn; and the metric
difference cairn - sklearn on the test rows with a 95% paired bootstrap CI (--boot resamples
of the test rows, the same resample for both), accuracy for classifiers (with McNemar's exact
p-value on the discordant rows) and RMSE for regressors.

    /usr/bin/python3 bench/bench_svm.py [--bench build/release/bench/bench_svm] [--repeats 5]
        [--boot 2000]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from scipy.stats import binomtest
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, NuSVC, NuSVR

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESTIMATORS = {'svc': SVC, 'nusvc': NuSVC, 'svr': SVR, 'nusvr': NuSVR}
# (dataset, learner, params as cairn and sklearn both take them)
CASES = [
    ('iris', 'svc', {'kernel': 'rbf'}),
    ('wine', 'svc', {'kernel': 'rbf'}),
    ('breast_cancer', 'svc', {'kernel': 'rbf'}),
    ('breast_cancer', 'svc', {'kernel': 'linear', 'C': 0.1}),
    ('digits', 'svc', {'kernel': 'rbf'}),
    ('digits', 'svc', {'kernel': 'poly', 'degree': 3}),
    ('digits', 'svc', {'kernel': 'rbf', 'probability': True}),
    ('wine', 'nusvc', {'kernel': 'rbf', 'nu': 0.3}),
    ('diabetes', 'svr', {'kernel': 'rbf', 'C': 100.0, 'epsilon': 1.0}),
    ('diabetes', 'nusvr', {'kernel': 'rbf', 'C': 100.0, 'nu': 0.5}),
]


def load(dataset):
    with open(os.path.join(ROOT, 'data', '%s.csv' % dataset)) as f:
        r = csv.reader(f)
        header = next(r)
        a = np.array([[float(v) for v in row] for row in r])
    li = header.index('target')
    return np.delete(a, li, axis=1), a[:, li]


def text(v):
    return ('true' if v else 'false') if isinstance(v, bool) else str(v)


def best(fn, repeats):
    t = float('inf')
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def paired_ci(a, b, boot, rng):
    """95% percentile CI of mean(a) - mean(b) over paired resamples of the rows."""
    n = len(a)
    idx = rng.integers(0, n, size=(boot, n))
    d = a[idx].mean(axis=1) - b[idx].mean(axis=1)
    return np.percentile(d, [2.5, 97.5])


def rmse_ci(pa, pb, y, boot, rng):
    n = len(y)
    idx = rng.integers(0, n, size=(boot, n))
    ea, eb = (pa - y) ** 2, (pb - y) ** 2
    d = np.sqrt(ea[idx].mean(axis=1)) - np.sqrt(eb[idx].mean(axis=1))
    return np.percentile(d, [2.5, 97.5])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bench', default=os.path.join(ROOT, 'build', 'dev', 'bench', 'bench_svm'))
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--boot', type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print('sklearn %s, numpy %s, python %s; cairn %s' % (sklearn.__version__, np.__version__,
                                                        sys.version.split()[0], args.bench))
    print('%-14s %-6s %-26s %5s %9s %9s %6s %9s %9s %6s  %s' % (
        'dataset', 'model', 'params', 'test', 'fit_c', 'fit_sk', 'ratio', 'pred_c', 'pred_sk',
        'ratio', 'metric cairn - sklearn [95% CI]'))
    with tempfile.TemporaryDirectory(prefix='bench-svm-') as tmp:
        for dataset, learner, params in CASES:
            x, y = load(dataset)
            classify = learner in ('svc', 'nusvc')
            rows = np.arange(len(y))
            tr, te = train_test_split(rows, test_size=0.3, random_state=0,
                                      stratify=y if classify else None)
            for name, part in (('train', tr), ('test', te)):
                with open(os.path.join(tmp, name), 'w') as f:
                    f.write(''.join('%d\n' % r for r in part))
            cmd = [args.bench, os.path.join(ROOT, 'data', '%s.csv' % dataset), 'target',
                   learner, os.path.join(tmp, 'train'), os.path.join(tmp, 'test'),
                   str(args.repeats)] + ['%s=%s' % (k, text(v)) for k, v in params.items()]
            c = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                          text=True).stdout)
            model = make_pipeline(StandardScaler(), ESTIMATORS[learner](**params))
            fit_sk, _ = best(lambda: model.fit(x[tr], y[tr]), args.repeats)
            pred_sk, p_sk = best(lambda: model.predict(x[te]), args.repeats)
            p_c = np.array(c['pred'])
            if classify:
                classes = np.unique(y[tr])
                p_c = classes[p_c.astype(int)]
                ok_c, ok_sk = (p_c == y[te]).astype(float), (p_sk == y[te]).astype(float)
                lo, hi = paired_ci(ok_c, ok_sk, args.boot, rng)
                b = int(np.sum((ok_c == 1) & (ok_sk == 0)))
                cc = int(np.sum((ok_c == 0) & (ok_sk == 1)))
                p = binomtest(b, b + cc).pvalue if b + cc else 1.0
                metric = 'acc %+.4f [%+.4f, %+.4f] (%.4f vs %.4f; McNemar %d/%d p=%.3g)' % (
                    ok_c.mean() - ok_sk.mean(), lo, hi, ok_c.mean(), ok_sk.mean(), b, cc, p)
            else:
                r_c = np.sqrt(np.mean((p_c - y[te]) ** 2))
                r_sk = np.sqrt(np.mean((p_sk - y[te]) ** 2))
                lo, hi = rmse_ci(p_c, p_sk, y[te], args.boot, rng)
                metric = 'rmse %+.4g [%+.4g, %+.4g] (%.4f vs %.4f; max |diff| %.2g)' % (
                    r_c - r_sk, lo, hi, r_c, r_sk, np.max(np.abs(p_c - p_sk)))
            ptext = ','.join('%s=%s' % (k, text(v)) for k, v in params.items())
            print('%-14s %-6s %-26s %5d %8.2fms %8.2fms %6.2f %8.2fms %8.2fms %6.2f  %s' % (
                dataset, learner, ptext, len(te), c['fit_s'] * 1e3, fit_sk * 1e3,
                c['fit_s'] / fit_sk, c['predict_s'] * 1e3, pred_sk * 1e3,
                c['predict_s'] / pred_sk, metric))
            sys.stdout.flush()


if __name__ == '__main__':
    main()

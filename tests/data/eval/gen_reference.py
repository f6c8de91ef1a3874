#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_reference.py - writes reference.json, the expected values test_eval.c checks libcairn's
# metrics and tests against: scikit-learn 1.2 and SciPy 1.10 as Debian 12 ships them.
# Run: /usr/bin/python3 tests/data/eval/gen_reference.py  (from the source root)
#
# McNemar (statsmodels.stats.contingency_tables.mcnemar, not installed here) is computed from
# its definition with SciPy: exact=True: statistic = min(n01, n10),
# p = min(1, 2 * binom.cdf(statistic, n01 + n10, 0.5)); exact=False, correction=True:
# statistic = (|n01 - n10| - 1)^2 / (n01 + n10), p = chi2.sf(statistic, 1).
# Wilcoxon: as SciPy 1.10's mode='auto': the exact distribution when n <= 50 and no difference
# is zero (with ties too, R+ truncated to an integer), else the normal approximation with the
# tie correction.
import json
import os
import warnings

import numpy as np
import scipy
import sklearn
from scipy import special, stats
from sklearn import metrics
from sklearn.calibration import calibration_curve

warnings.filterwarnings("ignore")
rng = np.random.default_rng(20261126)


def fl(a):
    return [float(v) for v in np.asarray(a).ravel()]


def classification_case(name, y_true, y_pred, proba):
    k = proba.shape[1]
    labels = list(range(k))
    e = {}
    e["accuracy"] = metrics.accuracy_score(y_true, y_pred)
    e["balanced_accuracy"] = metrics.balanced_accuracy_score(y_true, y_pred)
    e["confusion"] = [int(v) for v in metrics.confusion_matrix(y_true, y_pred, labels=labels).ravel()]
    p, r, f, s = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0)
    e["precision"], e["recall"], e["f1"], e["support"] = fl(p), fl(r), fl(f), [int(v) for v in s]
    for avg in ("macro", "weighted", "micro"):
        p, r, f, _ = metrics.precision_recall_fscore_support(y_true, y_pred, average=avg,
                                                             zero_division=0)
        e[f"precision_{avg}"], e[f"recall_{avg}"], e[f"f1_{avg}"] = float(p), float(r), float(f)
    e["mcc"] = metrics.matthews_corrcoef(y_true, y_pred)
    e["kappa"] = metrics.cohen_kappa_score(y_true, y_pred)
    e["log_loss"] = metrics.log_loss(y_true, proba, labels=labels)
    e["log_loss_1e15"] = metrics.log_loss(y_true, proba, labels=labels, eps=1e-15)
    onehot = np.eye(k)[y_true]
    e["brier_multiclass"] = float(np.mean(np.sum((onehot - proba) ** 2, axis=1)))
    if k == 2:
        score = proba[:, 1]
        if len(np.unique(y_true)) == 2:
            e["roc_auc"] = metrics.roc_auc_score(y_true, score)
        else:
            e["roc_auc"] = None  # sklearn raises: one class only
        e["average_precision"] = metrics.average_precision_score(y_true, score)
        e["brier"] = metrics.brier_score_loss(y_true, score)
        fpr, tpr, thr = metrics.roc_curve(y_true, score)
        e["roc_curve"] = {"x": fl(fpr), "y": fl(tpr), "thresholds": fl(thr)}
        prec, rec, thr = metrics.precision_recall_curve(y_true, score)
        e["pr_curve"] = {"x": fl(rec), "y": fl(prec), "thresholds": fl(thr)}
        for strategy in ("uniform", "quantile"):
            for bins in (5, 10):
                pt, pp = calibration_curve(y_true, score, n_bins=bins, strategy=strategy)
                e[f"calibration_{strategy}_{bins}"] = {"x": fl(pp), "y": fl(pt)}
    else:
        for mc in ("ovr", "ovo"):
            for avg in ("macro", "weighted"):
                try:
                    v = metrics.roc_auc_score(y_true, proba, multi_class=mc, average=avg)
                except ValueError:
                    v = None
                e[f"roc_auc_{mc}_{avg}"] = v
    return {"name": name, "n_classes": k, "y_true": [int(v) for v in y_true],
            "y_pred": [int(v) for v in y_pred], "proba": fl(proba), "expected": e}


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


cases = []
# Binary, scores rounded to two decimals: many ties.
n = 200
y = rng.integers(0, 2, n)
p1 = np.round(1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1.3, n)))), 2)
cases.append(classification_case("binary_ties", y, (p1 >= 0.5).astype(int),
                                 np.column_stack([1 - p1, p1])))
# Binary with probabilities of exactly 0 and 1 and heavy ties.
y = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
p1 = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.7, 0.7, 0.3, 0.3, 1.0, 0.0, 0.9, 0.5,
               0.1, 0.2, 0.2, 0.8, 0.6, 0.4, 1.0, 1.0, 0.0, 0.3, 0.5, 0.5])
cases.append(classification_case("binary_exact_01", y, (p1 > 0.5).astype(int),
                                 np.column_stack([1 - p1, p1])))
# Imbalanced binary: 10% positives.
n = 300
y = (rng.random(n) < 0.1).astype(int)
p1 = 1 / (1 + np.exp(-(2.0 * y - 2.5 + rng.normal(0, 1.0, n))))
cases.append(classification_case("binary_imbalanced", y, (p1 >= 0.5).astype(int),
                                 np.column_stack([1 - p1, p1])))
# Binary with one class in y_true: ROC AUC undefined.
y = np.zeros(12, dtype=int)
p1 = np.linspace(0.05, 0.6, 12)
cases.append(classification_case("binary_one_class", y, (p1 >= 0.5).astype(int),
                                 np.column_stack([1 - p1, p1])))
# Imbalanced 4-class, class 3 never predicted.
n = 240
y = rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05])
logits = rng.normal(0, 1, (n, 4)) + 1.5 * np.eye(4)[y]
proba = softmax(logits)
pred = np.argmax(proba[:, :3], axis=1)
cases.append(classification_case("multiclass_never_predicted", y, pred, proba))
# 3-class with rows of exact 0/1 probabilities and tied scores.
n = 60
y = rng.integers(0, 3, n)
proba = np.round(softmax(rng.normal(0, 1, (n, 3)) + 1.0 * np.eye(3)[y]), 1)
proba[:, 2] = 1 - proba[:, 0] - proba[:, 1]
proba = np.clip(np.round(proba, 10), 0, 1)
proba[:5] = np.eye(3)[y[:5]]
proba[5:8] = np.eye(3)[(y[5:8] + 1) % 3]
proba = proba / proba.sum(axis=1, keepdims=True)
pred = np.argmax(proba, axis=1)
cases.append(classification_case("multiclass_exact_01_ties", y, pred, proba))
# 5 columns, class 4 in neither y_true nor y_pred: macro averages over present classes only,
# and multiclass ROC AUC is undefined (a probability column without its class).
n = 50
y = rng.integers(0, 4, n)
proba = softmax(rng.normal(0, 1, (n, 5)) + np.eye(5)[y])
pred = np.argmax(proba[:, :4], axis=1)
cases.append(classification_case("multiclass_absent_class", y, pred, proba))

regression = []
for name, yt, yp in [
    ("random", rng.normal(3, 2, 80), None),
    ("with_zeros", np.array([0.0, 1.0, -2.0, 0.0, 3.5, 10.0, -0.5]),
     np.array([0.1, 1.2, -1.5, 0.0, 3.0, 9.0, 0.5])),
    ("constant_truth", np.full(5, 2.0), np.array([2.0, 2.5, 1.5, 2.0, 2.0])),
    ("constant_perfect", np.full(4, -1.0), np.full(4, -1.0)),
]:
    if yp is None:
        yp = yt + rng.normal(0, 0.7, yt.size)
    regression.append({"name": name, "y_true": fl(yt), "y_pred": fl(yp), "expected": {
        "mae": metrics.mean_absolute_error(yt, yp),
        "mse": metrics.mean_squared_error(yt, yp),
        "rmse": metrics.mean_squared_error(yt, yp, squared=False),
        "r2": metrics.r2_score(yt, yp),
        "mape": metrics.mean_absolute_percentage_error(yt, yp)}})

ttest = []
for n, shift in [(10, 0.3), (30, 0.05), (5, 2.0), (200, 0.01)]:
    a = rng.normal(0.8, 0.05, n)
    b = a - shift * 0.05 + rng.normal(0, 0.03, n)
    r = stats.ttest_rel(a, b)
    ttest.append({"a": fl(a), "b": fl(b), "statistic": float(r.statistic),
                  "pvalue": float(r.pvalue)})

wilcoxon = []
def add_wilcoxon(name, a, b, mode="auto"):
    r = stats.wilcoxon(a, b, mode=mode)
    wilcoxon.append({"name": name, "a": fl(a), "b": fl(b), "statistic": float(r.statistic),
                     "pvalue": float(r.pvalue)})
a = rng.normal(0, 1, 20); add_wilcoxon("exact_n20", a, a - 0.3 + rng.normal(0, 0.5, 20))
a = rng.normal(0, 1, 12); add_wilcoxon("exact_n12_far", a, a - 2 + rng.normal(0, 0.1, 12))
a = rng.normal(0, 1, 50); add_wilcoxon("exact_n50", a, a + rng.normal(0.1, 1, 50))
a = rng.normal(0, 1, 80); add_wilcoxon("approx_n80", a, a - 0.2 + rng.normal(0, 1, 80))
a = np.round(rng.normal(0, 1, 30), 1); b = np.round(a + rng.normal(0.2, 0.4, 30), 1)
b[a == b] += 0.1
add_wilcoxon("exact_ties_n30", a, b)
a = np.round(rng.normal(0, 1, 60), 1); b = np.round(a + rng.normal(0.2, 0.4, 60), 1)
b[a == b] += 0.1
add_wilcoxon("ties_n60_approx", a, b)
a = np.round(rng.normal(0, 1, 25), 1); b = a.copy(); b[:18] += np.round(rng.normal(0.3, 0.5, 18), 1)
add_wilcoxon("zeros_n25", a, b)
a = np.arange(1.0, 8.0); add_wilcoxon("exact_center", a, a - np.array([1, -2, 3, -4, 5, -6, 7.0]) * 0.1)

mcnemar = []
for n01, n10 in [(10, 3), (25, 25), (0, 7), (1, 0), (150, 112), (3, 11), (0, 0), (5, 6)]:
    k = min(n01, n10)
    tot = n01 + n10
    exact_p = min(1.0, 2 * stats.binom.cdf(k, tot, 0.5))
    if tot:
        chi = (abs(n01 - n10) - 1) ** 2 / tot
        chi_p = stats.chi2.sf(chi, 1)
    else:
        chi, chi_p = None, None
    mcnemar.append({"n01": n01, "n10": n10, "exact_statistic": float(k),
                    "exact_pvalue": float(exact_p),
                    "chi2_statistic": chi, "chi2_pvalue": None if chi_p is None else float(chi_p)})

dist = {
    "betainc": [[a, b, x, float(special.betainc(a, b, x))] for a, b, x in [
        (0.5, 0.5, 0.3), (2, 3, 0.4), (10, 0.5, 0.95), (0.5, 10, 0.01), (50, 60, 0.45),
        (1, 1, 0.77), (4.5, 0.5, 0.2), (100, 0.5, 0.999)]],
    "gammainc": [[a, x, float(special.gammainc(a, x)), float(special.gammaincc(a, x))]
                 for a, x in [(0.5, 0.1), (0.5, 3.0), (1, 1), (3, 10), (10, 3), (0.5, 40),
                              (25, 30), (2.5, 2.5)]],
    "t_cdf": [[t, df, float(stats.t.cdf(t, df))] for t, df in [
        (0.0, 3), (1.5, 4), (-2.2, 9), (10, 2), (-30, 50), (0.3, 1), (2.0, 1000)]],
    "t_ppf": [[p, df, float(stats.t.ppf(p, df))] for p, df in [
        (0.975, 4), (0.025, 9), (0.5, 3), (0.999, 1), (0.9, 29), (1e-6, 12)]],
    "norm_ppf": [[p, float(stats.norm.ppf(p))] for p in [
        0.5, 0.975, 0.025, 1e-10, 0.999999, 0.3, 0.8413447460685429]],
    "chi2_sf": [[x, df, float(stats.chi2.sf(x, df))] for x, df in [
        (3.84, 1), (0.1, 1), (25, 1), (7.5, 3), (80, 1)]],
}

def nan_to_none(v):
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: nan_to_none(x) for k, x in v.items()}
    if isinstance(v, list):
        return [nan_to_none(x) for x in v]
    return v


out = {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "classification": cases,
       "regression": regression, "ttest": ttest, "wilcoxon": wilcoxon, "mcnemar": mcnemar,
       "distributions": dist}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
with open(path, "w") as f:
    json.dump(nan_to_none(out), f, indent=1, allow_nan=False)
    f.write("\n")
print("wrote", path)

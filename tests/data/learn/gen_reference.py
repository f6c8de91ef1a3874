#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_reference.py - writes the fixtures of tests/unit/test_learn.c: small datasets as CSV and
# what scikit-learn 1.2 and python3-xgboost 1.7 fit on them (expected.json). Run it with
# Debian's /usr/bin/python3 from this folder; the outputs are committed beside it.
import json
import os
import warnings

import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

# lbfgs stops on its relative-decrease test long before tol=1e-12 (gradient ~1e-4 here), so the
# references come from newton-cg, which reaches a max-norm gradient near 1e-9; it warns about
# max_iter because its inner criterion is stricter still.
warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(name, x, y):
    cols = ["x%d" % j for j in range(x.shape[1])] + ["y"]
    with open(os.path.join(HERE, name), "w") as f:
        f.write(",".join(cols) + "\n")
        for row, target in zip(x, y):
            f.write(",".join(repr(float(v)) for v in list(row) + [target]) + "\n")


def lst(a):
    return [float(v) for v in np.ravel(a)]


out = {}

# Regression: OLS and ridge on standardised features.
x, y = make_regression(n_samples=60, n_features=4, noise=5.0, random_state=1)
y = y + 3.0
write_csv("reg.csv", x, y)
xs = StandardScaler().fit_transform(x)
ols = LinearRegression().fit(xs, y)
out["ols"] = {"coef": lst(ols.coef_), "intercept": float(ols.intercept_)}
ridge = Ridge(alpha=2.5).fit(xs, y)
out["ridge"] = {"alpha": 2.5, "coef": lst(ridge.coef_), "intercept": float(ridge.intercept_)}

# Binary logistic, imbalanced, plain and with balanced class weights.
x, y = make_classification(n_samples=80, n_features=3, n_informative=2, n_redundant=0,
                           weights=[0.7, 0.3], flip_y=0.1, random_state=2)
write_csv("bin.csv", x, y)
xs = StandardScaler().fit_transform(x)
for key, cw in (("logistic_bin", None), ("logistic_bin_balanced", "balanced")):
    lr = LogisticRegression(C=0.7, tol=1e-12, max_iter=10000, class_weight=cw,
                            solver="newton-cg").fit(xs, y)
    out[key] = {"C": 0.7, "coef": lst(lr.coef_), "intercept": lst(lr.intercept_),
                "proba": lst(lr.predict_proba(xs))}

# Multinomial logistic.
x, y = make_classification(n_samples=90, n_features=4, n_informative=3, n_redundant=0,
                           n_classes=3, n_clusters_per_class=1, random_state=3)
write_csv("multi.csv", x, y)
xs = StandardScaler().fit_transform(x)
lr = LogisticRegression(C=1.3, tol=1e-12, max_iter=10000, multi_class="multinomial",
                        solver="newton-cg").fit(xs, y)
out["logistic_multi"] = {"C": 1.3, "coef": lst(lr.coef_), "intercept": lst(lr.intercept_),
                         "proba": lst(lr.predict_proba(xs))}

# XGBoost: train on the first two thirds, predict every row; raw features (no scaling).
common = {"max_depth": 3, "eta": 0.3, "subsample": 0.8, "colsample_bytree": 0.9,
          "lambda": 1.5, "alpha": 0.1, "min_child_weight": 1, "tree_method": "hist",
          "seed": 7, "verbosity": 0}


def xgb_case(name, csv, params, rounds, early=0):
    data = np.genfromtxt(os.path.join(HERE, csv), delimiter=",", skip_header=1)
    xx, yy = data[:, :-1], data[:, -1]
    n_train = len(yy) * 2 // 3
    dtrain = xgb.DMatrix(xx[:n_train], label=yy[:n_train], missing=np.nan)
    p = dict(common, **params)
    if early:
        dval = xgb.DMatrix(xx[n_train:], label=yy[n_train:], missing=np.nan)
        bst = xgb.train(p, dtrain, rounds, evals=[(dval, "val")], early_stopping_rounds=early,
                        verbose_eval=False)
        bst = bst[: bst.best_iteration + 1]
    else:
        bst = xgb.train(p, dtrain, rounds)
    pred = bst.predict(xgb.DMatrix(xx, missing=np.nan))
    out[name] = {"params": {k: str(v) for k, v in params.items()}, "rounds": rounds,
                 "early_stopping_rounds": early, "n_train": n_train, "pred": lst(pred)}


# Regression with missing values, which XGBoost takes natively.
data = np.genfromtxt(os.path.join(HERE, "reg.csv"), delimiter=",", skip_header=1)
rng = np.random.RandomState(5)
xn = data[:, :-1].copy()
xn[rng.rand(*xn.shape) < 0.1] = np.nan
write_csv("reg_nan.csv", xn, data[:, -1])

xgb_case("xgb_bin", "bin.csv", {"objective": "binary:logistic"}, 20)
xgb_case("xgb_multi", "multi.csv", {"objective": "multi:softprob", "num_class": 3}, 15)
xgb_case("xgb_reg", "reg_nan.csv", {"objective": "reg:squarederror"}, 25)
xgb_case("xgb_reg_early", "reg_nan.csv", {"objective": "reg:squarederror", "eta": 0.5}, 200, 3)

# Ridge with more features than rows: scikit-learn's solver="auto" takes the kernel (dual) form.
rng = np.random.RandomState(11)
x = rng.randn(6, 40)
y = x[:, :5] @ np.array([3.0, -2.0, 1.5, 0.5, -1.0]) + 0.1 * rng.randn(6) + 4.0
write_csv("wide.csv", x, y)
xs = StandardScaler().fit_transform(x)
ridge = Ridge(alpha=0.5).fit(xs, y)
out["ridge_wide"] = {"alpha": 0.5, "coef": lst(ridge.coef_), "intercept": float(ridge.intercept_)}

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")

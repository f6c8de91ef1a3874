#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_profile_ref.py - makes the fixture test_dataops.c checks profiles against:
# profile_input.csv (three numeric columns with missing values, ties and a constant) and
# profile_expected.csv (column, stat, index, value) from numpy: quantiles with numpy's default
# linear method, numpy.histogram with 20 bins, mean and the sample std (ddof=1).
# Run: /usr/bin/python3 tests/data/gen_profile_ref.py
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def main():
    rng = np.random.default_rng(20261126)
    n = 537
    cols = {
        "normal": rng.normal(3.0, 2.5, n),
        "skewed": np.round(rng.exponential(10.0, n), 2),  # rounded: many ties
        "constant": np.full(n, 4.25),
    }
    missing = rng.random(n) < 0.07
    cols["normal"][missing] = np.nan
    cols["skewed"][rng.random(n) < 0.03] = np.nan
    names = list(cols)
    with open(os.path.join(HERE, "profile_input.csv"), "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join("" if np.isnan(cols[c][i]) else repr(float(cols[c][i]))
                             for c in names) + "\n")
    rows = []
    for c in names:
        v = cols[c][~np.isnan(cols[c])]
        rows.append((c, "count", 0, float(len(v))))
        rows.append((c, "missing", 0, float(n - len(v))))
        rows.append((c, "mean", 0, float(np.mean(v))))
        rows.append((c, "std", 0, float(np.std(v, ddof=1))))
        rows.append((c, "min", 0, float(np.min(v))))
        rows.append((c, "max", 0, float(np.max(v))))
        for i, q in enumerate(np.quantile(v, LEVELS)):
            rows.append((c, "quantile", i, float(q)))
        counts, edges = np.histogram(v, bins=20)
        for i, e in enumerate(edges):
            rows.append((c, "edge", i, float(e)))
        for i, k in enumerate(counts):
            rows.append((c, "bin", i, float(k)))
    with open(os.path.join(HERE, "profile_expected.csv"), "w") as f:
        f.write("column,stat,index,value\n")
        for c, s, i, v in rows:
            f.write("%s,%s,%d,%r\n" % (c, s, i, v))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench_hpo_xgb.py - tunes XGBoost on the bundled digits data (data/digits.csv: 1,797 rows,
64 features, 10 classes) through `cairn tune` and through Optuna 3.1 with the same budget and
the same objective, over several seeds, and compares the best validation log loss (median,
IQR) and the wall time.

The objective (evaluate() below) trains xgboost's multi:softprob on a fixed stratified 80/20
split of the rows (the split never changes: only the tuners' seeds do) and returns the
validation multi-class log loss. cairn runs it as a command per trial,
`cairn tune --space SPACE --trials N --seed S -- /usr/bin/python3 bench_hpo_xgb.py --trial`,
which reads its parameters from $CAIRN_PARAM_<NAME> and prints `cairn.final: val_logloss=V`;
Optuna calls evaluate() in-process (TPESampler(seed=S), its default). cairn's sampler is
`auto` (its default) unless --cairn-sampler says otherwise. Every trial gets one thread.

    /usr/bin/python3 bench/bench_hpo_xgb.py [--trials 25] [--seeds 5] [--jobs 2]
        [--cairn PATH] [--cairn-sampler SPEC]
"""
import argparse
import csv
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.abspath(os.path.dirname(__file__)))
DATA = os.path.join(ROOT, "data", "digits.csv")

# name: (kind, low, high, log)
SPACE = {
    "eta": ("float", 0.01, 0.5, True),
    "max_depth": ("int", 2, 6, False),
    "min_child_weight": ("float", 0.1, 10.0, True),
    "subsample": ("float", 0.5, 1.0, False),
    "colsample_bytree": ("float", 0.3, 1.0, False),
    "reg_lambda": ("float", 1e-3, 10.0, True),
    "num_round": ("int", 10, 60, False),
}


def space_yaml():
    lines = ["objective: {name: val_logloss, goal: minimize}", "parameters:"]
    for name, (kind, lo, hi, log) in SPACE.items():
        lines.append("  %s: {type: %s, low: %r, high: %r%s}" % (
            name, kind, lo, hi, ", log: true" if log else ""))
    return "\n".join(lines) + "\n"


_DATA = None


def load():
    """The fixed split: every 5th row of each class (in file order) is validation."""
    global _DATA
    if _DATA is None:
        import numpy as np
        with open(DATA) as f:
            rows = list(csv.reader(f))
        header, rows = rows[0], rows[1:]
        y_col = header.index("target")
        x = np.array([[float(v) for i, v in enumerate(r) if i != y_col] for r in rows])
        y = np.array([int(float(r[y_col])) for r in rows])
        seen = {}
        val = np.zeros(len(y), dtype=bool)
        for i, c in enumerate(y):
            seen[c] = seen.get(c, 0) + 1
            val[i] = seen[c] % 5 == 0
        _DATA = (x[~val], y[~val], x[val], y[val])
    return _DATA


def evaluate(params):
    """Validation multi-class log loss of xgboost with these parameters."""
    import numpy as np
    import xgboost as xgb
    xt, yt, xv, yv = load()
    booster = xgb.train(
        {"objective": "multi:softprob", "num_class": 10, "eta": params["eta"],
         "max_depth": int(params["max_depth"]), "min_child_weight": params["min_child_weight"],
         "subsample": params["subsample"], "colsample_bytree": params["colsample_bytree"],
         "lambda": params["reg_lambda"], "nthread": 1, "seed": 0, "verbosity": 0},
        xgb.DMatrix(xt, label=yt), num_boost_round=int(params["num_round"]))
    p = booster.predict(xgb.DMatrix(xv))
    p = np.clip(p[np.arange(len(yv)), yv], 1e-15, 1)
    return float(-np.mean(np.log(p)))


def trial_main():
    """One cairn trial: parameters from the environment, the objective on stdout."""
    params = {}
    for name, (kind, _, _, _) in SPACE.items():
        v = os.environ["CAIRN_PARAM_" + name.upper()]
        params[name] = int(v) if kind == "int" else float(v)
    print("cairn.final: val_logloss=%.10g" % evaluate(params), flush=True)


def run_cairn(job):
    cairn, sampler, seed, n_trials, work = job
    space = os.path.join(work, "space.yaml")
    store = "sqlite://%s/cairn-%d.db" % (work, seed)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.time()
    subprocess.run([cairn, "--store", store, "tune", "--space", space, "--study",
                    "xgb-%d" % seed, "--trials", str(n_trials), "--seed", str(seed),
                    "--sampler", sampler, "--quiet", "--", sys.executable,
                    os.path.abspath(__file__), "--trial"],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.time() - t0
    out = subprocess.run([cairn, "--store", store, "study", "best", "xgb-%d" % seed, "--json"],
                         check=True, capture_output=True, text=True, env=env)
    best = json.loads(out.stdout)
    value = best.get("value")
    trials = subprocess.run([cairn, "--store", store, "study", "trials", "xgb-%d" % seed,
                             "--json"], check=True, capture_output=True, text=True, env=env)
    states = [t.get("state") for t in json.loads(trials.stdout)["trials"]]
    return {"who": "cairn " + sampler, "seed": seed, "best": float(value), "wall_s": wall,
            "complete": states.count("COMPLETE"), "trials": len(states)}


def run_optuna(job):
    seed, n_trials = job
    import warnings
    import optuna
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    os.environ["OMP_NUM_THREADS"] = "1"

    def objective(trial):
        params = {}
        for name, (kind, lo, hi, log) in SPACE.items():
            if kind == "int":
                params[name] = trial.suggest_int(name, lo, hi, log=log)
            else:
                params[name] = trial.suggest_float(name, lo, hi, log=log)
        return evaluate(params)

    t0 = time.time()
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return {"who": "optuna-%s TPESampler()" % optuna.__version__, "seed": seed,
            "best": study.best_value, "wall_s": time.time() - t0,
            "complete": len(study.trials), "trials": len(study.trials)}


def run_job(job):
    kind, args = job
    return run_cairn(args) if kind == "cairn" else run_optuna(args)


def quartiles(v):
    v = sorted(v)
    n = len(v)

    def q(p):
        pos = p * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        return v[lo] + (pos - lo) * (v[hi] - v[lo])
    return q(0.5), q(0.25), q(0.75)


def find_cairn(explicit):
    if explicit:
        return explicit
    for d in ("release", "ci", "dev"):
        p = os.path.join(ROOT, "build", d, "cairn")
        if os.path.exists(p):
            return p
    sys.exit("bench_hpo_xgb.py: no cairn binary; build one: cmake --preset release && "
             "cmake --build --preset release")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--trial":
        trial_main()
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cairn", help="path of the cairn binary")
    ap.add_argument("--cairn-sampler", default="auto")
    args = ap.parse_args()
    cairn = find_cairn(args.cairn)
    import optuna
    import xgboost
    xt, _, xv, _ = load()
    print("# XGBoost %s on data/digits.csv (%d train, %d validation rows, 64 features, 10 "
          "classes): %d trials, %d seeds, %s" % (xgboost.__version__, len(xt), len(xv),
                                                 args.trials, args.seeds,
                                                 time.strftime("%Y-%m-%d %H:%M")))
    print("command: %s\nload average at start: %s" % (" ".join(sys.argv), os.getloadavg()))
    work = tempfile.mkdtemp(prefix="bench-hpo-xgb-")
    with open(os.path.join(work, "space.yaml"), "w") as f:
        f.write(space_yaml())
    jobs = []
    for seed in range(args.seeds):
        jobs.append(("cairn", (cairn, args.cairn_sampler, seed, args.trials, work)))
        jobs.append(("optuna", (seed, args.trials)))
    t0 = time.time()
    with multiprocessing.Pool(max(1, min(args.jobs, 2))) as pool:
        results = pool.map(run_job, jobs)
    print("\n| tuner | seeds | best validation log loss: median [q1, q3] | per seed | "
          "wall s per study: median | trials complete |")
    print("|---|---|---|---|---|---|")
    for who in sorted({r["who"] for r in results}):
        rs = sorted((r for r in results if r["who"] == who), key=lambda r: r["seed"])
        m, q1, q3 = quartiles([r["best"] for r in rs])
        w = quartiles([r["wall_s"] for r in rs])[0]
        print("| %s | %d | %.4f [%.4f, %.4f] | %s | %.1f | %s |" % (
            who, len(rs), m, q1, q3, " ".join("%.4f" % r["best"] for r in rs), w,
            " ".join("%d/%d" % (r["complete"], r["trials"]) for r in rs)))
    print("\ntotal %.0f s; load average at the end: %s" % (time.time() - t0, os.getloadavg()))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench_hpo.py - cairn's optimizer against Optuna (Debian's python3-optuna 3.1), side by side.

Quality: the 7 problems of docs/bench.md "Optimizer" (Branin, Hartmann-6, Rosenbrock 5-D and
10-D, Ackley 10-D with its optimum shifted to 12.5, Styblinski-Tang 5-D, the notes' mixed
space), every (problem, sampler, seed) a fresh study of --trials trials, minimizing. cairn's
samplers run in bench_hpo_samplers (C, in memory); Optuna's (TPESampler(),
TPESampler(multivariate=True), CmaEsSampler()) in-process here, logging silenced. Prints the
median [q1, q3] of the best value at 25, 50, 100 and 200 trials and a table of the goals:
cairn auto's median at 100 and 200 trials no worse than Optuna 3.1's default TPE on every
problem, and no worse than the best of Optuna's samplers (the three measured here and the
newest TPE's figures quoted below) on at least 5 of the 7.

Overhead: ask + tell per trial (5 floats, trivial objective) at 100, 1,000 and 2,000 trials,
cairn in memory and through a study on a SQLite store (bench_hpo_samplers --overhead), Optuna
3.1's TPE in memory and on its SQLite storage (RDBStorage). Optuna's study is filled to n-20
trials with add_trials (random points, no sampling) and the next 20 trials are timed: the same
per-trial cost as a study grown by TPE, without spending O(n^2) to get there.

    /usr/bin/python3 bench/bench_hpo.py [--seeds 20] [--trials 200] [--problems a,b]
        [--jobs 2] [--no-quality] [--no-overhead] [--json-out FILE] [--cairn-bench PATH]

Standard library, NumPy-free; Optuna only for the Optuna side.
"""
import argparse
import json
import math
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBLEMS = ["branin", "hartmann6", "rosenbrock5", "rosenbrock10", "ackley10_shifted",
            "styblinski_tang5", "mixed"]
CAIRN_SAMPLERS = ["auto", "tpe", "tpe_mv", "cmaes", "random"]
OPTUNA_SAMPLERS = ["tpe", "tpe_mv", "cmaes"]
MARKS = [25, 50, 100, 200]
ACKLEY_SHIFT = 12.5

# Optuna master's (5.0.0.dev) default TPE, median best value at 25/50/100/200 trials over 20
# seeds, as the research notes measured it (the same problems; its Ackley was NOT shifted: the
# optimum sat at the centre, where TPE's prior kernel is, an easier problem, so that column is
# a stricter target than the shifted problem deserves).
NEWEST_TPE = {
    "branin": [0.7718, 0.5074, 0.4167, 0.4009],
    "hartmann6": [-2.404, -2.992, -3.228, -3.292],
    "rosenbrock5": [2631, 466.3, 89.93, 23.83],
    "rosenbrock10": [4.847e4, 1.049e4, 3050, 817.5],
    "ackley10_shifted": [18.39, 16.9, 14.09, 9.119],
    "styblinski_tang5": [-126.6, -155.5, -164.4, -166.9],
    "mixed": [0.3085, 0.1482, 0.05987, 0.01086],
}
# The notes' per-trial CPU time of the newest TPE (ms, 5 floats, in memory) at 100/1000/2000.
NEWEST_TPE_MS = {100: 2.04, 1000: 9.85, 2000: 19.6}


# ---- the problems, as bench_hpo_samplers.c defines them ----

def branin(x):
    pi = math.pi
    b, c, t = 5.1 / (4 * pi * pi), 5 / pi, 1 / (8 * pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


HART_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
          [17, 8, 0.05, 10, 0.1, 14]]
HART_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
          [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
          [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
          [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
HART_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    v = 0.0
    for i in range(4):
        s = sum(HART_A[i][j] * (x[j] - HART_P[i][j]) ** 2 for j in range(6))
        v -= HART_ALPHA[i] * math.exp(-s)
    return v


def rosen(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    d = len(x)
    z = [v - ACKLEY_SHIFT for v in x]
    s1 = sum(v * v for v in z)
    s2 = sum(math.cos(2 * math.pi * v) for v in z)
    return -20 * math.exp(-0.2 * math.sqrt(s1 / d)) - math.exp(s2 / d) + 20 + math.e


def styblinski_tang(x):
    return sum(v ** 4 - 16 * v * v + 5 * v for v in x) / 2


MIXED_OPTS = ["sgd", "momentum", "adam", "rmsprop", "adagrad"]
MIXED_OFFSET = [0.30, 0.15, 0, 0.10, 0.60]
MIXED_LR = [-1, -2, -3, -3.5, -1.5]


def optuna_objective(problem):
    """The objective for Optuna: suggests the same parameters as the C bench's space."""
    def floats(trial, d, lo, hi):
        return [trial.suggest_float("x%d" % i, lo, hi) for i in range(d)]

    if problem == "branin":
        return lambda t: branin([t.suggest_float("x0", -5, 10), t.suggest_float("x1", 0, 15)])
    if problem == "hartmann6":
        return lambda t: hartmann6(floats(t, 6, 0, 1))
    if problem == "rosenbrock5":
        return lambda t: rosen(floats(t, 5, -5, 10))
    if problem == "rosenbrock10":
        return lambda t: rosen(floats(t, 10, -5, 10))
    if problem == "ackley10_shifted":
        return lambda t: ackley(floats(t, 10, -32.768, 32.768))
    if problem == "styblinski_tang5":
        return lambda t: styblinski_tang(floats(t, 5, -5, 5))
    if problem == "mixed":
        def f(t):
            o = MIXED_OPTS.index(t.suggest_categorical("optimizer", MIXED_OPTS))
            lr = t.suggest_float("lr", 1e-5, 1, log=True)
            layers = t.suggest_int("n_layers", 1, 10)
            units = t.suggest_int("n_units", 8, 1024, log=True)
            dropout = t.suggest_float("dropout", 0, 0.8)
            return (MIXED_OFFSET[o] + 0.5 * (math.log10(lr) - MIXED_LR[o]) ** 2 +
                    0.05 * (layers - 4) ** 2 + 0.1 * (math.log2(units) - 7) ** 2 +
                    4 * (dropout - 0.05 * layers) ** 2)
        return f
    raise ValueError(problem)


def quiet_optuna():
    import warnings
    import optuna
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


def make_sampler(optuna, name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "tpe_mv":
        return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(name)


def optuna_run(task):
    """One Optuna study: (problem, sampler, seed, trials) -> a result record."""
    problem, sampler, seed, n_trials = task
    optuna = quiet_optuna()
    study = optuna.create_study(sampler=make_sampler(optuna, sampler, seed))
    f = optuna_objective(problem)
    best, marks = math.inf, {}
    t0 = time.process_time()
    for n in range(1, n_trials + 1):
        trial = study.ask()
        v = f(trial)
        study.tell(trial, v)
        best = min(best, v)
        if n in MARKS or n == n_trials:
            marks[str(n)] = best
    return {"who": "optuna-" + optuna.__version__, "problem": problem, "sampler": sampler,
            "seed": seed, "trials": n_trials, "best": marks,
            "ms": 1000 * (time.process_time() - t0)}


def cairn_run(task):
    """bench_hpo_samplers for one problem: every cairn sampler, every seed."""
    binary, problem, seeds, n_trials = task
    out = subprocess.run([binary, "--json", "--trials", str(n_trials), "--seeds", str(seeds),
                          "--problems", problem], check=True, capture_output=True, text=True)
    recs = []
    for line in out.stdout.splitlines():
        r = json.loads(line)
        r["who"] = "cairn"
        recs.append(r)
    return recs


def find_binary(explicit):
    if explicit:
        return explicit
    for d in ("release", "ci", "dev"):
        p = os.path.join(ROOT, "build", d, "bench", "bench_hpo_samplers")
        if os.path.exists(p):
            return p
    sys.exit("bench_hpo.py: no bench_hpo_samplers; build one: cmake --preset release && "
             "cmake --build --preset release")


def quantiles(vals):
    v = sorted(vals)
    n = len(v)

    def q(p):
        pos = p * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        return v[lo] + (pos - lo) * (v[hi] - v[lo])
    return q(0.5), q(0.25), q(0.75)


def fmt(x):
    return "%.4g" % x


def summarize(records, problems):
    """{(problem, label): {mark: (median, q1, q3)}}"""
    cells = {}
    for r in records:
        label = ("cairn/" if r["who"] == "cairn" else "optuna-3.1/") + r["sampler"]
        cells.setdefault((r["problem"], label), []).append(r)
    out = {}
    for key, rs in cells.items():
        out[key] = {}
        for m in MARKS:
            vals = [r["best"][str(m)] for r in rs if str(m) in r["best"]]
            if vals:
                out[key][m] = quantiles(vals) + (len(vals),)
        out[key]["ms"] = sum(r["ms"] for r in rs) / sum(r["trials"] for r in rs)
        out[key]["chosen"] = rs[0].get("chosen", "")
    return out


def print_quality(summary, problems, marks):
    print("\n## Quality: best value, median [q1, q3] over the seeds\n")
    for p in problems:
        print("#### %s\n" % p)
        print("| sampler | seeds | " + " | ".join("best@%d" % m for m in marks) +
              " | ms/trial (CPU, sampler + objective) |")
        print("|---|---|" + "---|" * len(marks) + "---|")
        labels = sorted(l for (q, l) in summary if q == p)
        for label in labels:
            c = summary[(p, label)]
            name = label + (" → " + c["chosen"] if label == "cairn/auto" else "")
            row = ["%s [%s, %s]" % (fmt(c[m][0]), fmt(c[m][1]), fmt(c[m][2])) if m in c else ""
                   for m in marks]
            n = max((c[m][3] for m in marks if m in c), default=0)
            print("| %s | %d | %s | %.3f |" % (name, n, " | ".join(row), c["ms"]))
        if p in NEWEST_TPE:
            print("| optuna master TPE (quoted from the notes%s) | 20 | %s | |" % (
                ", Ackley unshifted" if p.startswith("ackley") else "",
                " | ".join(fmt(NEWEST_TPE[p][MARKS.index(m)]) for m in marks)))
        print()


def goals(summary, problems, marks):
    checks = [m for m in (100, 200) if m in marks]
    print("## Goals: cairn auto's median vs Optuna\n")
    print("| problem | auto → | " + " | ".join(
        "auto@%d | 3.1 TPE@%d | best Optuna@%d (which)" % (m, m, m) for m in checks) +
        " | ≤ 3.1 TPE | ≤ best Optuna |")
    print("|---|---|" + "---|---|---|" * len(checks) + "---|---|")
    n_all, n_best, n_prob = 0, 0, 0
    for p in problems:
        a = summary.get((p, "cairn/auto"))
        if not a:
            continue
        n_prob += 1
        ok_tpe = ok_best = True
        cols = []
        for m in checks:
            tpe = summary.get((p, "optuna-3.1/tpe"), {}).get(m, (math.inf,))[0]
            cands = {s: summary.get((p, "optuna-3.1/" + s), {}).get(m, (math.inf,))[0]
                     for s in OPTUNA_SAMPLERS}
            if p in NEWEST_TPE and m in MARKS:
                cands["master-tpe"] = NEWEST_TPE[p][MARKS.index(m)]
            which = min(cands, key=cands.get)
            am = a[m][0]
            ok_tpe &= am <= tpe
            ok_best &= am <= cands[which]
            cols.append("%s | %s | %s (%s)" % (fmt(am), fmt(tpe), fmt(cands[which]), which))
        n_all += ok_tpe
        n_best += ok_best
        print("| %s | %s | %s | %s | %s |" % (p, a["chosen"], " | ".join(cols),
                                               "yes" if ok_tpe else "**no**",
                                               "yes" if ok_best else "no"))
    print("\nauto no worse than Optuna 3.1's default TPE at %s trials: %d of %d problems "
          "(goal: all)" % (" and ".join(map(str, checks)), n_all, n_prob))
    print("auto no worse than the best Optuna sampler: %d of %d problems (goal: at least 5 of "
          "7)\n" % (n_best, n_prob))
    return n_all, n_best, n_prob


# ---- overhead ----

def optuna_overhead(storage_kind, at, sampler="tpe", window=20):
    """Median wall and CPU ms of ask + 5 suggests + tell over trials n-19 .. n."""
    optuna = quiet_optuna()
    import random
    res = {}
    for n in at:
        tmp = None
        storage = None
        if storage_kind == "sqlite":
            tmp = tempfile.mkdtemp(prefix="bench-hpo-optuna-")
            storage = "sqlite:///" + os.path.join(tmp, "o.db")
        study = optuna.create_study(sampler=make_sampler(optuna, sampler, 0), storage=storage)
        rnd = random.Random(n)
        dist = optuna.distributions.FloatDistribution(-5, 5)
        fill = []
        for _ in range(n - window):
            params = {"x%d" % i: rnd.uniform(-5, 5) for i in range(5)}
            fill.append(optuna.trial.create_trial(
                params=params, distributions={k: dist for k in params},
                value=sum(v * v for v in params.values())))
        if fill:
            study.add_trials(fill)
        walls, cpus = [], []
        for _ in range(window):
            w0, c0 = time.perf_counter(), time.process_time()
            t = study.ask()
            v = sum(t.suggest_float("x%d" % i, -5, 5) ** 2 for i in range(5))
            study.tell(t, v)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        res[n] = {"wall_ms": 1000 * quantiles(walls)[0], "cpu_ms": 1000 * quantiles(cpus)[0]}
        if tmp:
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)
    return res


def cairn_overhead(binary, spec, store, n):
    out = subprocess.run([binary, "--overhead", "--json", "--trials", str(n), "--sampler", spec,
                          "--store", store], check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def run_overhead(binary, args):
    at = [n for n in (100, 1000, 2000) if n <= args.overhead_trials]
    rows = []  # (who, sampler, storage, {n: {wall_ms, cpu_ms}})
    for spec in ("tpe", "tpe:multivariate=true,group=true", "auto", "cmaes", "random"):
        for r in cairn_overhead(binary, spec, "both", args.overhead_trials):
            rows.append(("cairn", spec, r["store"], {int(k): v for k, v in r["at"].items()}))
    opt_at_sql = [n for n in at if n <= args.optuna_sqlite_max]
    print("(Optuna overhead: in memory at %s, SQLite at %s ...)" % (at, opt_at_sql),
          file=sys.stderr)
    rows.append(("optuna-3.1", "TPESampler()", "memory", optuna_overhead("memory", at)))
    rows.append(("optuna-3.1", "TPESampler(multivariate=True)", "memory",
                 optuna_overhead("memory", at, "tpe_mv")))
    rows.append(("optuna-3.1", "TPESampler()", "sqlite", optuna_overhead("sqlite", opt_at_sql)))
    rows.append(("optuna-3.1", "RandomSampler()", "sqlite",
                 optuna_overhead("sqlite", [100], "random")))
    print("\n## Per-trial overhead: ask + tell, 5 floats, ms (wall / CPU), median of trials "
          "n-19..n\n")
    print("| who | sampler | storage | " + " | ".join("@%d" % n for n in at) + " |")
    print("|---|---|---|" + "---|" * len(at))
    for who, s, st, r in rows:
        print("| %s | %s | %s | %s |" % (who, s, st, " | ".join(
            "%.4g / %.4g" % (r[n]["wall_ms"], r[n]["cpu_ms"]) if n in r else "" for n in at)))

    def get(who, s, st, n):
        for w, s2, st2, r in rows:
            if w == who and s2 == s and st2 == st and n in r:
                return r[n]["cpu_ms"]
        return None
    print("\n## Overhead goals at 1,000 trials (CPU ms)\n")
    print("| cairn sampler | cairn memory | cairn SQLite | Optuna 3.1 TPE memory | ratio "
          "| goal ≤ 1/100 | newest TPE (notes) | ratio | goal ≤ 1/20 | SQLite < 1 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    o_mem = get("optuna-3.1", "TPESampler()", "memory", 1000)
    for spec in ("tpe", "tpe:multivariate=true,group=true", "auto"):
        cm = get("cairn", spec, "memory", 1000)
        cs = get("cairn", spec, "sqlite", 1000)
        if cm is None or o_mem is None:
            continue
        r1, r2 = cm / o_mem, cm / NEWEST_TPE_MS[1000]
        print("| %s | %.4f | %.4f | %.2f | 1/%.0f | %s | %.2f | 1/%.0f | %s | %s |" % (
            spec, cm, cs, o_mem, 1 / r1, "yes" if r1 <= 0.01 else "**no**",
            NEWEST_TPE_MS[1000], 1 / r2, "yes" if r2 <= 0.05 else "**no**",
            "yes" if cs < 1 else "**no**"))
    o_sql = get("optuna-3.1", "TPESampler()", "sqlite", 1000)
    cs = get("cairn", "tpe", "sqlite", 1000)
    if o_sql and cs:
        print("\nOn SQLite at 1,000 trials: cairn tpe %.3f ms vs Optuna 3.1 TPE %.1f ms CPU "
              "(1/%.0f)" % (cs, o_sql, o_sql / cs))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--no-overhead", action="store_true")
    ap.add_argument("--no-optuna", action="store_true", help="quality: cairn only")
    ap.add_argument("--overhead-trials", type=int, default=2000)
    ap.add_argument("--optuna-sqlite-max", type=int, default=1000,
                    help="Optuna on SQLite is timed at 100 .. this many trials")
    ap.add_argument("--json-out", help="write every raw record here")
    ap.add_argument("--cairn-bench", help="path of bench_hpo_samplers")
    ap.add_argument("--optuna-from", metavar="JSON",
                    help="quality: take Optuna's records from an earlier --json-out instead of "
                         "running Optuna again (its samplers are seeded, so a re-run gives the "
                         "same values; only cairn's side is measured now)")
    args = ap.parse_args()
    problems = [p for p in args.problems.split(",") if p]
    for p in problems:
        if p not in PROBLEMS:
            sys.exit("bench_hpo.py: unknown problem '%s'; the problems: %s" %
                     (p, ", ".join(PROBLEMS)))
    binary = find_binary(args.cairn_bench)
    optuna = quiet_optuna()
    print("# cairn vs Optuna %s: %s, %d CPUs, %s, python %s" % (
        optuna.__version__, platform.node(), os.cpu_count(), time.strftime("%Y-%m-%d %H:%M"),
        platform.python_version()))
    print("command: %s\ncairn bench: %s\nload average at start: %s" % (
        " ".join(sys.argv), os.path.relpath(binary, ROOT), os.getloadavg()))
    t_start = time.time()
    records = []
    if not args.no_quality:
        tasks = [("c", (binary, p, args.seeds, args.trials)) for p in problems]
        if args.optuna_from:
            with open(args.optuna_from) as f:
                kept = [r for r in json.load(f)["quality"] if r["who"].startswith("optuna")
                        and r["problem"] in problems and r["seed"] < args.seeds]
            if not kept:
                sys.exit("bench_hpo.py: no Optuna records in %s" % args.optuna_from)
            records += kept
            print("Optuna's records: %d from %s" % (len(kept), args.optuna_from))
        elif not args.no_optuna:
            # the slowest first, so that the two workers finish together
            order = {"tpe": 0, "tpe_mv": 1, "cmaes": 2}
            tasks += [("o", (p, s, seed, args.trials))
                      for s in sorted(OPTUNA_SAMPLERS, key=order.get)
                      for p in problems for seed in range(args.seeds)]
        with multiprocessing.Pool(max(1, min(args.jobs, 2))) as pool:
            done = 0
            for recs in pool.imap_unordered(run_task, tasks):
                records += recs
                done += 1
                if done % 20 == 0 or done == len(tasks):
                    print("  %d/%d runs (%.0f s)" % (done, len(tasks), time.time() - t_start),
                          file=sys.stderr)
        marks = [m for m in MARKS if m <= args.trials]
        summary = summarize(records, problems)
        print_quality(summary, problems, marks)
        goals(summary, problems, marks)
        print("quality: %.0f s" % (time.time() - t_start))
    overhead = None
    if not args.no_overhead:
        t1 = time.time()
        overhead = run_overhead(binary, args)
        print("\noverhead: %.0f s" % (time.time() - t1))
    print("load average at the end: %s; total %.0f s" % (os.getloadavg(),
                                                          time.time() - t_start))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"quality": records, "overhead": overhead}, f)


def run_task(task):
    kind, t = task
    return cairn_run(t) if kind == "c" else [optuna_run(t)]


if __name__ == "__main__":
    main()

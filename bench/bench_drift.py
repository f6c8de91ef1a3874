#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench_drift.py - `cairn drift --test ks` against SciPy's ks_2samp on the same data: two CSV
# files of --cols numeric columns x --rows rows (half the columns shifted in the current file),
# then, in one run, the wall time of the cairn command (CSV parsing, profiling, every test,
# JSON out) and of SciPy (ks_2samp over every column, data already in memory; the CSV load with
# numpy is timed and printed apart), best of --repeats. Prints the ratio and checks that both
# found the same drifted columns and the same statistics.
# usage: /usr/bin/python3 bench/bench_drift.py [path/to/cairn] [--rows N] [--cols N]
#        [--repeats N]
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import stats


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('cairn', nargs='?', default=os.path.join(here, '..', 'build', 'dev', 'cairn'))
    ap.add_argument('--rows', type=int, default=100000)
    ap.add_argument('--cols', type=int, default=100)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='bench-drift-')
    try:
        rng = np.random.default_rng(42)
        ref = rng.normal(size=(args.rows, args.cols))
        cur = rng.normal(size=(args.rows, args.cols))
        cur[:, ::2] += 0.02  # a small shift in every other column
        names = ['f%d' % i for i in range(args.cols)]
        paths = []
        for tag, a in (('ref', ref), ('cur', cur)):
            p = os.path.join(tmp, tag + '.csv')
            np.savetxt(p, a, fmt='%.9g', delimiter=',', header=','.join(names), comments='')
            paths.append(p)
        size_mb = sum(os.path.getsize(p) for p in paths) / 1e6
        # SciPy sees the values as written to the CSV files
        t0 = time.perf_counter()
        ref = np.loadtxt(paths[0], delimiter=',', skiprows=1)
        cur = np.loadtxt(paths[1], delimiter=',', skiprows=1)
        load_s = time.perf_counter() - t0

        best_scipy, scipy_res = float('inf'), None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = [stats.ks_2samp(ref[:, j], cur[:, j]) for j in range(args.cols)]
            best_scipy = min(best_scipy, time.perf_counter() - t0)
            scipy_res = res
        cmd = [args.cairn, 'drift', '--reference', paths[0], '--current', paths[1], '--test',
               'ks', '--json']
        best_cairn, report = float('inf'), None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            best_cairn = min(best_cairn, time.perf_counter() - t0)
            if proc.returncode not in (0, 1):
                sys.exit('cairn drift failed:\n' + proc.stderr)
            report = json.loads(proc.stdout)
        worst_d = max(abs(f['statistic'] - s.statistic)
                      for f, s in zip(report['features'], scipy_res))
        worst_p = max(abs(f['p_value'] - s.pvalue) / max(s.pvalue, 1e-300)
                      for f, s in zip(report['features'], scipy_res) if s.pvalue > 1e-300)
        same = all(f['drifted'] == (s.pvalue <= 0.05)
                   for f, s in zip(report['features'], scipy_res))
        print('drift: %d columns x %d rows, reference and current (%.0f MB of CSV)'
              % (args.cols, args.rows, size_mb))
        print('  scipy ks_2samp, data in memory     %8.3f s   (numpy.loadtxt of both files: %.1f s)'
              % (best_scipy, load_s))
        print('  cairn drift --test ks (CSV to JSON) %8.3f s' % best_cairn)
        print('  ratio cairn / scipy                 %8.2f   (cairn / (scipy + load): %.2f)'
              % (best_cairn / best_scipy, best_cairn / (best_scipy + load_s)))
        print('  agreement: max |dD| %.1e, max relative dp %.1e, same drifted columns: %s'
              % (worst_d, worst_p, 'yes' if same else 'NO'))
    finally:
        shutil.rmtree(tmp, True)


if __name__ == '__main__':
    main()

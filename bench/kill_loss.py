#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Measures the loss window of `cairn run` under kill -9 (not a test: it prints, never asserts).

Each trial runs `cairn run -- python3 -c <writer>` where the writer prints a metric line every
PERIOD_MS and records, in a side file, the wall time of each line it printed. cairn is killed
with SIGKILL at a random moment; the script then counts the points in the SQLite store. A point
is lost when it was printed but not stored; the loss window is the time between the oldest
lost line and the kill. The promise (docs/cli/cairn-run.md) is a window of at most
flush_interval_ms (1000 ms by default) plus the time one flush takes.

Usage: bench/kill_loss.py [--cairn build/release/cairn] [--trials 100] [--period-ms 20]
                          [--pattern bursty|steady]
"""
import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

WRITER = r'''
import sys, time
side = open(sys.argv[1], "a", buffering=1)
period = float(sys.argv[2]) / 1000
bursty = sys.argv[3] == "bursty"
i = 0
while True:
    print("cairn: step=%d loss=%f" % (i, 1.0 / (i + 1)), flush=True)
    side.write("%d %.6f\n" % (i, time.time()))
    i += 1
    if bursty and i % 5 == 0:
        time.sleep(1.5)  # a quiet spell after every 5 lines: only a timer flush saves them
    else:
        time.sleep(period)
'''


def trial(cairn, tmp, n, period_ms, pattern, rng):
    store = os.path.join(tmp, 'kill%d.db' % n)
    side = os.path.join(tmp, 'side%d.txt' % n)
    env = dict(os.environ, CAIRN_STORE='sqlite://' + store)
    proc = subprocess.Popen([cairn, 'run', '--experiment', 'kill', '--', sys.executable, '-c',
                             WRITER, side, str(period_ms), pattern], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(1.0, 4.0))
    kill_t = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # the writer dies with cairn (PR_SET_PDEATHSIG); let it go
    printed = {}
    with open(side) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                printed[int(parts[0])] = float(parts[1])
    printed = {s: t for s, t in printed.items() if t <= kill_t}
    db = sqlite3.connect(store)
    stored = {row[0] for row in db.execute("select step from metrics where key = 'loss'")}
    db.close()
    lost = sorted(s for s in printed if s not in stored)
    window_ms = (kill_t - printed[lost[0]]) * 1000 if lost else 0.0
    return len(printed), len(lost), window_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cairn', default='build/release/cairn')
    ap.add_argument('--trials', type=int, default=100)
    ap.add_argument('--period-ms', type=float, default=20)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--pattern', choices=('steady', 'bursty'), default='bursty',
                    help='steady: a line every period; bursty: 5 lines, then 1.5 s of quiet')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lost_points, windows, total = [], [], 0
    with tempfile.TemporaryDirectory(prefix='cairn-kill-') as tmp:
        for n in range(a.trials):
            p, l, w = trial(a.cairn, tmp, n, a.period_ms, a.pattern, rng)
            total += p
            lost_points.append(l)
            windows.append(w)
            print('trial %3d: printed %4d lost %3d window %7.1f ms' % (n, p, l, w), flush=True)
    windows.sort()
    print('\n%d kills, %d points printed, %d lost' % (a.trials, total, sum(lost_points)))
    print('points lost per kill: max %d, mean %.1f' % (max(lost_points),
                                                       sum(lost_points) / len(lost_points)))
    print('loss window: median %.0f ms, p95 %.0f ms, max %.0f ms' % (
        windows[len(windows) // 2], windows[int(len(windows) * 0.95)], windows[-1]))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_server_cpu.py - two builds of `cairn server` side by side: requests/s and the server's
CPU time per request, measured in alternation.

    python3 bench/bench_server_cpu.py BIN_A BIN_B [--pairs 4] [--duration 4] [--row log-metric]

Both servers run at once, each on a SQLite store of its own in a temp folder with 16 runs; the
load generator (bench_server.py's cairn-loadgen, the same request templates) drives one, then
the other, A B then B A, for --pairs pairs. For each run it prints the requests/s, the server's
CPU time per request (user + system of every thread, from /proc/PID/task/*/stat) and the CPU
seconds of its busiest threads (the group writer is usually the first), then the medians. On a
machine shared with other work the request rate swings by 2x from minute to minute; the CPU
per request moves much less, so a change of a few microseconds shows where the rate cannot.
BIN may be a script that sets environment variables and `exec`s cairn (the process id must
stay the server's). Linux only; Python standard library only; it prints, never asserts.
"""
import argparse
import os
import pathlib
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_server as bs  # noqa: E402

TICKS = os.sysconf('SC_CLK_TCK')


def thread_cpu(pid):
    """CPU seconds (user + system) of each thread of pid."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue  # the thread ended
        out[tid] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('bins', nargs=2, metavar='BIN', help='the two cairn binaries, A and B')
    p.add_argument('--build', help='the build folder holding bench/cairn-loadgen (default: '
                   'build/release, build/ci or build/dev)')
    p.add_argument('--pairs', type=int, default=4)
    p.add_argument('--duration', type=float, default=4.0, help='seconds per run')
    p.add_argument('--row', choices=('log-metric', 'log-batch'), default='log-metric')
    args = p.parse_args()
    args.bins = [os.path.abspath(b) for b in args.bins]  # the servers run in a temp folder
    build = pathlib.Path(args.build) if args.build else next(
        (bs.SOURCE_DIR / d for d in ('build/release', 'build/ci', 'build/dev')
         if (bs.SOURCE_DIR / d / 'bench' / 'cairn-loadgen').exists()), None)
    if build is None or not (build / 'bench' / 'cairn-loadgen').exists():
        print('bench_server_cpu.py: no bench/cairn-loadgen in %s; build with CAIRN_BENCH=ON or '
              'pass --build DIR' % (build or 'build/release, build/ci, build/dev'),
              file=sys.stderr)
        return 2
    loadgen = build / 'bench' / 'cairn-loadgen'
    for binary in args.bins:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            print('bench_server_cpu.py: %s is not an executable file; give the path of a cairn '
                  'binary (e.g. build/release/cairn)' % binary, file=sys.stderr)
            return 2
    if args.row == 'log-batch':
        requests, connections, points = [bs.req_log_batch(1000)], 4, 1000
    else:
        requests, connections, points = [bs.req_log_metric()], 32, 1
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cairn-bench-cpu-'))
    servers, runs = [], []
    try:
        for k, binary in enumerate(args.bins):
            store = 'sqlite:///' + str(workdir / ('store-%d.db' % k)).lstrip('/')
            server = bs.start_cairn_server(binary, store, name='cairn server ' + 'AB'[k],
                                           cwd=workdir)
            servers.append(server)
            rest = bs.Rest(server.url)
            runs.append(bs.create_runs(rest, bs.create_experiment(rest, 'bench'), 16))
            rest.close()
        results = ([], [])
        for pair in range(args.pairs):
            for k in ((0, 1) if pair % 2 == 0 else (1, 0)):
                pid = servers[k].proc.pid
                before, load = thread_cpu(pid), os.getloadavg()[0]
                rep = bs.run_loadgen(loadgen, [servers[k].url], requests,
                                     connections=connections, duration_s=args.duration,
                                     runs=runs[k], workdir=workdir)
                after = thread_cpu(pid)
                spent = sorted((after[t] - before.get(t, 0.0) for t in after), reverse=True)
                rate = rep['requests_per_s']
                per_request = sum(spent) / max(rate * args.duration, 1e-9) * 1e6
                results[k].append((rate, per_request))
                print('%s pair %d: %9.0f req/s  %7.1f us CPU/request  busiest threads %s s  '
                      'load %.1f  non-2xx %d' % (
                          'AB'[k], pair + 1, rate, per_request,
                          ' '.join('%.2f' % s for s in spent[:6]), load, rep['non_2xx']),
                      flush=True)
        for k in (0, 1):
            rates = [r for r, _ in results[k]]
            cpus = [c for _, c in results[k]]
            print('%s %s: median %.0f req/s (%.0f points/s), %.1f us of CPU per request '
                  '(range %.1f to %.1f)' % ('AB'[k], args.bins[k], statistics.median(rates),
                                            statistics.median(rates) * points,
                                            statistics.median(cpus), min(cpus), max(cpus)))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_serve.py - measures `cairn serve` against the machine's ceiling in one run.

    python3 bench/bench_serve.py [--build build/ci] [--duration 5] [--workers 2]
                                 [--model logistic,mlp,xgboost]

Trains the bundled models the quickstart trains (examples/configs/breast_cancer_*.yaml:
logistic regression, an MLP and XGBoost on breast_cancer, 30 features; all three unless
--model names some) with `cairn train`, starts cairn-ceiling (the least a libmicrohttpd server
can do per request) and `cairn serve` on each model, and drives them with cairn-loadgen with the
same request bytes: POST /invocations of one row and of 1,000 rows ({"inputs": [[...], ...]}).
Throughput uses --connections keep-alive connections; latency (p50, p99) one connection
sending back to back. Each model is served twice at once: with drift monitoring (a check every
--monitor-interval seconds; the last check's duration is printed) and with --no-monitor, to
show what monitoring costs; the two are measured --rounds times in alternation (A B B A ...)
and the tables give the medians, so a change of the machine's load falls on both. The ceiling
is measured again after every model (its figure is the mean), so a change of the machine's
load shows. Prints one table per model with the ratios cairn/ceiling and issue 9's goals
(one-row p99 under 1 ms, at least half the ceiling's request rate, monitoring under 10% of
throughput), and the load average at the start and the end.

Python standard library only. Benchmarks print; they never assert.
"""
import argparse
import csv
import json
import os
import pathlib
import random
import subprocess
import statistics
import sys
import tempfile
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_server import Server, run_loadgen  # noqa: E402

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[1]
GOAL_P99_MS = 1.0
GOAL_CEILING_SHARE = 0.5
GOAL_MONITOR_COST = 0.10


LEARNERS = ('logistic', 'mlp', 'xgboost')


def train(cairn, store, workdir, learner):
    """Trains examples/configs/breast_cancer_LEARNER.yaml (bootstrap and CV cut: the model is
    the same, the run shorter)."""
    src = (SOURCE_DIR / 'examples' / 'configs' / ('breast_cancer_%s.yaml' % learner)).read_text()
    lines = [ln for ln in src.splitlines() if not ln.startswith(('cv:', 'bootstrap:'))]
    cfg = workdir / ('%s.yaml' % learner)
    cfg.write_text('\n'.join(lines).replace('data/breast_cancer.csv',
                                            str(SOURCE_DIR / 'data' / 'breast_cancer.csv'))
                   + '\nbootstrap: 20\n')
    out = subprocess.run([cairn, '--store', store, 'train', '--json', '--config', str(cfg)],
                         capture_output=True, text=True, check=True, cwd=workdir)
    return json.loads(out.stdout)['run_id']


def bodies(workdir):
    with open(SOURCE_DIR / 'data' / 'breast_cancer.csv') as f:
        rows = [[float(v) for v in r[:-1]] for r in list(csv.reader(f))[1:]]
    rnd = random.Random(3)
    one = json.dumps({'inputs': [rows[0]]})
    big = workdir / 'rows1000.json'
    big.write_text(json.dumps({'inputs': [rnd.choice(rows) for _ in range(1000)]}))
    return ('name=one POST /invocations ' + one, 'name=batch POST /invocations @%s' % big)


def measure(args, url, one, batch, workdir):
    out = {}
    for label, req, conns in (('one', one, args.connections), ('batch', batch,
                                                                args.batch_connections)):
        run_loadgen(args.loadgen, [url], [req], connections=1, count=200, workdir=workdir)
        rate = run_loadgen(args.loadgen, [url], [req], connections=conns, threads=args.threads,
                           duration_s=args.duration, workdir=workdir)
        lat = run_loadgen(args.loadgen, [url], [req], connections=1, duration_s=args.duration,
                          workdir=workdir)
        for rep in (rate, lat):
            if rep['errors'] or rep['non_2xx']:
                print('warning: %s: %d errors, %d non-2xx\n%s' % (label, rep['errors'],
                      rep['non_2xx'], rep['stderr']), file=sys.stderr)
        out[label] = {'requests_per_s': rate['requests_per_s'],
                      'p50_ms': lat['latency_ms']['p50'], 'p99_ms': lat['latency_ms']['p99']}
    return out


def median_of(runs):
    out = {}
    for key in runs[0]:
        out[key] = {q: statistics.median(r[key][q] for r in runs) for q in runs[0][key]}
    return out


def mean_of(runs):
    out = {}
    for key in runs[0]:
        out[key] = {q: sum(r[key][q] for r in runs) / len(runs) for q in runs[0][key]}
    return out


def table(args, learner, ce, c, nm, check_s, check_cpu_s):
    print('\ncairn serve (breast_cancer %s, 30 features, %d workers, a drift check every %g s) '
          'vs the libmicrohttpd ceiling, same request bytes, %g s per figure'
          % (learner, args.workers, args.monitor_interval, args.duration))
    head = ('measurement', 'cairn', 'no monitoring', 'ceiling', 'cairn/ceiling',
            'no mon./ceiling', 'goal')
    lines = []
    for key, name in (('one', '1 row'), ('batch', '1,000 rows')):
        rate_share = c[key]['requests_per_s'] / ce[key]['requests_per_s']
        nm_share = nm[key]['requests_per_s'] / ce[key]['requests_per_s']
        goal = ('>= %.1f x ceiling: %s' % (GOAL_CEILING_SHARE,
                                            'met' if rate_share >= GOAL_CEILING_SHARE else
                                            'not met') if key == 'one' else
                '%s rows/s' % '{:,.0f}'.format(1000 * c[key]['requests_per_s']))
        lines.append(('%s req/s' % name, '{:,.0f}'.format(c[key]['requests_per_s']),
                      '{:,.0f}'.format(nm[key]['requests_per_s']),
                      '{:,.0f}'.format(ce[key]['requests_per_s']), '%.2f' % rate_share,
                      '%.2f' % nm_share, goal))
        for q in ('p50_ms', 'p99_ms'):
            goal = ('< %g ms: %s' % (GOAL_P99_MS, 'met' if c[key][q] < GOAL_P99_MS else 'not met')
                    if key == 'one' and q == 'p99_ms' else '')
            lines.append(('%s %s' % (name, q.replace('_ms', '')), '%.3f ms' % c[key][q],
                          '%.3f ms' % nm[key][q], '%.3f ms' % ce[key][q],
                          '%.1fx' % (c[key][q] / ce[key][q]) if ce[key][q] else '-',
                          '%.1fx' % (nm[key][q] / ce[key][q]) if ce[key][q] else '-', goal))
    for key, name in (('one', '1 row'), ('batch', '1,000 rows')):
        cost = 1 - c[key]['requests_per_s'] / nm[key]['requests_per_s']
        lines.append(('monitoring cost, %s' % name, '%.1f%%' % (100 * cost), '', '', '', '',
                      '< %d%%: %s' % (100 * GOAL_MONITOR_COST,
                                      'met' if cost < GOAL_MONITOR_COST else 'not met')))
    if check_s is not None:
        lines.append(('drift check (10,000-row window)', '%.4f s CPU, %.4f s wall'
                      % (check_cpu_s if check_cpu_s is not None else float('nan'), check_s),
                      '', '', '', '', 'every %g s' % args.monitor_interval))
    widths = [max(len(str(r[i])) for r in [head] + lines) for i in range(len(head))]
    for r in [head] + lines:
        print('  '.join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build', default=str(SOURCE_DIR / 'build' / 'ci'))
    ap.add_argument('--model', default=','.join(LEARNERS),
                    help='bundled models to serve, comma-separated (default: %s)'
                    % ','.join(LEARNERS))
    ap.add_argument('--duration', type=float, default=5.0)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--connections', type=int, default=16)
    ap.add_argument('--batch-connections', type=int, default=4)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--monitor-interval', type=float, default=5.0,
                    help='seconds between drift checks of the monitored server (default 5)')
    ap.add_argument('--rounds', type=int, default=3,
                    help='measurements of each server, alternating monitored and not; the '
                    'tables give their medians (default 3)')
    ap.add_argument('--json', action='store_true', help='also print the figures as JSON')
    args = ap.parse_args()
    learners = [m.strip() for m in args.model.split(',') if m.strip()]
    for m in learners:
        if m not in LEARNERS:
            ap.error('--model: %r is not a bundled model (%s)' % (m, ', '.join(LEARNERS)))
    build = pathlib.Path(args.build).resolve()
    args.cairn = str(build / 'cairn')
    args.loadgen = str(build / 'bench' / 'cairn-loadgen')
    args.ceiling = str(build / 'bench' / 'cairn-ceiling')
    load_start = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory(prefix='bench-serve-') as tmp:
        workdir = pathlib.Path(tmp)
        store = 'sqlite:///' + str(workdir / 'bench.db').lstrip('/')
        run_ids = {m: train(args.cairn, store, workdir, m) for m in learners}
        one, batch = bodies(workdir)
        ceilings = []

        def ceiling():
            srv = Server([args.ceiling, '--port', '0', '--threads', str(args.workers)],
                         'cairn-ceiling')
            try:
                ceilings.append(measure(args, srv.url, one, batch, workdir))
            finally:
                srv.stop()
        ceiling()
        for m in learners:
            res = results[m] = {}
            servers = {}
            try:
                for label, extra in (('cairn', ['--monitor-interval', str(args.monitor_interval)]),
                                     ('no monitoring', ['--no-monitor', '--reason', 'bench'])):
                    servers[label] = Server([args.cairn, '--store', store, 'serve',
                                             'runs:/%s/model' % run_ids[m], '--port', '0',
                                             '--workers', str(args.workers), *extra],
                                            '%s %s' % (label, m), cwd=str(workdir))
                # Both servers are up (an idle one costs nothing); the measurements alternate
                # A B B A ... so a drift of the machine's load falls on both alike.
                runs = {label: [] for label in servers}
                for r in range(args.rounds):
                    order = ('cairn', 'no monitoring') if r % 2 == 0 else ('no monitoring',
                                                                            'cairn')
                    for label in order:
                        runs[label].append(measure(args, servers[label].url, one, batch,
                                                   workdir))
                for label in servers:
                    res[label] = median_of(runs[label])
                    res[label + ' runs'] = runs[label]
                with urllib.request.urlopen(servers['cairn'].url + '/metrics') as r:
                    for line in r.read().decode().splitlines():
                        if line.startswith('cairn_serve_drift_check_seconds{'):
                            res['check_s'] = float(line.rsplit(' ', 1)[1])
                        if line.startswith('cairn_serve_drift_check_cpu_seconds{'):
                            res['check_cpu_s'] = float(line.rsplit(' ', 1)[1])
            finally:
                for srv in servers.values():
                    srv.stop()
            ceiling()
    ce = mean_of(ceilings)
    results['ceiling'] = ce
    results['ceiling_runs'] = ceilings
    print('load average at the start %.2f %.2f %.2f, at the end %.2f %.2f %.2f'
          % (load_start + os.getloadavg()))
    print('ceiling, 1 row: %s req/s over %d measurements (mean %s)'
          % (' '.join('{:,.0f}'.format(c['one']['requests_per_s']) for c in ceilings),
             len(ceilings), '{:,.0f}'.format(ce['one']['requests_per_s'])))
    for m in learners:
        table(args, m, ce, results[m]['cairn'], results[m]['no monitoring'],
              results[m].get('check_s'), results[m].get('check_cpu_s'))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()

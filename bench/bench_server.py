#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_server.py - measures `cairn server` against the machine's ceiling in one run.

    python3 bench/bench_server.py [--build build/ci] [--store sqlite|postgresql] [--with-pg]
    python3 bench/bench_server.py --load-test [--with-pg] [--duration 20]

The benchmark starts cairn-ceiling (the least a libmicrohttpd server can do per request) and
`cairn server` on a fresh store, drives both with cairn-loadgen (keep-alive, the same request
bytes) and prints a table: log-metric requests/s, log-batch of 1,000 metrics (metrics/s),
runs/create requests/s and the latency of a search of 100 runs out of 10,000 ordered by a
metric; with the ratios cairn/ceiling and cairn/MLflow (MLflow's documented figures, not
measured here) and the goals of issue 7.

--load-test runs concurrent clients mixing log-batch, log-metric and search for a fixed time
against one server, and against two replicas on one PostgreSQL store, then reads every metric
history back over REST and compares it with what loadgen says was accepted: no errors, no lost,
no duplicated points. tests/e2e/test_server_load.py runs the same check for a few seconds.

Python standard library only. Benchmarks print; they never assert (the load test exits 1 when
the check fails).
"""
import argparse
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[1]
API = '/api/2.0/mlflow/'
LISTEN_RE = re.compile(r'listening on http://([^\s/]+):(\d+)')

# MLflow 2.12 reference server (gunicorn sync workers x4, SQLite, local artifacts) on a
# 2-vCPU VM of the same kind as this project's, one sequential client over loopback, its
# quietest pass. Documented figures: they are not measured by this script.
MLFLOW_REFERENCE = {
    'log-metric': (160.0, 'req/s', 'log_metric via MlflowClient 158/s; raw HTTP 182/s'),
    'log-batch': (9500.0, 'metrics/s', 'log_batch of 1,000 metrics, 9.5 batches/s'),
    'runs/create': (154.0, 'req/s', 'raw HTTP POST runs/create; 123/s via MlflowClient'),
    'search': (2661.0, 'ms', 'raw HTTP; 2.7 s via MlflowClient'),
}
# Issue 7's goals on 2 cores.
GOAL_LOG_METRIC_SHARE = 0.5      # of the ceiling's rate
GOAL_BATCH_METRICS_S = 300000.0
GOAL_SEARCH_MS = 10.0

POINTS_PER_LOAD_BATCH = 100


# ---- processes ----

class Server:
    """A started server process whose 'listening on http://HOST:PORT' line gave its URL."""

    def __init__(self, cmd, name, env=None, cwd=None, timeout_s=60):
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.lines = []
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, errors='replace',
                                     env=env, cwd=cwd)
        self._found = threading.Event()
        self.url = None
        self.port = None
        self._readers = [threading.Thread(target=self._read, args=(s,), daemon=True)
                         for s in (self.proc.stdout, self.proc.stderr)]
        for t in self._readers:
            t.start()
        deadline = time.monotonic() + timeout_s
        while not self._found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('%s did not start (%s):\n%s'
                                   % (name, ' '.join(self.cmd), self.output()))

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)
            if len(self.lines) > 400:
                del self.lines[:100]
            m = LISTEN_RE.search(line)
            if m and not self._found.is_set():
                self.port = int(m.group(2))
                self.url = 'http://127.0.0.1:%d' % self.port
                self._found.set()

    def output(self):
        return ''.join(self.lines[-60:])

    def stop(self):
        """SIGTERM, then SIGKILL after 20 s; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._readers:
            t.join(5)
        return self.proc.returncode


def start_cairn_server(cairn, store, name='cairn server', extra=(), env=None, cwd=None):
    """`cairn server --store STORE --port 0` on 127.0.0.1."""
    full = dict(os.environ if env is None else env)
    full.pop('CAIRN_STORE', None)
    return Server([cairn, 'server', '--store', store, '--port', '0', *extra], name,
                  env=full, cwd=cwd)


class Rest:
    """A keep-alive JSON client for one server (http.client, one connection)."""

    def __init__(self, url, timeout_s=120):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout_s = timeout_s
        self.conn = None

    def call(self, method, path, body=None, query=None):
        if query:
            path += '?' + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        headers = {'Content-Type': 'application/json'} if data is not None else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout_s)
            try:
                self.conn.request(method, API + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if resp.status != 200:
            raise RuntimeError('%s %s -> %d: %s' % (method, path, resp.status,
                                                      text[:500].decode(errors='replace')))
        return json.loads(text) if text else {}

    def post(self, path, body):
        return self.call('POST', path, body)

    def get(self, path, **query):
        return self.call('GET', path, query=query)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def create_experiment(rest, name):
    return rest.post('experiments/create', {'name': name})['experiment_id']


def create_runs(rest, experiment_id, n, prefix='run'):
    ids = []
    for i in range(n):
        run = rest.post('runs/create', {'experiment_id': experiment_id,
                                        'start_time': int(time.time() * 1000),
                                        'run_name': '%s-%d' % (prefix, i)})
        ids.append(run['run']['info']['run_id'])
    return ids


def metric_history(rest, run_id, key, page=25000):
    """Every point of (run, key), following next_page_token."""
    points, token = [], None
    while True:
        query = {'run_id': run_id, 'metric_key': key, 'max_results': page}
        if token:
            query['page_token'] = token
        reply = rest.get('metrics/get-history', **query)
        points.extend(reply.get('metrics', []))
        token = reply.get('next_page_token')
        if not token:
            return points


def run_loadgen(loadgen, targets, requests, *, connections=16, threads=1, duration_s=None,
                count=None, runs=None, record=None, timeout_ms=None, workdir=None):
    """Runs cairn-loadgen with the request templates `requests` (a list of SPEC strings) and
    returns its --json report."""
    workdir = pathlib.Path(workdir or tempfile.gettempdir())
    spec = workdir / ('requests-%s.txt' % uuid.uuid4().hex[:8])
    spec.write_text(''.join(r + '\n' for r in requests))
    cmd = [str(loadgen), '--json', '-f', str(spec), '-c', str(connections), '-T', str(threads)]
    for t in targets:
        cmd += ['-t', t]
    if duration_s is not None:
        cmd += ['-d', '%g' % duration_s]
    if count is not None:
        cmd += ['-n', str(count)]
    runs_file = None
    if runs:
        runs_file = workdir / ('runs-%s.txt' % uuid.uuid4().hex[:8])
        runs_file.write_text(''.join(r + '\n' for r in runs))
        cmd += ['--runs', str(runs_file)]
    if record:
        cmd += ['--record', str(record)]
    if timeout_ms:
        cmd += ['--timeout', str(timeout_ms)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    finally:
        spec.unlink()
        if runs_file:
            runs_file.unlink()
    if proc.returncode != 0:
        raise RuntimeError('cairn-loadgen failed (%d): %s' % (proc.returncode, proc.stderr))
    report = json.loads(proc.stdout)
    report['stderr'] = proc.stderr
    return report


# ---- request templates (cairn-loadgen SPEC lines) ----

def req_log_metric(key='lm'):
    return ('name=log-metric POST %sruns/log-metric {"run_id":"{{run}}","key":"%s",'
            '"value":{{rand}},"timestamp":{{ts}},"step":{{step}}}' % (API, key))


def req_log_batch(n, key='lb'):
    point = '{"key":"%s","value":{{rand}},"timestamp":{{ts}},"step":{{step}}}' % key
    return ('name=log-batch POST %sruns/log-batch {"run_id":"{{run}}","metrics":[%s]}'
            % (API, ','.join([point] * n)))


def req_runs_create(experiment_id):
    return ('name=runs/create POST %sruns/create {"experiment_id":"%s","start_time":{{ts}},'
            '"run_name":"bench-{{seq}}"}' % (API, experiment_id))


def req_search(experiment_id, flt='metrics.m0 > 0.5', order='metrics.m0 DESC', n=100):
    body = {'experiment_ids': [experiment_id], 'filter': flt, 'order_by': [order],
            'max_results': n}
    return 'name=search POST %sruns/search %s' % (API, json.dumps(body, separators=(',', ':')))


# ---- PostgreSQL ----

def with_pg_reexec(argv):
    """Runs this script again under scripts/with-pg.sh (a private, throwaway PostgreSQL)."""
    script = SOURCE_DIR / 'scripts' / 'with-pg.sh'
    os.execv(str(script), [str(script), sys.executable, str(pathlib.Path(__file__).resolve()),
                           *argv])


def pg_database(uri):
    """Creates a fresh database on the server of `uri`; returns (its URI, a drop function)."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qs(parts.query)
    base = ['-h', query.get('host', [''])[0], '-p', query.get('port', ['5432'])[0],
            '-U', query.get('user', ['postgres'])[0]]
    name = 'bench_' + uuid.uuid4().hex[:12]
    subprocess.run(['createdb', *base, name], check=True, capture_output=True)

    def drop():
        subprocess.run(['dropdb', *base, '--if-exists', name], capture_output=True)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, '/' + name, parts.query,
                                    '')), drop


# ---- the load test ----

def load_test(cairn, loadgen, store, *, replicas=1, duration_s=20.0, connections=8, n_runs=8,
              workdir, log=print):
    """Mixed load against `replicas` servers on `store`, then the count. Returns a dict with
    the loadgen report and the counts; 'ok' is True when nothing failed, got lost or doubled."""
    workdir = pathlib.Path(workdir)
    servers = []
    try:
        for i in range(replicas):
            servers.append(start_cairn_server(cairn, store, name='cairn server %d' % (i + 1),
                                              cwd=workdir))
        rest = Rest(servers[0].url)
        experiment_id = create_experiment(rest, 'load-' + uuid.uuid4().hex[:8])
        runs = create_runs(rest, experiment_id, n_runs, prefix='load')
        requests = [
            'weight=5 ' + req_log_metric('lm'),
            'weight=2 ' + req_log_batch(POINTS_PER_LOAD_BATCH, 'lb'),
            'weight=1 ' + req_search(experiment_id, 'metrics.lm >= 0', 'metrics.lm DESC', 10),
        ]
        record = workdir / 'load-record.txt'
        report = run_loadgen(loadgen, [s.url for s in servers], requests,
                             connections=connections, duration_s=duration_s, runs=runs,
                             record=record, timeout_ms=60000, workdir=workdir)
        result = count_points(servers, runs, record)
        result['report'] = report
        result['replicas'] = replicas
        codes = [s.stop() for s in servers]
        result['server_exit_codes'] = codes
        result['ok'] = (report['errors'] == 0 and report['non_2xx'] == 0 and
                        result['lost'] == 0 and result['extra'] == 0 and
                        result['duplicated'] == 0 and result['accepted'] > 0 and
                        all(c == 0 for c in codes))
        if not result['ok']:
            result['server_output'] = '\n'.join('--- %s\n%s' % (s.name, s.output())
                                                for s in servers)
        return result
    finally:
        for s in servers:
            s.stop()


def count_points(servers, runs, record):
    """Reads back every point loadgen's record says was accepted (2xx), through each replica
    in turn, and counts lost, extra and duplicated points."""
    per_template = {0: ('lm', 1), 1: ('lb', POINTS_PER_LOAD_BATCH)}
    expected = set()
    failed = 0
    with open(record) as f:
        for line in f:
            status, tmpl, seq, run = line.split()
            if status == 'error' or not status.startswith('2'):
                failed += 1
                continue
            tmpl, seq = int(tmpl), int(seq)
            if tmpl in per_template:
                key, k = per_template[tmpl]
                for i in range(k):
                    expected.add((run, key, seq * k + i))
    got, duplicated = set(), 0
    clients = [Rest(s.url) for s in servers]
    for n, run in enumerate(runs):
        rest = clients[n % len(clients)]
        for key in ('lm', 'lb'):
            for p in metric_history(rest, run, key):
                point = (run, key, int(p['step']))
                if point in got:
                    duplicated += 1
                got.add(point)
    for c in clients:
        c.close()
    return {'accepted': len(expected), 'stored': len(got), 'lost': len(expected - got),
            'extra': len(got - expected), 'duplicated': duplicated, 'failed_requests': failed}


def print_load_result(label, r):
    rep = r['report']
    print('%s: %d requests in %.1f s (%.0f req/s), %d errors, %d non-2xx; points accepted %d, '
          'stored %d, lost %d, extra %d, duplicated %d -> %s'
          % (label, rep['requests'], rep['seconds'], rep['requests_per_s'], rep['errors'],
             rep['non_2xx'], r['accepted'], r['stored'], r['lost'], r['extra'],
             r['duplicated'], 'ok' if r['ok'] else 'FAILED'))
    for t in rep['templates']:
        print('    %-10s %7d requests, p50 %.2f ms, p99 %.2f ms'
              % (t['name'], t['requests'], t['latency_ms']['p50'], t['latency_ms']['p99']))
    if not r['ok']:
        print(rep.get('stderr', ''))
        print(r.get('server_output', ''))


# ---- the benchmark ----

def seed_search_runs(args, store, rest, name, n):
    """n runs in experiment `name`, each with 3 params, 3 metrics (m0 uniform in [0, 1)) and
    2 tags, like MLflow's reference measurement; through cairn_seed_store when it is built
    (the public API, straight to the store), else over REST."""
    import random
    rng = random.Random(7)
    seed_tool = args.seed_store
    if seed_tool and pathlib.Path(seed_tool).exists():
        lines = ['exp %s' % name]
        for i in range(n):
            lines += ['run %s name=s%d' % (name, i),
                      'param p0 v%d' % (i % 10), 'param p1 v%d' % (i % 97), 'param p2 x',
                      'tag t0 g%d' % (i % 5), 'tag t1 g%d' % (i % 7),
                      'metric m0 %.6f 0' % rng.random(), 'metric m1 %.6f 0' % rng.random(),
                      'metric m2 %.6f 0' % rng.random(), 'finish FINISHED']
        env = dict(os.environ)
        env.pop('CAIRN_STORE', None)
        proc = subprocess.run([seed_tool, store], input='\n'.join(lines) + '\n',
                              capture_output=True, text=True, env=env, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError('cairn_seed_store failed: %s' % proc.stderr)
        return rest.get('experiments/get-by-name', experiment_name=name)[
            'experiment']['experiment_id']
    experiment_id = create_experiment(rest, name)
    for i in range(n):
        run = rest.post('runs/create', {'experiment_id': experiment_id, 'start_time': i,
                                        'run_name': 's%d' % i})['run']['info']['run_id']
        rest.post('runs/log-batch', {
            'run_id': run,
            'metrics': [{'key': 'm%d' % k, 'value': rng.random(), 'timestamp': i, 'step': 0}
                        for k in range(3)],
            'params': [{'key': 'p0', 'value': 'v%d' % (i % 10)},
                       {'key': 'p1', 'value': 'v%d' % (i % 97)},
                       {'key': 'p2', 'value': 'x'}],
            'tags': [{'key': 't0', 'value': 'g%d' % (i % 5)},
                     {'key': 't1', 'value': 'g%d' % (i % 7)}]})
    return experiment_id


ROWS = ('log-metric', 'log-batch', 'runs/create', 'search')


def measure(args, target, requests_by_row, runs, workdir, label):
    """Measures each row against one server: {row: loadgen report}."""
    out = {}
    for row, (request, connections) in requests_by_row.items():
        if row == 'search':
            run_loadgen(args.loadgen, [target], [request], connections=1, count=5,
                        workdir=workdir)  # warm-up
            out[row] = run_loadgen(args.loadgen, [target], [request], connections=1,
                                   count=args.search_count, workdir=workdir)
        else:
            out[row] = run_loadgen(args.loadgen, [target], [request], connections=connections,
                                   threads=args.threads, duration_s=args.duration, runs=runs,
                                   workdir=workdir)
        rep = out[row]
        if rep['errors'] or rep['non_2xx']:
            print('warning: %s %s: %d errors, %d non-2xx\n%s'
                  % (label, row, rep['errors'], rep['non_2xx'], rep['stderr']), file=sys.stderr)
    return out


def fmt(v, unit):
    if v is None:
        return '-'
    if unit == 'ms':
        return '%.2f ms' % v
    return '{:,.0f}'.format(v)


def benchmark(args, workdir):
    workdir = pathlib.Path(workdir)
    fake_runs = [uuid.uuid4().hex for _ in range(16)]
    # The ceiling, with the same request bytes as each row.
    placeholder_exp = '1'
    rows = {
        'log-metric': (req_log_metric(), args.connections),
        'log-batch': (req_log_batch(1000), args.batch_connections),
        'runs/create': (req_runs_create(placeholder_exp), args.connections),
        'search': (req_search(placeholder_exp), 1),
    }
    rows = {k: v for k, v in rows.items() if k in args.rows}
    drop = None
    if args.store == 'postgresql':
        pg = os.environ.get('CAIRN_TEST_PG') or args.pg
        if not pg:
            raise SystemExit('bench_server: --store postgresql needs --pg URI or --with-pg')
        store, drop = pg_database(pg)
    else:
        store = 'sqlite:///' + str(workdir / 'bench.db').lstrip('/')
    server = None
    ceilings, cairns, rounds_ratio = [], [], []
    try:
        search_name = 'bench-search'
        server = start_cairn_server(args.cairn, store, cwd=workdir,
                                    extra=['--workers', str(args.workers)])
        rest = Rest(server.url)
        t0 = time.monotonic()
        search_exp = seed_search_runs(args, store, rest, search_name,
                                      args.search_runs if 'search' in args.rows else 0)
        seed_s = time.monotonic() - t0
        experiment_id = create_experiment(rest, 'bench')
        runs = create_runs(rest, experiment_id, 16, prefix='bench')
        check = rest.post('runs/search', json.loads(req_search(search_exp).split(' ', 3)[3]))
        values = [next(m['value'] for m in r['data']['metrics'] if m['key'] == 'm0')
                  for r in check.get('runs', [])]
        search_ok = len(values) == 100 and values == sorted(values, reverse=True) and \
            all(v > 0.5 for v in values) or 'search' not in args.rows
        rest.close()
        cairn_rows = {
            'log-metric': (req_log_metric(), args.connections),
            'log-batch': (req_log_batch(1000), args.batch_connections),
            'runs/create': (req_runs_create(experiment_id), args.connections),
            'search': (req_search(search_exp), 1),
        }
        cairn_rows = {k: v for k, v in cairn_rows.items() if k in args.rows}
        # The ceiling and cairn take turns, round after round, so that the machine's moods
        # (other work, frequency) fall on both alike; the table shows each row's median.
        for _ in range(args.rounds):
            ceiling_proc = Server([args.ceiling, '--port', '0', '--threads', str(args.workers)],
                                  'cairn-ceiling')
            try:
                ceilings.append(measure(args, ceiling_proc.url, rows, fake_runs, workdir,
                                        'ceiling'))
            finally:
                ceiling_proc.stop()
            cairns.append(measure(args, server.url, cairn_rows, runs, workdir, 'cairn'))
            if 'log-metric' in args.rows:
                rounds_ratio.append(cairns[-1]['log-metric']['requests_per_s'] /
                                    max(ceilings[-1]['log-metric']['requests_per_s'], 1e-9))
    finally:
        if server:
            server.stop()
        if drop:
            drop()

    def value(rep, row):
        if row == 'search':
            return rep['latency_ms']['p50']
        rate = rep['requests_per_s']
        return rate * 1000 if row == 'log-batch' else rate

    def median_reports(reps):
        out = {}
        for row in reps[0]:
            ordered = sorted(reps, key=lambda r: value(r[row], row))
            out[row] = ordered[len(ordered) // 2][row]
        return out
    cairn, ceiling = median_reports(cairns), median_reports(ceilings)

    print('cairn server (%s store, %d workers) vs the libmicrohttpd ceiling, same machine, same '
          'load generator (%d connections, %g s per row; search: 1 connection, p50 of %d)'
          % (args.store, args.workers, args.connections, args.duration, args.search_count))
    if args.rounds > 1:
        print('%d rounds, the ceiling and cairn in turn; medians below. log-metric cairn/ceiling '
              'by round: %s' % (args.rounds, ', '.join('%.2f' % r for r in rounds_ratio)))
    if 'search' in args.rows:
        print('search seeded with %d runs in %.1f s; its answer %s'
              % (args.search_runs, seed_s, 'checked (100 runs, m0 > 0.5, descending)'
                 if search_ok else 'WRONG (not 100 runs ordered by m0 descending)'))
    head = ('measurement', 'cairn', 'ceiling', 'cairn/ceiling', 'MLflow (documented)',
            'cairn vs MLflow', 'goal')
    table = [head]
    names = {'log-metric': 'log-metric req/s', 'log-batch': 'log-batch metrics/s (1,000/req)',
             'runs/create': 'runs/create req/s', 'search': 'search 100 of 10,000 by metric, p50'}
    results = {}
    for row in [r for r in ROWS if r in args.rows]:
        c, ce = value(cairn[row], row), value(ceiling[row], row)
        ref, unit, _ = MLFLOW_REFERENCE[row]
        if row == 'search':
            ratio_ceiling = '%.1fx slower' % (c / ce) if ce else '-'
            ratio_ref = '%.0fx faster' % (ref / c) if c else '-'
            goal = '< %g ms: %s' % (GOAL_SEARCH_MS, 'met' if c < GOAL_SEARCH_MS else 'MISSED')
        else:
            ratio_ceiling = '%.2f' % (c / ce) if ce else '-'
            ratio_ref = '%.0fx' % (c / ref)
            goal = ''
            if row == 'log-metric':
                goal = '>= %.1f x ceiling: %s' % (GOAL_LOG_METRIC_SHARE,
                                                  'met' if c >= GOAL_LOG_METRIC_SHARE * ce
                                                  else 'MISSED')
            elif row == 'log-batch':
                goal = '>= 300,000: %s' % ('met' if c >= GOAL_BATCH_METRICS_S else 'MISSED')
        results[row] = {'cairn': c, 'ceiling': ce, 'mlflow_documented': ref,
                        'cairn_errors': cairn[row]['errors'] + cairn[row]['non_2xx']}
        table.append((names[row], fmt(c, 'ms' if row == 'search' else ''),
                      fmt(ce, 'ms' if row == 'search' else ''), ratio_ceiling,
                      fmt(ref, 'ms' if row == 'search' else ''), ratio_ref, goal))
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        print('  '.join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    print('MLflow figures are documented reference numbers (MLflow 2.12 server, gunicorn x4, '
          'SQLite, a sequential client on a 2-vCPU VM), not measured in this run:')
    for row in [r for r in ROWS if r in args.rows]:
        print('  %-12s %s' % (row, MLFLOW_REFERENCE[row][2]))
    for row in [r for r in ROWS if r in args.rows]:
        rep = cairn[row]
        print('  cairn %-12s p50 %.2f ms, p99 %.2f ms, %d requests, %d errors, %d non-2xx'
              % (row, rep['latency_ms']['p50'], rep['latency_ms']['p99'], rep['requests'],
                 rep['errors'], rep['non_2xx']))
    if args.json_out:
        pathlib.Path(args.json_out).write_text(json.dumps(
            {'store': args.store, 'rows': results, 'search_checked': search_ok,
             'cairn': cairn, 'ceiling': ceiling}, indent=2))


def find_build(args):
    build = pathlib.Path(args.build) if args.build else None
    if build is None:
        for preset in ('release', 'ci', 'dev'):
            if (SOURCE_DIR / 'build' / preset / 'bench' / 'cairn-loadgen').exists():
                build = SOURCE_DIR / 'build' / preset
                break
    if build is None:
        raise SystemExit('bench_server: no build with bench/cairn-loadgen found; build one '
                         '(cmake --preset ci && cmake --build --preset ci) or give --build DIR')
    args.cairn = args.cairn or str(build / 'cairn')
    args.loadgen = args.loadgen or str(build / 'bench' / 'cairn-loadgen')
    args.ceiling = args.ceiling or str(build / 'bench' / 'cairn-ceiling')
    if args.seed_store is None:
        args.seed_store = str(build / 'cairn_seed_store')
    for tool in (args.cairn, args.loadgen, args.ceiling):
        if not pathlib.Path(tool).exists():
            raise SystemExit('bench_server: %s is missing; build it first' % tool)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', help='a build folder (default: build/release, build/ci or '
                   'build/dev, the first with bench/cairn-loadgen)')
    p.add_argument('--cairn')
    p.add_argument('--loadgen')
    p.add_argument('--ceiling')
    p.add_argument('--seed-store', help='cairn_seed_store (default: in the build; "" seeds '
                   'over REST)')
    p.add_argument('--store', choices=('sqlite', 'postgresql'), default='sqlite')
    p.add_argument('--pg', help='a PostgreSQL URI whose server the bench may create databases '
                   'on (default: $CAIRN_TEST_PG)')
    p.add_argument('--with-pg', action='store_true',
                   help='start a private PostgreSQL with scripts/with-pg.sh')
    p.add_argument('--duration', type=float, default=5.0, help='seconds per measured row')
    p.add_argument('--connections', type=int, default=32)
    p.add_argument('--batch-connections', type=int, default=4)
    p.add_argument('--threads', type=int, default=1, help='loadgen threads')
    # cairn server's default (src/server/tracking/server.c, trk_default_workers): processors + 1.
    p.add_argument('--workers', type=int, default=min(64, (os.cpu_count() or 2) + 1),
                   help='server threads, of cairn server and of the ceiling (default: processors + 1, '
                        'as cairn server)')
    p.add_argument('--rounds', type=int, default=1,
                   help='measure the ceiling and cairn in turn this many times; report medians')
    p.add_argument('--rows', default=','.join(ROWS),
                   help='the rows to measure, comma-separated (default: all of %s)'
                   % ','.join(ROWS))
    p.add_argument('--search-runs', type=int, default=10000)
    p.add_argument('--search-count', type=int, default=50)
    p.add_argument('--json-out', help='also write the figures as JSON to this file')
    p.add_argument('--load-test', action='store_true',
                   help='the mixed load test with the point count instead of the benchmark')
    p.add_argument('--load-connections', type=int, default=8)
    p.add_argument('--load-duration', type=float, default=20.0)
    p.add_argument('--keep', action='store_true', help='keep the temp folder')
    args = p.parse_args(argv)
    args.rows = [r.strip() for r in args.rows.split(',') if r.strip()]
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown or not args.rows:
        p.error('--rows: unknown row %s; pick from %s'
                % (', '.join(unknown) or '(none given)', ','.join(ROWS)))
    if args.with_pg and not os.environ.get('CAIRN_TEST_PG'):
        with_pg_reexec([a for a in argv if a != '--with-pg'])
    find_build(args)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cairn-bench-'))
    try:
        if not args.load_test:
            benchmark(args, workdir)
            return 0
        ok = True
        sqlite_store = 'sqlite:///' + str(workdir / 'load.db').lstrip('/')
        r = load_test(args.cairn, args.loadgen, sqlite_store, replicas=1,
                      duration_s=args.load_duration, connections=args.load_connections,
                      workdir=workdir)
        print_load_result('one server, SQLite', r)
        ok = ok and r['ok']
        pg = os.environ.get('CAIRN_TEST_PG') or args.pg
        if pg:
            store, drop = pg_database(pg)
            try:
                r = load_test(args.cairn, args.loadgen, store, replicas=2,
                              duration_s=args.load_duration,
                              connections=args.load_connections, workdir=workdir)
            finally:
                drop()
            print_load_result('two replicas, PostgreSQL', r)
            ok = ok and r['ok']
        else:
            print('two replicas on PostgreSQL: skipped (give --with-pg, --pg URI, or run under '
                  'scripts/with-pg.sh)')
        return 0 if ok else 1
    finally:
        if args.keep:
            print('kept %s' % workdir)
        else:
            shutil.rmtree(workdir, True)


if __name__ == '__main__':
    sys.exit(main())

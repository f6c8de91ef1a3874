# SPDX-License-Identifier: MIT
"""`cairn serve` with real processes: its predictions equal the learner's own (the validation
predictions `cairn train` saved) for every learner, served from a run, a file and the registry;
every MLflow input format and Open Inference V2 agree, and their errors are 4xx naming the
column; concurrent requests batched together each get their own answers; a drifted stream
raises the drift score and the monitoring run records it, an undrifted one does not; /metrics
passes promtool; a model without a reference profile is refused unless --no-monitor --reason;
hostile input (malformed JSON, huge bodies, wrong shapes, NaN, slow clients) gets 4xx and the
server stays up."""
import csv
import hashlib
import http.client
import json
import math
import os
import pathlib
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'
START_TIMEOUT_S = 30
IRIS_COLS = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)']

CASES = [
    # (dataset, classification?, learner, params)
    ('iris', True, 'logistic', {'C': '1.0'}),
    ('iris', True, 'mlp', {'hidden': '8', 'epochs': '10'}),
    ('breast_cancer', True, 'xgboost', {'max_depth': '3', 'num_round': '10'}),
    ('diabetes', False, 'linear', {}),
    ('diabetes', False, 'ridge', {}),
    ('diabetes', False, 'mlp', {'hidden': '8', 'epochs': '10', 'task': 'regression'}),
    ('diabetes', False, 'xgboost', {'max_depth': '2', 'num_round': '10'}),
    ('iris', True, 'svc', {}),
    ('iris', True, 'nusvc', {'probability': 'true'}),
    ('iris', True, 'tree', {'max_depth': '3'}),
    ('iris', True, 'forest', {'n_estimators': '10'}),
    ('iris', True, 'knn', {}),
    ('iris', True, 'gnb', {}),
    ('diabetes', False, 'svr', {}),
    ('diabetes', False, 'nusvr', {}),
    ('diabetes', False, 'tree', {'max_depth': '3', 'task': 'regression'}),
    ('diabetes', False, 'forest', {'n_estimators': '10', 'task': 'regression'}),
    ('diabetes', False, 'knn', {'task': 'regression'}),
]


def read_csv(path):
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


class Serve:
    """`cairn serve MODEL --port 0 ...`; stop() sends SIGTERM and returns the exit code."""

    def __init__(self, test, model, *extra, expect_start=True):
        self.stderr_path = test.tmp / ('serve-%s.err' % uuid.uuid4().hex[:6])
        self._err = open(self.stderr_path, 'wb')
        env = dict(os.environ)
        env.pop('CAIRN_STORE', None)
        self.proc = subprocess.Popen(
            [harness.CAIRN_BIN, '--store', test.store, 'serve', str(model), '--port', '0',
             *[str(a) for a in extra]],
            stdout=subprocess.PIPE, stderr=self._err, env=env, cwd=str(test.tmp))
        test.addCleanup(self.stop)
        if not expect_start:
            return
        line = b''
        deadline = time.monotonic() + START_TIMEOUT_S
        while not line.endswith(b'\n') and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        self.line = line.decode(errors='replace')
        marker = 'listening on http://127.0.0.1:'
        if marker not in self.line:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError('cairn serve did not start: %r\n%s' % (self.line, self.stderr()))
        self.port = int(self.line.split(marker)[1].split()[0])
        self.run_id = self.line.split(' run ')[1].split(')')[0]

    def stderr(self):
        if not self._err.closed:
            self._err.flush()
        return self.stderr_path.read_text(errors='replace')

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout=30):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.proc.stdout.close()
            self._err.close()
        return self.proc.returncode

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._err.closed:
            self._err.close()
        return self.proc.returncode

    def request(self, method, path, body=None, content_type='application/json', headers=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        try:
            h = dict(headers or {})
            if body is not None:
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                if content_type:
                    h['Content-Type'] = content_type
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def invoke(self, body, content_type='application/json', expect=200):
        status, headers, data = self.request('POST', '/invocations', body, content_type)
        if status != expect:
            raise AssertionError('POST /invocations gave %d, expected %d: %s'
                                 % (status, expect, data[:500]))
        return headers, json.loads(data) if data.startswith(b'{') else data.decode()


class ServeTest(harness.CairnTest):
    def train(self, dataset, classification, learner, params=None, name=None, extra=''):
        name = name or '%s-%s' % (dataset, learner)
        path = DATA / ('%s.csv' % dataset) if isinstance(dataset, str) else dataset
        lines = ['name: %s' % name, 'experiment: serve', 'seed: 3',
                 'data: {path: %s, label: target%s}'
                 % (path, ', categorical: [target]' if classification else ''),
                 'split: {test: 0.2, val: 0.2}', 'learner:', '  name: %s' % learner]
        if params:
            lines.append('  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()))
        lines.append('bootstrap: 20')
        cfg = self.tmp / ('%s.yaml' % name)
        cfg.write_text('\n'.join(lines) + '\n' + extra)
        res = self.cairn_json('train', '--json', '--config', cfg)
        return res['run_id'], pathlib.Path(res['artifact_dir'])

    def val_rows(self, dataset, art):
        """The validation rows (features only) and the learner's predictions on them."""
        header, rows = read_csv(DATA / ('%s.csv' % dataset))
        _, preds = read_csv(art / 'predictions' / 'val.csv')
        feats = [c for c in header if c != 'target']
        data = [[float(rows[int(p[0])][header.index(c)]) for c in feats] for p in preds]
        return feats, data, [p[2] for p in preds]

    def assertPredictions(self, got, want, what):
        self.assertEqual(len(got), len(want), what)
        for i, (g, w) in enumerate(zip(got, want)):
            try:
                wf = float(w)
            except ValueError:
                self.assertEqual(str(g), w, '%s row %d' % (what, i))
                continue
            self.assertTrue(math.isclose(float(g), wf, rel_tol=1e-9, abs_tol=1e-12),
                            '%s row %d: %r != %r' % (what, i, g, w))


class Predictions(ServeTest):
    def test_every_learner_matches_its_own_predictions(self):
        for dataset, classification, learner, params in CASES:
            with self.subTest(dataset=dataset, learner=learner):
                run_id, art = self.train(dataset, classification, learner, params)
                feats, data, want = self.val_rows(dataset, art)
                srv = Serve(self, 'runs:/%s/model' % run_id)
                headers, out = srv.invoke({'dataframe_split': {'columns': feats, 'data': data}})
                self.assertPredictions(out['predictions'], want, learner)
                self.assertEqual(headers['X-Cairn-Model'], 'run-%s/%s' % (run_id[:8], run_id))
                if classification:  # numeric class labels come back as numbers, as MLflow's
                    self.assertTrue(all(isinstance(p, (int, float)) for p in out['predictions']))
                self.assertEqual(srv.stop(), 0)

    def test_model_file_and_registry_alias(self):
        run_id, art = self.train('iris', True, 'logistic')
        feats, data, want = self.val_rows('iris', art)
        srv = Serve(self, art / 'model' / 'model.cairn')
        headers, out = srv.invoke({'inputs': data})
        self.assertPredictions(out['predictions'], want, 'file')
        digest = hashlib.sha256((art / 'model' / 'model.cairn').read_bytes()).hexdigest()
        self.assertEqual(headers['X-Cairn-Model'], 'model/' + digest[:12])
        srv.stop()
        self.cairn('model', 'register', '--name', 'irises', '--run', run_id)
        self.cairn('model', 'alias', 'irises', 'champion', '1')
        for uri in ('models:/irises@champion', 'models:/irises/1'):
            srv = Serve(self, uri)
            headers, out = srv.invoke({'inputs': data})
            self.assertPredictions(out['predictions'], want, uri)
            self.assertEqual(headers['X-Cairn-Model'], 'irises/1')
            status, _, body = srv.request('GET', '/v2/models/irises')
            self.assertEqual(status, 200)
            meta = json.loads(body)
            self.assertEqual(meta['versions'], ['1'])
            self.assertEqual([i['name'] for i in meta['inputs']], IRIS_COLS)
            srv.stop()
        for bad, text in (('models:/irises@nobody', 'nobody'), ('models:/nope/1', 'nope'),
                          ('runs:/%s' % run_id, 'names no artifact'),
                          (self.tmp / 'missing.cairn', 'not found')):
            srv = Serve(self, bad, expect_start=False)
            self.assertEqual(srv.wait(), 1)
            self.assertIn(text, srv.stderr())


class Formats(ServeTest):
    def setUp(self):
        super().setUp()
        self.run_id, art = self.train('iris', True, 'logistic')
        self.feats, self.data, self.want = self.val_rows('iris', art)
        self.srv = Serve(self, 'runs:/%s/model' % self.run_id, '--name', 'iris')

    def preds(self, body, content_type='application/json'):
        return self.srv.invoke(body, content_type)[1]['predictions']

    def error(self, body, status=400, mentions=(), content_type='application/json',
              path='/invocations'):
        got, headers, data = self.srv.request('POST', path, body, content_type)
        self.assertEqual(got, status, data[:300])
        self.assertIn('X-Cairn-Model', headers)
        text = data.decode()
        for m in mentions:
            self.assertIn(m, text)
        return text

    def test_every_input_format_agrees(self):
        f, d, want = self.feats, self.data, self.want
        records = [dict(zip(f, r)) for r in d]
        bodies = {
            'dataframe_split': {'dataframe_split': {'columns': f, 'data': d, 'index': list(range(len(d)))}},
            'split without columns': {'dataframe_split': {'data': d}},
            'dataframe_records': {'dataframe_records': records},
            'instances rows': {'instances': d},
            'instances objects': {'instances': records},
            'inputs columnar': {'inputs': {c: [r[i] for r in d] for i, c in enumerate(f)}},
            'inputs rows': {'inputs': d},
            'with params': {'inputs': d, 'params': {'x': 1}},
            'reordered, extra column': {'dataframe_split': {
                'columns': ['extra'] + f[::-1], 'data': [['z'] + r[::-1] for r in d]}},
        }
        for name, body in bodies.items():
            with self.subTest(format=name):
                self.assertPredictions(self.preds(body), want, name)
        csv_text = ','.join('"%s"' % c for c in f) + '\n' + ''.join(
            ','.join(repr(v) for v in r) + '\n' for r in d)
        self.assertPredictions(self.preds(csv_text, 'text/csv'), want, 'csv')
        self.assertPredictions(self.preds(csv_text, 'text/csv; charset=utf-8'), want, 'csv utf-8')
        self.assertEqual(self.preds({'inputs': []}), [])
        # Open Inference Protocol V2: one matrix, or one tensor per feature
        for name, body in {
            'matrix': {'id': 'q1', 'inputs': [{'name': 'x', 'shape': [len(d), 4],
                                                'datatype': 'FP64', 'data': d}]},
            'flat matrix': {'id': 'q1', 'inputs': [{'name': 'x', 'shape': [len(d), 4],
                                                     'datatype': 'FP32',
                                                     'data': [v for r in d for v in r]}]},
            'per feature': {'id': 'q1', 'inputs': [
                {'name': c, 'shape': [len(d), 1], 'datatype': 'FP64', 'data': [r[i] for r in d]}
                for i, c in enumerate(f)]},
        }.items():
            with self.subTest(v2=name):
                for path in ('/v2/models/iris/infer', '/v2/models/iris/versions/%s/infer'
                             % self.run_id):
                    status, headers, data = self.srv.request('POST', path, body)
                    self.assertEqual(status, 200, data)
                    out = json.loads(data)
                    self.assertEqual(out['model_name'], 'iris')
                    self.assertEqual(out['model_version'], self.run_id)
                    self.assertEqual(out['id'], 'q1')
                    o = out['outputs'][0]
                    self.assertEqual((o['name'], o['datatype'], o['shape']),
                                     ('predict', 'BYTES', [len(d)]))
                    self.assertPredictions(o['data'], want, name)

    def test_health_version_and_metadata(self):
        for path in ('/ping', '/health'):
            status, headers, body = self.srv.request('GET', path)
            self.assertEqual((status, body), (200, b'\n'))
            self.assertEqual(headers['X-Cairn-Model'], 'iris/%s' % self.run_id)
        status, _, body = self.srv.request('GET', '/version')
        self.assertEqual(status, 200)
        self.assertRegex(body.decode(), r'^\d+\.\d+\.\d+')
        for path in ('/v2/health/live', '/v2/health/ready', '/v2/models/iris/ready',
                     '/v2/models/iris/versions/%s/ready' % self.run_id):
            self.assertEqual(self.srv.request('GET', path)[0], 200, path)
        status, _, body = self.srv.request('GET', '/v2')
        self.assertEqual(json.loads(body)['name'], 'cairn')
        meta = json.loads(self.srv.request('GET', '/v2/models/iris')[2])
        self.assertEqual(meta['outputs'][0]['datatype'], 'BYTES')
        self.assertEqual([(i['name'], i['datatype'], i['shape']) for i in meta['inputs']],
                         [(c, 'FP64', [-1]) for c in IRIS_COLS])
        self.assertEqual(self.srv.request('GET', '/v2/models/other')[0], 404)
        self.assertEqual(self.srv.request('GET', '/v2/models/iris/versions/9/ready')[0], 404)
        self.assertEqual(self.srv.request('GET', '/nothing')[0], 404)
        status, headers, _ = self.srv.request('GET', '/invocations')
        self.assertEqual((status, headers['Allow']), (405, 'POST'))

    def test_errors_name_the_problem(self):
        f, d = self.feats, self.data
        row = dict(zip(f, d[0]))
        self.error({'dataframe_split': {'columns': f[1:], 'data': [r[1:] for r in d]}},
                   mentions=("missing column 'sepal length (cm)'",))
        self.error({'dataframe_records': [dict(row, **{'petal width (cm)': 'wide'})]},
                   mentions=("column 'petal width (cm)' row 0", "expected a number",
                             "'wide'"))
        self.error({'dataframe_records': [dict(row, **{'petal width (cm)': True})]},
                   mentions=("column 'petal width (cm)'", 'a boolean'))
        nan = json.dumps({'inputs': [d[0][:3] + [float('nan')]]})
        self.assertIn('NaN', nan)  # Python's json writes a bare NaN
        self.error(nan, mentions=("column 'petal width (cm)' row 0 is missing",
                                  "'logistic' does not take missing values"))
        self.error({'inputs': [d[0][:3] + [None]]}, mentions=('is missing',))
        self.error(json.dumps({'inputs': [d[0][:3] + [float('inf')]]}),
                   mentions=('Infinity is not a finite number',))
        self.error({'inputs': [d[0][:3] + [1e308]]}, status=200)  # huge but finite
        self.error('{"inputs": [[1, 2, 3, 1e999]]}', mentions=('malformed JSON',))
        self.error({'inputs': [d[0][:3]]}, mentions=('holds 3 values; expected 4',))
        self.error({'inputs': {'a': [1, 2], 'b': [1]}}, mentions=('every column needs one per row',))
        self.error([d[0]], mentions=('is a list',))
        self.error({'inputs': d, 'instances': d}, mentions=('exactly one of',))
        self.error({'data': d}, mentions=('no input format',))
        self.error({'dataframe_split': {'columns': f, 'data': [d[0]], 'x': 1}}, status=200)
        self.error({'dataframe_split': {'columns': f + [f[0]], 'data': [d[0] + [1]]}},
                   mentions=('appears twice',))
        self.error('{"inputs": [[1, 2', mentions=('malformed JSON',))
        self.error('x,y\n1,2\n', content_type='text/csv', mentions=('missing columns',))
        self.error(','.join(f) + '\n1,2,3,abc\n', content_type='text/csv',
                   mentions=("'abc' is not a number",))
        self.error({'inputs': d}, status=415, content_type='text/plain', mentions=('text/csv',))
        self.error({'inputs': d}, status=415, content_type='application/json; format=pandas-split',
                   mentions=('MLflow 2.0',))
        self.error({'inputs': d}, status=415, content_type='application/json; charset=latin-1')
        self.error({'inputs': d}, status=415, content_type=None)
        v2 = '/v2/models/iris/infer'
        err = self.error({'inputs': [{'name': 'x', 'shape': [1, 3], 'datatype': 'FP64',
                                      'data': [1, 2, 3]}]}, path=v2, mentions=('3 columns',))
        self.assertIn('"error"', err)
        self.error({'inputs': [{'name': 'x', 'shape': [2, 4], 'datatype': 'FP64',
                                'data': [1, 2, 3]}]}, path=v2, mentions=('the shape says 8',))
        self.error({'inputs': [{'name': 'x', 'shape': [1, 4], 'datatype': 'FP99',
                                'data': [1, 2, 3, 4]}]}, path=v2, mentions=('datatype',))
        self.error({'inputs': [{'name': f[0], 'shape': [1], 'datatype': 'FP64', 'data': [1]}]},
                   path=v2, mentions=('missing columns',))
        self.error({'inputs': []}, path=v2, mentions=('non-empty',))
        self.error({'inputs': [{'name': 'x', 'shape': [1, 4], 'datatype': 'FP64',
                                'data': [1, 2, 3, 4]}]}, path='/v2/models/other/infer',
                   status=404, mentions=("'other' is not served here",))
        self.assertTrue(self.srv.alive())

    def test_concurrent_requests_each_get_their_answer(self):
        """Inline predictions when idle, batches under load; and with --batch-delay-us every
        request waits for company, so batches hold several requests: each gets its rows."""
        self.concurrent(self.srv)
        batching = Serve(self, 'runs:/%s/model' % self.run_id, '--batch-delay-us', '20000',
                         '--max-batch-rows', '12')
        self.concurrent(batching)
        text = batching.request('GET', '/metrics')[2].decode()

        def value(prefix):
            return float([l for l in text.splitlines() if l.startswith(prefix)][0].rsplit(' ', 1)[1])
        batches = value('cairn_serve_batch_rows_count{')
        self.assertEqual(value('cairn_serve_batched_requests_total{'), 320)
        self.assertLess(batches, 320)  # several requests per batch
        self.assertEqual(value('cairn_serve_batch_rows_bucket{model="run-%s",version="%s",le="16"}'
                               % (self.run_id[:8], self.run_id)), batches)  # <= 12 rows each

    def concurrent(self, srv):
        rows = self.data
        errors = []

        def client(k):
            try:
                conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=30)
                for i in range(40):
                    j = (k * 7 + i) % len(rows)
                    n = 1 + (i % 3)
                    batch = [rows[(j + m) % len(rows)] for m in range(n)]
                    conn.request('POST', '/invocations', json.dumps({'inputs': batch}),
                                 {'Content-Type': 'application/json'})
                    r = conn.getresponse()
                    got = json.loads(r.read())['predictions']
                    want = [self.want[(j + m) % len(rows)] for m in range(n)]
                    if [str(g) for g in got] != want:
                        errors.append((k, i, got, want))
                conn.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        # A request is counted once its answer is sent, which a client can read first: wait
        # (briefly) for the last few counts rather than read them once.
        deadline = time.monotonic() + 10
        while True:
            metrics = srv.request('GET', '/metrics')[2].decode()
            count = [l for l in metrics.splitlines()
                     if l.startswith('cairn_serve_requests_total') and 'invocations' in l
                     and 'code="200"' in l]
            value = float(count[0].rsplit(' ', 1)[1]) if count else 0
            if value >= 320 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(value, 320)


class Categorical(ServeTest):
    def test_categorical_features_and_missing_values(self):
        """A categorical feature (numbers as categories too) and xgboost, which takes missing
        values: null and NaN are accepted, served predictions equal the learner's."""
        header, rows = read_csv(DATA / 'iris.csv')
        rnd = random.Random(1)
        path = self.tmp / 'iris_cat.csv'
        with open(path, 'w', newline='') as fh:
            w = csv.writer(fh)
            w.writerow(header[:4] + ['size', 'target'])
            for r in rows:
                size = 'big' if float(r[2]) > 4 else ('small' if rnd.random() < 0.7 else '7')
                w.writerow(r[:4] + [size, r[4]])
        run_id, art = self.train(path, True, 'xgboost', {'num_round': '10'}, name='cat',
                                 extra='')
        _, preds = read_csv(art / 'predictions' / 'val.csv')
        _, data = read_csv(path)
        srv = Serve(self, 'runs:/%s/model' % run_id)
        recs = []
        for p in preds:
            r = data[int(p[0])]
            rec = {c: float(v) for c, v in zip(header[:4], r[:4])}
            rec['size'] = int(r[4]) if r[4] == '7' else r[4]  # a category sent as a number
            recs.append(rec)
        _, out = srv.invoke({'dataframe_records': recs})
        self.assertPredictions(out['predictions'], [p[2] for p in preds], 'categorical')
        meta = json.loads(srv.request('GET', '/v2/models/run-%s' % run_id[:8])[2])
        self.assertEqual(meta['inputs'][4], {'name': 'size', 'datatype': 'BYTES', 'shape': [-1]})
        missing = dict(recs[0], **{'sepal width (cm)': None})
        del missing['size']
        nan = json.dumps({'dataframe_records': [missing, dict(recs[1], **{
            'petal width (cm)': float('nan')})]})
        _, out = srv.invoke(nan)
        self.assertEqual(len(out['predictions']), 2)
        srv.invoke({'dataframe_records': [dict(recs[0], size=[1])]}, expect=400)
        srv.stop()


class Monitoring(ServeTest):
    def stream(self, scale, seed):
        header, rows = read_csv(DATA / 'breast_cancer.csv')
        feats = header[:-1]
        rnd = random.Random(seed)
        data = [[float(v) * scale for v in r[:-1]] for r in rows]
        rnd.shuffle(data)
        return feats, data

    def history(self, run_id, key):
        out = self.cairn_json('runs', 'history', run_id, key, '--json')
        return [m['value'] for m in out['metrics']]

    def wait_checks(self, srv, n_checks):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = srv.request('GET', '/metrics')[2].decode()
            for line in text.splitlines():
                if line.startswith('cairn_serve_drift_checks_total') and \
                        float(line.rsplit(' ', 1)[1]) >= n_checks:
                    return text
            time.sleep(0.2)
        self.fail('no drift check within 30 s:\n' + srv.stderr())

    def test_drifted_stream_is_recorded_undrifted_is_not(self):
        run_id, _ = self.train('breast_cancer', True, 'logistic')
        results = {}
        for label, scale in (('same', 1.0), ('shifted', 1.4)):
            srv = Serve(self, 'runs:/%s/model' % run_id, '--monitor-interval', '1',
                        '--window', '400', '--min-rows', '100')
            feats, data = self.stream(scale, 7)
            for i in range(0, 400, 50):  # 8 requests of 50 rows
                srv.invoke({'dataframe_split': {'columns': feats, 'data': data[i:i + 50]}})
            text = self.wait_checks(srv, 1)
            self.assertEqual(srv.stop(), 0)
            results[label] = (srv.run_id, text)
        same_run, same_text = results['same']
        shift_run, shift_text = results['shifted']
        self.assertNotEqual(same_run, shift_run)

        def gauge(text, name):
            return [float(l.rsplit(' ', 1)[1]) for l in text.splitlines()
                    if l.startswith(name + '{')]
        self.assertEqual(gauge(same_text, 'cairn_serve_drift_detected'), [0.0])
        self.assertEqual(gauge(shift_text, 'cairn_serve_drift_detected'), [1.0])
        self.assertLess(gauge(same_text, 'cairn_serve_drift_share')[0], 0.5)
        self.assertGreater(gauge(shift_text, 'cairn_serve_drift_share')[0], 0.5)
        self.assertIn('feature="mean radius",test="ks"', shift_text)
        # the monitoring runs hold the history, searchable like any metric
        self.assertEqual(set(self.history(same_run, 'drift.dataset_drift')), {0.0})
        self.assertEqual(set(self.history(shift_run, 'drift.dataset_drift')), {1.0})
        self.assertLess(max(self.history(shift_run, 'drift.score.mean radius')), 0.05)
        self.assertGreater(min(self.history(same_run, 'drift.score.mean radius')), 0.05)
        found = self.cairn_json('runs', 'search', '--experiment',
                                'monitoring/run-%s' % run_id[:8],
                                '--filter', 'metrics.`drift.dataset_drift` > 0', '--json')
        ids = [r['run_id'] for r in found['runs']]
        self.assertEqual(ids, [shift_run])
        run = self.cairn_json('runs', 'show', shift_run, '--json')
        self.assertEqual(run['status'], 'FINISHED')
        self.assertEqual(run['tags']['cairn.serve.monitor'], 'on')
        self.assertEqual(run['tags']['cairn.serve.model'], 'run-%s/%s' % (run_id[:8], run_id))

    def test_metrics_pass_promtool(self):
        run_id, art = self.train('iris', True, 'logistic')
        feats, data, _ = self.val_rows('iris', art)
        srv = Serve(self, 'runs:/%s/model' % run_id, '--monitor-interval', '1',
                    '--min-rows', '10', '--name', 'we"ird\\name')
        srv.invoke({'dataframe_split': {'columns': feats, 'data': data}})
        srv.invoke({'inputs': [[1]]}, expect=400)
        text = self.wait_checks(srv, 1)
        for name in ('cairn_serve_requests_total', 'cairn_serve_errors_total',
                     'cairn_serve_request_duration_seconds_bucket', 'cairn_serve_batch_rows_bucket',
                     'cairn_serve_in_flight_requests', 'cairn_serve_model_load_seconds',
                     'cairn_serve_drift_score', 'cairn_serve_drift_detected'):
            self.assertIn('\n' + name + '{', text)
        self.assertIn('model="we\\"ird\\\\name"', text)
        promtool = shutil.which('promtool')
        if not promtool:
            self.skipTest('promtool is not installed (Debian package prometheus; '
                          'scripts/install-deps.sh installs it): /metrics not validated')
        proc = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_no_reference_is_refused_unless_a_reason_is_given(self):
        run_id, art = self.train('iris', True, 'logistic')
        raw = (art / 'model' / 'model.cairn').read_bytes()
        n = struct.unpack('<Q', raw[12:20])[0]
        meta = json.loads(raw[20:20 + n])
        del meta['drift_profile']
        text = json.dumps(meta).encode()
        body = raw[:12] + struct.pack('<Q', len(text)) + text + raw[20 + n:-32]
        old = self.tmp / 'old.cairn'
        old.write_bytes(body + hashlib.sha256(body).digest())
        srv = Serve(self, old, expect_start=False)
        self.assertEqual(srv.wait(), 1)
        err = srv.stderr()
        self.assertIn('no drift reference profile', err)
        self.assertIn('cairn drift reference', err)
        self.assertIn('--no-monitor --reason', err)
        proc = self.cairn('serve', old, '--no-monitor', expect=2)
        self.assertIn('--reason', proc.stderr)
        srv = Serve(self, old, '--no-monitor', '--reason', 'shadow test, no traffic kept')
        srv.invoke({'inputs': [[5.1, 3.5, 1.4, 0.2]]})
        metrics = srv.request('GET', '/metrics')[2].decode()
        self.assertIn('cairn_serve_monitoring_enabled 0', metrics)
        self.assertIn('monitoring off', srv.line)
        srv.stop()
        run = self.cairn_json('runs', 'show', srv.run_id, '--json')
        self.assertEqual(run['tags']['cairn.serve.no_monitor_reason'],
                         'shadow test, no traffic kept')
        self.assertEqual(run['tags']['cairn.serve.monitor'], 'off')


class Hostile(ServeTest):
    def test_hostile_input_gets_4xx_and_the_server_stays_up(self):
        run_id, art = self.train('iris', True, 'logistic')
        feats, data, want = self.val_rows('iris', art)
        srv = Serve(self, 'runs:/%s/model' % run_id, '--max-body', '100000', '--timeout', '3',
                    '--name', 'iris')
        good = {'inputs': data}
        # a slow client holds a connection with half a request
        slow = socket.create_connection(('127.0.0.1', srv.port))
        slow.sendall(b'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
                     b'\r\nContent-Length: 1000\r\n\r\n{"inputs": [[1,')
        bodies = [
            b'', b'{', b'nul', b'[]', b'"x"', b'{"inputs": {}}' * 2, b'\xff\xfe',
            b'{"inputs": ' + b'[' * 5000 + b']' * 5000 + b'}',
            b'{"inputs": [' + b'[1,2,3,4],' * 20000 + b'[1,2,3,4]]}',  # over --max-body
            b'{"dataframe_split": {"columns": 5, "data": [[1]]}}',
            b'{"dataframe_split": {"columns": [1, 2], "data": [[1, 2]]}}',
            b'{"dataframe_split": {"data": 7}}',
            b'{"dataframe_records": [1, 2]}',
            b'{"instances": [{"a": 1}, [1, 2, 3, 4]]}',
            b'{"inputs": [[1, 2, 3, 4], "x"]}',
            b'{"inputs": {"sepal length (cm)": [[1]]}}',
            b'{"inputs": [[NaN, Infinity, -Infinity, 1]]}',
            b'{"inputs": [[1e400, 1, 1, 1]]}',
            b'{"inputs": [["\\u0000", 1, 1, 1]]}',
        ]
        for b in bodies:
            status, _, body = srv.request('POST', '/invocations', b)
            self.assertGreaterEqual(status, 400, b[:60])
            self.assertLess(status, 500, (b[:60], body[:200]))
        status, _, _ = srv.request('POST', '/invocations', b'{"inputs": [' + b'[1,2,3,4],' * 20000
                                   + b'[1,2,3,4]]}')
        self.assertEqual(status, 413)
        for b in (b'{"inputs": [{"name": "x", "shape": [1e12, 4], "datatype": "FP64", "data": []}]}',
                  b'{"inputs": [{"name": "x", "shape": [-1], "datatype": "FP64", "data": []}]}',
                  b'{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "BOOL", '
                  b'"data": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]'
                  b']]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}',
                  b'{"id": 5, "inputs": []}', b'{"inputs": 1}', b'[1]'):
            status, _, body = srv.request('POST', '/v2/models/iris/infer', b)
            self.assertEqual(status, 400, (b[:60], body[:200]))
            self.assertIn(b'"error"', body)
        # still serving, the slow client notwithstanding
        _, out = srv.invoke(good)
        self.assertPredictions(out['predictions'], want, 'after hostile input')
        time.sleep(3.5)  # the idle slow client is dropped after --timeout
        slow.settimeout(5)
        try:
            rest = slow.recv(4096)
        except OSError:
            rest = b''
        self.assertNotIn(b'200 OK', rest)
        slow.close()
        self.assertTrue(srv.alive())
        self.assertEqual(srv.stop(), 0)


if __name__ == '__main__':
    harness.main()

# SPDX-License-Identifier: MIT
"""`cairn serve` with several versions at once, real processes: a 90/10 --route split over
2,000 requests lands within 4 binomial standard deviations; --sticky-header keeps a client on
one version; a --shadow version predicts every request into its JSONL log and never answers;
serving models:/NAME@ALIAS follows the alias: a move under concurrent load swaps versions with
zero failed requests, and answers switch to the new version; /metrics counts requests by
version. Every answer names its version in X-Cairn-Model. Every served version (routed or
shadow) is drift-monitored on its own: a shifted stream sent to the canary shows drift for the
canary only, in /metrics and in the monitoring run's drift.vVERSION.* metrics."""
import http.client
import json
import math
import random
import pathlib
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
from test_serve import DATA, IRIS_COLS, Serve, ServeTest, read_csv  # noqa: E402

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
BODY = json.dumps({'dataframe_split': {'columns': IRIS_COLS, 'data': ROWS}}).encode()


class Client:
    """One keep-alive connection (the server must not count on new connections per request)."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)

    def invoke(self, headers=None):
        h = {'Content-Type': 'application/json'}
        h.update(headers or {})
        try:
            self.conn.request('POST', '/invocations', body=BODY, headers=h)
            r = self.conn.getresponse()
            return r.status, r.getheader('X-Cairn-Model'), r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
            raise

    def close(self):
        self.conn.close()


class Routing(ServeTest):
    def setUp(self):
        super().setUp()
        # Three registered versions of one model (different learners: different answers).
        for learner, params in (('logistic', {'C': '1.0'}), ('logistic', {'C': '0.01'}),
                                ('mlp', {'hidden': '4', 'epochs': '5'})):
            run_id, _ = self.train('iris', True, learner, params)
            self.cairn('model', 'register', '--name', 'irises', '--run', run_id)

    def test_weighted_split_is_binomial(self):
        srv = Serve(self, 'models:/irises', '--route', 'v1=90,v2=10', '--workers', '4')
        c = Client(srv.port)
        n = 2000
        counts = {}
        for _ in range(n):
            status, model, body = c.invoke()
            self.assertEqual(status, 200, body[:300])
            self.assertEqual(len(json.loads(body)['predictions']), len(ROWS))
            counts[model] = counts.get(model, 0) + 1
        c.close()
        self.assertEqual(set(counts), {'irises/1', 'irises/2'}, counts)
        sd = math.sqrt(n * 0.1 * 0.9)
        self.assertLess(abs(counts['irises/2'] - n * 0.1), 4 * sd, counts)
        status, _, text = srv.request('GET', '/metrics')
        text = text.decode()
        for v in ('1', '2'):
            line = ('cairn_serve_version_requests_total{model="irises",version="%s",'
                    'role="route"} %d' % (v, counts['irises/' + v]))
            self.assertIn(line, text)
        promtool = shutil.which('promtool')
        if promtool:  # test_serve.py skips loudly without it; here the split is the point
            proc = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                                  capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Open Inference V2 can name a routed version; it alone answers then.
        v2 = {'inputs': [{'name': 'x', 'shape': [3, 4], 'datatype': 'FP64', 'data': ROWS}]}
        for v in ('1', '2'):
            for path in ('/v2/models/irises/versions/%s/infer' % v,
                         '/v2/models/irises/versions/%s' % v):
                status, headers, body = srv.request('POST' if path.endswith('infer') else 'GET',
                                                    path, v2 if path.endswith('infer') else None)
                self.assertEqual(status, 200, body[:300])
                self.assertEqual(headers['X-Cairn-Model'], 'irises/' + v)
                out = json.loads(body)
                self.assertEqual(out.get('model_version', (out.get('versions') or [''])[0]), v)
        status, headers, body = srv.request('POST', '/v2/models/irises/versions/3/infer', v2)
        self.assertEqual(status, 404)
        self.assertEqual(headers['X-Cairn-Model'], 'irises/1')
        self.assertEqual(srv.stop(), 0)

    def test_sticky_header_keeps_a_client_on_one_version(self):
        srv = Serve(self, 'models:/irises', '--route', 'v1=50,v3=50',
                    '--sticky-header', 'X-User')
        c = Client(srv.port)
        seen = set()
        for user in range(40):
            got = {c.invoke({'X-User': 'user-%d' % user})[1] for _ in range(10)}
            self.assertEqual(len(got), 1, (user, got))
            seen |= got
        # Forty users over a 50/50 split reach both versions (a failure chance of 2**-39).
        self.assertEqual(seen, {'irises/1', 'irises/3'})
        # Without the header, requests spread over both.
        free = {c.invoke()[1] for _ in range(60)}
        self.assertEqual(free, {'irises/1', 'irises/3'})
        c.close()
        self.assertEqual(srv.stop(), 0)

    def test_shadow_answers_are_logged_not_returned(self):
        log = self.tmp / 'shadow.jsonl'
        srv = Serve(self, 'models:/irises/1', '--shadow', 'v3', '--shadow-log', log)
        c = Client(srv.port)
        answers = [c.invoke() for _ in range(25)]
        c.close()
        for status, model, body in answers:
            self.assertEqual(status, 200)
            self.assertEqual(model, 'irises/1')
            self.assertEqual(list(json.loads(body)), ['predictions'])
        lines = [json.loads(x) for x in log.read_text().splitlines()]
        self.assertEqual(len(lines), 25)
        for line in lines:
            self.assertEqual(line['served_by'], 'irises/1')
            self.assertEqual(line['shadow'], 'irises/3')
            self.assertEqual(len(line['predictions']), len(ROWS))
        # The shadow's answers are its own: what version 3 answers when served alone.
        status, _, text = srv.request('GET', '/metrics')
        self.assertIn('cairn_serve_version_requests_total{model="irises",version="3",'
                      'role="shadow"} 25', text.decode())
        self.assertEqual(srv.stop(), 0)
        alone = Serve(self, 'models:/irises/3')
        _, out = alone.invoke(BODY)
        self.assertEqual(out['predictions'], lines[0]['predictions'])
        alone.stop()
        # The default log is an artifact of the monitoring run.
        srv = Serve(self, 'models:/irises/1', '--shadow', '2')
        self.assertEqual(Client(srv.port).invoke()[1], 'irises/1')
        run_id = srv.run_id
        self.assertEqual(srv.stop(), 0)
        logs = [p for p in self.tmp.rglob('predictions.jsonl')
                if p.parent.name == 'shadow' and run_id in str(p)]
        self.assertEqual(len(logs), 1, list(self.tmp.rglob('predictions.jsonl')))
        self.assertEqual(json.loads(logs[0].read_text())['shadow'], 'irises/2')

    def test_alias_move_under_load_swaps_without_failures(self):
        self.cairn('model', 'alias', 'irises', 'prod', '1')
        srv = Serve(self, 'models:/irises@prod', '--poll-interval', '0.5', '--workers', '8')
        stop = threading.Event()
        failures, seen = [], []
        lock = threading.Lock()

        def client(k):
            c = Client(srv.port)
            while not stop.is_set():
                try:
                    status, model, body = c.invoke()
                except Exception as e:  # a dropped connection is a failed request
                    with lock:
                        failures.append(repr(e))
                    continue
                with lock:
                    if status != 200 or len(json.loads(body)['predictions']) != len(ROWS):
                        failures.append((status, body[:200]))
                    seen.append((time.monotonic(), model, k))
            c.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            moved_at = time.monotonic()
            self.cairn('model', 'alias', 'irises', 'prod', '3')
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with lock:
                    if any(m == 'irises/3' for _, m, _ in seen[-20:]):
                        break
                time.sleep(0.1)
            time.sleep(1.0)  # keep the load on while the old version drains and is freed
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(failures, [])
        models = [m for _, m, _ in seen]
        self.assertIn('irises/1', models)
        self.assertIn('irises/3', models)
        # Once a client gets an answer from version 3, version 1 never answers it again (one
        # swap, no flapping). Per client: a request another client sent before the swap may
        # still be predicted by version 1 after many of the others' (a slow build: ASan).
        for k in range(4):
            mine = [m for _, m, kk in seen if kk == k]
            if 'irises/3' in mine:
                self.assertNotIn('irises/1', mine[mine.index('irises/3'):], k)
        swapped = [t for t, m, _ in seen if m == 'irises/3'][0]
        self.assertLess(swapped - moved_at, 10)
        self.assertGreater(len(seen), 100)
        deadline = time.monotonic() + 10
        while 'now serving irises/3' not in srv.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn('now serving irises/3', srv.stderr())
        status, _, body = srv.request('GET', '/v2/models/irises')
        self.assertEqual(json.loads(body)['versions'], ['3'])
        self.assertEqual(srv.stop(), 0)

    def test_bad_routes_are_refused(self):
        for args, text in ((('models:/irises', '--route', 'v1=90,v9=10'), 'irises'),
                           (('models:/irises', '--route', 'v1'), 'VERSION=WEIGHT'),
                           (('models:/irises', '--route', 'v1=0'), 'weight 0'),
                           (('models:/irises@prod', '--route', 'v1=1'), 'alias'),
                           (('models:/irises/1', '--shadow', 'vx'), '--shadow')):
            srv = Serve(self, *args, expect_start=False)
            self.assertEqual(srv.wait(), 1, args)
            self.assertIn(text, srv.stderr(), args)
        self.cairn_error('serve', 'models:/irises/1', '--sticky-header', 'X-User', expect=2,
                         mentions=('--route',))



class VersionMonitoring(ServeTest):
    def setUp(self):
        super().setUp()
        for c in ('1.0', '0.1', '0.5'):
            run_id, _ = self.train('breast_cancer', True, 'logistic', {'C': c})
            self.cairn('model', 'register', '--name', 'tumours', '--run', run_id)

    def gauges(self, text, name):
        """{version: value} of a per-version gauge (no feature label)."""
        out = {}
        for line in text.splitlines():
            if line.startswith(name + '{'):
                labels = dict(kv.split('=', 1) for kv in line[len(name) + 1:line.index('}')]
                              .replace('"', '').split(','))
                out[labels['version']] = float(line.rsplit(' ', 1)[1])
        return out

    def test_canary_drift_is_its_own(self):
        srv = Serve(self, 'models:/tumours', '--route', 'v1=90,v2=10', '--shadow', 'v3',
                    '--monitor-interval', '1', '--window', '400', '--min-rows', '100')
        header, rows = read_csv(DATA / 'breast_cancer.csv')
        data = [[float(v) for v in r[:-1]] for r in rows]
        random.Random(5).shuffle(data)

        def infer(version, scale):
            for i in range(0, 400, 50):
                chunk = [[v * scale for v in r] for r in data[i:i + 50]]
                body = {'inputs': [{'name': 'x', 'shape': [len(chunk), len(chunk[0])],
                                    'datatype': 'FP64', 'data': chunk}]}
                status, headers, out = srv.request(
                    'POST', '/v2/models/tumours/versions/%s/infer' % version, body)
                self.assertEqual(status, 200, out[:300])
                self.assertEqual(headers['X-Cairn-Model'], 'tumours/' + version)
        infer('1', 1.0)  # the primary: the training distribution (the shadow sees it too)
        infer('2', 1.4)  # the canary: every feature shifted (the shadow's last rows too)
        deadline = time.monotonic() + 30
        while True:
            text = srv.request('GET', '/metrics')[2].decode()
            checks = self.gauges(text, 'cairn_serve_drift_checks_total')
            if all(checks.get(v, 0) >= 1 for v in '123'):
                break
            self.assertLess(time.monotonic(), deadline, 'no check of every version:\n' + text)
            time.sleep(0.2)
        # Versions 1 and 2 saw their own streams only, whichever rows a check took.
        detected = self.gauges(text, 'cairn_serve_drift_detected')
        self.assertEqual((detected['1'], detected['2']), (0.0, 1.0), text)
        promtool = shutil.which('promtool')
        if promtool:
            proc = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                                  capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # One HELP per family, every version's samples under it.
        self.assertEqual(text.count('# HELP cairn_serve_drift_detected '), 1)
        self.assertIn('cairn_serve_drift_score{model="tumours",version="2",'
                      'feature="mean radius",test="ks"}', text)
        run_id = srv.run_id
        self.assertEqual(srv.stop(), 0)

        def history(key):
            out = self.cairn_json('runs', 'history', run_id, key, '--json')
            return [m['value'] for m in sorted(out['metrics'], key=lambda m: m['step'])]
        self.assertEqual(set(history('drift.v1.dataset_drift')), {0.0})
        self.assertEqual(set(history('drift.v2.dataset_drift')), {1.0})
        self.assertEqual(set(history('drift.v2.drifted.mean radius')), {1.0})
        # The shadow's window ends with the shifted rows: its last check (at the stop at the
        # latest) found drift.
        self.assertEqual(history('drift.v3.dataset_drift')[-1], 1.0)

if __name__ == '__main__':
    harness.main()

# SPDX-License-Identifier: MIT
"""The group commit of `cairn server`: log-metric and log-batch requests arriving together are
committed together, yet each keeps its own answer. Many concurrent clients mix good requests
with bad ones (an unknown run, a deleted run, a param that would change, an invalid key); every
bad one gets its own 400/404 and stores nothing, every good one gets 200 and its points are
there, once. A 200 means committed: the server killed with SIGKILL right after the answers has
lost nothing of them. Runs on SQLite and, under scripts/with-pg.sh, on PostgreSQL."""
import http.client
import json
import os
import signal
import sys
import threading
import urllib.parse

from harness import CAIRN_BIN, SOURCE_DIR, CairnTest, main

sys.path.insert(0, str(SOURCE_DIR / 'bench'))
import bench_server  # noqa: E402

API = '/api/2.0/mlflow/'
N_CLIENTS = 16
ROUNDS = 12


def post(conn, path, body):
    conn.request('POST', API + path, body=json.dumps(body),
                 headers={'Content-Type': 'application/json'})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b'{}')


class ServerGroupCommitTest(CairnTest):
    def setUp(self):
        super().setUp()
        probe = bench_server.subprocess.run([CAIRN_BIN, 'server', '--help'],
                                            capture_output=True, text=True, timeout=60)
        # Every build has `cairn server`: a failing probe is a broken binary (a crash at load
        # time, say), never a reason to skip.
        self.assertEqual(probe.returncode, 0,
                         'cairn server --help failed:\n' + probe.stdout + probe.stderr)

    def start(self):
        server = bench_server.start_cairn_server(CAIRN_BIN, self.store, cwd=self.tmp,
                                                 extra=['--workers', '2'])
        self.addCleanup(server.stop)
        return server

    def test_each_request_keeps_its_answer(self):
        server = self.start()
        rest = bench_server.Rest(server.url)
        exp = bench_server.create_experiment(rest, 'group')
        good, other, gone = bench_server.create_runs(rest, exp, 3, prefix='g')
        rest.post('runs/log-batch', {'run_id': other, 'params': [{'key': 'lr', 'value': '1'}]})
        rest.post('runs/delete', {'run_id': gone})
        rest.close()
        url = urllib.parse.urlsplit(server.url)
        failures = []
        expected = {good: set(), other: set()}
        lock = threading.Lock()

        def client(c):
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            try:
                for r in range(ROUNDS):
                    step = c * 1000 + r * 10
                    cases = [
                        # (path, body, status, run whose points it stores)
                        ('runs/log-metric', {'run_id': good, 'key': 'm', 'value': 1.5,
                                             'timestamp': 1, 'step': step}, 200, good),
                        ('runs/log-batch', {'run_id': other, 'params': [
                            {'key': 'lr', 'value': '1'}], 'metrics': [
                            {'key': 'm', 'value': 2, 'timestamp': 1, 'step': step + i}
                            for i in range(3)]}, 200, other),
                        ('runs/log-metric', {'run_id': 'f' * 32, 'key': 'm', 'value': 1,
                                             'timestamp': 1, 'step': step}, 404, None),
                        ('runs/log-batch', {'run_id': gone, 'metrics': [
                            {'key': 'm', 'value': 1, 'timestamp': 1, 'step': step}]}, 400,
                         None),
                        # Good points beside a param that would change: nothing is stored.
                        ('runs/log-batch', {'run_id': other, 'params': [
                            {'key': 'lr', 'value': '2'}], 'metrics': [
                            {'key': 'm', 'value': 3, 'timestamp': 1, 'step': step + 5}]}, 400,
                         None),
                        ('runs/log-batch', {'run_id': good, 'metrics': [
                            {'key': '../bad', 'value': 1, 'timestamp': 1, 'step': step}]}, 400,
                         None),
                    ]
                    for path, body, want, run in cases[c % 2:] + cases[:c % 2]:
                        status, reply = post(conn, path, body)
                        if status != want:
                            with lock:
                                failures.append((path, body, status, reply))
                        elif want == 200:
                            steps = ([body['step']] if 'step' in body else
                                     [m['step'] for m in body['metrics']])
                            with lock:
                                expected[run].update(steps)
                        elif not reply.get('message') or not reply.get('error_code'):
                            with lock:
                                failures.append(('no error JSON', path, reply))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(c,)) for c in range(N_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertEqual(failures, [])
        # Kill -9 now: every answered point must already be committed.
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        server = self.start()
        rest = bench_server.Rest(server.url)
        for run in (good, other):
            points = bench_server.metric_history(rest, run, 'm')
            steps = [int(p['step']) for p in points]
            self.assertEqual(len(steps), len(set(steps)), 'a point stored twice')
            self.assertEqual(set(steps), expected[run])
        self.assertEqual(len(expected[good]), N_CLIENTS * ROUNDS)
        self.assertEqual(len(expected[other]), N_CLIENTS * ROUNDS * 3)
        # The refused batch's param value never replaced the first one.
        params = rest.get('runs/get', run_id=other)['run']['data']['params']
        self.assertEqual(params, [{'key': 'lr', 'value': '1'}])
        rest.close()
        self.assertEqual(server.stop(), 0)


if __name__ == '__main__':
    main()

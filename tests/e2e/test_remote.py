# SPDX-License-Identifier: MIT
"""Remote mode (docs/remote.md): CAIRN_STORE=http://... makes `cairn run`, `cairn runs`,
`cairn exp`, `cairn model` and a C program using libcairn log to a `cairn server`. Each test
starts its own server on 127.0.0.1 port 0 over a SQLite file, checks what arrived through the
REST API and through the server's own store file, and stops the server."""
import hashlib
import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from harness import BUILD_DIR, CAIRN_BIN, SOURCE_DIR, TIMEOUT_S, CairnTest, main

RUN_ID = re.compile(r'cairn: run ([0-9a-f]{32}) ')


class RemoteTest(CairnTest):

    def setUp(self):
        super().setUp()
        self.server_db = 'sqlite:///' + str(self.tmp / 'server.db').lstrip('/')
        self.tmpdir = self.tmp / 'tmpdir'  # where remote runs stage their files
        self.tmpdir.mkdir()
        self.server = None
        self.port = 0
        self.start_server()
        self.addCleanup(self.stop_server)

    # ---- the server ----

    def start_server(self, port=0):
        """Starts `cairn server` over self.server_db and waits for the line that says where it
        listens (on stdout)."""
        log = open(self.tmp / 'server.log', 'ab')
        self.server = subprocess.Popen(
            [CAIRN_BIN, 'server', '--store', self.server_db, '--port', str(port),
             '--artifacts', str(self.tmp / 'server-artifacts')],
            stdout=subprocess.PIPE, stderr=log, cwd=self.tmp, env=self._env(None))
        log.close()
        line = self.server.stdout.readline()
        m = re.search(rb'http://127\.0\.0\.1:(\d+)', line)
        if not m:
            self.stop_server()
            self.fail('cairn server did not say where it listens: %r\n%s'
                      % (line, (self.tmp / 'server.log').read_text(errors='replace')))
        self.port = int(m.group(1))

    def stop_server(self, sig=signal.SIGTERM):
        if self.server and self.server.poll() is None:
            self.server.send_signal(sig)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.server and self.server.stdout:
            self.server.stdout.close()
        self.server = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def remote(self, *args, **kwargs):
        """Runs cairn with CAIRN_STORE pointing at the server (no --store)."""
        env = {'CAIRN_STORE': self.url, 'CAIRN_HTTP_RETRIES': '2', 'TMPDIR': str(self.tmpdir)}
        env.update(kwargs.pop('env', {}) or {})
        return self.cairn(*args, store=False, env=env, **kwargs)

    def rest(self, path, query=None, body=None, raw=False):
        url = self.url + path + ('?' + urllib.parse.urlencode(query, doseq=True) if query else '')
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method='POST' if data else 'GET',
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = resp.read()
        return payload if raw else json.loads(payload or b'{}')

    def local(self, *args):
        """Reads the server's store file directly (the server may keep running)."""
        return self.cairn_json(*args, store=False, env={'CAIRN_STORE': self.server_db})

    def run_id_of(self, proc):
        m = RUN_ID.search(proc.stderr)
        self.assertIsNotNone(m, proc.stderr)
        return m.group(1)

    # ---- tests ----

    def test_run_logs_to_the_server(self):
        proc = self.remote('run', '--experiment', 'remote', '--',
                           sys.executable, '-c',
                           "print('cairn: step=1 loss=0.5'); print('cairn.param: lr=0.1')")
        run_id = self.run_id_of(proc)
        self.assertIn('FINISHED', proc.stderr)

        rec = self.rest('/api/2.0/mlflow/runs/get', {'run_id': run_id})['run']
        self.assertEqual(rec['info']['status'], 'FINISHED')
        self.assertTrue(rec['info']['artifact_uri'].startswith('mlflow-artifacts:'))
        metrics = {m['key']: m['value'] for m in rec['data']['metrics']}
        self.assertEqual(metrics, {'loss': 0.5})
        params = {p['key']: p['value'] for p in rec['data'].get('params', [])}
        self.assertEqual(params.get('lr'), '0.1')
        history = self.rest('/api/2.0/mlflow/metrics/get-history',
                            {'run_id': run_id, 'metric_key': 'loss'})['metrics']
        self.assertEqual([(p['step'], p['value']) for p in history], [(1, 0.5)])
        exp_id = rec['info']['experiment_id']
        log = self.rest('/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/logs/output.log'
                        % (exp_id, run_id), raw=True)
        self.assertIn(b'cairn: step=1 loss=0.5', log)

        # The CLI reads it back through the server...
        runs = self.remote('runs', 'list', '--json').stdout
        self.assertIn(run_id, runs)
        shown = json.loads(self.remote('runs', 'show', run_id[:8], '--json').stdout)
        self.assertEqual(shown['info']['run_id'] if 'info' in shown else shown['run_id'], run_id)
        self.assertIn('logs/output.log', self.remote('runs', 'show', run_id).stdout)
        # ... and the server's store file holds the same run.
        local = self.local('runs', 'show', run_id, '--json')
        self.assertIn('loss', json.dumps(local))
        self.assertIn('FINISHED', json.dumps(local))
        # Everything reached the server: the run's local staging folder is gone.
        self.assertEqual(list(self.tmpdir.iterdir()), [])

    def test_a_file_never_recorded_keeps_the_staging_folder(self):
        script = ("import os\n"
                  "open(os.path.join(os.environ['CAIRN_RUN_DIR'], 'notes.txt'), 'w').write('x')\n")
        proc = self.remote('run', '--', sys.executable, '-c', script)
        run_id = self.run_id_of(proc)
        self.assertIn("artifact 'notes.txt' did not reach the server", proc.stderr)
        kept = self.tmpdir / ('cairn-' + run_id) / 'artifacts'
        self.assertEqual((kept / 'notes.txt').read_text(), 'x')
        self.assertIn(str(kept), proc.stderr)

    def test_files_the_server_did_not_get_stay_staged(self):
        script = ("import sys, time\n"
                  "print('before the server went away', flush=True)\n"
                  "open(sys.argv[1], 'w').close()\n"
                  "time.sleep(1.0)\n")
        env = self._env({'CAIRN_STORE': self.url, 'CAIRN_HTTP_RETRIES': '0',
                         'TMPDIR': str(self.tmpdir)})
        mark = self.tmp / 'started'
        run = subprocess.Popen([CAIRN_BIN, 'run', '--', sys.executable, '-c', script, str(mark)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=self.tmp, env=env)
        deadline = time.time() + TIMEOUT_S
        while not mark.exists() and run.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        self.stop_server(signal.SIGKILL)
        out, err = run.communicate(timeout=TIMEOUT_S)
        self.assertNotEqual(run.returncode, 0, err)
        run_id = RUN_ID.search(err).group(1)
        log = self.tmpdir / ('cairn-' + run_id) / 'artifacts' / 'logs' / 'output.log'
        self.assertIn('before the server went away', log.read_text())
        self.assertIn('kept in', err)
        self.assertIn(str(log.parent.parent), err)

    def test_train_and_eval_leave_no_staging_folder(self):
        cfg = self.tmp / 'train.yaml'
        cfg.write_text((SOURCE_DIR / 'examples' / 'configs' / 'breast_cancer_logistic.yaml')
                       .read_text().replace('data/breast_cancer.csv',
                                            str(SOURCE_DIR / 'data' / 'breast_cancer.csv')))
        proc = self.remote('train', '--json', '--config', str(cfg), '-p', 'bootstrap=50', '-p', 'cv=0')
        res = json.loads(proc.stdout)
        run_id = res['run_id']
        # The local staging folder is gone: what train reports is where the files are now.
        self.assertRegex(res['artifact_dir'],
                         r'^mlflow-artifacts:/\d+/%s/artifacts$' % run_id)
        self.assertEqual(list(self.tmpdir.iterdir()), [])
        model = self.rest('/api/2.0/mlflow-artifacts/artifacts/%s/model/model.cairn'
                          % res['artifact_dir'].split(':/', 1)[1], raw=True)
        self.assertGreater(len(model), 0)
        # eval final downloads the model and the split, logs to the run, and removes both the
        # downloads and its own files: nothing is reported as unsent.
        proc = self.remote('eval', 'final', run_id, '--bootstrap', '50')
        self.assertNotIn('did not reach the server', proc.stderr)
        self.assertIn('plots: mlflow-artifacts:/', proc.stdout)
        self.assertEqual(list(self.tmpdir.iterdir()), [])
        files = self.rest('/api/2.0/mlflow-artifacts/artifacts',
                          {'path': res['artifact_dir'].split(':/', 1)[1] + '/plots'})['files']
        self.assertIn('test_roc.svg', {f['path'].rsplit('/', 1)[-1] for f in files})

    def test_long_dataset_digests_survive_the_36_character_limit(self):
        # cairn run --input logs the file's SHA-256 (64 hex) as a dataset digest. The remote
        # store sends MLflow's 36 characters plus the whole in the input tag cairn.digest (what
        # an MLflow server keeps); cairn's server puts the whole digest back, and cairn reads
        # it whole either way.
        data = self.tmp / 'rows.csv'
        data.write_text('a,b\n1,2\n')
        sha = hashlib.sha256(data.read_bytes()).hexdigest()
        proc = self.remote('run', '--input', str(data), '--', sys.executable, '-c', 'pass')
        run_id = self.run_id_of(proc)
        rec = self.rest('/api/2.0/mlflow/runs/get', {'run_id': run_id})['run']
        digests = [i['dataset']['digest'] for i in rec['inputs']['dataset_inputs']]
        self.assertIn(sha, digests)
        shown = json.dumps(json.loads(self.remote('runs', 'show', run_id, '--json').stdout))
        self.assertIn(sha, shown)

    def test_experiments_and_registry(self):
        self.remote('exp', 'create', 'e1', '-t', 'team=ml')
        self.remote('exp', 'rename', 'e1', 'e2')
        exps = json.dumps(self.remote('exp', 'list', '--json').stdout)
        self.assertIn('e2', exps)
        self.assertNotIn('"e1"', exps)
        got = self.rest('/api/2.0/mlflow/experiments/get-by-name', {'experiment_name': 'e2'})
        self.assertEqual({t['key']: t['value'] for t in got['experiment'].get('tags', [])},
                         {'team': 'ml'})
        self.remote('exp', 'create', 'e2', expect=1)  # EEXIST through the server

        proc = self.remote('run', '--experiment', 'e2', '--', sys.executable, '-c',
                           "print('cairn: step=1 acc=0.9')")
        run_id = self.run_id_of(proc)
        self.remote('model', 'register', '--name', 'clf', '--run', run_id, '--path', 'model')
        self.remote('model', 'register', '--name', 'clf', '--run', run_id, '--path', 'model')
        self.remote('model', 'alias', 'clf', 'production', '1', '--reason', 'first')
        self.remote('model', 'alias', 'clf', 'production', '2', '--reason', 'better')
        self.remote('model', 'register', '--name', 'clf', '--run', run_id, '--path', 'model',
                    '--semver', '1.2.0')
        self.remote('model', 'rollback', 'clf', 'production', '--reason', 'oops')
        shown = json.loads(self.remote('model', 'show', 'clf', '--alias', 'production',
                                       '--json').stdout)
        self.assertEqual(shown['version'], 1)
        self.assertIn('production', shown['aliases'])
        shown = json.loads(self.remote('model', 'show', 'clf', '--version', '3', '--json').stdout)
        self.assertEqual(shown['semver'], '1.2.0')
        history = json.loads(self.remote('model', 'history', 'clf', '--json').stdout)
        events = history if isinstance(history, list) else history['events']
        self.assertEqual([(e['kind'], e.get('reason')) for e in events],
                         [('rollback', 'oops'), ('alias_set', 'better'), ('alias_set', 'first')])
        # version 1 came from no version: nothing older to roll back to
        self.remote('model', 'rollback', 'clf', 'production', expect=1)
        mv = self.rest('/api/2.0/mlflow/registered-models/alias',
                       {'name': 'clf', 'alias': 'production'})['model_version']
        self.assertEqual(str(mv['version']), '1')
        self.assertEqual(mv['run_id'], run_id)
        local = self.local('model', 'show', 'clf', '--alias', 'production', '--json')
        self.assertEqual(local['version'], 1)
        self.remote('model', 'show', 'clf', '--alias', 'nope', expect=1)

    def test_server_down_is_a_clear_error(self):
        url = self.url
        self.stop_server()
        proc = self.remote('runs', 'list', expect=1, env={'CAIRN_HTTP_RETRIES': '1'})
        self.assertIn('cannot reach the tracking server at ' + url, proc.stderr)
        self.assertIn('cairn server', proc.stderr)
        proc = self.remote('run', '--', 'true', expect=1, env={'CAIRN_HTTP_RETRIES': '0'})
        self.assertIn('cannot reach the tracking server', proc.stderr)

    def test_server_restart_mid_run_stores_each_point_once(self):
        steps = 40
        script = ("import time\n"
                  "for i in range(%d):\n"
                  "    print('cairn: step=%%d loss=%%g' %% (i, 1.0 / (i + 1)), flush=True)\n"
                  "    time.sleep(0.1)\n" % steps)
        env = self._env({'CAIRN_STORE': self.url, 'CAIRN_HTTP_RETRIES': '6'})
        run = subprocess.Popen([CAIRN_BIN, 'run', '--', sys.executable, '-c', script],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=self.tmp, env=env)
        time.sleep(1.5)
        port = self.port
        self.assertIsNone(run.poll())  # the server goes away in the middle of the run
        self.stop_server(signal.SIGKILL)
        time.sleep(1.0)
        self.assertIsNone(run.poll())
        self.start_server(port)
        out, err = run.communicate(timeout=TIMEOUT_S)
        self.assertEqual(run.returncode, 0, err)
        run_id = RUN_ID.search(err).group(1)
        history = self.rest('/api/2.0/mlflow/metrics/get-history',
                            {'run_id': run_id, 'metric_key': 'loss', 'max_results': 1000})
        got = sorted(p['step'] for p in history['metrics'])
        self.assertEqual(got, list(range(steps)))  # every point, none twice

    def test_c_program_logs_to_the_server(self):
        exe = BUILD_DIR / 'examples' / 'train_linear'
        if not exe.exists():
            self.skipTest('examples/train_linear is not built')
        proc = subprocess.run([str(exe), str(SOURCE_DIR / 'data' / 'diabetes.csv'), '0.05', '30'],
                              capture_output=True, text=True, cwd=self.tmp, timeout=TIMEOUT_S,
                              env=self._env({'CAIRN_STORE': self.url}))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        run_id = re.search(r'run ([0-9a-f]{32})', proc.stdout).group(1)
        rec = self.rest('/api/2.0/mlflow/runs/get', {'run_id': run_id})['run']
        params = {p['key']: p['value'] for p in rec['data']['params']}
        self.assertEqual(params['epochs'], '30')
        keys = {m['key'] for m in rec['data']['metrics']}
        self.assertIn('val_mse', keys)
        history = self.rest('/api/2.0/mlflow/metrics/get-history',
                            {'run_id': run_id, 'metric_key': 'val_mse'})['metrics']
        self.assertEqual(len(history), 30)
        self.assertEqual(rec['inputs']['dataset_inputs'][0]['dataset']['name'],
                         str(SOURCE_DIR / 'data' / 'diabetes.csv'))
        exp_id = rec['info']['experiment_id']
        weights = self.rest('/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/model/weights.txt'
                            % (exp_id, run_id), raw=True)
        self.assertTrue(weights)


if __name__ == '__main__':
    main()

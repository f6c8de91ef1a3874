# SPDX-License-Identifier: MIT
"""`cairn pipeline watch` (continual training) with real processes on data/breast_cancer.csv:
a pipeline runs to a served model; an undrifted feed leaves it alone; a drifted feed triggers a
retrain on old + new rows whose per-slice gate result is recorded on the candidate's run and
printed, and the candidate is served as a canary beside the champion (both answer); a feed with
flipped labels, on a schedule trigger, makes a candidate that forgets the old rows: refused
(exit 1), registered for the record, not deployed; bad input (a feed missing a column, a
trigger with no deploy stage, a bad --canary, no trigger) each a clear message."""
import csv
import json
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'

CONFIG = """name: bc
seed: 1
data: {path: data.csv, label: target}
split: {method: stratified, test: 0.2, val: 0.2}
learner: {name: logistic}
metrics: [accuracy]
bootstrap: 50
"""

STAGES = """name: bc_pipe
stages:
  train:    {kind: train, config: experiment-config.yaml}
  register: {kind: register, model: bc, after: [train]}
  alias:    {kind: command, run: [cairn, model, alias, bc, production, "${register.version}"],
             after: [register]}
  serve:    {kind: deploy, model: bc, alias: production, after: [alias]}
"""

ROW = [17.99, 10.38, 122.8, 1001, 0.1184, 0.2776, 0.3001, 0.1471, 0.2419, 0.07871, 1.095,
       0.9053, 8.589, 153.4, 0.006399, 0.04904, 0.05373, 0.01587, 0.03003, 0.006193, 25.38,
       17.33, 184.6, 2019, 0.1622, 0.6656, 0.7119, 0.2654, 0.4601, 0.1189]


class PipelineWatch(harness.CairnTest):
    def setUp(self):
        super().setUp()
        self.proj = self.tmp / 'proj'
        self.proj.mkdir()
        shutil.copy(DATA / 'breast_cancer.csv', self.proj / 'data.csv')
        (self.proj / 'experiment-config.yaml').write_text(CONFIG)
        with open(self.proj / 'data.csv', newline='') as f:
            rows = list(csv.reader(f))
        self.header, self.rows = rows[0], rows[1:]
        self.addCleanup(self.stop_all)

    def stop_all(self):
        for p in self.proj.glob('*.yaml'):
            if 'deploy' in p.read_text():
                self.cairn('pipeline', 'stop', p, expect=None)

    def write(self, name, text):
        path = self.proj / name
        path.write_text(text)
        return path

    def feed(self, name, rows, header=None):
        with open(self.proj / name, 'w', newline='') as f:
            csv.writer(f).writerows([header or self.header] + rows)

    def sample(self, n, seed):
        return [list(r) for r in random.Random(seed).sample(self.rows, n)]

    def deploy(self, trigger):
        path = self.write('pipeline.yaml', STAGES + trigger)
        self.cairn('pipeline', 'run', path)
        return path

    def serve_pid(self):
        return (self.proj / '.cairn-pipeline' / 'serve' / 'serve.pid').read_text().strip()

    def tags(self, run_id):
        run = self.cairn_json('runs', 'show', run_id, '--json')
        self.artifacts = [a['path'] for a in run.get('artifacts') or []]
        tags = run.get('tags') or run['data']['tags']
        if isinstance(tags, list):
            tags = {t['key']: t['value'] for t in tags}
        return tags

    def test_drifted_feed_retrains_gates_and_serves_a_canary(self):
        self.feed('feed.csv', self.sample(250, 1))  # the same distribution: no drift
        path = self.deploy('trigger:\n  on_drift: {data: feed.csv}\n')
        pid = self.serve_pid()
        idle = self.cairn_json('pipeline', 'watch', path, '--once', '--json')
        self.assertEqual(idle['outcome'], 'idle')
        self.assertIn('no drift', idle['reason'])
        self.assertLess(idle['drift_share'], 0.5)
        self.assertIsNone(idle['run_id'])
        self.assertFalse((self.proj / '.cairn-pipeline' / 'continual').exists())
        self.assertEqual(self.serve_pid(), pid)

        # Every feature scaled by 1.25: the feed drifted.
        shifted = [[v if h == 'target' else repr(float(v) * 1.25)
                    for h, v in zip(self.header, r)] for r in self.sample(250, 2)]
        self.feed('feed.csv', shifted)
        rep = self.cairn_json('pipeline', 'watch', path, '--once', '--json', '--canary', '50')
        self.assertEqual(rep['outcome'], 'deployed', rep)
        self.assertEqual(rep['trigger'], 'drift')
        self.assertGreaterEqual(rep['drift_share'], 0.5)
        self.assertEqual((rep['champion_version'], rep['candidate_version']), (1, 2))
        self.assertEqual(rep['metric'], 'accuracy')
        self.assertEqual(rep['test'], 'mcnemar')
        old = [s for s in rep['slices'] if not s['new']]
        new = [s for s in rep['slices'] if s['new']]
        self.assertGreaterEqual(len(old), 2)
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]['n'], 75)  # 30% of the feed held out
        # The old slices are the champion's validation rows (569 rows, 20% of them).
        self.assertEqual(sum(s['n'] for s in old), 114)
        for s in rep['slices']:
            self.assertFalse(s['verdict'] == 'worse', s)
            self.assertAlmostEqual(s['diff'], s['candidate'] - s['champion'])
            self.assertGreaterEqual(s['p_adjusted'], s['p'] - 1e-12)

        # Old + new: the champion's 569 rows and the 250 feed rows.
        with open(self.proj / rep['dir'] / 'data.csv', newline='') as f:
            self.assertEqual(len(list(csv.reader(f))), 1 + 569 + 250)
        tags = self.tags(rep['run_id'])
        self.assertEqual(tags['cairn.continual.trigger'], 'drift')
        self.assertEqual(tags['cairn.continual.parent_version'], '1')
        self.assertEqual(tags['cairn.continual.gate'], 'passed')
        self.assertEqual(len(tags['cairn.continual.feed_sha256']), 64)
        self.assertEqual(float(tags['cairn.continual.drift_score']), rep['drift_share'])
        gate_file = self.proj / rep['dir'] / 'gate.json'
        gate = json.loads(gate_file.read_text())
        self.assertTrue(gate['passed'])
        self.assertEqual([s['slice'] for s in gate['slices']],
                         [s['slice'] for s in rep['slices']])
        self.assertIn('continual/gate.json', self.artifacts)
        model = self.cairn_json('model', 'show', 'bc', '--alias', 'canary', '--json')
        self.assertEqual(str(model['version']), '2')
        prod = self.cairn_json('model', 'show', 'bc', '--alias', 'production', '--json')
        self.assertEqual(str(prod['version']), '1')

        # The canary: one server routes between v1 and v2; each answer names its version.
        self.assertNotEqual(self.serve_pid(), pid)
        url = rep['serve_url']
        seen = set()
        for _ in range(40):
            req = urllib.request.Request(url + '/invocations',
                                         data=json.dumps({'inputs': [ROW]}).encode(),
                                         headers={'Content-Type': 'application/json'})
            with urllib.request.urlopen(req, timeout=10) as r:
                seen.add(r.headers['X-Cairn-Model'])
                self.assertIn(json.loads(r.read())['predictions'][0], (0, 1))
        self.assertEqual(seen, {'bc/1', 'bc/2'})

        # The same feed again: already retrained on it for this champion.
        again = self.cairn('pipeline', 'watch', path, '--once')
        self.assertIn('nothing to do', again.stdout)
        self.assertIn('already retrained on this feed', again.stdout)

    def test_the_monitoring_runs_drift_decision_triggers(self):
        self.feed('feed.csv', self.sample(200, 5))  # undrifted: only the server saw drift
        path = self.deploy('trigger:\n  on_drift: {data: feed.csv}\n')
        url = json.loads(self.cairn('pipeline', 'status', path, '--json').stdout)['serve_url']
        rows = [[float(v) * 1.25 for v in r[:-1]] for r in self.sample(120, 6)]
        req = urllib.request.Request(url + '/invocations',
                                     data=json.dumps({'inputs': rows}).encode(),
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(len(json.loads(r.read())['predictions']), 120)
        # The server's last check, at its stop, records the drift decision on its
        # monitoring run.
        self.cairn('pipeline', 'stop', path)
        rep = self.cairn_json('pipeline', 'watch', path, '--once', '--json')
        self.assertEqual(rep['trigger'], 'monitor', rep)
        self.assertIn('monitoring run', rep['reason'])
        self.assertIn(rep['outcome'], ('deployed', 'refused'))
        self.assertEqual(self.tags(rep['run_id'])['cairn.continual.trigger'], 'monitor')

    def test_schedule_and_a_forgetting_candidate_is_refused(self):
        # Flipped labels, many of them: the candidate unlearns the old rows.
        rng = random.Random(3)
        flipped = []
        for _ in range(900):
            r = list(rng.choice(self.rows))
            r[-1] = '1' if r[-1] == '0' else '0'
            flipped.append(r)
        self.feed('flip.csv', flipped)
        path = self.deploy('trigger:\n  schedule: {every: 1s}\n  data: flip.csv\n')
        pid = self.serve_pid()
        time.sleep(1.1)  # 'every: 1s' since the champion's training run started
        proc = self.cairn('pipeline', 'watch', path, '--once', expect=1)
        self.assertIn('trigger schedule', proc.stdout)
        self.assertIn('SLICE', proc.stdout)
        self.assertIn('worse', proc.stdout)
        self.assertIn('REFUSED', proc.stdout)
        self.assertIn('not deployed', proc.stdout)
        gate = json.loads((self.proj / '.cairn-pipeline/continual/1/gate.json').read_text())
        self.assertFalse(gate['passed'])
        worse = [s for s in gate['slices'] if s['verdict'] == 'worse']
        self.assertTrue(worse and all(not s['new'] for s in worse), gate)
        self.assertTrue(all(s['p_adjusted'] < 0.05 and s['diff'] < 0 for s in worse))
        tags = self.tags(gate['candidate_run_id'])
        self.assertEqual(tags['cairn.continual.gate'], 'refused')
        self.assertEqual(tags['cairn.continual.trigger'], 'schedule')
        self.assertIn(worse[0]['slice'], tags['cairn.continual.gate_refusal'])
        # Registered for the record, no canary, the champion's server untouched.
        v2 = self.cairn_json('model', 'show', 'bc', '--version', '2', '--json')
        self.assertEqual(v2['run_id'], gate['candidate_run_id'])
        self.cairn('model', 'show', 'bc', '--alias', 'canary', expect=1)
        self.assertEqual(self.serve_pid(), pid)

        # The schedule is not due again for an hour.
        self.write('pipeline.yaml', STAGES + 'trigger:\n  schedule: {every: 1h}\n  data: flip.csv\n')
        idle = self.cairn_json('pipeline', 'watch', path, '--once', '--json')
        self.assertEqual(idle['outcome'], 'idle')
        self.assertIn('due in', idle['reason'])

    def test_slices_by_each_value_of_a_categorical_feature(self):
        regions = ['north', 'south', 'east']
        self.header.insert(0, 'region')
        self.rows = [[regions[i % 3]] + r for i, r in enumerate(self.rows)]
        self.feed('data.csv', self.rows)
        self.feed('feed.csv', self.sample(90, 9))
        path = self.deploy('trigger:\n  schedule: {every: 1s}\n  data: feed.csv\n')
        time.sleep(1.1)
        rep = self.cairn_json('pipeline', 'watch', path, '--once', '--json', expect=None)
        self.assertEqual(rep['trigger'], 'schedule')
        self.assertIn("value of 'region'", rep['slice_rule'])
        old = sorted(s['slice'] for s in rep['slices'] if not s['new'])
        self.assertEqual(old, ['old: region=' + r for r in sorted(regions)])
        self.assertEqual(sum(s['n'] for s in rep['slices'] if not s['new']), 114)
        # Holm over the three old slices, recomputed here; the new slice keeps its own p.
        olds = [s for s in rep['slices'] if not s['new']]
        order = sorted(range(len(olds)), key=lambda i: olds[i]['p'])
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (len(olds) - rank) * olds[i]['p']))
            self.assertAlmostEqual(olds[i]['p_adjusted'], running, places=12)
        for s in rep['slices']:
            if s['new']:
                self.assertEqual(s['p_adjusted'], s['p'])

    def test_watch_checks_until_sigterm(self):
        self.feed('feed.csv', self.sample(100, 7))
        path = self.deploy('trigger:\n  on_drift: {data: feed.csv}\n')
        proc = subprocess.Popen([harness.CAIRN_BIN, '--store', self.store, 'pipeline', 'watch',
                                 str(path), '--interval', '1s'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.tmp)
        self.addCleanup(proc.kill)
        lines = [proc.stdout.readline() for _ in range(2)]  # one line per check
        self.assertTrue(all('nothing to do' in line for line in lines), lines)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn('watching', err)
        self.assertIn('stopped watching', err)

    def test_bad_input(self):
        missing = [r[1:] for r in self.sample(50, 4)]
        self.feed('missing.csv', missing, self.header[1:])
        path = self.deploy('trigger:\n  on_drift: {data: missing.csv}\n')
        self.cairn_error('pipeline', 'watch', path, '--once', expect=2,
                         mentions=("no column 'mean radius'", 'missing.csv'))
        self.cairn_error('pipeline', 'watch', path, '--once', '--canary', '0', expect=2,
                         mentions=('--canary', '1 to 99'))
        self.cairn_error('pipeline', 'watch', path, '--once', '--canary', '100', expect=2,
                         mentions=('--canary',))
        self.cairn_error('pipeline', 'watch', path, '--interval', 'soon', expect=2,
                         mentions=('--interval', '90s'))
        no_deploy = self.write('nodeploy.yaml', 'name: bc_pipe\nstages:\n'
                               '  train: {kind: train, config: experiment-config.yaml}\n'
                               'trigger:\n  on_drift: {data: missing.csv}\n')
        self.cairn_error('pipeline', 'watch', no_deploy, '--once', expect=2,
                         mentions=('needs a deploy stage',))
        no_trigger = self.write('notrigger.yaml', STAGES)
        self.cairn_error('pipeline', 'watch', no_trigger, '--once', expect=2,
                         mentions=('no trigger',))
        no_feed = self.write('nofeed.yaml', STAGES + 'trigger:\n  schedule: {every: 1h}\n')
        self.cairn_error('pipeline', 'watch', no_feed, '--once', expect=2,
                         mentions=('names no feed',))
        # The champion's training rows changed under it: its split no longer points at them.
        self.feed('ok.csv', self.sample(50, 8))
        ok = self.write('ok.yaml', STAGES + 'trigger:\n  on_drift: {data: ok.csv}\n')
        with open(self.proj / 'data.csv', 'a') as f:
            f.write(','.join(self.rows[0]) + '\n')
        self.cairn_error('pipeline', 'watch', ok, '--once', expect=2,
                         mentions=('changed since run', 'restore the file'))


if __name__ == '__main__':
    harness.main()

# SPDX-License-Identifier: MIT
"""The cairn UI routes (docs/rest.md, "cairn UI routes") against a real `cairn server`:
downsampled metric series (whole when short, every bucket's extremes when long, several runs
overlaid, NaN/Infinity as MLflow's strings, bad requests), experiment summaries (counts and
last activity checked against what the test logged), studies filled by `cairn tune` (checked
against `cairn study ... --json`), and `--auth`: a user without READ gets 403 and lists leave
out what they may not read."""
import base64
import math
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import restlib  # noqa: E402

SPACE = """objective: {name: loss, goal: minimize}
parameters:
  x: {type: float, low: -5, high: 5}
  n: {type: int, low: 1, high: 8}
  opt: {type: categorical, values: [adam, sgd]}
"""

OBJECTIVE = r"""
import argparse
p = argparse.ArgumentParser()
p.add_argument('--x', type=float)
p.add_argument('--n', type=int)
p.add_argument('--opt')
a = p.parse_args()
loss = (a.x - 1) ** 2 + 0.001 * a.n
for step in range(3):
    print('cairn: step=%d loss=%r' % (step, loss + 1.0 / (step + 1)), flush=True)
print('cairn.final: loss=%r' % loss)
"""


def num(v):
    return {'NaN': math.nan, 'Infinity': math.inf, '-Infinity': -math.inf}.get(v, v)


class UiApi(restlib.RestCase):
    def log_points(self, run, key, points):
        for i in range(0, len(points), 1000):
            self.post('mlflow/runs/log-batch', {'run_id': run, 'metrics': [
                {'key': key, 'value': v, 'timestamp': ts, 'step': s}
                for s, ts, v in points[i:i + 1000]]})

    def test_downsample_short_series_whole(self):
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        pts = [(s, 1000 + s, float(s) / 3) for s in range(50)]
        pts[7] = (7, 1007, 'NaN')
        pts[8] = (8, 1008, 'Infinity')
        self.log_points(run, 'loss', pts)
        for prefix in ('/api/2.0/', '/ajax-api/2.0/'):
            doc = self.call('GET', 'cairn/metrics/downsample', prefix=prefix,
                            query={'run_id': run, 'metric_key': 'loss'})
            self.assertEqual((doc['run_id'], doc['metric_key'], doc['total'],
                              doc['downsampled']), (run, 'loss', 50, False))
            self.assertEqual([(p['step'], p['timestamp']) for p in doc['points']],
                             [(s, ts) for s, ts, _ in pts])
            self.assertEqual(doc['points'][7]['value'], 'NaN')
            self.assertEqual(doc['points'][8]['value'], 'Infinity')
            self.assertAlmostEqual(doc['points'][9]['value'], 3.0)
        # an unknown key is an empty series, not an error
        doc = self.get('cairn/metrics/downsample', run_id=run, metric_key='nope')
        self.assertEqual((doc['total'], doc['points']), (0, []))

    def test_downsample_long_series_keeps_extremes(self):
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        n, max_points = 20000, 400
        # A smooth curve with two one-point spikes.
        pts = [(s, 5000 + 3 * s, math.sin(s / 500.0)) for s in range(n)]
        pts[4321] = (4321, 5000 + 3 * 4321, 50.0)
        pts[15000] = (15000, 5000 + 3 * 15000, -50.0)
        self.log_points(run, 'acc', pts)
        for x, col in (('step', 'step'), ('time', 'timestamp')):
            doc = self.get('cairn/metrics/downsample', run_id=run, metric_key='acc',
                           max_points=str(max_points), x=x)
            got = doc['points']
            self.assertEqual(doc['total'], n)
            self.assertTrue(doc['downsampled'])
            self.assertLessEqual(len(got), max_points)
            # at least each bucket's first and last (a monotone stretch has no more)
            self.assertGreaterEqual(len(got), 2 * (max_points // 4))
            xs = [p[col] for p in got]
            self.assertEqual(xs, sorted(xs))
            self.assertEqual((got[0]['step'], got[-1]['step']), (0, n - 1))
            values = [p['value'] for p in got]
            self.assertIn(50.0, values)
            self.assertIn(-50.0, values)
            # every bucket's min and max are among the kept points
            nb = max_points // 4
            x0, x1 = pts[0][0 if x == 'step' else 1], pts[-1][0 if x == 'step' else 1]
            buckets = {}
            for p in pts:
                xv = p[0 if x == 'step' else 1]
                b = min(nb - 1, int((xv - x0) / (x1 - x0) * nb))
                lo, hi = buckets.get(b, (math.inf, -math.inf))
                buckets[b] = (min(lo, p[2]), max(hi, p[2]))
            kept = {}
            for p in got:
                xv = p[col]
                b = min(nb - 1, int((xv - x0) / (x1 - x0) * nb))
                kept.setdefault(b, []).append(p['value'])
            for b, (lo, hi) in buckets.items():
                self.assertEqual((min(kept[b]), max(kept[b])), (lo, hi), b)

    def test_downsample_from_block_summaries(self):
        # A span of many 64-step blocks is answered from the store's block summaries: buckets
        # of k whole blocks (docs/rest.md, "Downsampling"), each keeping its first, last,
        # lowest and highest point, first in (step, timestamp) order on ties.
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        pts = [(s * 3 - 999, 7000 + s, round(math.cos(s / 90.0) * 6) / 2) for s in range(20000)]
        pts[777] = (pts[777][0], pts[777][1], -80.0)
        self.log_points(run, 'b', pts[10000:] + pts[:10000])  # out of order
        max_points = 200
        doc = self.get('cairn/metrics/downsample', run_id=run, metric_key='b',
                       max_points=str(max_points))
        self.assertEqual((doc['total'], doc['downsampled']), (len(pts), True))
        b0, b1 = pts[0][0] // 64, pts[-1][0] // 64
        k = -(-(b1 - b0 + 1) // (max_points // 4))
        want = []
        buckets = {}
        for p in pts:
            buckets.setdefault((p[0] // 64 - b0) // k, []).append(p)
        for j in sorted(buckets):
            b = buckets[j]
            lo = min(b, key=lambda p: (p[2], p[0]))
            hi = min(b, key=lambda p: (-p[2], p[0]))
            want += sorted({b[0], lo, hi, b[-1]})
        got = [(p['step'], p['timestamp'], num(p['value'])) for p in doc['points']]
        self.assertEqual(got, want)
        self.assertIn(-80.0, [p[2] for p in got])
        # Asked again (now from the kept summaries), then after more points: the same rule.
        again = self.get('cairn/metrics/downsample', run_id=run, metric_key='b',
                         max_points=str(max_points))
        self.assertEqual(again['points'], doc['points'])
        more = [(pts[-1][0] + 3 * (s + 1), 9000 + s, float(s % 7)) for s in range(500)]
        more.append((pts[5000][0], 8999, 120.0))  # a new highest inside an older block
        self.log_points(run, 'b', more)
        pts = sorted(pts + more)
        doc = self.get('cairn/metrics/downsample', run_id=run, metric_key='b',
                       max_points=str(max_points))
        self.assertEqual(doc['total'], len(pts))
        self.assertIn(120.0, [num(p['value']) for p in doc['points']])
        self.assertEqual(doc['points'][-1]['step'], pts[-1][0])

    def test_downsample_several_runs(self):
        exp = self.new_experiment()
        runs = [self.new_run(exp)['info']['run_id'] for _ in range(3)]
        for k, run in enumerate(runs):
            self.log_points(run, 'loss', [(s, 100 + s, k * 10 + s) for s in range(10 * (k + 1))])
        doc = self.get('cairn/metrics/downsample', run_id=runs, metric_key='loss')
        self.assertEqual([s['run_id'] for s in doc['series']], runs)
        self.assertEqual([s['total'] for s in doc['series']], [10, 20, 30])
        self.assertEqual([len(s['points']) for s in doc['series']], [10, 20, 30])
        self.assertEqual(doc['series'][2]['points'][5]['value'], 25)

    def test_downsample_bad_requests(self):
        exp = self.new_experiment()
        run = self.new_run(exp)['info']['run_id']
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/metrics/downsample',
                       query={'metric_key': 'loss'}, mentions=['run_id'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/metrics/downsample',
                       query={'run_id': run}, mentions=['metric_key'])
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/metrics/downsample',
                       query={'run_id': 'f' * 32, 'metric_key': 'loss'})
        for bad in ('0', '-1', '3', '100001', '99999999999999999999', 'many'):
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/metrics/downsample',
                           query={'run_id': run, 'metric_key': 'loss', 'max_points': bad})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/metrics/downsample',
                       query={'run_id': run, 'metric_key': 'loss', 'x': 'wall'},
                       mentions=['step or time'])
        self.fail_with(405, 'BAD_REQUEST', 'POST', 'cairn/metrics/downsample', body={})

    def test_experiments_summary(self):
        name = 'summary-exp'
        exp = self.new_experiment(name)
        empty = self.new_experiment('summary-empty')
        runs = [self.new_run(exp, start_time=1000 + i)['info']['run_id'] for i in range(4)]
        self.post('mlflow/runs/update', {'run_id': runs[1], 'status': 'FINISHED',
                                         'end_time': 9999999999999})
        self.post('mlflow/runs/delete', {'run_id': runs[2]})
        gone = self.new_experiment('summary-deleted')
        self.post('mlflow/experiments/delete', {'experiment_id': gone})

        doc = self.get('cairn/experiments/summary')
        by_id = {e['experiment_id']: e for e in doc['experiments']}
        self.assertNotIn(gone, by_id)
        e = by_id[exp]
        self.assertEqual((e['name'], e['lifecycle_stage'], e['active_runs'], e['deleted_runs']),
                         (name, 'active', 3, 1))
        self.assertEqual(e['last_activity'], 9999999999999)
        self.assertEqual((by_id[empty]['active_runs'], by_id[empty]['deleted_runs']), (0, 0))
        self.assertEqual(by_id[empty]['last_activity'], by_id[empty]['last_update_time'])
        # the same as the runs the REST search finds
        found = self.post('mlflow/runs/search', {'experiment_ids': [exp], 'run_view_type': 'ALL'})
        self.assertEqual(len(found['runs']), 4)

        doc = self.get('cairn/experiments/summary', view_type='ALL')
        self.assertIn(gone, {e['experiment_id'] for e in doc['experiments']})
        doc = self.get('cairn/experiments/summary', view_type='DELETED_ONLY')
        self.assertEqual([e['experiment_id'] for e in doc['experiments']], [gone])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/experiments/summary',
                       query={'view_type': 'SOME'})

    def test_studies(self):
        work = self.tmp / 'tune'
        work.mkdir(exist_ok=True)
        (work / 'space.yaml').write_text(SPACE)
        (work / 'obj.py').write_text(OBJECTIVE)

        def cli(*args):
            proc = subprocess.run([harness.CAIRN_BIN, '--store', self.store, *map(str, args)],
                                  cwd=work, capture_output=True, text=True, timeout=300)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return proc.stdout

        cli('tune', '--space', 'space.yaml', '--study', 'ui-study', '--trials', 20, '--seed',
            3, '--sampler', 'random', '--', sys.executable, 'obj.py')
        import json
        best = json.loads(cli('study', 'best', 'ui-study', '--json'))
        trials = json.loads(cli('study', 'trials', 'ui-study', '--json'))['trials']
        plot = json.loads(cli('study', 'plot', 'ui-study', '--out', 'pics', '--json'))

        names = [s['name'] for s in self.get('cairn/studies/list')['studies']]
        self.assertIn('ui-study', names)
        s = self.get('cairn/studies/get', name='ui-study')['study']
        self.assertEqual((s['name'], s['objective'], s['direction'], s['sampler']),
                         ('ui-study', 'loss', 'MINIMIZE', 'random'))
        self.assertEqual(s['counts']['total'], 20)
        self.assertEqual(s['counts']['complete'],
                         sum(t['state'] == 'COMPLETE' for t in trials))
        self.assertEqual(s['best_trial']['number'], best['number'])
        self.assertAlmostEqual(s['best_trial']['value'], best['value'])
        self.assertAlmostEqual(s['best_value'], best['value'])
        self.assertEqual(s['best_trial']['params'], best['params'])

        doc = self.get('cairn/studies/trials', name='ui-study')
        self.assertEqual(doc['n_trials'], 20)
        got = doc['trials']
        self.assertEqual([t['number'] for t in got], [t['number'] for t in trials])
        for mine, theirs in zip(got, trials):
            self.assertEqual(mine['state'], theirs['state'])
            self.assertEqual(mine['params'], theirs['params'])
            self.assertEqual(mine['run_id'], theirs['run_id'])
            if mine['state'] == 'COMPLETE':
                self.assertAlmostEqual(mine['value'], theirs['value'])
                # intermediate values: loss + 1/(step+1) at steps 0..2
                self.assertEqual([p['step'] for p in mine['intermediate']], [0, 1, 2])
                for p in mine['intermediate']:
                    self.assertAlmostEqual(p['value'], mine['value'] + 1.0 / (p['step'] + 1))
        self.assertEqual(doc['next_since_trial'], 20)  # nothing open: poll from the next one
        later = self.get('cairn/studies/trials', name='ui-study', since_trial='17')['trials']
        self.assertEqual([t['number'] for t in later], [17, 18, 19])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/studies/trials',
                       query={'name': 'ui-study', 'since_trial': '-2'})

        imp = self.get('cairn/studies/importance', name='ui-study')
        self.assertEqual(sorted(i['name'] for i in imp['importance']), ['n', 'opt', 'x'])
        self.assertEqual(imp['importance'][0]['name'], 'x')  # the objective is x's
        self.assertEqual(imp['method'], plot['importance']['method'])
        for i in imp['importance']:
            self.assertAlmostEqual(i['importance'], plot['importance']['params'][i['name']])

        for route in ('get', 'trials', 'importance'):
            self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/studies/' + route,
                           query={'name': 'no-such-study'})
            self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/studies/' + route)

    def test_registry_lineage_and_card(self):
        exp = self.new_experiment()
        rid = self.new_run(exp, run_name='trainer')['info']['run_id']
        digest = 'c' * 64
        self.post('mlflow/runs/log-inputs', {'run_id': rid, 'datasets': [
            {'tags': [{'key': 'mlflow.data.context', 'value': 'training'}],
             'dataset': {'name': 'train', 'digest': digest, 'source_type': 'local',
                         'source': '{"uri": "/data/train.csv"}'}}]})
        self.post('mlflow/registered-models/create', {'name': 'ui-model'})
        v1 = self.post('mlflow/model-versions/create', {
            'name': 'ui-model', 'source': 'runs:/%s/model/model.cairn' % rid,
            'run_id': rid})['model_version']['version']
        self.post('cairn/model-versions/set-semver', {'name': 'ui-model', 'version': v1,
                                                      'semver': '1.2.0'})
        self.post('mlflow/registered-models/alias', {'name': 'ui-model', 'alias': 'prod',
                                                     'version': v1})
        doc = self.get('cairn/model-versions/lineage', name='ui-model', version=str(v1))
        mv = doc['model_version']
        self.assertEqual((mv['version'], mv['semver'], mv['aliases'], mv['run_id']),
                         (int(v1), '1.2.0', ['prod'], rid))
        self.assertEqual((doc['run']['run_id'], doc['run']['experiment_id'],
                          doc['run']['run_name']), (rid, exp, 'trainer'))
        self.assertEqual([(d['name'], d['digest'], d['context']) for d in doc['datasets']],
                         [('train', digest, 'training')])
        self.assertFalse(doc['run_hidden'])

        # no card yet: 404; then the artifact beside the model; then the tag wins
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/model-versions/card',
                       query={'name': 'ui-model', 'version': str(v1)}, mentions=['model card'])
        card = '# ui-model\n\n<script>alert(1)</script> is *text*\n'
        self.put_artifact('%s/%s/artifacts/model/model-card.md' % (exp, rid), card.encode())
        doc = self.get('cairn/model-versions/card', name='ui-model', version=str(v1))
        self.assertEqual((doc['from'], doc['markdown'], doc['truncated']),
                         ('artifact', card, False))
        self.post('mlflow/model-versions/set-tag', {'name': 'ui-model', 'version': v1,
                                                    'key': 'cairn.model_card',
                                                    'value': '# from the tag'})
        doc = self.get('cairn/model-versions/card', name='ui-model', version=str(v1))
        self.assertEqual((doc['from'], doc['markdown']), ('tag', '# from the tag'))
        # A card stored by `cairn model card`: the tag names the artifact, the SHA-256 beside it.
        self.put_artifact('%s/%s/artifacts/model_card/ui-model/v1.md' % (exp, rid), b'# stored')
        for key, value in (('cairn.model_card', 'model_card/ui-model/v1.md'),
                           ('cairn.model_card.sha256', 'ab' * 32)):
            self.post('mlflow/model-versions/set-tag', {'name': 'ui-model', 'version': v1,
                                                        'key': key, 'value': value})
        doc = self.get('cairn/model-versions/card', name='ui-model', version=str(v1))
        self.assertEqual((doc['from'], doc['markdown']), ('artifact', '# stored'))

        # a version without a run: lineage without run, card 404
        v2 = self.post('mlflow/model-versions/create', {
            'name': 'ui-model', 'source': 's3://bucket/models/elsewhere'})['model_version']['version']
        doc = self.get('cairn/model-versions/lineage', name='ui-model', version=str(v2))
        self.assertEqual((doc['run'], doc['datasets']), (None, []))
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/model-versions/card',
                       query={'name': 'ui-model', 'version': str(v2)})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/model-versions/lineage',
                       query={'name': 'ui-model', 'version': '99'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/model-versions/lineage',
                       query={'name': 'ui-model'})

    def test_monitoring_drift(self):
        # A monitoring run as `cairn serve` writes it (docs/serving.md, "Monitoring"): the
        # experiment monitoring/NAME, run "serve NAME/VERSION", step = the check's number.
        exp = self.new_experiment('monitoring/churn')
        run = self.new_run(exp, run_name='serve churn/1')['info']['run_id']
        pts = []
        for step in range(5):
            ts = 1700000000000 + step * 60000
            pts += [('drift.score.age', 0.5 / (step + 1), ts, step),
                    ('drift.drifted.age', 1.0 if step >= 3 else 0.0, ts, step),
                    ('drift.threshold.age', 0.05, ts, step),
                    ('drift.score.income', 0.9, ts, step),
                    ('drift.drifted.income', 0.0, ts, step),
                    ('drift.share', 0.5 if step >= 3 else 0.0, ts, step)]
        self.post('mlflow/runs/log-batch', {'run_id': run, 'metrics': [
            {'key': k, 'value': v, 'timestamp': ts, 'step': st} for k, v, ts, st in pts]})
        # an older run of another version, with per-version keys (several served)
        other = self.new_run(exp, run_name='serve churn/2+3', start_time=1)['info']['run_id']
        self.post('mlflow/runs/log-batch', {'run_id': other, 'metrics': [
            {'key': 'drift.v3.score.age', 'value': 0.01, 'timestamp': 5, 'step': 0},
            {'key': 'drift.v3.drifted.age', 'value': 1, 'timestamp': 5, 'step': 0}]})

        doc = self.get('cairn/monitoring/drift', model='churn', version='1')
        self.assertEqual((doc['run_id'], doc['key_prefix']), (run, 'drift.'))
        feats = {f['name']: f for f in doc['features']}
        self.assertEqual(sorted(feats), ['age', 'income'])
        age = feats['age']
        self.assertEqual([p['step'] for p in age['points']], list(range(5)))
        for p in age['points']:
            self.assertAlmostEqual(p['score'], 0.5 / (p['step'] + 1))
            self.assertEqual(p['drifted'], p['step'] >= 3)
            self.assertEqual(p['timestamp'], 1700000000000 + p['step'] * 60000)
        self.assertEqual(age['threshold'], 0.05)  # drift.threshold.age, as serve logs it
        self.assertIsNone(feats['income']['threshold'])  # a run that did not log one
        self.assertEqual(self.get('cairn/monitoring/drift', run_id=run)['features'],
                         doc['features'])

        doc = self.get('cairn/monitoring/drift', model='churn', version='3')
        self.assertEqual((doc['run_id'], doc['key_prefix']), (other, 'drift.v3.'))
        self.assertEqual(doc['features'], [{'name': 'age', 'threshold': None, 'points': [
            {'step': 0, 'timestamp': 5, 'score': 0.01, 'drifted': True}]}])

        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/monitoring/drift',
                       query={'model': 'churn', 'version': '7'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/monitoring/drift',
                       query={'model': 'nobody', 'version': '1'}, mentions=['monitoring'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/monitoring/drift',
                       query={'model': 'churn'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/monitoring/drift',
                       query={'run_id': 'e' * 32})

    def test_runs_compare(self):
        exp = self.new_experiment()
        a = self.new_run(exp)['info']['run_id']
        b = self.new_run(exp)['info']['run_id']
        fa = [0.81, 0.84, 0.79, 0.86, 0.83]
        fb = [0.78, 0.80, 0.79, 0.81, 0.80]
        for run, folds, lr in ((a, fa, '0.1'), (b, fb, '0.01')):
            self.post('mlflow/runs/log-batch', {
                'run_id': run,
                'params': [{'key': 'lr', 'value': lr}, {'key': 'depth', 'value': '4'}] +
                          ([{'key': 'only_b', 'value': 'x'}] if run == b else []),
                'metrics': [{'key': 'cv_acc', 'value': v, 'timestamp': 1, 'step': k}
                            for k, v in enumerate(folds)] +
                           [{'key': 'acc', 'value': sum(folds) / 5, 'timestamp': 2, 'step': 0}]})
        doc = self.get('cairn/runs/compare', run_id=[a, b])
        self.assertEqual(doc['run_ids'], [a, b])
        params = {p['key']: (p['a'], p['b'], p['differs']) for p in doc['params']}
        self.assertEqual(params, {'lr': ('0.1', '0.01', True), 'depth': ('4', '4', False),
                                  'only_b': (None, 'x', True)})
        acc = {m['name']: m for m in doc['metrics']}['acc']
        self.assertAlmostEqual(acc['a'], sum(fa) / 5)
        self.assertAlmostEqual(acc['diff'], (sum(fa) - sum(fb)) / 5)
        t = doc['test']
        self.assertEqual((t['scope'], t['n'], t['method']), ('cv', 5, 'paired-t'))
        # the paired t statistic in closed form: mean(d) / (sd(d) / sqrt(n))
        d = [x - y for x, y in zip(fa, fb)]
        mean = sum(d) / 5
        sd = math.sqrt(sum((v - mean) ** 2 for v in d) / 4)
        self.assertAlmostEqual(t['statistic'], mean / (sd / math.sqrt(5)), places=9)
        self.assertAlmostEqual(t['diff'], mean, places=12)
        self.assertLess(t['diff_ci_low'], mean)
        self.assertGreater(t['diff_ci_high'], mean)
        self.assertTrue(0 < t['p_value'] < 1)

        # nothing to pair: no test, and the reason
        c = self.new_run(exp)['info']['run_id']
        self.post('mlflow/runs/log-metric', {'run_id': c, 'key': 'acc', 'value': 0.5,
                                             'timestamp': 1})
        doc = self.get('cairn/runs/compare', run_id=[a, c])
        self.assertIsNone(doc['test'])
        self.assertTrue(doc['no_test'])
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/runs/compare',
                       query={'run_id': a})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/runs/compare',
                       query={'run_id': [a, 'd' * 32]})


def basic(user, password):
    return {'Authorization': 'Basic ' + base64.b64encode(
        ('%s:%s' % (user, password)).encode()).decode()}


class UiApiAuth(restlib.RestCase):
    SERVER_ARGS = ('--auth', '--default-permission', 'NO_PERMISSIONS')

    @classmethod
    def cli(cls, *args, input=None):
        proc = subprocess.run([harness.CAIRN_BIN, '--store', cls.store, *args], input=input,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc.stdout

    @classmethod
    def start_server(cls, *extra):
        cls.cli('auth', 'user', 'add', 'alice', '--password-stdin', input='alice-secret\n')
        cls.cli('auth', 'user', 'add', 'bob', '--password-stdin', input='bob-secret1\n')
        return super().start_server(*extra)

    def req(self, who, route, query=None, status=200):
        r = self.c.request('GET', '/api/2.0/' + route, query=query,
                           headers=basic(who, who + ('-secret' if who == 'alice' else
                                                     '-secret1')))
        self.assertEqual(r.status, status, '%s as %s -> %d %s' % (route, who, r.status,
                                                                  r.body[:300]))
        return r.json

    def test_read_permission(self):
        r = self.c.request('POST', '/api/2.0/mlflow/experiments/create',
                           body={'name': 'alice-ui'}, headers=basic('alice', 'alice-secret'))
        exp = r.json['experiment_id']
        r = self.c.request('POST', '/api/2.0/mlflow/runs/create', body={'experiment_id': exp},
                           headers=basic('alice', 'alice-secret'))
        run = r.json['run']['info']['run_id']
        self.c.request('POST', '/api/2.0/mlflow/runs/log-metric',
                       body={'run_id': run, 'key': 'm', 'value': 1, 'timestamp': 1, 'step': 0},
                       headers=basic('alice', 'alice-secret'))
        q = {'run_id': run, 'metric_key': 'm'}
        self.assertEqual(self.req('alice', 'cairn/metrics/downsample', q)['total'], 1)
        doc = self.req('bob', 'cairn/metrics/downsample', q, status=403)
        self.assertEqual(doc['error_code'], 'PERMISSION_DENIED')
        # one unreadable run among several refuses the whole request
        self.req('bob', 'cairn/metrics/downsample', {'run_id': [run, run], 'metric_key': 'm'},
                 status=403)
        self.req('bob', 'cairn/metrics/downsample', {'run_id': 'f' * 32, 'metric_key': 'm'},
                 status=404)
        self.req('bob', 'cairn/runs/compare', {'run_id': [run, run]}, status=403)
        self.req('alice', 'cairn/runs/compare', {'run_id': [run, run]})
        # the summary leaves out what bob may not read
        mine = {e['experiment_id'] for e in self.req('alice', 'cairn/experiments/summary')[
            'experiments']}
        self.assertIn(exp, mine)
        theirs = {e['experiment_id'] for e in self.req('bob', 'cairn/experiments/summary')[
            'experiments']}
        self.assertNotIn(exp, theirs)
        self.assertEqual(self.req('bob', 'cairn/studies/list')['studies'], [])
        self.req('bob', 'cairn/studies/get', {'name': 'nothing'}, status=404)
        r = self.c.request('GET', '/api/2.0/cairn/experiments/summary')
        self.assertEqual(r.status, 401)


# ---- cairn/permissions/mine (ui-compare): what the signed-in user may do ----

class PermissionsMine(restlib.RestCase):
    """Without --auth: no user, everything MANAGE; unknown resources 404, both at once 400."""

    def test_no_auth_is_manage(self):
        exp = self.new_experiment()
        doc = self.get('cairn/permissions/mine', experiment_id=exp)
        self.assertEqual((doc['auth'], doc['user'], doc['is_admin'], doc['permission']),
                         (False, None, False, 'MANAGE'))
        doc = self.get('cairn/permissions/mine')
        self.assertNotIn('permission', doc)
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/permissions/mine',
                       query={'experiment_id': '424242'})
        self.fail_with(404, 'RESOURCE_DOES_NOT_EXIST', 'GET', 'cairn/permissions/mine',
                       query={'registered_model_name': 'no-such-model'})
        self.fail_with(400, 'INVALID_PARAMETER_VALUE', 'GET', 'cairn/permissions/mine',
                       query={'experiment_id': exp, 'registered_model_name': 'm'},
                       mentions=['not both'])


class PermissionsMineAuth(UiApiAuth):
    """With --auth (default NO_PERMISSIONS): each user's level as auth.c decides it."""
    SERVER_ARGS = ('--auth', '--default-permission', 'NO_PERMISSIONS')

    test_read_permission = None  # UiApiAuth's test: not collected twice (not callable)

    def test_levels(self):
        alice = basic('alice', 'alice-secret')
        exp = self.c.request('POST', '/api/2.0/mlflow/experiments/create',
                             body={'name': 'perm-mine'}, headers=alice).json['experiment_id']
        self.c.request('POST', '/api/2.0/mlflow/registered-models/create',
                       body={'name': 'perm-model'}, headers=alice)
        mine = self.req('alice', 'cairn/permissions/mine', {'experiment_id': exp})
        self.assertEqual((mine['auth'], mine['user'], mine['is_admin'], mine['permission']),
                         (True, 'alice', False, 'MANAGE'))  # the creator
        self.assertEqual(self.req('bob', 'cairn/permissions/mine', {'experiment_id': exp})[
            'permission'], 'NO_PERMISSIONS')
        self.cli('auth', 'grant', 'experiment', exp, 'bob', 'READ')
        self.assertEqual(self.req('bob', 'cairn/permissions/mine', {'experiment_id': exp})[
            'permission'], 'READ')
        self.cli('auth', 'grant', 'model', 'perm-model', 'bob', 'EDIT')
        self.assertEqual(self.req('bob', 'cairn/permissions/mine', {
            'registered_model_name': 'perm-model'})['permission'], 'EDIT')
        # and the server agrees: READ cannot delete a run, the route said so beforehand
        run = self.c.request('POST', '/api/2.0/mlflow/runs/create', body={'experiment_id': exp},
                             headers=alice).json['run']['info']['run_id']
        r = self.c.request('POST', '/api/2.0/mlflow/runs/delete', body={'run_id': run},
                           headers=basic('bob', 'bob-secret1'))
        self.assertEqual(r.status, 403)
        self.assertEqual(self.req('bob', 'cairn/permissions/mine')['user'], 'bob')
        r = self.c.request('GET', '/api/2.0/cairn/permissions/mine',
                           query={'experiment_id': exp})
        self.assertEqual(r.status, 401)


if __name__ == '__main__':
    harness.main()

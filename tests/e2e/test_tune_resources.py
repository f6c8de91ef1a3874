# SPDX-License-Identifier: MIT
"""`cairn tune` resources and commands: a memory hog stopped at --memory-per-trial (FAIL
memory-limit, the other trials complete), --cpus-per-trial giving running trials CPUs of their
own, --gpus handing out devices no two running trials share, the ${trial} and ${study}
macros, and `cairn tune -- cairn train --config F` with no script (the objective from the
trial's validation metric or cross-validation mean); bad resource flags refused."""
import json
import os
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

X_SPACE = """parameters:
  x: {type: float, low: 0, high: 1}
"""

# Reports what it was given; trial 0 grows its resident memory 16 MiB at a time (touched
# pages) up to 2 GiB, which a 200 MiB limit must stop long before.
RECORDER = r"""
import json, os, sys, time
info = {'trial': int(os.environ['CAIRN_TRIAL']), 'argv': sys.argv[1:],
        'cpus': sorted(os.sched_getaffinity(0)), 'omp': os.environ.get('OMP_NUM_THREADS'),
        'openblas': os.environ.get('OPENBLAS_NUM_THREADS'),
        'cuda': os.environ.get('CUDA_VISIBLE_DEVICES')}
out = os.path.join(os.environ['OUT_DIR'], 'trial%d.json' % info['trial'])
start = time.time()
if os.environ.get('HOG') and info['trial'] == 0:
    blocks = []
    for i in range(128):
        blocks.append(b'x' * (16 << 20))
        time.sleep(0.02)
time.sleep(float(os.environ.get('HOLD', '0')))
info['start'], info['end'] = start, time.time()
with open(out, 'w') as f:
    json.dump(info, f)
print('cairn.final: value=%s' % os.environ['CAIRN_PARAM_X'])
"""


class TuneResources(harness.CairnTest):
    def recorded(self, n):
        out = []
        for k in range(n):
            path = self.tmp / 'out' / ('trial%d.json' % k)
            out.append(json.loads(path.read_text()) if path.exists() else None)
        return out

    def tune(self, study, n, *flags, env=None, expect=0):
        (self.tmp / 'out').mkdir(exist_ok=True)
        e = {'OUT_DIR': str(self.tmp / 'out')}
        e.update(env or {})
        return self.cairn('tune', '--space', self.write('x.yaml', X_SPACE), '--study', study,
                          '--trials', n, *flags, '--', sys.executable,
                          self.write('rec.py', RECORDER), '${trial}', 'of', '${study}', env=e,
                          expect=expect)

    def test_memory_hog_is_stopped_and_the_rest_complete(self):
        proc = self.tune('m', 3, '--memory-per-trial', '200M', '--kill-grace', 1,
                         env={'HOG': '1'})
        trials = self.trials('m')
        self.assertEqual([t['state'] for t in trials], ['FAIL', 'COMPLETE', 'COMPLETE'])
        self.assertIn('memory-limit', proc.stderr)
        self.assertIn('over the limit of 200 MiB', proc.stderr)
        rec = self.recorded(3)
        self.assertIsNone(rec[0], 'the hog ran to its end')
        run = self.cairn_json('runs', 'show', trials[0]['run_id'], '--json')
        self.assertIn('memory-limit', json.dumps(run))

    def test_macros_trial_and_study(self):
        self.tune('mac', 2)
        rec = self.recorded(2)
        self.assertEqual([r['argv'][:3] for r in rec], [['0', 'of', 'mac'], ['1', 'of', 'mac']])
        # No resource flags: the environment's own settings pass through untouched.
        self.assertEqual(rec[0]['cuda'], os.environ.get('CUDA_VISIBLE_DEVICES'))

    def test_cpus_per_trial_are_disjoint(self):
        n_cpus = len(os.sched_getaffinity(0))
        proc = self.tune('c', 4, '-j', 2, '--cpus-per-trial', 1, env={'HOLD': '0.5'})
        rec = self.recorded(4)
        for r in rec:
            self.assertEqual(len(r['cpus']), 1)
            self.assertEqual((r['omp'], r['openblas']), ('1', '1'))
        overlapping = 0
        for a in range(4):
            for b in range(a + 1, 4):
                ra, rb = rec[a], rec[b]
                if ra['start'] < rb['end'] and rb['start'] < ra['end']:
                    overlapping += 1
                    self.assertNotEqual(ra['cpus'], rb['cpus'], (ra, rb))
        if n_cpus == 1:
            self.assertIn('-j 2 lowered to 1', proc.stderr)
            self.assertEqual(overlapping, 0)
        too_many = self.cairn_error('tune', '--space', self.write('x.yaml', X_SPACE), '--study',
                                    'c2', '--cpus-per-trial', n_cpus + 1, '--', sys.executable,
                                    '-c', 'pass', mentions=('--cpus-per-trial',))
        self.assertIn('ask for at most %d' % n_cpus, too_many)

    def test_gpus_are_never_shared(self):
        self.tune('g', 6, '-j', 3, '--gpus', '0,1,2', env={'HOLD': '0.4'})
        rec = self.recorded(6)
        self.assertEqual({r['cuda'] for r in rec} <= {'0', '1', '2'}, True, rec)
        for a in range(6):
            for b in range(a + 1, 6):
                ra, rb = rec[a], rec[b]
                if ra['start'] < rb['end'] and rb['start'] < ra['end']:
                    self.assertNotEqual(ra['cuda'], rb['cuda'], (ra, rb))
        # Two devices a trial: three devices hold one trial at a time.
        proc = self.tune('g2', 2, '-j', 3, '--gpus', '4,5,6', '--gpus-per-trial', 2)
        self.assertIn('-j 2 lowered to 1', proc.stderr)
        self.assertEqual({r['cuda'] for r in self.recorded(2)}, {'4,5'})

    def test_bad_resource_flags(self):
        space = self.write('x.yaml', X_SPACE)
        base = ('tune', '--space', space, '--study', 'b', '--trials', 1)
        cmd = ('--', sys.executable, '-c', 'pass')
        self.cairn_error(*base, '--memory-per-trial', 'lots', *cmd, expect=2,
                         mentions=('--memory-per-trial', '512M'))
        self.cairn_error(*base, '--memory-per-trial', '-5M', *cmd, expect=2)
        self.cairn_error(*base, '--cpus-per-trial', 0, *cmd, expect=2)
        self.cairn_error(*base, '--gpus', '0,0', *cmd, mentions=('named twice',))
        self.cairn_error(*base, '--gpus', '0,a', *cmd, mentions=('device numbers',))
        self.cairn_error(*base, '--gpus-per-trial', 1, *cmd, mentions=('needs --gpus',))
        self.cairn_error(*base, '--gpus', '0', '--gpus-per-trial', 2, *cmd,
                         mentions=('only 1 devices',))
        # Nothing ran.
        for s in self.cairn_json('study', 'list', '--json')['studies']:
            self.assertEqual(self.trials(s['name']), [])


class TuneTrain(harness.CairnTest):
    """`cairn tune -- cairn train --config F`: no script; the trial's params reach train as
    -p key=value and train logs into the trial's run."""

    def setUp(self):
        super().setUp()
        shutil.copytree(harness.SOURCE_DIR / 'data', self.tmp / 'data')
        (self.tmp / 'tree.yaml').write_text(
            'name: t\nseed: 1\n'
            'data: {path: data/breast_cancer.csv, label: target, categorical: [target]}\n'
            'split: {method: stratified, test: 0.2, val: 0.2}\n'
            'learner: {name: xgboost, params: {max_depth: 3, eta: 0.3, num_round: 15}}\n'
            'metrics: [accuracy, f1_macro]\nbootstrap: 0\n')
        (self.tmp / 'space.yaml').write_text(
            'objective: {name: accuracy, goal: maximize}\n'
            'parameters:\n  max_depth: {type: int, low: 1, high: 6}\n'
            '  eta: {type: float, low: 0.05, high: 0.5, log: true}\n')

    def tune_train(self, study, *train_args):
        return self.cairn('tune', '--space', str(self.tmp / 'space.yaml'), '--study', study,
                          '--trials', 3, '--seed', 5, '--', harness.CAIRN_BIN, 'train',
                          '--config', str(self.tmp / 'tree.yaml'), *train_args)

    def check(self, study, metric):
        trials = self.cairn_json('study', 'trials', study, '--json')['trials']
        self.assertEqual([t['state'] for t in trials], ['COMPLETE'] * 3, trials)
        for t in trials:
            run = self.cairn_json('runs', 'show', t['run_id'], '--json')
            text = json.dumps(run)
            metrics, params = run['metrics'], run['params']
            self.assertEqual(t['value'], metrics[metric], (metric, metrics))
            self.assertEqual(params['max_depth'], str(t['params']['max_depth']))
            self.assertEqual(params['learner'], 'xgboost')
            self.assertIn('FINISHED', text)
        # One run per trial: train logged into the trial's run, it did not start its own.
        runs = self.cairn_json('runs', 'list', '--experiment', study, '--json')
        self.assertEqual(len(runs['runs']), 3)

    def test_validation_metric_is_the_objective(self):
        self.tune_train('tv')
        self.check('tv', 'val_accuracy')

    def test_cross_validation_mean_is_the_objective(self):
        self.tune_train('tcv', '-p', 'cv=3')
        self.check('tcv', 'cv_accuracy_mean')


if __name__ == '__main__':
    harness.main()

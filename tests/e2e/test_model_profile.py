# SPDX-License-Identifier: MIT
"""`cairn model profile`: a trained model timed at batch sizes 1, 32 and 1024 through
models:/NAME/VERSION (figures recorded as the version's tags), runs:/RUN/model (as the run's
metrics) and a plain file (not recorded); the figures are consistent (percentiles ordered, the
file's size, enough calls); bad input refused with its reason."""
import json
import os
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

CONFIG = """name: p
seed: 3
data: {path: data/breast_cancer.csv, label: target, categorical: [target]}
split: {method: stratified, test: 0.2, val: 0.2}
learner: {name: xgboost, params: {max_depth: 3, num_round: 20}}
metrics: [accuracy]
bootstrap: 0
"""


class ModelProfile(harness.CairnTest):
    def setUp(self):
        super().setUp()
        shutil.copytree(harness.SOURCE_DIR / 'data', self.tmp / 'data')
        (self.tmp / 'p.yaml').write_text(CONFIG)
        self.run = self.cairn_json('train', '--config', 'p.yaml', '--json')['run_id']
        self.cairn('model', 'register', '--name', 'bc', '--run', self.run)

    def profile(self, model, *args):
        return self.cairn_json('model', 'profile', model, '--data', 'data/breast_cancer.csv',
                               '--seconds', '0.05', '--json', *args)

    def check_figures(self, p):
        self.assertEqual([b['batch'] for b in p['batches']], [1, 32, 1024])
        for b in p['batches']:
            self.assertGreaterEqual(b['calls'], 20)
            self.assertTrue(0 < b['p50_ms'] <= b['p95_ms'] <= b['p99_ms'], b)
            self.assertGreater(b['rows_per_s'], 0)
            # rows/s is the rows over the calls' summed time: batch / mean latency
            self.assertAlmostEqual(b['rows_per_s'], b['batch'] / (b['mean_ms'] / 1e3),
                                   delta=b['rows_per_s'] * 1e-6)
        self.assertEqual(p['size_bytes'], os.path.getsize(p['path']))
        self.assertGreater(p['load_ms'], 0)

    def test_version_run_and_file(self):
        p = self.profile('models:/bc/1')
        self.check_figures(p)
        self.assertEqual((p['model'], p['version']), ('bc', '1'))
        self.assertIn('model bc version 1', p['recorded'])
        tags = self.cairn_json('model', 'show', 'bc', '--version', '1', '--json')['tags']
        self.assertEqual(float(tags['cairn.profile.size_bytes']), p['size_bytes'])
        for b in p['batches']:
            for k in ('p50_ms', 'p95_ms', 'p99_ms', 'rows_per_s'):
                self.assertAlmostEqual(float(tags['cairn.profile.b%d.%s' % (b['batch'], k)]),
                                       b[k], delta=abs(b[k]) * 1e-5)
        self.assertIn('CPUs', tags['cairn.profile.machine'])

        r = self.profile('runs:/%s/model' % self.run, '--batches', '1,8')
        self.assertEqual([b['batch'] for b in r['batches']], [1, 8])
        metrics = self.cairn_json('runs', 'show', self.run, '--json')['metrics']
        self.assertEqual(metrics['profile_b8_p99_ms'], r['batches'][1]['p99_ms'])
        self.assertEqual(metrics['profile_size_bytes'], r['size_bytes'])
        # The run stays as it was: FINISHED.
        self.assertEqual(self.cairn_json('runs', 'show', self.run, '--json')['status'],
                         'FINISHED')

        f = self.profile(p['path'])
        self.assertIsNone(f['recorded'])
        human = self.cairn('model', 'profile', p['path'], '--data', 'data/breast_cancer.csv',
                           '--seconds', '0.02').stdout
        self.assertIn('p99 ms', human)
        self.assertIn('not recorded', human)

    def test_no_record_and_bad_input(self):
        self.profile('models:/bc/1', '--no-record')
        tags = self.cairn_json('model', 'show', 'bc', '--version', '1', '--json')['tags']
        self.assertFalse([k for k in tags if k.startswith('cairn.profile')])
        base = ('model', 'profile', 'models:/bc/1')
        self.cairn_error(*base, expect=2, mentions=('--data CSV is required',))
        self.cairn_error(*base, '--data', 'data/breast_cancer.csv', '--batches', '0', expect=2,
                         mentions=('--batches',))
        self.cairn_error(*base, '--data', 'data/breast_cancer.csv', '--batches', '1,', expect=2)
        self.cairn_error(*base, '--data', 'data/breast_cancer.csv', '--seconds', 'x', expect=2)
        self.cairn_error('model', 'profile', '--data', 'data/breast_cancer.csv', expect=2,
                         mentions=('expected one MODEL',))
        self.cairn_error(*base, '--data', 'data/iris.csv', mentions=('no column',))
        self.cairn_error(*base, '--data', 'missing.csv', mentions=('missing.csv',))
        self.cairn_error('model', 'profile', 'models:/nope/1', '--data',
                         'data/breast_cancer.csv', mentions=('nope',))
        self.cairn_error('model', 'profile', 'models:/bc', '--data', 'data/breast_cancer.csv',
                         mentions=('names no version',))
        self.cairn_error('model', 'profile', 'nothing.cairn', '--data', 'data/breast_cancer.csv',
                         mentions=('not found',))
        (self.tmp / 'junk.cairn').write_bytes(b'not a model')
        self.cairn_error('model', 'profile', 'junk.cairn', '--data', 'data/breast_cancer.csv')


if __name__ == '__main__':
    harness.main()

# SPDX-License-Identifier: MIT
"""`cairn train` and the guarded evaluation through the CLI: each learner on iris,
breast_cancer and diabetes leaves a complete run (params, per-epoch metrics, model, split
files, well-formed SVG plots, report, inputs with digests); `eval model` refuses training rows;
`eval final` flags a second look; `eval compare` gives McNemar's p-value as SciPy computes it
from the saved predictions; bad input fails with a message naming the row, column or field."""
import csv
import hashlib
import json
import math
import pathlib
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'

CASES = [
    # (dataset, label declared categorical?, learner, params)
    ('iris', True, 'logistic', {'C': '1.0'}),
    ('iris', True, 'mlp', {'hidden': '16', 'epochs': '30'}),
    ('breast_cancer', True, 'xgboost', {'max_depth': '3', 'num_round': '20'}),
    ('breast_cancer', True, 'logistic', {}),
    ('diabetes', False, 'linear', {}),
    ('diabetes', False, 'mlp', {'hidden': '8', 'epochs': '20', 'task': 'regression'}),
    ('diabetes', False, 'xgboost', {'max_depth': '2', 'num_round': '15'}),
]


class Train(harness.CairnTest):
    def config(self, name, dataset, learner, params=None, categorical=True, extra=''):
        lines = ['name: %s' % name, 'experiment: e2e', 'seed: 5',
                 'data: {path: %s, label: target%s}'
                 % (DATA / ('%s.csv' % dataset), ', categorical: [target]' if categorical else ''),
                 'split: {test: 0.2, val: 0.2}',
                 'learner:', '  name: %s' % learner]
        if params:
            lines.append('  params: {%s}' % ', '.join('%s: %s' % kv for kv in params.items()))
        lines.append('bootstrap: 200')
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('\n'.join(lines) + '\n' + extra)
        return path

    def train(self, *args):
        return self.cairn_json('train', '--json', '--config', *args)

    def show(self, run_id):
        return self.cairn_json('runs', 'show', run_id, '--json')

    def test_each_learner_leaves_a_complete_run(self):
        for dataset, categorical, learner, params in CASES:
            with self.subTest(dataset=dataset, learner=learner):
                cfg = self.config('%s-%s' % (dataset, learner), dataset, learner, params,
                                  categorical)
                res = self.train(cfg)
                run = self.show(res['run_id'])
                self.assertEqual(run['status'], 'FINISHED')
                p = run['params']
                self.assertEqual(p['learner'], learner)
                self.assertEqual(p['seed'], '5')
                self.assertEqual(p['data.path'], str(DATA / ('%s.csv' % dataset)))
                self.assertEqual(p['split.test'], '0.2')
                for k, v in params.items():
                    self.assertEqual(p[k], v)
                classification = categorical
                main = 'accuracy' if classification else 'rmse'
                m = run['metrics']
                for key in ('val_%s' % main, 'val_%s_ci_low' % main, 'val_%s_ci_high' % main):
                    self.assertIn(key, m)
                self.assertLessEqual(m['val_%s_ci_low' % main], m['val_%s' % main])
                self.assertGreaterEqual(m['val_%s_ci_high' % main], m['val_%s' % main])
                if learner in ('mlp', 'xgboost'):
                    hist = self.cairn_json('runs', 'history', res['run_id'], 'train_loss',
                                           '--json')['metrics']
                    self.assertGreater(len(hist), 3)
                    self.assertEqual([h['step'] for h in hist], list(range(1, len(hist) + 1)))
                    self.assertEqual(res['epochs'], len(hist))
                arts = {a['path']: a for a in run['artifacts']}
                for path in ('model/model.cairn', 'split/train.idx', 'split/val.idx',
                             'split/test.idx', 'split/split.json', 'report.md',
                             'predictions/val.csv'):
                    self.assertIn(path, arts)
                root = pathlib.Path(run['artifact_uri'])
                # split files: disjoint, covering the data, digests as recorded
                parts = {}
                for part in ('train', 'val', 'test'):
                    text = (root / 'split' / ('%s.idx' % part)).read_bytes()
                    parts[part] = [int(x) for x in text.split()]
                    self.assertEqual(hashlib.sha256(text).hexdigest(),
                                     run['tags']['cairn.split.%s.sha256' % part])
                every = parts['train'] + parts['val'] + parts['test']
                n_rows = len((DATA / ('%s.csv' % dataset)).read_text().splitlines()) - 1
                self.assertEqual(sorted(every), list(range(n_rows)))
                # the validation predictions are exactly the validation rows
                with open(root / 'predictions' / 'val.csv') as f:
                    rows = [int(r['row']) for r in csv.DictReader(f)]
                self.assertEqual(rows, parts['val'])
                # inputs with digests, one per context
                digest = hashlib.sha256((DATA / ('%s.csv' % dataset)).read_bytes()).hexdigest()
                self.assertEqual(sorted(i['context'] for i in run['inputs']),
                                 ['test', 'training', 'validation'])
                for i in run['inputs']:
                    self.assertEqual(i['digest'], digest)
                # plots: well-formed SVG
                plots = [a for a in arts if a.startswith('plots/')]
                want = ({'plots/confusion_matrix.svg', 'plots/roc.svg', 'plots/pr.svg',
                         'plots/calibration.svg'} if classification
                        else {'plots/predicted_vs_true.svg'})
                if learner in ('mlp', 'xgboost'):
                    want.add('plots/learning_curves.svg')
                self.assertTrue(want <= set(plots), (want, plots))
                for plot in plots:
                    tree = ET.parse(root / plot)
                    self.assertTrue(tree.getroot().tag.endswith('svg'), plot)
                report = (root / 'report.md').read_text()
                self.assertIn(digest, report)
                self.assertIn('95% CI', report)
                self.assertIn('plots/', report)

    def test_eval_model_refuses_training_rows(self):
        res = self.train(self.config('guard', 'iris', 'logistic'))
        err = self.cairn_error('eval', 'model', res['run_id'], '--data', DATA / 'iris.csv',
                               mentions=('refusing to evaluate:', 'of 150 rows were used to '
                                         'train this model (run %s)' % res['run_id']))
        count = int(err.split('refusing to evaluate: ')[1].split(' ')[0])
        self.assertEqual(count, res['rows']['train'])
        # the test rows alone are held out: scored
        run = self.show(res['run_id'])
        test_rows = [int(x) for x in (pathlib.Path(run['artifact_uri']) / 'split' /
                                      'test.idx').read_text().split()]
        with open(DATA / 'iris.csv') as f:
            lines = f.read().splitlines()
        held = self.tmp / 'held.csv'
        held.write_text('\n'.join([lines[0]] + [lines[r + 1] for r in test_rows]) + '\n')
        out = self.cairn_json('eval', 'model', res['run_id'], '--data', held, '--json', '--log')
        self.assertEqual(out['rows'], len(test_rows))
        self.assertIn('accuracy', out['metrics'])
        logged = self.show(out['logged_run_id'])
        self.assertIn('eval_accuracy', logged['metrics'])

    def test_index_file_split_is_kept_exactly(self):
        # iris rows 101 and 142 are identical. Given as index files, the split stays exactly as
        # given (to compare with another tool on the same rows); the duplicate is reported, and
        # opening the test set refuses the overlapping row.
        test = [0, 1, 50, 51, 100, 142]
        val = [2, 3, 52, 53, 102, 103]
        train = [r for r in range(150) if r not in test and r not in val]
        for name, rows in (('train', train), ('val', val), ('test', test)):
            (self.tmp / ('%s.idx' % name)).write_text(''.join('%d\n' % r for r in rows))
        cfg = self.config('given', 'iris', 'logistic')
        text = cfg.read_text().replace(
            'split: {test: 0.2, val: 0.2}',
            'split: {train: %s, val: %s, test: %s}' % tuple(
                self.tmp / ('%s.idx' % n) for n in ('train', 'val', 'test')))
        cfg.write_text(text)
        res = self.train(cfg)
        run = self.show(res['run_id'])
        self.assertEqual(run['tags']['cairn.split.kept_duplicates'], '1')
        self.assertEqual(run['tags']['cairn.split.moved_duplicates'], '0')
        root = pathlib.Path(run['artifact_uri']) / 'split'
        for name, rows in (('train', train), ('val', val), ('test', test)):
            got = [int(x) for x in (root / ('%s.idx' % name)).read_text().split()]
            self.assertEqual(got, rows)
        self.cairn_error('eval', 'final', res['run_id'],
                         mentions=('refusing to evaluate: 1 of 6 rows',))

    def test_eval_final_flags_the_second_look(self):
        res = self.train(self.config('final', 'breast_cancer', 'logistic'))
        first = self.cairn('eval', 'final', res['run_id'])
        self.assertNotIn('looked at before', first.stderr)
        run = self.show(res['run_id'])
        self.assertEqual(run['tags']['cairn.test.looks'], '1')
        self.assertNotIn('cairn.test.second_look', run['tags'])
        self.assertIn('test_accuracy', run['metrics'])
        self.assertIn('test_accuracy_ci_low', run['metrics'])
        second = self.cairn_json('eval', 'final', res['run_id'], '--json')
        self.assertEqual(second['looks'], 2)
        self.assertTrue(second['second_look'])
        again = self.cairn('eval', 'final', res['run_id'])
        self.assertIn('warning: the test set of run %s has been looked at before'
                      % res['run_id'], again.stderr)
        run = self.show(res['run_id'])
        self.assertEqual(run['tags']['cairn.test.looks'], '3')
        self.assertEqual(run['tags']['cairn.test.second_look'], 'true')

    def test_compare_pvalue_matches_scipy(self):
        from scipy.stats import binomtest, chi2
        a = self.train(self.config('cmp-a', 'breast_cancer', 'logistic',
                                   {'C': '0.01'}))['run_id']
        b = self.train(self.config('cmp-b', 'breast_cancer', 'xgboost',
                                   {'max_depth': '2', 'num_round': '5'}))['run_id']
        out = self.cairn_json('eval', 'compare', a, b, '--json')
        self.assertEqual(out['scope'], 'validation')

        def correct(run_id):
            root = pathlib.Path(self.show(run_id)['artifact_uri'])
            with open(root / 'predictions' / 'val.csv') as f:
                return {int(r['row']): r['y_true'] == r['y_pred'] for r in csv.DictReader(f)}
        ca, cb = correct(a), correct(b)
        self.assertEqual(sorted(ca), sorted(cb))
        n01 = sum(ca[r] and not cb[r] for r in ca)
        n10 = sum(cb[r] and not ca[r] for r in ca)
        self.assertEqual((out['n01'], out['n10']), (n01, n10))
        if n01 + n10 == 0:
            self.assertEqual(out['pvalue'], 1.0)
        elif n01 + n10 < 25:
            self.assertEqual(out['test'], 'mcnemar-exact')
            want = binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
            self.assertAlmostEqual(out['pvalue'], want, places=10)
        else:
            self.assertEqual(out['test'], 'mcnemar-chi2')
            stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
            self.assertAlmostEqual(out['pvalue'], chi2.sf(stat, 1), places=10)
        self.assertEqual(out['significant'], out['pvalue'] < 0.05)
        self.assertLessEqual(out['diff_ci_low'], out['diff'])
        self.assertGreaterEqual(out['diff_ci_high'], out['diff'])
        human = self.cairn('eval', 'compare', a, b).stdout
        self.assertIn('p = ', human)
        # different rows: refused
        c = self.train(self.config('cmp-c', 'breast_cancer', 'logistic'))['run_id']
        d_cfg = self.config('cmp-d', 'breast_cancer', 'logistic')
        d_cfg.write_text(d_cfg.read_text().replace('seed: 5', 'seed: 99'))
        d = self.train(d_cfg)['run_id']
        self.cairn_error('eval', 'compare', c, d, mentions=('scored on different rows',))

    def test_compare_regression_matches_scipy(self):
        from scipy.stats import wilcoxon
        a = self.train(self.config('reg-a', 'diabetes', 'linear', categorical=False))['run_id']
        b = self.train(self.config('reg-b', 'diabetes', 'xgboost',
                                   {'max_depth': '2', 'num_round': '10'},
                                   categorical=False))['run_id']
        out = self.cairn_json('eval', 'compare', a, b, '--json')
        self.assertEqual((out['scope'], out['test'], out['metric']),
                         ('validation', 'wilcoxon', 'mse'))

        def errors(run_id):
            root = pathlib.Path(self.show(run_id)['artifact_uri'])
            with open(root / 'predictions' / 'val.csv') as f:
                return [(float(r['y_pred']) - float(r['y_true'])) for r in csv.DictReader(f)]
        ea, eb = errors(a), errors(b)
        self.assertAlmostEqual(out['a'], sum(e * e for e in ea) / len(ea), delta=1e-6)
        want = wilcoxon([abs(e) for e in ea], [abs(e) for e in eb])
        self.assertAlmostEqual(out['pvalue'], want.pvalue, places=6)
        self.assertLessEqual(out['diff_ci_low'], out['diff'])
        self.assertGreaterEqual(out['diff_ci_high'], out['diff'])

    def test_compare_over_cv_folds(self):
        from scipy.stats import ttest_rel, wilcoxon
        runs = []
        for name, c in (('cv-a', '0.01'), ('cv-b', '100')):
            cfg = self.config(name, 'iris', 'logistic', {'C': c}, extra='cv: 5\n')
            cfg.write_text(cfg.read_text().replace('val: 0.2', 'val: 0'))
            runs.append(self.train(cfg))
        a, b = runs
        self.assertEqual(a['cv']['folds'], 5)
        out = self.cairn_json('eval', 'compare', a['run_id'], b['run_id'], '--json')
        self.assertEqual(out['scope'], 'cv')
        self.assertEqual(out['n'], 5)
        self.assertEqual((out['test'], out['test2']), ('paired-t', 'wilcoxon'))

        def folds(run_id):
            hist = self.cairn_json('runs', 'history', run_id, 'cv_accuracy', '--json')['metrics']
            return [h['value'] for h in sorted(hist, key=lambda h: h['step'])]
        fa, fb = folds(a['run_id']), folds(b['run_id'])
        self.assertEqual(len(fa), 5)
        self.assertAlmostEqual(out['a'], sum(fa) / 5, places=12)
        self.assertNotEqual(fa, fb)
        want = ttest_rel(fa, fb).pvalue
        self.assertAlmostEqual(out['pvalue'], want, places=8)
        diffs = [x - y for x, y in zip(fa, fb)]
        if all(d != 0 for d in diffs) and len(set(abs(d) for d in diffs)) == 5:
            self.assertAlmostEqual(out['pvalue2'], wilcoxon(fa, fb).pvalue, places=8)
        # another seed: other folds and other rows, refused
        cfg = self.config('cv-c', 'iris', 'logistic', extra='cv: 5\n')
        cfg.write_text(cfg.read_text().replace('val: 0.2', 'val: 0').replace('seed: 5', 'seed: 6'))
        c = self.train(cfg)
        self.cairn_error('eval', 'compare', a['run_id'], c['run_id'],
                         mentions=('nor on the same cross-validation folds',))

    def test_bad_input_fails_clearly(self):
        # missing label column
        cfg = self.config('nolabel', 'iris', 'logistic')
        cfg.write_text(cfg.read_text().replace('label: target', 'label: species'))
        self.cairn_error('train', '--config', cfg,
                         mentions=("label column 'species' is not in the data",))
        # one class only
        one = self.tmp / 'one.csv'
        one.write_text('a,b,target\n' + ''.join('%d,%d,x\n' % (i, i * 2) for i in range(20)))
        cfg = self.tmp / 'one.yaml'
        cfg.write_text('data: {path: %s, label: target}\nlearner: {name: logistic}\n' % one)
        self.cairn_error('train', '--config', cfg,
                         mentions=("column 'target'", 'one class only', "'x'"))
        # NaN in a feature
        nan = self.tmp / 'nan.csv'
        nan.write_text('a,b,target\n' + ''.join(
            '%s,%d,%s\n' % ('NaN' if i == 7 else str(i), i, 'p' if i % 2 else 'q')
            for i in range(30)))
        cfg = self.tmp / 'nan.yaml'
        cfg.write_text('data: {path: %s, label: target}\nlearner: {name: logistic}\n'
                       'split: {test: 0, val: 0}\n' % nan)
        self.cairn_error('train', '--config', cfg,
                         mentions=("row 7 column 'a'", 'missing value (NaN)'))
        # a model evaluated on data with another feature set
        res = self.train(self.config('feat', 'iris', 'logistic'))
        self.cairn_error('eval', 'model', res['run_id'], '--data', DATA / 'wine.csv',
                         mentions=("has no column 'sepal length (cm)'", 'another feature set'))
        model = pathlib.Path(self.show(res['run_id'])['artifact_uri']) / 'model' / 'model.cairn'
        self.cairn_error('eval', 'model', model, '--data', DATA / 'wine.csv',
                         mentions=('another feature set',))
        # a config with a wrong type names the field, line and column
        cfg = self.tmp / 'type.yaml'
        cfg.write_text('data: {path: x.csv, label: y}\nlearner: {name: mlp}\nbootstrap: lots\n')
        self.cairn_error('train', '--config', cfg,
                         mentions=("line 3 column 12: 'bootstrap' must be an integer",))
        cfg.write_text('data:\n  path: [a, b]\n')
        self.cairn_error('train', '--config', cfg,
                         mentions=("line 2 column 9: 'data.path' must be a scalar, got a list",))
        # usage errors exit 2
        self.cairn('train', expect=2)
        self.cairn('eval', 'compare', 'onlyone', expect=2)


if __name__ == '__main__':
    import unittest
    unittest.main()

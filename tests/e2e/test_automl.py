# SPDX-License-Identifier: MIT
"""`cairn automl` and `cairn ablate` through the CLI. automl on wine (classification) and
diabetes (regression) with a handful of trials: every trial is a run of the study, scored by
cross-validation on the training rows only (poisoning the validation and test rows leaves
every trial's score unchanged), the refit's validation score equals `cairn train` with the
same learner, params and seed, and its bootstrap interval brackets it. ablate on an XOR
problem: stumps (max_depth=1) are significantly worse, the baseline's own depth shows no
evidence, and the paired t-test's p-value equals scipy.stats.ttest_rel on the printed
per-seed scores. Bad input fails with a message and exit 2 (usage) or 1."""
import csv
import json
import math
import pathlib
import random
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


class AutoML(harness.CairnTest):
    def write(self, name, text):
        path = self.tmp / name
        path.write_text(text)
        return path

    def wine_config(self, extra=''):
        return self.write('wine.yaml', '\n'.join([
            'name: wine', 'seed: 3',
            'data: {path: %s, label: target, categorical: [target]}' % (DATA / 'wine.csv'),
            'split: {test: 0.2, val: 0.2}',
            'learner: {name: logistic}',
            'metrics: [accuracy, log_loss]',
            'bootstrap: 300', extra]) + '\n')

    def xor_csv(self, name, poison_rows=()):
        """300 rows of y = [x1 * x2 > 0] plus a noise feature; poison_rows get absurd
        features (the label, which the split reads, stays)."""
        rng = random.Random(7)
        rows = []
        for i in range(300):
            a, b, c = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)
            y = int(a * b > 0)
            if i in poison_rows:
                a, b, c = 1000.0 + i, -1000.0 - i, 5e5
            rows.append((a, b, c, y))
        path = self.tmp / name
        with open(path, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(['x1', 'x2', 'x3', 'y'])
            for a, b, c, y in rows:
                w.writerow(['%.6f' % a, '%.6f' % b, '%.6f' % c, y])
        return path

    def xor_config(self, name, csv_path, learner='xgboost', params='max_depth: 4, '
                   'num_round: 30, nthread: 1'):
        return self.write(name, '\n'.join([
            'name: xor', 'seed: 1',
            'data: {path: %s, label: y, categorical: [y]}' % csv_path,
            'split: {test: 0.2, val: 0.25}',
            'learner: {name: %s, params: {%s}}' % (learner, params),
            'metrics: [accuracy]', 'bootstrap: 200']) + '\n')

    def tags(self, run_id):
        return self.cairn_json('runs', 'show', run_id, '--json')['tags']

    def check_result(self, res):
        fin = res['final']
        self.assertLessEqual(fin['ci_low'], fin['score'])
        self.assertGreaterEqual(fin['ci_high'], fin['score'])
        self.assertLess(fin['ci_low'], fin['ci_high'])
        board = res['leaderboard']
        self.assertGreater(len(board), 0)
        means = [e['cv_mean'] for e in board]
        self.assertEqual(means, sorted(means, reverse=res['direction'] == 'maximize'))
        self.assertEqual(fin['trial'], board[0]['trial'])
        self.assertEqual(fin['learner'], board[0]['learner'])
        for e in board:
            self.assertIsNotNone(e['cv_std'])
        tags = self.tags(fin['run_id'])
        self.assertEqual(tags['cairn.automl'], res['study'])
        self.assertEqual(tags['cairn.automl.role'], 'final')
        self.assertEqual(tags['cairn.automl.best_trial'], str(board[0]['trial']))
        # the refit is cairn train with the same learner, params and seed
        args = ['train', '--json', '--config', self.cfg, '-p', 'learner=' + fin['learner']]
        for k, v in board[0]['params'].items():
            args += ['-p', '%s=%s' % (k, v)]
        again = self.cairn_json(*args)
        self.assertEqual(again['val_metrics'][res['metric']]['value'], fin['score'])
        self.assertEqual(again['rows']['val'], fin['val_rows'])

    def test_classification(self):
        self.cfg = self.wine_config()
        proc = self.cairn('automl', '--config', self.cfg, '--trials', 6, '--folds', 3, '--json')
        res = json.loads(proc.stdout)
        self.assertIn('automl: trial 6/6 done', proc.stderr)
        self.assertEqual(res['task'], 'classification')
        self.assertEqual(res['objective'], 'cv_accuracy_mean')
        self.assertEqual(res['direction'], 'maximize')
        self.assertEqual((res['trials'], res['complete'] + res['failed']), (6, 6))
        self.assertEqual(res['sampler'], 'auto:trials=6')
        self.check_result(res)
        # the study is a study: `cairn study trials` lists every trial, each a run
        trials = self.cairn_json('study', 'trials', res['study'], '--json')
        trials = trials['trials'] if isinstance(trials, dict) else trials
        self.assertEqual(len(trials), 6)
        learners = {t['params']['learner'] for t in trials}
        self.assertLessEqual(learners, {'logistic', 'mlp', 'xgboost'})
        for t in trials:
            for name in t['params']:
                if name != 'learner':  # conditional params belong to the trial's learner
                    self.assertTrue(name.startswith(t['params']['learner'] + '.'), name)
        tags = self.tags(res['leaderboard'][0]['run_id'])
        self.assertEqual(tags['cairn.automl.search_rows'], 'train')
        self.assertEqual(tags['cairn.automl.cv_folds'], '3')
        ftags = self.tags(res['final']['run_id'])
        self.assertEqual(tags['cairn.split.train.sha256'], ftags['cairn.split.train.sha256'])
        # human output: the leaderboard and the final line
        out = self.cairn('automl', '--config', self.cfg, '--trials', 2, '--folds', 2,
                         '--learners', 'logistic').stdout
        self.assertIn('leaderboard (accuracy', out)
        self.assertRegex(out, r'final: run [0-9a-f]{32}, logistic refit on the training rows: '
                              r'validation accuracy [0-9.]+, 95% CI \[')
        self.assertIn('study automl-wine-2:', out)  # a second default study, not a resume

    def test_regression_and_jobs(self):
        self.cfg = self.write('diabetes.yaml', '\n'.join([
            'name: diabetes', 'seed: 2',
            'data: {path: %s, label: target}' % (DATA / 'diabetes.csv'),
            'split: {test: 0.2, val: 0.2}', 'learner: {name: ridge}',
            'metrics: [rmse, r2]', 'bootstrap: 200']) + '\n')
        res = self.cairn_json('automl', '--config', self.cfg, '--trials', 6, '--folds', 3,
                              '--learners', 'ridge,xgboost,linear', '-j', 2, '--study',
                              'reg', '--json')
        self.assertEqual(res['task'], 'regression')
        self.assertEqual(res['direction'], 'minimize')
        self.assertEqual(res['study'], 'reg')
        self.assertEqual(res['trials'], 6)
        self.check_result(res)
        # resuming the named study runs only what is missing of the target
        res2 = self.cairn_json('automl', '--config', self.cfg, '--trials', 8, '--folds', 3,
                               '--learners', 'ridge,xgboost,linear', '--study', 'reg',
                               '--json')
        self.assertEqual(res2['trials'], 8)

    def test_new_learners_by_name(self):
        """--learners takes any learner of the task: knn, gnb and tree trials each search
        their own knobs, and the refit is cairn train with the winner's params."""
        self.cfg = self.wine_config()
        res = self.cairn_json('automl', '--config', self.cfg, '--trials', 6, '--folds', 3,
                              '--learners', 'knn,gnb,tree', '--json')
        self.check_result(res)
        seen = {e['learner'] for e in res['leaderboard']}
        self.assertTrue(seen <= {'knn', 'gnb', 'tree'}, seen)
        for e in res['leaderboard']:
            knobs = {'knn': {'n_neighbors', 'weights'}, 'gnb': {'var_smoothing'},
                     'tree': {'max_depth', 'min_samples_leaf'}}[e['learner']]
            self.assertEqual(set(e['params']), knobs, e)

    def test_search_never_sees_validation_or_test_rows(self):
        clean = self.xor_csv('clean.csv')
        cfg = self.xor_config('clean.yaml', clean)
        args = ['automl', '--trials', 5, '--folds', 3, '--learners', 'logistic,xgboost',
                '--study', 's', '--json']
        res = self.cairn_json(*args, '--config', cfg)
        art = pathlib.Path(res['final']['artifact_dir'])
        held = set()
        for part in ('val', 'test'):
            held |= {int(x) for x in (art / 'split' / ('%s.idx' % part)).read_text().split()}
        self.assertGreater(len(held), 100)
        poisoned = self.xor_csv('poisoned.csv', held)
        pcfg = self.xor_config('poisoned.yaml', poisoned)
        other = 'sqlite:///' + str(self.tmp / 'other.db').lstrip('/')
        pres = self.cairn_json('--store', other, *args, '--config', pcfg, store=False)
        ta = self.cairn_json('study', 'trials', 's', '--json')
        tb = self.cairn_json('--store', other, 'study', 'trials', 's', '--json', store=False)
        ta = ta['trials'] if isinstance(ta, dict) else ta
        tb = tb['trials'] if isinstance(tb, dict) else tb
        self.assertEqual([(t['params'], t['value']) for t in ta],
                         [(t['params'], t['value']) for t in tb])
        self.assertEqual(res['leaderboard'], [dict(e, run_id=f['run_id']) for e, f in
                                              zip(pres['leaderboard'], res['leaderboard'])])
        # the poison was there to be seen: the refit's validation score moved
        self.assertNotEqual(res['final']['score'], pres['final']['score'])

    def test_ablate(self):
        data = self.xor_csv('xor.csv')
        cfg = self.xor_config('xor.yaml', data)
        plot = self.tmp / 'forest.svg'
        res = self.cairn_json('ablate', '--config', cfg, '--factor', 'max_depth=1', '--factor',
                              'max_depth=4', '--seeds', 5, '--name', 'depth', '--plot', plot,
                              '--json')
        self.assertEqual((res['metric'], res['unit'], res['n'], res['primary_test']),
                         ('accuracy', 'seed', 5, 'paired-t'))
        base, stump, same = res['arms']
        self.assertEqual(base['verdict'], 'baseline')
        self.assertEqual(stump['verdict'], 'worse')
        self.assertLess(stump['effect'], -0.2)
        self.assertLess(stump['ci_high'], 0)
        self.assertLess(stump['p_holm'], 0.05)
        self.assertEqual(same['verdict'], 'no evidence')
        self.assertEqual(same['effect'], 0)
        self.assertEqual(same['scores'], base['scores'])
        # the paired t-test as SciPy computes it from the printed scores
        code = ('import json, sys; from scipy.stats import ttest_rel; d = json.load(sys.stdin);'
                'r = ttest_rel(d["arms"][1]["scores"], d["arms"][0]["scores"]);'
                'print(repr(float(r.pvalue)), repr(float(r.statistic)))')
        out = subprocess.run(['/usr/bin/python3', '-c', code], input=json.dumps(res),
                             capture_output=True, text=True, check=True).stdout.split()
        self.assertAlmostEqual(stump['p_ttest'], float(out[0]), delta=1e-12 + 1e-9 *
                               float(out[0]))
        self.assertAlmostEqual(stump['t'], float(out[1]), places=9)
        # every arm x seed is a run tagged with the ablation
        ids = [i for arm in res['arms'] for i in arm['run_ids']]
        self.assertEqual(len(set(ids)), 15)
        tags = self.tags(stump['run_ids'][2])
        self.assertEqual((tags['cairn.ablation'], tags['cairn.ablation.arm'],
                          tags['cairn.ablation.seed']), ('depth', 'max_depth=1', '3'))
        root = ET.parse(plot).getroot()
        self.assertEqual(len(root.findall('.//{http://www.w3.org/2000/svg}circle')), 2)
        # folds: one run per arm, K paired fold scores
        res = self.cairn_json('ablate', '--config', cfg, '--factor', 'max_depth=1', '--folds',
                              4, '--json')
        self.assertEqual((res['unit'], len(res['arms'][1]['scores'])), ('fold', 4))
        self.assertEqual(res['arms'][1]['verdict'], 'worse')
        out = self.cairn('ablate', '--config', cfg, '--factor', 'max_depth=1', '--seeds', 3).stdout
        self.assertIn('max_depth=1', out)
        self.assertIn('worse', out)

    def test_bad_input(self):
        cfg = self.wine_config()
        cases = [
            (['automl', '--config', cfg, '--learners', 'catboost'], 2, "learner 'catboost' is unknown"),
            (['automl', '--config', cfg, '--folds', 1], 2, '--folds'),
            (['automl', '--config', cfg, '--learners', 'ridge'], 1, "does not do classification"),
            (['automl', '--config', cfg, '--learners', 'svr'], 1,
             "for classification use: logistic, mlp, xgboost, svc, nusvc, tree, forest, knn, gnb"),
            (['ablate', '--config', cfg, '--factor', 'C'], 2, "--factor 'C': expected KEY=VALUE"),
            (['ablate', '--config', cfg, '--factor', 'Cee=2'], 1, "unknown param 'Cee'"),
            (['ablate', '--config', cfg, '--factor', 'seed=4'], 1, 'would not be paired'),
            (['ablate', '--config', cfg], 2, '--factor'),
            (['ablate', '--config', cfg, '--factor', 'C=2', '--folds', 1], 2, '--folds'),
            (['ablate', '--config', cfg, '--factor', 'C=2', '--seeds', 3, '--folds', 3], 2,
             'choose one'),
        ]
        noval = self.write('noval.yaml', self.wine_config().read_text().replace(
            'val: 0.2', 'val: 0'))
        cases.append((['automl', '--config', noval], 1, 'no validation rows'))
        cases.append((['ablate', '--config', noval, '--factor', 'C=2'], 1, 'no validation rows'))
        for args, code, msg in cases:
            with self.subTest(args=args[2:]):
                proc = self.cairn(*args, expect=code)
                self.assertIn(msg, proc.stderr)
                self.assertEqual(proc.stdout, '')


if __name__ == '__main__':
    harness.main()

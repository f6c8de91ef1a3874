# SPDX-License-Identifier: MIT
"""`cairn eval compare` on any two runs and on files made by any tool (issue 12, item 5).

Two `cairn run` scripts are shown side by side (latest values, the intervals a run logged, the
difference) with a line saying why no test could run and how to make one possible; scripts that
log predictions in the documented format (predictions/<split>.csv: row, y_true, y_pred) get
McNemar's test, paired by row id, as scipy.stats.binomtest computes it; a script run and a
`cairn train` run sharing validation rows are tested; per-fold scores a script logs (cv_<name>
at steps 0..k-1) get the paired t-test. The file tests (--predictions, --scores) are checked
against SciPy (ttest_rel, wilcoxon, binomtest, chi2, t), and every bad file fails with a
message naming the problem."""
import csv
import json
import math
import pathlib
import random
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'

# A script for `cairn run`: logs final metrics (and intervals), and with a mode, predictions of
# 80 rows whose truth is fixed, each prediction right with probability q under seed.
SCRIPT = r'''
import json, os, random, sys
seed, q, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
random.seed(0)
truth = [random.choice(['cat', 'dog', 'eel']) for _ in range(80)]
random.seed(seed)
other = {'cat': 'dog', 'dog': 'eel', 'eel': 'cat'}
pred = [t if random.random() < q else other[t] for t in truth]
acc = sum(t == p for t, p in zip(truth, pred)) / len(truth)
print('cairn.final: val_accuracy=%r loss=%r' % (acc, 1 - acc))
if seed == 1:
    print('cairn.final: val_accuracy_ci_low=%r val_accuracy_ci_high=%r' % (acc - 0.1, acc + 0.1))
if mode == 'folds':
    for f in range(5):
        print('cairn: step=%d cv_acc=%r' % (f, acc + 0.01 * f * (seed % 3)))
    print('cairn.final: cv_acc_mean=%r' % acc)
rows = list(range(80))
if mode == 'shuffled':
    random.shuffle(rows)
if mode in ('artifact', 'rundir', 'shuffled'):
    folder = (os.path.join(os.environ['CAIRN_RUN_DIR'], 'predictions') if mode == 'rundir'
              else 'predictions')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'val.csv'), 'w') as f:
        f.write('row,y_true,y_pred\n')
        for i in rows:
            f.write('%d,%s,%s\n' % (i, truth[i], pred[i]))
    if mode != 'rundir':
        print('cairn.artifact: path=predictions/val.csv')
'''

# A script that scores a cairn train run's validation rows with its own rule: rows named by
# the train run's predictions/val.csv (their index in the data file), predicted from one
# feature against a threshold.
SCRIPT_RULE = r'''
import csv, os, sys
train_preds, data = sys.argv[1], sys.argv[2]
with open(data) as f:
    table = list(csv.DictReader(f))
with open(train_preds) as f:
    rows = [(int(r['row']), r['y_true']) for r in csv.DictReader(f)]
os.makedirs('predictions', exist_ok=True)
right = 0
with open('predictions/val.csv', 'w') as f:
    f.write('row,y_true,y_pred\n')
    for i, y in rows:
        pred = '0' if float(table[i]['mean radius']) > 14.5 else '1'
        right += pred == y
        f.write('%d,%s,%s\n' % (i, y, pred))
print('cairn.final: val_accuracy=%r' % (right / len(rows)))
print('cairn.artifact: path=predictions/val.csv')
'''


def mcnemar_reference(n01, n10):
    """(test, p) as scipy computes McNemar: binomtest below 25 discordant rows, else the
    chi-square with continuity correction in closed form."""
    from scipy.stats import binomtest, chi2
    if n01 + n10 < 25:
        return 'mcnemar-exact', binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
    stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    return 'mcnemar-chi2', chi2.sf(stat, 1)


class Compare(harness.CairnTest):
    def script_run(self, seed, q, mode):
        script = self.write('script.py', SCRIPT)
        proc = self.cairn('run', '--no-git', '--', sys.executable, script, seed, q, mode)
        return self.run_id_of(proc)

    def run_id_of(self, proc):
        line = next(l for l in proc.stderr.splitlines() if ' FINISHED ' in l)
        return line.split()[2]

    def show(self, run_id):
        return self.cairn_json('runs', 'show', run_id, '--json')

    def predictions(self, run_id):
        root = pathlib.Path(self.show(run_id)['artifact_uri'])
        with open(root / 'predictions' / 'val.csv') as f:
            return {r['row']: (r['y_true'], r['y_pred']) for r in csv.DictReader(f)}

    # ---- any two runs ----

    def test_script_runs_side_by_side_without_a_test(self):
        a = self.script_run(1, 0.9, 'none')
        b = self.script_run(2, 0.6, 'none')
        out = self.cairn_json('eval', 'compare', a[:8], b[:8], '--json')
        self.assertEqual((out['run_a'], out['run_b']), (a, b))
        self.assertFalse(out['has_test'])
        self.assertNotIn('pvalue', out)
        metrics = {m['name']: m for m in out['metrics']}
        self.assertEqual(sorted(metrics), ['loss', 'val_accuracy'])  # the intervals fold in
        ma, mb = self.show(a)['metrics'], self.show(b)['metrics']
        acc = metrics['val_accuracy']
        self.assertEqual((acc['a'], acc['b']), (ma['val_accuracy'], mb['val_accuracy']))
        self.assertAlmostEqual(acc['diff'], ma['val_accuracy'] - mb['val_accuracy'], places=12)
        self.assertEqual((acc['a_ci_low'], acc['a_ci_high']),
                         (ma['val_accuracy_ci_low'], ma['val_accuracy_ci_high']))
        self.assertIsNone(acc['b_ci_low'])
        self.assertIn('neither run logged predictions', out['no_test'])
        self.assertIn('predictions/<split>.csv', out['no_test'])
        human = self.cairn('eval', 'compare', a, b).stdout
        self.assertIn('val_accuracy', human)
        self.assertIn('A - B', human)
        self.assertIn('no significance test:', human)
        self.assertIn('columns row, y_true, y_pred', human)
        self.assertNotIn('p = ', human)

    def test_script_runs_with_predictions_get_mcnemar(self):
        a = self.script_run(1, 0.9, 'artifact')  # logged with a cairn.artifact line
        b = self.script_run(2, 0.75, 'shuffled')  # rows in another order
        c = self.script_run(3, 0.8, 'rundir')  # written into $CAIRN_RUN_DIR, not logged
        for x, y in ((a, b), (a, c)):
            with self.subTest(a=x, b=y):
                out = self.cairn_json('eval', 'compare', x, y, '--json')
                self.assertTrue(out['has_test'])
                self.assertEqual((out['scope'], out['predictions'], out['task']),
                                 ('validation', 'predictions/val.csv', 'classification'))
                self.assertIn("holds text values", out['task_reason'])
                pa, pb = self.predictions(x), self.predictions(y)
                self.assertEqual(sorted(pa), sorted(pb))
                ra = {r: t == p for r, (t, p) in pa.items()}
                rb = {r: t == p for r, (t, p) in pb.items()}
                n01 = sum(ra[r] and not rb[r] for r in ra)
                n10 = sum(rb[r] and not ra[r] for r in ra)
                self.assertEqual((out['n'], out['n01'], out['n10']), (80, n01, n10))
                self.assertAlmostEqual(out['a'], sum(ra.values()) / 80, places=12)
                test, p = mcnemar_reference(n01, n10)
                self.assertEqual(out['test'], test)
                self.assertAlmostEqual(out['pvalue'], p, places=10)
                self.assertEqual(out['significant'], p < 0.05)
                self.assertLessEqual(out['diff_ci_low'], out['diff'])
                self.assertGreaterEqual(out['diff_ci_high'], out['diff'])
        human = self.cairn('eval', 'compare', a, b).stdout
        self.assertIn('on 80 shared validation rows (predictions/val.csv)', human)
        self.assertIn('p = ', human)

    def test_predictions_of_other_rows_give_no_test(self):
        a = self.script_run(1, 0.9, 'artifact')
        script = self.write('few.py', 'import os\nos.makedirs("predictions", exist_ok=True)\n'
                            'open("predictions/val.csv", "w").write('
                            '"row,y_true,y_pred\\n500,cat,cat\\n501,dog,cat\\n502,eel,eel\\n")\n'
                            'print("cairn.artifact: path=predictions/val.csv")\n'
                            'print("cairn.final: val_accuracy=0.5")\n')
        b = self.run_id_of(self.cairn('run', '--no-git', '--', sys.executable, script))
        out = self.cairn_json('eval', 'compare', a, b, '--json')
        self.assertFalse(out['has_test'])
        self.assertIn('scored on different rows (predictions/val.csv: 80 and 3 rows, 0 row ids '
                      'shared)', out['no_test'])
        self.assertEqual([m['name'] for m in out['metrics']], ['val_accuracy'])
        # a file not in the format (no row column): the reason names it, the metrics still show
        script = self.write('norow.py', 'import os\nos.makedirs("predictions", exist_ok=True)\n'
                            'open("predictions/val.csv", "w").write('
                            '"id,y_true,y_pred\\n0,cat,cat\\n1,dog,cat\\n")\n'
                            'print("cairn.artifact: path=predictions/val.csv")\n'
                            'print("cairn.final: val_accuracy=0.5")\n')
        c = self.run_id_of(self.cairn('run', '--no-git', '--', sys.executable, script))
        out = self.cairn_json('eval', 'compare', c, a, '--json')
        self.assertFalse(out['has_test'])
        self.assertIn("run A's predictions/val.csv has no column 'row'", out['no_test'])
        self.assertEqual(len(out['metrics']), 1)

    def test_script_run_against_a_train_run_on_shared_rows(self):
        cfg = self.write('bc.yaml', 'name: bc\nexperiment: Default\nseed: 5\n'
                         'data: {path: %s, label: target, categorical: [target]}\n'
                         'split: {test: 0.2, val: 0.2}\nlearner: {name: logistic}\n'
                         'bootstrap: 100\n' % (DATA / 'breast_cancer.csv'))
        t = self.cairn_json('train', '--json', '--config', cfg)['run_id']
        val = pathlib.Path(self.show(t)['artifact_uri']) / 'predictions' / 'val.csv'
        rule = self.write('rule.py', SCRIPT_RULE)
        s = self.run_id_of(self.cairn('run', '--no-git', '--', sys.executable, rule, val,
                                      DATA / 'breast_cancer.csv'))
        out = self.cairn_json('eval', 'compare', s, t, '--json')
        self.assertTrue(out['has_test'])
        self.assertEqual((out['scope'], out['task']), ('validation', 'classification'))
        self.assertIn('tag cairn.task of run %s' % t, out['task_reason'])
        ps, pt = self.predictions(s), self.predictions(t)
        n01 = sum(ps[r][0] == ps[r][1] and pt[r][0] != pt[r][1] for r in ps)
        n10 = sum(ps[r][0] != ps[r][1] and pt[r][0] == pt[r][1] for r in ps)
        self.assertEqual((out['n'], out['n01'], out['n10']), (len(pt), n01, n10))
        test, p = mcnemar_reference(n01, n10)
        self.assertEqual(out['test'], test)
        self.assertAlmostEqual(out['pvalue'], p, places=10)
        acc = {m['name']: m for m in out['metrics']}['val_accuracy']
        self.assertIsNone(acc['a_ci_low'])  # the script logged no interval, the train run did
        self.assertLessEqual(acc['b_ci_low'], acc['b'])

    def test_per_fold_scores_a_script_logs(self):
        from scipy.stats import ttest_rel
        a = self.script_run(1, 0.9, 'folds')
        b = self.script_run(2, 0.7, 'folds')
        out = self.cairn_json('eval', 'compare', a, b, '--json')
        self.assertEqual((out['scope'], out['metric'], out['n']), ('cv', 'acc', 5))
        self.assertEqual((out['test'], out['test2']), ('paired-t', 'wilcoxon'))

        def folds(run_id):
            hist = self.cairn_json('runs', 'history', run_id, 'cv_acc', '--json')['metrics']
            return [h['value'] for h in sorted(hist, key=lambda h: h['step'])]
        fa, fb = folds(a), folds(b)
        self.assertAlmostEqual(out['pvalue'], ttest_rel(fa, fb).pvalue, places=8)
        names = [m['name'] for m in out['metrics']]
        self.assertIn('cv_acc_mean', names)
        self.assertNotIn('cv_acc', names)  # the fold series is tested, not listed

    def test_repeated_cv_gets_the_corrected_t_test(self):
        """Two cairn train runs with 3 folds x 2 repeats on the same folds: Nadeau and
        Bengio's corrected resampled t-test, recomputed here with scipy's t distribution."""
        from scipy.stats import t as student
        data = harness.SOURCE_DIR / 'data' / 'breast_cancer.csv'
        runs = []
        for name, c in (('a', '1.0'), ('b', '0.001')):
            cfg = self.write(name + '.yaml', '\n'.join([
                'name: rep-%s' % name, 'seed: 4',
                'data: {path: %s, label: target, categorical: [target]}' % data,
                'split: {test: 0.2, val: 0}',  # no shared rows: the folds are tested
                'learner: {name: logistic, params: {C: %s}}' % c,
                'metrics: [accuracy]', 'bootstrap: 0', 'cv: {folds: 3, repeats: 2}']) + '\n')
            runs.append(self.cairn_json('train', '--json', '--config', cfg)['run_id'])
        out = self.cairn_json('eval', 'compare', runs[0], runs[1], '--json')
        self.assertEqual((out['scope'], out['metric'], out['n'], out['test']),
                         ('cv', 'accuracy', 6, 'corrected-t'))

        def folds(run_id):
            hist = self.cairn_json('runs', 'history', run_id, 'cv_accuracy', '--json')['metrics']
            return [h['value'] for h in sorted(hist, key=lambda h: h['step'])]
        d = [x - y for x, y in zip(folds(runs[0]), folds(runs[1]))]
        n = len(d)
        mean = sum(d) / n
        var = sum((v - mean) ** 2 for v in d) / (n - 1)
        se = ((1 / n + 1 / (3 - 1)) * var) ** 0.5
        self.assertAlmostEqual(out['statistic'], mean / se, places=9)
        self.assertAlmostEqual(out['pvalue'], 2 * student.sf(abs(mean / se), n - 1), places=9)
        half = student.ppf(0.975, n - 1) * se
        self.assertAlmostEqual(out['diff_ci_low'], mean - half, places=9)
        text = self.cairn('eval', 'compare', runs[0], runs[1]).stdout
        self.assertIn('corrected-t: statistic', text)
        self.assertIn('95% t CI', text)

    # ---- files made by any tool ----

    def classification_file(self, n, qa, qb, seed):
        rng = random.Random(seed)
        lines = ['label,logreg,forest']
        for _ in range(n):
            y = rng.randint(0, 1)
            a = y if rng.random() < qa else 1 - y
            b = y if rng.random() < qb else 1 - y
            lines.append('%d,%d,%d' % (y, a, b))
        return self.write('cls%d.csv' % seed, '\n'.join(lines) + '\n'), lines[1:]

    def test_predictions_file_classification_matches_scipy(self):
        for n, seed in ((40, 1), (300, 2)):  # exact, then chi-square
            path, rows = self.classification_file(n, 0.9, 0.8, seed)
            out = self.cairn_json('eval', 'compare', '--predictions', path,
                                  '--columns', 'label,logreg,forest', '--json', store=False)
            cells = [r.split(',') for r in rows]
            n01 = sum(y == a and y != b for y, a, b in cells)
            n10 = sum(y != a and y == b for y, a, b in cells)
            test, p = mcnemar_reference(n01, n10)
            with self.subTest(n=n):
                self.assertEqual((out['task'], out['metric'], out['n']),
                                 ('classification', 'accuracy', n))
                self.assertEqual(out['columns'], ['label', 'logreg', 'forest'])
                self.assertEqual((out['n01'], out['n10'], out['test']), (n01, n10, test))
                self.assertAlmostEqual(out['pvalue'], p, places=10)
                self.assertAlmostEqual(out['diff'], (n01 - n10) / n, places=12)
                self.assertLessEqual(out['diff_ci_low'], out['diff'])
                self.assertGreaterEqual(out['diff_ci_high'], out['diff'])
        self.assertEqual(mcnemar_reference(1, 1)[0], 'mcnemar-exact')
        human = self.cairn('eval', 'compare', '--predictions', path, '--columns',
                           'label,logreg,forest', store=False).stdout
        self.assertIn("task: classification (inferred: column 'label' has 2 distinct integer",
                      human)
        self.assertIn('accuracy: A (logreg) vs B (forest) on 300 paired rows', human)

    def test_predictions_file_regression_matches_scipy(self):
        from scipy.stats import wilcoxon
        rng = random.Random(7)
        rows = []
        for _ in range(60):
            y = rng.gauss(10, 3)
            rows.append((y, y + rng.gauss(0, 1), y + rng.gauss(0.5, 1.5)))
        path = self.write('reg.csv', 'y_true,pred_a,pred_b\n' + ''.join(
            '%r,%r,%r\n' % r for r in rows))
        out = self.cairn_json('eval', 'compare', '--predictions', path, '--json', store=False)
        self.assertEqual((out['task'], out['metric'], out['test']),
                         ('regression', 'mse', 'wilcoxon'))
        self.assertIn("non-integer values", out['task_reason'])
        ea = [abs(a - y) for y, a, _ in rows]
        eb = [abs(b - y) for y, _, b in rows]
        want = wilcoxon(ea, eb)
        self.assertAlmostEqual(out['statistic'], want.statistic, places=8)
        self.assertAlmostEqual(out['pvalue'], want.pvalue, places=8)
        mse_a = sum(e * e for e in ea) / 60
        mse_b = sum(e * e for e in eb) / 60
        self.assertAlmostEqual(out['diff'], mse_a - mse_b, places=9)
        self.assertLess(out['diff_ci_low'], out['diff'])
        self.assertGreater(out['diff_ci_high'], out['diff'])
        # the same file as classification when --task says so: every prediction is wrong
        forced = self.cairn_json('eval', 'compare', '--predictions', path, '--task',
                                 'classification', '--json', store=False)
        self.assertEqual((forced['task'], forced['task_reason']),
                         ('classification', 'set by --task'))

    def test_scores_file_matches_scipy(self):
        from scipy.stats import t as student, ttest_rel, wilcoxon
        a = [0.912, 0.897, 0.921, 0.905, 0.889, 0.917, 0.901, 0.925, 0.893, 0.910]
        b = [0.901, 0.899, 0.903, 0.887, 0.885, 0.904, 0.899, 0.911, 0.880, 0.902]
        path = self.write('folds.csv', 'fold,a,b\n' + ''.join(
            '%d,%r,%r\n' % (i, x, y) for i, (x, y) in enumerate(zip(a, b))))
        out = self.cairn_json('eval', 'compare', '--scores', path, '--json', store=False)
        tt, w = ttest_rel(a, b), wilcoxon(a, b)
        self.assertEqual((out['test'], out['test2'], out['n']), ('paired-t', 'wilcoxon', 10))
        self.assertAlmostEqual(out['statistic'], tt.statistic, places=9)
        self.assertAlmostEqual(out['pvalue'], tt.pvalue, places=9)
        self.assertAlmostEqual(out['statistic2'], w.statistic, places=9)
        self.assertAlmostEqual(out['pvalue2'], w.pvalue, places=9)
        d = [x - y for x, y in zip(a, b)]
        mean = sum(d) / 10
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 9)
        half = student.ppf(0.975, 9) * sd / math.sqrt(10)
        self.assertAlmostEqual(out['diff'], mean, places=12)
        self.assertAlmostEqual(out['diff_ci_low'], mean - half, places=9)
        self.assertAlmostEqual(out['diff_ci_high'], mean + half, places=9)
        self.assertEqual(out['significant'], tt.pvalue < 0.05)
        # other column names, and no fold column
        named = self.write('named.csv', 'xgb,lgbm\n' + ''.join(
            '%r,%r\n' % p for p in zip(a, b)))
        again = self.cairn_json('eval', 'compare', '--scores', named, '--columns', 'xgb,lgbm',
                                '--json', store=False)
        self.assertAlmostEqual(again['pvalue'], tt.pvalue, places=12)
        human = self.cairn('eval', 'compare', '--scores', path, store=False).stdout
        self.assertIn('mean score: A (a) vs B (b) over 10 paired scores', human)
        self.assertIn('95% t CI', human)

    def test_bad_files_fail_clearly(self):
        cases = [
            ('missing column', '--predictions', 'y_true,pa,pred_b\n1,1,0\n0,0,0\n',
             ["no column 'pred_a'", "the columns are 'y_true', 'pa', 'pred_b'", '--columns']),
            ('non-numeric score', '--scores', 'a,b\n0.9,0.8\n0.7,high\n',
             ["column 'b' row 2: 'high' is not a number"]),
            ('non-numeric regression', '--predictions',
             'y_true,pred_a,pred_b\n1.5,1.25,2\n2.5,2.75,oops\n3.5,3.25,3.75\n',
             ["column 'pred_b' row 2: 'oops' is not a number",
              'the task is regression (set by --task)'], ['--task', 'regression']),
            ('one row', '--scores', 'a,b\n0.9,0.8\n',
             ['has 1 row; a paired test needs at least 2']),
            ('no rows', '--predictions', 'y_true,pred_a,pred_b\n',
             ['has 0 rows; a paired test needs at least 2']),
            ('different lengths', '--scores', 'a,b\n0.9,0.8\n0.7\n0.6,0.5\n',
             ['line 3: expected 2 fields, got 1']),
            ('NaN', '--scores', 'a,b\n0.9,0.8\n0.7,NaN\n0.6,0.5\n',
             ["column 'b' row 2 is empty or NaN"]),
            ('empty cell', '--predictions', 'y_true,pred_a,pred_b\n1,1,0\n0,,0\n',
             ["column 'pred_a' row 2 is empty or NaN"]),
        ]
        for name, option, text, mentions, *more in cases:
            with self.subTest(case=name):
                path = self.write('bad.csv', text)
                self.cairn_error('eval', 'compare', option, path, *(more[0] if more else []),
                                 mentions=mentions, store=False)
        self.cairn_error('eval', 'compare', '--scores', self.tmp / 'absent.csv',
                         mentions=['absent.csv'], store=False)
        good = self.write('good.csv', 'a,b\n1,2\n3,4\n')
        usage = [
            (['--scores', good, '--predictions', good], 'not both'),
            (['--scores', good, '--columns', 'a,b,c'], '--scores needs 2'),
            (['--scores', good, '--task', 'regression'], '--task applies to --predictions'),
            (['--scores', good, 'run1'], 'a file takes no run ids'),
            (['--predictions', good, '--task', 'ranking'], 'not classification or regression'),
            (['onlyone'], 'expected two run ids'),
        ]
        for args, says in usage:
            with self.subTest(args=args):
                self.cairn_error('eval', 'compare', *args, expect=2, mentions=[says],
                                 store=False)

    def test_help_explains_and_shows_examples(self):
        text = self.cairn('eval', 'compare', '--help', store=False).stdout
        for option in ('--predictions FILE', '--scores FILE', '--columns LIST', '--task T',
                       '--bootstrap N', '--seed N', '--json'):
            self.assertIn('  ' + option, text)
        self.assertIn('\nexamples:\n', text)
        self.assertIn('cairn eval compare --scores folds.csv', text.split('examples:')[1])
        doc = (harness.SOURCE_DIR / 'docs' / 'eval.md').read_text()
        self.assertIn('## Predictions a script can log', doc)


if __name__ == '__main__':
    harness.main()

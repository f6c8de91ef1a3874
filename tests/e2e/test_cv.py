# SPDX-License-Identifier: MIT
"""`cairn train`'s cv: beyond `cv: N`: a fold file (row,fold) gives per-fold scores equal to
scikit-learn's cross_val_score with PredefinedSplit for ridge regression; group k-fold never
splits a group; stratified-group k-fold equals scikit-learn's StratifiedGroupKFold; repeats give
k*r folds logged at steps r*k+f; the fold assignment is the artifact cv/folds.csv; the reported
standard deviation is the sample one (ddof=1, tag cairn.cv.std_ddof); bad fold files are
refused with messages naming the line."""
import csv
import json
import pathlib
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

DATA = harness.SOURCE_DIR / 'data'


def sklearn(code, *args):
    res = subprocess.run(['/usr/bin/python3', '-c', code] + [str(a) for a in args],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


PREDEFINED = r'''
import csv, json, sys, numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score, PredefinedSplit
d = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1)
X, y = d[:, :-1], d[:, -1]
rows, folds = [], []
for r in csv.DictReader(open(sys.argv[2])):
    rows.append(int(r['row'])); folds.append(int(r['fold']))
out = {}
for name, scoring in (('rmse', 'neg_root_mean_squared_error'), ('mae', 'neg_mean_absolute_error'),
                      ('r2', 'r2')):
    s = cross_val_score(Ridge(alpha=1.0), X[rows], y[rows], cv=PredefinedSplit(folds),
                        scoring=scoring)
    out[name] = [-v if scoring.startswith('neg') else v for v in s]
print(json.dumps(out))
'''

SGKF = r'''
import csv, json, sys, numpy as np
from sklearn.model_selection import StratifiedGroupKFold
rows = [int(r) for r in sys.argv[3].split(',')]
data = list(csv.DictReader(open(sys.argv[1])))
y = np.array([data[r]['target'] for r in rows])
g = np.array([int(data[r]['site']) for r in rows])
fold = {}
for f, (_, test) in enumerate(StratifiedGroupKFold(n_splits=int(sys.argv[2])).split(
        np.zeros(len(rows)), y, g)):
    for i in test:
        fold[rows[i]] = f
print(json.dumps(fold))
'''


class CrossValidation(harness.CairnTest):
    def index_split(self):
        """Index files: every 5th row is test, the rest train (250) and validation."""
        rest = [r for r in range(442) if r % 5]
        parts = {'train': rest[:250], 'val': rest[250:], 'test': list(range(0, 442, 5))}
        for name, rows in parts.items():
            (self.tmp / ('%s.idx' % name)).write_text(''.join('%d\n' % r for r in rows))
        return rest

    def config(self, name, data, label, learner, split, cv, params=''):
        path = self.tmp / ('%s.yaml' % name)
        path.write_text('\n'.join([
            'name: %s' % name, 'experiment: cv', 'seed: 5',
            'data: {path: %s, label: %s}' % (data, label), 'split: %s' % split,
            'learner: {name: %s%s}' % (learner, params), 'bootstrap: 0', 'cv: %s' % cv]) + '\n')
        return path

    def ridge_config(self, name, cv):
        split = '{train: %s, val: %s, test: %s}' % tuple(
            self.tmp / ('%s.idx' % p) for p in ('train', 'val', 'test'))
        return self.config(name, DATA / 'diabetes.csv', 'target', 'ridge', split, cv,
                           ', params: {standardize: false}')

    def train(self, cfg):
        return self.cairn_json('train', '--json', '--config', cfg)

    def history(self, run_id, key):
        hist = self.cairn_json('runs', 'history', run_id, key, '--json')['metrics']
        return [h['value'] for h in sorted(hist, key=lambda h: h['step'])], \
            sorted(h['step'] for h in hist)

    def folds_artifact(self, res):
        path = pathlib.Path(res['artifact_dir']) / 'cv' / 'folds.csv'
        with open(path) as f:
            return list(csv.DictReader(f))

    def test_fold_file_equals_predefined_split(self):
        rest = self.index_split()
        folds = self.tmp / 'folds.csv'
        lines = ['row,fold']
        for i, r in enumerate(rest[:300]):
            lines.append('%d,%d' % (r, -1 if i % 10 == 9 else i % 3))  # -1: always trained on
        folds.write_text('\n'.join(lines) + '\n')
        res = self.train(self.ridge_config('file', folds))
        want = sklearn(PREDEFINED, DATA / 'diabetes.csv', folds)
        self.assertEqual(res['cv']['folds'], 3)
        for m in ('rmse', 'mae', 'r2'):
            got, steps = self.history(res['run_id'], 'cv_' + m)
            self.assertEqual(steps, [0, 1, 2])
            for g, w in zip(got, want[m]):
                self.assertLessEqual(abs(g - w), 1e-8 * max(1.0, abs(w)), (m, got, want[m]))
            self.assertAlmostEqual(res['cv'][m]['std'], statistics.stdev(got), places=10)
        run = self.cairn_json('runs', 'show', res['run_id'], '--json')
        self.assertEqual(run['tags']['cairn.cv.std_ddof'], '1')
        self.assertEqual(run['tags']['cairn.cv.method'], 'file')
        art = self.folds_artifact(res)
        self.assertEqual(len(art), 300)
        self.assertEqual({(int(a['row']), int(a['fold'])) for a in art},
                         {(int(l.split(',')[0]), int(l.split(',')[1])) for l in lines[1:]})

    def test_bad_fold_files_refused_naming_the_line(self):
        rest = self.index_split()
        cases = [
            ('row\n%d\n' % rest[0], "lacks the 'fold' column"),
            ('row,fold\n%d,0\n%d,x\n' % (rest[0], rest[1]), "line 3: fold 'x' is not an integer"),
            ('row,fold\n%d,0\n%d,1\n%d,1\n' % (rest[0], rest[1], rest[0]),
             'line 4: row %d is already in the file (line 2)' % rest[0]),
            ('row,fold\n%d,0\n9999,1\n' % rest[0], 'line 3: row 9999 is out of range'),
            ('row,fold\n%d,0\n%d,2\n' % (rest[0], rest[1]), 'fold 1 has no rows'),
            ('row,fold\n%d,0\n5,1\n' % rest[0], 'row 5 is a sealed test row'),
            ('row,fold\n%d,0\n%d,1.5\n' % (rest[0], rest[1]), "line 3: fold '1.5'"),
        ]
        for i, (text, message) in enumerate(cases):
            with self.subTest(message=message):
                path = self.tmp / ('bad%d.csv' % i)
                path.write_text(text)
                self.cairn_error('train', '--config', self.ridge_config('bad%d' % i, path),
                                 mentions=(message,))

    def grouped_iris(self):
        """iris with a 'site' column: 30 groups of 5 rows, of mixed classes."""
        rows = list(csv.reader(open(DATA / 'iris.csv')))
        out = [rows[0] + ['site']]
        for i, r in enumerate(rows[1:]):
            out.append(r + [str((i * 7) % 30)])
        path = self.tmp / 'iris_sites.csv'
        path.write_text('\n'.join(','.join(r) for r in out) + '\n')
        return path

    def test_group_folds_keep_groups_whole(self):
        data = self.grouped_iris()
        cfg = self.config('group', data, 'target', 'logistic', '{test: 0.2, val: 0.2}',
                          '{folds: 4, method: group, group: site}')
        res = self.train(cfg)
        art = self.folds_artifact(res)
        rows = list(csv.DictReader(open(data)))
        fold_of_site = {}
        for a in art:
            site = rows[int(a['row'])]['site']
            fold_of_site.setdefault(site, set()).add(a['fold'])
        self.assertTrue(all(len(f) == 1 for f in fold_of_site.values()), fold_of_site)
        self.assertEqual({a['fold'] for a in art}, {'0', '1', '2', '3'})
        self.assertEqual(res['cv']['folds'], 4)

    def test_stratified_group_equals_sklearn(self):
        data = self.grouped_iris()
        cfg = self.config('sgkf', data, 'target', 'logistic', '{test: 0.2, val: 0.2}',
                          '{folds: 3, method: stratified_group, group: site}')
        res = self.train(cfg)
        art = self.folds_artifact(res)
        rows = sorted(int(a['row']) for a in art)
        want = sklearn(SGKF, data, 3, ','.join(map(str, rows)))
        got = {str(a['row']): int(a['fold']) for a in art}
        self.assertEqual(got, want)

    def test_repeats_give_k_times_r_folds(self):
        cfg = self.config('rep', DATA / 'iris.csv', 'target', 'logistic',
                          '{test: 0.2, val: 0.2}', '{folds: 3, repeats: 2}')
        res = self.train(cfg)
        self.assertEqual(res['cv']['folds'], 6)
        vals, steps = self.history(res['run_id'], 'cv_accuracy')
        self.assertEqual(steps, list(range(6)))
        self.assertAlmostEqual(res['cv']['accuracy']['mean'], sum(vals) / 6, places=12)
        self.assertAlmostEqual(res['cv']['accuracy']['std'], statistics.stdev(vals), places=12)
        art = self.folds_artifact(res)
        by_repeat = [{a['row']: a['fold'] for a in art if a['repeat'] == r} for r in '01']
        self.assertEqual(len(by_repeat[0]), len(by_repeat[1]))
        self.assertNotEqual(by_repeat[0], by_repeat[1])
        run = self.cairn_json('runs', 'show', res['run_id'], '--json')
        self.assertEqual(run['tags']['cairn.cv.repeats'], '2')
        report = (pathlib.Path(run['artifact_uri']) / 'report.md').read_text()
        self.assertIn('## Cross-validation (3 folds (stratified) x 2 repeats on train + '
                      'validation: 6 fold scores; std is the sample standard deviation, ddof 1)',
                      report)
        # repeats without shuffling would repeat the same folds: refused
        cfg = self.config('rep2', DATA / 'iris.csv', 'target', 'logistic',
                          '{test: 0.2, val: 0.2}', '{folds: 3, repeats: 2, method: kfold}')
        self.cairn_error('train', '--config', cfg, mentions=("set 'shuffle: true'",))

    def test_cv_mapping_errors(self):
        cfg = self.config('m1', DATA / 'iris.csv', 'target', 'logistic', '{test: 0.2, val: 0.2}',
                          '{folds: 3, method: group}')
        self.cairn_error('train', '--config', cfg, mentions=("needs 'cv.group'",))
        cfg = self.config('m2', DATA / 'iris.csv', 'target', 'logistic', '{test: 0.2, val: 0.2}',
                          '{folds: 3, method: leave_one_out}')
        self.cairn_error('train', '--config', cfg, mentions=('stratified_group',))


if __name__ == '__main__':
    harness.main()
